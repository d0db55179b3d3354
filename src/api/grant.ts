// The Grant document: the whole privilege policy of one grantee in one database, as a person
// writes it. This zod schema is the single source of truth: the CLI and the provider validate
// with it, and the Grant CRD's openAPIV3Schema is generated from it.
import * as z from './zod.js';
import { postgresName as pgName } from './identifier-schemas.js';
import { managedDocument, managedSpec, ManagedValidationError, parseManaged } from './managed-resource.js';

export const GRANT_API_VERSION = 'grants.pgplane.io/v1alpha1';
export const GRANT_KIND = 'Grant';

const DATABASE_PRIVILEGES = ['CONNECT', 'TEMPORARY', 'CREATE'] as const;
const SCHEMA_PRIVILEGES = ['USAGE', 'CREATE'] as const;
// MAINTAIN exists from PostgreSQL 17; declaring it on an older server is reported by the plan.
const TABLE_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
] as const;
const SEQUENCE_PRIVILEGES = ['USAGE', 'SELECT', 'UPDATE'] as const;
const FUNCTION_PRIVILEGES = ['EXECUTE'] as const;
export const COLUMN_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'] as const;

/** The wildcard: every existing object in the schema (backfill) and every future one (default privileges). */
export const WILDCARD = '*';

/**
 * How long each list of a privilege policy may be. A Grant written by a platform team may be long
 * (every table of a schema by name); a claim's access entry is written by a team the platform does
 * not trust and composed into objects Crossplane stores, so it is held shorter. Every list has a
 * bound, and the bound reaches the generated CRD/XRD as maxItems.
 */
export interface GrantListLimits {
  /** Entries per section (tables, sequences, ...). */
  entries: number;
  /** Object, column and `except` names per entry. */
  names: number;
  /** Roles in defaultPrivilegesFor and memberships. */
  roles: number;
}

/** PostgreSQL's own limits: FUNC_MAX_ARGS arguments, and a type name is an identifier with modifiers. */
const MAX_ROUTINE_ARGUMENTS = 100;
const MAX_TYPE_NAME_LENGTH = 256;

const GRANT_LIMITS: GrantListLimits = { entries: 1000, names: 10_000, roles: 1000 };
export const CLAIM_ACCESS_LIMITS: GrantListLimits = { entries: 32, names: 256, roles: 32 };

function privilegeList<const T extends readonly [string, ...string[]]>(kind: string, names: T) {
  const allowed = [...names, 'ALL'] as const;
  return z
    .array(
      z.enum(allowed as unknown as readonly [T[number] | 'ALL', ...(T[number] | 'ALL')[]], {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not a ${kind} privilege; use one of ${allowed.join(', ')}`,
      }),
    )
    .check(
      z.maxLength(allowed.length * 2),
      z.describe(
        `Privileges on each ${kind}: ${names.join(', ')}, or ALL (expanded from the server's own acldefault(), so it is right on every major).`,
      ),
    );
}

function checkWildcard(
  entry: { objects: readonly unknown[]; except?: unknown; defaultPrivilegesFor?: unknown },
  ctx: z.core.$RefinementCtx,
) {
  const hasWildcard = entry.objects.includes(WILDCARD);
  if (hasWildcard && entry.objects.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['objects'],
      message: 'mixes "*" with names; write the wildcard and the specific objects as two entries',
    });
  }
  if (!hasWildcard && entry.except !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['except'], message: 'is only meaningful with objects: ["*"]' });
  }
  if (!hasWildcard && entry.defaultPrivilegesFor !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['defaultPrivilegesFor'],
      message: 'is only meaningful with objects: ["*"]',
    });
  }
}

