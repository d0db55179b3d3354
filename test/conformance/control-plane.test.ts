// pgplane under a real Crossplane v2 control plane (test/support/control-plane.ts): installed by
// Crossplane's package manager from a Configuration pulled from an OCI registry, composing through
// the shipped Compositions with Crossplane bound only to its own ClusterRole plus
// package/rbac/crossplane-aggregate.yaml, calling the function over Crossplane's own mutual TLS,
// and the grants provider applying Grants to the real PostgreSQL 15 on 127.0.0.1:5432.
//
// No kubelet, CloudNativePG operator or External Secrets Operator runs here: a stand-in
// (test/support/control-plane-standin.ts) writes the status and Secrets those would — Deployments
// Available, Clusters Ready with their database and roles created in PostgreSQL, ExternalSecrets
// Ready with their Secrets written. Everything else is the real program.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthServiceDefinition, ServingStatus } from '../../src/function/server/health.js';
import { getPath, getString, isObject, type JsonObject } from '../../src/shared/json.js';
import {
  catalogMatches,
  catalogRemaining,
  grantsOf as grantsInNamespace,
} from '../support/control-plane-checks.js';
import { isConditionTrue, type KubeClient } from '../support/control-plane-client.js';
import {
  eventually,
  FUNCTION_NAME,
  FUNCTION_PORT,
  NAMESPACE,
  PROVIDER_NAME,
  startControlPlane,
  type ControlPlane,
} from '../support/control-plane.js';
import { dropCreatedObjects } from '../support/control-plane-standin.js';
import { LOCAL_SERVER } from '../support/postgres.js';
import { serverAccepts } from '../support/scram.js';
import { crossplaneCa, crossplaneClient, type CrossplaneKeyPair } from '../support/tls.js';

const XR_API = 'database.pgplane.io/v1alpha1';
const suffix = Math.random().toString(36).slice(2, 7);
const TEAM = `team-${suffix}`;
const db = (name: string): string => `cp_${suffix}_${name}`;

let plane: ControlPlane;
let admin: KubeClient;

beforeAll(async () => {
  plane = await startControlPlane({ flavour: 'namespaced' });
  admin = plane.admin;
  await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: TEAM } });
}, 1_500_000);

afterAll(async () => {
  const created = plane?.standIn.created();
  await plane?.stop();
  if (created) await dropCreatedObjects(created, [db('gc_role')]);
});

const describeState = async (): Promise<string> => plane.logs();

/** Every composed object of an instance: what Crossplane lists in the XR's resourceRefs. */
async function composedRefs(kind: string, name: string): Promise<JsonObject[]> {
  const xr = await admin.get({ apiVersion: XR_API, kind, name, namespace: TEAM });
  const refs = getPath(xr, 'spec', 'crossplane', 'resourceRefs');
  return Array.isArray(refs) ? refs.filter(isObject) : [];
}

function xr(name: string, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: XR_API,
    kind: 'PostgresInstance',
    metadata: { name, namespace: TEAM },
    spec: {
      version: '15',
      storageGB: 5,
      databaseName: db(name),
      databaseOwner: db(`${name}_owner`),
      ...extra,
    },
  };
}

const grantsOf = (name: string): Promise<JsonObject[]> => grantsInNamespace(admin, TEAM, name);

