// The credentials sources a claim can get (issue 17): a Secret or ExternalSecret the team made
// before the claim is adopted, never one someone else made; generated credentials come from ESO's
// Password generator, and no request, response or status ever carries a password.
import { RunFunctionResponse, Severity, Status } from '@crossplane-org/function-sdk-typescript';
import { describe, expect, it } from 'vitest';
import { inputFrom } from '../../src/cli/render.js';
import { render, type RenderRequest } from '../../src/render/render.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { readObjects, readSingleObject } from '../../src/shared/yaml-files.js';
import { isCoreKind, validateCoreKind } from '../support/core-kinds.js';
import { upstreamRegistry } from '../support/upstream-crds.js';

const SHIPPED_INPUT = inputFrom(readSingleObject('apis/namespaced/composition.yaml'));
const ADOPT = 'examples/adopt-existing-secret';
const CLAIM_FIRST = 'examples/adopt-claim-first';
const GENERATED = 'examples/generated';
/** The example password in the adopted Secret; it must never leave the function. */
const ADOPTED_PASSWORD = 'example-only-not-a-real-password-32';

function request(dir: string, overrides: Partial<RenderRequest> = {}): RenderRequest {
  return {
    xr: readSingleObject(`${dir}/xr.yaml`),
    input: SHIPPED_INPUT,
    observed: [],
    required: [],
    ...overrides,
  };
}

function desired(response: RunFunctionResponse): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.entries(response.desired?.resources ?? {}).map(([key, r]) => [key, r.resource as JsonObject]),
  );
}

function condition(response: RunFunctionResponse, type: string) {
  return response.conditions.find((c) => c.type === type);
}

function statusOf(response: RunFunctionResponse): JsonObject {
  return (getPath(response.desired?.composite?.resource, 'status') ?? {}) as JsonObject;
}

function fatal(response: RunFunctionResponse) {
  return response.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
}

const teamExternalSecret = (): JsonObject => readSingleObject(`${ADOPT}/required/team-external-secret.yaml`);
const teamSecret = (): JsonObject => readSingleObject(`${ADOPT}/required/team-secret.yaml`);

describe('the usage guide flow: the team wrote its ExternalSecret first (Secret first)', () => {
  const { response } = render(request(ADOPT, { required: readObjects(`${ADOPT}/required`) }));
  const resources = desired(response);

  it("composes no second ExternalSecret writing the team's Secret", () => {
    const writers = Object.values(resources).filter(
      (r) =>
        r.kind === 'ExternalSecret' &&
        (getPath(r, 'spec', 'target', 'name') ?? getPath(r, 'metadata', 'name')) === 'catalog-db-owner',
    );
    expect(writers).toEqual([]);
    expect(resources['credentials']).toBeUndefined();
  });

  it('bootstraps the owner from that Secret and builds the connection Secret from it', () => {
    expect(getPath(resources['cluster'], 'spec', 'bootstrap', 'initdb', 'secret', 'name')).toBe(
      'catalog-db-owner',
    );
    expect(resources['connection-owner']).toMatchObject({ apiVersion: 'v1', kind: 'Secret' });
  });

  it('says so in status and in the CredentialsReady reason', () => {
    expect(statusOf(response)['adoptedCredentialsSecrets']).toEqual(['catalog-db-owner']);
    const ready = render(
      request(ADOPT, {
        required: readObjects(`${ADOPT}/required`),
        observed: readObjects(`${ADOPT}/observed/ready`),
      }),
    ).response;
    expect(condition(ready, 'CredentialsReady')).toMatchObject({
      status: Status.STATUS_CONDITION_TRUE,
      reason: 'AdoptedSecret',
    });
    expect(condition(ready, 'CredentialsReady')?.message).toContain(
      "uses the team's own ExternalSecret storefront/catalog-db-owner",
    );
  });

  it('still takes the other roles from the platform store', () => {
    expect(resources['credentials-runtime']).toMatchObject({
      kind: 'ExternalSecret',
      spec: { secretStoreRef: { name: 'platform-secrets' } },
    });
  });

  it('adopts the ExternalSecret before External Secrets has written its Secret', () => {
    const { response: early } = render(request(ADOPT, { required: [teamExternalSecret()] }));
    expect(desired(early)['credentials']).toBeUndefined();
    expect(statusOf(early)['adoptedCredentialsSecrets']).toEqual(['catalog-db-owner']);
    expect(condition(early, 'CredentialsReady')?.message).toContain(
      'waiting for the credentials Secret storefront/catalog-db-owner',
    );
  });

  it('adopts a plain Secret the team created, as the existing-Secret mode reads it', () => {
    const plain = teamSecret();
    delete (plain.metadata as JsonObject)['ownerReferences'];
    const { response: adopted } = render(request(ADOPT, { required: [plain] }));
    expect(desired(adopted)['credentials']).toBeUndefined();
    expect(condition(adopted, 'CredentialsReady')?.message).toContain("team's own Secret");
  });

  it('never puts the adopted password in results, conditions or status', () => {
    const text = JSON.stringify({
      results: response.results,
      conditions: response.conditions,
      status: statusOf(response),
    });
    expect(text).not.toContain(ADOPTED_PASSWORD);
    expect(text).not.toContain(Buffer.from(ADOPTED_PASSWORD).toString('base64'));
  });
});

