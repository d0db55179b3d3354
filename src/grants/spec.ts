// Normalising declared Grants into a policy the planner can match against a snapshot, and the
// scope that snapshot must cover. Generic over the privilege kinds: each kind's descriptor
// (kinds.ts) normalises its own section and names what it needs observed, so nothing here is
// per kind. Pure: no catalog access (wildcards are resolved in desired.ts against the snapshot).
import type { GrantParameters } from '../api/grant.js';
import { PRIVILEGE_KINDS, SECTIONS, type PrivilegeKind } from './kinds.js';
import type { SnapshotScope } from './observe.js';
import type { Policy, PolicySections, ScopeBuilder, Section } from './policy.js';
import type { GrantRecord } from './record.js';

function normaliseSection<S extends Section>(section: S, p: GrantParameters): PolicySections[S] {
  const kind: PrivilegeKind<S> = PRIVILEGE_KINDS[section];
  return kind.normalise(p[section]);
}

function scopeSection<S extends Section>(section: S, policy: Policy, scope: ScopeBuilder): void {
  const kind: PrivilegeKind<S> = PRIVILEGE_KINDS[section];
  kind.scope(policy[section], scope);
}

/** One validated Grant → its policy. `name` identifies the Grant in plans, drift and records. */
export function normalisePolicy(name: string, p: GrantParameters): Policy {
  const sections = Object.fromEntries(
    SECTIONS.map((section) => [section, normaliseSection(section, p)]),
  ) as unknown as PolicySections;
  return { ...sections, name, database: p.database, grantee: p.grantee, mode: p.mode };
}

/**
 * Everything the snapshot must cover for these policies (all in one database), including the
 * schemas of previously recorded grants, so a privilege pgplane granted in a schema the spec no
 * longer names is still seen (and revoked).
 */
export function snapshotScope(
  policies: readonly Policy[],
  records: readonly (GrantRecord | undefined)[] = [],
): SnapshotScope {
  const grantees = new Set<string>();
  const scope: ScopeBuilder = { schemas: new Set(), roles: new Set(), columnTables: new Map() };
  for (const policy of policies) {
    grantees.add(policy.grantee);
    if (policy.grantee !== 'PUBLIC') scope.roles.add(policy.grantee);
    for (const section of SECTIONS) scopeSection(section, policy, scope);
  }
  for (const record of records) for (const schema of record?.schemas ?? []) scope.schemas.add(schema);
  const sort = (values: Iterable<string>) => [...values].sort();
  return {
    grantees: sort(grantees),
    schemas: sort(scope.schemas),
    roles: sort(scope.roles),
    columnTables: [...scope.columnTables.values()].sort((a, b) =>
      a.schema + '\0' + a.table < b.schema + '\0' + b.table ? -1 : 1,
    ),
  };
}