async function expectComposedAndReady(name: string, kinds: string[]): Promise<JsonObject[]> {
  // Every composed kind exists (Crossplane could create and patch each: the RBAC is enough).
  const refs = await eventually(
    `PostgresInstance ${TEAM}/${name} composing ${kinds.join(', ')}`,
    async () => {
      const found = await composedRefs('PostgresInstance', name);
      const have = new Set(found.map((r) => getString(r, 'kind')));
      return kinds.every((k) => have.has(k)) ? found : undefined;
    },
    async () =>
      `${JSON.stringify(await admin.get({ apiVersion: XR_API, kind: 'PostgresInstance', name, namespace: TEAM }), null, 1)}\n${await describeState()}`,
    240_000,
  );
  for (const ref of refs) {
    const what = `${getString(ref, 'kind') ?? ''} ${TEAM}/${getString(ref, 'name') ?? ''}`;
    await eventually(
      what,
      async () =>
        admin.get({
          apiVersion: getString(ref, 'apiVersion') ?? '',
          kind: getString(ref, 'kind') ?? '',
          name: getString(ref, 'name') ?? '',
          namespace: TEAM,
        }),
      describeState,
      60_000,
    );
  }
  // Grants Ready, by the provider, in real PostgreSQL.
  const grants = await eventually(
    `every Grant of ${name} Ready`,
    async () => {
      const list = await grantsOf(name);
      return list.length > 0 && list.every((g) => isConditionTrue(g, 'Ready')) ? list : undefined;
    },
    async () =>
      `${JSON.stringify(
        (await grantsOf(name)).map((g) => getPath(g, 'status')),
        null,
        1,
      )}\n${await describeState()}`,
    240_000,
  );
  // A Grant can turn Ready before the stand-in has created a schema the Database object declares
  // (the provider grants what exists); its next poll (--poll=30s) applies the rest.
  await eventually(
    `the privileges of every Grant of ${name} in PostgreSQL's catalog`,
    async () => {
      const missing = (await Promise.all(grants.map(catalogMatches))).flat();
      return missing.length === 0 ? true : undefined;
    },
    async () => JSON.stringify((await Promise.all(grants.map(catalogMatches))).flat()),
    120_000,
  );
  // And the XR is Ready once everything it composed is.
  await eventually(
    `PostgresInstance ${TEAM}/${name} Ready`,
    async () =>
      isConditionTrue(
        await admin.get({ apiVersion: XR_API, kind: 'PostgresInstance', name, namespace: TEAM }),
        'Ready',
      ),
    async () =>
      `${JSON.stringify(getPath(await admin.get({ apiVersion: XR_API, kind: 'PostgresInstance', name, namespace: TEAM }), 'status'), null, 1)}\n${await describeState()}`,
    240_000,
  );
  return grants;
}

describe('installed from the Configuration (README "Install in a cluster")', () => {
  it('installs the function and the provider as its dependencies, once each, and the API', async () => {
    const functions = await admin.list({ apiVersion: 'pkg.crossplane.io/v1', kind: 'Function' });
    expect(functions.map((f) => getString(f, 'metadata', 'name'))).toEqual([FUNCTION_NAME]);
    expect(isConditionTrue(functions[0], 'Healthy')).toBe(true);
    const providers = await admin.list({ apiVersion: 'pkg.crossplane.io/v1', kind: 'Provider' });
    expect(providers.map((p) => getString(p, 'metadata', 'name'))).toEqual([PROVIDER_NAME]);
    await eventually(
      'the Provider Healthy',
      async () =>
        isConditionTrue(
          await admin.get({ apiVersion: 'pkg.crossplane.io/v1', kind: 'Provider', name: PROVIDER_NAME }),
          'Healthy',
        ),
      describeState,
    );
    // Waited for, like the Provider: Crossplane establishes the XRD's API once the Configuration's
    // package revision has installed it, which on a loaded machine can come after the above.
    await eventually(
      'the XRD Established',
      async () =>
        isConditionTrue(
          await admin.get({
            apiVersion: 'apiextensions.crossplane.io/v2',
            kind: 'CompositeResourceDefinition',
            name: 'postgresinstances.database.pgplane.io',
          }),
          'Established',
        ),
      describeState,
    );
  });
});

