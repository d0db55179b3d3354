// The Grants the function composes for the default roles, applied with the grants engine as the
// database owner (as the composed ProviderConfig does), then tried by connecting as each role on
// real PostgreSQL 14, 15 and 18: the runtime role reads and writes but cannot DROP, ALTER or
// CREATE; the read-only role only reads; a table the owner creates later follows the same rules.
import { describe, expect, it } from 'vitest';
import { grantParameters } from '../../src/api/grant.js';
import { reconcile } from '../../src/grants/index.js';
import { render } from '../../src/render/render.js';
import { getPath, getString, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';
import { SERVERS, uniqueName, useServer, type ServerHandle } from '../support/postgres.js';
import { tryAs } from '../grants/fixtures.js';

const DENIED = '42501';
const template = exampleCases().find((c) => c.id === 'agent-executor/xr')!;

/** Renders the example for a fresh database and owner on this server's major. */
function composed(major: number, database: string, owner: string) {
  const xr = structuredClone(template.request.xr);
  Object.assign(xr.spec as JsonObject, {
    version: String(major),
    databaseName: database,
    databaseOwner: owner,
  });
  const { response, objects } = render({ ...template.request, xr });
  const byKey = (key: string) =>
    objects.find(
      (o) => getString(o, 'metadata', 'annotations', 'crossplane.io/composition-resource-name') === key,
    );
  const grants = objects.filter((o) => o.kind === 'Grant');
  return { response, cluster: byKey('cluster')!, grants };
}

/** What CNPG does at bootstrap: the owner and database from initdb, postInitApplicationSQL, the managed roles. */
async function bootstrap(
  server: ServerHandle,
  cluster: JsonObject,
  database: string,
  owner: string,
): Promise<void> {
  await server.createRole(owner, 'LOGIN');
  await server.createDatabase(database);
  const admin = await server.connect('postgres');
  await admin.query(`ALTER DATABASE "${database}" OWNER TO "${owner}"`);
  await admin.end();
  const asSuperuser = await server.connect(database);
  for (const sql of (getPath(cluster, 'spec', 'bootstrap', 'initdb', 'postInitApplicationSQL') as
    string[] | undefined) ?? []) {
    await asSuperuser.query(sql);
  }
  await asSuperuser.end();
  for (const role of getPath(cluster, 'spec', 'managed', 'roles') as { name: string }[]) {
    await server.createRole(role.name, 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE');
  }
}

async function asOwner(server: ServerHandle, owner: string, database: string, sql: string): Promise<void> {
  const client = await server.connectAs(owner, database);
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe.each(SERVERS)('default roles on PostgreSQL $major ($source)', (target) => {
  const server = useServer(target);

  it('runtime role: DML only; read-only role: SELECT only; future tables included', async () => {
    const database = uniqueName('app');
    const owner = `${database}_owner`;
    const { cluster, grants } = composed(server.major, database, owner);
    const runtime = `${database}_rw`;
    const readOnly = `${database}_ro`;
    await bootstrap(server, cluster, database, owner);
    await asOwner(server, owner, database, 'CREATE TABLE public.orders (id serial PRIMARY KEY, item text)');

    const ownerClient = await server.connectAs(owner, database);
    const inputs = grants.map((g) => ({
      name: getString(g, 'metadata', 'name')!,
      parameters: grantParameters.parse(getPath(g, 'spec', 'forProvider')),
    }));
    const first = await reconcile(ownerClient, inputs);
    expect(first.plan.problems).toEqual([]);
    expect(first.applied).toBe(true);
    // Converged: a second reconcile changes nothing.
    expect((await reconcile(ownerClient, inputs)).plan.statements).toEqual([]);
    await ownerClient.end();

    // A table the owner creates after the Grants were applied: default privileges cover it.
    await asOwner(server, owner, database, 'CREATE TABLE public.invoices (id serial PRIMARY KEY, total int)');

    for (const table of ['orders', 'invoices']) {
      const column = table === 'orders' ? 'item' : 'total';
      const value = table === 'orders' ? "'book'" : '42';
      expect
        .soft(
          await tryAs(server, runtime, database, `INSERT INTO public.${table} (${column}) VALUES (${value})`),
          `${table}: runtime INSERT`,
        )
        .toBe('ok');
      expect
        .soft(
          await tryAs(server, runtime, database, `SELECT * FROM public.${table}`),
          `${table}: runtime SELECT`,
        )
        .toBe('ok');
      expect
        .soft(
          await tryAs(server, runtime, database, `UPDATE public.${table} SET ${column} = ${value}`),
          `${table}: runtime UPDATE`,
        )
        .toBe('ok');
      expect
        .soft(
          await tryAs(server, runtime, database, `DELETE FROM public.${table}`),
          `${table}: runtime DELETE`,
        )
        .toBe('ok');
      expect
        .soft(await tryAs(server, runtime, database, `DROP TABLE public.${table}`), `${table}: runtime DROP`)
        .toBe(DENIED);
      expect
        .soft(
          await tryAs(server, runtime, database, `ALTER TABLE public.${table} ADD COLUMN x int`),
          `${table}: runtime ALTER`,
        )
        .toBe(DENIED);
      expect
        .soft(
          await tryAs(server, runtime, database, `TRUNCATE public.${table}`),
          `${table}: runtime TRUNCATE`,
        )
        .toBe(DENIED);

      expect
        .soft(
          await tryAs(server, readOnly, database, `SELECT * FROM public.${table}`),
          `${table}: read-only SELECT`,
        )
        .toBe('ok');
      expect
        .soft(
          await tryAs(
            server,
            readOnly,
            database,
            `INSERT INTO public.${table} (${column}) VALUES (${value})`,
          ),
          `${table}: read-only INSERT`,
        )
        .toBe(DENIED);
      expect
        .soft(
          await tryAs(server, readOnly, database, `UPDATE public.${table} SET ${column} = ${value}`),
          `${table}: read-only UPDATE`,
        )
        .toBe(DENIED);
      expect
        .soft(
          await tryAs(server, readOnly, database, `DELETE FROM public.${table}`),
          `${table}: read-only DELETE`,
        )
        .toBe(DENIED);
    }
    for (const role of [runtime, readOnly]) {
      expect
        .soft(
          await tryAs(server, role, database, 'CREATE TABLE public.sneaky (id int)'),
          `${role}: CREATE in public`,
        )
        .toBe(DENIED);
      expect
        .soft(await tryAs(server, role, database, 'CREATE SCHEMA sneaky'), `${role}: CREATE SCHEMA`)
        .toBe(DENIED);
    }
  });
});
