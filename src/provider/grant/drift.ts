// Pure mapping from what the grants engine saw to the Grant's status.atProvider and to the words
// of its conditions and events.
import type { GrantObservation } from '../../api/provider-config.js';
import type { Plan } from '../../grants/index.js';

/** How many privileges a sample in status holds: enough to see the pattern, small enough for kubectl. */
const SAMPLE_SIZE = 10;

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
