// bench/provider: N Grants across M databases against a real kube-apiserver and the machine's
// PostgreSQL (127.0.0.1:5432, trust). Reports the time until every Grant is Synced and Ready,
// and the most connections the provider held open per database and in all at any sample of
// pg_stat_activity (every 20 ms), against the configured --pool-size and --max-connections.
//
//   node --import tsx bench/provider/run.ts [--grants 500] [--databases 20] [--pool-size 2]
//     [--max-connections 10] [--concurrency 50]
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import pg from 'pg';
import { installKubeTools, startKubeApiServer } from '../../test/support/kube-apiserver.js';
import {
  GROUP,
  installProviderCrds,
  isConverged,
  startProvider,
  type GrantView,
} from '../../test/provider/support/e2e.js';

export interface BenchOptions {
  grants: number;
  databases: number;
  poolSize: number;
  /** The provider's global connection budget (--max-connections). */
  maxConnections: number;
  concurrency: number;
  /** Give up after this long. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface BenchResult {
  grants: number;
  databases: number;
  poolSize: number;
  maxConnections: number;
  concurrency: number;
  /** From the first Grant created to the last one Synced=True and Ready=True. */
  convergeSeconds: number;
  converged: number;
  /** Highest count of provider connections seen in any one database. */
  maxConnectionsPerDatabase: number;
  /** Highest count of provider connections seen across all the databases at once. */
  maxConnectionsTotal: number;
  samples: number;
  /** Every Grant's privileges exactly present (nothing missing, nothing more), checked in the catalog. */
  verified: boolean;
}

const LOCAL = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const APP_NAME = 'pgplane-provider';

