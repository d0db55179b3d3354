// The PostgresInstance spec: what a team writes. This zod schema is the single source of truth:
// the function validates XRs with it and the XRDs' openAPIV3Schema is generated from it.
import { z } from 'zod';
import { described } from './zod.js';
import { databaseName, objectName, roleName, secretName } from './identifier-schemas.js';
import { featureFields } from './instance-features.js';

/** PostgreSQL majors the current CloudNativePG release supports. */
export const POSTGRES_VERSIONS = ['14', '15', '16', '17', '18'] as const;
export type PostgresVersion = (typeof POSTGRES_VERSIONS)[number];

/** A size is a key of the Input's catalog; `small`, `medium` and `large` always exist. */
export const SIZE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** The largest volume we accept, in GB: a typo guard (64 TiB), not a platform policy. */
const MAX_STORAGE_GB = 65_536;

/** Go-style durations as ESO and Crossplane accept them: 1h, 30m, 1h30m, 45s. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
const MAX_DURATION_LENGTH = 32;
const duration = z.string().max(MAX_DURATION_LENGTH).regex(new RegExp(DURATION_PATTERN));

/** One line of printable text: what a remote key or property may hold (no control characters). */
const PRINTABLE_PATTERN = '^[^\\x00-\\x1f\\x7f]+$';
const MAX_REMOTE_KEY = 512;
const MAX_REMOTE_PROPERTY = 253;

/** A rotation token is recorded on composed objects: one label value's worth of characters. */
const ROTATION_TOKEN_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';

/** Size names are keys of the Input's catalog and appear in labels: a DNS label. */
export const MAX_SIZE_NAME = 63;

export const secretStoreRefSchema = z
  .object({
    name: described(objectName, 'Name of the External Secrets store.'),
    kind: z
      .enum(['SecretStore', 'ClusterSecretStore'])
      .default('ClusterSecretStore')
      .describe('SecretStore (in the XR namespace) or ClusterSecretStore.'),
  })
  .describe('The External Secrets store that holds the owner password.');

const credentialsSchema = z
  .object({
    source: z
      .enum(['SecretStore', 'Secret', 'Generated'])
      .optional()
      .describe(
        'Where the owner credentials come from. SecretStore: an ExternalSecret is composed from a secret store. ' +
          'Secret: a kubernetes.io/basic-auth Secret named credentialsSecretName already exists in the namespace. ' +
          "Generated: External Secrets' Password generator makes every role's password in the cluster, once; nobody ever sees it. " +
          "Default: the Input's credentials.defaultSource, else SecretStore when a store is known (here or in the function's Input), otherwise Secret. " +
          'With SecretStore or Generated, a credentials Secret (or an ExternalSecret writing it) the team made before the claim is used as it is.',
      ),
    secretStoreRef: secretStoreRefSchema.optional(),
    remoteKey: z
      .string()
      .min(1)
      .max(MAX_REMOTE_KEY)
      .regex(new RegExp(PRINTABLE_PATTERN), { error: 'must be one line of printable text' })
      .optional()
      .describe(
        "Key of the remote secret holding the password. Default: the Input's remoteKeyTemplate. Only where the platform lets claims choose keys for the store (Input claims.secretStores[].remoteKeys).",
      ),
    passwordProperty: z
      .string()
      .min(1)
      .max(MAX_REMOTE_PROPERTY)
      .regex(new RegExp(PRINTABLE_PATTERN), { error: 'must be one line of printable text' })
      .optional()
      .describe(
        'Property of the remote secret that holds the password. Default: password. Only where the platform lets claims choose keys, as for remoteKey.',
      ),
    refreshInterval: duration
      .optional()
      .describe(
        'How often External Secrets re-reads the store (a password rotation propagates). Default: 1h.',
      ),
    rotation: z
      .object({
        token: z
          .string()
          .min(1)
          .max(63)
          .regex(new RegExp(ROTATION_TOKEN_PATTERN), {
            error: 'must be letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
          })
          .describe(
            'Change it (a date, a ticket number) to get new passwords for every role. One rotation at a time: a change while the Secrets are still switching waits for them; a change before they switch replaces the rotation not yet applied.',
          ),
      })
      .optional()
      .describe(
        "Password rotation, for generated credentials: new passwords are generated in the cluster, CloudNativePG applies them (the owner's too) and the connection Secrets switch with them.",
      ),
  })
  .describe(
    'Where the basic-auth Secret for the database owner comes from. The username is always databaseOwner; only the password is read from the store.',
  );

