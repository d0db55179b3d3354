// The Role document: one PostgreSQL role on a server a ProviderConfig names, with its attributes,
// memberships and password. This zod schema is the truth: the provider validates with it and
// the Role CRD is generated from it. Privileged attributes (SUPERUSER, REPLICATION, BYPASSRLS)
// are not offered: a namespaced Role is written by whoever may write in its namespace, and none
// of those should mint a role that bypasses every privilege check on a shared server.
import { z } from 'zod';
import { postgresName } from './identifier-schemas.js';
import { immutable, managedDocument, managedSpec, parseManaged } from './managed-resource.js';
import { reservedRoleProblem } from './names.js';
import { PROVIDER_GROUP, PROVIDER_VERSION } from './provider-group.js';

export const ROLE_API_VERSION = `${PROVIDER_GROUP}/${PROVIDER_VERSION}`;
export const ROLE_KIND = 'Role';

/** Memberships a Role may declare: enough for any real role hierarchy, bounded for the API server. */
const MAX_MEMBERSHIPS = 100;

const roleName = postgresName.superRefine((value, ctx) => {
  const problem = reservedRoleProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** RFC 3339 with an offset (what PostgreSQL's VALID UNTIL reads unambiguously), or "infinity". */
const VALID_UNTIL = /^(infinity|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))$/;

export const roleParameters = z
  .object({
    name: immutable(roleName, 'name').describe(
      'The role name in PostgreSQL, exactly as in the catalog (any spelling; pgplane always quotes). Fixed at creation.',
    ),
    login: z.boolean().default(false).describe('LOGIN: the role may connect. Default false (a group role).'),
    inherit: z
      .boolean()
      .default(true)
      .describe(
        "INHERIT: the role uses the privileges of the roles it is a member of. Default true, as PostgreSQL's.",
      ),
    createdb: z.boolean().default(false).describe('CREATEDB: the role may create databases. Default false.'),
    createrole: z
      .boolean()
      .default(false)
      .describe('CREATEROLE: the role may create and alter roles. Default false.'),
    connectionLimit: z
      .number()
      .int()
      .min(-1)
      .max(100_000)
      .default(-1)
      .describe('CONNECTION LIMIT: concurrent connections of the role; -1 (the default) is no limit.'),
    validUntil: z
      .string()
      .regex(VALID_UNTIL, {
        error: 'must be an RFC 3339 time with an offset, e.g. 2027-06-30T00:00:00Z, or infinity',
      })
      .refine((v) => v === 'infinity' || !Number.isNaN(Date.parse(v)), {
        error: 'is not a real date and time; e.g. 2027-06-30T00:00:00Z',
      })
      .optional()
      .describe(
        'VALID UNTIL: when the password stops working, as an RFC 3339 time, or "infinity". Unset: it never expires.',
      ),
    inRoles: z
      .array(roleName)
      .max(MAX_MEMBERSHIPS)
      .optional()
      .describe(
        'The roles this role is a member of. Set (even to []), it is authoritative: a membership of this role not listed is revoked. Unset, memberships are not managed here (a Grant may manage them).',
      ),
    passwordSecretRef: z
      .object({
        name: z.string().min(1).describe("Secret in the Role's namespace."),
        key: z.string().min(1).default('password').describe('Key holding the password. Default "password".'),
      })
      .strict()
      .optional()
      .describe(
        'The password, from a Secret. A change of its content sets the new password on the next reconcile (rotation) without re-creating the role. The provider sends a SCRAM-SHA-256 verifier, never the password itself. Unset: the role has no password (certificate or peer authentication only).',
      ),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.inRoles?.some((r) => r === spec.name))
      ctx.addIssue({
        code: 'custom',
        path: ['inRoles'],
        message: 'names the role itself; a role cannot be a member of itself',
      });
    if (spec.inRoles && new Set(spec.inRoles).size !== spec.inRoles.length)
      ctx.addIssue({ code: 'custom', path: ['inRoles'], message: 'names a role twice' });
  })
  .describe('One PostgreSQL role.');

export const roleSchema = managedDocument({
  apiVersion: ROLE_API_VERSION,
  kind: ROLE_KIND,
  spec: managedSpec(roleParameters, {
    deletionPolicy: {
      default: 'Delete',
      describe:
        'Delete drops the role when the Role is deleted (refused by PostgreSQL, and reported, while it still owns objects or holds privileges); Orphan leaves it.',
    },
  }),
  description: 'A Role: one PostgreSQL role, its attributes, memberships and password, kept as declared.',
});

export type RoleDocument = z.infer<typeof roleSchema>;
export type RoleParameters = z.infer<typeof roleParameters>;

const EXAMPLES: Record<string, string> = {
  apiVersion: `apiVersion: ${ROLE_API_VERSION}`,
  kind: `kind: ${ROLE_KIND}`,
  metadata: 'metadata: {name: orders-app}',
  name: 'name: orders_app',
  login: 'login: true',
  inherit: 'inherit: true',
  createdb: 'createdb: false',
  createrole: 'createrole: false',
  connectionLimit: 'connectionLimit: 20',
  validUntil: 'validUntil: "2027-06-30T00:00:00Z"',
  inRoles: 'inRoles: [orders_readers]',
  passwordSecretRef: 'passwordSecretRef: {name: orders-app-password, key: password}',
};

/** Validates one Role document; errors name the Role, the field and a correct example. */
export function parseRole(document: unknown, origin = 'document'): RoleDocument {
  return parseManaged(roleSchema, document, origin, {
    kind: ROLE_KIND,
    examples: EXAMPLES,
    fallback:
      'spec.forProvider: {name: orders_app, login: true, passwordSecretRef: {name: orders-app-password}}',
  });
}

/** What the provider last saw of the role in the server, and which password it set. */
export const roleObservationSchema = z
  .object({
    exists: z.boolean().describe('Whether the role exists on the server.'),
    login: z.boolean().optional(),
    inherit: z.boolean().optional(),
    createdb: z.boolean().optional(),
    createrole: z.boolean().optional(),
    connectionLimit: z.number().int().optional(),
    validUntil: z.string().optional().describe('VALID UNTIL as the server reports it (RFC 3339), when set.'),
    inRoles: z.array(z.string()).optional().describe('The roles it is a member of.'),
    password: z
      .object({
        secret: z.string().describe('The Secret the password was read from (namespace/name).'),
        key: z.string().describe('The key of that Secret: a new key sets the password again.'),
        version: z
          .string()
          .describe("The Secret's resourceVersion when it was set: a new version sets the password again."),
        setAt: z.string().describe('When it was set (RFC 3339).'),
      })
      .optional()
      .describe('The password last set; never the password itself.'),
    drift: z
      .array(z.string())
      .optional()
      .describe(
        'How the role differs from the spec: set only when nothing was applied (Observe) or applying failed.',
      ),
  })
  .describe('What the provider observed on the server.');
export type RoleObservation = z.infer<typeof roleObservationSchema>;
