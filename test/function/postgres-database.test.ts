// PostgresDatabase: one service's database on a shared PostgresInstance or a registered server.
// Each test states what a tenant, or the tenant next door, relies on: which objects are composed
// and where, that PUBLIC is shut out of the database, and every refusal (an instance not shared,
// a server not offered to the namespace, a name another claim or the instance holds), each naming
// what to change. Requirements are answered as Crossplane does: by name, and lists by labels.
import { Severity, Status, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { databaseParameters } from '../../src/api/database.js';
import { grantParameters } from '../../src/api/grant.js';
import { providerConfigSpecSchema } from '../../src/api/provider-config.js';
import { roleParameters } from '../../src/api/role.js';
import { inputFrom } from '../../src/cli/render.js';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest, render } from '../../src/render/render.js';
import { getPath, getString, type JsonObject } from '../../src/shared/json.js';
import { readObjects, readSingleObject } from '../../src/shared/yaml-files.js';

const input = inputFrom(readSingleObject('apis/namespaced/composition-database.yaml'));
const NOW = new Date('2026-12-06T05:30:00Z');

const onInstanceXr = readSingleObject('examples/database-on-instance/xr.yaml');
const onInstanceRequired = readObjects('examples/database-on-instance/required');
const onServerXr = readSingleObject('examples/database-on-server/xr.yaml');
const onServerRequired = readObjects('examples/database-on-server/required');
const sharedInstance = onInstanceRequired.find((o) => o.kind === 'PostgresInstance')!;
const registeredServer = onServerRequired.find((o) => o.kind === 'ClusterProviderConfig')!;

interface Rendered {
  response: RunFunctionResponse;
  /** Every requirement the last call asked for. */
  requirements: NonNullable<RunFunctionResponse['requirements']>['resources'];
  fatal?: string;
  reason?: string;
}

/** Renders as Crossplane would: requirements answered from `required`, by name and lists by labels. */
function renderDatabase(
  xr: JsonObject,
  required: JsonObject[],
  options: { observed?: JsonObject[]; input?: JsonObject } = {},
): Rendered {
  const { response } = render({
    xr,
    input: options.input ?? input,
    observed: options.observed ?? [],
    required,
    now: NOW,
  });
  const fatal = response.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
  return {
    response,
    requirements: response.requirements?.resources ?? {},
    ...(fatal ? { fatal: fatal.message, reason: fatal.reason } : {}),
  };
}

function resources(rendered: Rendered): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.entries(rendered.response.desired?.resources ?? {}).map(([k, v]) => [k, v.resource as JsonObject]),
  );
}

function withSpec(xr: JsonObject, spec: JsonObject, metadata: JsonObject = {}): JsonObject {
  return {
    ...xr,
    metadata: { ...(xr.metadata as JsonObject), ...metadata },
    spec: { ...(xr.spec as JsonObject), ...spec },
  };
}

function refused(rendered: Rendered): string {
  expect(rendered.fatal, 'the claim should have been refused').toBeDefined();
  expect(Object.keys(rendered.response.desired?.resources ?? {})).toEqual([]);
  return rendered.fatal ?? '';
}

