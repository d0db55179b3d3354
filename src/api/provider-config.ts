// The grants provider's own APIs: ProviderConfig (namespaced), ClusterProviderConfig and the
// Grant's status. These zod schemas are the truth; the CRDs under package/provider/ are
// generated from them (with the Grant spec from grant.ts).
import * as z from './zod.js';
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

/** A non-empty string, optional, with its description. */
const optionalText = (description: string) =>
  z.described(z.optional(z.string().check(z.minLength(1))), description);

/** A Secret's name. */
const secretNameField = () => z.string().check(z.minLength(1), z.describe('Secret name.'));

const secretKeys = z.described(
  z.strictObject({
    host: optionalText(`Key holding the server host. Default "${DEFAULT_SECRET_KEYS.host}".`),
    port: optionalText(`Key holding the port. Default "${DEFAULT_SECRET_KEYS.port}".`),
    user: optionalText(`Key holding the role name. Default "${DEFAULT_SECRET_KEYS.user}".`),
    password: optionalText(`Key holding the password. Default "${DEFAULT_SECRET_KEYS.password}".`),
    sslmode: optionalText(
      `Key holding the sslmode. Default "${DEFAULT_SECRET_KEYS.sslmode}" (optional in the Secret).`,
    ),
  }),
  'Keys of the connection Secret, when they differ from a CNPG app Secret.',
);

const providerConfigFields = {
  cluster: optionalText(
    'A CloudNativePG Cluster name. Sets the defaults: credentials from "<cluster>-app" (the database owner, so no superuser is needed for grants on owned objects), CA from "<cluster>-ca", host "<cluster>-rw.<namespace>.svc", sslmode verify-full.',
  ),
  connectionSecretRef: z.described(
    z.optional(z.strictObject({ name: secretNameField() })),
    'The Secret with the connection values (host, port, user, password, sslmode). Default "<cluster>-app".',
  ),
  keys: z.optional(secretKeys),
  caSecretRef: z.described(
    z.optional(
      z.strictObject({
        name: secretNameField(),
        key: z.described(
          z._default(z.string().check(z.minLength(1)), 'ca.crt'),
          'Key holding the PEM CA certificate.',
        ),
      }),
    ),
    'The Secret with the CA that signed the server certificate. Default "<cluster>-ca", key ca.crt.',
  ),
  host: optionalText(
    'Server host; overrides the Secret (a CNPG Secret names "<cluster>-rw", which resolves only in its namespace).',
  ),
  port: z.described(
    z.optional(z.number().check(z.int(), z.gte(1), z.lte(65535))),
    'Server port; overrides the Secret. Default 5432.',
  ),
  defaultDatabase: z.described(
    z.optional(z.string().check(z.minLength(1), z.maxLength(63))),
    'The database Roles and Databases are managed through (roles and databases belong to the whole server, but a session needs a database to connect to). Default "postgres".',
  ),
  sslmode: z.described(
    z.optional(z.enum(SSL_MODES)),
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
  .strictObject(providerConfigFields)
  .check(
    z.superRefine(needsSecret),
    z.describe(
      "How the provider connects to one PostgreSQL server; the Secrets live in the ProviderConfig's namespace.",
    ),
  );

export const clusterProviderConfigSpecSchema = z
  .strictObject({
    ...providerConfigFields,
    namespace: z
      .string()
      .check(z.minLength(1), z.describe('Namespace of the Secrets (and of the CNPG cluster).')),
  })
  .check(
    z.superRefine(needsSecret),
    z.describe('How the provider connects to one PostgreSQL server, for Grants in any namespace.'),
  );

export type ProviderConfigSpec = z.infer<typeof providerConfigSpecSchema>;

const integer = () => z.number().check(z.int());

const conditionSchema = z.described(
  z.object({
    type: z.described(z.string(), 'Synced or Ready.'),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.described(z.string(), 'A CamelCase reason, e.g. ReconcileSuccess, ReconcileError, Available.'),
    message: z.described(z.optional(z.string()), 'What happened, readable by a person.'),
    lastTransitionTime: z.described(z.string(), 'When the status last changed (RFC 3339).'),
    observedGeneration: z.described(
      z.optional(integer()),
      'The metadata.generation this condition is about.',
    ),
  }),
  'A Crossplane-style condition.',
);
export type Condition = z.infer<typeof conditionSchema>;

const privilegeSample = z.described(
  z.array(z.string()),
  'Up to 10 privileges, as "PRIVILEGE ON OBJECT", e.g. SELECT ON TABLE "public"."orders".',
);

const grantObservationSchema = z.described(
  z.object({
    database: z.described(z.optional(z.string()), 'The database observed.'),
    grantee: z.described(z.optional(z.string()), 'The grantee observed.'),
    drift: z.described(
      z.optional(
        z.object({
          missing: z.described(integer(), 'Declared privileges not present after this reconcile.'),
          extra: z.described(integer(), 'Present privileges that would be revoked.'),
          missingSample: z.optional(privilegeSample),
          extraSample: z.optional(privilegeSample),
        }),
      ),
      'Drift left after the last reconcile: non-zero only when nothing was applied (Observe) or applying failed.',
    ),
    lastCorrection: z.described(
      z.optional(
        z.object({
          time: z.described(z.string(), 'When it was applied (RFC 3339).'),
          statements: z.described(integer(), 'GRANT/REVOKE statements applied.'),
          granted: z.described(integer(), 'Privileges granted.'),
          revoked: z.described(integer(), 'Privileges revoked.'),
        }),
      ),
      'The last time privileges were changed in the database.',
    ),
    problems: z.described(
      z.optional(z.array(z.string())),
      'Declarations the plan could not honour (unknown objects, ...).',
    ),
    record: z.optional(grantRecordSchema),
  }),
  'What the provider observed in the database.',
);
export type GrantObservation = z.infer<typeof grantObservationSchema>;

const grantStatusSchema = managedStatus(GRANT_KIND, grantObservationSchema);

const providerConfigStatusSchema = z.described(
  z.object({ conditions: z.optional(z.array(conditionSchema)) }),
  'Observed state of the ProviderConfig.',
);

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
  document: z.ZodMiniObject<{ spec: z.ZodMiniType }>;
  status: z.ZodMiniType;
  columns: JsonObject[];
}): JsonObject {
  return customResourceDefinition({
    group: PROVIDER_GROUP,
    version: PROVIDER_VERSION,
    kind: o.kind,
    plural: o.plural,
    scope: 'Namespaced',
    categories: ['crossplane', 'managed', 'pgplane'],
    description: z.globalRegistry.get(o.document)?.description ?? `A ${o.kind}.`,
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

function managedStatus(kind: string, atProvider: z.ZodMiniType) {
  return z.described(
    z.object({
      conditions: z.described(z.optional(z.array(conditionSchema)), 'Synced and Ready.'),
      observedGeneration: z.optional(integer()),
      atProvider: z.optional(atProvider),
    }),
    `Observed state of the ${kind}.`,
  );
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
