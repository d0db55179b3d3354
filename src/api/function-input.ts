// The function Input (pgplane.fn.crossplane.io/v1beta1, kind Input): the platform team's defaults,
// set once in the Composition. Every field is optional; an empty Input gives the documented defaults.
import { z } from 'zod';
import { namespaceName, objectName } from './identifier-schemas.js';
import { CLAIM_LIST_LIMITS, type ClaimListField } from './instance-features.js';
import { DNS_SUBDOMAIN_PATTERN, MAX_DNS_SUBDOMAIN } from './names.js';
import {
  DEFAULT_CLAIM_PARAMETERS,
  forbiddenParameterReason,
  PARAMETER_NAME_PATTERN,
} from './postgres-parameters.js';
import {
  DURATION_PATTERN,
  MAX_SIZE_NAME,
  POSTGRES_VERSIONS,
  SIZE_NAME_PATTERN,
  secretStoreRefSchema,
} from './postgres-instance.js';

export const INPUT_API_VERSION = 'pgplane.fn.crossplane.io/v1beta1';
export const INPUT_KIND = 'Input';

/** Kubernetes resource quantities (250m, 2, 512Mi, 1Gi, 1.5G). */
const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$';
const quantity = z.string().regex(new RegExp(QUANTITY_PATTERN));

const resourcePairSchema = z.object({
  request: quantity.describe('Guaranteed amount (the scheduler reserves it).'),
  limit: quantity.describe('Upper bound.'),
});

const sizeSchema = z
  .object({
    cpu: resourcePairSchema.describe('CPU request and limit, e.g. 500m and 2.'),
    memory: resourcePairSchema.describe(
      'Memory request and limit, e.g. 512Mi and 2Gi. PostgreSQL memory settings derive from the limit.',
    ),
    maxConnections: z
      .int()
      .min(10)
      .max(10_000)
      .optional()
      .describe('max_connections. Default: 100 per GiB of memory limit, at least 100.'),
  })
  .describe('One entry of the size catalog.');

const imagesSchema = z
  .object({
    catalogRef: z
      .object({
        kind: z.enum(['ClusterImageCatalog', 'ImageCatalog']).default('ClusterImageCatalog'),
        name: z.string().min(1).default('postgresql'),
      })
      .optional()
      .describe(
        'The CloudNativePG image catalog versions resolve through (default: ClusterImageCatalog "postgresql", as CNPG ships).',
      ),
    pinned: z
      .partialRecord(z.enum(POSTGRES_VERSIONS), z.string().min(1))
      .optional()
      .describe(
        'Pinned image per major, e.g. {"16": "ghcr.io/cloudnative-pg/postgresql:16.6-standard-bookworm"}; wins over the catalog.',
      ),
  })
  .describe('How a PostgresInstance version becomes a container image.');

const tolerationSchema = z.object({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.int().optional(),
});

const placementSchema = z
  .object({
    nodeSelector: z
      .record(z.string(), z.string())
      .optional()
      .describe('Node labels database pods require, e.g. {"workload.example.com/databases": "true"}.'),
    tolerations: z.array(tolerationSchema).optional().describe('Taints database pods tolerate.'),
  })
  .describe('Where database pods run.');

const passwordPolicySchema = z
  .object({
    minLength: z
      .int()
      .min(8)
      .max(1024)
      .default(16)
      .describe('Shortest password accepted in an existing Secret.'),
    onViolation: z
      .enum(['Warn', 'Refuse'])
      .default('Warn')
      .describe(
        'Warn: a PasswordPolicy=False condition and a warning result, and the claim proceeds. Refuse: nothing is composed until the password is changed.',
      ),
  })
  .describe(
    "Rules for passwords pgplane can see (existing-Secret mode): at least minLength characters, not the role's own name, not a well-known default. Violations name the Secret and the rule, never the password or its length.",
  );

/**
 * Symbols a generated password may hold: the URI-unreserved ones by default (they need no
 * escaping anywhere: URIs, shells, .pgpass), and at most these, none of which a shell, YAML or
 * libpq's keyword=value syntax treats specially inside quotes. The URI templates escape every
 * character anyway (urlquery), so any of them survives in uri and jdbc-uri.
 */
