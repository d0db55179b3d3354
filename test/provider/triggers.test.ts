// Which watch events of a managed resource reconcile it: anyone's edit does, the provider's own
// status and finalizer writes do not, even when the finalizer's echo outruns the PATCH's answer.
import { describe, expect, it } from 'vitest';
import { FINALIZER, PAUSED_ANNOTATION } from '../../src/provider/managed/reconciler.js';
import { needsReconcile, triggerOf } from '../../src/provider/managed/triggers.js';

const object = (metadata: Record<string, unknown> = {}) => ({
  metadata: { name: 'app-read', namespace: 'team', generation: 1, ...metadata },
});
const created = triggerOf(object());
const withFinalizer = triggerOf(object({ finalizers: [FINALIZER] }));

describe('needsReconcile', () => {
  it('reconciles an object the cache did not hold', () => {
    expect(
      needsReconcile({ previous: undefined, current: created, ownWrite: false, reconciling: false }),
    ).toBe(true);
  });

  it('skips a status write: nothing it compares changed', () => {
    const statusOnly = triggerOf(object({ finalizers: [FINALIZER], resourceVersion: '9' }));
    expect(
      needsReconcile({ previous: withFinalizer, current: statusOnly, ownWrite: false, reconciling: false }),
    ).toBe(false);
  });

  it('reconciles a spec edit, a deletion and a pause, even while a reconcile runs', () => {
    for (const metadata of [
      { generation: 2 },
      { deletionTimestamp: '2026-12-04T00:00:00Z' },
      { annotations: { [PAUSED_ANNOTATION]: 'true' } },
    ]) {
      const current = triggerOf(object({ finalizers: [FINALIZER], ...metadata }));
      expect(needsReconcile({ previous: withFinalizer, current, ownWrite: false, reconciling: true })).toBe(
        true,
      );
    }
  });

  it('skips our finalizer appearing while the object reconciles: the echo of its own PATCH', () => {
    expect(
      needsReconcile({ previous: created, current: withFinalizer, ownWrite: false, reconciling: true }),
    ).toBe(false);
  });

  it('skips a version the informer knows as ours', () => {
    expect(
      needsReconcile({ previous: created, current: withFinalizer, ownWrite: true, reconciling: false }),
    ).toBe(false);
  });

  it('reconciles our finalizer removed by someone else, or appearing with no reconcile of ours running', () => {
    expect(
      needsReconcile({ previous: withFinalizer, current: created, ownWrite: false, reconciling: true }),
    ).toBe(true);
    expect(
      needsReconcile({ previous: created, current: withFinalizer, ownWrite: false, reconciling: false }),
    ).toBe(true);
  });

  it('reconciles a spec edit that arrives with our finalizer', () => {
    const editedToo = triggerOf(object({ finalizers: [FINALIZER], generation: 2 }));
    expect(
      needsReconcile({ previous: created, current: editedToo, ownWrite: false, reconciling: true }),
    ).toBe(true);
  });
});