describe('the claim came first (pgplane composed the ExternalSecret)', () => {
  const required = readObjects(`${CLAIM_FIRST}/required`);

  it("keeps composing its own ExternalSecret while the label says it is this XR's", () => {
    const { response } = render(request(CLAIM_FIRST, { required }));
    expect(desired(response)['credentials']).toMatchObject({
      kind: 'ExternalSecret',
      metadata: { name: 'catalog-db-owner' },
    });
    expect(statusOf(response)['adoptedCredentialsSecrets']).toBeUndefined();
  });

  it('never flips to adoption once it observes its ExternalSecret, and reads no Secret then', () => {
    const { response } = render(
      request(CLAIM_FIRST, { required, observed: readObjects(`${CLAIM_FIRST}/observed/ready`) }),
    );
    expect(desired(response)['credentials']).toMatchObject({ kind: 'ExternalSecret' });
    expect(condition(response, 'CredentialsReady')).toMatchObject({ reason: 'Available' });
    // Nothing is asked for: no request carries the password pgplane's ExternalSecret wrote.
    expect(response.requirements).toBeUndefined();
  });

  it('keeps owning it even when the observed ExternalSecret lost its labels', () => {
    const unlabelled = required.map((o) =>
      o.kind === 'ExternalSecret'
        ? { ...o, metadata: { name: 'catalog-db-owner', namespace: 'storefront' } }
        : o,
    );
    const observed = readObjects(`${CLAIM_FIRST}/observed/ready`);
    const { response } = render(request(CLAIM_FIRST, { required: unlabelled, observed }));
    expect(desired(response)['credentials']).toMatchObject({ kind: 'ExternalSecret' });
    expect(statusOf(response)['adoptedCredentialsSecrets']).toBeUndefined();
  });
});

describe('a Secret whose ExternalSecret is gone', () => {
  it('is not adopted: garbage collection is deleting it, so pgplane composes the credentials', () => {
    // e.g. pgplane's own ExternalSecret was deleted by hand and its Secret still lingers.
    const { response } = render(request(ADOPT, { required: [teamSecret()] }));
    expect(desired(response)['credentials']).toMatchObject({ kind: 'ExternalSecret' });
    expect(statusOf(response)['adoptedCredentialsSecrets']).toBeUndefined();
  });
});