describe('a PostgresDatabase on a shared PostgresInstance', () => {
  const rendered = renderDatabase(onInstanceXr, onInstanceRequired);
  const composed = resources(rendered);

  it('composes its roles, database, credentials, ProviderConfig and Grants, all beside the instance', () => {
    expect(rendered.fatal).toBeUndefined();
    expect(Object.keys(composed).sort()).toEqual(
      [
        'credentials',
        'credentials-runtime',
        'credentials-readonly',
        'connection',
        'connection-owner',
        'connection-readonly',
        'password-generator',
        'credentials-reader-account',
        'credentials-reader-role',
        'credentials-reader-binding',
        'credentials-reader-store',
        'role-owner',
        'role-runtime',
        'role-readonly',
        'database',
        'provider-config',
        'grant-runtime',
        'grant-readonly',
        'grant-public',
        'usage-provider-config-credentials',
        'usage-grant-runtime',
        'usage-grant-readonly',
        'usage-grant-public',
      ].sort(),
    );
    for (const object of Object.values(composed))
      expect(getString(object, 'metadata', 'namespace')).toBe('databases');
  });

  it("creates the owner and every role on the instance's Cluster as least-privilege DatabaseRoles that are kept", () => {
    for (const [key, name, secret] of [
      ['role-owner', 'orders_owner', 'orders-credentials'],
      ['role-runtime', 'orders_rw', 'orders-runtime-credentials'],
      ['role-readonly', 'orders_ro', 'orders-readonly-credentials'],
    ] as const) {
      expect(composed[key]).toMatchObject({
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'DatabaseRole',
        spec: {
          cluster: { name: 'shared' },
          name,
          login: true,
          superuser: false,
          createdb: false,
          createrole: false,
          bypassrls: false,
          passwordSecret: { name: secret },
          databaseRoleReclaimPolicy: 'retain',
        },
      });
    }
  });

  it('creates the database on that Cluster, owned by the owner, and never drops it', () => {
    expect(composed.database).toMatchObject({
      kind: 'Database',
      spec: {
        cluster: { name: 'shared' },
        name: 'orders',
        owner: 'orders_owner',
        databaseReclaimPolicy: 'retain',
      },
    });
  });

  it('gives the owner schema public on a PostgreSQL 14 instance, where the superuser owns it', () => {
    const on14 = { ...sharedInstance, spec: { ...(sharedInstance.spec as JsonObject), version: '14' } };
    const out = resources(
      renderDatabase(onInstanceXr, [on14, ...onInstanceRequired.filter((o) => o !== sharedInstance)]),
    );
    expect(getPath(out.database, 'spec', 'schemas')).toEqual([
      { name: 'public', owner: 'orders_owner', ensure: 'present' },
    ]);
    expect(getPath(composed.database, 'spec', 'schemas')).toBeUndefined();
  });

  it("connects the grants provider as this database's owner, not as the instance's", () => {
    expect(composed['provider-config']).toMatchObject({
      kind: 'ProviderConfig',
      metadata: { name: 'orders' },
      spec: { cluster: 'shared', connectionSecretRef: { name: 'orders-credentials' } },
    });
    for (const key of ['grant-runtime', 'grant-readonly', 'grant-public'])
      expect(getPath(composed[key], 'spec', 'providerConfigRef')).toEqual({
        name: 'orders',
        kind: 'ProviderConfig',
      });
  });

  it("points applications at the instance's services", () => {
    expect(getPath(composed.connection, 'spec', 'target', 'template', 'data', 'endpoint')).toBe(
      'shared-rw.databases.svc.cluster.local',
    );
    expect(getPath(composed['connection-readonly'], 'spec', 'target', 'template', 'data', 'endpoint')).toBe(
      'shared-r.databases.svc.cluster.local',
    );
    expect(rendered.response.desired?.composite?.resource).toMatchObject({
      status: {
        backend: { kind: 'PostgresInstance', name: 'databases/shared' },
        endpoint: 'shared-rw.databases.svc.cluster.local',
        databaseName: 'orders',
        connectionSecretName: 'orders-connection',
      },
    });
  });

  it("follows the instance's pooler when it has one", () => {
    const pooled = { ...sharedInstance, spec: { ...(sharedInstance.spec as JsonObject), pooler: {} } };
    const out = resources(
      renderDatabase(onInstanceXr, [pooled, ...onInstanceRequired.filter((o) => o !== sharedInstance)]),
    );
    expect(getPath(out.connection, 'spec', 'target', 'template', 'data', 'endpoint')).toBe(
      'shared-pooler-rw.databases.svc.cluster.local',
    );
    // Migrations and the provider still reach the primary.
    expect(getPath(out['connection-owner'], 'spec', 'target', 'template', 'data', 'endpoint')).toBe(
      'shared-rw.databases.svc.cluster.local',
    );
  });
});

