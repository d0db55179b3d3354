// The managed-resource lifecycle on its own, driving a tiny external client whose "external
// system" is a Map of settings: what every kind (Grant today, Role and Database next) gets from
// managed/reconciler.ts without writing it again. No PostgreSQL, no Kubernetes.
import { describe, expect, it } from 'vitest';
import { memoryStore } from './support/memory-store.js';
import {
  FINALIZER,
  ManagedReconciler,
  type ExternalClient,
  type ManagedObject,
  type Parsed,
} from '../../src/provider/managed/reconciler.js';

/** A "Setting": spec.forProvider.value should be what the external Map holds under the name. */
interface SettingSpec {
  readonly name: string;
  readonly value: string;
}
interface SettingObservation {
  readonly value?: string;
}
type Setting = ManagedObject<SettingObservation>;

const KEY = 'team/colour';
const now = new Date('2026-01-02T03:04:05Z');

function setting(spec: Record<string, unknown>, metadata: Partial<Setting['metadata']> = {}): Setting {
  return {
    apiVersion: 'example.pgplane.io/v1alpha1',
    kind: 'Setting',
    metadata: { name: 'colour', namespace: 'team', generation: 3, resourceVersion: '7', ...metadata },
    spec,
  };
}

function settingsClient(external: Map<string, string>, forgotten: string[], failWith?: string) {
  const client: ExternalClient<SettingSpec, SettingObservation> = {
    wording: {
      creating: 'setting not written yet',
      deleting: (s) => `removing setting "${s.name}"`,
      orphaned: (s) => `setting "${s.name}" left in place`,
      notDeleted: (problem) => ({ reason: 'NotRemoved', note: `nothing removed: ${problem}` }),
    },
    parse: (object): Parsed<SettingSpec> => {
      const spec = object.spec as {
        forProvider?: { value?: unknown };
        managementPolicies?: string[];
        deletionPolicy?: 'Delete' | 'Orphan';
      };
      const value = spec.forProvider?.value;
      if (typeof value !== 'string')
        return { invalid: 'spec.forProvider.value: must be a string, e.g. value: blue' };
      return {
        spec: { name: object.metadata.name, value },
        managementPolicies: spec.managementPolicies,
        deletionPolicy: spec.deletionPolicy,
      };
    },
    sync: async ({ spec, apply, object }) => {
      if (failWith) throw new Error(failWith);
      const before = external.get(spec.name);
      const change = before !== spec.value;
      if (change && apply) external.set(spec.name, spec.value);
      const after = external.get(spec.name);
      const differs = after !== spec.value;
      return {
        atProvider: after === undefined ? {} : { value: after },
        applied: change && apply ? { reason: 'SettingWritten', note: `wrote "${spec.value}"` } : undefined,
        drift: differs
          ? {
              observed: `holds "${after ?? ''}", not "${spec.value}"`,
              afterApply: `still holds "${after ?? ''}"`,
              changed: object.status?.atProvider?.value !== after,
            }
          : undefined,
      };
    },
    delete: async ({ spec }) => {
      if (failWith) throw new Error(failWith);
      external.delete(spec.name);
      return { reason: 'SettingRemoved', note: `removed "${spec.name}"` };
    },
    forget: (key) => forgotten.push(key),
  };
  return client;
}

function harness(
  initial: Setting | undefined,
  options: { failWith?: string; external?: [string, string][] } = {},
) {
  const memory = memoryStore(initial);
  const external = new Map(options.external ?? []);
  const events: string[] = [];
  const forgotten: string[] = [];
  const reconciler = new ManagedReconciler({
    pollMs: 60_000,
    now: () => now,
    client: settingsClient(external, forgotten, options.failWith),
    events: { record: (_o, type, reason, note) => events.push(`${type} ${reason}: ${note}`) },
    store: memory.store,
  });
  return {
    reconciler,
    external,
    events,
    forgotten,
    statusWrites: memory.statusWrites,
    stored: memory.stored,
  };
}

const conditionsOf = (o: Setting | undefined) =>
  (o?.status?.conditions ?? []).map(
    (c) => `${c.type}=${c.status}/${c.reason}${c.message ? `: ${c.message}` : ''}`,
  );

const deletingAt = { finalizers: [FINALIZER], deletionTimestamp: now.toISOString() };