describe('a namespaced XR', () => {
  it('composes through the standard Composition: every object, Grants in PostgreSQL, Ready', async () => {
    await admin.apply(xr('orders'));
    await expectComposedAndReady('orders', ['Cluster', 'ExternalSecret', 'ProviderConfig', 'Grant']);
  });

  it('composes through the production Composition, every kind it adds included', async () => {
    await admin.apply(
      xr('checkout', {
        crossplane: { compositionRef: { name: 'postgresinstances-production.database.pgplane.io' } },
        instances: 3,
        schemas: ['analytics'],
        extensions: ['pgcrypto'],
        pooler: { mode: 'transaction', instances: 2 },
        backup: { schedule: '0 30 2 * * *', retention: '14d' },
        monitoring: { alerts: true },
        access: [{ role: 'reporting', schemas: [{ name: 'analytics', privileges: ['USAGE'] }] }],
      }),
    );
    await expectComposedAndReady('checkout', [
      'Cluster',
      'ExternalSecret',
      'ProviderConfig',
      'Grant',
      'Database',
      'Pooler',
      'ObjectStore',
      'ScheduledBackup',
      'PodMonitor',
      'PrometheusRule',
      'NetworkPolicy',
    ]);
  });

  it('revokes on deletion: a ProviderConfig and its Grant (deletionPolicy Delete) garbage-collected together', async () => {
    // What deleting a composite with Delete Grants does: one owner goes, garbage collection
    // deletes the ProviderConfig and the Grant at once. The ProviderConfig must outlive the Grant
    // (in use), the Grant must revoke first, and neither may hang.
    const role = db('gc_role');
    const admin15 = new pg.Client({ ...LOCAL_SERVER, database: 'postgres' });
    await admin15.connect();
    await admin15.query(`CREATE ROLE "${role}"`);
    await admin15.end();
    const owner = await admin.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'gc-owner', namespace: TEAM },
    });
    const ownerReferences = [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'gc-owner',
        uid: getString(owner, 'metadata', 'uid') ?? '',
        blockOwnerDeletion: true,
      },
    ];
    const composed = await admin.get({
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'ProviderConfig',
      name: 'checkout',
      namespace: TEAM,
    });
    await admin.apply({
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'ProviderConfig',
      metadata: { name: 'gc', namespace: TEAM, ownerReferences },
      spec: getPath(composed, 'spec') as JsonObject,
    });
    const grantRef = { apiVersion: 'grants.pgplane.io/v1alpha1', kind: 'Grant', name: 'gc', namespace: TEAM };
    await admin.apply({
      apiVersion: grantRef.apiVersion,
      kind: grantRef.kind,
      metadata: { name: 'gc', namespace: TEAM, ownerReferences },
      spec: {
        forProvider: {
          database: db('checkout'),
          grantee: role,
          mode: 'authoritative',
          schemas: [{ name: 'analytics', privileges: ['USAGE'] }],
        },
        providerConfigRef: { kind: 'ProviderConfig', name: 'gc' },
        deletionPolicy: 'Delete',
      },
    });
    const grant = await eventually(
      'the Delete Grant Ready',
      async () => {
        const g = await admin.get(grantRef);
        return isConditionTrue(g, 'Ready') ? g : undefined;
      },
      async () =>
        `${JSON.stringify(getPath(await admin.get(grantRef), 'status'), null, 1)}\n${await describeState()}`,
    );
    expect(await catalogMatches(grant)).toEqual([]);

    await admin.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', namespace: TEAM });
    await eventually(
      'the Grant and its ProviderConfig gone',
      async () =>
        (await admin.get(grantRef)) === undefined &&
        (await admin.get({ ...grantRef, kind: 'ProviderConfig' })) === undefined,
      async () =>
        `${JSON.stringify([await admin.get(grantRef), await admin.get({ ...grantRef, kind: 'ProviderConfig' })], null, 1)}\n${await describeState()}`,
    );
    const check = new pg.Client({ ...LOCAL_SERVER, database: db('checkout') });
    await check.connect();
    try {
      const { rows } = await check.query<{ ok: boolean }>(
        "SELECT has_schema_privilege($1, 'analytics', 'USAGE') AS ok",
        [role],
      );
      expect(rows[0]?.ok).toBe(false);
    } finally {
      await check.end();
    }
  });

  it('converges after an edit', async () => {
    await admin.mergePatch(
      { apiVersion: XR_API, kind: 'PostgresInstance', name: 'orders', namespace: TEAM },
      { spec: { instances: 2 } },
    );
    await eventually(
      'the Cluster scaled to 2 instances',
      async () => {
        const cluster = await admin.get({
          apiVersion: 'postgresql.cnpg.io/v1',
          kind: 'Cluster',
          name: 'orders',
          namespace: TEAM,
        });
        return getPath(cluster, 'spec', 'instances') === 2;
      },
      describeState,
    );
    await eventually(
      'the XR Ready again',
      async () => {
        const object = await admin.get({
          apiVersion: XR_API,
          kind: 'PostgresInstance',
          name: 'orders',
          namespace: TEAM,
        });
        return isConditionTrue(object, 'Ready') && getPath(object, 'status', 'instances') === 2;
      },
      describeState,
    );
  });

  it('is deleted without hanging; the composed Grants (deletionPolicy Delete) revoke before the Cluster goes', async () => {
    const grants = await grantsOf('orders');
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) expect(getPath(grant, 'spec', 'deletionPolicy')).toBe('Delete');
    // Something to revoke: the privileges are in the catalog before the deletion.
    expect((await Promise.all(grants.map(catalogRemaining))).flat().length).toBeGreaterThan(0);
    await admin.delete({ apiVersion: XR_API, kind: 'PostgresInstance', name: 'orders', namespace: TEAM });
    await eventually(
      'the XR and every Grant of it gone',
      async () =>
        (await admin.get({
          apiVersion: XR_API,
          kind: 'PostgresInstance',
          name: 'orders',
          namespace: TEAM,
        })) === undefined && (await grantsOf('orders')).length === 0,
      async () =>
        `${JSON.stringify(
          (await grantsOf('orders')).map((g) => [getPath(g, 'metadata', 'finalizers'), getPath(g, 'status')]),
          null,
          1,
        )}\n${await describeState()}`,
      180_000,
    );
    // The stand-in keeps the database when its Cluster goes, so what the Grants revoked shows.
    for (const grant of grants) expect(await catalogRemaining(grant)).toEqual([]);
  });
});

