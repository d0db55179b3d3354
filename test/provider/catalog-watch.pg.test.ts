// The reactive drift check (--drift-check) against the machine's PostgreSQL: the catalog
// fingerprint changes with every out-of-band change a Grant's snapshot could see, and not with
// data or with other sessions' temporary tables; the watch reconciles a database's Grants when
// it changed between polls, and never because of the provider's own apply.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantParameters } from '../../src/api/grant.js';
import { catalogFingerprint } from '../../src/grants/fingerprint.js';
import { reconcile } from '../../src/grants/index.js';
import { observe } from '../../src/grants/observe.js';
import { GrantBatcher } from '../../src/provider/grant/batcher.js';
import { CatalogWatch } from '../../src/provider/grant/catalog-watch.js';
import { PoolRegistry } from '../../src/provider/pools.js';
import type { Session } from '../../src/provider/session.js';
import { LOCAL, localConnection } from './support/local-server.js';

const TAG = `pgplane_watch_${process.pid}`;
const DB = TAG;
// A hostile name: quotes, a space and a semicolon.
const ROLE = `${TAG} "r"; x`;
const OTHER = `${TAG}_other`;

const connection = localConnection();

let admin: pg.Client;
let db: pg.Client;
let pools: PoolRegistry;
const session: Session = {
  connection,
  scrub: (text) => text,
  withClient: (database, fn) => pools.withClient(connection, database, fn),
  readSecret: () => Promise.resolve(undefined),
};
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

const grant: GrantParameters = {
  database: DB,
  grantee: ROLE,
  mode: 'additive',
  tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT'] }],
};

