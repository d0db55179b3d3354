// The only SQL reader. One catalog snapshot per database, in one round trip: every ACL the
// plan needs, for the grantees and schemas the Grants mention, and the server's own notion of
// "ALL" per object type (acldefault), so nothing is hard-coded per major.
import type { ClientBase } from 'pg';
import { FINGERPRINT_EXPRESSION } from './fingerprint.js';
import { textArray } from './sql.js';

/** [grantee name, or PUBLIC; privilege name as aclexplode prints it] */
export type AclPair = readonly [string, string];

/** What a snapshot says about the database itself. */
interface SnapshotHeader {
  readonly serverVersionNum: number;
  readonly database: string;
  readonly databaseOwner: string;
  readonly databaseAcl: readonly AclPair[];
  readonly currentUser: string;
  /** Privilege names that ALL means on this server, per object type. */
  readonly allPrivileges: {
    readonly database: readonly string[];
    readonly schema: readonly string[];
    readonly table: readonly string[];
    readonly sequence: readonly string[];
    readonly function: readonly string[];
  };
  /** The referenced role names that exist. */
  readonly roles: readonly string[];
  /** The database's catalog fingerprint (fingerprint.ts) in the same statement, when the scope asked for it. */
  readonly fingerprint?: string | undefined;
}

/** A snapshot: the database-wide facts, and one object list per entry of PARTS below. */
export type Snapshot = SnapshotHeader & { readonly [K in ListKey]: readonly Observed<K>[] };

/** What to look at: everything the Grants of one database mention. */
export interface SnapshotScope {
  readonly grantees: readonly string[];
  readonly schemas: readonly string[];
  /** Tables whose columns are named, so a missing column is reported rather than failing at apply. */
  readonly columnTables: readonly { readonly schema: string; readonly table: string }[];
  /** Every role name the Grants mention (grantees, membership roles, default-privilege creators). */
  readonly roles: readonly string[];
  /** Also take the catalog fingerprint (fingerprint.ts), for the provider's drift check. */
  readonly fingerprint?: boolean | undefined;
}

const ACL_OF = (aclExpr: string) =>
  `(SELECT json_agg(json_build_array(g.name, a.privilege_type) ORDER BY g.name, a.privilege_type)
      FROM aclexplode(${aclExpr}) a JOIN g ON g.oid = a.grantee)`;

const ALL_OF = (objtype: string) =>
  `(SELECT json_agg(DISTINCT a.privilege_type) FROM aclexplode(acldefault('${objtype}', 10::oid)) a WHERE a.grantee = 10::oid)`;

type Row = readonly unknown[];

/** The scope as SQL literals, shared by the parts' subqueries. */
interface ScopeSql {
  readonly grantees: string;
  readonly schemas: string;
  readonly roles: string;
  readonly columnSchemas: string;
  readonly columnTables: string;
}

/**
 * One object list as data: the subquery that returns its rows (JSON arrays, over the CTEs g and s
 * of snapshotSql) and how one row becomes a typed object. The observed types are derived from the
 * parsers (Observed<K>), so a new kind of object adds one entry to PARTS and nothing else here.
 */
interface SnapshotPart {
  readonly sql: (scope: ScopeSql) => string;
  readonly parse: (row: Row) => object;
}

const acl = (value: unknown): readonly AclPair[] => (Array.isArray(value) ? (value as AclPair[]) : []);
const str = (value: unknown): string => String(value);
const sorted = (values: string[] | null): string[] => [...(values ?? [])].sort();

