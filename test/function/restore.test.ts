// Restore and clone (issue 13, item 1): an instance created from another instance's backups
// through CloudNativePG recovery and the Barman Cloud plugin, what it asks Crossplane for, what it
// archives to, what its status says, and every way it is refused.
import { Ready, Severity, Status, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest, render, type RenderRequest } from '../../src/render/render.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';

const cases = exampleCases();
const example = (id: string): RenderRequest => {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no example ${id}`);
  return structuredClone(found.request);
};

const desired = (response: RunFunctionResponse, key: string): JsonObject => {
  const resource = response.desired?.resources[key]?.resource as JsonObject | undefined;
  if (!resource)
    throw new Error(`no desired "${key}"; have ${Object.keys(response.desired?.resources ?? {}).join(', ')}`);
  return resource;
};
const fatalOf = (response: RunFunctionResponse) =>
  response.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message;
const condition = (response: RunFunctionResponse, type: string) =>
  response.conditions.find((c) => c.type === type);
const status = (response: RunFunctionResponse) =>
  getPath(response.desired?.composite?.resource, 'status') as JsonObject;

/** The restore example with its spec.restore replaced. */
function withRestore(restore: JsonObject, id = 'restore/xr'): RenderRequest {
  const request = example(id);
  (request.xr.spec as JsonObject).restore = restore;
  return request;
}

const sourceCluster = () => example('restore/xr').required!.find((o) => o.kind === 'Cluster')!;
const sourceObjectStore = () => example('restore/xr').required!.find((o) => o.kind === 'ObjectStore')!;

describe('a restore bootstraps a new Cluster from the source archive', () => {
  const { response } = render(example('restore/xr'));
  const cluster = desired(response, 'cluster');

  it('recovers with CNPG bootstrap.recovery to the target time, through the Barman Cloud plugin', () => {
    expect(getPath(cluster, 'spec', 'bootstrap')).toEqual({
      recovery: {
        source: 'checkout',
        database: 'checkout',
        owner: 'checkout_owner',
        secret: { name: 'checkout-restore-credentials' },
        recoveryTarget: { targetTime: '2026-11-30T14:05:00Z' },
      },
    });
    expect(getPath(cluster, 'spec', 'externalClusters')).toEqual([
      {
        name: 'checkout',
        plugin: {
          name: 'barman-cloud.cloudnative-pg.io',
          parameters: { barmanObjectName: 'checkout-backup', serverName: 'checkout' },
        },
      },
    ]);
  });

  it('archives to a location of its own, never into the source archive', () => {
    expect(getPath(desired(response, 'object-store'), 'spec', 'configuration', 'destinationPath')).toBe(
      's3://pgplane-backups/shop/checkout-restore',
    );
    expect(getPath(cluster, 'spec', 'plugins')).toEqual([
      {
        name: 'barman-cloud.cloudnative-pg.io',
        isWALArchiver: true,
        parameters: { barmanObjectName: 'checkout-restore-backup' },
      },
    ]);
  });

  it('archives a new Cluster under a folder of its own incarnation, so a re-created name finds no old archive', () => {
    const serverName = (uid: string) => {
      const request = example('restore/xr');
      (request.xr.metadata as JsonObject).uid = uid;
      const plugins = getPath(
        desired(render(request).response, 'cluster'),
        'spec',
        'plugins',
      ) as JsonObject[];
      return getPath(plugins[0], 'parameters', 'serverName');
    };
    expect(serverName('5f0c2a9e-8b1d-4c3e-9f7a-2d6b1e0c4a87')).toBe('checkout-restore-5f0c2a9e');
    expect(serverName('0b7e4d21-93aa-4f0e-8c55-6f1d2e3a4b5c')).toBe('checkout-restore-0b7e4d21');
  });

  it('keeps the folder an existing Cluster archives under, so a running archive never moves', () => {
    const request = example('restore/xr@restored');
    (request.xr.metadata as JsonObject).uid = '5f0c2a9e-8b1d-4c3e-9f7a-2d6b1e0c4a87';
    const plugins = getPath(desired(render(request).response, 'cluster'), 'spec', 'plugins') as JsonObject[];
    expect(getPath(plugins[0], 'parameters')).toEqual({ barmanObjectName: 'checkout-restore-backup' });
  });

  it('keeps the owner, database and roles, and composes the Grants as usual', () => {
    expect(getPath(cluster, 'spec', 'managed', 'roles')).toEqual([
      expect.objectContaining({ name: 'checkout_rw' }),
      expect.objectContaining({ name: 'checkout_ro' }),
    ]);
    expect(getPath(desired(response, 'grant-runtime'), 'spec', 'forProvider', 'database')).toBe('checkout');
  });

  it('records the restore on the Cluster, so a later change can be told from it', () => {
    expect(getPath(cluster, 'metadata', 'annotations', 'pgplane.io/restore')).toBe(
      '{"from":"checkout","targetTime":"2026-11-30T14:05:00Z"}',
    );
  });

  it('says what it is restoring from what to what', () => {
    expect(status(response).restore).toEqual({
      phase: 'Restoring',
      from: 'checkout',
      target: '2026-11-30T14:05:00Z',
      message:
        'restoring from PostgresInstance shop/checkout (ObjectStore checkout-backup, server checkout) to 2026-11-30T14:05:00Z',
    });
    expect(condition(response, 'Restored')).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'Restoring',
    });
  });
});

describe('what the restore asks Crossplane for', () => {
  it('composes no Cluster before Crossplane has answered: it would bootstrap empty with initdb', () => {
    const first = runFunction(buildRequest({ ...example('restore/xr'), required: [] }));
    expect(fatalOf(first)).toBeUndefined();
    expect(first.desired?.resources.cluster).toBeUndefined();
    expect(first.requirements?.resources['restore-source-cluster']).toEqual({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      matchName: 'checkout',
      namespace: 'shop',
    });
    expect(condition(first, 'ClusterReady')).toMatchObject({
      reason: 'Waiting',
      message: 'waiting to read the CloudNativePG Cluster of the restore source shop/checkout',
    });
  });

  it('then asks for the ObjectStore the source archives to, named by its Cluster', () => {
    const request = buildRequest(example('restore/xr'), { 'restore-source-cluster': [sourceCluster()] });
    const second = runFunction(request);
    expect(second.desired?.resources.cluster).toBeUndefined();
    expect(second.requirements?.resources['restore-source-object-store']).toEqual({
      apiVersion: 'barmancloud.cnpg.io/v1',
      kind: 'ObjectStore',
      matchName: 'checkout-backup',
      namespace: 'shop',
    });
  });

  it('asks for the source the same way through the legacy API, by the claim name in its namespace', () => {
    const { response } = render(example('restore/xr-legacy'));
    expect(response.requirements?.resources['restore-source-cluster']).toMatchObject({
      matchName: 'checkout',
      namespace: 'shop',
    });
    expect(getPath(desired(response, 'cluster'), 'spec', 'bootstrap', 'recovery', 'source')).toBe('checkout');
    expect(getPath(desired(response, 'cluster'), 'spec', 'plugins')).toBeUndefined();
  });
});

describe('restoring, then restored', () => {
  it('stays restoring while the recovery job runs', () => {
    const { response } = render(example('restore/xr@restoring'));
    expect(status(response).restore).toMatchObject({ phase: 'Restoring' });
    expect(response.desired?.resources.cluster?.ready).toBe(Ready.READY_FALSE);
  });

  it('is restored once the recovered primary is up, and no longer reads the source', () => {
    const { response } = render(example('restore/xr@restored'));
    expect(status(response).restore).toMatchObject({
      phase: 'Restored',
      message:
        'restored from PostgresInstance shop/checkout (ObjectStore checkout-backup, server checkout) to 2026-11-30T14:05:00Z',
    });
    expect(condition(response, 'Restored')).toMatchObject({ status: Status.STATUS_CONDITION_TRUE });
    expect(
      Object.keys(response.requirements?.resources ?? {}).filter((k) => k.startsWith('restore-')),
    ).toEqual([]);
  });

  it('keeps working after the source is deleted: the Cluster bootstrap is carried forward as CNPG has it', () => {
    const request = { ...example('restore/xr@restored'), required: [] };
    const response = runFunction(buildRequest(request));
    expect(fatalOf(response)).toBeUndefined();
    expect(getPath(desired(response, 'cluster'), 'spec', 'externalClusters')).toEqual(
      getPath(request.observed![0], 'spec', 'externalClusters'),
    );
  });

  it('stays restored when the Cluster is briefly unready later (status remembers it)', () => {
    const request = example('restore/xr@restoring');
    request.xr.status = { restore: { phase: 'Restored', from: 'checkout', target: '2026-11-30T14:05:00Z' } };
    expect(status(render(request).response).restore).toMatchObject({ phase: 'Restored' });
  });

  it('keeps the recovery bootstrap when spec.restore is removed afterwards, instead of refusing', () => {
    const request = example('restore/xr@restored');
    delete (request.xr.spec as JsonObject).restore;
    const response = render(request).response;
    expect(fatalOf(response)).toBeUndefined();
    expect(getPath(desired(response, 'cluster'), 'spec', 'bootstrap', 'recovery', 'source')).toBe('checkout');
  });
});

describe('recovery targets', () => {
  it('recovers to an LSN', () => {
    const response = render(withRestore({ from: 'checkout', targetLSN: '0/3000060' })).response;
    expect(getPath(desired(response, 'cluster'), 'spec', 'bootstrap', 'recovery', 'recoveryTarget')).toEqual({
      targetLSN: '0/3000060',
    });
    expect(status(response).restore).toMatchObject({ target: 'LSN 0/3000060' });
  });

  it('recovers to the end of the archive without a target', () => {
    const response = render(withRestore({ from: 'checkout' })).response;
    expect(getPath(desired(response, 'cluster'), 'spec', 'bootstrap', 'recovery')).not.toHaveProperty(
      'recoveryTarget',
    );
    expect(status(response).restore).toMatchObject({ target: 'the end of the archive' });
  });

  const backup = (overrides: JsonObject = {}): JsonObject => ({
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Backup',
    metadata: { name: 'checkout-daily-20261130023000', namespace: 'shop' },
    spec: { cluster: { name: 'checkout' }, method: 'plugin' },
    status: { phase: 'completed', backupId: '20261130T023012', stoppedAt: '2026-11-30T02:31:12Z' },
    ...overrides,
  });
  const fromBackup = (object?: JsonObject) => {
    const request = withRestore({ from: 'checkout', backup: 'checkout-daily-20261130023000' });
    request.required = [...(request.required ?? []), ...(object ? [object] : [])];
    return render(request).response;
  };

  it('restores exactly a named Backup and stops when it is consistent', () => {
    const response = fromBackup(backup());
    expect(response.requirements?.resources['restore-source-backup']).toMatchObject({
      kind: 'Backup',
      matchName: 'checkout-daily-20261130023000',
    });
    expect(getPath(desired(response, 'cluster'), 'spec', 'bootstrap', 'recovery', 'recoveryTarget')).toEqual({
      backupID: '20261130T023012',
      targetImmediate: true,
    });
  });

  it('refuses a Backup that is missing, of another cluster, or not completed, naming spec.restore.backup', () => {
    expect(fatalOf(fromBackup())).toContain(
      'spec.restore.backup names "checkout-daily-20261130023000", but there is no Backup shop/checkout-daily-20261130023000',
    );
    expect(fatalOf(fromBackup(backup({ spec: { cluster: { name: 'payments' } } })))).toContain(
      'is a backup of payments, not of checkout',
    );
    expect(fatalOf(fromBackup(backup({ status: { phase: 'running' } })))).toContain(
      'has not completed (phase running)',
    );
  });

  it('refuses a target time before the first recoverability point', () => {
    const response = render(withRestore({ from: 'checkout', targetTime: '2026-11-01T00:00:00Z' })).response;
    expect(fatalOf(response)).toContain(
      'spec.restore.targetTime is 2026-11-01T00:00:00Z, before the first point PostgresInstance shop/checkout can be recovered to (2026-11-16T02:30:41Z',
    );
    expect(response.desired?.resources).toEqual({});
  });
});

describe('refusals compose nothing and name the field', () => {
  const refused = (response: RunFunctionResponse) => {
    expect(response.desired?.resources).toEqual({});
    expect(condition(response, 'Restored')).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'RestoreRefused',
    });
    return fatalOf(response) ?? '';
  };

  it('a source that does not exist', () => {
    const message = refused(render(example('invalid-restore-missing-source/xr')).response);
    expect(message).toContain('PostgresInstance finance/ledger-restore is refused');
    expect(message).toContain('spec.restore.from names "ledger", but there is no PostgresInstance "ledger"');
    expect(message).toContain('Example: restore: {from: checkout}');
  });

  it('a source without backups', () => {
    expect(refused(render(example('invalid-restore-no-backups/xr')).response)).toContain(
      'PostgresInstance finance/ledger has no backups configured',
    );
  });

  it('a source without a completed base backup', () => {
    const request = example('restore/xr');
    const store = sourceObjectStore();
    store.status = {};
    request.required = [sourceCluster(), store];
    expect(refused(render(request).response)).toContain('has no completed base backup yet');
  });

  it('a CNPG Cluster that is not a pgplane instance', () => {
    const request = example('restore/xr');
    const foreign = sourceCluster();
    (foreign.metadata as JsonObject).labels = {};
    request.required = [foreign, sourceObjectStore()];
    expect(refused(render(request).response)).toContain('is not a pgplane PostgresInstance');
  });

  it('a source of another major, database or owner', () => {
    const request = example('restore/xr');
    (request.xr.spec as JsonObject).version = '16';
    expect(refused(render(request).response)).toContain(
      'runs PostgreSQL 17 and a restore cannot change the major; set version: "17" (spec.version is "16")',
    );
    const other = example('restore/xr');
    (other.xr.spec as JsonObject).databaseName = 'orders';
    expect(refused(render(other).response)).toContain(
      'set databaseName: checkout (spec.databaseName is orders)',
    );
  });

  it('a restore added to an instance that was created without one (observed Cluster, or its status)', () => {
    for (const id of ['invalid-restore-bootstrapped/xr@initialised', 'invalid-restore-bootstrapped/xr']) {
      const message = refused(render(example(id)).response);
      expect(message).toContain(
        'spec.restore was added after the CloudNativePG Cluster finance/ledger was created',
      );
      expect(message).toContain('CloudNativePG reads bootstrap only when it creates a cluster');
    }
  });

  it('a restore changed after the instance was restored', () => {
    const request = example('restore/xr@restored');
    (request.xr.spec as JsonObject).restore = { from: 'checkout', targetTime: '2026-11-29T09:00:00Z' };
    expect(refused(render(request).response)).toContain(
      'spec.restore changed after the CloudNativePG Cluster shop/checkout-restore was restored (it was from checkout to 2026-11-30T14:05:00Z, now from checkout to 2026-11-29T09:00:00Z)',
    );
  });
});

describe('hostile or wrong restore fields are refused at validation', () => {
  const invalid = (restore: JsonObject) => {
    const response = render(withRestore(restore)).response;
    expect(response.desired?.resources).toEqual({});
    expect(condition(response, 'SpecValid')?.status).toBe(Status.STATUS_CONDITION_FALSE);
    return fatalOf(response) ?? '';
  };

  it('more than one target', () => {
    expect(invalid({ from: 'checkout', targetTime: '2026-11-30T14:05:00Z', targetLSN: '0/1' })).toContain(
      'spec.restore.targetLSN "0/1" cannot be set together with targetTime: set at most one of targetTime, targetLSN and backup',
    );
  });

  it('a time that is not RFC 3339 with a zone, or not a real date', () => {
    expect(invalid({ from: 'checkout', targetTime: '2026-11-30 14:05' })).toContain(
      'spec.restore.targetTime "2026-11-30 14:05" must be an RFC 3339 time with a time zone, like 2026-11-30T14:05:00Z. Example: restore: {from: checkout, targetTime: "2026-11-30T14:05:00Z"}',
    );
    expect(invalid({ from: 'checkout', targetTime: '2026-13-45T25:00:00Z' })).toContain('is not a real date');
  });

  it('an LSN that is not one, and strings of any length', () => {
    expect(invalid({ from: 'checkout', targetLSN: "0/1'; DROP" })).toContain(
      'must be a PostgreSQL LSN, like 0/3000060',
    );
    expect(invalid({ from: 'x'.repeat(5000) })).toContain('spec.restore.from');
    expect(invalid({ from: 'checkout', backup: 'a'.repeat(300) })).toContain(
      'spec.restore.backup is too long (at most 253 characters)',
    );
  });

  it('a source that is this instance itself', () => {
    const request = withRestore({ from: 'checkout-restore' });
    expect(fatalOf(render(request).response)).toContain(
      'spec.restore.from names this instance itself ("checkout-restore")',
    );
  });

  it('never asks Crossplane for anything when the spec is invalid', () => {
    const response = runFunction(buildRequest(withRestore({ from: 'Checkout' })));
    expect(response.requirements).toBeUndefined();
    expect(fatalOf(response)).toContain('spec.restore.from');
  });
});
