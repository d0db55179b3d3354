// What deleting a Grant revokes, derived from the privilege kinds (kinds.ts): every section has a
// revocation scope there, so no kind can be left out of a deletion.
import type { GrantParameters } from '../api/grant.js';
import { PRIVILEGE_KINDS, SECTIONS, type PrivilegeKind } from './kinds.js';
import type { Section } from './policy.js';

function scopeOf<S extends Section>(section: S, p: GrantParameters): Partial<GrantParameters> {
  const kind: PrivilegeKind<S> = PRIVILEGE_KINDS[section];
  const declared = p[kind.section];
  if (declared === undefined) return {};
  return { [kind.section]: kind.revocationScope(declared) } as Partial<GrantParameters>;
}

/**
 * What deletion runs: additive Grants revoke what pgplane recorded granting; authoritative
 * Grants revoke everything in their declared scopes (they owned those scopes).
 */
export function revocationParameters(p: GrantParameters): GrantParameters {
  if (p.mode === 'additive') return { database: p.database, grantee: p.grantee, mode: 'additive' };
  let out: GrantParameters = { database: p.database, grantee: p.grantee, mode: 'authoritative' };
  for (const section of SECTIONS) out = { ...out, ...scopeOf(section, p) };
  return out;
}
