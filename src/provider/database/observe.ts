// What the server holds for one database, in one parameterised round trip: the pg_database row
// (owner, encoding, locale, connection limit), its comment (the ownership mark) and the facts a
// plan needs about the server itself. Columns that only some majors have (datlocprovider on 15+,
// daticulocale on 15-16, datlocale on 17+) are read through to_jsonb, so one query serves 14 to 18.
import type { Queryable } from '../../grants/observe.js';

/** How the database's default collation is provided: libc (all majors), icu (15+), builtin (17+). */
type LocaleProvider = 'libc' | 'icu' | 'builtin';

export interface ObservedDatabase {
  readonly name: string;
  readonly owner: string;
  /** Whether the owner is the role the session is connected as (the ProviderConfig's role). */
  readonly ownedBySessionUser: boolean;
  /** pg_encoding_to_char: UTF8, SQL_ASCII, LATIN1, ... */
  readonly encoding: string;
  /** The libc LC_COLLATE and LC_CTYPE; set whatever the provider. */
  readonly lcCollate: string;
  readonly lcCtype: string;
  readonly localeProvider: LocaleProvider;
  /** The ICU or builtin locale, when the provider is not libc. */
  readonly providerLocale?: string | undefined;
  readonly connectionLimit: number;
  /** PostgreSQL marks a database whose DROP DATABASE was interrupted invalid (datconnlimit -2). */
  readonly invalid: boolean;
  /** shobj_description: where the ownership mark lives. */
  readonly comment: string | null;
}

export interface DatabaseFacts {
  /** server_version_num, e.g. 150004: LOCALE_PROVIDER exists from 150000. */
  readonly serverVersion: number;
  /** Undefined when the database does not exist. */
  readonly database?: ObservedDatabase | undefined;
  /**
   * The spec's encoding as the server spells it (pg_char_to_encoding accepts aliases such as
   * utf-8 and unicode); '' when the server knows no such encoding; undefined when none was asked.
   */
  readonly requestedEncoding?: string | undefined;
}

const INVALID_CONNECTION_LIMIT = -2;

const PROVIDERS: Readonly<Record<string, LocaleProvider>> = { c: 'libc', i: 'icu', b: 'builtin' };

const OBSERVE_DATABASE_SQL = `SELECT current_setting('server_version_num')::int AS server_version,
  CASE WHEN $2::text IS NULL THEN NULL ELSE pg_encoding_to_char(pg_char_to_encoding($2::text::name)) END AS requested_encoding,
  d.datname::text AS name,
  pg_get_userbyid(d.datdba)::text AS owner,
  d.datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned_by_session_user,
  pg_encoding_to_char(d.encoding) AS encoding,
  d.datcollate::text AS lc_collate,
  d.datctype::text AS lc_ctype,
  to_jsonb(d) ->> 'datlocprovider' AS locale_provider,
  coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale') AS provider_locale,
  d.datconnlimit AS connection_limit,
  shobj_description(d.oid, 'pg_database') AS comment
FROM (SELECT 1) AS one LEFT JOIN pg_database AS d ON d.datname = $1`;

interface Row {
  server_version: number;
  requested_encoding: string | null;
  name: string | null;
  owner: string | null;
  owned_by_session_user: boolean | null;
  encoding: string | null;
  lc_collate: string | null;
  lc_ctype: string | null;
  locale_provider: string | null;
  provider_locale: string | null;
  connection_limit: number | null;
  comment: string | null;
}

/** Reads the database `name` (and canonicalises `encoding`, when given) on the session's server. */
export async function observeDatabase(
  client: Queryable,
  name: string,
  encoding: string | undefined,
): Promise<DatabaseFacts> {
  const { rows } = await client.query<Row>(OBSERVE_DATABASE_SQL, [name, encoding ?? null]);
  const row = rows[0];
  if (!row) throw new Error('the database query returned no row');
  const requestedEncoding = row.requested_encoding ?? undefined;
  const facts = { serverVersion: row.server_version, requestedEncoding };
  if (row.name === null) return facts;
  return {
    ...facts,
    database: {
      name: row.name,
      owner: row.owner ?? '',
      ownedBySessionUser: row.owned_by_session_user === true,
      encoding: row.encoding ?? '',
      lcCollate: row.lc_collate ?? '',
      lcCtype: row.lc_ctype ?? '',
      // PostgreSQL 14 has no datlocprovider: every database is libc.
      localeProvider: PROVIDERS[row.locale_provider ?? 'c'] ?? 'libc',
      providerLocale: row.provider_locale ?? undefined,
      connectionLimit: row.connection_limit ?? -1,
      invalid: row.connection_limit === INVALID_CONNECTION_LIMIT,
      comment: row.comment,
    },
  };
}
