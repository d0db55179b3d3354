// zod schemas for the names every API shares. The pattern and length go into the generated
// OpenAPI (so the API server checks them too); the refinement explains a failure in words.
import * as z from './zod.js';
import {
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  MAX_CLAIM_SECRET_NAME,
  MAX_DNS_LABEL,
  MAX_DNS_SUBDOMAIN,
  MAX_IDENTIFIER_BYTES,
  MAX_LABEL_KEY,
  PLAIN_IDENTIFIER_PATTERN,
  databaseNameProblem,
  labelKeyProblem,
  namespaceNameProblem,
  roleNameProblem,
  schemaNameProblem,
} from './names.js';

function withProblem(schema: z.ZodMiniString<string>, problem: (value: string) => string | undefined) {
  return schema.check(
    z.superRefine((value: string, ctx) => {
      const found = problem(value);
      if (found) ctx.addIssue({ code: 'custom', message: found });
    }),
  );
}

function plainName(problem: (value: string) => string | undefined) {
  return withProblem(
    z.string().check(z.maxLength(MAX_IDENTIFIER_BYTES), z.regex(new RegExp(PLAIN_IDENTIFIER_PATTERN))),
    problem,
  );
}

/** The application database: an identifier that is none of the cluster's own databases. */
export const databaseName = plainName(databaseNameProblem);

/** A schema pgplane creates or grants on: an identifier PostgreSQL does not reserve. */
export const schemaName = plainName(schemaNameProblem);

/** A role pgplane creates: an identifier that is not reserved. */
export const roleName = plainName(roleNameProblem);

/** A Kubernetes object name (StorageClass, secret store, ...). */
export const objectName = z
  .string()
  .check(z.minLength(1), z.maxLength(MAX_DNS_SUBDOMAIN), z.regex(new RegExp(DNS_SUBDOMAIN_PATTERN)));

/** A Secret name a claim gives: short enough that the names pgplane derives from it still fit. */
export const secretName = z
  .string()
  .check(z.minLength(1), z.maxLength(MAX_CLAIM_SECRET_NAME), z.regex(new RegExp(DNS_SUBDOMAIN_PATTERN)));

/** A namespace name. */
export const namespaceName = withProblem(
  z.string().check(z.minLength(1), z.maxLength(MAX_DNS_LABEL), z.regex(new RegExp(DNS_LABEL_PATTERN))),
  namespaceNameProblem,
);

export const labelKey = withProblem(
  z.string().check(z.minLength(1), z.maxLength(MAX_LABEL_KEY), z.regex(new RegExp(LABEL_KEY_PATTERN))),
  labelKeyProblem,
);

export const labelValue = z
  .string()
  .check(z.maxLength(MAX_DNS_LABEL), z.regex(new RegExp(LABEL_VALUE_PATTERN)));

/**
 * Any PostgreSQL name: quotes, spaces, dots, unicode are all legal because pgplane always
 * quotes. Only the empty name, NUL bytes and names longer than 63 bytes are refused.
 */
export const postgresName = z.string().check(
  z.minLength(1, { error: 'is empty; write the name exactly as it is in the catalog, e.g. "orders"' }),
  // In characters for the API server's schema; the refinement below counts the bytes.
  z.maxLength(MAX_IDENTIFIER_BYTES, {
    error: `is longer than ${MAX_IDENTIFIER_BYTES} bytes; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes (longer ones are silently truncated)`,
  }),
  z.refine((v: string) => !v.includes('\u0000'), {
    error: 'contains a NUL byte, which PostgreSQL names cannot hold',
  }),
  z.refine((v: string) => Buffer.byteLength(v, 'utf8') <= MAX_IDENTIFIER_BYTES, {
    error: (issue) =>
      `is ${Buffer.byteLength(String(issue.input), 'utf8')} bytes; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes (longer ones are silently truncated)`,
  }),
);
