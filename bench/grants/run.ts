// Grants engine benchmark against the machine's PostgreSQL (127.0.0.1:5432), beside a naive
// baseline that checks and grants one privilege at a time (one managed resource per privilege,
// as per-grant tools do). Reported as ratios measured side by side on the same server.
//
//   node --import tsx bench/grants/run.ts
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { grantParameters, type GrantParameters } from '../../src/api/grant.js';
import { reconcile } from '../../src/grants/index.js';

const SERVER = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
};
const NOOP_RUNS = 30;
const tag = `bench_${randomBytes(3).toString('hex')}`;
const createdDatabases: string[] = [];
const grantee = `${tag}_reader`;

async function connect(database: string): Promise<pg.Client> {
  const client = new pg.Client({ ...SERVER, database });
  // A server-side FATAL must reach the caller (and the cleanup in main), not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connect('postgres');
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A database with `tables` tables in schema app. */
async function makeDatabase(name: string, tables: number): Promise<void> {
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  createdDatabases.push(name);
  const c = await connect(name);
  await c.query('CREATE SCHEMA app');
  // Batches of 1,000 per transaction: each CREATE TABLE holds a lock until commit.
  for (let from = 1; from <= tables; from += 1000) {
    const to = Math.min(tables, from + 999);
    await c.query(
      `DO $$ BEGIN FOR i IN ${from}..${to} LOOP EXECUTE format('CREATE TABLE app.t%s (id int)', i); END LOOP; END $$`,
    );
  }
  await c.end();
}

/** 200 privileges: SELECT and INSERT on 100 tables, declared one by one. */
function specificSpec(database: string): GrantParameters {
  return grantParameters.parse({
    database,
    grantee,
    tables: [
      {
        schema: 'app',
        objects: Array.from({ length: 100 }, (_, i) => `t${i + 1}`),
        privileges: ['SELECT', 'INSERT'],
      },
    ],
  });
}

function wildcardSpec(database: string): GrantParameters {
  return grantParameters.parse({
    database,
    grantee,
    tables: [{ schema: 'app', objects: ['*'], privileges: ['SELECT'] }],
  });
}

/** The baseline: per privilege, one query to check and, when missing, one autocommit GRANT. */
async function naive(
  client: pg.Client,
  privileges: readonly { table: string; privilege: string }[],
): Promise<number> {
  let roundTrips = 0;
  for (const { table, privilege } of privileges) {
    roundTrips++;
    const r = await client.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2, $3) AS ok', [
      grantee,
      `app."${table}"`,
      privilege,
    ]);
    if (!r.rows[0]!.ok) {
      roundTrips++;
      await client.query(`GRANT ${privilege} ON TABLE app."${table}" TO "${grantee}"`);
    }
  }
  return roundTrips;
}

const specificPrivileges = Array.from({ length: 100 }, (_, i) =>
  ['SELECT', 'INSERT'].map((privilege) => ({ table: `t${i + 1}`, privilege })),
).flat();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Row {
  scenario: string;
  pgplaneMs: number;
  naiveMs: number;
  pgplaneRoundTrips: number;
  naiveRoundTrips: number;
  target?: string;
}
const rows: Row[] = [];

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function scenario(
  name: string,
  databases: number,
  tables: number,
  spec: (db: string) => GrantParameters,
  privileges: (tables: number) => { table: string; privilege: string }[],
  targets: { apply?: string; noop?: string },
) {
  const engineDbs = Array.from({ length: databases }, (_, i) => `${tag}_${name}_p${i}`);
  const naiveDbs = Array.from({ length: databases }, (_, i) => `${tag}_${name}_n${i}`);
  for (const db of [...engineDbs, ...naiveDbs]) await makeDatabase(db, tables);
  const engineClients = await Promise.all(engineDbs.map(connect));
  const naiveClients = await Promise.all(naiveDbs.map(connect));
  const list = privileges(tables);

  // Initial apply: every database at once, one connection each (what the CLI does).
  const engine = await timed(() =>
    Promise.all(engineClients.map((c, i) => reconcile(c, [{ name: 'g', parameters: spec(engineDbs[i]!) }]))),
  );
  const baseline = await timed(() => Promise.all(naiveClients.map((c) => naive(c, list))));
  rows.push({
    scenario: `${name}: initial apply`,
    pgplaneMs: engine.ms,
    naiveMs: baseline.ms,
    pgplaneRoundTrips: engine.value.reduce((n, r) => n + r.roundTrips, 0),
    naiveRoundTrips: baseline.value.reduce((n, r) => n + r, 0),
    target: targets.apply,
  });

  // No-op reconcile of one Grant (first database), median of several runs, side by side.
  const engineTimes: number[] = [];
  const naiveTimes: number[] = [];
  let engineTrips = 0;
  let naiveTrips = 0;
  for (let i = 0; i < NOOP_RUNS; i++) {
    const e = await timed(() =>
      reconcile(engineClients[0]!, [{ name: 'g', parameters: spec(engineDbs[0]!) }]),
    );
    if (e.value.plan.statements.length !== 0)
      throw new Error(`${name}: no-op reconcile planned ${e.value.plan.statements.length} statements`);
    engineTimes.push(e.ms);
    engineTrips = e.value.roundTrips;
    const n = await timed(() => naive(naiveClients[0]!, list));
    naiveTimes.push(n.ms);
    naiveTrips = n.value;
  }
  rows.push({
    scenario: `${name}: no-op reconcile (median of ${NOOP_RUNS})`,
    pgplaneMs: median(engineTimes),
    naiveMs: median(naiveTimes),
    pgplaneRoundTrips: engineTrips,
    naiveRoundTrips: naiveTrips,
    target: targets.noop,
  });
  await Promise.all([...engineClients, ...naiveClients].map((c) => c.end()));
}

async function main(): Promise<void> {
  await admin((c) => c.query(`CREATE ROLE "${grantee}"`));
  try {
    await scenario('1db x 200', 1, 100, specificSpec, () => specificPrivileges, {
      noop: '1 round trip, < 10 ms',
    });
    await scenario('20db x 200', 20, 100, specificSpec, () => specificPrivileges, { apply: '< 2000 ms' });
    await scenario(
      '10k tables wildcard',
      1,
      10_000,
      wildcardSpec,
      (n) => Array.from({ length: n }, (_, i) => ({ table: `t${i + 1}`, privilege: 'SELECT' })),
      {
        apply: '< 3000 ms',
      },
    );
  } finally {
    await admin(async (c) => {
      for (const db of createdDatabases) await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS "${grantee}"`);
    });
  }
  const header = [
    'scenario',
    'pgplane ms',
    'naive ms',
    'time ratio',
    'pgplane RTs',
    'naive RTs',
    'RT ratio',
    'target',
  ];
  const table = rows.map((r) => [
    r.scenario,
    r.pgplaneMs.toFixed(1),
    r.naiveMs.toFixed(1),
    `${(r.naiveMs / r.pgplaneMs).toFixed(1)}x`,
    String(r.pgplaneRoundTrips),
    String(r.naiveRoundTrips),
    `${(r.naiveRoundTrips / r.pgplaneRoundTrips).toFixed(0)}x`,
    r.target ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  process.stdout.write(
    `${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${table.map(line).join('\n')}\n`,
  );
  process.stdout.write(
    'ratios: naive / pgplane (higher is better for pgplane). naive = has_table_privilege() check + autocommit GRANT per privilege.\n',
  );
}

await main();
