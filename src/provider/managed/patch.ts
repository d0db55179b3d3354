// The merge patch that turns a managed resource's old status into the new one, so a status write
// sends only what changed and an unchanged status sends nothing.
import { isObject, type JsonObject } from '../../shared/json.js';

/**
 * An RFC 7386 merge patch from `before` to `after`: keys gone from `after` become null, objects
 * are patched key by key, everything else (arrays included) is replaced.
 */
export function mergePatch(before: unknown, after: unknown): unknown {
  if (!isObject(before) || !isObject(after)) return after === undefined ? null : after;
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    if (isObject(value) && isObject(before[key])) {
      const nested = mergePatch(before[key], value);
      if (isObject(nested) && Object.keys(nested).length === 0) continue;
      patch[key] = nested;
    } else if (!deepEqual(before[key], value)) {
      patch[key] = value;
    }
  }
  return patch;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
