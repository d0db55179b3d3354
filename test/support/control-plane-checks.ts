// Checks the control-plane suites share: what PostgreSQL's catalog says about a Grant.
import pg from 'pg';
import { getPath, getString, isObject, type JsonObject } from '../../src/shared/json.js';
import type { KubeClient } from './control-plane-client.js';
import { LOCAL_SERVER } from './postgres.js';

/** The Grants composed for one instance (label pgplane.io/instance) in a namespace. */
export async function grantsOf(
  admin: KubeClient,
  namespace: string,
  instance: string,
): Promise<JsonObject[]> {
  const grants = await admin.list({ apiVersion: 'grants.pgplane.io/v1alpha1', kind: 'Grant', namespace });
  return grants.filter((g) => getString(g, 'metadata', 'labels', 'pgplane.io/instance') === instance);
}

/** The privilege types granted directly to a role (or PUBLIC) in an ACL, as the catalog stores them. */
const ACL_QUERY = {
  database: `SELECT a.privilege_type AS p FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
             WHERE d.datname = $1 AND a.grantee = $2::oid`,
  schema: `SELECT a.privilege_type AS p FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
           WHERE n.nspname = $1 AND a.grantee = $2::oid`,
} as const;

/**
 * A Grant's database and schema privileges, split by whether the catalog holds them. Reads the
 * ACLs themselves, so PUBLIC and inherited memberships do not blur the answer.
 */
async function catalogPrivileges(grant: JsonObject): Promise<{ missing: string[]; present: string[] }> {
  const forProvider = getPath(grant, 'spec', 'forProvider');
  if (!isObject(forProvider)) return { missing: ['no spec.forProvider'], present: [] };
  const grantee = getString(forProvider, 'grantee') ?? '';
  const database = getString(forProvider, 'database') ?? '';
  const client = new pg.Client({ ...LOCAL_SERVER, database });
  await client.connect();
  const missing: string[] = [];
  const present: string[] = [];
  try {
    const oid =
      grantee === 'PUBLIC'
        ? '0'
        : String(
            (await client.query<{ oid: string }>('SELECT oid FROM pg_roles WHERE rolname = $1', [grantee]))
              .rows[0]?.oid ?? '',
          );
    if (oid === '') return { missing: [`role ${grantee} does not exist`], present };
    const granted = async (kind: keyof typeof ACL_QUERY, name: string): Promise<string[]> =>
      (await client.query<{ p: string }>(ACL_QUERY[kind], [name, oid])).rows.map((r) => r.p);
    const onDatabase = await granted('database', database);
    const privileges = forProvider['databasePrivileges'];
    for (const p of Array.isArray(privileges) ? privileges : []) {
      const what = `${String(p)} on database ${database}`;
      if (onDatabase.includes(String(p))) present.push(`${grantee} holds ${what}`);
      else missing.push(`${grantee} lacks ${what}`);
    }
    const schemas = forProvider['schemas'];
    for (const schema of Array.isArray(schemas) ? schemas.filter(isObject) : []) {
      const name = getString(schema, 'name') ?? '';
      const onSchema = await granted('schema', name);
      for (const p of Array.isArray(schema['privileges']) ? schema['privileges'] : []) {
        const what = `${String(p)} on schema ${name}`;
        if (onSchema.includes(String(p))) present.push(`${grantee} holds ${what}`);
        else missing.push(`${grantee} lacks ${what}`);
      }
    }
  } finally {
    await client.end();
  }
  return { missing, present };
}

/** What the catalog lacks of a Grant's database and schema privileges (empty: all in place). */
export async function catalogMatches(grant: JsonObject): Promise<string[]> {
  return (await catalogPrivileges(grant)).missing;
}

/** Which of a Grant's database and schema privileges the catalog still holds (empty: all revoked). */
export async function catalogRemaining(grant: JsonObject): Promise<string[]> {
  return (await catalogPrivileges(grant)).present;
}
