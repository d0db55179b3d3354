// What pgplane granted itself, per Grant. In additive mode only these privileges are ever
// revoked. The provider keeps it in status; the CLI in a state file; both pass it back in.
import { objectFromIdentity, objectIdentity, objectKey, type GrantObject } from './objects.js';

export type { GrantRecord } from '../api/grant-record.js';

/**
 * The record key format. Version 2 is a JSON array: the version, the object type, the privilege,
 * then the names identifying the object (objectIdentity). Version 1 was the rendered
 * "PRIVILEGE ON OBJECT" text, which had to be matched as text; it is still read, never written.
 */
const RECORD_KEY_VERSION = 2;

export function recordKey(privilege: string, object: GrantObject): string {
  return JSON.stringify([RECORD_KEY_VERSION, object.type, privilege, ...objectIdentity(object)]);
}

/** The version-1 key of the same grant, to recognise records written before version 2. */
function legacyRecordKey(privilege: string, object: GrantObject): string {
  return `${privilege} ON ${objectKey(object)}`;
}

export interface RecordedGrant {
  readonly privilege: string;
  readonly object: GrantObject;
}

/** Reads a version-2 key; undefined for version-1 text or anything malformed. */
export function parseRecordKey(key: string): RecordedGrant | undefined {
  if (!key.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value[0] !== RECORD_KEY_VERSION) return undefined;
  const [, type, privilege, ...names] = value as unknown[];
  if (typeof type !== 'string' || typeof privilege !== 'string') return undefined;
  if (!names.every((n): n is string => typeof n === 'string')) return undefined;
  const object = objectFromIdentity(type, names);
  return object ? { privilege, object } : undefined;
}

/** The readable form of a key of either version: "SELECT ON TABLE "public"."orders"". */
export function describeRecordKey(key: string): string {
  const parsed = parseRecordKey(key);
  return parsed ? legacyRecordKey(parsed.privilege, parsed.object) : key;
}

/** A record's keys, asked "did pgplane grant this?" whichever version wrote them. */
export function recordedSet(keys: readonly string[]): (privilege: string, object: GrantObject) => boolean {
  const set = new Set(keys);
  return (privilege, object) =>
    set.has(recordKey(privilege, object)) || set.has(legacyRecordKey(privilege, object));
}
