// What pgplane granted itself, per Grant. In additive mode only these privileges are ever
// revoked. The provider keeps it in status; the CLI in a state file; both pass it back in.
import { z } from 'zod';

export const grantRecordSchema = z
  .object({
    grantee: z.string().describe('The grantee the record belongs to.'),
    grants: z
      .array(z.string())
      .describe(
        'Privileges pgplane granted and still manages, as "PRIVILEGE ON OBJECT", e.g. SELECT ON TABLE "public"."orders".',
      ),
    schemas: z
      .array(z.string())
      .describe(
        'Schemas those privileges live in, so they are observed even after the spec stops naming them.',
      ),
  })
  .describe('What pgplane granted for this Grant; additive mode revokes only these.');

export type GrantRecord = z.infer<typeof grantRecordSchema>;

export const recordEntry = (privilege: string, objectKey: string): string => `${privilege} ON ${objectKey}`;