describe('a claim cannot adopt what is not its team’s', () => {
  function refused(required: JsonObject[]): string {
    const { response } = render(request(ADOPT, { required }));
    const result = fatal(response);
    expect(result?.reason).toBe('CredentialsConflict');
    expect(Object.keys(response.desired?.resources ?? {})).toEqual([]);
    expect(condition(response, 'CredentialsReady')).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'CredentialsConflict',
    });
    return result!.message;
  }

  it("refuses an ExternalSecret another claim's composite resource composed", () => {
    const theirs = teamExternalSecret();
    (theirs.metadata as JsonObject)['labels'] = { 'crossplane.io/composite': 'payments-db' };
    expect(refused([theirs, teamSecret()])).toContain(
      'ExternalSecret storefront/catalog-db-owner is composed by another composite resource (payments-db)',
    );
  });

  it("refuses a connection Secret another pgplane instance's ExternalSecret templated", () => {
    const secret = teamSecret();
    (secret.metadata as JsonObject)['labels'] = {
      'app.kubernetes.io/managed-by': 'pgplane',
      'pgplane.io/instance': 'payments',
    };
    delete (secret.metadata as JsonObject)['ownerReferences'];
    expect(refused([secret])).toContain('belongs to PostgresInstance payments');
  });

  it('refuses a Secret another controller owns (a CloudNativePG Cluster)', () => {
    const secret = teamSecret();
    (secret.metadata as JsonObject)['ownerReferences'] = [
      { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', name: 'payments', uid: 'x', controller: true },
    ];
    expect(refused([secret])).toContain('is controlled by Cluster payments');
  });

  it('refuses a Secret an ExternalSecret of another name writes (pgplane cannot see whose)', () => {
    const secret = teamSecret();
    (secret.metadata as JsonObject)['ownerReferences'] = [
      {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        name: 'payments-db',
        uid: 'x',
        controller: true,
      },
    ];
    expect(refused([secret])).toContain('is controlled by ExternalSecret payments-db');
  });

  it('refuses Secret names the platform reserved, before anything is read', () => {
    const xr = readSingleObject(`${ADOPT}/xr.yaml`);
    const spec = { ...(xr.spec as JsonObject), credentialsSecretName: 'catalog-superuser' };
    const { response } = render({ ...request(ADOPT), xr: { ...xr, spec } });
    expect(fatal(response)?.reason).toBe('InvalidSpec');
    expect(fatal(response)?.message).toContain(
      'spec.credentialsSecretName makes "catalog-superuser" the owner role\'s credentials Secret, but that name is CloudNativePG\'s superuser Secret for this Cluster',
    );
  });

  it("refuses the platform's backup credentials as a connection Secret", () => {
    const xr = readSingleObject(`${ADOPT}/xr.yaml`);
    const spec = { ...(xr.spec as JsonObject), connectionSecretName: 's3-keys' };
    const input = {
      ...SHIPPED_INPUT,
      backup: { destinationPathTemplate: 's3://b/{name}', s3Credentials: { secretName: 's3-keys' } },
    };
    const { response } = render({ ...request(ADOPT), xr: { ...xr, spec }, input });
    expect(fatal(response)?.message).toContain(
      "that name is the platform's object-store credentials for backups",
    );
  });
});