const PARTS = {
  schemas: {
    sql: () => `(SELECT json_agg(json_build_array(s.nspname, pg_get_userbyid(s.nspowner),
      ${ACL_OF("coalesce(s.nspacl, acldefault('n', s.nspowner))")})) FROM s)`,
    parse: ([name, owner, a]) => ({ name: str(name), owner: str(owner), acl: acl(a) }),
  },
  relations: {
    sql: () => `(SELECT json_agg(json_build_array(s.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner),
      EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'),
      ${ACL_OF("coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))")}))
    FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S'))`,
    parse: ([schema, name, relkind, owner, ext, a]) => ({
      schema: str(schema),
      name: str(name),
      /** pg_class.relkind: r table, v view, m materialized view, p partitioned, f foreign, S sequence. */
      relkind: str(relkind),
      owner: str(owner),
      /** Objects created by an extension are left out of wildcards (pg_dump restores their ACLs separately). */
      extensionMember: ext === true,
      acl: acl(a),
    }),
  },
  routines: {
    sql: () => `(SELECT json_agg(json_build_array(s.nspname, p.proname,
      (SELECT coalesce(json_agg(format_type(t.typ, NULL) ORDER BY t.pos), '[]') FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(typ, pos)),
      p.prokind, pg_get_userbyid(p.proowner),
      EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e'),
      ${ACL_OF("coalesce(p.proacl, acldefault('f', p.proowner))")}))
    FROM pg_proc p JOIN s ON s.oid = p.pronamespace)`,
    parse: ([schema, name, args, prokind, owner, ext, a]) => ({
      schema: str(schema),
      name: str(name),
      /** Input argument types as format_type() prints them. */
      argTypes: (args as string[]).map(str),
      /** pg_proc.prokind: f function, p procedure, a aggregate, w window. */
      prokind: str(prokind),
      owner: str(owner),
      extensionMember: ext === true,
      acl: acl(a),
    }),
  },
  columns: {
    sql: (
      scope,
    ) => `(SELECT json_agg(json_build_array(s.nspname, c.relname, at.attname, ${ACL_OF('at.attacl')}))
    FROM pg_attribute at JOIN pg_class c ON c.oid = at.attrelid JOIN s ON s.oid = c.relnamespace
    WHERE at.attnum > 0 AND NOT at.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
      AND (at.attacl IS NOT NULL OR (s.nspname::text, c.relname::text) IN (SELECT * FROM unnest(${scope.columnSchemas}, ${scope.columnTables}))))`,
    parse: ([schema, table, column, a]) => ({
      schema: str(schema),
      table: str(table),
      column: str(column),
      acl: acl(a),
    }),
  },
  defaults: {
    sql: () => `(SELECT json_agg(json_build_array(pg_get_userbyid(d.defaclrole), s.nspname, d.defaclobjtype, ${ACL_OF('d.defaclacl')}))
    FROM pg_default_acl d JOIN s ON s.oid = d.defaclnamespace)`,
    parse: ([creator, schema, objtype, a]) => ({
      /** The role whose future objects these defaults apply to (FOR ROLE). */
      creator: str(creator),
      schema: str(schema),
      /** pg_default_acl.defaclobjtype: r tables, S sequences, f functions, T types, n schemas. */
      objtype: str(objtype),
      acl: acl(a),
    }),
  },
  memberships: {
    sql: () => `(SELECT json_agg(json_build_array(g.name, pg_get_userbyid(m.roleid), to_jsonb(m)))
    FROM pg_auth_members m JOIN g ON g.oid = m.member)`,
    parse: ([member, role, m]) => {
      const row = m as { admin_option?: boolean; inherit_option?: boolean; set_option?: boolean };
      return {
        member: str(member),
        role: str(role),
        admin: row.admin_option === true,
        /** null before PostgreSQL 16, which has no per-membership INHERIT/SET options. */
        inherit: typeof row.inherit_option === 'boolean' ? row.inherit_option : null,
        set: typeof row.set_option === 'boolean' ? row.set_option : null,
      };
    },
  },
} satisfies Record<string, SnapshotPart>;

/** The object lists of a snapshot, one per kind of catalog object. */
type ListKey = keyof typeof PARTS;
/** One observed object of a list, as its parser builds it. */
type Observed<K extends ListKey> = Readonly<ReturnType<(typeof PARTS)[K]['parse']>>;

const LIST_KEYS = Object.keys(PARTS) as ListKey[];

/**
 * The snapshot query. Names are inlined as literals (never identifiers) so the text runs over the
 * simple protocol: the same text works alone (observe) and inside apply's locked transaction batch.
 */
