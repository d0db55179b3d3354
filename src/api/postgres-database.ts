// The PostgresDatabase spec: one service's database, with its owner, roles and Secrets, on a
// shared PostgresInstance or on a server the platform registered. The database fields are the
// PostgresInstance's own schemas (picked, never copied), so the two kinds validate, default and
// explain them alike; only where the database lives is new.
import { z } from 'zod';
import { described } from './zod.js';
import { objectName } from './identifier-schemas.js';
import { immutable } from './managed-resource.js';
import { clusterNameProblem, DNS_LABEL_PATTERN, MAX_CLUSTER_NAME } from './names.js';
import {
  FIELD_EXAMPLES,
  postgresInstanceSpecSchema,
  postgresInstanceStatusSchema,
} from './postgres-instance.js';

/** The fields a PostgresDatabase shares with a PostgresInstance: everything about the database itself. */
const DATABASE_FIELDS = {
  databaseName: true,
  databaseOwner: true,
  credentialsSecretName: true,
  credentials: true,
  connectionSecretName: true,
  roles: true,
  access: true,
  schemas: true,
  extensions: true,
} as const;

const instanceRefSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(MAX_CLUSTER_NAME)
      .regex(new RegExp(DNS_LABEL_PATTERN))
      .superRefine((value, ctx) => {
        const problem = clusterNameProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('Name of the PostgresInstance, in this namespace.'),
  })
  .describe(
    'Create the database on a PostgresInstance in this namespace whose spec.sharing.enabled is true (CloudNativePG Database and DatabaseRoles). Fixed at creation.',
  );

const serverRefSchema = z
  .object({
    name: described(
      objectName,
      'Name of the grants.pgplane.io ClusterProviderConfig the platform registered for the server.',
    ),
  })
  .describe(
    'Create the database on a server the platform registered as a ClusterProviderConfig labelled pgplane.io/shared-server: "true" whose pgplane.io/allowed-namespaces annotation lists this namespace (pgplane\'s Role, Database and Grants). Fixed at creation.',
  );

export const postgresDatabaseSpecSchema = postgresInstanceSpecSchema
  .pick(DATABASE_FIELDS)
  .extend({
    instanceRef: immutable(instanceRefSchema, 'instanceRef').optional(),
    server: immutable(serverRefSchema, 'server').optional(),
  })
  .superRefine((spec, ctx) => {
    if ((spec.instanceRef === undefined) === (spec.server === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [spec.instanceRef ? 'server' : 'instanceRef'],
        message:
          spec.instanceRef === undefined
            ? 'is required: name the PostgresInstance (instanceRef) or the registered server (server) the database lives on'
            : 'cannot be set together with instanceRef: a database lives on exactly one backend',
      });
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'has(self.instanceRef) != has(self.server)',
        message: 'set exactly one of instanceRef and server',
      },
    ],
  });

export type PostgresDatabaseSpec = z.output<typeof postgresDatabaseSpecSchema>;

/** The PostgresInstance's examples for the shared fields, and the new ones. */
export const DATABASE_FIELD_EXAMPLES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    Object.entries(FIELD_EXAMPLES).filter(([field]) => field.split('.')[0]! in DATABASE_FIELDS),
  ),
  instanceRef: 'instanceRef: {name: shared}',
  'instanceRef.name': 'instanceRef: {name: shared}',
  server: 'server: {name: rds-main}',
  'server.name': 'server: {name: rds-main}',
};

export const postgresDatabaseStatusSchema = z.object({
  backend: z
    .object({
      kind: z
        .enum(['PostgresInstance', 'ClusterProviderConfig'])
        .describe('A shared PostgresInstance, or a server the platform registered.'),
      name: z.string().describe('Its name (namespace/name for a PostgresInstance).'),
    })
    .optional()
    .describe('Where the database lives.'),
  endpoint: z.string().optional().describe('Host applications connect to.'),
  port: z.int().optional().describe('PostgreSQL port.'),
  databaseName: z.string().optional().describe('The database in PostgreSQL.'),
  connectionSecretName: z.string().optional().describe('The Secret applications read.'),
  // Credentials work as an instance's: the same status, from the same composer.
  ...postgresInstanceStatusSchema.pick({ adoptedCredentialsSecrets: true, passwordRotations: true }).shape,
});
