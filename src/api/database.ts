// The Database document: one PostgreSQL database on a server a ProviderConfig names. What
// CREATE DATABASE fixes for ever (encoding, locale, template) is immutable here too: the API
// server refuses the change, and the provider refuses a spec that differs from the server
// instead of ignoring it. Deletion defaults to Orphan: dropping a database is never the default.
import { z } from 'zod';
import { postgresName } from './identifier-schemas.js';
import { immutable, managedDocument, managedSpec, parseManaged } from './managed-resource.js';
import { reservedDatabaseProblem, reservedRoleProblem } from './names.js';
import { PROVIDER_GROUP, PROVIDER_VERSION } from './provider-group.js';

export const DATABASE_API_VERSION = `${PROVIDER_GROUP}/${PROVIDER_VERSION}`;
export const DATABASE_KIND = 'Database';

/** Encoding and locale names: what pg_encoding_to_char and the C library spell, nothing that needs quoting. */
const SETTING_NAME = /^[A-Za-z0-9_.@-]{1,63}$/;
const settingName = (what: 'an encoding' | 'a locale', example: string) =>
  z.string().regex(SETTING_NAME, {
    error: `must be ${what} name of letters, digits and _ . @ -, e.g. ${example}`,
  });

export const databaseParameters = z
  .object({
    name: immutable(
      postgresName.superRefine((value, ctx) => {
        const problem = reservedDatabaseProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
      'name',
    ).describe('The database name in PostgreSQL, exactly as in the catalog. Fixed at creation.'),
    owner: postgresName
      .superRefine((value, ctx) => {
        const problem = reservedRoleProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe(
        "OWNER: the role that owns the database (it must exist, e.g. from a Role). Unset: created owned by the ProviderConfig's role, and the owner is not managed afterwards (an adopted database keeps its own). A change is applied with ALTER DATABASE ... OWNER TO.",
      ),
    encoding: immutable(settingName('an encoding', 'UTF8').optional(), 'encoding').describe(
      "ENCODING, fixed at creation, e.g. UTF8. Unset: the template's. A spec that differs from the server is refused.",
    ),
    locale: immutable(settingName('a locale', 'en_US.UTF-8').optional(), 'locale').describe(
      "LOCALE (both LC_COLLATE and LC_CTYPE), fixed at creation, e.g. C or en_US.UTF-8. Unset: the template's.",
    ),
    lcCollate: immutable(settingName('a locale', 'C').optional(), 'lcCollate').describe(
      'LC_COLLATE, fixed at creation; overrides locale for collation.',
    ),
    lcCtype: immutable(settingName('a locale', 'C').optional(), 'lcCtype').describe(
      'LC_CTYPE, fixed at creation; overrides locale for character classes.',
    ),
    template: immutable(postgresName.optional(), 'template').describe(
      "TEMPLATE, used at creation only. Unset: template1. An encoding or locale other than the template's needs template0.",
    ),
    connectionLimit: z
      .number()
      .int()
      .min(-1)
      .max(100_000)
      .default(-1)
      .describe('CONNECTION LIMIT: concurrent connections to the database; -1 (the default) is no limit.'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.locale !== undefined && spec.lcCollate !== undefined && spec.lcCtype !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['locale'],
        message: 'is overridden by both lcCollate and lcCtype; remove it or them',
      });
  })
  .describe('One PostgreSQL database.');

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
export const databaseObservationSchema = z
  .object({
    exists: z.boolean().describe('Whether the database exists on the server.'),
    owner: z.string().optional(),
    encoding: z.string().optional(),
    lcCollate: z.string().optional(),
    lcCtype: z.string().optional(),
    localeProvider: z
      .enum(['libc', 'icu', 'builtin'])
      .optional()
      .describe(
        'How the default collation is provided: libc (lcCollate, lcCtype), or (PostgreSQL 15+) icu or builtin (providerLocale).',
      ),
    providerLocale: z
      .string()
      .optional()
      .describe('The ICU or builtin locale, when localeProvider is not libc.'),
    connectionLimit: z.number().int().optional(),
    template: z
      .string()
      .optional()
      .describe('The template it was created from, when this provider created it.'),
    drift: z
      .array(z.string())
      .optional()
      .describe(
        'How the database differs from the spec: set only when nothing was applied (Observe) or applying failed.',
      ),
  })
  .describe('What the provider observed on the server.');
export type DatabaseObservation = z.infer<typeof databaseObservationSchema>;