export const postgresInstanceSpecSchema = z.object({
  size: z
    .string()
    .max(MAX_SIZE_NAME)
    .regex(new RegExp(SIZE_NAME_PATTERN))
    .default('small')
    .describe(
      'CPU and memory class: small (250m/1 CPU, 256Mi/1Gi), medium (500m/2 CPU, 512Mi/2Gi), large (1/4 CPU, 1Gi/4Gi), ' +
        'or a size the platform adds in the function Input. Memory-derived PostgreSQL parameters follow the size.',
    ),
  version: z
    .enum(POSTGRES_VERSIONS)
    .describe('PostgreSQL major version, as a string ("16"). Resolved to an image by the platform.'),
  storageGB: z
    .int()
    .min(1)
    .max(MAX_STORAGE_GB)
    .describe('Size of the data volume in GB (Gi). Volumes can grow later, never shrink.'),
  storageClass: z
    .optional(objectName)
    .describe(
      "StorageClass of the data (and WAL) volumes. Default: the Input's storageClass, else the cluster default.",
    ),
  walStorageGB: z
    .int()
    .min(1)
    .max(MAX_STORAGE_GB)
    .optional()
    .describe('Size of a separate WAL volume in GB. Omit to keep WAL on the data volume.'),
  instances: z
    .int()
    .min(1)
    .max(9)
    .default(1)
    .describe(
      'Number of PostgreSQL instances: 1, or 3 for a primary and two replicas (pod anti-affinity and PDBs).',
    ),
  databaseName: described(
    databaseName,
    'The application database. A PostgreSQL identifier: letter or underscore first, then letters, digits, underscores; at most 63 bytes; not postgres, template0 or template1.',
  ),
  databaseOwner: described(
    roleName,
    'The role that owns the application database (migrations run as it). Same rules as databaseName; not postgres, streaming_replica or pg_*.',
  ),
  credentialsSecretName: z
    .optional(secretName)
    .describe(
      'The kubernetes.io/basic-auth Secret whose username is databaseOwner; CloudNativePG bootstraps the owner from it. Default: <name>-credentials.',
    ),
  credentials: credentialsSchema.optional(),
  connectionSecretName: z
    .optional(secretName)
    .describe(
      'The Secret applications read: endpoint, port, database, username, password, uri, jdbc-uri, sslmode. Default: <name>-connection.',
    ),
  hibernate: z
    .boolean()
    .default(false)
    .describe(
      'true stops all pods and keeps the volumes (CloudNativePG hibernation): no compute cost, no data lost.',
    ),
  sharing: z
    .object({
      enabled: z
        .boolean()
        .default(false)
        .describe(
          'PostgresDatabases in this namespace may each create their own database and roles on this instance (spec.instanceRef).',
        ),
    })
    .optional()
    .describe(
      "Lets other services' PostgresDatabases live on this instance, each isolated in its own database.",
    ),
  ...featureFields,
});

export type PostgresInstanceSpec = z.output<typeof postgresInstanceSpecSchema>;

/** Fields Crossplane itself writes into an XR's spec; they are not the user's and are never "unknown". */
export const CROSSPLANE_SPEC_FIELDS = new Set([
  'crossplane',
  'compositionRef',
  'compositionRevisionRef',
  'compositionSelector',
  'compositionUpdatePolicy',
  'compositionRevisionSelector',
  'claimRef',
  'resourceRefs',
  'writeConnectionSecretToRef',
  'publishConnectionDetailsTo',
  'environmentConfigRefs',
]);

