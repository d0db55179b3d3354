// The privilege kinds as data: one descriptor per section of a Grant. Each says how its entries
// are normalised into the policy, what the snapshot must cover for them, and what deleting an
// authoritative Grant revokes of it. The table is keyed by every section of GrantParameters, so a
// new section does not compile until its kind says how it is normalised, scoped and revoked:
// forgetting the revocation scope can no longer make deleting a Grant revoke nothing of that kind,
// silently. spec.ts and revocation.ts only iterate this table.
import type { GrantParameters } from '../api/grant.js';
import {
  desiredColumns,
  desiredDatabase,
  desiredDefaults,
  desiredMemberships,
  desiredRelations,
  desiredRoutines,
  desiredSchemas,
  type DesiredState,
} from './desired.js';
import type { ObjectType } from './objects.js';
import {
  buildRules,
  rulesScope,
  union,
  type ColumnRule,
  type MembershipRule,
  type PolicySections,
  type ScopeBuilder,
  type Section,
} from './policy.js';

export interface PrivilegeKind<S extends Section = Section> {
  readonly section: S;
  /** The section's entries (undefined when the Grant leaves the section out) in normalised form. */
  readonly normalise: (declared: GrantParameters[S]) => PolicySections[S];
  /** Adds what the snapshot must look at for this section. */
  readonly scope: (normalised: PolicySections[S], scope: ScopeBuilder) => void;
  /**
   * The scope an authoritative Grant's deletion revokes: the same objects, nothing declared.
   * Additive Grants revoke from their record instead, so only authoritative ones use this.
   */
  readonly revocationScope: (declared: NonNullable<GrantParameters[S]>) => NonNullable<GrantParameters[S]>;
}

const emptied = <T extends { privileges: readonly string[] }>(entries: readonly T[]): T[] =>
  entries.map((entry) => ({ ...entry, privileges: [] }));

/** Tables, sequences and functions share one shape: schema rules with wildcards. */
const schemaRules = { normalise: buildRules, scope: rulesScope, revocationScope: emptied } as const;

function normaliseSchemas(entries: GrantParameters['schemas']): Map<string, readonly string[]> {
  const schemas = new Map<string, readonly string[]>();
  for (const s of entries ?? []) schemas.set(s.name, union(schemas.get(s.name), s.privileges));
  return schemas;
}

function normaliseColumns(entries: GrantParameters['columns']): ColumnRule[] {
  const columns = new Map<string, ColumnRule>();
  for (const entry of entries ?? []) {
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
  return [...columns.values()];
}

function normaliseMemberships(
  entries: GrantParameters['memberships'],
): Map<string, MembershipRule> | undefined {
  if (entries === undefined) return undefined;
  const memberships = new Map<string, MembershipRule>();
  for (const m of entries) {
    const previous = memberships.get(m.role);
    memberships.set(m.role, {
      role: m.role,
      admin: m.admin ?? previous?.admin,
      inherit: m.inherit ?? previous?.inherit,
      set: m.set ?? previous?.set,
    });
  }
  return memberships;
}

/** Every privilege kind, in the order of the Grant's sections. */
export const PRIVILEGE_KINDS: { readonly [S in Section]: PrivilegeKind<S> } = {
  databasePrivileges: {
    section: 'databasePrivileges',
    normalise: (declared) => declared,
    scope: () => {},
    revocationScope: () => [],
  },
  schemas: {
    section: 'schemas',
    normalise: normaliseSchemas,
    scope: (schemas, scope) => {
      for (const schema of schemas.keys()) scope.schemas.add(schema);
    },
    revocationScope: emptied,
  },
  tables: { section: 'tables', ...schemaRules },
  sequences: { section: 'sequences', ...schemaRules },
  functions: { section: 'functions', ...schemaRules },
  columns: {
    section: 'columns',
    normalise: normaliseColumns,
    scope: (columns, scope) => {
      for (const c of columns) {
        scope.schemas.add(c.schema);
        scope.columnTables.set(JSON.stringify([c.schema, c.table]), { schema: c.schema, table: c.table });
      }
    },
    revocationScope: emptied,
  },
  memberships: {
    section: 'memberships',
    normalise: normaliseMemberships,
    scope: (memberships, scope) => {
      for (const role of memberships?.keys() ?? []) scope.roles.add(role);
    },
    // An empty list is "no memberships": authoritative mode revokes every membership.
    revocationScope: () => [],
  },
};

/** The sections, in the order the Grant lists them. */
export const SECTIONS = Object.keys(PRIVILEGE_KINDS) as Section[];

/**
 * The order statements are issued in: GRANTs follow it (default privileges after the objects
 * they backfill), REVOKEs run it backwards (memberships first, the database last). Column GRANTs
 * run after every REVOKE, because a table REVOKE also takes the column privilege (see diff.ts).
 */
export const OBJECT_TYPE_ORDER: readonly ObjectType[] = [
  'DATABASE',
  'SCHEMA',
  'TABLE',
  'SEQUENCE',
  'FUNCTION',
  'PROCEDURE',
  'ROUTINE',
  'COLUMN',
  'DEFAULT',
  'MEMBERSHIP',
];

const RANK = new Map(OBJECT_TYPE_ORDER.map((type, i) => [type, i]));
export const objectTypeRank = (type: ObjectType): number => RANK.get(type)!;

/** How one kind of object is planned: the sections it reads, the types it addresses, its planner. */
export interface ObjectKind {
  readonly name: string;
  readonly sections: readonly Section[];
  readonly objectTypes: readonly ObjectType[];
  /** Adds this kind's objects (declared, or held by the grantee) to the desired state. */
  readonly desired: (d: DesiredState) => void;
}

/**
 * The kinds of object, in the order they are planned (the order problems are reported in).
 * Default privileges are planned from the wildcards of tables, sequences and functions.
 */
export const OBJECT_KINDS: readonly ObjectKind[] = [
  { name: 'database', sections: ['databasePrivileges'], objectTypes: ['DATABASE'], desired: desiredDatabase },
  { name: 'schema', sections: ['schemas'], objectTypes: ['SCHEMA'], desired: desiredSchemas },
  { name: 'table', sections: ['tables'], objectTypes: ['TABLE'], desired: desiredRelations('TABLE') },
  {
    name: 'sequence',
    sections: ['sequences'],
    objectTypes: ['SEQUENCE'],
    desired: desiredRelations('SEQUENCE'),
  },
  {
    name: 'routine',
    sections: ['functions'],
    objectTypes: ['FUNCTION', 'PROCEDURE', 'ROUTINE'],
    desired: desiredRoutines,
  },
  {
    name: 'default privileges',
    sections: ['tables', 'sequences', 'functions'],
    objectTypes: ['DEFAULT'],
    desired: desiredDefaults,
  },
  { name: 'column', sections: ['columns'], objectTypes: ['COLUMN'], desired: desiredColumns },
  { name: 'membership', sections: ['memberships'], objectTypes: ['MEMBERSHIP'], desired: desiredMemberships },
];
