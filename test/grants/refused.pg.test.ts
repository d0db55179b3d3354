// A role that may not grant: PostgreSQL answers its GRANT with "WARNING: no privileges were
// granted" (its REVOKE with "no privileges could be revoked") and the statement succeeds,
// changing nothing. The engine treats that as the failure it is: the error names the statement,
// the whole transaction rolls back, and nothing is recorded that the catalog does not hold. The
// CLI runs the same engine: exit 1, the warning on stderr, no state written.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { grantsCommand } from '../../src/cli/grants.js';
import { ApplyError, reconcile } from '../../src/grants/index.js';
import { SERVERS, useServer, type ServerHandle } from '../support/postgres.js';
import { aclFingerprint, makeWorld, params, type World } from './fixtures.js';

/** A login role that holds SELECT on app.orders (no grant option) and SELECT WITH GRANT OPTION on app.secrets. */
async function applier(server: ServerHandle, world: World): Promise<{ role: string; client: pg.Client }> {
  const role = await server.createRole();
  await world.admin.query(`
    GRANT CONNECT ON DATABASE "${world.database}" TO "${role}";
    SET ROLE "${world.owner}";
    GRANT USAGE ON SCHEMA app TO "${role}";
    GRANT SELECT ON app.orders TO "${role}";
    GRANT SELECT ON app.secrets TO "${role}" WITH GRANT OPTION;
    RESET ROLE;
  `);
  return { role, client: await server.connectAs(role, world.database) };
}

describe.each(SERVERS)('privileges the server refuses on PostgreSQL $major ($source)', (target) => {
  const server = useServer(target);

  it('"no privileges were granted" fails naming the statement; the statement that worked is rolled back', async () => {
    const world = await makeWorld(server);
    const { role, client } = await applier(server, world);
    const roles = [world.grantee, role, world.owner];
    const before = await aclFingerprint(world.admin, roles);
    const spec = params(world, {
      tables: [{ schema: 'app', objects: ['orders', 'secrets'], privileges: ['SELECT'] }],
    });

    const failure = await reconcile(client, [{ name: 'g', parameters: spec }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplyError);
    const error = failure as ApplyError;
    expect(error.sqlstate).toBe('01007');
    expect(error.rolledBack).toBe(true);
    expect(error.statement?.sql).toBe(
      `GRANT SELECT ON TABLE "app"."orders", "app"."secrets" TO "${world.grantee}"`,
    );
    expect(error.message).toBe(
      `apply to database "${world.database}" failed statement 1 of 1: GRANT SELECT ON TABLE "app"."orders", "app"."secrets" TO "${world.grantee}": WARNING: no privileges were granted for "orders" (SQLSTATE 01007); the transaction was rolled back, nothing changed`,
    );
    // app.secrets was granted by the statement and is gone with the rollback.
    expect(await aclFingerprint(world.admin, roles)).toBe(before);
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('"not all privileges were granted" fails too', async () => {
    const world = await makeWorld(server);
    const { role, client } = await applier(server, world);
    const roles = [world.grantee, role, world.owner];
    const before = await aclFingerprint(world.admin, roles);
    // The grant option covers SELECT on app.secrets, not INSERT.
    const spec = params(world, {
      tables: [{ schema: 'app', objects: ['secrets'], privileges: ['SELECT', 'INSERT'] }],
    });
    const failure = await reconcile(client, [{ name: 'g', parameters: spec }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplyError);
    expect((failure as ApplyError).message).toContain(
      'WARNING: not all privileges were granted for "secrets"',
    );
    expect(await aclFingerprint(world.admin, roles)).toBe(before);
  });

  it('"no privileges could be revoked" fails naming the REVOKE', async () => {
    const world = await makeWorld(server);
    const { role, client } = await applier(server, world);
    await world.admin.query(
      `SET ROLE "${world.owner}"; GRANT UPDATE ON app.orders TO "${world.grantee}"; RESET ROLE`,
    );
    const roles = [world.grantee, role, world.owner];
    const before = await aclFingerprint(world.admin, roles);
    // Authoritative over app.orders: UPDATE must go, and the applier did not grant it.
    const spec = params(world, {
      mode: 'authoritative',
      tables: [{ schema: 'app', objects: ['orders'], privileges: [] }],
    });
    const failure = await reconcile(client, [{ name: 'g', parameters: spec }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplyError);
    const error = failure as ApplyError;
    expect(error.sqlstate).toBe('01006');
    expect(error.statement?.sql).toBe(`REVOKE UPDATE ON TABLE "app"."orders" FROM "${world.grantee}"`);
    expect(error.message).toMatch(/WARNING: no privileges could be revoked for "orders"/);
    expect(await aclFingerprint(world.admin, roles)).toBe(before);
  });

  it('a role that may grant applies as before', async () => {
    const world = await makeWorld(server);
    const { client } = await applier(server, world);
    const spec = params(world, { tables: [{ schema: 'app', objects: ['secrets'], privileges: ['SELECT'] }] });
    const result = await reconcile(client, [{ name: 'g', parameters: spec }]);
    expect(result.applied).toBe(true);
    expect(result.roundTrips).toBe(4);
    const held = await world.admin.query<{ ok: boolean }>(
      `SELECT has_table_privilege($1, 'app.secrets', 'SELECT') AS ok`,
      [world.grantee],
    );
    expect(held.rows[0]!.ok).toBe(true);
  });

  it('pgplane grants apply as a role that may not grant exits 1, says which statement, and records nothing', async () => {
    const world = await makeWorld(server);
    const { role } = await applier(server, world);
    const dir = await mkdtemp(path.join(tmpdir(), 'pgplane-refused-'));
    const file = path.join(dir, 'grant.yaml');
    await writeFile(
      file,
      `apiVersion: grants.pgplane.io/v1alpha1
kind: Grant
metadata: {name: reader}
spec:
  forProvider:
    database: ${world.database}
    grantee: ${world.grantee}
    tables: [{schema: app, objects: [orders], privileges: [SELECT]}]
`,
    );
    const url = new URL(server.url(world.database));
    url.username = role;
    const state = path.join(dir, 'state.json');
    for (let run = 0; run < 2; run++) {
      let stdout = '';
      let stderr = '';
      const code = await grantsCommand(['apply', '-f', file, '--database-url', url.href, '--state', state], {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
      });
      expect(code).toBe(1);
      expect(stdout).not.toContain('applied');
      expect(stderr).toContain(
        `statement 1 of 1: GRANT SELECT ON TABLE "app"."orders" TO "${world.grantee}": WARNING: no privileges were granted for "orders"`,
      );
      // Nothing recorded as granted: the state holds no privilege for this database.
      const recorded = existsSync(state)
        ? (JSON.parse(await readFile(state, 'utf8')) as Record<string, unknown>)
        : {};
      expect(recorded[world.database]).toBeUndefined();
    }
  });
});