describe('isolation: PUBLIC is shut out of every tenant database', () => {
  it.each([
    ['a shared instance', onInstanceXr, onInstanceRequired],
    ['a registered server', onServerXr, onServerRequired],
  ] as const)('on %s, an authoritative PUBLIC Grant with no database privileges', (_, xr, required) => {
    const composed = resources(renderDatabase(xr, required));
    expect(getPath(composed['grant-public'], 'spec', 'forProvider')).toEqual({
      database: 'orders',
      mode: 'authoritative',
      grantee: 'PUBLIC',
      databasePrivileges: [],
      schemas: [{ name: 'public', privileges: ['USAGE'] }],
    });
    // The tenant's own roles connect through their own Grants.
    expect(getPath(composed['grant-runtime'], 'spec', 'forProvider', 'databasePrivileges')).toEqual([
      'CONNECT',
      'TEMPORARY',
    ]);
    expect(getPath(composed['grant-readonly'], 'spec', 'forProvider', 'databasePrivileges')).toEqual([
      'CONNECT',
    ]);
  });

  it('even without least-privilege roles', () => {
    const composed = resources(
      renderDatabase(withSpec(onInstanceXr, { roles: { leastPrivilege: false } }), onInstanceRequired),
    );
    expect(getPath(composed['grant-public'], 'spec', 'forProvider', 'databasePrivileges')).toEqual([]);
  });
});

describe('a PostgresDatabase on a registered server', () => {
  const rendered = renderDatabase(onServerXr, onServerRequired);
  const composed = resources(rendered);

  it("creates every role and the database with pgplane's provider through the platform's ClusterProviderConfig", () => {
    expect(rendered.fatal).toBeUndefined();
    for (const key of ['role-owner', 'role-runtime', 'role-readonly', 'role-access-orders-reporting'])
      expect(composed[key]).toMatchObject({
        apiVersion: 'grants.pgplane.io/v1alpha1',
        kind: 'Role',
        metadata: { namespace: 'team-a' },
        spec: {
          forProvider: { login: true, createdb: false, createrole: false },
          providerConfigRef: { kind: 'ClusterProviderConfig', name: 'rds-main' },
          deletionPolicy: 'Orphan',
        },
      });
    expect(getPath(composed['role-owner'], 'spec', 'forProvider')).toMatchObject({
      name: 'orders_owner',
      passwordSecretRef: { name: 'orders-credentials', key: 'password' },
    });
    expect(composed.database).toMatchObject({
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'Database',
      spec: {
        forProvider: { name: 'orders', owner: 'orders_owner' },
        providerConfigRef: { kind: 'ClusterProviderConfig', name: 'rds-main' },
        deletionPolicy: 'Orphan',
      },
    });
  });

  it("grants through a ProviderConfig of its own that logs in as the owner, on the server's host and TLS settings", () => {
    expect(composed['provider-config']).toMatchObject({
      kind: 'ProviderConfig',
      metadata: { name: 'orders', namespace: 'team-a' },
      spec: {
        host: 'main.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com',
        port: 5432,
        sslmode: 'verify-full',
        caSecretRef: { name: 'rds-ca', key: 'ca.crt' },
        connectionSecretRef: { name: 'orders-credentials' },
      },
    });
    expect(getPath(composed['grant-access-orders-reporting'], 'spec', 'providerConfigRef')).toEqual({
      name: 'orders',
      kind: 'ProviderConfig',
    });
  });

  it('points applications at the server', () => {
    expect(getPath(composed.connection, 'spec', 'target', 'template', 'data')).toMatchObject({
      endpoint: 'main.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com',
      database: 'orders',
      username: 'orders_rw',
    });
  });

  it('leaves an access role’s memberships to its Grant: its Role names none, so it revokes none', () => {
    const xr = withSpec(onServerXr, {
      access: [{ role: 'orders_reporting', memberships: [{ role: 'pg_read_all_stats' }] }],
    });
    const out = resources(renderDatabase(xr, onServerRequired));
    expect(getPath(out['role-access-orders-reporting'], 'spec', 'forProvider', 'inRoles')).toBeUndefined();
    expect(getPath(out['grant-access-orders-reporting'], 'spec', 'forProvider', 'memberships')).toEqual([
      { role: 'pg_read_all_stats' },
    ]);
  });

  it("composes Roles and a Database the provider's own schemas accept", () => {
    for (const [key, object] of Object.entries(composed)) {
      if (object.apiVersion !== 'grants.pgplane.io/v1alpha1') continue;
      const forProvider = getPath(object, 'spec', 'forProvider');
      if (object.kind === 'Role') expect(roleParameters.safeParse(forProvider).success, key).toBe(true);
      if (object.kind === 'Database')
        expect(databaseParameters.safeParse(forProvider).success, key).toBe(true);
      if (object.kind === 'Grant') expect(grantParameters.safeParse(forProvider).success, key).toBe(true);
      if (object.kind === 'ProviderConfig')
        expect(providerConfigSpecSchema.safeParse(getPath(object, 'spec')).success, key).toBe(true);
    }
  });

  it('refuses schemas and extensions, which it cannot create there yet, naming the field', () => {
    const message = refused(
      renderDatabase(withSpec(onServerXr, { extensions: ['pgcrypto'] }), onServerRequired),
    );
    expect(message).toContain('spec.extensions is not offered on a registered server (spec.server)');
    expect(
      refused(renderDatabase(withSpec(onServerXr, { schemas: ['analytics'] }), onServerRequired)),
    ).toContain('spec.schemas is not offered');
  });
});

