// The Database document: one PostgreSQL database on a server a ProviderConfig names. What
// CREATE DATABASE fixes for ever (encoding, locale, template) is immutable here too: the API
// server refuses the change, and the provider refuses a spec that differs from the server
// instead of ignoring it. Deletion defaults to Orphan: dropping a database is never the default.
import * as z from './zod.js';
import { postgresName } from './identifier-schemas.js';
import { immutable, managedDocument, managedSpec, parseManaged } from './managed-resource.js';
import { reservedDatabaseProblem, reservedRoleProblem } from './names.js';
import { PROVIDER_GROUP, PROVIDER_VERSION } from './provider-group.js';

export const DATABASE_API_VERSION = `${PROVIDER_GROUP}/${PROVIDER_VERSION}`;
export const DATABASE_KIND = 'Database';

/** Encoding and locale names: what pg_encoding_to_char and the C library spell, nothing that needs quoting. */
const SETTING_NAME = /^[A-Za-z0-9_.@-]{1,63}$/;
const settingName = (what: 'an encoding' | 'a locale', example: string) =>
  z.string().check(
    z.regex(SETTING_NAME, {
      error: `must be ${what} name of letters, digits and _ . @ -, e.g. ${example}`,
    }),
  );

/** A PostgreSQL name that `problem` does not refuse. */
const nameWithout = (problem: (value: string) => string | undefined) =>
  postgresName.check(
    z.superRefine((value: string, ctx) => {
      const found = problem(value);
      if (found) ctx.addIssue({ code: 'custom', message: found });
    }),
  );

const databaseParametersShape = z.strictObject({
  name: z.described(
    immutable(nameWithout(reservedDatabaseProblem), 'name'),
    'The database name in PostgreSQL, exactly as in the catalog. Fixed at creation.',
  ),
  owner: z.described(
    z.optional(nameWithout(reservedRoleProblem)),
    "OWNER: the role that owns the database (it must exist, e.g. from a Role). Unset: created owned by the ProviderConfig's role, and the owner is not managed afterwards (an adopted database keeps its own). A change is applied with ALTER DATABASE ... OWNER TO.",
  ),
  encoding: z.described(
    immutable(z.optional(settingName('an encoding', 'UTF8')), 'encoding'),
    "ENCODING, fixed at creation, e.g. UTF8. Unset: the template's. A spec that differs from the server is refused.",
  ),
  locale: z.described(
    immutable(z.optional(settingName('a locale', 'en_US.UTF-8')), 'locale'),
    "LOCALE (both LC_COLLATE and LC_CTYPE), fixed at creation, e.g. C or en_US.UTF-8. Unset: the template's.",
  ),
  lcCollate: z.described(
    immutable(z.optional(settingName('a locale', 'C')), 'lcCollate'),
    'LC_COLLATE, fixed at creation; overrides locale for collation.',
  ),
  lcCtype: z.described(
    immutable(z.optional(settingName('a locale', 'C')), 'lcCtype'),
    'LC_CTYPE, fixed at creation; overrides locale for character classes.',
  ),
  template: z.described(
    immutable(z.optional(postgresName), 'template'),
    "TEMPLATE, used at creation only. Unset: template1. An encoding or locale other than the template's needs template0.",
  ),
  connectionLimit: z.described(
    z._default(z.number().check(z.int(), z.gte(-1), z.lte(100_000)), -1),
    'CONNECTION LIMIT: concurrent connections to the database; -1 (the default) is no limit.',
  ),
});

export const databaseParameters = databaseParametersShape.check(
  z.superRefine((spec: z.output<typeof databaseParametersShape>, ctx) => {
    if (spec.locale !== undefined && spec.lcCollate !== undefined && spec.lcCtype !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['locale'],
        message: 'is overridden by both lcCollate and lcCtype; remove it or them',
      });
  }),
  z.describe('One PostgreSQL database.'),
);

export const databaseSchema = managedDocument({
  apiVersion: DATABASE_API_VERSION,
  kind: DATABASE_KIND,
  spec: managedSpec(databaseParameters, {
    deletionPolicy: {
      default: 'Orphan',
      describe:
        'Orphan (the default) leaves the database and its data in place when the Database is deleted; Delete drops it (refused by PostgreSQL, and reported, while sessions are connected).',
    },
  }),
  description: 'A Database: one PostgreSQL database, its owner and connection limit, kept as declared.',
});

export type DatabaseDocument = z.infer<typeof databaseSchema>;
export type DatabaseParameters = z.infer<typeof databaseParameters>;

const EXAMPLES: Record<string, string> = {
  apiVersion: `apiVersion: ${DATABASE_API_VERSION}`,
  kind: `kind: ${DATABASE_KIND}`,
  metadata: 'metadata: {name: orders}',
  name: 'name: orders',
  owner: 'owner: orders_owner',
  encoding: 'encoding: UTF8',
  locale: 'locale: C',
  lcCollate: 'lcCollate: C',
  lcCtype: 'lcCtype: C',
  template: 'template: template0',
  connectionLimit: 'connectionLimit: 50',
};

/** Validates one Database document; errors name the Database, the field and a correct example. */
export function parseDatabase(document: unknown, origin = 'document'): DatabaseDocument {
  return parseManaged(databaseSchema, document, origin, {
    kind: DATABASE_KIND,
    examples: EXAMPLES,
    fallback: 'spec.forProvider: {name: orders, owner: orders_owner, encoding: UTF8, template: template0}',
  });
}

/** What the provider last saw of the database in the server. */
export const databaseObservationSchema = z.described(
  z.object({
    exists: z.described(z.boolean(), 'Whether the database exists on the server.'),
    owner: z.optional(z.string()),
    encoding: z.optional(z.string()),
    lcCollate: z.optional(z.string()),
    lcCtype: z.optional(z.string()),
    localeProvider: z.described(
      z.optional(z.enum(['libc', 'icu', 'builtin'])),
      'How the default collation is provided: libc (lcCollate, lcCtype), or (PostgreSQL 15+) icu or builtin (providerLocale).',
    ),
    providerLocale: z.described(
      z.optional(z.string()),
      'The ICU or builtin locale, when localeProvider is not libc.',
    ),
    connectionLimit: z.optional(z.number().check(z.int())),
    template: z.described(
      z.optional(z.string()),
      'The template it was created from, when this provider created it.',
    ),
    drift: z.described(
      z.optional(z.array(z.string())),
      'How the database differs from the spec: set only when nothing was applied (Observe) or applying failed.',
    ),
  }),
  'What the provider observed on the server.',
);
export type DatabaseObservation = z.infer<typeof databaseObservationSchema>;
