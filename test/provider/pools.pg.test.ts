// The provider's connection budget against the machine's PostgreSQL (127.0.0.1:5432, trust): more
// databases than the budget allows connections, and the server never sees more than the budget
// from the provider; a connection that failed is not handed out again; idle ones close.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolRegistry } from '../../src/provider/pools.js';
import { LOCAL, localConnection } from './support/local-server.js';

const TAG = `pgplane_pools_${process.pid}`;
const DATABASES = Array.from({ length: 5 }, (_, i) => `${TAG}_${i}`);
const APP = `pgplane-pools-test-${process.pid}`;

const connection = localConnection();

let admin: pg.Client;

async function held(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [APP],
  );
  return rows[0]!.n;
}

beforeAll(async () => {
  admin = new pg.Client({ ...LOCAL, database: 'postgres' });
  await admin.connect();
  for (const db of DATABASES) await admin.query(`CREATE DATABASE "${db}"`);
});

afterAll(async () => {
  for (const db of DATABASES) await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await admin.end();
});

describe('PoolRegistry connection budget', () => {
  it('serves five databases with a budget of three connections, never holding more', async () => {
    const pools = new PoolRegistry({ max: 2, maxConnections: 3, applicationName: APP });
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await held());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const calls = Array.from({ length: 40 }, (_, i) => DATABASES[i % DATABASES.length]!);
      const answers = await Promise.all(
        calls.map((db) =>
          pools.withClient(connection, db, async (client) => {
            const { rows } = await client.query<{ db: string }>(
              'SELECT current_database() AS db, pg_sleep(0.02)',
            );
            return rows[0]!.db;
          }),
        ),
      );
      expect(answers).toEqual(calls);
      expect(pools.stats().reduce((n, s) => n + s.total, 0)).toBeLessThanOrEqual(3);
    } finally {
      sampling = false;
      await sampler;
      await pools.closeAll();
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(3);
  });

  it('closes a connection whose work failed instead of handing it out again', async () => {
    const pools = new PoolRegistry({ max: 1, maxConnections: 1, applicationName: APP });
    try {
      const pid = (client: { query: pg.ClientBase['query'] }) =>
        client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r.rows[0]!.pid);
      const first = await pools.withClient(connection, DATABASES[0]!, pid);
      const reused = await pools.withClient(connection, DATABASES[0]!, pid);
      expect(reused).toBe(first);
      let failedOn: number | undefined;
      await expect(
        pools.withClient(connection, DATABASES[0]!, async (client) => {
          failedOn = await pid(client);
          throw new Error('the work failed');
        }),
      ).rejects.toThrow('the work failed');
      const after = await pools.withClient(connection, DATABASES[0]!, pid);
      expect(failedOn).toBe(first);
      expect(after).not.toBe(first);
    } finally {
      await pools.closeAll();
    }
  });

  it('closes idle connections, so an idle provider holds none', async () => {
    const pools = new PoolRegistry({ max: 2, maxConnections: 4, idleTimeoutMs: 100, applicationName: APP });
    try {
      await Promise.all(
        DATABASES.slice(0, 3).map((db) => pools.withClient(connection, db, (c) => c.query('SELECT 1'))),
      );
      expect(await held()).toBeGreaterThan(0);
      const deadline = Date.now() + 10_000;
      while ((await held()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await held()).toBe(0);
      expect(pools.stats().every((s) => s.total === 0)).toBe(true);
    } finally {
      await pools.closeAll();
    }
  });

  it('bounds every statement of its sessions: statement_timeout 30s and lock_timeout 10s by default', async () => {
    const pools = new PoolRegistry({ max: 1, maxConnections: 1, applicationName: APP });
    try {
      const settings = await pools.withClient(connection, DATABASES[0]!, async (c) => {
        const { rows } = await c.query<{ statement: string; lock: string }>(
          "SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock",
        );
        return rows[0];
      });
      expect(settings).toEqual({ statement: '30s', lock: '10s' });
      // And a read that runs longer is cancelled by the server, not left running.
      const slow = new PoolRegistry({
        max: 1,
        maxConnections: 1,
        applicationName: APP,
        statementTimeoutMs: 200,
      });
      try {
        await expect(
          slow.withClient(connection, DATABASES[0]!, (c) => c.query('SELECT pg_sleep(5)')),
        ).rejects.toThrow(/canceling statement due to statement timeout/);
      } finally {
        await slow.closeAll();
      }
    } finally {
      await pools.closeAll();
    }
  });
});
