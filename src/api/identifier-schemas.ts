// zod schemas for the names every API shares. The pattern and length go into the generated
// OpenAPI (so the API server checks them too); the refinement explains a failure in words.
import { z } from 'zod';
import {
  DNS_SUBDOMAIN_PATTERN,
  MAX_DNS_SUBDOMAIN,
  MAX_IDENTIFIER_BYTES,
  PLAIN_IDENTIFIER_PATTERN,
  identifierProblem,
  roleNameProblem,
} from './names.js';

function plainName(problem: (value: string) => string | undefined) {
  return z
    .string()
    .max(MAX_IDENTIFIER_BYTES)
    .regex(new RegExp(PLAIN_IDENTIFIER_PATTERN))
    .superRefine((value, ctx) => {
      const found = problem(value);
      if (found) ctx.addIssue({ code: 'custom', message: found });
    });
}

/** A database, schema or other object name a team types into a claim. */
export const identifier = plainName(identifierProblem);

/** A role pgplane creates: an identifier that is not reserved. */
export const roleName = plainName(roleNameProblem);

/** A Kubernetes Secret (or other object) name. */
export const secretName = z.string().min(1).max(MAX_DNS_SUBDOMAIN).regex(new RegExp(DNS_SUBDOMAIN_PATTERN));
