// Planning, phase 2 of 3 (desired → diff → statements): per object, the privileges to grant and
// to revoke under the Grant's mode, the drift to report, and the record to keep. No SQL.
import type { ObjectState } from './desired.js';
import { objectSchema } from './objects.js';
import { recordKey, type GrantRecord } from './record.js';
import type { Policy } from './policy.js';

export interface ObjectDrift {
  readonly grant: string;
  readonly object: string;
  /** Declared but not present. */
  readonly missing: readonly string[];
  /** Present, not declared, and either in a declared scope or granted by pgplane before. */
  readonly extra: readonly string[];
}

export interface Diff {
  readonly grants: ReadonlyMap<ObjectState, readonly string[]>;
  readonly revokes: ReadonlyMap<ObjectState, readonly string[]>;
  readonly drift: readonly ObjectDrift[];
  readonly record: GrantRecord;
}

export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortedSet = (values: Iterable<string>): string[] => [...values].sort(byString);

/** `recorded` answers whether the previous record says pgplane granted a privilege on an object. */
export function diffStates(
  policy: Policy,
  objects: Iterable<ObjectState>,
  recorded: (privilege: string, state: ObjectState) => boolean,
): Diff {
  const grants = new Map<ObjectState, string[]>();
  const revokes = new Map<ObjectState, string[]>();
  const drift: ObjectDrift[] = [];
  const recordGrants = new Set<string>();
  const recordSchemas = new Set<string>();
  const authoritative = policy.mode === 'authoritative';
  const states = [...objects].sort((a, b) => byString(a.key, b.key));
  for (const s of states) {
    const missing = sortedSet([...s.want].filter((p) => !s.have.has(p)));
    const extraAll = sortedSet([...s.have].filter((p) => !s.want.has(p) && !s.ignore.has(p)));
    const revoke = extraAll.filter((p) => s.forbid.has(p) || (authoritative && s.inScope) || recorded(p, s));
    const extra = extraAll.filter((p) => s.inScope || revoke.includes(p));
    if (missing.length > 0) grants.set(s, missing);
    if (revoke.length > 0) revokes.set(s, revoke);
    if (missing.length > 0 || extra.length > 0)
      drift.push({ grant: policy.name, object: s.key, missing, extra });
    for (const p of s.want) {
      if (missing.includes(p) || recorded(p, s)) {
        recordGrants.add(recordKey(p, s.object));
        const schema = objectSchema(s.object);
        if (schema !== undefined) recordSchemas.add(schema);
      }
    }
  }
  // REVOKE on a table also drops that privilege from each of its columns: re-grant declared column
  // privileges on any table losing the same privilege (column grants run after table revokes).
  for (const [table, lost] of revokes) {
    if (table.object.type !== 'TABLE') continue;
    const { schema, name } = table.object;
    for (const s of states) {
      if (s.object.type !== 'COLUMN' || s.object.schema !== schema || s.object.table !== name) continue;
      const regrant = [...s.want].filter((p) => lost.includes(p));
      if (regrant.length > 0) grants.set(s, sortedSet(new Set([...(grants.get(s) ?? []), ...regrant])));
    }
  }
  return {
    grants,
    revokes,
    drift,
    record: { grantee: policy.grantee, grants: sortedSet(recordGrants), schemas: sortedSet(recordSchemas) },
  };
}
