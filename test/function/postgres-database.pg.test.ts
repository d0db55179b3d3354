// Tenant isolation on a real server: the Grants a PostgresDatabase composes, applied with the grants
// engine as its owner (as its ProviderConfig does), on PostgreSQL 14, 15 and 18. Before them every
// role on the server may connect to a new database (PUBLIC has CONNECT and TEMPORARY); after them
// only the tenant's own roles can, and another tenant's role cannot even open a session.
import { describe, expect, it } from 'vitest';
import { grantParameters } from '../../src/api/grant.js';
import { reconcile } from '../../src/grants/index.js';
import { render } from '../../src/render/render.js';
import { getPath, getString, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';
import { SERVERS, uniqueName, useServer } from '../support/postgres.js';
import { tryAs } from '../grants/fixtures.js';

const DENIED = '42501';
const cases = exampleCases();
const example = (id: string) => cases.find((c) => c.id === id)!;

/**
 * What the example composes for a fresh database and owner: its Grants, and the schemas its CNPG
 * Database gives the owner (on a shared instance). On a registered server before PostgreSQL 15,
 * schema public belongs to the bootstrap superuser and pgplane's Database does not hand it over
 * yet: that backend is tried on 15 and later only.
 */
function composed(id: string, major: number, database: string, owner: string) {
  const template = example(id);
  const xr = structuredClone(template.request.xr);
  Object.assign(xr.spec as JsonObject, { databaseName: database, databaseOwner: owner, access: [] });
  const required = (template.request.required ?? []).map((o) =>
    o.kind === 'PostgresInstance' ? { ...o, spec: { ...(o.spec as JsonObject), version: String(major) } } : o,
  );
  const { objects, fatal } = render({ ...template.request, xr, required });
  expect(fatal).toBeUndefined();
  const cnpgDatabase = objects.find((o) => o.kind === 'Database' && o.apiVersion === 'postgresql.cnpg.io/v1');
  return {
    schemaOwners:
      (getPath(cnpgDatabase, 'spec', 'schemas') as { name: string; owner: string }[] | undefined) ?? [],
    grants: objects
      .filter((o) => o.kind === 'Grant')
      .map((g) => ({
        name: getString(g, 'metadata', 'name')!,
        parameters: grantParameters.parse(getPath(g, 'spec', 'forProvider')),
      })),
  };
}

const scenarios = SERVERS.flatMap((target) => [
  { target, id: 'database-on-instance/xr', backend: 'a shared instance' },
  ...(target.major >= 15 ? [{ target, id: 'database-on-server/xr', backend: 'a registered server' }] : []),
]);

describe.each(scenarios)(
  'PostgresDatabase on $backend, PostgreSQL $target.major ($target.source)',
  ({ target, id }) => {
    const server = useServer(target);

    it("only the tenant's own roles can connect to its database", async () => {
      const database = uniqueName('orders');
      const owner = `${database}_owner`;
      const runtime = `${database}_rw`;
      const readOnly = `${database}_ro`;
      // What the DatabaseRoles (or Roles) and the Database do: least-privilege login roles, the
      // database owned by the owner, and the schemas its CNPG Database gives the owner.
      for (const role of [owner, runtime, readOnly])
        await server.createRole(role, 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE');
      const neighbour = await server.createRole(uniqueName('payments_rw'), 'LOGIN NOSUPERUSER');
      await server.createDatabase(database);
      const admin = await server.connect('postgres');
      await admin.query(`ALTER DATABASE "${database}" OWNER TO "${owner}"`);
      await admin.end();
      const { grants, schemaOwners } = composed(id, server.major, database, owner);
      const asSuperuser = await server.connect(database);
      for (const schema of schemaOwners)
        await asSuperuser.query(`ALTER SCHEMA "${schema.name}" OWNER TO "${schema.owner}"`);
      await asSuperuser.end();

      // The check can fail: a new database admits every role on the server.
      expect(await tryAs(server, neighbour, database, 'SELECT 1')).toBe('ok');

      expect(grants.map((g) => g.parameters.grantee).sort()).toEqual(['PUBLIC', readOnly, runtime].sort());
      const ownerClient = await server.connectAs(owner, database);
      const first = await reconcile(ownerClient, grants);
      expect(first.plan.problems).toEqual([]);
      expect(first.applied).toBe(true);
      expect((await reconcile(ownerClient, grants)).plan.statements).toEqual([]);
      await ownerClient.end();

      expect
        .soft(await tryAs(server, neighbour, database, 'SELECT 1'), 'another tenant connects')
        .toBe(DENIED);
      expect.soft(await tryAs(server, runtime, database, 'SELECT 1'), 'runtime connects').toBe('ok');
      expect.soft(await tryAs(server, readOnly, database, 'SELECT 1'), 'read-only connects').toBe('ok');
      expect
        .soft(
          await tryAs(server, runtime, database, 'CREATE TEMP TABLE scratch (id int)'),
          'runtime TEMPORARY',
        )
        .toBe('ok');
      expect
        .soft(
          await tryAs(server, readOnly, database, 'CREATE TEMP TABLE scratch (id int)'),
          'read-only TEMPORARY (PUBLIC no longer has it)',
        )
        .toBe(DENIED);
      expect
        .soft(
          await tryAs(server, runtime, database, 'CREATE TABLE public.sneaky (id int)'),
          'runtime CREATE in public',
        )
        .toBe(DENIED);
      expect.soft(await tryAs(server, owner, database, 'SELECT 1'), 'the owner connects').toBe('ok');
    });
  },
);