const DEFAULT_SYMBOL_CHARACTERS = '-_.~';
const SYMBOL_CHARACTERS_PATTERN = '^[-_.~!*+=@#%^&,:;?]+$';

const generatedCredentialsSchema = z
  .object({
    length: z
      .int()
      .min(32)
      .max(128)
      .default(32)
      .describe('Characters in every generated password (at least 32).'),
    digits: z.int().min(0).max(32).default(6).describe('How many of them are digits.'),
    symbols: z.int().min(0).max(32).default(4).describe('How many of them are symbols.'),
    symbolCharacters: z
      .string()
      .regex(new RegExp(SYMBOL_CHARACTERS_PATTERN), {
        error: `may hold only these symbols: -_.~!*+=@#%^&,:;?`,
      })
      .default(DEFAULT_SYMBOL_CHARACTERS)
      .describe(`The symbols to draw from. Default: ${DEFAULT_SYMBOL_CHARACTERS} (URI-unreserved).`),
    pushSecretStoreRef: secretStoreRefSchema
      .optional()
      .describe(
        'A store a PushSecret writes every generated password back to (for other consumers and disaster recovery). Omit to keep them in the cluster only.',
      ),
    pushRemoteKeyTemplate: z
      .string()
      .min(1)
      .default('postgres/{namespace}/{name}/{role}')
      .describe('Remote key of each pushed password. Placeholders: {namespace}, {name}, {role}.'),
  })
  .superRefine((policy, ctx) => {
    if (policy.digits + policy.symbols > policy.length - 8)
      ctx.addIssue({
        code: 'custom',
        path: ['symbols'],
        message: 'digits and symbols together must leave at least 8 letters in the password',
      });
  })
  .describe(
    "Generated credentials: External Secrets' Password generator makes each role's password in the cluster once (refreshPolicy CreatedOnce).",
  );

/** What an Input without credentials.generated gets. */
export const DEFAULT_GENERATED_CREDENTIALS = generatedCredentialsSchema.parse({});

const inputCredentialsSchema = z
  .object({
    secretStoreRef: secretStoreRefSchema.optional(),
    remoteKeyTemplate: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Remote key of the owner password when a claim names none. Placeholders: {namespace}, {name}, {databaseName}, {databaseOwner}. ' +
          'Example: "postgres/{namespace}/{name}".',
      ),
    passwordProperty: z
      .string()
      .min(1)
      .default('password')
      .describe('Property of the remote secret that holds the password.'),
    refreshInterval: z
      .string()
      .regex(new RegExp(DURATION_PATTERN))
      .default('1h')
      .describe('ExternalSecret refresh interval.'),
    passwordPolicy: passwordPolicySchema.optional(),
    defaultSource: z
      .enum(['SecretStore', 'Secret', 'Generated'])
      .optional()
      .describe(
        'The credentials source of a claim that names none. Default: SecretStore when secretStoreRef is set, otherwise Secret. Generated is the one where no person ever handles a password.',
      ),
    generated: generatedCredentialsSchema.optional(),
  })
  .describe('Default secret store for owner credentials, generated credentials, and the password policy.');

const ttlSchema = z
  .object({
    ready: z
      .string()
      .regex(new RegExp(DURATION_PATTERN))
      .default('60s')
      .describe('How long Crossplane may cache a ready result.'),
    notReady: z
      .string()
      .regex(new RegExp(DURATION_PATTERN))
      .default('15s')
      .describe('Shorter TTL while anything is not ready, so status catches up quickly.'),
  })
  .describe('Response TTLs.');

/** Extensions a team may ask for when the Input names none: trusted contrib modules shipped in CNPG images. */
export const DEFAULT_ALLOWED_EXTENSIONS = [
  'btree_gin',
  'btree_gist',
  'citext',
  'hstore',
  'pg_stat_statements',
  'pg_trgm',
  'pgcrypto',
  'tablefunc',
  'unaccent',
  'uuid-ossp',
];

