// Planning, phase 3 of 3 (desired → diff → statements): the GRANT/REVOKE text for what the diff
// decided, grouped so one statement covers many objects, in the order they must run.
import type { ObjectState } from './desired.js';
import { byString } from './diff.js';
import { objectTypeRank } from './kinds.js';
import { objectTarget, type ObjectType } from './objects.js';
import { granteeSql, ident } from './sql.js';

export interface Statement {
  readonly action: 'GRANT' | 'REVOKE';
  readonly objectType: ObjectType;
  /** The Grant this statement serves. */
  readonly grant: string;
  readonly grantee: string;
  readonly privileges: readonly string[];
  /** Readable identities of the objects, e.g. TABLE "public"."orders". */
  readonly objects: readonly string[];
  readonly sql: string;
}

/** Objects per GRANT/REVOKE: big enough that 10,000 tables take a handful of statements, small enough to read. */
const OBJECTS_PER_STATEMENT = 500;

export interface Pending {
  readonly action: 'GRANT' | 'REVOKE';
  readonly state: ObjectState;
  readonly privileges: readonly string[];
}

function membershipStatements(
  grant: string,
  grantee: string,
  p: Pending,
  role: string,
  has16Options: boolean,
): Statement[] {
  const who = granteeSql(grantee);
  const base = {
    objectType: 'MEMBERSHIP' as const,
    grant,
    grantee,
    objects: [p.state.key],
    privileges: p.privileges,
  };
  if (p.action === 'REVOKE') {
    if (p.privileges.includes('MEMBER'))
      return [{ ...base, action: 'REVOKE', sql: `REVOKE ${role} FROM ${who}` }];
    return p.privileges.map((option) => ({
      ...base,
      privileges: [option],
      action: 'REVOKE' as const,
      sql: `REVOKE ${option} OPTION FOR ${role} FROM ${who}`,
    }));
  }
  const options = p.privileges.filter((x) => x !== 'MEMBER');
  if (p.privileges.includes('MEMBER') && has16Options) {
    // A new membership states every managed option, so INHERIT/SET FALSE do not fall back to defaults.
    for (const option of p.state.forbid) options.push(`${option}:FALSE`);
  }
  const withClause = has16Options
    ? options
        .map((o) => (o.endsWith(':FALSE') ? `${o.slice(0, -':FALSE'.length)} FALSE` : `${o} TRUE`))
        .sort(byString)
        .join(', ')
    : options.includes('ADMIN')
      ? 'ADMIN OPTION'
      : '';
  return [
    { ...base, action: 'GRANT', sql: `GRANT ${role} TO ${who}${withClause ? ` WITH ${withClause}` : ''}` },
  ];
}

/** Which pending changes share one statement: same action and privileges, and for some types the same target. */
function groupKey(p: Pending): string {
  const o = p.state.object;
  switch (o.type) {
    case 'COLUMN':
      return JSON.stringify([p.action, o.type, objectTarget(o), p.privileges]);
    case 'DEFAULT':
    case 'MEMBERSHIP':
      return JSON.stringify([p.action, o.type, p.state.key, p.privileges]);
    default:
      return JSON.stringify([p.action, o.type, p.privileges]);
  }
}

export function buildStatements(
  grant: string,
  grantee: string,
  pending: readonly Pending[],
  has16Options: boolean,
): Statement[] {
  const out: Statement[] = [];
  const who = granteeSql(grantee);
  const verb = (action: 'GRANT' | 'REVOKE') => (action === 'GRANT' ? 'TO' : 'FROM');
  const groups = new Map<string, Pending[]>();
  for (const p of pending) {
    const key = groupKey(p);
    const list = groups.get(key) ?? [];
    list.push(p);
    groups.set(key, list);
  }
  for (const list of groups.values()) {
    const first = list[0]!;
    const { action, privileges, state } = first;
    const object = state.object;
    const privilegeSql = privileges.join(', ');
    if (object.type === 'MEMBERSHIP') {
      out.push(...membershipStatements(grant, grantee, first, objectTarget(object), has16Options));
    } else if (object.type === 'DEFAULT') {
      out.push({
        action,
        objectType: 'DEFAULT',
        grant,
        grantee,
        privileges,
        objects: [state.key],
        sql: `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(object.creator)} IN SCHEMA ${ident(object.schema)} ${action} ${privilegeSql} ON ${object.on} ${verb(action)} ${who}`,
      });
    } else if (object.type === 'COLUMN') {
      // Grouped by table (groupKey), so every object in the list is a column of this one.
      const columns = list
        .flatMap((p) => (p.state.object.type === 'COLUMN' ? [ident(p.state.object.column)] : []))
        .sort(byString);
      out.push({
        action,
        objectType: 'COLUMN',
        grant,
        grantee,
        privileges,
        objects: list.map((p) => p.state.key).sort(byString),
        sql: `${action} ${privileges.map((p) => `${p} (${columns.join(', ')})`).join(', ')} ON TABLE ${objectTarget(object)} ${verb(action)} ${who}`,
      });
    } else {
      // Sorted by key, which is "TYPE target": the same order as the targets.
      const states = list.map((p) => p.state).sort((a, b) => byString(a.key, b.key));
      for (let i = 0; i < states.length; i += OBJECTS_PER_STATEMENT) {
        const chunk = states.slice(i, i + OBJECTS_PER_STATEMENT);
        out.push({
          action,
          objectType: object.type,
          grant,
          grantee,
          privileges,
          objects: chunk.map((s) => s.key),
          sql: `${action} ${privilegeSql} ON ${object.type} ${chunk.map((s) => objectTarget(s.object)).join(', ')} ${verb(action)} ${who}`,
        });
      }
    }
  }
  return out;
}

/** Phase of a statement: grants first, then revokes (reverse type order), then column grants (see diff). */
function phase(s: Statement): number {
  if (s.action === 'REVOKE') return 1;
  return s.objectType === 'COLUMN' ? 2 : 0;
}

export function compareStatements(a: Statement, b: Statement): number {
  return (
    phase(a) - phase(b) ||
    (a.action === 'REVOKE'
      ? objectTypeRank(b.objectType) - objectTypeRank(a.objectType)
      : objectTypeRank(a.objectType) - objectTypeRank(b.objectType)) ||
    byString(a.grantee, b.grantee) ||
    byString(a.sql, b.sql)
  );
}