describe('ManagedReconciler with a tiny external client', () => {
  it('adds the finalizer, creates the external resource, and reports Synced and Ready for the generation', async () => {
    const h = harness(setting({ forProvider: { value: 'blue' } }));
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'applied', requeueAfterMs: 60_000 });
    expect(h.external.get('colour')).toBe('blue');
    expect(h.stored()?.metadata.finalizers).toEqual([FINALIZER]);
    expect(conditionsOf(h.stored())).toEqual(['Synced=True/ReconcileSuccess', 'Ready=True/Available']);
    expect(h.stored()?.status).toMatchObject({ observedGeneration: 3, atProvider: { value: 'blue' } });
    expect(h.events).toEqual(['Normal SettingWritten: wrote "blue"']);
    // In sync on the next poll: no status write, no event.
    const writes = h.statusWrites.length;
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'in-sync', requeueAfterMs: 60_000 });
    expect(h.statusWrites).toHaveLength(writes);
    expect(h.events).toHaveLength(1);
  });

  it('Observe only: changes nothing, says why in Ready, and warns once per new drift', async () => {
    const h = harness(setting({ forProvider: { value: 'blue' }, managementPolicies: ['Observe'] }), {
      external: [['colour', 'red']],
    });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'observed', requeueAfterMs: 60_000 });
    expect(h.external.get('colour')).toBe('red');
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=True/ReconcileSuccess',
      'Ready=False/Drifted: holds "red", not "blue"; not applied because managementPolicies is [Observe]',
    ]);
    await h.reconciler.reconcile(KEY);
    expect(h.events).toEqual([
      'Warning DriftObserved: holds "red", not "blue"; not applied because managementPolicies is [Observe]',
    ]);
  });

  it('crossplane.io/paused: the external client is not called', async () => {
    const h = harness(
      setting({ forProvider: { value: 'blue' } }, { annotations: { 'crossplane.io/paused': 'true' } }),
    );
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'paused' });
    expect(h.external.size).toBe(0);
    expect(h.stored()?.metadata.finalizers).toBeUndefined();
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=False/ReconcilePaused: Reconciliation is paused by the crossplane.io/paused annotation; remove it to resume.',
    ]);
  });

  it('an invalid spec is Synced=False with the client words and Ready=False/Creating, without a finalizer', async () => {
    const h = harness(setting({ forProvider: { value: 7 } }));
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'invalid', requeueAfterMs: 60_000 });
    expect(h.stored()?.metadata.finalizers).toBeUndefined();
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=False/ReconcileError: spec.forProvider.value: must be a string, e.g. value: blue',
      'Ready=False/Creating: setting not written yet',
    ]);
  });

  it('a failing external system is Synced=False, one Warning per new message, and retried with backoff', async () => {
    const h = harness(setting({ forProvider: { value: 'blue' } }), { failWith: 'store   unreachable' });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'error', failed: true });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'error', failed: true });
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=False/ReconcileError: store unreachable',
      'Ready=False/Creating: setting not written yet',
    ]);
    expect(h.events).toEqual(['Warning CannotReconcile: store unreachable']);
  });

  it('deletion (Delete): Ready=False/Deleting first, then the client deletes, then the finalizer goes', async () => {
    const h = harness(setting({ forProvider: { value: 'blue' } }, deletingAt), {
      external: [['colour', 'blue']],
    });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'deleted' });
    expect(JSON.stringify(h.statusWrites[0])).toContain('"reason":"Deleting"');
    expect(h.external.has('colour')).toBe(false);
    expect(h.stored()).toBeUndefined();
    expect(h.events).toEqual(['Normal SettingRemoved: removed "colour"']);
    expect(h.forgotten).toEqual([KEY]);
  });

  it('deletion that fails keeps the finalizer and stays Ready=False/Deleting', async () => {
    const h = harness(setting({ forProvider: { value: 'blue' } }, deletingAt), {
      failWith: 'store unreachable',
    });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'error', failed: true });
    expect(h.stored()?.metadata.finalizers).toEqual([FINALIZER]);
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=False/ReconcileError: store unreachable',
      'Ready=False/Deleting: removing setting "colour"',
    ]);
  });

  it.each([
    ['deletionPolicy Orphan', { deletionPolicy: 'Orphan' }],
    ['managementPolicies without Delete', { managementPolicies: ['Observe', 'Create', 'Update'] }],
  ])('%s leaves the external resource and removes the finalizer', async (_name, policy) => {
    const h = harness(setting({ forProvider: { value: 'blue' }, ...policy }, deletingAt), {
      external: [['colour', 'blue']],
    });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'orphaned' });
    expect(h.external.get('colour')).toBe('blue');
    expect(h.stored()).toBeUndefined();
    expect(h.events).toEqual(['Normal Orphaned: setting "colour" left in place']);
  });

  it('a deleting object with an invalid spec goes with the client warning, removing nothing', async () => {
    const h = harness(setting({ forProvider: {} }, deletingAt), { external: [['colour', 'blue']] });
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'orphaned' });
    expect(h.external.get('colour')).toBe('blue');
    expect(h.stored()).toBeUndefined();
    expect(h.events).toEqual([
      'Warning NotRemoved: nothing removed: spec.forProvider.value: must be a string, e.g. value: blue',
    ]);
  });

  it('an object that is gone is forgotten', async () => {
    const h = harness(undefined);
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'gone' });
    expect(h.forgotten).toEqual([KEY]);
  });
});