describe('generated credentials', () => {
  const { response } = render(request(GENERATED));
  const resources = desired(response);

  it('generates each password in the cluster once, through the Password generator', () => {
    expect(resources['password-generator']).toMatchObject({
      apiVersion: 'generators.external-secrets.io/v1alpha1',
      kind: 'Password',
      spec: { length: 32, symbolCharacters: '-_.~' },
    });
    for (const key of ['credentials', 'credentials-runtime', 'credentials-readonly']) {
      expect(resources[key]).toMatchObject({
        kind: 'ExternalSecret',
        spec: {
          refreshPolicy: 'CreatedOnce',
          dataFrom: [{ sourceRef: { generatorRef: { kind: 'Password', name: 'billing-password' } } }],
          target: { template: { type: 'kubernetes.io/basic-auth' } },
        },
      });
    }
    expect(getPath(resources['credentials'], 'spec', 'target', 'template', 'data', 'username')).toBe(
      'billing_owner',
    );
  });

  it('builds the connection Secrets from the generated Secrets through a store that reads only those', () => {
    expect(resources['connection']).toMatchObject({
      kind: 'ExternalSecret',
      spec: {
        secretStoreRef: { name: 'billing-credentials-reader', kind: 'SecretStore' },
        data: [
          { secretKey: 'password', remoteRef: { key: 'billing-runtime-credentials', property: 'password' } },
        ],
      },
    });
    expect(getPath(resources['credentials-reader-role'], 'rules')).toEqual([
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['billing-credentials', 'billing-runtime-credentials', 'billing-readonly-credentials'],
        verbs: ['get'],
      },
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
    ]);
  });

  it('asks for no generated Secret once it has composed them: no request carries a password', () => {
    const ready = render(
      request(GENERATED, { observed: readObjects(`${GENERATED}/observed/ready`) }),
    ).response;
    expect(ready.requirements).toBeUndefined();
    expect(condition(ready, 'CredentialsReady')).toMatchObject({ status: Status.STATUS_CONDITION_TRUE });
    expect(condition(ready, 'PasswordPolicy')).toBeUndefined();
  });

  it("takes the length and characters from the Input, and the platform's default source", () => {
    const xr = readSingleObject(`${GENERATED}/xr.yaml`);
    const input = {
      ...SHIPPED_INPUT,
      credentials: {
        ...(SHIPPED_INPUT.credentials as JsonObject),
        defaultSource: 'Generated',
        generated: { length: 48, symbols: 6, symbolCharacters: '-_!' },
      },
    };
    const spec = { ...(xr.spec as JsonObject) };
    delete spec['credentials'];
    const { response: custom } = render({ ...request(GENERATED), xr: { ...xr, spec }, input });
    expect(desired(custom)['password-generator']).toMatchObject({
      spec: { length: 48, symbols: 6, symbolCharacters: '-_!' },
    });
  });

  it('refuses a policy shorter than 32 characters or with symbols a template could mangle', () => {
    for (const generated of [{ length: 16 }, { symbolCharacters: '"$`' }]) {
      const input = {
        ...SHIPPED_INPUT,
        credentials: { ...(SHIPPED_INPUT.credentials as JsonObject), generated },
      };
      const { response: bad } = render({ ...request(GENERATED), input });
      expect(fatal(bad)?.message).toContain('credentials.generated');
    }
  });

  it('refuses a claim that names a store or key for generated credentials', () => {
    const xr = readSingleObject(`${GENERATED}/xr.yaml`);
    const spec = { ...(xr.spec as JsonObject), credentials: { source: 'Generated', remoteKey: 'x/y' } };
    const { response: bad } = render({ ...request(GENERATED), xr: { ...xr, spec } });
    expect(fatal(bad)?.message).toContain('spec.credentials.remoteKey');
  });

  it('pushes every generated password back where the platform configures a store, and never deletes it there', () => {
    const input = {
      ...SHIPPED_INPUT,
      credentials: {
        ...(SHIPPED_INPUT.credentials as JsonObject),
        generated: { pushSecretStoreRef: { name: 'platform-secrets', kind: 'ClusterSecretStore' } },
      },
    };
    const pushed = desired(render({ ...request(GENERATED), input }).response);
    expect(pushed['credentials-push']).toMatchObject({
      apiVersion: 'external-secrets.io/v1alpha1',
      kind: 'PushSecret',
      spec: {
        deletionPolicy: 'None',
        selector: { secret: { name: 'billing-credentials' } },
        data: [
          {
            match: {
              secretKey: 'password',
              remoteRef: { remoteKey: 'postgres/payments/billing/billing_owner' },
            },
          },
        ],
      },
    });
    const registry = upstreamRegistry();
    // Everything generated mode adds (pgplane's own kinds are checked against their CRDs elsewhere).
    const credentialObjects = Object.values(pushed).filter(
      (m) => String(m.apiVersion).includes('external-secrets.io') || isCoreKind(m),
    );
    expect(credentialObjects.map((m) => m.kind)).toEqual(
      expect.arrayContaining([
        'Password',
        'PushSecret',
        'SecretStore',
        'ServiceAccount',
        'Role',
        'RoleBinding',
      ]),
    );
    for (const manifest of credentialObjects) {
      const problems = isCoreKind(manifest) ? validateCoreKind(manifest) : registry.validate(manifest);
      expect({ kind: manifest.kind, problems }).toEqual({ kind: manifest.kind, problems: [] });
    }
  });
});