describe('the backend must accept the database', () => {
  it('refuses an instance that does not share its server', () => {
    const private_ = {
      ...sharedInstance,
      spec: { ...(sharedInstance.spec as JsonObject), sharing: undefined },
    };
    const rendered = renderDatabase(onInstanceXr, [private_]);
    expect(refused(rendered)).toContain(
      'PostgresInstance databases/shared does not share its server: its owner must set spec.sharing.enabled: true',
    );
    expect(rendered.reason).toBe('BackendRefused');
    expect(rendered.response.conditions).toContainEqual(
      expect.objectContaining({ type: 'BackendReady', status: Status.STATUS_CONDITION_FALSE }),
    );
  });

  it('refuses an instance that does not exist', () => {
    expect(refused(renderDatabase(onInstanceXr, []))).toContain(
      'PostgresInstance databases/shared (spec.instanceRef.name) does not exist in this namespace',
    );
  });

  it('refuses a server the platform has not shared', () => {
    const { labels: _labels, ...metadata } = registeredServer.metadata as JsonObject;
    const unshared = { ...registeredServer, metadata };
    expect(refused(renderDatabase(onServerXr, [unshared]))).toContain(
      'ClusterProviderConfig rds-main is not a server the platform shares with PostgresDatabases (it has no label pgplane.io/shared-server: "true")',
    );
  });

  it('refuses a namespace the server is not offered to, and admits every namespace with "*"', () => {
    const elsewhere = withSpec(onServerXr, {}, { namespace: 'team-c' });
    expect(refused(renderDatabase(elsewhere, onServerRequired))).toContain(
      'ClusterProviderConfig rds-main is not offered to namespace team-c (its pgplane.io/allowed-namespaces annotation is "team-a,team-b")',
    );
    const everyone = {
      ...registeredServer,
      metadata: {
        ...(registeredServer.metadata as JsonObject),
        annotations: { 'pgplane.io/allowed-namespaces': '*' },
      },
    };
    expect(renderDatabase(elsewhere, [everyone]).fatal).toBeUndefined();
  });

  it('refuses a server whose host only its Secret knows', () => {
    const hostless = {
      ...registeredServer,
      spec: { namespace: 'platform-databases', connectionSecretRef: { name: 'rds-main-admin' } },
    };
    expect(refused(renderDatabase(onServerXr, [hostless]))).toContain(
      'ClusterProviderConfig rds-main names no spec.host or spec.cluster',
    );
  });
});

