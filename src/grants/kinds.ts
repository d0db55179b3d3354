// The privilege kinds as data: one descriptor per section of a Grant. Each says which object
// types its statements address (the order statements are issued in) and what deleting an
// authoritative Grant revokes of it. The table is keyed by every section of GrantParameters, so a
// new section does not compile until its kind says how it is ordered and revoked: forgetting the
// revocation scope can no longer make deleting a Grant revoke nothing of that kind, silently.
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

/** The parts of GrantParameters that declare privileges (everything but database, grantee, mode). */
export type Section = Exclude<keyof GrantParameters, 'database' | 'grantee' | 'mode'>;

/** The object types a statement can address. */
export type ObjectType =
  | 'DATABASE'
  | 'SCHEMA'
  | 'TABLE'
  | 'SEQUENCE'
  | 'FUNCTION'
  | 'PROCEDURE'
  | 'ROUTINE'
  | 'COLUMN'
  | 'DEFAULT'
  | 'MEMBERSHIP';

export interface PrivilegeKind<S extends Section = Section> {
  readonly section: S;
  /**
   * The scope an authoritative Grant's deletion revokes: the same objects, nothing declared.
   * Additive Grants revoke from their record instead, so only authoritative ones use this.
   */
  readonly revocationScope: (declared: NonNullable<GrantParameters[S]>) => NonNullable<GrantParameters[S]>;
}

const emptied = <T extends { privileges: readonly string[] }>(entries: readonly T[]): T[] =>
  entries.map((entry) => ({ ...entry, privileges: [] }));

/** Every privilege kind, in the order of the Grant's sections. */
export const PRIVILEGE_KINDS: { readonly [S in Section]: PrivilegeKind<S> } = {
  databasePrivileges: { section: 'databasePrivileges', revocationScope: () => [] },
  schemas: { section: 'schemas', revocationScope: emptied },
  tables: { section: 'tables', revocationScope: emptied },
  sequences: { section: 'sequences', revocationScope: emptied },
  functions: { section: 'functions', revocationScope: emptied },
  columns: { section: 'columns', revocationScope: emptied },
  // An empty list is "no memberships": authoritative mode revokes every membership.
  memberships: { section: 'memberships', revocationScope: () => [] },
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
