// The planner: declared policy × observed snapshot × previous record → the minimal, ordered list
// of GRANT/REVOKE statements, the drift, and the new record. Pure: no I/O, deterministic output.
// Three phases per grantee: desired.ts (what each privilege kind wants and finds), diff.ts (what
// to grant, revoke and record under the mode), statements.ts (the SQL, grouped and ordered).
import { DesiredState } from './desired.js';
import { byString, diffStates, type ObjectDrift } from './diff.js';
import { OBJECT_KINDS } from './kinds.js';
import type { Snapshot } from './observe.js';
import { recordedSet, type GrantRecord } from './record.js';
import type { Policy } from './policy.js';
import { buildStatements, compareStatements, type Pending, type Statement } from './statements.js';

export { type Statement } from './statements.js';

export interface Plan {
  readonly database: string;
  readonly statements: readonly Statement[];
  readonly drift: readonly ObjectDrift[];
  /** The record each Grant should carry after this plan is applied, by Grant name. */
  readonly records: Readonly<Record<string, GrantRecord>>;
  /** Things the plan could not honour (unknown objects, privileges the server lacks...). */
  readonly problems: readonly string[];
}

/**
 * Plans every Grant of one database against its snapshot. `previous` holds each Grant's record
 * from the last apply (by Grant name); the returned records replace them once the plan is applied.
 */
export function planGrants(
  policies: readonly Policy[],
  snapshot: Snapshot,
  previous: Readonly<Record<string, GrantRecord | undefined>> = {},
): Plan {
  const statements: Statement[] = [];
  const drift: ObjectDrift[] = [];
  const records: Record<string, GrantRecord> = {};
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const has16Options = snapshot.serverVersionNum >= 160000;
  for (const policy of [...policies].sort((a, b) => byString(a.name, b.name))) {
    const other = seen.get(policy.grantee);
    if (other !== undefined) {
      problems.push(
        `Grant "${policy.name}": grantee "${policy.grantee}" already has Grant "${other}" in database "${snapshot.database}"; one Grant is the whole policy of one grantee, merge them`,
      );
      continue;
    }
    seen.set(policy.grantee, policy.name);

    const desired = new DesiredState(policy, snapshot);
    if (policy.grantee !== 'PUBLIC' && !snapshot.roles.includes(policy.grantee)) {
      desired.problem(
        `grantee role "${policy.grantee}" does not exist in database "${snapshot.database}"'s cluster; nothing was planned for it`,
      );
    } else {
      for (const kind of OBJECT_KINDS) kind.desired(desired);
    }
    problems.push(...desired.problems);

    // A record kept for another grantee (the Grant's grantee was changed) says nothing about this one.
    const record = previous[policy.name];
    const isRecorded = recordedSet(record && record.grantee === policy.grantee ? record.grants : []);
    const diff = diffStates(policy, desired.objects.values(), (p, s) => isRecorded(p, s.object));
    const pending: Pending[] = [
      ...[...diff.grants].map(([state, privileges]) => ({ action: 'GRANT' as const, state, privileges })),
      ...[...diff.revokes].map(([state, privileges]) => ({ action: 'REVOKE' as const, state, privileges })),
    ];
    statements.push(...buildStatements(policy.name, policy.grantee, pending, has16Options));
    drift.push(...diff.drift);
    records[policy.name] = diff.record;
  }
  statements.sort(compareStatements);
  return { database: snapshot.database, statements, drift, records, problems };
}

/** The part of a plan (of several Grants) that serves one Grant: its statements, drift, problems, record. */
export function planOf(plan: Plan, name: string): Plan {
  const prefix = `Grant "${name}": `;
  const record = plan.records[name];
  return {
    database: plan.database,
    statements: plan.statements.filter((s) => s.grant === name),
    drift: plan.drift.filter((d) => d.grant === name),
    records: record ? { [name]: record } : {},
    problems: plan.problems.filter((p) => p.startsWith(prefix)),
  };
}