describe('until Crossplane has answered, nothing is composed', () => {
  it.each([
    [
      'a shared instance',
      onInstanceXr,
      {
        apiVersion: 'database.pgplane.io/v1alpha1',
        kind: 'PostgresInstance',
        matchName: 'shared',
        namespace: 'databases',
      },
      { namespace: 'databases' },
    ],
    [
      'a registered server',
      onServerXr,
      { apiVersion: 'grants.pgplane.io/v1alpha1', kind: 'ClusterProviderConfig', matchName: 'rds-main' },
      {},
    ],
  ] as const)('on %s: it asks for the backend and every claim that may share it', (_, xr, backend, list) => {
    const response = runFunction(buildRequest({ xr, input }), undefined, NOW);
    expect(response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL)).toEqual([]);
    expect(Object.keys(response.desired?.resources ?? {})).toEqual([]);
    expect(response.requirements?.resources.backend).toStrictEqual(backend);
    expect(response.requirements?.resources.databases).toStrictEqual({
      apiVersion: 'database.pgplane.io/v1alpha1',
      kind: 'PostgresDatabase',
      matchLabels: { labels: {} },
      ...list,
    });
    expect(response.conditions).toContainEqual(
      expect.objectContaining({
        type: 'BackendReady',
        status: Status.STATUS_CONDITION_FALSE,
        reason: 'Waiting',
      }),
    );
  });
});

describe('one name, one tenant: the older claim keeps it, the newer is refused naming both', () => {
  const second = readSingleObject('examples/database-name-conflict/xr.yaml');
  const required = readObjects('examples/database-name-conflict/required');

  it("refuses team-b's second claim to team-a's database and owner", () => {
    const rendered = renderDatabase(second, required);
    const message = refused(rendered);
    expect(rendered.reason).toBe('NameConflict');
    expect(message).toContain('PostgresDatabase team-b/checkout is refused');
    expect(message).toContain(
      'spec.databaseName "orders" is already the database of PostgresDatabase team-a/orders, which was there first on ClusterProviderConfig rds-main',
    );
    expect(message).toContain(
      'spec.databaseOwner "orders_owner" is already the owner role of PostgresDatabase team-a/orders',
    );
  });

  it('leaves the older claim untouched', () => {
    const older = required.find((o) => getString(o, 'metadata', 'name') === 'orders')!;
    expect(renderDatabase(older, required).fatal).toBeUndefined();
  });

  it('compares every role, derived names included', () => {
    const clash = withSpec(second, {
      databaseName: 'checkout',
      databaseOwner: 'checkout_owner',
      roles: { runtime: 'orders_rw' },
    });
    expect(refused(renderDatabase(clash, required))).toContain(
      'spec.roles.runtime "orders_rw" is already the runtime role of PostgresDatabase team-a/orders',
    );
  });

  it('breaks a tie in creation time by namespace/name, so both sides agree who is first', () => {
    const at = { creationTimestamp: '2026-12-01T09:00:00Z' };
    const tied = required.map((o) => ({ ...o, metadata: { ...(o.metadata as JsonObject), ...at } }));
    const [orders, checkout] = [tied[0]!, tied[1]!];
    expect(renderDatabase(orders, tied).fatal).toBeUndefined();
    expect(renderDatabase(checkout, tied).reason).toBe('NameConflict');
  });

  it('ignores claims on another server', () => {
    const elsewhere = required.map((o) =>
      getString(o, 'metadata', 'name') === 'orders'
        ? { ...o, spec: { ...(o.spec as JsonObject), server: { name: 'rds-other' } } }
        : o,
    );
    expect(renderDatabase(second, elsewhere).fatal).toBeUndefined();
  });
});

