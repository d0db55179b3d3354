// The objects a privilege is held on, as a discriminated union: each variant carries exactly the
// names its statements need, so nothing is parsed back out of rendered SQL. Their key (the readable
// "TYPE identity" used in drift and statements) and their identity (the names, in the record key)
// are both derived from here.
import { ident, qualified, routineSignature } from './sql.js';

/** The object types a statement can address (kinds.ts orders them). */
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

type DefaultsOn = 'TABLES' | 'SEQUENCES' | 'FUNCTIONS';
export type RoutineType = 'FUNCTION' | 'PROCEDURE' | 'ROUTINE';

export type GrantObject =
  | { readonly type: 'DATABASE'; readonly database: string }
  | { readonly type: 'SCHEMA'; readonly schema: string }
  | { readonly type: 'TABLE' | 'SEQUENCE'; readonly schema: string; readonly name: string }
  | {
      readonly type: RoutineType;
      readonly schema: string;
      readonly name: string;
      /** Input argument types as format_type() prints them. */
      readonly argTypes: readonly string[];
    }
  | { readonly type: 'COLUMN'; readonly schema: string; readonly table: string; readonly column: string }
  | {
      readonly type: 'DEFAULT';
      /** FOR ROLE: whose future objects. */
      readonly creator: string;
      readonly schema: string;
      readonly on: DefaultsOn;
    }
  | { readonly type: 'MEMBERSHIP'; readonly role: string };

/** What follows ON in a statement (for columns: the table; for memberships: the role). */
export function objectTarget(o: GrantObject): string {
  switch (o.type) {
    case 'DATABASE':
      return ident(o.database);
    case 'SCHEMA':
      return ident(o.schema);
    case 'TABLE':
    case 'SEQUENCE':
      return qualified(o.schema, o.name);
    case 'FUNCTION':
    case 'PROCEDURE':
    case 'ROUTINE':
      return routineSignature(o.schema, o.name, o.argTypes);
    case 'COLUMN':
      return qualified(o.schema, o.table);
    case 'DEFAULT':
      return `FOR ROLE ${ident(o.creator)} IN SCHEMA ${ident(o.schema)} ON ${o.on}`;
    case 'MEMBERSHIP':
      return ident(o.role);
  }
}

/** The readable identity of an object, e.g. TABLE "public"."orders": drift, statements, sorting. */
export function objectKey(o: GrantObject): string {
  switch (o.type) {
    case 'COLUMN':
      return `TABLE ${objectTarget(o)} COLUMN ${ident(o.column)}`;
    case 'DEFAULT':
      return `DEFAULT PRIVILEGES ${objectTarget(o)}`;
    case 'MEMBERSHIP':
      return `ROLE ${objectTarget(o)}`;
    default:
      return `${o.type} ${objectTarget(o)}`;
  }
}

/** The schema an object lives in (recorded so it is observed after the spec stops naming it). */
export function objectSchema(o: GrantObject): string | undefined {
  return o.type === 'DATABASE' || o.type === 'MEMBERSHIP' ? undefined : o.schema;
}

/** The names that identify an object within its type, in a fixed order: the record key's tail. */
export function objectIdentity(o: GrantObject): readonly string[] {
  switch (o.type) {
    case 'DATABASE':
      return [o.database];
    case 'SCHEMA':
      return [o.schema];
    case 'TABLE':
    case 'SEQUENCE':
      return [o.schema, o.name];
    case 'FUNCTION':
    case 'PROCEDURE':
    case 'ROUTINE':
      return [o.schema, o.name, ...o.argTypes];
    case 'COLUMN':
      return [o.schema, o.table, o.column];
    case 'DEFAULT':
      return [o.creator, o.schema, o.on];
    case 'MEMBERSHIP':
      return [o.role];
  }
}

const DEFAULTS_ON: readonly string[] = ['TABLES', 'SEQUENCES', 'FUNCTIONS'];

/** The inverse of objectIdentity; undefined when the names do not fit the type. */
export function objectFromIdentity(type: string, names: readonly string[]): GrantObject | undefined {
  const [a, b, c] = names;
  const n = names.length;
  switch (type as ObjectType) {
    case 'DATABASE':
      return n === 1 ? { type: 'DATABASE', database: a! } : undefined;
    case 'SCHEMA':
      return n === 1 ? { type: 'SCHEMA', schema: a! } : undefined;
    case 'TABLE':
    case 'SEQUENCE':
      return n === 2 ? { type: type as 'TABLE' | 'SEQUENCE', schema: a!, name: b! } : undefined;
    case 'FUNCTION':
    case 'PROCEDURE':
    case 'ROUTINE':
      return n >= 2
        ? { type: type as RoutineType, schema: a!, name: b!, argTypes: names.slice(2) }
        : undefined;
    case 'COLUMN':
      return n === 3 ? { type: 'COLUMN', schema: a!, table: b!, column: c! } : undefined;
    case 'DEFAULT':
      return n === 3 && DEFAULTS_ON.includes(c!)
        ? { type: 'DEFAULT', creator: a!, schema: b!, on: c as DefaultsOn }
        : undefined;
    case 'MEMBERSHIP':
      return n === 1 ? { type: 'MEMBERSHIP', role: a! } : undefined;
    default:
      return undefined;
  }
}
