// Core Kubernetes kinds have no CRD. They are checked with kubernetes-models (types and formats,
// from the Kubernetes OpenAPI) plus a closed list of top-level fields, so an unknown field fails.
import { Secret } from 'kubernetes-models/v1';
import type { JsonObject } from '../../src/shared/json.js';

/** Top-level fields of a v1 Secret, from the Kubernetes API reference. */
const SECRET_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable']);

export function isCoreKind(manifest: JsonObject): boolean {
  return manifest.apiVersion === 'v1' && manifest.kind === 'Secret';
}

export function validateCoreKind(manifest: JsonObject): string[] {
  const problems = Object.keys(manifest)
    .filter((key) => !SECRET_FIELDS.has(key))
    .map((key) => `/${key} is not a field of v1 Secret`);
  try {
    new Secret(manifest).validate();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  return problems;
}