/** The entry schemas of a privilege policy, with every list bounded by `limits`. */
export function grantEntries(limits: GrantListLimits) {
  const wildcardFields = {
    except: z
      .optional(z.array(pgName).check(z.maxLength(limits.names)))
      .check(
        z.describe(
          'With objects: ["*"] only: names left out of the wildcard. In authoritative mode their privileges are revoked unless a specific entry declares them.',
        ),
      ),
    defaultPrivilegesFor: z
      .optional(z.array(pgName).check(z.maxLength(limits.roles)))
      .check(
        z.describe(
          'With objects: ["*"] only: the roles whose future objects in this schema get these privileges automatically (ALTER DEFAULT PRIVILEGES FOR ROLE ...). Default: the schema owner.',
        ),
      ),
  };

  function relationEntry<const T extends readonly [string, ...string[]]>(kind: string, names: T) {
    return z
      .strictObject({
        schema: z.described(pgName, `Schema that holds the ${kind}s.`),
        objects: z
          .array(pgName)
          .check(
            z.minLength(1, { error: 'is empty; list names or write ["*"]' }),
            z.maxLength(limits.names),
            z.describe(
              `${kind} names in the schema, or ["*"] for all existing and future ones. A specific name takes precedence over a wildcard.`,
            ),
          ),
        privileges: privilegeList(kind, names),
        ...wildcardFields,
      })
      .check(z.superRefine(checkWildcard));
  }

  const routineRef = z
    .strictObject({
      name: z.described(pgName, 'Function or procedure name.'),
      arguments: z
        ._default(
          z
            .array(z.string().check(z.minLength(1), z.maxLength(MAX_TYPE_NAME_LENGTH)))
            .check(z.maxLength(MAX_ROUTINE_ARGUMENTS)),
          [],
        )
        .check(
          z.describe(
            'Input argument types, in order, e.g. ["integer", "character varying[]"]. Aliases such as varchar, int and timestamptz are understood.',
          ),
        ),
    })
    .check(z.describe('One function or procedure, identified by name and argument types.'));

  const section = <T extends z.ZodMiniType>(entry: T, description: string) =>
    z.array(entry).check(z.maxLength(limits.entries), z.describe(description));

  const tableEntry = z.described(
    relationEntry('table', TABLE_PRIVILEGES),
    'Privileges on relations of one schema: tables, views, materialized views, partitioned and foreign tables.',
  );
  const sequenceEntry = z.described(
    relationEntry('sequence', SEQUENCE_PRIVILEGES),
    'Privileges on sequences of one schema.',
  );
  const functionEntry = z
    .strictObject({
      schema: z.described(pgName, 'Schema that holds the routines.'),
      objects: z
        .array(z.union([z.literal(WILDCARD), routineRef]))
        .check(
          z.minLength(1, { error: 'is empty; list routines as {name, arguments} or write ["*"]' }),
          z.maxLength(limits.names),
          z.describe(
            'Routines as {name, arguments}, or ["*"] for all existing and future functions and procedures in the schema.',
          ),
        ),
      privileges: privilegeList('function', FUNCTION_PRIVILEGES),
      ...wildcardFields,
    })
    .check(z.superRefine(checkWildcard), z.describe('EXECUTE on functions and procedures of one schema.'));
  const columnEntry = z
    .strictObject({
      schema: z.described(pgName, 'Schema of the table.'),
      table: z.described(pgName, 'Table (or view) that holds the columns.'),
      columns: z
        .array(pgName)
        .check(
          z.minLength(1, { error: 'is empty; list at least one column' }),
          z.maxLength(limits.names),
          z.describe('Column names.'),
        ),
      privileges: privilegeList('column', COLUMN_PRIVILEGES),
    })
    .check(z.describe('Column-level privileges on one table.'));
  const schemaEntry = z
    .strictObject({
      name: z.described(pgName, 'Schema name.'),
      privileges: privilegeList('schema', SCHEMA_PRIVILEGES),
    })
    .check(z.describe('Privileges on one schema.'));
  const optionalFlag = (description: string) => z.optional(z.boolean()).check(z.describe(description));
  const membershipEntry = z
    .strictObject({
      role: z.described(pgName, 'The role the grantee becomes a member of.'),
      admin: optionalFlag('WITH ADMIN OPTION. Left unset, whatever the server has is kept.'),
      inherit: optionalFlag('WITH INHERIT (PostgreSQL 16+). Left unset, whatever the server has is kept.'),
      set: optionalFlag('WITH SET (PostgreSQL 16+). Left unset, whatever the server has is kept.'),
    })
    .check(z.describe('Membership of the grantee in another role.'));

  return {
    databasePrivileges: privilegeList('database', DATABASE_PRIVILEGES),
    schemas: section(schemaEntry, 'Privileges on schemas.'),
    tables: section(
      tableEntry,
      'Privileges on tables, views, materialized views, partitioned and foreign tables.',
    ),
    sequences: section(sequenceEntry, 'Privileges on sequences.'),
    functions: section(functionEntry, 'EXECUTE on functions and procedures.'),
    columns: section(columnEntry, 'Column-level privileges.'),
    memberships: z
      .array(membershipEntry)
      .check(
        z.maxLength(limits.roles),
        z.describe(
          'Roles the grantee is a member of. In authoritative mode, an empty list revokes every membership.',
        ),
      ),
  };
}

