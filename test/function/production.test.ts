// What a production PostgresInstance composes from a few lines of the XR (issue 6): least-privilege
// roles and their Grants, pooling, backups, monitoring, network policy, schemas and extensions.
import { Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest, render } from '../../src/render/render.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';

const cases = exampleCases();
const responseOf = (id: string): RunFunctionResponse => {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no example ${id}`);
  return render(found.request).response;
};
const desired = (response: RunFunctionResponse, key: string): JsonObject => {
  const resource = response.desired?.resources[key]?.resource as JsonObject | undefined;
  if (!resource)
    throw new Error(`no desired "${key}"; have ${Object.keys(response.desired?.resources ?? {}).join(', ')}`);
  return resource;
};

describe('least-privilege roles by default', () => {
  const response = responseOf('agent-executor/xr');

  it('creates a runtime and a read-only role through CNPG managed roles, with their own Secrets', () => {
    expect(getPath(desired(response, 'cluster'), 'spec', 'managed', 'roles')).toEqual([
      expect.objectContaining({
        name: 'agent_executor_db_prod_rw',
        login: true,
        superuser: false,
        createdb: false,
        createrole: false,
        passwordSecret: { name: 'agent-executor-runtime-credentials' },
      }),
      expect.objectContaining({
        name: 'agent_executor_db_prod_ro',
        login: true,
        passwordSecret: { name: 'agent-executor-readonly-credentials' },
      }),
    ]);
    expect(desired(response, 'credentials-runtime')).toMatchObject({
      spec: {
        target: {
          template: { type: 'kubernetes.io/basic-auth', data: { username: 'agent_executor_db_prod_rw' } },
        },
      },
    });
  });

  it('grants the runtime role DML on all tables and sequences, now and in the future, and no DDL', () => {
    expect(getPath(desired(response, 'grant-runtime'), 'spec')).toEqual({
      forProvider: {
        database: 'agent_executor_db_prod',
        mode: 'authoritative',
        grantee: 'agent_executor_db_prod_rw',
        databasePrivileges: ['CONNECT', 'TEMPORARY'],
        schemas: [{ name: 'public', privileges: ['USAGE'] }],
        tables: [
          {
            schema: 'public',
            objects: ['*'],
            privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
            defaultPrivilegesFor: ['agent_executor'],
          },
        ],
        sequences: [
          {
            schema: 'public',
            objects: ['*'],
            privileges: ['USAGE', 'SELECT', 'UPDATE'],
            defaultPrivilegesFor: ['agent_executor'],
          },
        ],
      },
      providerConfigRef: { name: 'agent-executor', kind: 'ProviderConfig' },
      deletionPolicy: 'Delete',
    });
    expect(getPath(desired(response, 'grant-readonly'), 'spec', 'forProvider', 'tables')).toEqual([
      { schema: 'public', objects: ['*'], privileges: ['SELECT'], defaultPrivilegesFor: ['agent_executor'] },
    ]);
    expect(getPath(desired(response, 'grant-public'), 'spec', 'forProvider')).toMatchObject({
      grantee: 'PUBLIC',
      schemas: [{ name: 'public', privileges: ['USAGE'] }],
    });
  });

  it("reports a Grant the provider cannot apply on the XR, with the provider's own message", () => {
    const example = cases.find((c) => c.id === 'agent-executor/xr')!;
    const failing = {
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'Grant',
      metadata: {
        name: 'agent-executor-runtime',
        namespace: 'databases',
        annotations: { 'crossplane.io/composition-resource-name': 'grant-runtime' },
      },
      status: {
        conditions: [
          {
            type: 'Synced',
            status: 'False',
            reason: 'ReconcileError',
            message:
              'cannot connect to agent_executor@agent-executor-rw:5432/agent_executor_db_prod: connection refused',
          },
          { type: 'Ready', status: 'False', reason: 'Unavailable' },
        ],
      },
    };
    const { response: withFailure } = render({ ...example.request, observed: [failing] });
    const condition = withFailure.conditions.find((c) => c.type === 'GrantsReady');
    expect(condition?.message).toContain(
      'Grant databases/agent-executor-runtime is not ready: cannot connect to agent_executor@',
    );
    expect(condition?.message).toContain('Grant databases/agent-executor-readonly has not been created yet');
  });

  it('lets the grants provider connect as the owner, not a superuser', () => {
    expect(desired(response, 'provider-config')).toMatchObject({
      kind: 'ProviderConfig',
      spec: { cluster: 'agent-executor', connectionSecretRef: { name: 'agent-executor-db-credentials' } },
    });
  });

  it('can be turned off: the owner is then the application role, as before', () => {
    const example = cases.find((c) => c.id === 'agent-executor/xr')!;
    const xr = structuredClone(example.request.xr);
    (xr.spec as JsonObject).roles = { leastPrivilege: false };
    const { response: ownerOnly } = render({ ...example.request, xr });
    expect(Object.keys(ownerOnly.desired?.resources ?? {}).sort()).toEqual([
      'cluster',
      'connection',
      'credentials',
    ]);
    expect(getPath(desired(ownerOnly, 'connection'), 'spec', 'target', 'template', 'data', 'username')).toBe(
      'agent_executor',
    );
  });

  it('creates roles as DatabaseRole objects where the platform prefers them', () => {
    const example = cases.find((c) => c.id === 'agent-executor/xr')!;
    const { response: standalone } = render({
      ...example.request,
      input: { ...example.request.input, roleManagement: 'DatabaseRole' },
    });
    expect(getPath(desired(standalone, 'cluster'), 'spec', 'managed')).toBeUndefined();
    expect(desired(standalone, 'role-runtime')).toMatchObject({
      kind: 'DatabaseRole',
      spec: {
        cluster: { name: 'agent-executor' },
        name: 'agent_executor_db_prod_rw',
        login: true,
        databaseRoleReclaimPolicy: 'retain',
      },
    });
  });
});

describe('the production example', () => {
  const response = responseOf('production/xr');

  it('puts PgBouncer in front and points applications at it, migrations straight at the primary', () => {
    expect(desired(response, 'pooler')).toMatchObject({
      kind: 'Pooler',
      metadata: { name: 'checkout-pooler-rw' },
      spec: {
        cluster: { name: 'checkout' },
        type: 'rw',
        instances: 2,
        pgbouncer: { poolMode: 'transaction', parameters: { default_pool_size: '20' } },
      },
    });
    expect(getPath(desired(response, 'connection'), 'spec', 'target', 'template', 'data', 'endpoint')).toBe(
      'checkout-pooler-rw.shop.svc.cluster.local',
    );
    expect(
      getPath(desired(response, 'connection-owner'), 'spec', 'target', 'template', 'data', 'endpoint'),
    ).toBe('checkout-rw.shop.svc.cluster.local');
    expect(response.desired?.composite?.resource).toMatchObject({
      status: { endpoint: 'checkout-pooler-rw.shop.svc.cluster.local' },
    });
  });

  it('archives WAL through the Barman Cloud plugin and takes scheduled base backups', () => {
    expect(desired(response, 'object-store')).toMatchObject({
      kind: 'ObjectStore',
      spec: {
        retentionPolicy: '14d',
        configuration: {
          destinationPath: 's3://pgplane-backups/shop/checkout',
          s3Credentials: { inheritFromIAMRole: true },
        },
      },
    });
    expect(getPath(desired(response, 'cluster'), 'spec', 'plugins')).toEqual([
      {
        name: 'barman-cloud.cloudnative-pg.io',
        isWALArchiver: true,
        parameters: { barmanObjectName: 'checkout-backup' },
      },
    ]);
    expect(desired(response, 'scheduled-backup')).toMatchObject({
      spec: {
        schedule: '0 30 2 * * *',
        method: 'plugin',
        pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
        cluster: { name: 'checkout' },
      },
    });
  });

  it('monitors the instances and alerts on the essentials', () => {
    expect(desired(response, 'pod-monitor')).toMatchObject({
      spec: {
        selector: { matchLabels: { 'cnpg.io/cluster': 'checkout' } },
        podMetricsEndpoints: [{ port: 'metrics' }],
      },
    });
    const rules = getPath(desired(response, 'prometheus-rule'), 'spec', 'groups') as {
      rules: { alert: string }[];
    }[];
    expect(rules[0]!.rules.map((r) => r.alert)).toEqual([
      'PostgresInstanceDown',
      'PostgresReplicationLagHigh',
      'PostgresStorageAlmostFull',
      'PostgresBackupFailing',
    ]);
  });

  it('admits only the listed clients, the operator, Prometheus, the pooler and its own replicas', () => {
    const ingress = getPath(desired(response, 'network-policy'), 'spec', 'ingress') as JsonObject[];
    expect(JSON.stringify(ingress)).toContain('"kubernetes.io/metadata.name":"checkout-workers"');
    expect(JSON.stringify(ingress)).toContain('"app.kubernetes.io/name":"checkout-api"');
    expect(JSON.stringify(ingress)).toContain('"kubernetes.io/metadata.name":"cnpg-system"');
    expect(JSON.stringify(ingress)).toContain('"cnpg.io/poolerName":"checkout-pooler-rw"');
  });

  it('creates schemas and extensions through a CNPG Database that never drops data', () => {
    expect(desired(response, 'database')).toMatchObject({
      spec: {
        name: 'checkout',
        owner: 'checkout_owner',
        databaseReclaimPolicy: 'retain',
        schemas: [{ name: 'analytics', owner: 'checkout_owner', ensure: 'present' }],
        extensions: [
          { name: 'pg_stat_statements', ensure: 'present' },
          { name: 'pgcrypto', ensure: 'present' },
        ],
      },
    });
    expect(getPath(desired(response, 'cluster'), 'spec', 'postgresql', 'parameters')).toMatchObject({
      log_min_duration_statement: '500ms',
      'pg_stat_statements.max': '10000',
    });
  });

  it('gives the extra reporting role exactly what the claim declares, and covers the new schema for the default roles', () => {
    expect(getPath(desired(response, 'grant-access-reporting'), 'spec', 'forProvider')).toEqual({
      database: 'checkout',
      mode: 'authoritative',
      grantee: 'reporting',
      databasePrivileges: ['CONNECT'],
      schemas: [{ name: 'analytics', privileges: ['USAGE'] }],
      tables: [{ schema: 'analytics', objects: ['*'], privileges: ['SELECT'] }],
    });
    expect(getPath(desired(response, 'grant-runtime'), 'spec', 'forProvider', 'schemas')).toEqual([
      { name: 'public', privileges: ['USAGE'] },
      { name: 'analytics', privileges: ['USAGE'] },
    ]);
  });

  it('places pods on the database nodes the production Input names', () => {
    expect(getPath(desired(response, 'cluster'), 'spec', 'affinity')).toMatchObject({
      enablePodAntiAffinity: true,
      nodeSelector: { 'workload.example.com/databases': 'true' },
      tolerations: [{ key: 'workload.example.com/databases', operator: 'Exists', effect: 'NoSchedule' }],
    });
  });
});

describe('feature validation', () => {
  it('names forbidden parameters, bad cron schedules, disallowed extensions and missing backup stores at once', () => {
    const fatal = responseOf('invalid-features/xr').results.find(
      (r) => r.severity === Severity.SEVERITY_FATAL,
    )!;
    expect(fatal.message).toContain('spec.parameters.wal_level "minimal" is managed by CloudNativePG');
    expect(fatal.message).toContain(
      'spec.backup.schedule "0 3 * * *" must be a six-field cron expression, seconds first',
    );
  });

  const base = cases.find((c) => c.id === 'minimal/xr')!;
  const withSpec = (extra: JsonObject, input?: JsonObject) =>
    runFunction(
      buildRequest({
        ...base.request,
        xr: { ...base.request.xr, spec: { ...(base.request.xr.spec as JsonObject), ...extra } },
        ...(input ? { input } : {}),
      }),
    );

  it.each([
    [
      { extensions: ['plpython3u'] },
      'spec.extensions[0] is "plpython3u", which this platform does not allow',
    ],
    [
      { parameters: { password_encryption: 'md5' } },
      'spec.parameters.password_encryption "md5" pgplane stores passwords as SCRAM-SHA-256 only',
    ],
    [{ backup: {} }, 'spec.backup is set, but this platform has not configured an object store'],
    [{ access: [{ role: 'orders_owner' }] }, 'names role "orders_owner" twice'],
    [
      {
        access: [
          { role: 'reporting', tables: [{ schema: 'x', objects: ['*', 'a'], privileges: ['SELECT'] }] },
        ],
      },
      'spec.access[0].tables[0].objects ["*","a"] mixes "*" with names',
    ],
    [{ roles: { runtime: 'postgres' } }, 'spec.roles.runtime "postgres" is a reserved role name'],
  ])('%j', (extra, expected) => {
    const message = withSpec(extra).results[0]?.message ?? '';
    expect(message).toContain(expected);
  });
});