describe('generated credentials (issue 17)', () => {
  const secretOf = async (name: string): Promise<JsonObject | undefined> =>
    admin.get({ apiVersion: 'v1', kind: 'Secret', name, namespace: TEAM });
  const decoded = (secret: JsonObject | undefined, key: string): string | undefined => {
    const value = getString(secret, 'data', key);
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };
  // Each role's credentials Secret (which CNPG reads) and connection Secret (which the app reads).
  const ROLES = [
    { credentials: 'ledger-credentials', connection: 'ledger-connection-owner' },
    { credentials: 'ledger-runtime-credentials', connection: 'ledger-connection' },
    { credentials: 'ledger-readonly-credentials', connection: 'ledger-connection-readonly' },
  ];
  /** Each role's name and the password its credentials Secret holds now. */
  const currentPasswords = async () =>
    Promise.all(
      ROLES.map(async (r) => {
        const secret = await secretOf(r.credentials);
        return { ...r, role: decoded(secret, 'username') ?? '', password: decoded(secret, 'password') ?? '' };
      }),
    );

  it('composes the generator and the reader through Crossplane, and the connection Secret carries the generated password', async () => {
    await admin.apply(xr('ledger', { credentials: { source: 'Generated' } }));
    // Crossplane, bound to its ClusterRole plus package/rbac, may create each of these (a Role
    // granting get on Secrets included), and the XR turns Ready through them.
    await expectComposedAndReady('ledger', [
      'Cluster',
      'ExternalSecret',
      'Password',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'SecretStore',
      'ProviderConfig',
      'Grant',
    ]);
    const credentials = await secretOf('ledger-runtime-credentials');
    const connection = await secretOf('ledger-connection');
    const password = decoded(credentials, 'password');
    expect(password).toBeDefined();
    expect(decoded(connection, 'password')).toBe(password);
    expect(decoded(connection, 'uri')).toContain(`:${encodeURIComponent(password!)}@`);
    // The reader may read this instance's credentials Secrets and nothing else.
    const role = await admin.get({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      name: 'ledger-credentials-reader',
      namespace: TEAM,
    });
    expect(getPath(role, 'rules', '0', 'resourceNames')).toEqual([
      'ledger-credentials',
      'ledger-runtime-credentials',
      'ledger-readonly-credentials',
    ]);
  });

  it('rotates on a new token: new passwords generated, the credentials and connection Secrets switch together, the owner managed by CNPG', async () => {
    const before = decoded(await secretOf('ledger-runtime-credentials'), 'password');
    // PostgreSQL accepts each role's generated password (the owner's set at bootstrap) before.
    const old = await currentPasswords();
    expect(old.map((r) => r.role)).toEqual([db('ledger_owner'), db('ledger_rw'), db('ledger_ro')]);
    for (const { role, password } of old) {
      expect(password).not.toBe('');
      expect(await serverAccepts(role, password), `${role} accepts its generated password`).toBe(true);
    }
    await admin.apply(xr('ledger', { credentials: { source: 'Generated', rotation: { token: 'first' } } }));
    const rotations = await eventually(
      'every role of ledger Rotated',
      async () => {
        const found = await admin.get({
          apiVersion: XR_API,
          kind: 'PostgresInstance',
          name: 'ledger',
          namespace: TEAM,
        });
        const list = getPath(found, 'status', 'passwordRotations');
        return Array.isArray(list) &&
          list.length === 3 &&
          list.every((r) => getString(r, 'phase') === 'Rotated')
          ? list
          : undefined;
      },
      async () =>
        `${JSON.stringify(getPath(await admin.get({ apiVersion: XR_API, kind: 'PostgresInstance', name: 'ledger', namespace: TEAM }), 'status'), null, 1)}\n${await describeState()}`,
      240_000,
    );
    expect(rotations.map((r) => getString(r, 'token'))).toEqual(['first', 'first', 'first']);
    const after = decoded(await secretOf('ledger-runtime-credentials'), 'password');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    await eventually(
      'the connection Secret carrying the rotated password',
      async () => (decoded(await secretOf('ledger-connection'), 'password') === after ? true : undefined),
      describeState,
      120_000,
    );
    const cluster = await admin.get({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      name: 'ledger',
      namespace: TEAM,
    });
    const managed = getPath(cluster, 'spec', 'managed', 'roles');
    expect(Array.isArray(managed) ? managed.map((r) => getString(r, 'name')) : []).toContain(
      db('ledger_owner'),
    );

    // Issue 17: the old password stops working, for every role, the owner included (whose
    // initdb secret CNPG never reads again: only managed.roles can carry its rotation).
    const rotated = await currentPasswords();
    for (const [i, { role, password, connection }] of rotated.entries()) {
      const previous = old[i]!.password;
      expect(password, `${role}'s credentials Secret`).not.toBe(previous);
      await eventually(
        `${role}'s connection Secret carrying its rotated password`,
        async () => (decoded(await secretOf(connection), 'password') === password ? true : undefined),
        describeState,
        120_000,
      );
      // CloudNativePG applies a changed passwordSecret on its own time, after the switch.
      await eventually(
        `PostgreSQL accepting ${role}'s rotated password and refusing the old one`,
        async () =>
          (await serverAccepts(role, password)) && !(await serverAccepts(role, previous)) ? true : undefined,
        describeState,
        60_000,
      );
    }
  });
});

