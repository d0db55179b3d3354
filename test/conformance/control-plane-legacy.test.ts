// The legacy (Crossplane v1 style) API under a real Crossplane v2 control plane: the Configuration
// built from apis/legacy, a namespaced PostgresInstance claim bound to a cluster-scoped
// XPostgresInstance, composed through apis/legacy/composition.yaml. Its own control plane, since
// the legacy and namespaced APIs define the same PostgresInstance kind and cannot share a cluster.
// See control-plane.test.ts for what runs and what the stand-in replaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPath, getString, isObject, type JsonObject } from '../../src/shared/json.js';
import { catalogMatches, grantsOf } from '../support/control-plane-checks.js';
import { isConditionTrue, type KubeClient } from '../support/control-plane-client.js';
import { eventually, FUNCTION_NAME, startControlPlane, type ControlPlane } from '../support/control-plane.js';
import { dropCreatedObjects } from '../support/control-plane-standin.js';

const API = 'database.pgplane.io/v1alpha1';
const suffix = Math.random().toString(36).slice(2, 7);
const TEAM = `team-${suffix}`;
const NAME = 'billing';
const DETAILS = `${NAME}-details`;

let plane: ControlPlane;
let admin: KubeClient;

beforeAll(async () => {
  plane = await startControlPlane({ flavour: 'legacy' });
  admin = plane.admin;
  await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: TEAM } });
}, 1_500_000);

afterAll(async () => {
  const created = plane?.standIn.created();
  await plane?.stop();
  if (created) await dropCreatedObjects(created);
});

const claimRef = { apiVersion: API, kind: 'PostgresInstance', name: NAME, namespace: TEAM };
const claim = (): Promise<JsonObject | undefined> => admin.get(claimRef);
const state = async (): Promise<string> =>
  `${JSON.stringify(getPath(await claim(), 'status'), null, 1)}\n${await plane.logs()}`;

describe('a legacy claim', () => {
  it('installs from the legacy Configuration, the function once, under the name the Composition calls', async () => {
    const functions = await admin.list({ apiVersion: 'pkg.crossplane.io/v1', kind: 'Function' });
    expect(functions.map((f) => getString(f, 'metadata', 'name'))).toEqual([FUNCTION_NAME]);
  });

  it('composes through the legacy Composition: every object, Grants in PostgreSQL, Ready', async () => {
    await admin.apply({
      apiVersion: API,
      kind: 'PostgresInstance',
      metadata: { name: NAME, namespace: TEAM },
      spec: {
        version: '15',
        storageGB: 5,
        databaseName: `cp_${suffix}_billing`,
        databaseOwner: `cp_${suffix}_billing_owner`,
        writeConnectionSecretToRef: { name: DETAILS },
      },
    });
    const grants = await eventually(
      'every Grant of the claim Ready',
      async () => {
        const list = await grantsOf(admin, TEAM, NAME);
        return list.length > 0 && list.every((g) => isConditionTrue(g, 'Ready')) ? list : undefined;
      },
      state,
      300_000,
    );
    for (const grant of grants) expect(await catalogMatches(grant)).toEqual([]);
    for (const kind of ['Cluster', 'ExternalSecret']) {
      const objects = await admin.list({
        apiVersion: kind === 'Cluster' ? 'postgresql.cnpg.io/v1' : 'external-secrets.io/v1',
        kind,
        namespace: TEAM,
      });
      expect(objects.length, kind).toBeGreaterThan(0);
    }
    await eventually('the claim Ready', async () => isConditionTrue(await claim(), 'Ready'), state, 240_000);
  });

  it("writes the claim's connection Secret (the Composition names a namespace for it)", async () => {
    const secret = await eventually(
      `Secret ${TEAM}/${DETAILS}`,
      async () => admin.get({ apiVersion: 'v1', kind: 'Secret', name: DETAILS, namespace: TEAM }),
      state,
      180_000,
    );
    const data = isObject(secret['data']) ? secret['data'] : {};
    // With SecretStore credentials the function never sees the password (ESO writes it into the
    // connection Secret), so the claim's Secret carries the rest of the connection.
    expect(Object.keys(data).sort()).toEqual(['database', 'endpoint', 'port', 'sslmode', 'username']);
    expect(Buffer.from(String(data['database']), 'base64').toString()).toBe(`cp_${suffix}_billing`);
  });

  it('is deleted without hanging: the XR, its composed objects and Grants go', async () => {
    await admin.delete(claimRef);
    await eventually(
      'the claim, its XR and its Grants gone',
      async () => {
        const xrs = await admin.list({ apiVersion: API, kind: 'XPostgresInstance' });
        return (
          (await claim()) === undefined &&
          xrs.length === 0 &&
          (await grantsOf(admin, TEAM, NAME)).length === 0
        );
      },
      state,
      180_000,
    );
  });
});

