// What deleting a Grant revokes. It belongs with the privilege kinds: a kind that is not listed
// here would make deleting a Grant revoke nothing of it, silently.
import type { GrantParameters } from '../api/grant.js';

/**
 * What deletion runs: additive Grants revoke what pgplane recorded granting; authoritative
 * Grants revoke everything in their declared scopes (they owned those scopes).
 */
export function revocationParameters(p: GrantParameters): GrantParameters {
  if (p.mode === 'additive') return { database: p.database, grantee: p.grantee, mode: 'additive' };
  return {
    database: p.database,
    grantee: p.grantee,
    mode: 'authoritative',
    ...(p.databasePrivileges ? { databasePrivileges: [] } : {}),
    ...(p.schemas ? { schemas: p.schemas.map((s) => ({ ...s, privileges: [] })) } : {}),
    ...(p.tables ? { tables: p.tables.map((t) => ({ ...t, privileges: [] })) } : {}),
    ...(p.sequences ? { sequences: p.sequences.map((t) => ({ ...t, privileges: [] })) } : {}),
    ...(p.functions ? { functions: p.functions.map((t) => ({ ...t, privileges: [] })) } : {}),
    ...(p.columns ? { columns: p.columns.map((t) => ({ ...t, privileges: [] })) } : {}),
    ...(p.memberships ? { memberships: [] } : {}),
  };
}
