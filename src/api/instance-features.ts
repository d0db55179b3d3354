// The optional blocks of a PostgresInstance beyond the published flat fields: least-privilege roles,
// extra access, database objects, parameters, pooling, backups, monitoring and network policy.
import { z } from 'zod';
import { described } from './zod.js';
import { CLAIM_ACCESS_LIMITS, grantEntries, optionalSections } from './grant.js';
import {
  labelKey,
  labelValue,
  namespaceName,
  objectName,
  roleName,
  schemaName,
} from './identifier-schemas.js';
import { clusterNameProblem, DNS_LABEL_PATTERN, MAX_CLUSTER_NAME } from './names.js';
import { nextFire, parseCron } from '../shared/cron.js';
import {
  forbiddenParameterReason,
  MAX_PARAMETER_NAME,
  MAX_PARAMETER_VALUE,
  PARAMETER_NAME_PATTERN,
  PARAMETER_VALUE_PATTERN,
} from './postgres-parameters.js';

/**
 * The longest list a claim may hold, per field. They bound what one claim can make the function
 * compose (and the API server store); a platform may lower them in its Input (claims.limits).
 */
export const CLAIM_LIST_LIMITS = {
  access: 32,
  schemas: 64,
  extensions: 32,
  parameters: 64,
  allowedNamespaces: 64,
  allowedPodLabels: 16,
} as const;
export type ClaimListField = keyof typeof CLAIM_LIST_LIMITS;

/** Where each bounded list sits in a PostgresInstance spec. */
export const CLAIM_LIST_PATHS: Readonly<Record<ClaimListField, readonly string[]>> = {
  access: ['access'],
  schemas: ['schemas'],
  extensions: ['extensions'],
  parameters: ['parameters'],
  allowedNamespaces: ['networkPolicy', 'allowedNamespaces'],
  allowedPodLabels: ['networkPolicy', 'allowedPodLabels'],
};

/** Labels in one pod selector of networkPolicy.allowedPodLabels. */
const MAX_SELECTOR_LABELS = 16;

/**
 * zod has no maxProperties for records: check it, and put it into the generated schema so the API
 * server refuses the same.
 */
function boundedRecord<K extends z.core.$ZodRecordKey, V extends z.core.$ZodType>(
  key: K,
  value: V,
  maxProperties: number,
) {
  return z
    .record(key, value)
    .superRefine((record, ctx) => {
      const count = Object.keys(record).length;
      if (count > maxProperties)
        ctx.addIssue({
          code: 'custom',
          message: `has ${count} entries; at most ${maxProperties} are allowed`,
        });
    })
    .meta({ maxProperties });
}

const access = grantEntries(CLAIM_ACCESS_LIMITS);

const rolesSchema = z
  .object({
    leastPrivilege: z
      .boolean()
      .default(true)
      .describe(
        'Compose a runtime (read/write) role and a read-only role besides the owner. Applications connect as the runtime role; migrations as the owner.',
      ),
    runtime: z.optional(roleName).describe('Name of the runtime role. Default: <databaseName>_rw.'),
    readOnly: z.optional(roleName).describe('Name of the read-only role. Default: <databaseName>_ro.'),
  })
  .describe('Least-privilege roles for the application database.');

const accessEntrySchema = z
  .object({
    role: described(roleName, 'The role to create (or grant to) in the application database.'),
    login: z
      .boolean()
      .default(true)
      .describe('Create it as a login role with its own credentials and connection Secret.'),
    // Every section a Grant has, from the one list (bounded for claims), so the two never differ;
    // the database privileges and memberships keep the claim's own wording.
    ...optionalSections(access),
    databasePrivileges: z
      .array(z.enum(['CONNECT', 'TEMPORARY', 'CREATE', 'ALL']))
      .max(8)
      .optional()
      .describe('Privileges on the database. Default: CONNECT.'),
    memberships: z.optional(access.memberships).describe('Roles this role is a member of.'),
  })
  .describe('An extra role and exactly the privileges it holds (applied authoritatively).');

/** Extension names are not identifiers ("uuid-ossp"). */
const EXTENSION_NAME_PATTERN = '^[a-z0-9_][a-z0-9_-]*$';
const MAX_EXTENSION_NAME = 63;

const parametersSchema = boundedRecord(
  z.string().max(MAX_PARAMETER_NAME).regex(new RegExp(PARAMETER_NAME_PATTERN)),
  z
    .string()
    .max(MAX_PARAMETER_VALUE)
    .regex(new RegExp(PARAMETER_VALUE_PATTERN), { error: 'must be one line of printable text' }),
  CLAIM_LIST_LIMITS.parameters,
)
  .superRefine((parameters, ctx) => {
    for (const name of Object.keys(parameters)) {
      const reason = forbiddenParameterReason(name);
      if (reason) ctx.addIssue({ code: 'custom', path: [name], message: reason });
    }
  })
  .describe(
    'PostgreSQL parameters, as strings ("500ms", "on"). Override the size-derived memory settings too. Parameters CloudNativePG manages are refused.',
  );

