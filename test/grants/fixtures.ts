// Shared fixtures for the integration suites: a schema holding every kind of object the
// grants engine covers, created by an owner role, and helpers to try operations as a grantee.
import type pg from 'pg';
import { expect } from 'vitest';
import {
  reconcile,
  type GrantInput,
  type GrantParameters,
  type ReconcileOptions,
  type ReconcileResult,
} from '../../src/grants/index.js';
import { grantParameters } from '../../src/api/grant.js';
import type { ServerHandle } from '../support/postgres.js';

export interface World {
  readonly database: string;
  readonly owner: string;
  readonly grantee: string;
  /** Superuser connection to the test database (what reconciles run over). */
  readonly admin: pg.Client;
}

/** A database with schema "app" owned by a fresh owner role, every relkind, sequences and routines. */
export async function makeWorld(server: ServerHandle): Promise<World> {
  const owner = await server.createRole(undefined, 'NOLOGIN');
  const grantee = await server.createRole();
  const database = await server.createDatabase();
  const admin = await server.connect(database);
  await admin.query(`
    REVOKE ALL ON DATABASE "${database}" FROM PUBLIC;
    CREATE SCHEMA app AUTHORIZATION "${owner}";
    SET ROLE "${owner}";
    CREATE TABLE app.orders (id serial PRIMARY KEY, note varchar(20));
    CREATE TABLE app.secrets (id int, secret text);
    CREATE VIEW app.order_view AS SELECT id FROM app.orders;
    CREATE MATERIALIZED VIEW app.order_mv AS SELECT id FROM app.orders;
    CREATE TABLE app.events (id int, at date) PARTITION BY RANGE (at);
    CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE SEQUENCE app.counter;
    CREATE FUNCTION app.add_item(a integer, b character varying[]) RETURNS int LANGUAGE sql AS 'SELECT 1';
    CREATE FUNCTION app.add_item(a integer) RETURNS int LANGUAGE sql AS 'SELECT 2';
    CREATE PROCEDURE app.do_thing() LANGUAGE sql AS 'SELECT 1';
    REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA app FROM PUBLIC;
    RESET ROLE;
  `);
  return { database, owner, grantee, admin };
}

export function params(
  world: Pick<World, 'database' | 'grantee'>,
  rest: Partial<GrantParameters>,
): GrantParameters {
  return grantParameters.parse({ database: world.database, grantee: world.grantee, ...rest });
}

/** Reconciles one Grant named "g", threading the record through like the provider does. */
export class Reconciler {
  private previous: GrantInput['previous'];
  constructor(private readonly client: pg.Client) {}
  async run(parameters: GrantParameters, options: ReconcileOptions = {}): Promise<ReconcileResult> {
    const result = await reconcile(
      this.client,
      [{ name: 'g', parameters, previous: this.previous }],
      options,
    );
    expect(result.plan.problems).toEqual([]);
    if (!options.dryRun) this.previous = result.plan.records.g;
    return result;
  }
}

/** Runs `sql` as the grantee (fresh connection) and returns the SQLSTATE, or "ok". */
export async function tryAs(
  server: ServerHandle,
  role: string,
  database: string,
  sql: string,
): Promise<string> {
  let client: pg.Client;
  try {
    client = await server.connectAs(role, database);
  } catch (error) {
    return (error as { code?: string }).code ?? 'connect-failed';
  }
  try {
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  } finally {
    await client.end();
  }
}

/** Every ACL in the database that could change, as text: compared before and after failed applies. */
export async function aclFingerprint(client: pg.Client, roles: readonly string[]): Promise<string> {
  const result = await client.query<{ f: string }>(
    `
    SELECT concat_ws(E'\\n',
      (SELECT datacl::text FROM pg_database WHERE datname = current_database()),
      (SELECT string_agg(nspname || ':' || coalesce(nspacl::text, '-'), ',' ORDER BY nspname) FROM pg_namespace),
      (SELECT string_agg(oid::regclass::text || ':' || coalesce(relacl::text, '-'), ',' ORDER BY oid) FROM pg_class WHERE relnamespace > 16384),
      (SELECT string_agg(oid::regprocedure::text || ':' || coalesce(proacl::text, '-'), ',' ORDER BY oid) FROM pg_proc WHERE pronamespace > 16384),
      (SELECT string_agg(attrelid::regclass::text || '.' || attname || ':' || attacl::text, ',' ORDER BY attrelid, attnum) FROM pg_attribute WHERE attacl IS NOT NULL),
      (SELECT string_agg(defaclrole::regrole::text || ':' || defaclnamespace::text || defaclobjtype::text || ':' || defaclacl::text, ',' ORDER BY oid) FROM pg_default_acl),
      (SELECT string_agg(roleid::regrole::text || '>' || member::regrole::text, ',' ORDER BY roleid, member) FROM pg_auth_members WHERE member::regrole::text = ANY($1) OR roleid::regrole::text = ANY($1))
    ) AS f`,
    [roles.map((r) => `"${r.replaceAll('"', '""')}"`).concat(roles)],
  );
  return result.rows[0]!.f;
}
