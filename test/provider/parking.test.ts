// The work queue and the Grant reconciler together: a Grant waiting for its database's batch
// gives its queue slot up (queue.ts Slot.park), so the Grants of one database meet in one batch
// whatever --concurrency is, and a server that does not answer holds no slot the others need.
// In memory: a scripted engine, no Kubernetes, no PostgreSQL.
import { describe, expect, it } from 'vitest';
import type { ApplyClient } from '../../src/grants/index.js';
import type { ServerConnection } from '../../src/provider/connection.js';
import { GrantReconciler, type GrantObject } from '../../src/provider/grant/reconciler.js';
import type { ManagedStore } from '../../src/provider/managed/reconciler.js';
import { WorkQueue } from '../../src/provider/queue.js';
import { inSyncEngine } from './support/in-sync-engine.js';
import { memoryStore, type MemoryStore } from './support/memory-store.js';

function grant(name: string, database: string): GrantObject {
  return {
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Grant',
    metadata: { name, namespace: 'team', generation: 1, resourceVersion: '1' },
    spec: {
      forProvider: {
        database,
        grantee: name,
        tables: [{ schema: 'public', objects: ['*'], privileges: ['SELECT'] }],
      },
      providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
    },
  };
}

/** One memory store per Grant, behind one ManagedStore. */
function stores(grants: readonly GrantObject[]) {
  const byName = new Map<string, MemoryStore<GrantObject>>(
    grants.map((g) => [g.metadata.name, memoryStore(g)]),
  );
  const of = (name: string) => byName.get(name)!;
  const store: ManagedStore<GrantObject> = {
    get: (namespace, name) => of(name).store.get(namespace, name),
    setFinalizers: (object, finalizers) => of(object.metadata.name).store.setFinalizers(object, finalizers),
    patchStatus: (object, patch) => of(object.metadata.name).store.patchStatus(object, patch),
  };
  const ready = (name: string) =>
    of(name)
      .stored()
      ?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return { store, ready };
}

function setUp(grants: readonly GrantObject[], concurrency: number, blocked: Set<string> = new Set()) {
  const { store, ready } = stores(grants);
  const batches: string[][] = [];
  const release: (() => void)[] = [];
  const reconciler = new GrantReconciler({
    pollMs: 600_000,
    grants: store,
    configs: {
      source: async (ref, namespace) => ({
        kind: ref.kind,
        name: ref.name,
        namespace,
        spec: { connectionSecretRef: { name: 'owner' }, sslmode: 'disable' },
      }),
      readSecret: async () => ({ data: { username: 'owner', password: 'pw', host: 'db' }, version: '1' }),
      markInUse: async () => undefined,
    },
    databases: {
      withClient: async <T>(_c: ServerConnection, database: string, fn: (c: ApplyClient) => Promise<T>) => {
        // A server that does not answer until the test says so.
        if (blocked.has(database)) await new Promise<void>((resolve) => release.push(resolve));
        return fn({ query: undefined as never, on: () => undefined, off: () => undefined });
      },
    },
    events: { record: () => undefined },
    engine: inSyncEngine(batches),
  });
  const queue = new WorkQueue({
    concurrency,
    handler: (key, slot) => reconciler.reconcile(key.slice('Grant/'.length), slot),
  });
  for (const g of grants) queue.add(`Grant/team/${g.metadata.name}`);
  return { queue, batches, ready, release };
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
};

describe('a Grant waiting for its database batch gives its queue slot up', () => {
  it('twelve Grants of one database meet in one batch with --concurrency 2', async () => {
    const grants = Array.from({ length: 12 }, (_, i) => grant(`reader-${i}`, 'app'));
    const { queue, batches, ready } = setUp(grants, 2);
    await queue.idle();
    expect(batches.map((b) => b.length)).toEqual([12]);
    expect(grants.every((g) => ready(g.metadata.name))).toBe(true);
  });

  it('Grants on a server that does not answer do not keep the others from reconciling', async () => {
    const grants = [
      ...Array.from({ length: 4 }, (_, i) => grant(`stuck-${i}`, 'unreachable')),
      grant('orders-reader', 'orders'),
      grant('billing-reader', 'billing'),
    ];
    const { queue, ready, release } = setUp(grants, 2, new Set(['unreachable']));
    await until(() => ready('orders-reader') && ready('billing-reader'));
    expect(ready('stuck-0')).toBe(false);
    expect(queue.stats()).toMatchObject({ parked: 4 });
    for (const r of release) r();
    await queue.idle();
    expect(grants.every((g) => ready(g.metadata.name))).toBe(true);
  });
});