beforeAll(async () => {
  admin = new pg.Client({ ...LOCAL, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${q(DB)}`);
  await admin.query(`CREATE ROLE ${q(ROLE)}`);
  await admin.query(`CREATE ROLE ${q(OTHER)}`);
  db = new pg.Client({ ...LOCAL, database: DB });
  await db.connect();
  await db.query('CREATE TABLE public.orders (id int, note text)');
  pools = new PoolRegistry({ max: 1, maxConnections: 2, applicationName: 'pgplane-watch-test' });
});

afterAll(async () => {
  await pools.closeAll();
  await db.end();
  await admin.query(`DROP DATABASE IF EXISTS ${q(DB)} WITH (FORCE)`);
  for (const role of [ROLE, OTHER]) await admin.query(`DROP ROLE IF EXISTS ${q(role)}`);
  await admin.end();
});

describe('catalogFingerprint', () => {
  const fingerprint = () => catalogFingerprint(db);

  it.each([
    ['a GRANT on a table', `GRANT SELECT ON public.orders TO ${q(OTHER)}`],
    ['a REVOKE on a table', `REVOKE SELECT ON public.orders FROM ${q(OTHER)}`],
    ['a column GRANT', `GRANT UPDATE (note) ON public.orders TO ${q(OTHER)}`],
    ['a schema GRANT', `GRANT USAGE ON SCHEMA public TO ${q(OTHER)}`],
    ['default privileges', `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${q(OTHER)}`],
    ['a new table', 'CREATE TABLE public.invoices (id int)'],
    ['a function', 'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'],
    ['a new owner', `ALTER TABLE public.invoices OWNER TO ${q(OTHER)}`],
    ['a membership', `GRANT ${q(OTHER)} TO ${q(ROLE)}`],
    ['a database GRANT', `GRANT CONNECT ON DATABASE ${q(DB)} TO ${q(OTHER)}`],
  ])('changes with %s', async (_what, statement) => {
    const before = await fingerprint();
    await db.query(statement);
    expect(await fingerprint()).not.toBe(before);
  });

  it('is carried by a snapshot that asks for it, taken in the same statement as its ACLs', async () => {
    const scope = { grantees: [ROLE], schemas: ['public'], columnTables: [], roles: [ROLE] };
    // Only when asked: it costs a catalog scan, and only the drift check reads it.
    expect((await observe(db, scope)).fingerprint).toBeUndefined();
    const snapshot = await observe(db, { ...scope, fingerprint: true });
    expect(snapshot.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(snapshot.fingerprint).toBe(await fingerprint());
  });

  it('does not change with data, statistics or another session’s temporary table', async () => {
    const before = await fingerprint();
    await db.query("INSERT INTO public.orders VALUES (1, 'a'); ANALYZE public.orders");
    const other = new pg.Client({ ...LOCAL, database: DB });
    await other.connect();
    await other.query('CREATE TEMP TABLE scratch (id int)');
    expect(await fingerprint()).toBe(before);
    await other.end();
  });
});

describe('CatalogWatch', () => {
  it('reconciles the Grants of a database changed between polls, and not after its own apply', async () => {
    const changed: string[][] = [];
    const lanes: { batcher?: GrantBatcher } = {};
    const watch = new CatalogWatch({
      intervalMs: 3_600_000, // checks run by hand below
      fingerprint: catalogFingerprint,
      busy: (lane) => lanes.batcher?.busy(lane) ?? false,
      onChanged: (keys) => changed.push([...keys]),
    });
    const batcher = (lanes.batcher = new GrantBatcher(reconcile, (_item, _scrub, call) => call(), watch));
    const item = {
      name: 'team/orders-reader',
      parameters: grant,
      previous: undefined,
      apply: true,
      changed: true,
    };
    try {
      // The provider's own GRANT is what the fingerprint after the batch holds: no change.
      const first = await batcher.submit(session, item);
      expect(first.result.applied).toBe(true);
      await watch.check();
      expect(changed).toEqual([]);

      // Out of band: the Grant's database is reconciled once, then not again until a batch ran.
      await db.query(`REVOKE SELECT ON public.orders FROM ${q(ROLE)}`);
      await watch.check();
      expect(changed).toEqual([['team/orders-reader']]);
      await watch.check();
      expect(changed).toHaveLength(1);

      const restored = await batcher.submit(session, {
        ...item,
        previous: first.result.plan.records[item.name],
        changed: false,
      });
      expect(restored.result.applied).toBe(true);
      await watch.check();
      expect(changed).toHaveLength(1);

      // A forgotten Grant is no longer watched.
      watch.forget('team/orders-reader');
      await db.query(`REVOKE SELECT ON public.orders FROM ${q(ROLE)}`);
      await watch.check();
      expect(changed).toHaveLength(1);
    } finally {
      watch.stop();
    }
  });

  it('a batch of another Grant of the database does not hide a hand change from the first', async () => {
    const changed: string[][] = [];
    const lanes: { batcher?: GrantBatcher } = {};
    const watch = new CatalogWatch({
      intervalMs: 3_600_000,
      fingerprint: catalogFingerprint,
      busy: (lane) => lanes.batcher?.busy(lane) ?? false,
      onChanged: (keys) => changed.push([...keys]),
    });
    const batcher = (lanes.batcher = new GrantBatcher(reconcile, (_item, _scrub, call) => call(), watch));
    const reader = {
      name: 'team/orders-reader',
      parameters: grant,
      previous: undefined,
      apply: true,
      changed: true,
    };
    const other = {
      name: 'team/orders-other',
      parameters: { ...grant, grantee: OTHER },
      previous: undefined,
      apply: true,
      changed: true,
    };
    try {
      await batcher.submit(session, reader);
      await db.query(`REVOKE SELECT ON public.orders FROM ${q(ROLE)}`);
      // Before any check runs, another Grant of the same database is reconciled (created, edited,
      // retried): its batch sees the changed catalog first, and hands the change to the reader.
      await batcher.submit(session, other);
      expect(changed).toEqual([['team/orders-reader']]);
      await watch.check();
      expect(changed).toHaveLength(1);
    } finally {
      watch.stop();
    }
  });
});
