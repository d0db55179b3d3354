// zod → Kubernetes structural OpenAPI v3 schemas, so CRDs and XRDs are generated, never hand-edited.
import { z } from 'zod';
import { isObject, type JsonObject } from '../shared/json.js';

/** JSON Schema keywords Kubernetes structural schemas do not accept. */
const UNSUPPORTED_KEYWORDS = new Set(['$schema', 'id', '$id', 'propertyNames', 'examples', 'const']);

export function toOpenApiSchema(schema: z.ZodType): JsonObject {
  const generated = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
  return structural(generated) as JsonObject;
}

function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (UNSUPPORTED_KEYWORDS.has(key)) continue;
    // zod bounds every integer by ±2^53-1; those bounds mean "no bound" and only clutter kubectl explain.
    if ((key === 'minimum' || key === 'maximum') && Math.abs(Number(value)) === Number.MAX_SAFE_INTEGER)
      continue;
    out[key] = structural(value);
  }
  // A free-form object (e.g. from z.unknown() or z.record of anything) must say so, or the API server prunes it.
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
  spec?: z.ZodType;
  status?: z.ZodType;
  /** Top-level fields instead of spec/status (e.g. a function Input). */
  topLevel?: z.ZodType;
  printerColumns?: JsonObject[];
  subresources?: boolean;
}

/** The openAPIV3Schema of a kind: spec (required) and status, or the top-level fields. */
export function kindSchema(options: CrdOptions): JsonObject {
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
