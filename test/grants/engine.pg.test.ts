// The engine against real servers (local 15, embedded 14 and 18): what is declared works when
// tried as the grantee, what is not declared fails; wildcards cover future objects through default
// privileges and others' objects at the next reconcile; reconciles converge; modes differ as specified.
import { describe, expect, it } from 'vitest';
import { SERVERS, useServer } from '../support/postgres.js';
import { reconcile } from '../../src/grants/index.js';
import { catalogFingerprint } from '../../src/grants/fingerprint.js';
import { makeWorld, params, Reconciler, tryAs } from './fixtures.js';

const DENIED = '42501';

describe.each(SERVERS)('grants engine on PostgreSQL $major ($source)', (target) => {
  const server = useServer(target);

  it('grants what is declared on every relkind, sequence, routine, column and membership, and nothing else', async () => {
    const world = await makeWorld(server);
    const readers = await server.createRole(undefined, 'NOLOGIN');
    const stranger = await server.createRole(undefined, 'NOLOGIN');
    const spec = params(world, {
      databasePrivileges: ['CONNECT'],
      schemas: [{ name: 'app', privileges: ['USAGE'] }],
      tables: [
        { schema: 'app', objects: ['orders'], privileges: ['SELECT', 'INSERT'] },
        { schema: 'app', objects: ['order_view', 'order_mv', 'events'], privileges: ['SELECT'] },
      ],
      sequences: [
        { schema: 'app', objects: ['orders_id_seq'], privileges: ['USAGE'] },
        { schema: 'app', objects: ['counter'], privileges: ['USAGE', 'SELECT'] },
      ],
      functions: [
        {
          schema: 'app',
          objects: [
            { name: 'add_item', arguments: ['int', 'varchar[]'] },
            { name: 'do_thing', arguments: [] },
          ],
          privileges: ['EXECUTE'],
        },
      ],
      columns: [{ schema: 'app', table: 'secrets', columns: ['id'], privileges: ['SELECT'] }],
      memberships: [{ role: readers }],
    });
    const result = await new Reconciler(world.admin).run(spec);
    expect(result.applied).toBe(true);

    const as = (sql: string) => tryAs(server, world.grantee, world.database, sql);
    // Declared: works.
    expect(await as('SELECT * FROM app.orders')).toBe('ok');
    expect(await as(`INSERT INTO app.orders (note) VALUES ('x')`)).toBe('ok');
    expect(await as('SELECT * FROM app.order_view')).toBe('ok');
    expect(await as('SELECT * FROM app.order_mv')).toBe('ok');
    expect(await as('SELECT * FROM app.events')).toBe('ok');
    expect(await as(`SELECT nextval('app.counter'), currval('app.counter')`)).toBe('ok');
    expect(await as(`SELECT app.add_item(1, ARRAY['a']::varchar[])`)).toBe('ok');
    expect(await as('CALL app.do_thing()')).toBe('ok');
    expect(await as('SELECT id FROM app.secrets')).toBe('ok');
    expect(await as(`SET ROLE "${readers}"`)).toBe('ok');
    // Not declared: fails.
    expect(await as(`UPDATE app.orders SET note = 'y'`)).toBe(DENIED);
    expect(await as('DELETE FROM app.orders')).toBe(DENIED);
    expect(await as('SELECT secret FROM app.secrets')).toBe(DENIED);
    expect(await as('SELECT * FROM app.events_2024')).toBe(DENIED);
    expect(await as(`INSERT INTO app.events VALUES (1, '2024-02-01')`)).toBe(DENIED);
    expect(await as(`SELECT setval('app.counter', 5)`)).toBe(DENIED);
    expect(await as('SELECT app.add_item(1)')).toBe(DENIED);
    expect(await as('CREATE TABLE app.x (id int)')).toBe(DENIED);
    expect(await as('CREATE TEMP TABLE t (id int)')).toBe(DENIED);
    expect(await as(`SET ROLE "${stranger}"`)).toBe(DENIED);
    // Not even connecting works without CONNECT.
    const other = await server.createRole();
    expect(await tryAs(server, other, world.database, 'SELECT 1')).toBe(DENIED);
  });

  it('expands ALL from the server: MAINTAIN on 17+, never on older majors', async () => {
    const world = await makeWorld(server);
    const spec = params(world, { tables: [{ schema: 'app', objects: ['orders'], privileges: ['ALL'] }] });
    const result = await new Reconciler(world.admin).run(spec);
    const granted = result.plan.statements.flatMap((s) => s.privileges);
    expect(granted.includes('MAINTAIN')).toBe(server.major >= 17);
    expect(granted).toEqual(
      expect.arrayContaining(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']),
    );
  });

  it('wildcards: future tables of the owner are readable at once; tables of another role at the next reconcile', async () => {
    const world = await makeWorld(server);
    const builder = await server.createRole(undefined, 'NOLOGIN');
    await world.admin.query(`GRANT CREATE ON SCHEMA app TO "${builder}"`);
    const spec = params(world, {
      databasePrivileges: ['CONNECT'],
      schemas: [{ name: 'app', privileges: ['USAGE'] }],
      tables: [{ schema: 'app', objects: ['*'], except: ['secrets'], privileges: ['SELECT'] }],
    });
    const reconciler = new Reconciler(world.admin);
    await reconciler.run(spec);
    const as = (sql: string) => tryAs(server, world.grantee, world.database, sql);
    // Backfill: every existing relation of every kind, except the excluded one.
    for (const rel of ['orders', 'order_view', 'order_mv', 'events', 'events_2024'])
      expect(await as(`SELECT * FROM app.${rel}`)).toBe('ok');
    expect(await as('SELECT * FROM app.secrets')).toBe(DENIED);

    await world.admin.query(`SET ROLE "${world.owner}"; CREATE TABLE app.later (id int); RESET ROLE`);
    await world.admin.query(`SET ROLE "${builder}"; CREATE TABLE app.by_builder (id int); RESET ROLE`);
    // Default privileges: no reconcile needed for the owner's new table.
    expect(await as('SELECT * FROM app.later')).toBe('ok');
    expect(await as('SELECT * FROM app.by_builder')).toBe(DENIED);

    const next = await reconciler.run(spec);
    expect(next.plan.statements.map((s) => s.sql)).toEqual([
      `GRANT SELECT ON TABLE "app"."by_builder" TO "${world.grantee}"`,
    ]);
    expect(await as('SELECT * FROM app.by_builder')).toBe('ok');
  });

  it('a specific entry takes precedence over the wildcard for that object', async () => {
    const world = await makeWorld(server);
    const spec = params(world, {
      databasePrivileges: ['CONNECT'],
      schemas: [{ name: 'app', privileges: ['USAGE'] }],
      tables: [
        { schema: 'app', objects: ['*'], privileges: ['SELECT'] },
        { schema: 'app', objects: ['secrets'], privileges: ['INSERT'] },
      ],
    });
    await new Reconciler(world.admin).run(spec);
    const as = (sql: string) => tryAs(server, world.grantee, world.database, sql);
    expect(await as('SELECT * FROM app.orders')).toBe('ok');
    expect(await as('SELECT * FROM app.secrets')).toBe(DENIED);
    expect(await as('INSERT INTO app.secrets VALUES (1, null)')).toBe('ok');
  });

  it('converges: the second apply issues nothing, in one round trip; removing a privilege revokes exactly it', async () => {
    const world = await makeWorld(server);
    const reconciler = new Reconciler(world.admin);
    const full = params(world, {
      schemas: [{ name: 'app', privileges: ['USAGE'] }],
      tables: [
        { schema: 'app', objects: ['orders'], privileges: ['SELECT', 'INSERT'] },
        { schema: 'app', objects: ['*'], privileges: ['SELECT'] },
      ],
      sequences: [{ schema: 'app', objects: ['*'], privileges: ['USAGE'] }],
      functions: [{ schema: 'app', objects: ['*'], privileges: ['EXECUTE'] }],
      columns: [{ schema: 'app', table: 'secrets', columns: ['secret'], privileges: ['UPDATE'] }],
    });
    const first = await reconciler.run(full);
    expect(first.plan.statements.length).toBeGreaterThan(0);
    const second = await reconciler.run(full);
    expect(second.plan.statements).toEqual([]);
    expect(second.plan.drift).toEqual([]);
    expect(second.applied).toBe(false);
    expect(second.roundTrips).toBe(1);

    const narrower = params(world, {
      ...full,
      tables: [
        { schema: 'app', objects: ['orders'], privileges: ['SELECT'] },
        { schema: 'app', objects: ['*'], privileges: ['SELECT'] },
      ],
    });
    const third = await reconciler.run(narrower);
    expect(third.plan.statements.map((s) => s.sql)).toEqual([
      `REVOKE INSERT ON TABLE "app"."orders" FROM "${world.grantee}"`,
    ]);
    const check = await world.admin.query<{ sel: boolean; ins: boolean }>(
      `SELECT has_table_privilege($1, 'app.orders', 'SELECT') AS sel, has_table_privilege($1, 'app.orders', 'INSERT') AS ins`,
      [world.grantee],
    );
    expect(check.rows[0]).toEqual({ sel: true, ins: false });
    expect((await reconciler.run(narrower)).plan.statements).toEqual([]);
  });

  it('expectChanges observes under the lock at once: the same plan, one round trip fewer, the fingerprint before the apply', async () => {
    const world = await makeWorld(server);
    const spec = params(world, {
      tables: [{ schema: 'app', objects: ['orders'], privileges: ['SELECT', 'INSERT'] }],
    });
    const preview = await reconcile(world.admin, [{ name: 'g', parameters: spec }], { dryRun: true });
    const before = await catalogFingerprint(world.admin);

    const reconciler = new Reconciler(world.admin);
    const applied = await reconciler.run(spec, { expectChanges: true, fingerprint: true });
    expect(applied.applied).toBe(true);
    expect(applied.plan.statements).toEqual(preview.plan.statements);
    // Lock and observe, statements, COMMIT: no unlocked snapshot first.
    expect(applied.roundTrips).toBe(3);
    expect(applied.fingerprint).toBe(before);
    expect(await catalogFingerprint(world.admin)).not.toBe(before);
    const held = await world.admin.query<{ ins: boolean }>(
      `SELECT has_table_privilege($1, 'app.orders', 'INSERT') AS ins`,
      [world.grantee],
    );
    expect(held.rows[0]).toEqual({ ins: true });

    // Nothing left to do: the locked transaction ends without writes, in two round trips.
    const again = await reconciler.run(spec, { expectChanges: true });
    expect(again.applied).toBe(false);
    expect(again.plan.statements).toEqual([]);
    expect(again.roundTrips).toBe(2);
  });

  it('additive leaves a hand-made grant (reported as drift); authoritative revokes it', async () => {
    const world = await makeWorld(server);
    const reconciler = new Reconciler(world.admin);
    const additive = params(world, {
      mode: 'additive',
      tables: [{ schema: 'app', objects: ['orders'], privileges: ['SELECT'] }],
    });
    await reconciler.run(additive);
    await world.admin.query(
      `GRANT DELETE ON app.orders TO "${world.grantee}"; GRANT SELECT ON app.secrets TO "${world.grantee}"`,
    );

    const kept = await reconciler.run(additive);
    expect(kept.plan.statements).toEqual([]);
    expect(kept.plan.drift).toEqual(
      expect.arrayContaining([
        { grant: 'g', object: 'TABLE "app"."orders"', missing: [], extra: ['DELETE'] },
      ]),
    );

    const authoritative = params(world, { ...additive, mode: 'authoritative' });
    const revoked = await reconciler.run(authoritative);
    expect(revoked.plan.statements.map((s) => s.sql).sort()).toEqual(
      [
        `REVOKE DELETE ON TABLE "app"."orders" FROM "${world.grantee}"`,
        `REVOKE SELECT ON TABLE "app"."secrets" FROM "${world.grantee}"`,
      ].sort(),
    );
    const check = await world.admin.query<{ del: boolean; sel: boolean }>(
      `SELECT has_table_privilege($1, 'app.orders', 'DELETE') AS del, has_table_privilege($1, 'app.orders', 'SELECT') AS sel`,
      [world.grantee],
    );
    expect(check.rows[0]).toEqual({ del: false, sel: true });
  });

  it('membership options: ADMIN everywhere, INHERIT/SET where the server has them', async () => {
    const world = await makeWorld(server);
    const team = await server.createRole(undefined, 'NOLOGIN');
    const reconciler = new Reconciler(world.admin);
    const withAdmin = params(world, {
      memberships: [{ role: team, admin: true, ...(server.major >= 16 ? { inherit: false } : {}) }],
    });
    await reconciler.run(withAdmin);
    const state = async () =>
      (
        await world.admin.query<{ row: Record<string, unknown> }>(
          `SELECT to_jsonb(m) AS row FROM pg_auth_members m WHERE m.roleid = $1::regrole AND m.member = $2::regrole`,
          [`"${team}"`, `"${world.grantee}"`],
        )
      ).rows.map((r) => r.row);
    const [granted] = await state();
    expect(granted?.admin_option).toBe(true);
    if (server.major >= 16) expect(granted?.inherit_option).toBe(false);

    const noAdmin = params(world, { memberships: [{ role: team, admin: false }] });
    const result = await reconciler.run(noAdmin);
    expect(result.plan.statements.map((s) => s.sql)).toEqual([
      `REVOKE ADMIN OPTION FOR "${team}" FROM "${world.grantee}"`,
    ]);
    expect((await state())[0]?.admin_option).toBe(false);

    const none = params(world, { mode: 'authoritative', memberships: [] });
    await reconciler.run(none);
    expect(await state()).toEqual([]);
  });
});
