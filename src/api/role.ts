// The Role document: one PostgreSQL role on a server a ProviderConfig names, with its attributes,
// memberships and password. This zod schema is the truth: the provider validates with it and
// the Role CRD is generated from it. Privileged attributes (SUPERUSER, REPLICATION, BYPASSRLS)
// are not offered: a namespaced Role is written by whoever may write in its namespace, and none
// of those should mint a role that bypasses every privilege check on a shared server.
import * as z from './zod.js';
import { postgresName } from './identifier-schemas.js';
import { immutable, managedDocument, managedSpec, parseManaged } from './managed-resource.js';
import { reservedRoleProblem } from './names.js';
import { PROVIDER_GROUP, PROVIDER_VERSION } from './provider-group.js';

export const ROLE_API_VERSION = `${PROVIDER_GROUP}/${PROVIDER_VERSION}`;
export const ROLE_KIND = 'Role';

/** Memberships a Role may declare: enough for any real role hierarchy, bounded for the API server. */
const MAX_MEMBERSHIPS = 100;

const roleName = postgresName.check(
  z.superRefine((value: string, ctx) => {
    const problem = reservedRoleProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

/** RFC 3339 with an offset (what PostgreSQL's VALID UNTIL reads unambiguously), or "infinity". */
const VALID_UNTIL = /^(infinity|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))$/;

const flag = (byDefault: boolean, description: string) =>
  z.described(z._default(z.boolean(), byDefault), description);

const roleParametersShape = z.strictObject({
  name: z.described(
    immutable(roleName, 'name'),
    'The role name in PostgreSQL, exactly as in the catalog (any spelling; pgplane always quotes). Fixed at creation.',
  ),
  login: flag(false, 'LOGIN: the role may connect. Default false (a group role).'),
  inherit: flag(
    true,
    "INHERIT: the role uses the privileges of the roles it is a member of. Default true, as PostgreSQL's.",
  ),
  createdb: flag(false, 'CREATEDB: the role may create databases. Default false.'),
  createrole: flag(false, 'CREATEROLE: the role may create and alter roles. Default false.'),
  connectionLimit: z.described(
    z._default(z.number().check(z.int(), z.gte(-1), z.lte(100_000)), -1),
    'CONNECTION LIMIT: concurrent connections of the role; -1 (the default) is no limit.',
  ),
  validUntil: z.described(
    z.optional(
      z.string().check(
        z.regex(VALID_UNTIL, {
          error: 'must be an RFC 3339 time with an offset, e.g. 2027-06-30T00:00:00Z, or infinity',
        }),
        z.refine((v: string) => v === 'infinity' || !Number.isNaN(Date.parse(v)), {
          error: 'is not a real date and time; e.g. 2027-06-30T00:00:00Z',
        }),
      ),
    ),
    'VALID UNTIL: when the password stops working, as an RFC 3339 time, or "infinity". Unset: it never expires.',
  ),
  inRoles: z.described(
    z.optional(z.array(roleName).check(z.maxLength(MAX_MEMBERSHIPS))),
    'The roles this role is a member of. Set (even to []), it is authoritative: a membership of this role not listed is revoked. Unset, memberships are not managed here (a Grant may manage them).',
  ),
  passwordSecretRef: z.described(
    z.optional(
      z.strictObject({
        name: z.string().check(z.minLength(1), z.describe("Secret in the Role's namespace.")),
        key: z.described(
          z._default(z.string().check(z.minLength(1)), 'password'),
          'Key holding the password. Default "password".',
        ),
      }),
    ),
    'The password, from a Secret. A change of its content sets the new password on the next reconcile (rotation) without re-creating the role. The provider sends a SCRAM-SHA-256 verifier, never the password itself. Unset: the role has no password (certificate or peer authentication only).',
  ),
});

export const roleParameters = roleParametersShape.check(
  z.superRefine((spec: z.output<typeof roleParametersShape>, ctx) => {
    if (spec.inRoles?.some((r) => r === spec.name))
      ctx.addIssue({
        code: 'custom',
        path: ['inRoles'],
        message: 'names the role itself; a role cannot be a member of itself',
      });
    if (spec.inRoles && new Set(spec.inRoles).size !== spec.inRoles.length)
      ctx.addIssue({ code: 'custom', path: ['inRoles'], message: 'names a role twice' });
  }),
  z.describe('One PostgreSQL role.'),
);

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
export const roleObservationSchema = z.described(
  z.object({
    exists: z.described(z.boolean(), 'Whether the role exists on the server.'),
    login: z.optional(z.boolean()),
    inherit: z.optional(z.boolean()),
    createdb: z.optional(z.boolean()),
    createrole: z.optional(z.boolean()),
    connectionLimit: z.optional(z.number().check(z.int())),
    validUntil: z.described(
      z.optional(z.string()),
      'VALID UNTIL as the server reports it (RFC 3339), when set.',
    ),
    inRoles: z.described(z.optional(z.array(z.string())), 'The roles it is a member of.'),
    password: z.described(
      z.optional(
        z.object({
          secret: z.described(z.string(), 'The Secret the password was read from (namespace/name).'),
          key: z.described(z.string(), 'The key of that Secret: a new key sets the password again.'),
          version: z.described(
            z.string(),
            "The Secret's resourceVersion when it was set: a new version sets the password again.",
          ),
          setAt: z.described(z.string(), 'When it was set (RFC 3339).'),
        }),
      ),
      'The password last set; never the password itself.',
    ),
    drift: z.described(
      z.optional(z.array(z.string())),
      'How the role differs from the spec: set only when nothing was applied (Observe) or applying failed.',
    ),
  }),
  'What the provider observed on the server.',
);
export type RoleObservation = z.infer<typeof roleObservationSchema>;
