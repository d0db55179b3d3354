// Safe reads from untyped Kubernetes objects (what arrives over gRPC as google.protobuf.Struct).

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Follows a path of keys (array indexes as digit strings); undefined as soon as a step is missing.
 * Own properties only: a claim's `constructor` or `__proto__` must never reach Object.prototype.
 */
export function getPath(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current) && /^\d+$/.test(key)) current = current[Number(key)];
    else if (isObject(current) && Object.hasOwn(current, key)) current = current[key];
    else return undefined;
  }
  return current;
}

export function getString(value: unknown, ...path: string[]): string | undefined {
  const found = getPath(value, ...path);
  return typeof found === 'string' ? found : undefined;
}

export function getNumber(value: unknown, ...path: string[]): number | undefined {
  const found = getPath(value, ...path);
  return typeof found === 'number' && Number.isFinite(found) ? found : undefined;
}

export function getObject(value: unknown, ...path: string[]): JsonObject | undefined {
  const found = getPath(value, ...path);
  return isObject(found) ? found : undefined;
}

/** A short, single-line rendering of a user's value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
