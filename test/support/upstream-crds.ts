// Validates manifests against the upstream CRDs in ../shared/crds (CNPG, ESO, prometheus-operator,
// Crossplane), as the API server would, plus: unknown fields are errors (the API server would prune
// them silently, which hides a wrong field name until production).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { getPath, isObject, type JsonObject } from '../../src/shared/json.js';

export const SHARED_CRDS_DIR = resolve(process.cwd(), '..', 'shared', 'crds');

/** Adds `additionalProperties: false` wherever a schema lists its properties and does not preserve unknown fields. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) out[key] = strict(value);
  if (
    isObject(out.properties) &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

export class SchemaRegistry {
  private readonly ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateFormats: false,
    code: { regExp: goRegExp },
  });
  private readonly validators = new Map<string, ValidateFunction>();

  /** Registers every served version of a CRD (or XRD) document. */
  addCrd(crd: JsonObject): void {
    const group = getPath(crd, 'spec', 'group');
    const kind = getPath(crd, 'spec', 'names', 'kind');
    const versions = getPath(crd, 'spec', 'versions');
    if (typeof group !== 'string' || typeof kind !== 'string' || !Array.isArray(versions)) return;
    for (const version of versions) {
      if (getPath(version, 'served') !== true) continue;
      const schema = getPath(version, 'schema', 'openAPIV3Schema');
      const name = getPath(version, 'name');
      if (!isObject(schema) || typeof name !== 'string') continue;
      this.validators.set(
        `${group}/${name}/${kind}`,
        this.ajv.compile(strict(withObjectMeta(schema)) as JsonObject),
      );
    }
  }

  has(apiVersion: string, kind: string): boolean {
    return this.validators.has(`${apiVersion}/${kind}`);
  }

  /** Problems with a manifest, empty when valid; a manifest with no schema is a problem too. */
  validate(manifest: JsonObject): string[] {
    const key = `${String(manifest.apiVersion)}/${String(manifest.kind)}`;
    const validator = this.validators.get(key);
    if (!validator) return [`no served CRD schema for ${key}`];
    if (validator(manifest)) return [];
    return (validator.errors ?? []).map(
      (e) =>
        `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
    );
  }
}

/**
 * CRD patterns are Go (RE2) regular expressions; the only RE2-only syntax in these CRDs is the
 * case-insensitive flag group `(?i)`, which JavaScript spells as the `i` flag.
 */
function goRegExp(pattern: string, flags: string): RegExp {
  return pattern.includes('(?i)')
    ? new RegExp(pattern.replaceAll('(?i)', ''), `${flags}i`)
    : new RegExp(pattern, flags);
}
goRegExp.code = 'goRegExp';

/** CRD schemas describe metadata as a bare object; check the parts builders write. */
function withObjectMeta(schema: JsonObject): JsonObject {
  const properties = isObject(schema.properties) ? schema.properties : {};
  return {
    ...schema,
    properties: {
      ...properties,
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          namespace: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          annotations: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  };
}

/** The upstream CRDs; throws (never skips) when ../shared/crds is missing. */
export function upstreamRegistry(): SchemaRegistry {
  if (!existsSync(SHARED_CRDS_DIR)) {
    throw new Error(
      `the upstream CRDs are missing: expected them in ${SHARED_CRDS_DIR} (the shared/ folder beside the repository)`,
    );
  }
  const registry = new SchemaRegistry();
  for (const file of readdirSync(SHARED_CRDS_DIR).filter((f) => f.endsWith('.yaml'))) {
    const document: unknown = parse(readFileSync(join(SHARED_CRDS_DIR, file), 'utf8'));
    if (isObject(document) && document.kind === 'CustomResourceDefinition') registry.addCrd(document);
  }
  return registry;
}