describe('restore (issue 13)', () => {
  const composedCluster = (name: string) =>
    admin.get({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', name, namespace: TEAM });
  const xrOf = (name: string) =>
    admin.get({ apiVersion: XR_API, kind: 'PostgresInstance', name, namespace: TEAM });

  it("composes a restored instance's Cluster from the source's archive, read through Crossplane's required resources", async () => {
    // The source: an instance with backups, composed as usual.
    await admin.apply(
      xr('ledgersrc', {
        crossplane: { compositionRef: { name: 'postgresinstances-production.database.pgplane.io' } },
        backup: { schedule: '0 30 2 * * *', retention: '7d' },
      }),
    );
    const source = await eventually(
      'the source Cluster with its WAL archiver',
      async () => {
        const cluster = await composedCluster('ledgersrc');
        return getPath(cluster, 'spec', 'plugins', '0', 'parameters') ? cluster : undefined;
      },
      describeState,
      240_000,
    );
    // A new Cluster archives under a folder of its own incarnation (the XR's uid).
    const serverName = getString(source, 'spec', 'plugins', '0', 'parameters', 'serverName') ?? '';
    const uid = getString(await xrOf('ledgersrc'), 'metadata', 'uid') ?? '';
    expect(serverName).toBe(`ledgersrc-${uid.replace(/-/g, '').slice(0, 8)}`);
    // What the Barman Cloud plugin would report once the first base backup completed.
    const store = {
      apiVersion: 'barmancloud.cnpg.io/v1',
      kind: 'ObjectStore',
      name: 'ledgersrc-backup',
      namespace: TEAM,
    };
    await eventually('the source ObjectStore', async () => admin.get(store), describeState, 120_000);
    await admin.patchStatus(store, {
      serverRecoveryWindow: {
        [serverName]: {
          firstRecoverabilityPoint: '2026-11-30T02:30:00Z',
          lastSuccessfulBackupTime: '2026-11-30T02:31:00Z',
        },
      },
    });

    await admin.apply(
      xr('ledgercopy', {
        databaseName: db('ledgersrc'),
        databaseOwner: db('ledgersrc_owner'),
        restore: { from: 'ledgersrc' },
      }),
    );
    const restored = await eventually(
      'the restored Cluster, bootstrapping from the source archive',
      async () => composedCluster('ledgercopy'),
      async () =>
        `${JSON.stringify(getPath(await xrOf('ledgercopy'), 'status'), null, 1)}\n${await describeState()}`,
      240_000,
    );
    // toMatchObject: the API server adds the CRD's defaults.
    expect(getPath(restored, 'spec', 'bootstrap')).toMatchObject({
      recovery: {
        source: 'ledgersrc',
        database: db('ledgersrc'),
        owner: db('ledgersrc_owner'),
        secret: { name: 'ledgercopy-credentials' },
      },
    });
    expect(getPath(restored, 'spec', 'externalClusters')).toMatchObject([
      {
        name: 'ledgersrc',
        plugin: {
          name: 'barman-cloud.cloudnative-pg.io',
          parameters: { barmanObjectName: 'ledgersrc-backup', serverName },
        },
      },
    ]);
    await eventually(
      'the restored instance reporting Restored',
      async () => getPath(await xrOf('ledgercopy'), 'status', 'restore', 'phase') === 'Restored' || undefined,
      async () =>
        `${JSON.stringify(getPath(await xrOf('ledgercopy'), 'status'), null, 1)}\n${await describeState()}`,
      240_000,
    );
  });
});

describe('deletion protection and ordered teardown (Crossplane Usages)', () => {
  const NAME = 'vault';
  const xrRef = { apiVersion: XR_API, kind: 'PostgresInstance', name: NAME, namespace: TEAM };
  const clusterRef = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', name: NAME, namespace: TEAM };
  const providerConfigRef = {
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'ProviderConfig',
    name: NAME,
    namespace: TEAM,
  };
  const usages = async (): Promise<JsonObject[]> =>
    (
      await admin.list({ apiVersion: 'protection.crossplane.io/v1beta1', kind: 'Usage', namespace: TEAM })
    ).filter((u) => getString(u, 'metadata', 'labels', 'pgplane.io/instance') === NAME);
  const protectionUsages = async (): Promise<JsonObject[]> =>
    (await usages()).filter(
      (u) => getString(u, 'metadata', 'labels', 'app.kubernetes.io/component') === 'protection',
    );
  const usageState = async (): Promise<string> =>
    `${JSON.stringify(
      (await usages()).map((u) => [getString(u, 'metadata', 'name'), getPath(u, 'status')]),
      null,
      1,
    )}\n${await describeState()}`;
  /** The API server's answer to a DELETE: the refusal's message, or undefined when it was accepted. */
  const refusal = async (ref: typeof xrRef): Promise<string | undefined> => {
    try {
      await admin.delete(ref);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

  it('with protection on, the Usages refuse deleting the Cluster and the XR', async () => {
    await admin.apply(xr(NAME, { deletionProtection: true }));
    await expectComposedAndReady(NAME, ['Cluster', 'ProviderConfig', 'Grant', 'Usage']);
    // Every Usage Ready: Crossplane has labelled what it protects, so its webhook guards it.
    await eventually(
      'the Usages of vault Ready (two protecting, one per Grant and two for the ProviderConfig ordering)',
      async () => {
        const list = await usages();
        return (
          list.length === (await grantsOf(NAME)).length + 4 && list.every((u) => isConditionTrue(u, 'Ready'))
        );
      },
      usageState,
      180_000,
    );
    // The XR has only the protecting Usage, so the refusal quotes its reason. The Cluster also has
    // the teardown ordering's, and Crossplane quotes whichever it finds first: the refusal itself is
    // the proof there, and the protecting Usage of the Cluster is among the Ready ones above.
    expect(await refusal(xrRef), 'DELETE PostgresInstance').toContain(
      `deletion protection is on for PostgresInstance ${TEAM}/${NAME}: set spec.deletionProtection: false`,
    );
    const clusterRefusal = await refusal(clusterRef);
    expect(clusterRefusal, 'DELETE Cluster').toContain('nousages.protection.crossplane.io');
    expect(clusterRefusal, 'DELETE Cluster').toContain('denied the request: This resource is in-use by');
    expect(
      (await protectionUsages()).map((u) => getString(u, 'spec', 'of', 'kind')).sort(),
      'what the protecting Usages name',
    ).toEqual(['Cluster', 'PostgresInstance']);
    for (const ref of [clusterRef, xrRef])
      expect(await admin.get(ref), `${ref.kind} still there`).toBeDefined();
  });

  it('with protection turned off, deleting the XR works, and its Grants go before the ProviderConfig and the Cluster', async () => {
    await admin.mergePatch(xrRef, { spec: { deletionProtection: false } });
    await eventually(
      'the protecting Usages gone',
      async () => (await protectionUsages()).length === 0,
      usageState,
    );
    const grantCount = (await grantsOf(NAME)).length;
    expect(grantCount).toBeGreaterThan(0);

    // Watch the teardown: after every sample, what still exists. Garbage collection deletes every
    // composed object at once; the Usages must hold the ProviderConfig until no Grant is left, and
    // the Cluster until the ProviderConfig is gone.
    await admin.delete(xrRef);
    const samples: { grants: number; providerConfig: boolean; cluster: boolean }[] = [];
    await eventually(
      'the XR, its Grants, ProviderConfig and Cluster gone',
      async () => {
        const sample = {
          grants: (await grantsOf(NAME)).length,
          providerConfig: (await admin.get(providerConfigRef)) !== undefined,
          cluster: (await admin.get(clusterRef)) !== undefined,
        };
        samples.push(sample);
        return (
          (await admin.get(xrRef)) === undefined &&
          sample.grants === 0 &&
          !sample.providerConfig &&
          !sample.cluster
        );
      },
      async () => `${JSON.stringify(samples.slice(-5))}\n${await usageState()}`,
      300_000,
    );
    expect(
      samples.filter((s) => s.grants > 0 && !s.providerConfig),
      'a Grant outlived its ProviderConfig',
    ).toEqual([]);
    expect(
      samples.filter((s) => s.providerConfig && !s.cluster),
      'the ProviderConfig outlived the Cluster',
    ).toEqual([]);
    // Watched while it happened, not after: the teardown had begun and the Cluster was still there.
    expect(samples[0]).toMatchObject({ providerConfig: true, cluster: true });
  });
});

describe('a PostgresDatabase on a registered server (issue 14)', () => {
  // The platform's server role: it may create roles and databases, and is no superuser.
  const platformRole = db('platform');
  const server = `shared-${suffix}`;
  const database = db('svc');
  const owner = db('svc_owner');
  const runtime = `${database}_rw`;
  const local = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ ...LOCAL_SERVER, database: 'postgres' });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const databaseXr = (): JsonObject => ({
    apiVersion: XR_API,
    kind: 'PostgresDatabase',
    metadata: { name: 'svc', namespace: TEAM },
    spec: {
      server: { name: server },
      databaseName: database,
      databaseOwner: owner,
      credentials: { source: 'Generated' },
    },
  });
  const composedKinds = async (): Promise<Set<string>> => {
    const xr = await admin.get({
      apiVersion: XR_API,
      kind: 'PostgresDatabase',
      name: 'svc',
      namespace: TEAM,
    });
    const refs = getPath(xr, 'spec', 'crossplane', 'resourceRefs');
    return new Set((Array.isArray(refs) ? refs.filter(isObject) : []).map((r) => getString(r, 'kind') ?? ''));
  };

  afterAll(async () => {
    await local(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      for (const role of [runtime, `${database}_ro`, owner, platformRole])
        await c.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    });
  });

  it('composes Roles, a Database and Grants through Crossplane; the provider makes them real and isolated', async () => {
    await local((c) => c.query(`CREATE ROLE "${platformRole}" LOGIN CREATEROLE CREATEDB`));
    await admin.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${server}-admin`, namespace: NAMESPACE },
      type: 'kubernetes.io/basic-auth',
      stringData: { username: platformRole, password: 'trust-auth-here' },
    });
    // The platform registers the server: a ClusterProviderConfig labelled as shared, for this team.
    await admin.apply({
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'ClusterProviderConfig',
      metadata: {
        name: server,
        labels: { 'pgplane.io/shared-server': 'true' },
        annotations: { 'pgplane.io/allowed-namespaces': TEAM },
      },
      spec: {
        namespace: NAMESPACE,
        connectionSecretRef: { name: `${server}-admin` },
        host: LOCAL_SERVER.host,
        port: LOCAL_SERVER.port,
        sslmode: 'disable',
      },
    });
    await admin.apply(databaseXr());
    const wanted = ['Role', 'Database', 'ProviderConfig', 'Grant', 'ExternalSecret', 'Password'];
    await eventually(
      `PostgresDatabase ${TEAM}/svc composing ${wanted.join(', ')}`,
      async () => {
        const kinds = await composedKinds();
        return wanted.every((k) => kinds.has(k)) ? true : undefined;
      },
      async () =>
        `${JSON.stringify(await admin.get({ apiVersion: XR_API, kind: 'PostgresDatabase', name: 'svc', namespace: TEAM }), null, 1)}\n${await describeState()}`,
      240_000,
    );
    await eventually(
      `PostgresDatabase ${TEAM}/svc Ready`,
      async () =>
        isConditionTrue(
          await admin.get({ apiVersion: XR_API, kind: 'PostgresDatabase', name: 'svc', namespace: TEAM }),
          'Ready',
        ),
      async () =>
        `${JSON.stringify(getPath(await admin.get({ apiVersion: XR_API, kind: 'PostgresDatabase', name: 'svc', namespace: TEAM }), 'status'), null, 1)}\n${await describeState()}`,
      300_000,
    );
    // In PostgreSQL: the database belongs to the tenant's owner, the runtime role may connect, and
    // PUBLIC (every other role on the server) may not.
    const facts = await local(async (c) => {
      const { rows } = await c.query<{ owner: string; runtime: boolean; public: boolean; mark: string }>(
        `SELECT pg_get_userbyid(d.datdba) AS owner,
                has_database_privilege($2, d.datname, 'CONNECT') AS runtime,
                EXISTS (SELECT 1 FROM aclexplode(d.datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') AS public,
                shobj_description(d.oid, 'pg_database') AS mark
           FROM pg_database d WHERE d.datname = $1`,
        [database, runtime],
      );
      return rows[0];
    });
    expect(facts).toMatchObject({ owner, runtime: true, public: false });
    expect(facts?.mark).toMatch(new RegExp(`^managed by grants\\.pgplane\\.io Database ${TEAM}/`));
  });

  it('deleting it revokes its Grants and keeps the database (Orphan), as the README says', async () => {
    await admin.delete({ apiVersion: XR_API, kind: 'PostgresDatabase', name: 'svc', namespace: TEAM });
    // Crossplane's garbage collection deletes the composed objects after the XR: wait for the Grants.
    await eventually(
      'the PostgresDatabase and its Grants gone',
      async () =>
        (await admin.get({ apiVersion: XR_API, kind: 'PostgresDatabase', name: 'svc', namespace: TEAM })) ===
          undefined && (await grantsOf('svc')).length === 0,
      async () =>
        `${JSON.stringify(
          (await grantsOf('svc')).map((g) => getPath(g, 'status')),
          null,
          1,
        )}\n${await describeState()}`,
      180_000,
    );
    const left = await local(async (c) => {
      const { rows } = await c.query<{ exists: boolean; runtime: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists,
                COALESCE((SELECT has_database_privilege($2, $1, 'CONNECT')
                            FROM pg_roles WHERE rolname = $2), false) AS runtime`,
        [database, runtime],
      );
      return rows[0];
    });
    expect(left).toEqual({ exists: true, runtime: false });
  });
});