const poolerSchema = z
  .object({
    mode: z.enum(['session', 'transaction']).default('transaction').describe('PgBouncer pool mode.'),
    instances: z.int().min(1).max(10).default(2).describe('PgBouncer pods.'),
    maxClientConnections: z
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe("max_client_conn. Default: PgBouncer's (100)."),
    defaultPoolSize: z
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('default_pool_size: server connections per user/database pair.'),
  })
  .describe(
    'A CloudNativePG Pooler (PgBouncer) in front of the primary; the connection Secret then points at it.',
  );

/** Six-field cron as CloudNativePG's ScheduledBackup wants it: seconds first. */
const SIX_FIELD_CRON_PATTERN = '^\\S+( \\S+){5}$';

/** A verification may take at most this long before it counts as failed: 1 minute to 2 days. */
const VERIFY_TIMEOUT_PATTERN = '^([1-9][0-9]?h|[1-9][0-9]{0,3}m)$';
const MAX_VERIFY_TIMEOUT_MINUTES = 48 * 60;

const MAX_SCHEDULE = 64;

const verifySchema = z
  .object({
    schedule: z
      .string()
      .max(MAX_SCHEDULE)
      .superRefine((value, ctx) => {
        // Too long is its own error; a hostile string is not parsed at all.
        if (value.length > MAX_SCHEDULE) return;
        const parsed = parseCron(value);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.problem });
        else if (!nextFire(parsed.schedule, new Date(Date.UTC(2000, 0, 1))))
          ctx.addIssue({ code: 'custom', message: 'never fires (no such date)' });
      })
      .describe(
        'When to verify that the latest backup restores: six-field cron in UTC, seconds first ("0 0 5 * * 0" is 05:00 on Sundays).',
      ),
    timeout: z
      .string()
      .max(5)
      .regex(new RegExp(VERIFY_TIMEOUT_PATTERN), {
        error: 'must be whole hours or minutes, like 6h or 90m',
      })
      .refine((value) => durationMinutes(value) <= MAX_VERIFY_TIMEOUT_MINUTES, {
        error: 'must be at most 48h',
      })
      .default('6h')
      .describe(
        'How long a verification clone may take to become ready before the verification fails (6h, 90m; at most 48h).',
      ),
  })
  .describe(
    'Verified restores: on this schedule a throwaway, network-isolated clone is restored from the latest backup, timed until it is ready, recorded in status and removed.',
  );

/** Minutes of a verify timeout ("6h", "90m"), already matched by VERIFY_TIMEOUT_PATTERN. */
export function durationMinutes(value: string): number {
  const amount = Number(value.slice(0, -1));
  return value.endsWith('h') ? amount * 60 : amount;
}

const backupSchema = z
  .object({
    schedule: z
      .string()
      .regex(new RegExp(SIX_FIELD_CRON_PATTERN), {
        error: 'must be a six-field cron expression, seconds first',
      })
      .max(64)
      .default('0 0 3 * * *')
      .describe('When to take a base backup: six-field cron, seconds first ("0 0 3 * * *" is 03:00 daily).'),
    retention: z
      .string()
      .max(8)
      .regex(/^[1-9][0-9]*[dwm]$/, { error: 'must be a number of days, weeks or months, like 30d' })
      .default('30d')
      .describe('How long backups and WAL are kept (Barman retention policy: 30d, 4w, 6m).'),
    verify: verifySchema.optional(),
  })
  .describe('Continuous WAL archiving and scheduled base backups through the Barman Cloud plugin.');

/** RFC 3339 with a time zone, as CloudNativePG's recoveryTarget.targetTime takes it: 2026-11-30T14:05:00Z. */
const RFC3339_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$';
const MAX_RFC3339 = 35;
/** A PostgreSQL LSN: two hexadecimal halves, 0/3000060. */
const LSN_PATTERN = '^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$';
const MAX_LSN = 17;

