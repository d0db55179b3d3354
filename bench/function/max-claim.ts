// The largest claim the XRD's schema accepts that the function still renders: every bounded
// list (maxItems, maxProperties) of a claim filled to its bound with distinct entries, strings
// as long as their maxLength and pattern allow. The bounds are read from the schema passed in, so
// the generator follows the API as it changes. A list whose entries the function refuses (an
// allow-list decides, e.g. extensions) stays as in the example, and the report says so.

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  maxItems?: number;
  maxProperties?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  enum?: unknown[];
}

type Json = Record<string, unknown>;

/** A string distinct per `n`, as long as `schema` allows, from `seed`; `seed` when none fits. */
function longString(seed: string, n: number, schema: JsonSchema, pad: boolean): string {
  if (schema.enum) return seed;
  const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
  const max = schema.maxLength ?? 63;
  const base = `${seed}${n}`;
  const candidates = pad
    ? [base + 'x'.repeat(Math.max(0, max - base.length)), base.padEnd(max, '0'), base]
    : [base, `${seed}-${n}`];
  for (const raw of candidates) {
    const s = raw.slice(0, max);
    if ((!pattern || pattern.test(s)) && s.length >= (schema.minLength ?? 0)) return s;
  }
  return seed;
}

/** A copy of `value` made distinct by `n`: every string below it, per the schema. */
function variant(value: unknown, schema: JsonSchema | undefined, n: number, pad: boolean): unknown {
  if (typeof value === 'string') return longString(value, n, schema ?? {}, pad);
  if (Array.isArray(value)) return value.map((v) => variant(v, schema?.items, n, pad));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json).map(([k, v]) => [k, variant(v, schema?.properties?.[k], n, pad)]),
    );
  }
  return value;
}

/** Every bounded list below `spec`, as a path of property names, with its schema. */
function boundedLists(schema: JsonSchema, path: string[] = []): { path: string[]; schema: JsonSchema }[] {
  const out: { path: string[]; schema: JsonSchema }[] = [];
  if ((schema.type === 'array' && schema.maxItems) || schema.maxProperties) out.push({ path, schema });
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    out.push(...boundedLists(child, [...path, key]));
  return out;
}

function get(obj: Json, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), obj);
}

function set(obj: Json, path: string[], value: unknown): Json {
  if (path.length === 0) return value as Json;
  const [head, ...rest] = path as [string, ...string[]];
  return { ...obj, [head]: set((obj[head] as Json | undefined) ?? {}, rest, value) };
}

/** Fills one list of `spec` to its bound; undefined when the example has no entry to start from. */
function filled(spec: Json, list: { path: string[]; schema: JsonSchema }, pad: boolean): Json | undefined {
  const current = get(spec, list.path);
  if (Array.isArray(current) && current.length > 0 && list.schema.maxItems) {
    const items = Array.from({ length: list.schema.maxItems }, (_, n) =>
      n === 0 ? current[0] : variant(current[0], list.schema.items, n, pad),
    );
    return set(spec, list.path, items);
  }
  if (current && typeof current === 'object' && !Array.isArray(current) && list.schema.maxProperties) {
    const [key, value] = Object.entries(current as Json)[0] ?? [];
    if (key === undefined) return undefined;
    const valueSchema =
      typeof list.schema.additionalProperties === 'object' ? list.schema.additionalProperties : {};
    const entries = Array.from({ length: list.schema.maxProperties }, (_, n) =>
      n === 0
        ? [key, value]
        : [longString(key, n, { pattern: '^[a-z_][a-z0-9_]*$' }, false), variant(value, valueSchema, n, pad)],
    );
    return set(spec, list.path, Object.fromEntries(entries));
  }
  return undefined;
}

export function maximalClaim(
  example: Json,
  schema: JsonSchema,
  renders: (spec: Json) => boolean,
): { spec: Json; report: string } {
  let spec = example;
  const widened: string[] = [];
  const kept: string[] = [];
  for (const list of boundedLists(schema)) {
    const name = list.path.join('.');
    const attempt = filled(spec, list, true) ?? undefined;
    const plain = attempt && !renders(attempt) ? filled(spec, list, false) : attempt;
    if (plain && renders(plain)) {
      spec = plain;
      widened.push(`${name} ${list.schema.maxItems ?? list.schema.maxProperties}`);
    } else {
      kept.push(name);
    }
  }
  return {
    spec,
    report: `filled to the bound: ${widened.join(', ') || 'none'}; as in the example (refused when filled, or empty there): ${kept.join(', ') || 'none'}`,
  };
}
