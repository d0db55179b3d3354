// The shape of what pgplane granted itself, per Grant: part of the provider's Grant status and the
// CLI's state file, so it lives with the API; src/grants reads and writes it.
import * as z from './zod.js';

export const grantRecordSchema = z
  .object({
    grantee: z.string().check(z.describe('The grantee the record belongs to.')),
    grants: z
      .array(z.string())
      .check(
        z.describe(
          'Privileges pgplane granted and still manages, one key each: a JSON array [2, object type, privilege, ...names], e.g. [2,"TABLE","SELECT","public","orders"]. Keys written by earlier versions ("SELECT ON TABLE "public"."orders"") are still read.',
        ),
      ),
    schemas: z
      .array(z.string())
      .check(
        z.describe(
          'Schemas those privileges live in, so they are observed even after the spec stops naming them.',
        ),
      ),
  })
  .check(z.describe('What pgplane granted for this Grant; additive mode revokes only these.'));

export type GrantRecord = z.infer<typeof grantRecordSchema>;