export async function runProviderBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const tag = `pgpb${process.pid}`;
  const dbs = Array.from({ length: options.databases }, (_, i) => `${tag}_db${i}`);
  const roles = Array.from({ length: options.grants }, (_, i) => `${tag}_r${i}`);
  const admin = new pg.Client({ ...LOCAL, database: 'postgres' });
  await admin.connect();
  const cluster = await startKubeApiServer({ binDir: await installKubeTools() });
  let provider: Awaited<ReturnType<typeof startProvider>> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    for (const db of dbs) {
      await admin.query(`CREATE DATABASE "${db}"`);
      const c = new pg.Client({ ...LOCAL, database: db });
      await c.connect();
      await c.query('CREATE TABLE public.orders (id int); CREATE TABLE public.items (id int)');
      await c.end();
    }
    for (const role of roles) await admin.query(`CREATE ROLE "${role}"`);

    const kc = cluster.kubeConfig();
    await installProviderCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const objects = kc.makeApiClient(CustomObjectsApi);
    const ns = 'bench';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: 'pg' },
        stringData: {
          username: 'postgres',
          password: 'unused-with-trust',
          host: LOCAL.host,
          port: String(LOCAL.port),
        },
      },
    });
    await objects.createNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'providerconfigs',
      body: {
        apiVersion: 'grants.pgplane.io/v1alpha1',
        kind: 'ProviderConfig',
        metadata: { name: 'pg', namespace: ns },
        spec: { connectionSecretRef: { name: 'pg' }, sslmode: 'disable' },
      },
    });
    provider = await startProvider(cluster.kubeconfigPath, [
      '--pool-size',
      String(options.poolSize),
      '--max-connections',
      String(options.maxConnections),
      '--concurrency',
      String(options.concurrency),
      '--poll',
      '10m',
    ]);

    // Sample connections per database while the Grants converge.
    const watcher = new pg.Client({ ...LOCAL, database: 'postgres', application_name: 'pgplane-bench' });
    await watcher.connect();
    let max = 0;
    let maxTotal = 0;
    let samples = 0;
    let sampling = false;
    sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      watcher
        .query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = ANY($2) GROUP BY datname',
          [APP_NAME, dbs],
        )
        .then((r) => {
          samples++;
          let total = 0;
          for (const row of r.rows) {
            max = Math.max(max, row.n);
            total += row.n;
          }
          maxTotal = Math.max(maxTotal, total);
        })
        .catch(() => undefined)
        .finally(() => (sampling = false));
    }, 20);

    const started = Date.now();
    const names = roles.map((_, i) => `g${i}`);
    const create = (i: number) =>
      objects.createNamespacedCustomObject({
        ...GROUP,
        namespace: ns,
        plural: 'grants',
        body: {
          apiVersion: 'grants.pgplane.io/v1alpha1',
          kind: 'Grant',
          metadata: { name: names[i], namespace: ns },
          spec: {
            providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
            forProvider: {
              database: dbs[i % dbs.length],
              grantee: roles[i],
              databasePrivileges: ['CONNECT'],
              schemas: [{ name: 'public', privileges: ['USAGE'] }],
              tables: [{ schema: 'public', objects: ['orders', 'items'], privileges: ['SELECT'] }],
            },
          },
        },
      });
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((_, j) => create(i + j)));
    }
    log(
      `created ${names.length} Grants in ${((Date.now() - started) / 1000).toFixed(1)}s; waiting for convergence`,
    );

    const deadline = started + (options.timeoutMs ?? 15 * 60_000);
    let converged = 0;
    for (;;) {
      const list = (await objects.listNamespacedCustomObject({
        ...GROUP,
        namespace: ns,
        plural: 'grants',
      })) as { items: GrantView[] };
      converged = list.items.filter(isConverged).length;
      if (converged === names.length || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const convergeSeconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    sampler = undefined;
    await watcher.end();

    // Exactly what each Grant declares: CONNECT, USAGE on public, SELECT on both tables, nothing more.
    let verified = true;
    for (const [d, db] of dbs.entries()) {
      const mine = roles.filter((_, i) => i % dbs.length === d);
      const c = new pg.Client({ ...LOCAL, database: db });
      await c.connect();
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_roles r WHERE r.rolname = ANY($1)
           AND has_database_privilege(r.oid, current_database(), 'CONNECT')
           AND has_schema_privilege(r.oid, 'public', 'USAGE')
           AND has_table_privilege(r.oid, 'public.orders', 'SELECT') AND has_table_privilege(r.oid, 'public.items', 'SELECT')
           AND NOT has_table_privilege(r.oid, 'public.orders', 'INSERT') AND NOT has_table_privilege(r.oid, 'public.items', 'UPDATE')`,
        [mine],
      );
      await c.end();
      if (rows[0]?.n !== mine.length) verified = false;
    }
    return {
      grants: names.length,
      databases: dbs.length,
      poolSize: options.poolSize,
      maxConnections: options.maxConnections,
      concurrency: options.concurrency,
      convergeSeconds,
      converged,
      maxConnectionsPerDatabase: max,
      maxConnectionsTotal: maxTotal,
      samples,
      verified,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await provider?.stop();
    await cluster.stop();
    for (const db of dbs)
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      grants: { type: 'string', default: '500' },
      databases: { type: 'string', default: '20' },
      'pool-size': { type: 'string', default: '2' },
      'max-connections': { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '50' },
    },
  });
  const result = await runProviderBench({
    grants: Number(values.grants),
    databases: Number(values.databases),
    poolSize: Number(values['pool-size']),
    maxConnections: Number(values['max-connections']),
    concurrency: Number(values.concurrency),
  });
  const ok =
    result.converged === result.grants &&
    result.verified &&
    result.maxConnectionsPerDatabase <= result.poolSize &&
    result.maxConnectionsTotal <= result.maxConnections;
  process.stdout.write(
    [
      `grants                      ${result.grants} across ${result.databases} databases`,
      `converged (Synced+Ready)    ${result.converged}/${result.grants} in ${result.convergeSeconds.toFixed(1)} s`,
      `privileges verified in db   ${result.verified ? 'yes' : 'NO'}`,
      `max connections / database  ${result.maxConnectionsPerDatabase} (pool size ${result.poolSize}; ${result.samples} pg_stat_activity samples)`,
      `max connections in all      ${result.maxConnectionsTotal} (budget ${result.maxConnections})`,
      `concurrency                 ${result.concurrency}`,
      `result                      ${ok ? 'ok' : 'FAILED'}`,
      '',
    ].join('\n'),
  );
  if (!ok) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main();
}
