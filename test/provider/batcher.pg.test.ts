// The Grant batcher against the machine's PostgreSQL: the Grants of one database that are due
// together are reconciled in one engine call (one snapshot, one transaction) plus one verifying
// snapshot, and one Grant the server refuses (permission denied) fails alone while the others of its batch are applied.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantParameters } from '../../src/api/grant.js';
import { reconcile } from '../../src/grants/index.js';
import { GrantBatcher, type Engine } from '../../src/provider/grant/batcher.js';
import { PoolRegistry } from '../../src/provider/pools.js';
import type { Session } from '../../src/provider/session.js';
import { LOCAL, localConnection } from './support/local-server.js';

const TAG = `pgplane_batch_${process.pid}`;
const DB = TAG;
// A grantor that may pass on SELECT on public.open but holds nothing on public.closed.
const GRANTOR = `${TAG}_grantor`;
const ROLES = [1, 2, 3].map((i) => `${TAG}_r${i}`);

const connection = localConnection(GRANTOR);

let admin: pg.Client;
let pools: PoolRegistry;
const session = (): Session => ({
  connection,
  scrub: (text) => text,
  withClient: (database, fn) => pools.withClient(connection, database, fn),
  readSecret: () => Promise.resolve(undefined),
});

const grant = (grantee: string, table: string): GrantParameters => ({
  database: DB,
  grantee,
  mode: 'additive',
  tables: [{ schema: 'public', objects: [table], privileges: ['SELECT'] }],
});

async function canSelect(role: string, table: string): Promise<boolean> {
  const c = new pg.Client({ ...LOCAL, database: DB });
  await c.connect();
  try {
    const { rows } = await c.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2, $3) AS ok', [
      role,
      `public.${table}`,
      'SELECT',
    ]);
    return rows[0]!.ok;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  admin = new pg.Client({ ...LOCAL, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${DB}"`);
  await admin.query(`CREATE ROLE "${GRANTOR}" LOGIN`);
  for (const role of ROLES) await admin.query(`CREATE ROLE "${role}"`);
  const c = new pg.Client({ ...LOCAL, database: DB });
  await c.connect();
  await c.query(`CREATE TABLE public.open (id int); CREATE TABLE public.closed (id int);
    GRANT USAGE ON SCHEMA public TO "${GRANTOR}";
    GRANT SELECT ON public.open TO "${GRANTOR}" WITH GRANT OPTION`);
  await c.end();
  pools = new PoolRegistry({ max: 2, maxConnections: 2, applicationName: 'pgplane-batch-test' });
});

afterAll(async () => {
  await pools.closeAll();
  await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  for (const role of [...ROLES, GRANTOR]) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
  await admin.end();
});

describe('GrantBatcher', () => {
  it('reconciles the due Grants of one database in one engine call and one verifying snapshot', async () => {
    const calls: { expectChanges: boolean; dryRun: boolean; roundTrips: number }[] = [];
    const engine: Engine = async (client, grants, options) => {
      const result = await reconcile(client, grants, options);
      calls.push({
        expectChanges: options?.expectChanges ?? false,
        dryRun: options?.dryRun ?? false,
        roundTrips: result.roundTrips,
      });
      return result;
    };
    const batcher = new GrantBatcher(engine, (_item, _scrub, call) => call());
    const outcomes = await Promise.all(
      ROLES.map((role, i) =>
        batcher.submit(session(), {
          name: `g${i}`,
          parameters: grant(role, 'open'),
          previous: undefined,
          apply: true,
          changed: true,
        }),
      ),
    );
    // New Grants: observed under the lock at once (lock and observe, statements, COMMIT), then verified.
    expect(calls).toEqual([
      { expectChanges: true, dryRun: false, roundTrips: 3 },
      { expectChanges: false, dryRun: true, roundTrips: 1 },
    ]);
    for (const [i, o] of outcomes.entries()) {
      expect(o.result.applied).toBe(true);
      // Each Grant's share of the plan is its own: one GRANT to its grantee, its own record.
      expect(o.result.plan.statements.map((s) => s.grantee)).toEqual([ROLES[i]]);
      expect(Object.keys(o.result.plan.records)).toEqual([`g${i}`]);
      expect(o.verified.plan.statements).toEqual([]);
    }
    for (const role of ROLES) expect(await canSelect(role, 'open')).toBe(true);
    for (const role of ROLES) await admin.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "${role}"`);
  });

  it('fails only the Grant the server refuses; the others of its batch are applied', async () => {
    const c = new pg.Client({ ...LOCAL, database: DB });
    await c.connect();
    for (const role of ROLES) await c.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "${role}"`);
    await c.end();
    const batcher = new GrantBatcher(reconcile, async (item, _scrub, call) => {
      try {
        return await call();
      } catch (error) {
        throw new Error(`Grant for ${item.parameters.grantee}: ${(error as Error).message}`);
      }
    });
    const tables = ['open', 'closed', 'open'];
    const settled = await Promise.allSettled(
      ROLES.map((role, i) =>
        batcher.submit(session(), {
          name: `g${i}`,
          parameters: grant(role, tables[i]!),
          previous: undefined,
          apply: true,
          changed: true,
        }),
      ),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = settled[1] as PromiseRejectedResult;
    expect(String(refused.reason)).toContain(`Grant for ${ROLES[1]}`);
    expect(String(refused.reason)).toMatch(/permission denied for table closed/);
    expect(await canSelect(ROLES[0]!, 'open')).toBe(true);
    expect(await canSelect(ROLES[1]!, 'closed')).toBe(false);
    expect(await canSelect(ROLES[2]!, 'open')).toBe(true);
  });

  it('runs the next batch of a database on the connection of the one before', async () => {
    // Two Grants for one grantee never share a batch: these two make two batches in a row.
    const sessions = async () =>
      (
        await admin.query<{ n: string }>(
          'SELECT sessions::text AS n FROM pg_stat_database WHERE datname = $1',
          [DB],
        )
      ).rows[0]!.n;
    await pools.closeAll();
    pools = new PoolRegistry({ max: 2, maxConnections: 2, applicationName: 'pgplane-batch-test' });
    const before = Number(await sessions());
    let connections = 0;
    const counting = (): Session => ({
      ...session(),
      withClient: (database, fn) => {
        connections++;
        return pools.withClient(connection, database, fn);
      },
    });
    let calls = 0;
    const batcher = new GrantBatcher(
      (client, grants, options) => {
        calls++;
        return reconcile(client, grants, options);
      },
      (_item, _scrub, call) => call(),
    );
    const outcomes = await Promise.all(
      ['open', 'closed'].map((table, i) =>
        batcher.submit(counting(), {
          name: `same${i}`,
          parameters: grant(ROLES[0]!, table),
          previous: undefined,
          apply: false,
          changed: true,
        }),
      ),
    );
    expect(outcomes).toHaveLength(2);
    // Observe-only: one engine call per batch, and no verifying snapshot.
    expect(calls).toBe(2);
    expect(connections).toBe(1);
    await pools.closeAll();
    // pg_stat_database counts a session when it ends.
    expect(Number(await sessions()) - before).toBe(1);
  });
});
