import { describe, expect, it } from 'vitest';
import {
  available,
  paused,
  Reason,
  setConditions,
  synced,
  syncError,
  unavailable,
} from '../../src/provider/managed/conditions.js';
import { changeCounts, describeDrift, driftSummary } from '../../src/provider/grant/drift.js';
import { mergePatch } from '../../src/provider/managed/patch.js';
import type { Plan, Statement } from '../../src/grants/index.js';

const t0 = new Date('2025-01-01T00:00:00Z');
const t1 = new Date('2025-01-01T00:05:00Z');

describe('conditions', () => {
  it('sets Synced and Ready in a stable order with the generation they describe', () => {
    expect(setConditions(undefined, [available(), synced()], t0, 3)).toEqual([
      {
        type: 'Synced',
        status: 'True',
        reason: 'ReconcileSuccess',
        lastTransitionTime: t0.toISOString(),
        observedGeneration: 3,
      },
      {
        type: 'Ready',
        status: 'True',
        reason: 'Available',
        lastTransitionTime: t0.toISOString(),
        observedGeneration: 3,
      },
    ]);
  });

  it('keeps lastTransitionTime while the status holds and moves it when the status flips', () => {
    const first = setConditions(undefined, [syncError('cannot connect: refused')], t0);
    const again = setConditions(first, [syncError('cannot connect: timeout')], t1);
    expect(again[0]).toMatchObject({
      status: 'False',
      message: 'cannot connect: timeout',
      lastTransitionTime: t0.toISOString(),
    });
    const recovered = setConditions(again, [synced()], t1);
    expect(recovered[0]).toEqual({
      type: 'Synced',
      status: 'True',
      reason: 'ReconcileSuccess',
      lastTransitionTime: t1.toISOString(),
    });
  });

  it('leaves other conditions alone and maps paused and drift to the Crossplane reasons', () => {
    const base = setConditions(undefined, [available()], t0);
    const next = setConditions(base, [paused()], t1);
    expect(next.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Synced=False/ReconcilePaused',
      'Ready=True/Available',
    ]);
    expect(unavailable(Reason.Drifted, 'x')).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'Drifted',
      message: 'x',
    });
  });
});

const statement = (action: 'GRANT' | 'REVOKE', privileges: string[], objects: string[]): Statement => ({
  action,
  objectType: 'TABLE',
  grant: 'ns/g',
  grantee: 'app',
  privileges,
  objects,
  sql: '',
});

describe('status mapping', () => {
  const plan: Pick<Plan, 'drift' | 'statements'> = {
    drift: [
      { grant: 'ns/g', object: 'TABLE "public"."a"', missing: ['SELECT', 'INSERT'], extra: [] },
      { grant: 'ns/g', object: 'TABLE "public"."b"', missing: [], extra: ['DELETE'] },
    ],
    statements: [
      statement('GRANT', ['SELECT', 'INSERT'], ['TABLE "public"."a"']),
      statement('REVOKE', ['DELETE'], ['TABLE "public"."b"']),
    ],
  };

  it('counts drift and keeps a short readable sample', () => {
    const summary = driftSummary(plan);
    expect(summary).toEqual({
      missing: 2,
      extra: 1,
      missingSample: ['SELECT ON TABLE "public"."a"', 'INSERT ON TABLE "public"."a"'],
      extraSample: ['DELETE ON TABLE "public"."b"'],
    });
    expect(describeDrift(summary)).toBe(
      '2 declared privilege(s) missing, 1 extra privilege(s) present (e.g. SELECT ON TABLE "public"."a")',
    );
    const many = driftSummary({
      drift: [
        {
          grant: 'g',
          object: 'DATABASE "x"',
          missing: Array.from({ length: 25 }, (_, i) => `P${i}`),
          extra: [],
        },
      ],
    });
    expect(many.missing).toBe(25);
    expect(many.missingSample).toHaveLength(10);
  });

  it('counts privileges granted and revoked', () => {
    expect(changeCounts(plan)).toEqual({ granted: 2, revoked: 1 });
  });

  it('builds a merge patch that removes what is gone and replaces arrays', () => {
    const before = {
      conditions: [{ type: 'Synced' }],
      atProvider: { drift: { missing: 2, missingSample: ['a'] }, problems: ['x'] },
    };
    const after = {
      conditions: [{ type: 'Synced' }, { type: 'Ready' }],
      atProvider: { drift: { missing: 0 } },
    };
    expect(mergePatch(before, after)).toEqual({
      conditions: [{ type: 'Synced' }, { type: 'Ready' }],
      atProvider: { problems: null, drift: { missing: 0, missingSample: null } },
    });
  });
});