/**
 * A correct example for each field, quoted in every validation error so a person can fix the claim
 * without opening the docs.
 */
export const FIELD_EXAMPLES: Readonly<Record<string, string>> = {
  size: 'size: medium',
  version: 'version: "16"',
  storageGB: 'storageGB: 20',
  storageClass: 'storageClass: fast-ssd',
  walStorageGB: 'walStorageGB: 5',
  instances: 'instances: 3',
  databaseName: 'databaseName: agent_executor_db_prod',
  databaseOwner: 'databaseOwner: agent_executor',
  credentialsSecretName: 'credentialsSecretName: agent-executor-db-credentials',
  connectionSecretName: 'connectionSecretName: agent-executor-postgres',
  hibernate: 'hibernate: true',
  credentials:
    'credentials: {secretStoreRef: {name: vault, kind: ClusterSecretStore}, remoteKey: databases/agent-executor}',
  'credentials.source': 'credentials: {source: Secret}',
  'credentials.secretStoreRef': 'credentials: {secretStoreRef: {name: vault, kind: ClusterSecretStore}}',
  'credentials.secretStoreRef.name': 'credentials: {secretStoreRef: {name: vault}}',
  'credentials.secretStoreRef.kind': 'credentials: {secretStoreRef: {name: vault, kind: SecretStore}}',
  'credentials.remoteKey': 'credentials: {remoteKey: databases/agent-executor}',
  'credentials.passwordProperty': 'credentials: {passwordProperty: password}',
  'credentials.refreshInterval': 'credentials: {refreshInterval: 1h}',
  roles: 'roles: {leastPrivilege: true, runtime: app_rw, readOnly: app_ro}',
  'roles.runtime': 'roles: {runtime: app_rw}',
  'roles.readOnly': 'roles: {readOnly: app_ro}',
  access: 'access: [{role: reporting, tables: [{schema: analytics, objects: ["*"], privileges: [SELECT]}]}]',
  'access.role': 'access: [{role: reporting}]',
  'access.tables':
    'access: [{role: reporting, tables: [{schema: analytics, objects: ["*"], privileges: [SELECT]}]}]',
  schemas: 'schemas: [analytics, audit]',
  extensions: 'extensions: [pg_stat_statements, pgcrypto]',
  parameters: 'parameters: {log_min_duration_statement: "500ms"}',
  pooler: 'pooler: {mode: transaction, instances: 2}',
  'pooler.mode': 'pooler: {mode: transaction}',
  backup: 'backup: {schedule: "0 0 3 * * *", retention: 30d}',
  'backup.schedule': 'backup: {schedule: "0 0 3 * * *"}',
  'backup.retention': 'backup: {retention: 30d}',
  'backup.verify': 'backup: {verify: {schedule: "0 0 5 * * 0", timeout: 6h}}',
  'backup.verify.schedule': 'backup: {verify: {schedule: "0 0 5 * * 0"}}',
  'backup.verify.timeout': 'backup: {verify: {schedule: "0 0 5 * * 0", timeout: 6h}}',
  restore: 'restore: {from: checkout, targetTime: "2026-11-30T14:05:00Z"}',
  'restore.from': 'restore: {from: checkout}',
  'restore.targetTime': 'restore: {from: checkout, targetTime: "2026-11-30T14:05:00Z"}',
  'restore.targetLSN': 'restore: {from: checkout, targetLSN: 0/3000060}',
  'restore.backup': 'restore: {from: checkout, backup: checkout-daily-20261130023000}',
  monitoring: 'monitoring: {alerts: true}',
  deletionProtection: 'deletionProtection: false',
  upgrade: 'upgrade: {allowWithoutBackup: true}',
  'upgrade.allowWithoutBackup': 'upgrade: {allowWithoutBackup: true}',
  networkPolicy: 'networkPolicy: {allowedNamespaces: [agents]}',
  sharing: 'sharing: {enabled: true}',
};

