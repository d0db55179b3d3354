// The grants provider's own APIs: ProviderConfig (namespaced), ClusterProviderConfig and the
// Grant's status. These zod schemas are the truth; the CRDs under package/provider/ are
// generated from them (with the Grant spec from grant.ts).
import { z } from 'zod';
import type { JsonObject } from '../shared/json.js';
import { GRANT_KIND, grantSchema } from './grant.js';
import { customResourceDefinition } from './openapi.js';
import { grantRecordSchema } from './grant-record.js';
import { DATABASE_KIND, databaseObservationSchema, databaseSchema } from './database.js';
import { ROLE_KIND, roleObservationSchema, roleSchema } from './role.js';

import { PROVIDER_GROUP, PROVIDER_VERSION } from './provider-group.js';

export { PROVIDER_GROUP, PROVIDER_VERSION };
export const PROVIDER_CONFIG_KIND = 'ProviderConfig';
export const CLUSTER_PROVIDER_CONFIG_KIND = 'ClusterProviderConfig';
export const PLURALS = {
  Grant: 'grants',
  Role: 'roles',
  Database: 'databases',
  ProviderConfig: 'providerconfigs',
  ClusterProviderConfig: 'clusterproviderconfigs',
} as const;

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Where each connection value lives in the Secret. The defaults read a CNPG `<cluster>-app` Secret. */
export const DEFAULT_SECRET_KEYS = {
  host: 'host',
  port: 'port',
  user: 'username',
  password: 'password',
  sslmode: 'sslmode',
} as const;

const secretKeys = z
  .object({
    host: z
      .string()
      .min(1)
      .optional()
      .describe(`Key holding the server host. Default "${DEFAULT_SECRET_KEYS.host}".`),
    port: z
      .string()
      .min(1)
      .optional()
      .describe(`Key holding the port. Default "${DEFAULT_SECRET_KEYS.port}".`),
    user: z
      .string()
      .min(1)
      .optional()
      .describe(`Key holding the role name. Default "${DEFAULT_SECRET_KEYS.user}".`),
    password: z
      .string()
      .min(1)
      .optional()
      .describe(`Key holding the password. Default "${DEFAULT_SECRET_KEYS.password}".`),
    sslmode: z
      .string()
      .min(1)
      .optional()
      .describe(
        `Key holding the sslmode. Default "${DEFAULT_SECRET_KEYS.sslmode}" (optional in the Secret).`,
      ),
  })
  .strict()
  .describe('Keys of the connection Secret, when they differ from a CNPG app Secret.');

const providerConfigFields = {
  cluster: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A CloudNativePG Cluster name. Sets the defaults: credentials from "<cluster>-app" (the database owner, so no superuser is needed for grants on owned objects), CA from "<cluster>-ca", host "<cluster>-rw.<namespace>.svc", sslmode verify-full.',
    ),
  connectionSecretRef: z
    .object({ name: z.string().min(1).describe('Secret name.') })
    .strict()
    .optional()
    .describe(
      'The Secret with the connection values (host, port, user, password, sslmode). Default "<cluster>-app".',
    ),
  keys: secretKeys.optional(),
  caSecretRef: z
    .object({
      name: z.string().min(1).describe('Secret name.'),
      key: z.string().min(1).default('ca.crt').describe('Key holding the PEM CA certificate.'),
    })
    .strict()
    .optional()
    .describe(
      'The Secret with the CA that signed the server certificate. Default "<cluster>-ca", key ca.crt.',
    ),
  host: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Server host; overrides the Secret (a CNPG Secret names "<cluster>-rw", which resolves only in its namespace).',
    ),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('Server port; overrides the Secret. Default 5432.'),
  defaultDatabase: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .describe(
      'The database Roles and Databases are managed through (roles and databases belong to the whole server, but a session needs a database to connect to). Default "postgres".',
    ),
  sslmode: z
    .enum(SSL_MODES)
    .optional()
    .describe(
      'TLS: disable, require, verify-ca or verify-full; overrides the Secret. Default verify-full with a CA, require without.',
    ),
};

