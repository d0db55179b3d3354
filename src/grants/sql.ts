// Quoting. Every name that reaches SQL passes through here or through src/shared/sql-ident.ts
// (ident, shared with the composition function's bootstrap SQL); nothing else builds identifiers.

import { ident } from '../shared/sql-ident.js';

export { ident };

/** A string literal for standard_conforming_strings = on (apply sets it explicitly). */
export function literal(value: string): string {
  if (value.includes('\u0000')) throw new Error('string literal contains a NUL byte');
  return `'${value.replaceAll("'", "''")}'`;
}

/** ARRAY['a','b']::text[] — an empty list stays typed so the query still plans. */
export function textArray(values: readonly string[]): string {
  return `ARRAY[${values.map(literal).join(', ')}]::text[]`;
}

export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A grantee as GRANT/REVOKE want it: the PUBLIC pseudo-role is a keyword, never quoted. */
export function granteeSql(grantee: string): string {
  return grantee === 'PUBLIC' ? 'PUBLIC' : ident(grantee);
}

/**
 * The signature of a routine: quoted schema and name, then argument types as the server's
 * format_type() prints them (already valid, quoted where needed), so overloads stay apart.
 */
export function routineSignature(schema: string, name: string, argTypes: readonly string[]): string {
  return `${qualified(schema, name)}(${argTypes.join(', ')})`;
}

// Spellings people write for built-in types, mapped to what format_type() prints,
// so `varchar` in a Grant matches `character varying` in the catalog.
const TYPE_ALIASES: Record<string, string> = {
  int: 'integer',
  int4: 'integer',
  int8: 'bigint',
  int2: 'smallint',
  serial: 'integer',
  bigserial: 'bigint',
  smallserial: 'smallint',
  float: 'double precision',
  float8: 'double precision',
  float4: 'real',
  decimal: 'numeric',
  bool: 'boolean',
  varchar: 'character varying',
  'char varying': 'character varying',
  char: 'character',
  bpchar: 'character',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  time: 'time without time zone',
  timetz: 'time with time zone',
  varbit: 'bit varying',
};

/**
 * Normalises one argument type as a user writes it to the catalog's spelling:
 * case and spacing folded, typmods dropped (signatures ignore them), aliases resolved,
 * array suffixes kept. Quoted (user-defined) type names are kept verbatim.
 */
export function normaliseType(type: string): string {
  let t = type.trim();
  if (t.includes('"')) return t;
  let arraySuffix = '';
  while (/\[\s*\d*\s*\]$/.test(t)) {
    t = t.replace(/\[\s*\d*\s*\]$/, '').trimEnd();
    arraySuffix += '[]';
  }
  t = t
    .replace(/\s*\([^)]*\)/g, '')
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .trim();
  if (t.endsWith(' array')) {
    t = t.slice(0, -' array'.length);
    arraySuffix += '[]';
  }
  t = t.replace(/^(pg_catalog|public)\./, '');
  return (TYPE_ALIASES[t] ?? t) + arraySuffix;
}