export function snapshotSql(scope: SnapshotScope): string {
  const sql: ScopeSql = {
    grantees: textArray(scope.grantees),
    schemas: textArray(scope.schemas),
    roles: textArray(scope.roles),
    columnSchemas: textArray(scope.columnTables.map((t) => t.schema)),
    columnTables: textArray(scope.columnTables.map((t) => t.table)),
  };
  const lists = LIST_KEYS.map((key) => `  '${key}', ${PARTS[key].sql(sql)}`).join(',\n');
  return `WITH g AS (
  SELECT r.oid, r.rolname::text AS name FROM pg_roles r WHERE r.rolname = ANY(${sql.grantees})
  UNION ALL SELECT 0::oid, 'PUBLIC' WHERE 'PUBLIC' = ANY(${sql.grantees})
), s AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n WHERE n.nspname = ANY(${sql.schemas})
)
SELECT json_build_object(
  'serverVersionNum', current_setting('server_version_num')::int,
  'database', current_database(),
  'currentUser', current_user,
  'databaseOwner', (SELECT pg_get_userbyid(d.datdba) FROM pg_database d WHERE d.datname = current_database()),
  'databaseAcl', (SELECT ${ACL_OF("coalesce(d.datacl, acldefault('d', d.datdba))")} FROM pg_database d WHERE d.datname = current_database()),
  'allPrivileges', json_build_object('database', ${ALL_OF('d')}, 'schema', ${ALL_OF('n')}, 'table', ${ALL_OF('r')}, 'sequence', ${ALL_OF('s')}, 'function', ${ALL_OF('f')}),
  'roles', (SELECT json_agg(r.rolname) FROM pg_roles r WHERE r.rolname = ANY(${sql.roles})),
${scope.fingerprint ? `  'fingerprint', ${FINGERPRINT_EXPRESSION},\n` : ''}${lists}
) AS snapshot`;
}

type RawSnapshot = {
  serverVersionNum: number;
  database: string;
  currentUser: string;
  databaseOwner: string;
  databaseAcl: AclPair[] | null;
  allPrivileges: Record<'database' | 'schema' | 'table' | 'sequence' | 'function', string[] | null>;
  roles: string[] | null;
  fingerprint?: string | null;
} & { [K in ListKey]: Row[] | null };

/** Every object list of the raw snapshot, each row through its part's parser. */
function parseLists(r: RawSnapshot): { [K in ListKey]: Observed<K>[] } {
  const entries = LIST_KEYS.map((key) => [key, (r[key] ?? []).map((row) => PARTS[key].parse(row))]);
  return Object.fromEntries(entries) as { [K in ListKey]: Observed<K>[] };
}

/** Turns the query's JSON into typed, sorted data. Pure, so tests can build snapshots by hand. */
export function parseSnapshot(raw: unknown): Snapshot {
  const r = raw as RawSnapshot;
  return {
    serverVersionNum: r.serverVersionNum,
    database: r.database,
    currentUser: r.currentUser,
    databaseOwner: r.databaseOwner,
    databaseAcl: acl(r.databaseAcl),
    allPrivileges: {
      database: sorted(r.allPrivileges.database),
      schema: sorted(r.allPrivileges.schema),
      table: sorted(r.allPrivileges.table),
      sequence: sorted(r.allPrivileges.sequence),
      function: sorted(r.allPrivileges.function),
    },
    roles: sorted(r.roles),
    ...(typeof r.fingerprint === 'string' ? { fingerprint: r.fingerprint } : {}),
    ...parseLists(r),
  };
}

/** Minimal client surface: a pg Client or PoolClient. */
export type Queryable = Pick<ClientBase, 'query'>;

/** One round trip: the snapshot of everything the scope mentions. */
export async function observe(client: Queryable, scope: SnapshotScope): Promise<Snapshot> {
  const result = await client.query<{ snapshot: unknown }>(snapshotSql(scope));
  return parseSnapshot(result.rows[0]?.snapshot);
}