describe('password rotation (generated credentials)', () => {
  const ROTATION = 'examples/generated-rotation';
  const SLOT = 'billing-runtime-credentials-50282632';
  const at = (state: string, overrides: Partial<RenderRequest> = {}) =>
    render(request(ROTATION, { observed: readObjects(`${ROTATION}/observed/${state}`), ...overrides }))
      .response;
  const rotationOf = (response: RunFunctionResponse, role: string) =>
    (statusOf(response)['passwordRotations'] as JsonObject[] | undefined)?.find((r) => r['role'] === role);
  const withToken = (token: string): JsonObject => {
    const xr = readSingleObject(`${ROTATION}/xr.yaml`);
    const spec = xr.spec as JsonObject;
    return { ...xr, spec: { ...spec, credentials: { source: 'Generated', rotation: { token } } } };
  };

  it('requested: generates a new password per role into a slot, and changes nothing in use yet', () => {
    const response = at('requested');
    const resources = desired(response);
    expect(resources[`credentials-runtime-slot-${SLOT}`]).toMatchObject({
      kind: 'ExternalSecret',
      metadata: { name: SLOT },
      spec: { refreshPolicy: 'CreatedOnce', target: { name: SLOT } },
    });
    expect(resources['credentials-runtime']).toMatchObject({ spec: { refreshPolicy: 'CreatedOnce' } });
    expect(getPath(resources['connection'], 'spec', 'data', '0', 'remoteRef', 'key')).toBe(
      'billing-runtime-credentials',
    );
    expect(rotationOf(response, 'billing_rw')).toEqual({ role: 'billing_rw', phase: 'Generating' });
    expect(condition(response, 'PasswordRotated')).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'Rotating',
    });
  });

  it("has CloudNativePG manage the owner, so the owner's new password is applied too", () => {
    const roles = getPath(desired(at('requested'))['cluster'], 'spec', 'managed', 'roles') as JsonObject[];
    expect(roles[0]).toMatchObject({
      name: 'billing_owner',
      login: true,
      passwordSecret: { name: 'billing-credentials' },
    });
    // Without rotation the owner stays initdb's alone.
    const plain = getPath(
      desired(render(request(GENERATED)).response)['cluster'],
      'spec',
      'managed',
      'roles',
    );
    expect((plain as JsonObject[]).map((r) => r['name'])).not.toContain('billing_owner');
  });

  it('switching: the credentials and connection Secrets both copy the new slot, in one response', () => {
    const resources = desired(at('switching'));
    expect(resources['credentials-runtime']).toMatchObject({
      metadata: {
        annotations: { 'pgplane.io/password-slot': SLOT, 'pgplane.io/rotation-token': '2026-12-01' },
      },
      spec: {
        secretStoreRef: { name: 'billing-credentials-reader', kind: 'SecretStore' },
        data: [{ secretKey: 'password', remoteRef: { key: SLOT, property: 'password' } }],
        target: { template: { metadata: { labels: { 'cnpg.io/reload': 'true' } } } },
      },
    });
    expect(getPath(resources['credentials-runtime'], 'spec', 'refreshPolicy')).toBeUndefined();
    expect(getPath(resources['connection'], 'spec', 'data', '0', 'remoteRef', 'key')).toBe(SLOT);
    expect(getPath(resources['credentials-reader-role'], 'rules', '0', 'resourceNames')).toContain(SLOT);
  });

  it('rotated: status says when each role got its password, and the condition is True', () => {
    const response = at('rotated');
    expect(rotationOf(response, 'billing_rw')).toEqual({
      role: 'billing_rw',
      phase: 'Rotated',
      token: '2026-12-01',
      rotatedAt: '2026-12-01T11:00:00Z',
    });
    expect(condition(response, 'PasswordRotated')).toMatchObject({
      status: Status.STATUS_CONDITION_TRUE,
      reason: 'Rotated',
    });
  });

  it('is not done while External Secrets has not synced the switched spec (a Ready left over)', () => {
    const observed = readObjects(`${ROTATION}/observed/rotated`).map((o) =>
      getPath(o, 'metadata', 'name') === 'billing-runtime-credentials'
        ? {
            ...o,
            metadata: { ...(o.metadata as JsonObject), generation: 3 },
            status: { ...(o.status as JsonObject), syncedResourceVersion: '2-5f0c' },
          }
        : o,
    );
    const response = render(request(ROTATION, { observed })).response;
    expect(rotationOf(response, 'billing_rw')).toMatchObject({ phase: 'Switching' });
    const synced = observed.map((o) =>
      getPath(o, 'metadata', 'name') === 'billing-runtime-credentials'
        ? { ...o, status: { ...(o.status as JsonObject), syncedResourceVersion: '3-5f0c' } }
        : o,
    );
    expect(rotationOf(render(request(ROTATION, { observed: synced })).response, 'billing_rw')).toMatchObject({
      phase: 'Rotated',
    });
  });

  it('a second rotation keeps the slot in use until the new one exists, then drops it', () => {
    const response = at('rotated', { xr: withToken('2027-01-15') });
    const slots = Object.keys(desired(response)).filter((k) => k.startsWith('credentials-runtime-slot-'));
    expect(slots).toHaveLength(2);
    expect(slots).toContain(`credentials-runtime-slot-${SLOT}`);
    expect(getPath(desired(response)['credentials-runtime'], 'spec', 'data', '0', 'remoteRef', 'key')).toBe(
      SLOT,
    );
    expect(rotationOf(response, 'billing_rw')).toMatchObject({ phase: 'Generating', token: '2026-12-01' });
  });

  it('never runs two at once: a new token waits while the last change is not synced', () => {
    const observed = readObjects(`${ROTATION}/observed/rotated`).map((o) =>
      getPath(o, 'metadata', 'name') === 'billing-runtime-credentials'
        ? { ...o, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'SecretSyncing' }] } }
        : o,
    );
    const response = render(request(ROTATION, { xr: withToken('2027-01-15'), observed })).response;
    const slots = Object.keys(desired(response)).filter((k) => k.startsWith('credentials-runtime-slot-'));
    expect(slots).toEqual([`credentials-runtime-slot-${SLOT}`]);
    expect(rotationOf(response, 'billing_rw')).toMatchObject({ phase: 'Waiting' });
    expect(condition(response, 'PasswordRotated')?.message).toContain(
      'waiting for the previous password change of role billing_rw to finish before rotation "2027-01-15" starts',
    );
  });

  it('a token changed before its password was switched to replaces that rotation (nothing was applied)', () => {
    const response = at('switching', { xr: withToken('2027-01-15') });
    const slots = Object.keys(desired(response)).filter((k) => k.startsWith('credentials-runtime-slot-'));
    expect(slots).toHaveLength(1);
    expect(slots).not.toContain(`credentials-runtime-slot-${SLOT}`);
    expect(getPath(desired(response)['credentials-runtime'], 'spec', 'refreshPolicy')).toBe('CreatedOnce');
  });

  it('a new instance with a token generates straight into its slot: nothing to rotate from', () => {
    const resources = desired(render(request(ROTATION)).response);
    expect(getPath(resources['credentials-runtime'], 'spec', 'data', '0', 'remoteRef', 'key')).toBe(SLOT);
    expect(resources[`credentials-runtime-slot-${SLOT}`]).toBeDefined();
  });

  it('is refused for passwords pgplane does not generate', () => {
    const xr = readSingleObject(`${ADOPT}/xr.yaml`);
    const spec = { ...(xr.spec as JsonObject), credentials: { rotation: { token: 'now' } } };
    const { response } = render({ ...request(ADOPT), xr: { ...xr, spec } });
    expect(fatal(response)?.message).toContain(
      'spec.credentials.rotation is set, but the credentials source is SecretStore',
    );
  });
});