const backupInputSchema = z
  .object({
    destinationPathTemplate: z
      .string()
      .min(1)
      .describe(
        'Object store path per instance. Placeholders: {namespace}, {name}. Example: "s3://pg-backups/{namespace}/{name}".',
      ),
    endpointURL: z.string().min(1).optional().describe('S3-compatible endpoint (MinIO, Ceph); omit for AWS.'),
    s3Credentials: z
      .object({
        secretName: z
          .string()
          .min(1)
          .describe('Secret in the instance namespace with the object store keys.'),
        accessKeyIdKey: z.string().min(1).default('ACCESS_KEY_ID'),
        secretAccessKeyKey: z.string().min(1).default('ACCESS_SECRET_KEY'),
      })
      .optional()
      .describe("Static S3 credentials; omit to use the pod's cloud identity (IRSA, workload identity)."),
  })
  .describe('Where backups go. Without it, claims asking for backups are refused with a message.');

const claimSecretStoreSchema = z
  .object({
    kind: z
      .enum(['SecretStore', 'ClusterSecretStore'])
      .describe(
        "SecretStore: a store in the claim's own namespace. ClusterSecretStore: a cluster-wide store.",
      ),
    name: z
      .optional(objectName)
      .describe(
        "The store's name. Omitted: every store of this kind; allowed only for SecretStore, which lives in the claim's namespace.",
      ),
    remoteKeys: z
      .boolean()
      .default(false)
      .describe(
        "Claims using this store may name their own credentials.remoteKey and passwordProperty. Leave false for a store shared by several teams: a key is then always the remoteKeyTemplate, filled with the claim's own namespace and name.",
      ),
  })
  .superRefine((store, ctx) => {
    if (store.kind === 'ClusterSecretStore' && store.name === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message:
          "is required for a ClusterSecretStore: allowing every cluster-wide store would let a claim read any team's secrets",
      });
  })
  .describe('A secret store claims may name in spec.credentials.secretStoreRef.');

const claimLimitsShape = Object.fromEntries(
  Object.entries(CLAIM_LIST_LIMITS).map(([field, max]) => [
    field,
    z.int().min(0).max(max).optional().describe(`Most entries in spec.${field} (at most ${max}).`),
  ]),
) as Record<ClaimListField, z.ZodOptional<z.ZodInt>>;

const claimPolicySchema = z
  .object({
    secretStores: z
      .array(claimSecretStoreSchema)
      .max(64)
      .default([])
      .describe(
        "Stores a claim may name besides the Input's own credentials.secretStoreRef (which claims may always name). Default: none.",
      ),
    parameters: z
      .array(
        z
          .string()
          .max(127)
          .regex(new RegExp(PARAMETER_NAME_PATTERN))
          .superRefine((name, ctx) => {
            const reason = forbiddenParameterReason(name);
            if (reason) ctx.addIssue({ code: 'custom', message: reason });
          }),
      )
      .max(512)
      .optional()
      .describe(
        `PostgreSQL parameters claims may set (an allow-list). Default: ${DEFAULT_CLAIM_PARAMETERS.join(', ')}.`,
      ),
    limits: z
      .object(claimLimitsShape)
      .optional()
      .describe('Lower bounds than the API allows on the lists a claim may hold.'),
  })
  .describe(
    "What claims may choose. Claims are written by teams the platform does not trust with its secret store, other teams' data or the superuser: they get only what is offered here.",
  );

/** The kinds of XR this function composes; the Composition's Input says which one it serves. */
const SERVED_KINDS = ['PostgresInstance', 'PostgresDatabase'] as const;