const restoreSchema = z
  .object({
    from: z
      .string()
      .min(1)
      .max(MAX_CLUSTER_NAME)
      .regex(new RegExp(DNS_LABEL_PATTERN))
      .superRefine((value, ctx) => {
        const problem = clusterNameProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe(
        'The PostgresInstance (claim name for the legacy API) in this namespace whose backups this instance is created from. It must have spec.backup and a completed base backup.',
      ),
    targetTime: z
      .string()
      .max(MAX_RFC3339)
      .regex(new RegExp(RFC3339_PATTERN), {
        error: 'must be an RFC 3339 time with a time zone, like 2026-11-30T14:05:00Z',
      })
      .refine((value) => !Number.isNaN(Date.parse(value)), { error: 'is not a real date and time' })
      .optional()
      .describe(
        'Recover to this point in time (RFC 3339, with a time zone). Default: the end of the archive.',
      ),
    targetLSN: z
      .string()
      .max(MAX_LSN)
      .regex(new RegExp(LSN_PATTERN), { error: 'must be a PostgreSQL LSN, like 0/3000060' })
      .optional()
      .describe('Recover to this WAL position (an LSN, like 0/3000060) instead of a time.'),
    backup: z
      .optional(objectName)
      .describe(
        'Restore exactly this CloudNativePG Backup of the source (its name in this namespace) and stop as soon as it is consistent, replaying no later WAL.',
      ),
  })
  .superRefine((restore, ctx) => {
    const targets = (['targetTime', 'targetLSN', 'backup'] as const).filter(
      (key) => restore[key] !== undefined,
    );
    for (const extra of targets.slice(1))
      ctx.addIssue({
        code: 'custom',
        path: [extra],
        message: `cannot be set together with ${targets[0]}: set at most one of targetTime, targetLSN and backup (none recovers to the end of the archive)`,
      });
  })
  .describe(
    'Create this instance from the backups of another PostgresInstance in the same namespace (CloudNativePG recovery). Read once, when the instance is created: it cannot be added to or changed on an instance that exists.',
  );

const upgradeSchema = z
  .object({
    allowWithoutBackup: z
      .boolean()
      .default(false)
      .describe(
        'Upgrade to a higher spec.version even without a recent successful backup. CloudNativePG upgrades a major offline with pg_upgrade and there is no way back: without a backup, a failed upgrade can lose the database.',
      ),
  })
  .describe(
    'How a major upgrade (a higher spec.version than the one running) is guarded. By default it needs spec.backup and a successful backup whose archive is healthy.',
  );

const monitoringSchema = z
  .object({
    alerts: z.boolean().default(true).describe('Also compose a PrometheusRule with essential alerts.'),
  })
  .describe("A PodMonitor for the instances' metrics port, and optionally essential alerts.");

const networkPolicySchema = z
  .object({
    enabled: z
      .boolean()
      .optional()
      .describe("Compose the NetworkPolicy. Default: the Input profile's choice (on in production)."),
    allowedNamespaces: z
      .array(namespaceName)
      .max(CLAIM_LIST_LIMITS.allowedNamespaces)
      .default([])
      .describe('Namespaces whose pods may connect (besides this one, if allowSameNamespace).'),
    allowSameNamespace: z
      .boolean()
      .default(true)
      .describe("Pods in the instance's own namespace may connect."),
    allowedPodLabels: z
      .array(boundedRecord(labelKey, labelValue, MAX_SELECTOR_LABELS))
      .max(CLAIM_LIST_LIMITS.allowedPodLabels)
      .optional()
      .describe(
        'Instead of the whole namespace: only pods of this namespace with these labels (each entry one selector).',
      ),
  })
  .describe(
    'Who may open connections to the database pods; the operator, the pooler and replication are always allowed.',
  );

export const featureFields = {
  roles: rolesSchema.optional(),
  access: z
    .array(accessEntrySchema)
    .max(CLAIM_LIST_LIMITS.access)
    .optional()
    .describe('Extra roles and their privileges, composed as pgplane Grants.'),
  schemas: z
    .array(schemaName)
    .max(CLAIM_LIST_LIMITS.schemas)
    .optional()
    .describe(
      'Schemas to create in the application database, owned by databaseOwner. The least-privilege roles get access to them.',
    ),
  extensions: z
    .array(z.string().max(MAX_EXTENSION_NAME).regex(new RegExp(EXTENSION_NAME_PATTERN)))
    .max(CLAIM_LIST_LIMITS.extensions)
    .optional()
    .describe("Extensions to create in the application database, from the platform's allow-list."),
  parameters: parametersSchema.optional(),
  pooler: poolerSchema.optional(),
  backup: backupSchema.optional(),
  restore: restoreSchema.optional(),
  monitoring: monitoringSchema.optional(),
  networkPolicy: networkPolicySchema.optional(),
  deletionProtection: z
    .boolean()
    .optional()
    .describe(
      "Refuse deleting this instance and its CloudNativePG Cluster (Crossplane Usages) until this is set to false again. Default: the Input's deletionProtection.default (on in the production profile).",
    ),
  upgrade: upgradeSchema.optional(),
};

export type AccessEntry = z.output<typeof accessEntrySchema>;
