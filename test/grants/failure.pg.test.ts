// Apply is all or nothing: a failing statement, a lock wait that times out, or a connection cut
// mid-apply leaves every ACL exactly as before (checked through the catalog), and the error names
// the statement that failed.
import { describe, expect, it } from 'vitest';
import { ApplyError, reconcile } from '../../src/grants/index.js';
import { SERVERS, useServer } from '../support/postgres.js';
import { aclFingerprint, makeWorld, params } from './fixtures.js';

describe.each(SERVERS)('failed applies on PostgreSQL $major ($source)', (target) => {
  const server = useServer(target);

  it('a statement failure rolls everything back and names the statement', async () => {
    const world = await makeWorld(server);
    const team = await server.createRole(undefined, 'NOLOGIN');
    // team is already a member of the grantee: granting team to the grantee is a cycle the server refuses.
    await world.admin.query(`GRANT "${world.grantee}" TO "${team}"`);
    const spec = params(world, {
      databasePrivileges: ['CONNECT'],
      schemas: [{ name: 'app', privileges: ['USAGE'] }],
      tables: [{ schema: 'app', objects: ['*'], privileges: ['SELECT'] }],
      memberships: [{ role: team }],
    });
    const roles = [world.grantee, team, world.owner];
    const before = await aclFingerprint(world.admin, roles);
    const failure = await reconcile(world.admin, [{ name: 'g', parameters: spec }]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplyError);
    const error = failure as ApplyError;
    expect(error.statement?.sql).toBe(`GRANT "${team}" TO "${world.grantee}"`);
    expect(error.message).toContain(`GRANT "${team}" TO "${world.grantee}"`);
    expect(error.message).toContain('rolled back');
    expect(error.rolledBack).toBe(true);
    expect(await aclFingerprint(world.admin, roles)).toBe(before);
    // The connection is usable again (not left in an aborted transaction).
    expect((await world.admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a lock timeout mid-apply rolls back the statements before it', async () => {
    const world = await makeWorld(server);
    const spec = params(world, {
      databasePrivileges: ['CONNECT'],
      tables: [
        { schema: 'app', objects: ['orders'], privileges: ['INSERT'] },
        { schema: 'app', objects: ['secrets'], privileges: ['SELECT'] },
      ],
    });
    const roles = [world.grantee, world.owner];
    const before = await aclFingerprint(world.admin, roles);
    // Another transaction holds the catalog row of app.secrets: the grant on it must wait.
    const blocker = await server.connect(world.database);
    await blocker.query(`BEGIN; GRANT TRIGGER ON app.secrets TO "${world.owner}"`);
    const failure = await reconcile(world.admin, [{ name: 'g', parameters: spec }], {
      lockTimeoutMs: 300,
    }).catch((e: unknown) => e);
    await blocker.query('ROLLBACK');
    expect(failure).toBeInstanceOf(ApplyError);
    expect((failure as ApplyError).statement?.sql).toBe(
      `GRANT SELECT ON TABLE "app"."secrets" TO "${world.grantee}"`,
    );
    expect((failure as ApplyError).sqlstate).toBe('55P03');
    expect(await aclFingerprint(world.admin, roles)).toBe(before);
  });

  it('a connection cut mid-apply leaves the database as before', async () => {
    const world = await makeWorld(server);
    const spec = params(world, {
      databasePrivileges: ['CONNECT'],
      tables: [
        { schema: 'app', objects: ['orders'], privileges: ['INSERT'] },
        { schema: 'app', objects: ['secrets'], privileges: ['SELECT'] },
      ],
    });
    const roles = [world.grantee, world.owner];
    const before = await aclFingerprint(world.admin, roles);
    const blocker = await server.connect(world.database);
    await blocker.query(`BEGIN; GRANT TRIGGER ON app.secrets TO "${world.owner}"`);
    const applier = await server.connect(world.database, {
      application_name: `pgplane-cut-${world.database}`,
    });
    const running = reconcile(applier, [{ name: 'g', parameters: spec }], { lockTimeoutMs: 60_000 }).catch(
      (e: unknown) => e,
    );
    // Wait until the apply is blocked on the held row (it has granted the statements before it), then cut it.
    const watcher = await server.connect(world.database);
    let pid: number | undefined;
    for (let attempt = 0; attempt < 200 && pid === undefined; attempt++) {
      const r = await watcher.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [`pgplane-cut-${world.database}`],
      );
      pid = r.rows[0]?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pid).toBeDefined();
    await watcher.query('SELECT pg_terminate_backend($1)', [pid]);
    const failure = await running;
    await blocker.query('ROLLBACK');
    expect(failure).toBeInstanceOf(ApplyError);
    expect(await aclFingerprint(watcher, roles)).toBe(before);
  });
});
