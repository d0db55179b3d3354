// Normalising declared Grants into a policy the planner can match against a snapshot:
// duplicates merged, wildcards separated from specific objects, routine signatures
// normalised. Pure: no catalog access (wildcards are resolved in desired.ts against the snapshot).
import { WILDCARD, type GrantParameters } from '../api/grant.js';
import { normaliseType } from './sql.js';
import type { SnapshotScope } from './observe.js';
import type { GrantRecord } from './record.js';

type Mode = 'additive' | 'authoritative';
/** Object types a wildcard can cover; each has its own default privileges (ON TABLES / SEQUENCES / FUNCTIONS). */
export type WildcardKind = 'TABLE' | 'SEQUENCE' | 'FUNCTION';

interface Wildcard {
  readonly privileges: readonly string[];
  readonly except: ReadonlySet<string>;
  /** FOR ROLE targets of the default privileges; undefined means the schema owner. */
  readonly creators: readonly string[] | undefined;
}

interface SpecificObject {
  /** Relation name, or for routines the name with normalised argument types: `f(integer, text[])`. */
  readonly key: string;
  readonly name: string;
  readonly privileges: readonly string[];
}

export interface SchemaRule {
  readonly wildcard: Wildcard | undefined;
  readonly specific: ReadonlyMap<string, SpecificObject>;
}

interface ColumnRule {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly privileges: readonly string[];
}

interface MembershipRule {
  readonly role: string;
  readonly admin: boolean | undefined;
  readonly inherit: boolean | undefined;
  readonly set: boolean | undefined;
}

/** The declared policy of one grantee in one database. */
export interface Policy {
  readonly name: string;
  readonly database: string;
  readonly grantee: string;
  readonly mode: Mode;
  readonly databasePrivileges: readonly string[] | undefined;
  readonly schemas: ReadonlyMap<string, readonly string[]>;
  readonly rules: Readonly<Record<WildcardKind, ReadonlyMap<string, SchemaRule>>>;
  readonly columns: readonly ColumnRule[];
  readonly memberships: ReadonlyMap<string, MembershipRule> | undefined;
}

/** How a routine is matched: its name and its argument types in catalog spelling. */
export function routineKey(name: string, argTypes: readonly string[]): string {
  return `${name}(${argTypes.map(normaliseType).join(', ')})`;
}

const union = (a: readonly string[] | undefined, b: readonly string[]): string[] => [
  ...new Set([...(a ?? []), ...b]),
];

interface Entry {
  schema: string;
  objects: readonly (string | { name: string; arguments: readonly string[] })[];
  privileges: readonly string[];
  except?: readonly string[] | undefined;
  defaultPrivilegesFor?: readonly string[] | undefined;
}

function buildRules(entries: readonly Entry[] | undefined): Map<string, SchemaRule> {
  const wildcards = new Map<string, Wildcard>();
  const specifics = new Map<string, Map<string, SpecificObject>>();
  for (const entry of entries ?? []) {
    if (entry.objects.includes(WILDCARD)) {
      const previous = wildcards.get(entry.schema);
      const creators = entry.defaultPrivilegesFor ?? previous?.creators;
      wildcards.set(entry.schema, {
        privileges: union(previous?.privileges, entry.privileges),
        except: new Set([...(previous?.except ?? []), ...(entry.except ?? [])]),
        creators:
          creators && previous?.creators && entry.defaultPrivilegesFor
            ? union(previous.creators, entry.defaultPrivilegesFor)
            : creators,
      });
      continue;
    }
    const bySchema = specifics.get(entry.schema) ?? new Map<string, SpecificObject>();
    specifics.set(entry.schema, bySchema);
    for (const object of entry.objects) {
      const name = typeof object === 'string' ? object : object.name;
      const key = typeof object === 'string' ? object : routineKey(object.name, object.arguments);
      const previous = bySchema.get(key);
      bySchema.set(key, { key, name, privileges: union(previous?.privileges, entry.privileges) });
    }
  }
  const rules = new Map<string, SchemaRule>();
  for (const schema of new Set([...wildcards.keys(), ...specifics.keys()])) {
    rules.set(schema, { wildcard: wildcards.get(schema), specific: specifics.get(schema) ?? new Map() });
  }
  return rules;
}

/** One validated Grant → its policy. `name` identifies the Grant in plans, drift and records. */
export function normalisePolicy(name: string, p: GrantParameters): Policy {
  const schemas = new Map<string, string[]>();
  for (const s of p.schemas ?? []) schemas.set(s.name, union(schemas.get(s.name), s.privileges));

  const columns = new Map<string, ColumnRule>();
  for (const entry of p.columns ?? []) {
    for (const column of entry.columns) {
      const key = JSON.stringify([entry.schema, entry.table, column]);
      const previous = columns.get(key);
      columns.set(key, {
        schema: entry.schema,
        table: entry.table,
        column,
        privileges: union(previous?.privileges, entry.privileges),
      });
    }
  }

  let memberships: Map<string, MembershipRule> | undefined;
  if (p.memberships !== undefined) {
    memberships = new Map();
    for (const m of p.memberships) {
      const previous = memberships.get(m.role);
      memberships.set(m.role, {
        role: m.role,
        admin: m.admin ?? previous?.admin,
        inherit: m.inherit ?? previous?.inherit,
        set: m.set ?? previous?.set,
      });
    }
  }

  return {
    name,
    database: p.database,
    grantee: p.grantee,
    mode: p.mode,
    databasePrivileges: p.databasePrivileges,
    schemas,
    rules: {
      TABLE: buildRules(p.tables),
      SEQUENCE: buildRules(p.sequences),
      FUNCTION: buildRules(p.functions),
    },
    columns: [...columns.values()],
    memberships,
  };
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
  const schemas = new Set<string>();
  const roles = new Set<string>();
  const columnTables = new Map<string, { schema: string; table: string }>();
  for (const policy of policies) {
    grantees.add(policy.grantee);
    if (policy.grantee !== 'PUBLIC') roles.add(policy.grantee);
    for (const schema of policy.schemas.keys()) schemas.add(schema);
    for (const rules of Object.values(policy.rules)) {
      for (const [schema, rule] of rules) {
        schemas.add(schema);
        for (const creator of rule.wildcard?.creators ?? []) roles.add(creator);
      }
    }
    for (const c of policy.columns) {
      schemas.add(c.schema);
      columnTables.set(JSON.stringify([c.schema, c.table]), { schema: c.schema, table: c.table });
    }
    for (const role of policy.memberships?.keys() ?? []) roles.add(role);
  }
  for (const record of records) for (const schema of record?.schemas ?? []) schemas.add(schema);
  const sort = (values: Iterable<string>) => [...values].sort();
  return {
    grantees: sort(grantees),
    schemas: sort(schemas),
    roles: sort(roles),
    columnTables: [...columnTables.values()].sort((a, b) =>
      a.schema + '\0' + a.table < b.schema + '\0' + b.table ? -1 : 1,
    ),
  };
}