/** What the function reports in the XR's status (Crossplane adds conditions beside it). */
export const postgresInstanceStatusSchema = z.object({
  endpoint: z
    .string()
    .optional()
    .describe('Host applications connect to: the read-write Service (or the pooler).'),
  port: z.int().optional().describe('PostgreSQL port.'),
  phase: z
    .string()
    .optional()
    .describe('CloudNativePG phase, "Pending" before the Cluster exists, "Hibernated" when hibernated.'),
  readyInstances: z.int().optional().describe('Instances ready to serve.'),
  instances: z.int().optional().describe('Instances CloudNativePG runs.'),
  connectionSecretName: z.string().optional().describe('The Secret applications read.'),
  passwordRotations: z
    .array(
      z.object({
        role: z.string().describe('The PostgreSQL role.'),
        phase: z
          .enum(['Generating', 'Switching', 'Waiting', 'Rotated'])
          .describe(
            'Generating: the new password is being generated. Switching: the credentials and connection Secrets change to it. Waiting: an earlier change has not finished. Rotated: done.',
          ),
        token: z.string().optional().describe('The rotation token the current password was generated for.'),
        rotatedAt: z.string().optional().describe('When the current password was generated.'),
      }),
    )
    .optional()
    .describe('Per role, where its password rotation stands (generated credentials with a rotation token).'),
  adoptedCredentialsSecrets: z
    .array(z.string())
    .optional()
    .describe(
      'Credentials Secrets the team made before the claim (or an ExternalSecret of theirs writes) that pgplane uses as they are instead of composing them.',
    ),
  version: z.string().optional().describe('The PostgreSQL major actually running.'),
  upgrade: z
    .object({
      from: z.string().describe('The major running before the upgrade.'),
      to: z.string().describe('The major being upgraded to.'),
    })
    .optional()
    .describe('A major upgrade CloudNativePG is running (offline, with pg_upgrade), while it runs.'),
  deletionProtection: z
    .boolean()
    .optional()
    .describe('Crossplane Usages refuse deleting this instance and its Cluster.'),
  databases: z
    .array(
      z.object({
        name: z.string().describe('The PostgresDatabase (its claim, for the legacy API).'),
        database: z.string().describe('Its database on this instance.'),
        owner: z.string().describe('The role that owns it.'),
        ready: z.boolean().describe('Whether the PostgresDatabase is Ready.'),
      }),
    )
    .optional()
    .describe('With sharing enabled: the PostgresDatabases this instance serves, by name.'),
  restore: z
    .object({
      phase: z.enum(['Restoring', 'Restored']).describe('Restoring until the recovered primary is up.'),
      from: z.string().describe('The PostgresInstance whose backups this instance was created from.'),
      target: z
        .string()
        .describe('Where the recovery stops: a time, an LSN, a backup, or the end of the archive.'),
      message: z.string().describe('What is restored, from which archive, to which point.'),
    })
    .optional()
    .describe('This instance was created from the backups of another one (spec.restore).'),
  verification: z
    .object({
      phase: z
        .enum(['Pending', 'Running', 'Passed', 'Failed'])
        .describe('Running while a verification clone restores; else the last result.'),
      lastResult: z
        .enum(['Passed', 'Failed'])
        .optional()
        .describe('How the last finished verification ended.'),
      lastStarted: z
        .string()
        .optional()
        .describe('When the last (or running) verification clone was created.'),
      lastVerified: z.string().optional().describe('When a restore of the latest backup last succeeded.'),
      backup: z.string().optional().describe('The base backup that restore used.'),
      recoveredTo: z
        .string()
        .optional()
        .describe('The point that restore recovered to: a bound on the data a restore would lose (RPO).'),
      durationSeconds: z
        .int()
        .optional()
        .describe('How long that restore took, clone creation to ready (RTO).'),
      lastFailed: z.string().optional().describe('When a verification last failed.'),
      lastFailure: z.string().optional().describe('Why it failed.'),
      dueBy: z.string().optional().describe('When the next verification must have passed.'),
      message: z.string().describe('What the verification is doing, in words.'),
    })
    .optional()
    .describe('Verified restores (spec.backup.verify): the last verification and the next.'),
});