/**
 * The sections of grantEntries(), each optional: a Grant manages only the sections it declares.
 * The Grant's section list is grantEntries()' (and src/grants/kinds.ts has one kind per section).
 */
export function optionalSections<T extends Record<string, z.ZodMiniType>>(
  sections: T,
): { [K in keyof T]: z.ZodMiniOptional<T[K]> } {
  return Object.fromEntries(Object.entries(sections).map(([name, schema]) => [name, z.optional(schema)])) as {
    [K in keyof T]: z.ZodMiniOptional<T[K]>;
  };
}

const grantSections = grantEntries(GRANT_LIMITS);

const grantParametersShape = z.strictObject({
  database: z.described(pgName, 'The database this policy applies to.'),
  grantee: z.described(pgName, 'The role that receives the privileges, or PUBLIC.'),
  mode: z
    ._default(
      z.enum(['additive', 'authoritative'], { error: 'must be additive or authoritative' }),
      'additive',
    )
    .check(
      z.describe(
        'additive: pgplane revokes only privileges it granted itself before. authoritative: every privilege of the grantee in the declared scopes that is not declared is revoked.',
      ),
    ),
  ...optionalSections(grantSections),
});

export const grantParameters = grantParametersShape.check(
  z.superRefine((spec: z.output<typeof grantParametersShape>, ctx) => {
    if (spec.grantee === 'PUBLIC' && spec.memberships !== undefined && spec.memberships.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['memberships'],
        message: 'PUBLIC cannot be a member of a role; remove memberships or name a role as grantee',
      });
    }
  }),
  z.describe('The whole privilege policy of one grantee in one database.'),
);

export const grantSchema = managedDocument({
  apiVersion: GRANT_API_VERSION,
  kind: GRANT_KIND,
  spec: managedSpec(grantParameters, {
    deletionPolicy: {
      default: 'Delete',
      describe: 'Delete revokes what the Grant manages when it is deleted; Orphan leaves it.',
    },
  }),
  description: 'A Grant: privileges of one role in one PostgreSQL database, kept as declared.',
});

export type GrantDocument = z.infer<typeof grantSchema>;
export type GrantParameters = z.infer<typeof grantParameters>;

// One correct example per section, quoted in every validation error so the fix is obvious.
const EXAMPLES: Record<string, string> = {
  apiVersion: `apiVersion: ${GRANT_API_VERSION}`,
  kind: `kind: ${GRANT_KIND}`,
  metadata: 'metadata: {name: app-readonly}',
  database: 'database: app',
  grantee: 'grantee: app_readonly   # or PUBLIC',
  mode: 'mode: authoritative',
  databasePrivileges: 'databasePrivileges: [CONNECT]',
  schemas: 'schemas: [{name: public, privileges: [USAGE]}]',
  tables: 'tables: [{schema: public, objects: ["*"], except: [secrets], privileges: [SELECT]}]',
  sequences: 'sequences: [{schema: public, objects: [orders_id_seq], privileges: [USAGE, SELECT]}]',
  functions:
    'functions: [{schema: public, objects: [{name: add_item, arguments: [integer, "character varying[]"]}], privileges: [EXECUTE]}]',
  columns: 'columns: [{schema: public, table: users, columns: [id, email], privileges: [SELECT]}]',
  memberships: 'memberships: [{role: app_readers, admin: false}]',
};

export class GrantValidationError extends ManagedValidationError {
  constructor(problems: readonly string[], source: string) {
    super(GRANT_KIND, problems, source);
    this.name = 'GrantValidationError';
  }
}

/**
 * Validates one document. Errors name the Grant (and where it came from), the field, what is
 * wrong and a correct example, because the person reading them is fixing a YAML file.
 */
export function parseGrant(document: unknown, origin = 'document'): GrantDocument {
  return parseManaged(grantSchema, document, origin, {
    kind: GRANT_KIND,
    examples: EXAMPLES,
    fallback: `spec.forProvider: {database: app, grantee: app_readonly, ${EXAMPLES.tables}}`,
    error: GrantValidationError,
  });
}
