// Whole-response tests: for every example and observed state, the complete RunFunctionResponse is
// compared with the reviewed expectation in __expected__/. Then the behaviour each example exists
// to show is asserted explicitly, so a reviewer need not read YAML to know it holds.
import {
  Ready,
  RunFunctionResponse,
  Severity,
  Status,
  Target,
} from '@crossplane-org/function-sdk-typescript';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest, render } from '../../src/render/render.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';

const cases = exampleCases();

function desired(response: RunFunctionResponse, key: string): JsonObject {
  const resource = response.desired?.resources[key]?.resource as JsonObject | undefined;
  if (!resource)
    throw new Error(
      `no desired resource "${key}"; have: ${Object.keys(response.desired?.resources ?? {}).join(', ')}`,
    );
  return resource;
}

function conditionOf(response: RunFunctionResponse, type: string) {
  return response.conditions.find((c) => c.type === type);
}

describe('every example renders to its reviewed response', () => {
  it('finds the examples', () => {
    expect(cases.map((c) => c.id)).toEqual(
      expect.arrayContaining(['agent-executor/xr', 'agent-executor/xr@ready', 'invalid/xr']),
    );
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (id, example) => {
    const { response } = render(example.request);
    const text = stringify(RunFunctionResponse.toJSON(response), { lineWidth: 0, sortMapEntries: true });
    await expect(text).toMatchFileSnapshot(`__expected__/${id.replace(/[/@]/g, '_')}.yaml`);
  });
});

const byId = (id: string) => {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no example ${id}`);
  return render(found.request).response;
};

describe('the published agent-executor claim', () => {
  const response = byId('agent-executor/xr');
  const cluster = desired(response, 'cluster');

  it('becomes a medium CNPG Cluster running PostgreSQL 16 on 20Gi', () => {
    expect(cluster).toMatchObject({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: 'agent-executor', namespace: 'databases' },
      spec: {
        instances: 1,
        imageCatalogRef: {
          apiGroup: 'postgresql.cnpg.io',
          kind: 'ClusterImageCatalog',
          name: 'postgresql',
          major: 16,
        },
        storage: { size: '20Gi' },
        resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2000m', memory: '2Gi' } },
        enableSuperuserAccess: false,
      },
    });
  });

  it('bootstraps the owner and database from the credentials Secret', () => {
    expect(getPath(cluster, 'spec', 'bootstrap', 'initdb')).toMatchObject({
      database: 'agent_executor_db_prod',
      owner: 'agent_executor',
      secret: { name: 'agent-executor-db-credentials' },
    });
  });

  it('refuses plain-text connections and stores SCRAM hashes', () => {
    expect(getPath(cluster, 'spec', 'postgresql', 'pg_hba')).toEqual(['hostnossl all all all reject']);
    expect(getPath(cluster, 'spec', 'postgresql', 'parameters', 'password_encryption')).toBe('scram-sha-256');
  });

  it('sizes memory settings from the 2Gi limit', () => {
    expect(getPath(cluster, 'spec', 'postgresql', 'parameters')).toMatchObject({
      shared_buffers: '512MB',
      effective_cache_size: '1536MB',
      max_connections: '200',
    });
  });

  it('gets the owner password from the secret store, with the username pinned to the owner', () => {
    const externalSecret = desired(response, 'credentials');
    expect(externalSecret).toMatchObject({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name: 'agent-executor-db-credentials', namespace: 'databases' },
      spec: {
        secretStoreRef: { name: 'platform-secrets', kind: 'ClusterSecretStore' },
        target: {
          name: 'agent-executor-db-credentials',
          template: {
            type: 'kubernetes.io/basic-auth',
            metadata: { labels: { 'cnpg.io/reload': 'true' } },
            data: { username: 'agent_executor', password: '{{ .password }}' },
          },
        },
        data: [
          {
            secretKey: 'password',
            remoteRef: { key: 'postgres/databases/agent-executor', property: 'password' },
          },
        ],
      },
    });
  });

  it('publishes the connection Secret through External Secrets, as the runtime role, so no password passes through Crossplane', () => {
    const connection = desired(response, 'connection');
    expect(connection).toMatchObject({
      kind: 'ExternalSecret',
      spec: {
        target: {
          name: 'agent-executor-postgres',
          template: {
            data: {
              endpoint: 'agent-executor-rw.databases.svc.cluster.local',
              port: '5432',
              database: 'agent_executor_db_prod',
              username: 'agent_executor_db_prod_rw',
              password: '{{ .password }}',
            },
          },
        },
        data: [
          {
            secretKey: 'password',
            remoteRef: { key: 'postgres/databases/agent-executor', property: 'runtime-password' },
          },
        ],
      },
    });
    expect(desired(response, 'connection-owner')).toMatchObject({
      spec: {
        target: { name: 'agent-executor-postgres-owner', template: { data: { username: 'agent_executor' } } },
      },
    });
    expect(JSON.stringify(RunFunctionResponse.toJSON(response))).not.toMatch(
      /example-only|not-a-real-password/,
    );
  });

  it('reports where to connect before anything is ready, and asks to be called again soon', () => {
    expect(response.desired?.composite?.resource).toMatchObject({
      status: {
        endpoint: 'agent-executor-rw.databases.svc.cluster.local',
        port: 5432,
        phase: 'Pending',
        connectionSecretName: 'agent-executor-postgres',
      },
    });
    expect(response.meta?.ttl).toEqual({ seconds: 15, nanos: 0 });
  });
});

describe('readiness and status follow the observed resources', () => {
  it('marks everything ready once CNPG and External Secrets report Ready', () => {
    const response = byId('agent-executor/xr@ready');
    for (const key of ['cluster', 'credentials', 'connection'])
      expect(response.desired?.resources[key]?.ready).toBe(Ready.READY_TRUE);
    expect(response.desired?.composite?.resource).toMatchObject({
      status: { phase: 'Cluster in healthy state', readyInstances: 1, instances: 1, version: '16' },
    });
  });

  it('keeps the Cluster not ready while CNPG is setting up the primary, and says why', () => {
    const response = byId('agent-executor/xr@provisioning');
    expect(response.desired?.resources.cluster?.ready).toBe(Ready.READY_FALSE);
    expect(conditionOf(response, 'ClusterReady')?.message).toContain('Setting up primary');
  });

  it('treats a hibernated cluster as ready: nothing to wait for', () => {
    const response = byId('hibernated/xr@hibernated');
    expect(response.desired?.resources.cluster?.ready).toBe(Ready.READY_TRUE);
    expect(desired(response, 'cluster')).toMatchObject({
      metadata: { annotations: { 'cnpg.io/hibernation': 'on' } },
    });
    expect(response.desired?.composite?.resource).toMatchObject({ status: { phase: 'Hibernated' } });
  });

  it('surfaces a secret store that cannot deliver the password on the XR and claim', () => {
    const response = byId('secret-store-failing/xr@failing');
    const condition = conditionOf(response, 'CredentialsReady');
    expect(condition?.status).toBe(Status.STATUS_CONDITION_FALSE);
    expect(condition?.message).toContain('key "finance/billing/postgres" not found');
    expect(condition?.target).toBe(Target.TARGET_COMPOSITE_AND_CLAIM);
  });

  it('reports a degraded HA cluster with its ready count', () => {
    const response = byId('ha/xr@degraded');
    expect(response.desired?.composite?.resource).toMatchObject({
      status: { readyInstances: 2, instances: 3 },
    });
    expect(desired(response, 'cluster')).toMatchObject({
      spec: {
        instances: 3,
        walStorage: { size: '20Gi', storageClass: 'fast-ssd' },
        affinity: { enablePodAntiAffinity: true },
      },
    });
  });
});

describe('existing credentials Secret (no secret store)', () => {
  const example = cases.find((c) => c.id === 'existing-secret/xr')!;

  it('asks Crossplane for the Secret, then composes the connection Secret from it', () => {
    const first = runFunction(buildRequest({ ...example.request, required: [] }));
    expect(first.requirements?.resources['credentials-secret']).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      matchName: 'inventory-owner',
      namespace: 'warehouse',
    });
    expect(first.desired?.resources.connection).toBeUndefined();
    expect(conditionOf(first, 'CredentialsReady')?.message).toContain(
      'kubectl -n warehouse create secret generic inventory-owner',
    );

    const { response } = render(example.request);
    const secret = desired(response, 'connection');
    const data = getPath(secret, 'data') as Record<string, string>;
    const decoded = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(decoded).toMatchObject({
      endpoint: 'inventory-rw.warehouse.svc.cluster.local',
      port: '5432',
      database: 'inventory',
      username: 'inventory_rw',
      password: 'runtime-example-only',
      sslmode: 'require',
    });
    expect(first.requirements?.resources['credentials-secret-runtime']).toMatchObject({
      matchName: 'inventory-runtime-credentials',
    });
    expect(response.desired?.resources.credentials).toBeUndefined();
  });

  it('never puts the password in results, conditions or status', () => {
    const { response } = render(example.request);
    const visible = JSON.stringify({
      results: response.results,
      conditions: response.conditions,
      xr: response.desired?.composite,
    });
    expect(visible).not.toMatch(/example-only/);
  });

  it('keeps an existing connection Secret when the credentials Secret is briefly unreadable', () => {
    const { response: withSecret } = render(example.request);
    const existing = { ...desired(withSecret, 'connection') };
    (existing.metadata as JsonObject).annotations = {
      'crossplane.io/composition-resource-name': 'connection',
    };
    const response = runFunction(buildRequest({ ...example.request, observed: [existing], required: [] }));
    expect(desired(response, 'connection')).toMatchObject({
      kind: 'Secret',
      data: getPath(existing, 'data'),
    });
  });
});

describe('legacy XR behind a claim', () => {
  it('names objects after the claim, places them in its namespace and returns connection details', () => {
    const response = byId('agent-executor/xr-legacy');
    expect(desired(response, 'cluster')).toMatchObject({
      metadata: { name: 'agent-executor', namespace: 'databases' },
    });
    const details = response.desired?.composite?.connectionDetails ?? {};
    expect(Object.fromEntries(Object.entries(details).map(([k, v]) => [k, v.toString()]))).toMatchObject({
      endpoint: 'agent-executor-rw.databases.svc.cluster.local',
      port: '5432',
      database: 'agent_executor_db_prod',
      username: 'agent_executor_db_prod_rw',
    });
  });
});

describe('invalid claims', () => {
  it('fail with one fatal result naming each bad field, the XR and a correct example, and compose nothing', () => {
    const response = byId('invalid/xr');
    const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
    expect(fatal).toHaveLength(1);
    const message = fatal[0]!.message;
    expect(message).toContain('PostgresInstance databases/broken is invalid');
    expect(message).toContain('spec.databaseOwner "1-app-owner" must start with a letter or underscore');
    expect(message).toContain('Example: databaseOwner: agent_executor');
    expect(message).toContain('spec.storageGB must be at least 1, got 0. Example: storageGB: 20');
    expect(response.desired?.resources).toEqual({});
    expect(conditionOf(response, 'SpecValid')).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'InvalidSpec',
      message,
    });
  });

  it('keep what earlier pipeline steps desired', () => {
    const example = cases.find((c) => c.id === 'invalid/xr')!;
    const request = buildRequest(example.request);
    request.desired = {
      composite: undefined,
      resources: { other: { resource: { kind: 'ConfigMap' }, connectionDetails: {}, ready: 0 } },
    };
    expect(Object.keys(runFunction(request).desired?.resources ?? {})).toEqual(['other']);
  });
});

describe('PostgresDatabase examples', () => {
  it('database-on-instance: composes its database and roles on the shared instance, ready once CNPG has applied them', () => {
    const response = byId('database-on-instance/xr@ready');
    expect(desired(response, 'database')).toMatchObject({
      kind: 'Database',
      spec: { cluster: { name: 'shared' }, name: 'orders', owner: 'orders_owner' },
    });
    expect(Object.values(response.desired?.resources ?? {}).every((r) => r.ready === Ready.READY_TRUE)).toBe(
      true,
    );
    expect(response.conditions.every((c) => c.status === Status.STATUS_CONDITION_TRUE)).toBe(true);
    expect(response.meta?.ttl).toEqual({ seconds: 60, nanos: 0 });
  });

  it('database-on-server: creates the roles and database through the registered server', () => {
    const response = byId('database-on-server/xr');
    expect(desired(response, 'database')).toMatchObject({
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'Database',
      spec: { providerConfigRef: { kind: 'ClusterProviderConfig', name: 'rds-main' } },
    });
    expect(getPath(desired(response, 'grant-public'), 'spec', 'forProvider', 'databasePrivileges')).toEqual(
      [],
    );
  });

  it("database-name-conflict: the second claim to team-a's names is refused, naming both XRs and the fields", () => {
    const response = byId('database-name-conflict/xr');
    const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.reason).toBe('NameConflict');
    expect(fatal[0]!.message).toContain('PostgresDatabase team-b/checkout is refused');
    expect(fatal[0]!.message).toContain(
      'spec.databaseName "orders" is already the database of PostgresDatabase team-a/orders',
    );
    expect(response.desired?.resources).toEqual({});
    expect(conditionOf(response, 'BackendReady')?.status).toBe(Status.STATUS_CONDITION_FALSE);
  });

  it('invalid-database: one fatal result naming each bad field, the XR and a correct example', () => {
    const response = byId('invalid-database/xr');
    const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.message).toContain('PostgresDatabase team-a/broken is invalid');
    expect(fatal[0]!.message).toContain('spec.databaseOwner "1-orders-owner" must start with a letter');
    expect(fatal[0]!.message).toContain(
      'spec.extensions is not offered on a registered server (spec.server) yet',
    );
    expect(fatal[0]!.message).toContain('Example: spec: {server: {name: rds-main}');
    expect(response.desired?.resources).toEqual({});
  });
});