function needsSecret(
  spec: { cluster?: string | undefined; connectionSecretRef?: unknown },
  ctx: z.core.$RefinementCtx,
) {
  if (spec.cluster === undefined && spec.connectionSecretRef === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['connectionSecretRef'],
      message:
        'is required without cluster; name the Secret, e.g. connectionSecretRef: {name: app-owner}, or set cluster: app',
    });
  }
}

export const providerConfigSpecSchema = z
  .object(providerConfigFields)
  .strict()
  .superRefine(needsSecret)
  .describe(
    "How the provider connects to one PostgreSQL server; the Secrets live in the ProviderConfig's namespace.",
  );

export const clusterProviderConfigSpecSchema = z
  .object({
    ...providerConfigFields,
    namespace: z.string().min(1).describe('Namespace of the Secrets (and of the CNPG cluster).'),
  })
  .strict()
  .superRefine(needsSecret)
  .describe('How the provider connects to one PostgreSQL server, for Grants in any namespace.');

export type ProviderConfigSpec = z.infer<typeof providerConfigSpecSchema>;

const conditionSchema = z
  .object({
    type: z.string().describe('Synced or Ready.'),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string().describe('A CamelCase reason, e.g. ReconcileSuccess, ReconcileError, Available.'),
    message: z.string().optional().describe('What happened, readable by a person.'),
    lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
    observedGeneration: z
      .number()
      .int()
      .optional()
      .describe('The metadata.generation this condition is about.'),
  })
  .describe('A Crossplane-style condition.');
export type Condition = z.infer<typeof conditionSchema>;

const privilegeSample = z
  .array(z.string())
  .describe('Up to 10 privileges, as "PRIVILEGE ON OBJECT", e.g. SELECT ON TABLE "public"."orders".');

const grantObservationSchema = z
  .object({
    database: z.string().optional().describe('The database observed.'),
    grantee: z.string().optional().describe('The grantee observed.'),
    drift: z
      .object({
        missing: z.number().int().describe('Declared privileges not present after this reconcile.'),
        extra: z.number().int().describe('Present privileges that would be revoked.'),
        missingSample: privilegeSample.optional(),
        extraSample: privilegeSample.optional(),
      })
      .optional()
      .describe(
        'Drift left after the last reconcile: non-zero only when nothing was applied (Observe) or applying failed.',
      ),
    lastCorrection: z
      .object({
        time: z.string().describe('When it was applied (RFC 3339).'),
        statements: z.number().int().describe('GRANT/REVOKE statements applied.'),
        granted: z.number().int().describe('Privileges granted.'),
        revoked: z.number().int().describe('Privileges revoked.'),
      })
      .optional()
      .describe('The last time privileges were changed in the database.'),
    problems: z
      .array(z.string())
      .optional()
      .describe('Declarations the plan could not honour (unknown objects, ...).'),
    record: grantRecordSchema.optional(),
  })
  .describe('What the provider observed in the database.');
export type GrantObservation = z.infer<typeof grantObservationSchema>;

const grantStatusSchema = managedStatus(GRANT_KIND, grantObservationSchema);

const providerConfigStatusSchema = z
  .object({ conditions: z.array(conditionSchema).optional() })
  .describe('Observed state of the ProviderConfig.');