export const functionInputSchema = z.object({
  apiVersion: z.literal(INPUT_API_VERSION).optional(),
  kind: z.literal(INPUT_KIND).optional(),
  serves: z
    .enum(SERVED_KINDS)
    .default('PostgresInstance')
    .describe(
      "What the Composition's XRs are: PostgresInstance (a CloudNativePG cluster) or PostgresDatabase (one service's database on a shared instance or a registered server). The function never reads the XR's group or kind: a platform's own API works under either.",
    ),
  instanceKind: z
    .object({
      apiVersion: z.string().min(1).default('database.pgplane.io/v1alpha1'),
      kind: z.string().min(1).default('PostgresInstance'),
    })
    .default({ apiVersion: 'database.pgplane.io/v1alpha1', kind: 'PostgresInstance' })
    .describe(
      "The API of the PostgresInstances a PostgresDatabase's spec.instanceRef names (a platform with its own group sets it). Default: database.pgplane.io/v1alpha1 PostgresInstance.",
    ),
  databaseKind: z
    .object({
      apiVersion: z.string().min(1).default('database.pgplane.io/v1alpha1'),
      kind: z.string().min(1).default('PostgresDatabase'),
    })
    .default({ apiVersion: 'database.pgplane.io/v1alpha1', kind: 'PostgresDatabase' })
    .describe(
      'The API of the PostgresDatabases a shared PostgresInstance lists in its status (the legacy Composition sets XPostgresDatabase; a platform with its own group sets it). Default: database.pgplane.io/v1alpha1 PostgresDatabase.',
    ),
  sizes: z
    .record(z.string().max(MAX_SIZE_NAME).regex(new RegExp(SIZE_NAME_PATTERN)), sizeSchema)
    .optional()
    .describe('Size catalog entries added to, or replacing, small/medium/large.'),
  images: imagesSchema.optional(),
  credentials: inputCredentialsSchema.optional(),
  storageClass: z.string().min(1).optional().describe('Default StorageClass for data and WAL volumes.'),
  placement: placementSchema.optional(),
  clusterDomain: z
    .string()
    .min(1)
    .max(MAX_DNS_SUBDOMAIN)
    .regex(new RegExp(DNS_SUBDOMAIN_PATTERN), { error: 'must be a DNS domain, like cluster.local' })
    .default('cluster.local')
    .describe('DNS domain of the cluster, for endpoints.'),
  ttl: ttlSchema.optional(),
  profile: z
    .enum(['standard', 'production'])
    .default('standard')
    .describe('production turns on the NetworkPolicy and monitoring unless a claim says otherwise.'),
  extensions: z
    .object({ allowed: z.array(z.string().min(1)).default(DEFAULT_ALLOWED_EXTENSIONS) })
    .optional()
    .describe('Extensions claims may create.'),
  roleManagement: z
    .enum(['ManagedRoles', 'DatabaseRole'])
    .default('ManagedRoles')
    .describe(
      "How roles are created: the Cluster's managed.roles, or DatabaseRole objects (CloudNativePG 1.30 and later).",
    ),
  backup: backupInputSchema.optional(),
  deletionProtection: z
    .object({
      default: z
        .boolean()
        .optional()
        .describe(
          'Protection for claims that do not say. Default: on in the production profile, off otherwise.',
        ),
      required: z
        .boolean()
        .default(false)
        .describe(
          'Every claim is protected: a claim setting deletionProtection: false is refused, and deleting an instance takes the platform (another Composition or Input).',
        ),
    })
    .optional()
    .describe(
      'Crossplane Usages that refuse deleting a PostgresInstance and its CloudNativePG Cluster while protection is on.',
    ),
  claims: claimPolicySchema.optional(),
  namespaces: z
    .object({
      operator: z._default(namespaceName, 'cnpg-system').describe('Where the CloudNativePG operator runs.'),
      monitoring: z
        ._default(namespaceName, 'monitoring')
        .describe('Where Prometheus runs (scrapes the metrics port).'),
    })
    .optional()
    .describe('Namespaces the NetworkPolicy admits.'),
});

export type FunctionInput = z.output<typeof functionInputSchema>;
export type ClaimPolicy = z.output<typeof claimPolicySchema>;
export type PasswordPolicy = z.output<typeof passwordPolicySchema>;
export type GeneratedCredentialsPolicy = z.output<typeof generatedCredentialsSchema>;
export type Size = z.output<typeof sizeSchema>;
export type Placement = z.output<typeof placementSchema>;