describe("a tenant cannot take the shared instance's own database or roles", () => {
  it.each([
    [
      { databaseName: 'platform' },
      'spec.databaseName "platform" is the database of the shared PostgresInstance databases/shared itself',
    ],
    [
      { databaseOwner: 'platform_owner' },
      'spec.databaseOwner "platform_owner" is the owner role of the shared PostgresInstance databases/shared itself',
    ],
    [
      { roles: { runtime: 'platform_rw' } },
      'spec.roles.runtime "platform_rw" is the runtime role of the shared PostgresInstance',
    ],
    [
      { access: [{ role: 'platform_ro' }] },
      'spec.access[0].role "platform_ro" is the read-only role of the shared PostgresInstance',
    ],
  ])('%j', (spec, expected) => {
    const rendered = renderDatabase(withSpec(onInstanceXr, spec), onInstanceRequired);
    expect(refused(rendered)).toContain(expected);
    expect(rendered.reason).toBe('NameConflict');
  });

  it('nor its name, which prefixes what both compose', () => {
    const namesake = withSpec(onInstanceXr, {}, { name: 'shared', uid: 'another' });
    expect(refused(renderDatabase(namesake, onInstanceRequired))).toContain(
      'metadata.name "shared" is the name of the shared PostgresInstance databases/shared itself',
    );
  });

  it('nor a reserved role, refused before anything is read', () => {
    const rendered = renderDatabase(
      withSpec(onInstanceXr, { databaseOwner: 'postgres' }),
      onInstanceRequired,
    );
    expect(refused(rendered)).toContain('spec.databaseOwner');
    expect(rendered.reason).toBe('InvalidSpec');
  });
});

describe('the Composition decides what the XR is, never its kind', () => {
  it('serves a PostgresDatabase under a group and kind of the platform’s own', () => {
    const own = { ...onServerXr, apiVersion: 'database.example.org/v1', kind: 'TeamDatabase' };
    const required = onServerRequired.map((o) =>
      o.kind === 'PostgresDatabase'
        ? { ...o, apiVersion: 'database.example.org/v1', kind: 'TeamDatabase' }
        : o,
    );
    const rendered = renderDatabase(own, required);
    expect(rendered.fatal).toBeUndefined();
    expect(rendered.requirements.databases).toMatchObject({
      apiVersion: 'database.example.org/v1',
      kind: 'TeamDatabase',
    });
  });

  it('refuses both backends at once, naming the field', () => {
    const both = withSpec(onInstanceXr, { server: { name: 'rds-main' } });
    expect(refused(renderDatabase(both, onInstanceRequired))).toContain(
      'spec.server {"name":"rds-main"} cannot be set together with instanceRef',
    );
  });
});