describe('deletion protection of a legacy claim (the legacy Usage)', () => {
  const PROTECTED = 'vault';
  const protectedRef = { apiVersion: API, kind: 'PostgresInstance', name: PROTECTED, namespace: TEAM };
  const legacyUsages = async (): Promise<JsonObject[]> =>
    (await admin.list({ apiVersion: 'apiextensions.crossplane.io/v1beta1', kind: 'Usage' })).filter(
      (u) => getString(u, 'metadata', 'labels', 'pgplane.io/instance') === PROTECTED,
    );
  const xrOf = async (): Promise<JsonObject | undefined> =>
    (await admin.list({ apiVersion: API, kind: 'XPostgresInstance' })).find(
      (x) => getString(x, 'metadata', 'labels', 'crossplane.io/claim-name') === PROTECTED,
    );
  const usageState = async (): Promise<string> =>
    `${JSON.stringify(
      (await legacyUsages()).map((u) => [getString(u, 'metadata', 'name'), getPath(u, 'status')]),
      null,
      1,
    )}\n${await plane.logs()}`;

  it("with protection on, the XR behind the claim refuses deletion, with the Usage's reason", async () => {
    await admin.apply({
      apiVersion: API,
      kind: 'PostgresInstance',
      metadata: { name: PROTECTED, namespace: TEAM },
      spec: {
        version: '15',
        storageGB: 5,
        databaseName: `cp_${suffix}_vault`,
        databaseOwner: `cp_${suffix}_vault_owner`,
        deletionProtection: true,
      },
    });
    const usage = await eventually(
      'the legacy Usage of the XR Ready',
      async () => (await legacyUsages()).find((u) => isConditionTrue(u, 'Ready')),
      usageState,
      300_000,
    );
    const xr = await xrOf();
    expect(getString(usage, 'spec', 'of', 'resourceRef', 'name')).toBe(getString(xr, 'metadata', 'name'));
    const xrRef = {
      apiVersion: API,
      kind: 'XPostgresInstance',
      name: getString(xr, 'metadata', 'name') ?? '',
    };
    const refused = await admin.delete(xrRef).then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(refused).toContain(`deletion protection is on for PostgresInstance ${TEAM}/${PROTECTED}`);
    expect(await admin.get(xrRef)).toBeDefined();
  });

  it('with protection turned off on the claim, the claim and everything it composed are deleted', async () => {
    await admin.mergePatch(protectedRef, { spec: { deletionProtection: false } });
    await eventually(
      'the legacy Usage gone',
      async () => (await legacyUsages()).length === 0,
      usageState,
      180_000,
    );
    await admin.delete(protectedRef);
    await eventually(
      'the claim, its XR and its Grants gone',
      async () =>
        (await admin.get(protectedRef)) === undefined &&
        (await xrOf()) === undefined &&
        (await grantsOf(admin, TEAM, PROTECTED)).length === 0,
      usageState,
      180_000,
    );
  });
});
