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

export function parseInput(raw: unknown): ParsedInput {
  const parsed = functionInputSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    errors: fieldErrors(parsed.error.issues, raw, { prefix: 'input', examples: INPUT_EXAMPLES }),
  };
}