describe('the legacy claim form (a cluster-scoped XPostgresDatabase behind a claim)', () => {
  const legacyInput = inputFrom(readSingleObject('apis/legacy/composition-database.yaml'));
  const legacyXr = readSingleObject('examples/database-on-server/xr-legacy.yaml');
  const call = (xr: JsonObject, answered: Record<string, JsonObject[]> = {}) =>
    runFunction(buildRequest({ xr, input: legacyInput }, answered), undefined, NOW);

  it("composes into the claim's namespace, named after the claim, with Grants that orphan and no Usages", () => {
    const rendered = renderDatabase(legacyXr, [registeredServer], { input: legacyInput });
    expect(rendered.fatal).toBeUndefined();
    const composed = resources(rendered);
    expect(Object.keys(composed).filter((k) => k.startsWith('usage-'))).toEqual([]);
    expect(composed['role-owner']).toMatchObject({ metadata: { name: 'orders-owner', namespace: 'team-a' } });
    expect(getPath(composed['grant-public'], 'spec', 'deletionPolicy')).toBe('Orphan');
    // Crossplane v1 writes these to the claim's connection Secret; the password never reaches pgplane.
    expect(Object.keys(rendered.response.desired?.composite?.connectionDetails ?? {}).sort()).toEqual(
      ['database', 'endpoint', 'port', 'sslmode', 'username'].sort(),
    );
  });

  it("finds a shared legacy instance and the claims that share it by their claims' labels", () => {
    const onInstance = {
      ...legacyXr,
      spec: { ...(legacyXr.spec as JsonObject), server: undefined, instanceRef: { name: 'shared' } },
    };
    const response = call(onInstance);
    expect(response.requirements?.resources.backend).toStrictEqual({
      apiVersion: 'database.pgplane.io/v1alpha1',
      kind: 'XPostgresInstance',
      matchLabels: {
        labels: { 'crossplane.io/claim-name': 'shared', 'crossplane.io/claim-namespace': 'team-a' },
      },
    });
    expect(response.requirements?.resources.databases).toStrictEqual({
      apiVersion: 'database.pgplane.io/v1alpha1',
      kind: 'XPostgresDatabase',
      matchLabels: { labels: { 'crossplane.io/claim-namespace': 'team-a' } },
    });
    const legacyInstance = {
      apiVersion: 'database.pgplane.io/v1alpha1',
      kind: 'XPostgresInstance',
      metadata: {
        name: 'shared-x8k2p',
        labels: { 'crossplane.io/claim-name': 'shared', 'crossplane.io/claim-namespace': 'team-a' },
      },
      spec: { ...(sharedInstance.spec as JsonObject), claimRef: { name: 'shared', namespace: 'team-a' } },
    };
    const composed = call(onInstance, { backend: [legacyInstance], databases: [] }).desired?.resources ?? {};
    expect(getPath(composed['role-owner']?.resource, 'spec', 'cluster')).toEqual({ name: 'shared' });
  });

  it('refuses a claim to names an older claim holds, naming both claims', () => {
    const older = {
      ...legacyXr,
      metadata: {
        name: 'billing-2hd8s',
        creationTimestamp: '2026-11-01T00:00:00Z',
        labels: { 'crossplane.io/claim-name': 'billing', 'crossplane.io/claim-namespace': 'team-b' },
      },
      spec: { ...(legacyXr.spec as JsonObject), claimRef: { name: 'billing', namespace: 'team-b' } },
    };
    const rendered = renderDatabase(legacyXr, [registeredServer, older, legacyXr], { input: legacyInput });
    expect(rendered.reason).toBe('NameConflict');
    expect(rendered.fatal).toContain(
      'PostgresDatabase team-a/orders (XPostgresDatabase orders-9f3kd) is refused',
    );
    expect(rendered.fatal).toContain('is already the database of PostgresDatabase team-b/billing');
  });
});

