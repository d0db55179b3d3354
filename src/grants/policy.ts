// The normalised policy of one Grant, and the pieces the privilege kinds (kinds.ts) normalise their
// sections with. A leaf module: it imports no planner and no kind table, so the descriptors, the
// planners and spec.ts can all depend on it without a cycle.
import { WILDCARD, type GrantParameters } from '../api/grant.js';
import { normaliseType } from './sql.js';

/** The parts of GrantParameters that declare privileges (everything but database, grantee, mode). */
export type Section = Exclude<keyof GrantParameters, 'database' | 'grantee' | 'mode'>;

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

/** Schema → rule, for one of the wildcard-capable sections. */
export type SchemaRules = ReadonlyMap<string, SchemaRule>;

export interface ColumnRule {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly privileges: readonly string[];
}

export interface MembershipRule {
  readonly role: string;
  readonly admin: boolean | undefined;
  readonly inherit: boolean | undefined;
  readonly set: boolean | undefined;
}

/**
 * Each section in normalised form: duplicates merged, wildcards apart from specific objects.
 * Keyed by Section, so a new section does not compile until it says what it normalises to.
 */
export interface PolicySections {
  readonly databasePrivileges: readonly string[] | undefined;
  readonly schemas: ReadonlyMap<string, readonly string[]>;
  readonly tables: SchemaRules;
  readonly sequences: SchemaRules;
  readonly functions: SchemaRules;
  readonly columns: readonly ColumnRule[];
  /** undefined: the Grant says nothing about memberships; empty: it declares none. */
  readonly memberships: ReadonlyMap<string, MembershipRule> | undefined;
}

// Both directions, so PolicySections and the Grant's sections cannot drift apart.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sectionsMatch: Exact<keyof PolicySections, Section> = true;
void sectionsMatch;

/** The declared policy of one grantee in one database. */
export interface Policy extends PolicySections {
  readonly name: string;
  readonly database: string;
  readonly grantee: string;
  readonly mode: Mode;
}

/** The section each wildcard kind is declared in. */
export const WILDCARD_SECTIONS: Readonly<Record<WildcardKind, 'tables' | 'sequences' | 'functions'>> = {
  TABLE: 'tables',
  SEQUENCE: 'sequences',
  FUNCTION: 'functions',
};

/** What a kind adds to the snapshot's scope: the schemas, roles and column tables it mentions. */
export interface ScopeBuilder {
  readonly schemas: Set<string>;
  readonly roles: Set<string>;
  /** JSON [schema, table] → the table. */
  readonly columnTables: Map<string, { schema: string; table: string }>;
}

/** How a routine is matched: its name and its argument types in catalog spelling. */
export function routineKey(name: string, argTypes: readonly string[]): string {
  return `${name}(${argTypes.map(normaliseType).join(', ')})`;
}

export const union = (a: readonly string[] | undefined, b: readonly string[]): string[] => [
  ...new Set([...(a ?? []), ...b]),
];

interface Entry {
  schema: string;
  objects: readonly (string | { name: string; arguments: readonly string[] })[];
  privileges: readonly string[];
  except?: readonly string[] | undefined;
  defaultPrivilegesFor?: readonly string[] | undefined;
}

/** The entries of a wildcard-capable section (tables, sequences, functions) → schema rules. */
export function buildRules(entries: readonly Entry[] | undefined): Map<string, SchemaRule> {
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

/** The scope of a wildcard-capable section: its schemas, and the creators its default privileges name. */
export function rulesScope(rules: SchemaRules, scope: ScopeBuilder): void {
  for (const [schema, rule] of rules) {
    scope.schemas.add(schema);
    for (const creator of rule.wildcard?.creators ?? []) scope.roles.add(creator);
  }
}
