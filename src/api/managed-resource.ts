// What every managed resource of grants.pgplane.io shares: the Crossplane spec fields around
// forProvider (providerConfigRef, managementPolicies, deletionPolicy), the document shape, and
// validation errors that name the object, the field and a correct example. Grant, Role and
// Database are each a forProvider schema plus these.
import * as z from './zod.js';

const MANAGEMENT_POLICIES = ['Observe', 'Create', 'Update', 'Delete', 'LateInitialize', '*'] as const;
const DELETION_POLICIES = ['Delete', 'Orphan'] as const;
type DeletionPolicy = (typeof DELETION_POLICIES)[number];

/** A CEL transition rule: the API server refuses a change to the field once it is set. */
export function immutable<T extends z.ZodMiniType>(schema: T, what: string): T {
  return schema.check(
    z.meta({
      'x-kubernetes-validations': [
        { rule: 'self == oldSelf', message: `${what} is immutable: it is fixed when the object is created` },
      ],
    }),
  );
}

interface ManagedSpecOptions {
  /** What deletion does when spec.deletionPolicy is unset, and why, for the field's description. */
  readonly deletionPolicy: { readonly default: DeletionPolicy; readonly describe: string };
}

/** The spec of a managed resource: forProvider and the fields Crossplane gives every managed resource. */
export function managedSpec<T extends z.ZodMiniType>(forProvider: T, options: ManagedSpecOptions) {
  return z
    .object({
      forProvider,
      providerConfigRef: z
        .optional(z.object({ name: z.string().check(z.minLength(1)), kind: z.optional(z.string()) }))
        .check(z.describe('The ProviderConfig that says how to connect to the server.')),
      managementPolicies: z
        .optional(z.array(z.enum(MANAGEMENT_POLICIES)))
        .check(z.describe('Crossplane management policies; ["Observe"] reports drift and applies nothing.')),
      deletionPolicy: z
        ._default(z.enum(DELETION_POLICIES), options.deletionPolicy.default)
        .check(z.describe(options.deletionPolicy.describe)),
    })
    .check(z.describe('Desired state.'));
}

/** A whole managed-resource document: apiVersion, kind, metadata and spec. */
export function managedDocument<S extends z.ZodMiniType>(o: {
  apiVersion: string;
  kind: string;
  spec: S;
  description: string;
}) {
  return z
    .object({
      apiVersion: z
        .literal(o.apiVersion, { error: `must be ${o.apiVersion}` })
        .check(z.describe('API version.')),
      kind: z.literal(o.kind, { error: `must be ${o.kind}` }).check(z.describe('Kind.')),
      metadata: z
        .looseObject({
          name: z
            .string()
            .check(
              z.minLength(1, { error: `is empty; every ${o.kind} needs a name` }),
              z.describe(`Name of the ${o.kind}.`),
            ),
          namespace: z.optional(z.string()).check(z.describe(`Namespace of the ${o.kind}.`)),
        })
        .check(z.describe('Standard object metadata.')),
      spec: o.spec,
    })
    .check(z.describe(o.description));
}

export class ManagedValidationError extends Error {
  constructor(
    readonly kind: string,
    readonly problems: readonly string[],
    readonly source: string,
  ) {
    super(`invalid ${kind} ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ManagedValidationError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

export interface ValidationWords {
  readonly kind: string;
  /** One correct example per field: top-level (apiVersion, kind, metadata) or of spec.forProvider. */
  readonly examples: Readonly<Record<string, string>>;
  /** The example for a field without one of its own. */
  readonly fallback: string;
  readonly error?: new (problems: readonly string[], source: string) => ManagedValidationError;
}

function exampleFor(path: readonly PropertyKey[], words: ValidationWords): string {
  const field =
    path[0] === 'spec' && path[1] === 'forProvider' ? path[2] : path[0] === 'spec' ? path[1] : path[0];
  const example = typeof field === 'string' ? words.examples[field] : undefined;
  return example ?? words.fallback;
}

/**
 * Validates one document. Errors name the object (and where it came from), the field, what is
 * wrong and a correct example, because the person reading them is fixing a YAML file.
 */
export function parseManaged<S extends z.ZodMiniType>(
  schema: S,
  document: unknown,
  origin: string,
  words: ValidationWords,
): z.infer<S> {
  const result = schema.safeParse(document);
  if (result.success) return result.data;
  const name = readName(document);
  const source = name ? `"${name}" (${origin})` : `(${origin})`;
  const problems = result.error.issues.map((issue) => {
    const field = formatPath(issue.path) || '(document)';
    return `${field}: ${issue.message}. Example: ${exampleFor(issue.path, words)}`;
  });
  throw words.error
    ? new words.error(problems, source)
    : new ManagedValidationError(words.kind, problems, source);
}

function readName(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const metadata = (document as { metadata?: unknown }).metadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const name = (metadata as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}
