// Pure mapping from what the engine saw to the Grant's status.atProvider, and the merge patch
// that turns the old status into the new one.
import type { GrantObservation } from '../api/provider-config.js';
import type { Plan } from '../grants/index.js';
import { isObject, type JsonObject } from '../shared/json.js';

/** How many privileges a sample in status holds: enough to see the pattern, small enough for kubectl. */
export const SAMPLE_SIZE = 10;

export interface DriftSummary {
  readonly missing: number;
  readonly extra: number;
  readonly missingSample: readonly string[];
  readonly extraSample: readonly string[];
}

export function driftSummary(plan: Pick<Plan, 'drift'>): DriftSummary {
  const missing: string[] = [];
  const extra: string[] = [];
  for (const d of plan.drift) {
    for (const p of d.missing) missing.push(`${p} ON ${d.object}`);
    for (const p of d.extra) extra.push(`${p} ON ${d.object}`);
  }
  return {
    missing: missing.length,
    extra: extra.length,
    missingSample: missing.slice(0, SAMPLE_SIZE),
    extraSample: extra.slice(0, SAMPLE_SIZE),
  };
}

export function driftObservation(summary: DriftSummary): NonNullable<GrantObservation['drift']> {
  return {
    missing: summary.missing,
    extra: summary.extra,
    ...(summary.missingSample.length > 0 ? { missingSample: [...summary.missingSample] } : {}),
    ...(summary.extraSample.length > 0 ? { extraSample: [...summary.extraSample] } : {}),
  };
}

/** Privileges granted and revoked by a plan's statements (privileges × objects). */
export function changeCounts(plan: Pick<Plan, 'statements'>): { granted: number; revoked: number } {
  let granted = 0;
  let revoked = 0;
  for (const s of plan.statements) {
    const n = s.privileges.length * Math.max(1, s.objects.length);
    if (s.action === 'GRANT') granted += n;
    else revoked += n;
  }
  return { granted, revoked };
}

/** "3 missing, 1 extra (e.g. SELECT ON TABLE "public"."orders")": for condition messages and events. */
export function describeDrift(summary: DriftSummary): string {
  const parts: string[] = [];
  if (summary.missing > 0) parts.push(`${summary.missing} declared privilege(s) missing`);
  if (summary.extra > 0) parts.push(`${summary.extra} extra privilege(s) present`);
  const example = summary.missingSample[0] ?? summary.extraSample[0];
  return `${parts.join(', ') || 'no drift'}${example ? ` (e.g. ${example})` : ''}`;
}

/**
 * An RFC 7386 merge patch from `before` to `after`: keys gone from `after` become null, objects
 * are patched key by key, everything else (arrays included) is replaced.
 */
export function mergePatch(before: unknown, after: unknown): unknown {
  if (!isObject(before) || !isObject(after)) return after === undefined ? null : after;
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    if (isObject(value) && isObject(before[key])) {
      const nested = mergePatch(before[key], value);
      if (isObject(nested) && Object.keys(nested).length === 0) continue;
      patch[key] = nested;
    } else if (!deepEqual(before[key], value)) {
      patch[key] = value;
    }
  }
  return patch;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