describe('whatever names a tenant picks, none of another tenant or the instance is ever composed', () => {
  // The instance holds platform / platform_owner, _rw, _ro; the older claim billing / billing_owner, _rw, _ro.
  const taken = {
    databases: new Set(['platform', 'billing']),
    roles: new Set([
      'platform_owner',
      'platform_rw',
      'platform_ro',
      'billing_owner',
      'billing_rw',
      'billing_ro',
    ]),
  };
  const pool = ['orders', 'platform', 'billing', 'orders_owner', 'platform_owner', 'billing_owner'];
  const rolePool = [...pool, 'orders_rw', 'platform_rw', 'billing_ro', 'reporting'];
  const spec = fc.record(
    {
      databaseName: fc.constantFrom(...pool),
      databaseOwner: fc.constantFrom(...rolePool),
      roles: fc.record(
        { runtime: fc.constantFrom(...rolePool), readOnly: fc.constantFrom(...rolePool) },
        { requiredKeys: [] },
      ),
      access: fc.uniqueArray(
        fc.constantFrom(...rolePool).map((role) => ({ role })),
        {
          maxLength: 2,
          selector: (entry) => entry.role,
        },
      ),
    },
    { requiredKeys: ['databaseName', 'databaseOwner'] },
  );

  it('composes only unclaimed names, and refuses a clash as NameConflict', () => {
    fc.assert(
      fc.property(spec, (asked) => {
        const xr = {
          ...onInstanceXr,
          spec: { instanceRef: { name: 'shared' }, credentials: { source: 'Generated' }, ...asked },
        };
        const rendered = renderDatabase(xr, onInstanceRequired);
        const mine = [
          asked.databaseOwner,
          asked.roles?.runtime ?? `${asked.databaseName}_rw`,
          asked.roles?.readOnly ?? `${asked.databaseName}_ro`,
          ...(asked.access ?? []).map((a) => a.role),
        ];
        const clash = taken.databases.has(asked.databaseName) || mine.some((role) => taken.roles.has(role));
        if (rendered.reason === 'InvalidSpec') return; // e.g. one role named twice within the claim
        expect(rendered.reason === 'NameConflict', JSON.stringify(asked)).toBe(clash);
        if (rendered.fatal) return;
        const composed = Object.values(resources(rendered));
        for (const object of composed) {
          if (object.kind === 'DatabaseRole')
            expect(taken.roles.has(getString(object, 'spec', 'name') ?? '')).toBe(false);
          if (object.kind === 'Database')
            expect(taken.databases.has(getString(object, 'spec', 'name') ?? '')).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("a tenant cannot read another tenant's password through pgplane", () => {
  const secret = (name: string, username: string, password: string): JsonObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/basic-auth',
    metadata: { name, namespace: 'databases' },
    data: {
      username: Buffer.from(username).toString('base64'),
      password: Buffer.from(password).toString('base64'),
    },
  });
  const ownSecrets = [
    secret('orders-credentials', 'orders_owner', 'orders-owner-password-1234567890'),
    secret('orders-runtime-credentials', 'orders_rw', 'orders-runtime-password-123456789'),
    secret('orders-readonly-credentials', 'orders_ro', 'orders-readonly-password-12345678'),
  ];
  const billing = secret('billing-credentials', 'billing_owner', 'billing-owner-password-123456789');

  it('refuses a credentials Secret of another role, and never says its password', () => {
    const xr = withSpec(onInstanceXr, {
      credentials: { source: 'Secret' },
      credentialsSecretName: 'billing-credentials',
    });
    const rendered = renderDatabase(xr, [...onInstanceRequired, ...ownSecrets, billing]);
    expect(refused(rendered)).toContain(
      'the credentials Secret databases/billing-credentials (spec.credentialsSecretName) is for role "billing_owner", not "orders_owner"',
    );
    expect(rendered.reason).toBe('CredentialsConflict');
    expect(JSON.stringify(rendered.response)).not.toContain('billing-owner-password');
  });

  it("refuses, in generated mode too, a credentials Secret another tenant's XR composed", () => {
    const xr = withSpec(onInstanceXr, { credentialsSecretName: 'billing-credentials' });
    const theirs = {
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: {
        name: 'billing-credentials',
        namespace: 'databases',
        labels: { 'crossplane.io/composite': 'billing' },
      },
    };
    const rendered = renderDatabase(xr, [...onInstanceRequired, theirs, billing]);
    expect(refused(rendered)).toContain('billing-credentials');
    expect(rendered.reason).toBe('CredentialsConflict');
    expect(JSON.stringify(rendered.response)).not.toContain('billing-owner-password');
  });

  it("composes the connection Secrets from the tenant's own Secrets", () => {
    const xr = withSpec(onInstanceXr, { credentials: { source: 'Secret' } });
    const rendered = renderDatabase(xr, [...onInstanceRequired, ...ownSecrets, billing]);
    expect(rendered.fatal).toBeUndefined();
    expect(resources(rendered).connection).toMatchObject({
      kind: 'Secret',
      metadata: { name: 'orders-connection' },
    });
  });
});
