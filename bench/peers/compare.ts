// "Do they compose the same thing?": the desired composed resources of pgplane and a peer, for the
// same XR, compared field by field. Documented differences (see bench/README.md, Peers) are the
// only ones tolerated: metadata.annotations (each function marks its resources its own way).
import { isObject, type JsonObject } from '../../src/shared/json.js';

/** Paths whose differences are expected and documented. */
export const IGNORED_PATHS: readonly string[] = ['metadata.annotations'];

export interface Difference {
  resource: string;
  path: string;
  pgplane: string;
  peer: string;
}

function show(value: unknown): string {
  const text = value === undefined ? '(absent)' : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function diff(resource: string, path: string, a: unknown, b: unknown, out: Difference[]): void {
  if (IGNORED_PATHS.includes(path)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      diff(resource, path ? `${path}.${key}` : key, a[key], b[key], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, i) => diff(resource, `${path}[${i}]`, item, b[i], out));
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ resource, path, pgplane: show(a), peer: show(b) });
}

/** Differences between two sets of desired composed resources, keyed by composition resource name. */
export function compareDesired(
  pgplane: Record<string, JsonObject>,
  peer: Record<string, JsonObject>,
): Difference[] {
  const out: Difference[] = [];
  for (const name of new Set([...Object.keys(pgplane), ...Object.keys(peer)])) {
    diff(name, '', pgplane[name], peer[name], out);
  }
  return out;
}