describe("the function behind Crossplane's mutual TLS", () => {
  const target = `${FUNCTION_NAME}.${NAMESPACE}:${FUNCTION_PORT}`;
  const files = (): { ca: Buffer; cert: Buffer; key: Buffer } => ({
    ca: readFileSync(join(plane.functionCertsDir, 'ca.crt')),
    cert: readFileSync(join(plane.clientCertsDir, 'tls.crt')),
    key: readFileSync(join(plane.clientCertsDir, 'tls.key')),
  });
  // Crossplane's server certificate has subject == issuer; verify it by signature, as Go does.
  const credentials = (client?: { key: Buffer; cert: Buffer }): grpc.ChannelCredentials => {
    const ca = new X509Certificate(files().ca);
    return grpc.credentials.createSsl(files().ca, client?.key ?? null, client?.cert ?? null, {
      rejectUnauthorized: false,
      checkServerIdentity: (_host, peer) =>
        new X509Certificate(peer.raw).verify(ca.publicKey)
          ? undefined
          : new Error('server certificate not signed by ca.crt'),
    });
  };
  const health = (creds: grpc.ChannelCredentials): Promise<ServingStatus> => {
    const client = new grpc.Client(target, creds, { 'grpc.use_local_subchannel_pool': 1 });
    return new Promise<ServingStatus>((resolve, reject) => {
      client.makeUnaryRequest(
        healthServiceDefinition.check.path,
        healthServiceDefinition.check.requestSerialize,
        healthServiceDefinition.check.responseDeserialize,
        { service: '' },
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (error, response) =>
          error || !response ? reject(error ?? new Error('no response')) : resolve(response.status),
      );
    }).finally(() => client.close());
  };
  /** Crossplane's root CA, read from the Secret core init generated. */
  const crossplaneRootCa = async (): Promise<CrossplaneKeyPair> => {
    const secret = await admin.get({
      apiVersion: 'v1',
      kind: 'Secret',
      name: 'crossplane-root-ca',
      namespace: NAMESPACE,
    });
    const data = isObject(secret?.['data']) ? secret['data'] : {};
    const cert = Buffer.from(String(data['tls.crt'] ?? ''), 'base64');
    const key = Buffer.from(String(data['tls.key'] ?? ''), 'base64');
    return { cert, key, privateKey: createPrivateKey(key) };
  };

  it("serves Crossplane's own client certificate (the crossplane-tls-client Secret)", async () => {
    expect(await health(credentials(files()))).toBe(ServingStatus.SERVING);
  });

  it('refuses a client without a certificate', async () => {
    await expect(health(credentials())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it("refuses a certificate from another CA with Crossplane's subject", async () => {
    await expect(health(credentials(crossplaneClient(crossplaneCa())))).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it("refuses an expired certificate signed by Crossplane's own CA", async () => {
    const day = 24 * 3600 * 1000;
    const expired = crossplaneClient(await crossplaneRootCa(), {
      notBefore: new Date(Date.now() - 3 * day),
      notAfter: new Date(Date.now() - day),
    });
    await expect(health(credentials(expired))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
