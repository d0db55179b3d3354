// What the server says about one role, in one query: its attributes, the roles it is a member of,
// its comment (the ownership mark) and, for the roles the spec wants it in, whether they exist and
// whether they are privileged. Names go as bind parameters, never into the SQL text. pg_roles
// and shobj_description are readable by every role, so no superuser is needed to observe.
import type { Queryable } from '../../grants/observe.js';
import type { StatementLimits } from '../managed/statements.js';

export interface ObservedRole {
  readonly login: boolean;
  readonly inherit: boolean;
  readonly createdb: boolean;
  readonly createrole: boolean;
  readonly connectionLimit: number;
  /** RFC 3339 in UTC with microseconds, "infinity" or "-infinity"; null when never set (no expiry). */
  readonly validUntil: string | null;
  /** SUPERUSER, REPLICATION or BYPASSRLS: attributes a Role neither offers nor manages. */
  readonly privileged: readonly string[];
  readonly comment: string | null;
  /** Sorted, each once (PostgreSQL 16+ may hold one membership from several grantors). */
  readonly inRoles: readonly string[];
  /**
   * Who granted each membership. PostgreSQL 16+ keeps one grant per grantor, and a REVOKE takes
   * only the current user's unless it names the grantor (GRANTED BY), which needs the grantor's
   * privileges: `revocable` are the grantors the connected user has the privileges of, `foreign`
   * the others.
   */
  readonly grantors: Readonly<Record<string, Grantors>>;
}

interface Grantors {
  readonly revocable: readonly string[];
  readonly foreign: readonly string[];
}

/** A role the spec wants this role to be a member of. */
interface MembershipTarget {
  readonly name: string;
  readonly privileged: readonly string[];
}

export interface RoleSnapshot {
  /** Undefined when the role does not exist. */
  readonly role: ObservedRole | undefined;
  /** Those of the requested roles that exist. */
  readonly targets: readonly MembershipTarget[];
  /** server_version_num, e.g. 180001. */
  readonly version: number;
}

const PRIVILEGED = `array_remove(ARRAY[
    CASE WHEN %.rolsuper THEN 'SUPERUSER' END,
    CASE WHEN %.rolreplication THEN 'REPLICATION' END,
    CASE WHEN %.rolbypassrls THEN 'BYPASSRLS' END], NULL)`;
const privileged = (alias: string): string => PRIVILEGED.replaceAll('%', alias);

const OBSERVE_ROLE_SQL = `SELECT
  (SELECT json_build_object(
      'login', r.rolcanlogin,
      'inherit', r.rolinherit,
      'createdb', r.rolcreatedb,
      'createrole', r.rolcreaterole,
      'connectionLimit', r.rolconnlimit,
      'validUntil', CASE
        WHEN r.rolvaliduntil IS NULL THEN NULL
        WHEN isfinite(r.rolvaliduntil)
          THEN to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        ELSE r.rolvaliduntil::text END,
      'privileged', ${privileged('r')},
      'comment', shobj_description(r.oid, 'pg_authid'),
      'inRoles', COALESCE(
        (SELECT json_agg(DISTINCT g.rolname ORDER BY g.rolname)
           FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
          WHERE m.member = r.oid),
        '[]'::json),
      'grantors', COALESCE(
        (SELECT json_object_agg(x.rolname, json_build_object(
                  'revocable', COALESCE(x.revocable, '[]'::json), 'foreign', COALESCE(x.foreign, '[]'::json)))
           FROM (SELECT g.rolname,
                        json_agg(DISTINCT gr.rolname) FILTER (WHERE pg_has_role(gr.oid, 'USAGE')) AS revocable,
                        json_agg(DISTINCT gr.rolname) FILTER (WHERE NOT pg_has_role(gr.oid, 'USAGE')) AS foreign
                   FROM pg_auth_members m
                   JOIN pg_roles g ON g.oid = m.roleid
                   JOIN pg_roles gr ON gr.oid = m.grantor
                  WHERE m.member = r.oid
                  GROUP BY g.rolname) x),
        '{}'::json))
     FROM pg_roles r WHERE r.rolname = $1) AS role,
  current_setting('server_version_num')::int AS version,
  (SELECT COALESCE(json_agg(json_build_object('name', t.rolname, 'privileged', ${privileged('t')})), '[]'::json)
     FROM pg_roles t WHERE t.rolname = ANY($2::text[])) AS targets`;

interface Row {
  role: ObservedRole | null;
  targets: MembershipTarget[];
  version: number;
}

/**
 * Runs a catalog read bounded like the DDL (statements.ts): a read-only transaction whose
 * timeouts end with it, since the connection goes back to a shared pool. pg_authid is locked
 * exclusively only by the likes of VACUUM FULL, but a read must not hang a reconcile either.
 */
async function bounded<T>(client: Queryable, limits: StatementLimits, fn: () => Promise<T>): Promise<T> {
  const statement = Math.max(1, Math.floor(limits.statementTimeoutMs ?? 30_000));
  const lock = Math.max(1, Math.floor(limits.lockTimeoutMs ?? 5_000));
  await client.query(
    `BEGIN READ ONLY; SET LOCAL statement_timeout = ${statement}; SET LOCAL lock_timeout = ${lock}`,
  );
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function observeRole(
  client: Queryable,
  name: string,
  inRoles: readonly string[],
  limits: StatementLimits = {},
): Promise<RoleSnapshot> {
  const { rows } = await bounded(client, limits, () =>
    client.query<Row>(OBSERVE_ROLE_SQL, [name, [...inRoles]]),
  );
  const row = rows[0];
  return { role: row?.role ?? undefined, targets: row?.targets ?? [], version: row?.version ?? 0 };
}

/** The databases where a role still owns objects or holds privileges (pg_shdepend), for a refused DROP. */
export async function dependentDatabases(
  client: Queryable,
  name: string,
  limits: StatementLimits = {},
): Promise<string[]> {
  const { rows } = await bounded(client, limits, () =>
    client.query<{ datname: string }>(
      `SELECT DISTINCT d.datname
       FROM pg_shdepend s
       JOIN pg_roles r ON r.oid = s.refobjid
       JOIN pg_database d ON d.oid = s.dbid
      WHERE s.refclassid = 'pg_authid'::regclass AND r.rolname = $1
      ORDER BY d.datname`,
      [name],
    ),
  );
  return rows.map((r) => r.datname);
}