const CONDITION_COLUMNS: JsonObject[] = [
  { name: 'Synced', type: 'string', jsonPath: ".status.conditions[?(@.type=='Synced')].status" },
  { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
];

/**
 * The CRD of a managed kind: namespaced, in Crossplane's managed category, with Synced and Ready
 * columns ahead of the kind's own, and the Age column last.
 */
function managedDefinition(o: {
  kind: string;
  plural: string;
  document: { description?: string | undefined; shape: { spec: z.ZodType } };
  status: z.ZodType;
  columns: JsonObject[];
}): JsonObject {
  return customResourceDefinition({
    group: PROVIDER_GROUP,
    version: PROVIDER_VERSION,
    kind: o.kind,
    plural: o.plural,
    scope: 'Namespaced',
    categories: ['crossplane', 'managed', 'pgplane'],
    description: o.document.description ?? `A ${o.kind}.`,
    spec: o.document.shape.spec,
    status: o.status,
    subresources: true,
    printerColumns: [
      ...CONDITION_COLUMNS,
      ...o.columns,
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

function managedStatus(kind: string, atProvider: z.ZodType) {
  return z
    .object({
      conditions: z.array(conditionSchema).optional().describe('Synced and Ready.'),
      observedGeneration: z.number().int().optional(),
      atProvider: atProvider.optional(),
    })
    .describe(`Observed state of the ${kind}.`);
}

const grantDefinition = (): JsonObject =>
  managedDefinition({
    kind: GRANT_KIND,
    plural: PLURALS.Grant,
    document: grantSchema,
    status: grantStatusSchema,
    columns: [
      { name: 'Database', type: 'string', jsonPath: '.spec.forProvider.database' },
      { name: 'Grantee', type: 'string', jsonPath: '.spec.forProvider.grantee' },
      { name: 'Missing', type: 'integer', jsonPath: '.status.atProvider.drift.missing', priority: 1 },
      { name: 'Extra', type: 'integer', jsonPath: '.status.atProvider.drift.extra', priority: 1 },
    ],
  });

const roleDefinition = (): JsonObject =>
  managedDefinition({
    kind: ROLE_KIND,
    plural: PLURALS.Role,
    document: roleSchema,
    status: managedStatus(ROLE_KIND, roleObservationSchema),
    columns: [
      { name: 'Role', type: 'string', jsonPath: '.spec.forProvider.name' },
      { name: 'Login', type: 'boolean', jsonPath: '.spec.forProvider.login' },
    ],
  });

const databaseDefinition = (): JsonObject =>
  managedDefinition({
    kind: DATABASE_KIND,
    plural: PLURALS.Database,
    document: databaseSchema,
    status: managedStatus(DATABASE_KIND, databaseObservationSchema),
    columns: [
      { name: 'Database', type: 'string', jsonPath: '.spec.forProvider.name' },
      { name: 'Owner', type: 'string', jsonPath: '.status.atProvider.owner' },
    ],
  });

function providerConfigDefinition(): JsonObject {
  return customResourceDefinition({
    group: PROVIDER_GROUP,
    version: PROVIDER_VERSION,
    kind: PROVIDER_CONFIG_KIND,
    plural: PLURALS.ProviderConfig,
    scope: 'Namespaced',
    categories: ['crossplane', 'provider', 'pgplane'],
    description: 'How Grants in this namespace connect to a PostgreSQL server.',
    spec: providerConfigSpecSchema,
    status: providerConfigStatusSchema,
    subresources: true,
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
      { name: 'Secret', type: 'string', jsonPath: '.spec.connectionSecretRef.name' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

function clusterProviderConfigDefinition(): JsonObject {
  return customResourceDefinition({
    group: PROVIDER_GROUP,
    version: PROVIDER_VERSION,
    kind: CLUSTER_PROVIDER_CONFIG_KIND,
    plural: PLURALS.ClusterProviderConfig,
    scope: 'Cluster',
    categories: ['crossplane', 'provider', 'pgplane'],
    description: 'How Grants in any namespace connect to a PostgreSQL server.',
    spec: clusterProviderConfigSpecSchema,
    status: providerConfigStatusSchema,
    subresources: true,
    printerColumns: [
      { name: 'Namespace', type: 'string', jsonPath: '.spec.namespace' },
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

/** The provider's CRDs by their path in the repository. */
export function providerCrdFiles(): Record<string, JsonObject> {
  const files: Record<string, JsonObject> = {
    [`package/provider/crds/${PROVIDER_GROUP}_${PLURALS.Grant}.yaml`]: grantDefinition(),
    [`package/provider/crds/${PROVIDER_GROUP}_${PLURALS.Role}.yaml`]: roleDefinition(),
    [`package/provider/crds/${PROVIDER_GROUP}_${PLURALS.Database}.yaml`]: databaseDefinition(),
    [`package/provider/crds/${PROVIDER_GROUP}_${PLURALS.ProviderConfig}.yaml`]: providerConfigDefinition(),
    [`package/provider/crds/${PROVIDER_GROUP}_${PLURALS.ClusterProviderConfig}.yaml`]:
      clusterProviderConfigDefinition(),
  };
  return files;
}
