// Parses the function Input from the Composition. A broken Input is the platform team's bug, not
// the claim author's: the error says so and names the Composition field.
import { functionInputSchema, type FunctionInput } from '../../api/function-input.js';
import { fieldErrors, type FieldError } from './errors.js';

const INPUT_EXAMPLES: Readonly<Record<string, string>> = {
  sizes: 'sizes: {xlarge: {cpu: {request: "2", limit: "8"}, memory: {request: 4Gi, limit: 16Gi}}}',
  'images.pinned': 'images: {pinned: {"16": ghcr.io/cloudnative-pg/postgresql:16.6}}',
  'images.catalogRef': 'images: {catalogRef: {kind: ClusterImageCatalog, name: postgresql}}',
  'credentials.secretStoreRef': 'credentials: {secretStoreRef: {name: vault, kind: ClusterSecretStore}}',
  'credentials.remoteKeyTemplate': 'credentials: {remoteKeyTemplate: "postgres/{namespace}/{name}"}',
  'placement.nodeSelector': 'placement: {nodeSelector: {workload.example.com/databases: "true"}}',
  ttl: 'ttl: {ready: 60s, notReady: 15s}',
};

export type ParsedInput = { ok: true; input: FunctionInput } | { ok: false; errors: FieldError[] };

/**
 * The Input is the same on every request of a Composition (it is the Composition's, not the XR's),
 * so its parse is kept, keyed by its JSON: serialising the few hundred bytes of an Input costs a
 * fraction of the zod parse it saves. Bounded: a function serves a handful of Compositions, and a
 * changed Input simply becomes a new entry. Results are deeply frozen: they are shared between
 * requests, so nothing downstream may change them (and would throw, in strict mode, if it did).
 */
const INPUT_CACHE_SIZE = 32;
const inputCache = new Map<string, ParsedInput>();

export function parseInput(raw: unknown): ParsedInput {
  const key = JSON.stringify(raw ?? {});
  const cached = inputCache.get(key);
  if (cached) return cached;
  const result = deepFreeze(parseInputUncached(raw));
  if (inputCache.size >= INPUT_CACHE_SIZE) inputCache.delete(inputCache.keys().next().value!);
  inputCache.set(key, result);
  return result;
}

function parseInputUncached(raw: unknown): ParsedInput {
  const parsed = functionInputSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    errors: fieldErrors(parsed.error.issues, raw, { prefix: 'input', examples: INPUT_EXAMPLES }),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
