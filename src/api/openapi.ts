// zod → Kubernetes structural OpenAPI v3 schemas, so CRDs and XRDs are generated, never hand-edited.
import * as z from './zod.js';

/** A schema of either zod API (classic or mini): the JSON Schema generator is the shared core's. */
type AnySchema = z.core.$ZodType;
import { isObject, type JsonObject } from '../shared/json.js';

/** JSON Schema keywords Kubernetes structural schemas do not accept. */
const UNSUPPORTED_KEYWORDS = new Set(['$schema', 'id', '$id', 'propertyNames', 'examples', 'const']);

export function toOpenApiSchema(schema: AnySchema): JsonObject {
  const generated = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
  const openApi = structural(generated);
  if (!isObject(openApi)) throw new Error('zod produced a JSON Schema that is not an object');
  return openApi;
}

/**
 * Makes zod's JSON Schema a Kubernetes structural schema, which the API server insists on:
 * - `additionalProperties: false` beside `properties` (zod's .strict()) is refused as "mutually
 *   exclusive"; the API server prunes unknown fields anyway, so it is dropped;
 * - a union has no structural form: one of a single type keeps that type, one of several types
 *   (e.g. "*" or {name, arguments}) keeps the value as is, and the zod parse in the function or
 *   provider validates it with a readable error;
 * - zod bounds every integer by ±2^53-1, which only means "no bound";
 * - an object with no declared properties must say it keeps unknown fields, or it is emptied.
 */
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!isObject(node)) return node;
  const union = node.anyOf ?? node.oneOf;
  if (Array.isArray(union)) {
    const types = new Set(union.map((branch) => (isObject(branch) ? branch.type : undefined)));
    const description = typeof node.description === 'string' ? { description: node.description } : {};
    const [onlyType] = types;
    return types.size === 1 && typeof onlyType === 'string'
      ? { type: onlyType, ...description }
      : { ...description, 'x-kubernetes-preserve-unknown-fields': true };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (UNSUPPORTED_KEYWORDS.has(key)) continue;
    if ((key === 'minimum' || key === 'maximum') && Math.abs(Number(value)) === Number.MAX_SAFE_INTEGER)
      continue;
    if (key === 'additionalProperties' && value === false && 'properties' in node) continue;
    out[key] = structural(value);
  }
  if (out.type === 'object' && !out.properties && !out.additionalProperties) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

export interface CrdOptions {
  group: string;
  kind: string;
  plural: string;
  version: string;
  scope: 'Namespaced' | 'Cluster';
  categories?: string[];
  shortNames?: string[];
  description: string;
  spec?: AnySchema;
  status?: AnySchema;
  /** Top-level fields instead of spec/status (e.g. a function Input). */
  topLevel?: AnySchema;
  printerColumns?: JsonObject[];
  subresources?: boolean;
}

/** The openAPIV3Schema of a kind: spec (required) and status, or the top-level fields. */
function kindSchema(options: CrdOptions): JsonObject {
  if (options.topLevel) {
    const schema = toOpenApiSchema(options.topLevel);
    const properties = isObject(schema.properties) ? schema.properties : {};
    return {
      description: options.description,
      ...schema,
      properties: { ...properties, metadata: { type: 'object' } },
    };
  }
  return {
    description: options.description,
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      ...(options.spec ? { spec: toOpenApiSchema(options.spec) } : {}),
      ...(options.status ? { status: toOpenApiSchema(options.status) } : {}),
    },
    ...(options.spec ? { required: ['spec'] } : {}),
  };
}

export function customResourceDefinition(options: CrdOptions): JsonObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${options.plural}.${options.group}` },
    spec: {
      group: options.group,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.kind.toLowerCase(),
        ...(options.categories ? { categories: options.categories } : {}),
        ...(options.shortNames ? { shortNames: options.shortNames } : {}),
      },
      scope: options.scope,
      versions: [
        {
          name: options.version,
          served: true,
          storage: true,
          ...(options.printerColumns ? { additionalPrinterColumns: options.printerColumns } : {}),
          schema: { openAPIV3Schema: kindSchema(options) },
          ...(options.subresources ? { subresources: { status: {} } } : {}),
        },
      ],
    },
  };
}
