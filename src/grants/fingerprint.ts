// A digest of everything in one database a Grant's snapshot can depend on: the ACLs and owners of
// relations, columns, schemas and functions outside the system schemas, default privileges, the
// database's own ACL and owner, and the server's roles and memberships. It changes whenever an
// out-of-band GRANT, REVOKE, CREATE, DROP or ALTER ... OWNER could have changed what the snapshot
// sees, so comparing it is a cheap way to know a full snapshot is due (one small query, no
// parsing), not a substitute for one. Every snapshot carries it too, taken in the same statement
// as the ACLs it vouches for. Rows print as text so every column counts, whatever the
// major (pg_auth_members gained set_option and inherit_option in 16).
import type { Queryable } from './observe.js';

// Temporary schemas come and go with sessions (any session's temp table would look like drift).
const SCHEMAS = `nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'`;
const USER_SCHEMAS = `(SELECT oid FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND ${SCHEMAS})`;

/** The digest as one SQL expression: the snapshot query carries it (observe.ts), and so does a check. */
export const FINGERPRINT_EXPRESSION = `md5(concat_ws('|',
  (SELECT string_agg(c.oid || ':' || c.relowner || ':' || coalesce(c.relacl::text, ''), ',' ORDER BY c.oid)
     FROM pg_class c WHERE c.relnamespace IN ${USER_SCHEMAS} AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')),
  (SELECT string_agg(a.attrelid || '.' || a.attnum || ':' || a.attacl::text, ',' ORDER BY a.attrelid, a.attnum)
     FROM pg_attribute a WHERE a.attacl IS NOT NULL),
  (SELECT string_agg(n.oid || ':' || n.nspname || ':' || n.nspowner || ':' || coalesce(n.nspacl::text, ''), ',' ORDER BY n.oid)
     FROM pg_namespace n WHERE ${SCHEMAS}),
  (SELECT string_agg(p.oid || ':' || p.proowner || ':' || coalesce(p.proacl::text, ''), ',' ORDER BY p.oid)
     FROM pg_proc p WHERE p.pronamespace IN ${USER_SCHEMAS}),
  (SELECT string_agg(d::text, ',' ORDER BY d.oid) FROM pg_default_acl d),
  (SELECT string_agg(m::text, ',' ORDER BY m::text) FROM pg_auth_members m),
  (SELECT string_agg(r.oid || ':' || r.rolname, ',' ORDER BY r.oid) FROM pg_roles r),
  (SELECT d.datdba || ':' || coalesce(d.datacl::text, '') FROM pg_database d WHERE d.datname = current_database())
))`;

/** One round trip: the database's catalog fingerprint (an md5 hex digest). */
export async function catalogFingerprint(client: Queryable): Promise<string> {
  const result = await client.query<{ fingerprint: string }>(
    `SELECT ${FINGERPRINT_EXPRESSION} AS fingerprint`,
  );
  return result.rows[0]?.fingerprint ?? '';
}
