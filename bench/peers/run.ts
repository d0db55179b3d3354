// pgplane's composition function beside the Go functions platform teams use today for the same
// job (function-go-templating, function-patch-and-transform), each given an Input that composes
// the same Cluster + ExternalSecret + connection ExternalSecret. Method: bench/README.md, Peers.
//
//   node --import tsx bench/peers/run.ts
//
// Environment: PEERS_ROUNDS (pairs per peer, default 3), PEERS_SECONDS (per throughput phase,
// default 2), PEERS_PIN=0 (do not pin server and client to separate CPUs), PEERS_SKIP_BUILD=1,
// PEERS_PGPLANE_COMMAND='node other/dist/cli/main.js serve function --insecure --address {address}'
// (another pgplane build, e.g. before/after a change), PEERS_KEEP_LOGS=1 (keep the servers' logs).
// Exits non-zero when a function cannot be installed/started or the outputs disagree; never on
// the numbers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, existsSync, closeSync } from 'node:fs';
import { freePort } from '../../test/support/ports.js';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
} from '@crossplane-org/function-sdk-typescript';
import { runFunction as runFunctionInProcess } from '../../src/function/handler.js';
import { isObject, type JsonObject } from '../../src/shared/json.js';
import type { ClientAnswer, ClientCommand } from './client.js';
import { compareDesired, IGNORED_PATHS } from './compare.js';
import { median } from '../support/stats.js';
import {
  encodedRequests,
  PEER_NAMES,
  workloadRequests,
  workloadXrs,
  type PeerName,
  type TargetName,
} from './workload.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const ROUNDS = Math.max(1, Number(process.env.PEERS_ROUNDS ?? 3));
const SECONDS = Math.max(0.5, Number(process.env.PEERS_SECONDS ?? 2));
const CONCURRENCY = [1, 8, 64] as const;
const LATENCY = { warmup: 200, maxRequests: 3000, maxSeconds: 3 };
const PIN = process.env.PEERS_PIN !== '0' && availableParallelism() >= 2 && commandExists('taskset');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function log(message: string): void {
  process.stderr.write(`bench/peers: ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Targets

interface Target {
  name: string;
  version: string;
  command: (address: string) => string[];
}

function installPeers(): Record<PeerName, { bin: string; version: string }> {
  log('installing the Go peers (bench/peers/install.sh; cached after the first build)');
  const result = spawnSync(join(here, 'install.sh'), [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error('bench/peers/install.sh failed');
  const peers = {} as Record<PeerName, { bin: string; version: string }>;
  for (const line of result.stdout.trim().split('\n')) {
    const [name, bin] = line.split('\t');
    const version = /-(v[0-9][^/]*)\/bin\//.exec(bin ?? '')?.[1] ?? '?';
    if (name && bin && (PEER_NAMES as readonly string[]).includes(name))
      peers[name as PeerName] = { bin, version };
  }
  for (const name of PEER_NAMES) if (!peers[name]) throw new Error(`install.sh did not report ${name}`);
  return peers;
}

const PGPLANE_COMMAND = process.env.PEERS_PGPLANE_COMMAND;

function buildPgplane(): void {
  if (process.env.PEERS_SKIP_BUILD === '1' || PGPLANE_COMMAND) return;
  // The artifact that ships: tsc's output plus the bundled entry point.
  log('building pgplane (npm run build)');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pgplane does not build:\n${result.stdout}${result.stderr}`);
  const help = spawnSync(process.execPath, ['dist/cli/main.js', 'serve', 'function', '--help'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (help.status !== 0 || !/--insecure/.test(`${help.stdout}${help.stderr}`)) {
    throw new Error(`'pgplane serve function --insecure' is not available:\n${help.stdout}${help.stderr}`);
  }
}

function pgplaneVersion(): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], {
    cwd: root,
    encoding: 'utf8',
  }).stdout.trim();
  return `${pkg.version} (${head}${dirty ? '+dirty' : ''})`;
}

// ---------------------------------------------------------------------------------------------
// Processes

function pinned(cpu: number, argv: string[]): string[] {
  return PIN ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

interface Running {
  child: ChildProcess;
  pid: number;
  address: string;
  logPath: string;
  exited: Promise<number | null>;
}

function startServer(target: Target, address: string, logDir: string, run: string): Running {
  const logPath = join(logDir, `${target.name.replace(/[^\w.-]+/g, '-')}-${run}.log`);
  const fd = openSync(logPath, 'w');
  const [cmd, ...args] = pinned(1, target.command(address));
  const child = spawn(cmd!, args, {
    cwd: root,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${target.name}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, pid: child.pid, address, logPath, exited };
}

async function stopServer(server: Running): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 3000);
  await server.exited;
  clearTimeout(timer);
}

/** utime + stime of a process, in milliseconds (/proc/<pid>/stat fields 14 and 15). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Peak resident set size (VmHWM) in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

class LoadClient {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private readonly buffered: string[] = [];

  constructor(requestsFile: string) {
    const [cmd, ...args] = pinned(0, [
      process.execPath,
      '--import',
      'tsx',
      join(here, 'client.ts'),
      requestsFile,
    ]);
    this.child = spawn(cmd!, args, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter) waiter(line);
      else this.buffered.push(line);
    });
  }

  private next(): Promise<string> {
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      this.pending.push(resolve);
      this.child.once('exit', (code) => reject(new Error(`load client exited (${code})`)));
    });
  }

  async ready(): Promise<void> {
    await this.next();
  }

  send(command: ClientCommand): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  async answer(): Promise<ClientAnswer> {
    return JSON.parse(await this.next()) as ClientAnswer;
  }

  async close(): Promise<void> {
    this.send({ cmd: 'exit' });
    this.child.stdin!.end();
    await new Promise((resolve) =>
      this.child.exitCode !== null ? resolve(null) : this.child.once('exit', resolve),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Agreement

function runFunction(address: string, request: RunFunctionRequest): Promise<RunFunctionResponse> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const method = FunctionRunnerServiceService.runFunction;
  return new Promise<RunFunctionResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value)),
    );
  }).finally(() => client.close());
}

async function waitForServe(address: string, server: Running): Promise<void> {
  const request = workloadRequests('pgplane')[0]!;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (server.child.exitCode !== null)
      throw new Error(`server exited early; log: ${readFileSync(server.logPath, 'utf8')}`);
    try {
      await runFunction(address, request);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function desiredResources(rsp: RunFunctionResponse, who: string): Record<string, JsonObject> {
  const fatal = rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
  if (fatal) throw new Error(`${who} answered FATAL: ${fatal.message}`);
  const out: Record<string, JsonObject> = {};
  for (const [key, value] of Object.entries(rsp.desired?.resources ?? {})) {
    if (isObject(value.resource)) out[key] = value.resource;
  }
  return out;
}

async function checkAgreement(targets: Record<TargetName, Target>, logDir: string): Promise<void> {
  const names = Object.keys(targets) as TargetName[];
  const outputs = new Map<TargetName, Record<string, JsonObject>[]>();
  for (const name of names) {
    const target = targets[name];
    const address = `127.0.0.1:${await freePort()}`;
    const server = startServer(target, address, logDir, 'check');
    try {
      await waitForServe(address, server);
      const answers: Record<string, JsonObject>[] = [];
      for (const request of workloadRequests(name)) {
        answers.push(desiredResources(await runFunction(address, request), target.name));
      }
      outputs.set(name, answers);
    } finally {
      await stopServer(server);
    }
  }
  const xrs = workloadXrs();
  const reference = outputs.get('pgplane')!;
  let failed = false;
  for (const name of names) {
    if (name === 'pgplane') continue;
    const answers = outputs.get(name)!;
    xrs.forEach((xr, i) => {
      const differences = compareDesired(reference[i]!, answers[i]!);
      if (differences.length === 0) return;
      failed = true;
      const meta = xr.metadata as JsonObject;
      log(`DISAGREEMENT: ${name} vs pgplane for XR ${String(meta.namespace)}/${String(meta.name)}:`);
      for (const d of differences.slice(0, 20))
        log(`  ${d.resource}: ${d.path || '(resource)'}: pgplane ${d.pgplane} / ${name} ${d.peer}`);
      if (differences.length > 20) log(`  ... and ${differences.length - 20} more`);
    });
  }
  if (failed)
    throw new Error(
      'the functions do not compose the same resources (see above); fix the peer inputs or the bench',
    );
  const count = Object.keys(reference[0]!).length;
  log(
    `agreement: ${names.length} functions x ${xrs.length} XRs, ${count} composed resources each, identical except ${IGNORED_PATHS.join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface RunResult {
  startupMs: number;
  /** Server CPU time from spawn to the first answered request: start-up without the machine's noise. */
  startupCpuMs: number;
  latencyMedianUs: number;
  latencyP99Us: number;
  throughput: Record<number, number>;
  cpuUsPerRequest: number;
  peakRssMiB: number;
  errors: number;
}

async function measure(target: Target, client: LoadClient, logDir: string, run: string): Promise<RunResult> {
  const address = `127.0.0.1:${await freePort()}`;
  // Start-up: the (already loaded) client polls the port; the clock starts at spawn.
  const started = performance.now();
  client.send({ cmd: 'startup', address, timeoutMs: 20_000 });
  const server = startServer(target, address, logDir, run);
  try {
    const up = await client.answer();
    const startupMs = performance.now() - started;
    if (!up.ok) throw new Error(`${target.name} start-up: ${up.error}`);
    let requests = 0;
    let errors = 0;
    const cpu0 = cpuMs(server.pid);
    const startupCpuMs = cpu0;

    client.send({ cmd: 'latency', address, ...LATENCY });
    const lat = await client.answer();
    if (!lat.ok || lat.cmd !== 'latency')
      throw new Error(`${target.name} latency: ${lat.ok ? 'bad answer' : lat.error}`);
    requests += lat.requests + LATENCY.warmup;
    errors += lat.errors;

    const throughput: Record<number, number> = {};
    for (const concurrency of CONCURRENCY) {
      client.send({ cmd: 'throughput', address, concurrency, warmupSeconds: 0.5, seconds: SECONDS });
      const tp = await client.answer();
      if (!tp.ok || tp.cmd !== 'throughput')
        throw new Error(`${target.name} throughput: ${tp.ok ? 'bad answer' : tp.error}`);
      throughput[concurrency] = tp.requests / tp.seconds;
      // Warm-up requests are served too; count them at the measured rate for the CPU share.
      requests += tp.requests * (1 + 0.5 / tp.seconds);
      errors += tp.errors;
    }
    const cpu = cpuMs(server.pid) - cpu0;
    const rss = peakRssMiB(server.pid);
    return {
      startupMs,
      startupCpuMs,
      latencyMedianUs: lat.medianUs,
      latencyP99Us: lat.p99Us,
      throughput,
      cpuUsPerRequest: (cpu * 1000) / requests,
      peakRssMiB: rss,
      errors,
    };
  } finally {
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Where pgplane's time goes

interface Breakdown {
  decodeUs: number;
  runFunctionUs: number;
  encodeUs: number;
}

/** CPU per request of the three in-process steps of pgplane's RunFunction, on this stream. */
function breakdown(encoded: Buffer[]): Breakdown {
  const timeUs = (n: number, fn: (i: number) => void): number => {
    for (let i = 0; i < Math.min(n, 500); i++) fn(i); // warm-up (JIT)
    const samples: number[] = [];
    for (let round = 0; round < 5; round++) {
      const started = process.cpuUsage();
      for (let i = 0; i < n; i++) fn(i);
      const used = process.cpuUsage(started);
      samples.push((used.user + used.system) / n);
    }
    return median(samples);
  };
  const decoded = encoded.map((b) => RunFunctionRequest.decode(b));
  const responses = decoded.map((r) => runFunctionInProcess(r));
  return {
    decodeUs: timeUs(2000, (i) => RunFunctionRequest.decode(encoded[i % encoded.length]!)),
    runFunctionUs: timeUs(2000, (i) => runFunctionInProcess(decoded[i % decoded.length]!)),
    encodeUs: timeUs(2000, (i) => RunFunctionResponse.encode(responses[i % responses.length]!).finish()),
  };
}

function floorTarget(responseFile: string): Target {
  return {
    name: 'grpc-js floor',
    version: '',
    command: (address) => [
      process.execPath,
      '--import',
      'tsx',
      join(here, 'floor-server.ts'),
      address,
      responseFile,
    ],
  };
}

function breakdownTable(b: Breakdown, floor: RunResult[], pgplane: RunResult[]): string {
  const floorCpu = median(floor.map((r) => r.cpuUsPerRequest));
  const measured = median(pgplane.map((r) => r.cpuUsPerRequest));
  const sum = floorCpu + b.decodeUs + b.runFunctionUs + b.encodeUs;
  const row = (what: string, us: number): string =>
    `| ${what} | ${fmt(us, 0)} | ${fmt((100 * us) / sum, 0)}% |`;
  return [
    '| pgplane server CPU per request | µs | share |',
    '| --- | ---: | ---: |',
    row('gRPC transport: @grpc/grpc-js serving pre-encoded bytes under the same load (floor)', floorCpu),
    row('protobuf decode of the request (SDK codec, google.protobuf.Struct)', b.decodeUs),
    row("runFunction: parse, validate, plan, compose (pgplane's code)", b.runFunctionUs),
    row('protobuf encode of the response (SDK codec, google.protobuf.Struct)', b.encodeUs),
    `| sum | ${fmt(sum, 0)} | |`,
    `| measured: pgplane server CPU per request under load | ${fmt(measured, 0)} | |`,
    '',
    `grpc-js floor throughput with 64 clients: ${fmt(median(floor.map((r) => r.throughput[64] ?? NaN)), 0)} req/s; ` +
      `peak RSS ${fmt(median(floor.map((r) => r.peakRssMiB)), 1)} MiB.`,
  ].join('\n');
}

interface Metric {
  label: string;
  unit: string;
  get: (r: RunResult) => number;
  /** true: higher is better (ratio >= 1 is good). */
  higherIsBetter: boolean;
  digits: number;
}

const METRICS: Metric[] = [
  {
    label: 'latency median (sequential)',
    unit: 'µs',
    get: (r) => r.latencyMedianUs,
    higherIsBetter: false,
    digits: 0,
  },
  {
    label: 'latency p99 (sequential)',
    unit: 'µs',
    get: (r) => r.latencyP99Us,
    higherIsBetter: false,
    digits: 0,
  },
  ...CONCURRENCY.map((c): Metric => ({
    label: `throughput, ${c} client${c > 1 ? 's' : ''}`,
    unit: 'req/s',
    get: (r) => r.throughput[c] ?? NaN,
    higherIsBetter: true,
    digits: 0,
  })),
  {
    label: 'server CPU per request',
    unit: 'µs',
    get: (r) => r.cpuUsPerRequest,
    higherIsBetter: false,
    digits: 0,
  },
  { label: 'peak RSS (VmHWM)', unit: 'MiB', get: (r) => r.peakRssMiB, higherIsBetter: false, digits: 1 },
  {
    label: 'start-up to first response',
    unit: 'ms',
    get: (r) => r.startupMs,
    higherIsBetter: false,
    digits: 0,
  },
  {
    label: 'start-up CPU time',
    unit: 'ms',
    get: (r) => r.startupCpuMs,
    higherIsBetter: false,
    digits: 0,
  },
];

function fmt(value: number, digits: number): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
}

function table(pairs: Map<PeerName, [RunResult, RunResult][]>, versions: Record<TargetName, string>): string {
  const peers = [...pairs.keys()];
  const pgRuns = peers.flatMap((p) => pairs.get(p)!.map(([pg]) => pg));
  const header = [
    `| metric | pgplane | ${peers.map((p) => `${p} | pgplane / ${p.replace('function-', '')}`).join(' | ')} |`,
    `| --- | ---: | ${peers.map(() => '---: | ---:').join(' | ')} |`,
  ];
  const rows = METRICS.map((m) => {
    const cells = [
      `${m.label} (${m.unit}${m.higherIsBetter ? ', higher is better' : ''})`,
      fmt(median(pgRuns.map(m.get)), m.digits),
    ];
    for (const p of peers) {
      const runs = pairs.get(p)!;
      const ratios = runs.map(([pg, peer]) => m.get(pg) / m.get(peer));
      cells.push(fmt(median(runs.map(([, peer]) => m.get(peer))), m.digits));
      cells.push(`${fmt(median(ratios), 2)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`);
    }
    return `| ${cells.join(' | ')} |`;
  });
  const notes = [
    '',
    `pgplane ${versions.pgplane}; ${peers.map((p) => `${p} ${versions[p]}`).join('; ')}; node ${process.version}; ` +
      `${availableParallelism()} CPUs${PIN ? ', server pinned to CPU 1 and load client to CPU 0' : ', not pinned'}; ` +
      `${ROUNDS} A/B pair(s) per peer, ${SECONDS}s per throughput phase.`,
    'Absolute values are medians over runs; ratios are pgplane / peer per adjacent A/B pair: median (min–max).',
  ];
  return [...header, ...rows, ...notes].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const peers = installPeers();
  buildPgplane();
  const targets: Record<TargetName, Target> = {
    pgplane: {
      name: 'pgplane',
      version: pgplaneVersion(),
      command: (address) =>
        PGPLANE_COMMAND
          ? PGPLANE_COMMAND.split(/\s+/).map((arg) => arg.replace('{address}', address))
          : [
              process.execPath,
              join(root, 'dist/cli/main.js'),
              'serve',
              'function',
              '--insecure',
              '--address',
              address,
            ],
    },
    'function-go-templating': {
      name: 'function-go-templating',
      version: peers['function-go-templating'].version,
      command: (address) => [peers['function-go-templating'].bin, '--insecure', '--address', address],
    },
    'function-patch-and-transform': {
      name: 'function-patch-and-transform',
      version: peers['function-patch-and-transform'].version,
      command: (address) => [peers['function-patch-and-transform'].bin, '--insecure', '--address', address],
    },
  };
  const workDir = mkdtempSync(join(tmpdir(), 'pgplane-bench-peers-'));
  try {
    await checkAgreement(targets, workDir);

    const files = {} as Record<TargetName, string>;
    for (const name of Object.keys(targets) as TargetName[]) {
      files[name] = join(workDir, `${name}.requests.json`);
      writeFileSync(files[name], JSON.stringify(encodedRequests(name).map((b) => b.toString('base64'))));
    }

    const runOnce = async (target: Target, requestsFile: string, label: string): Promise<RunResult> => {
      const client = new LoadClient(requestsFile);
      let r: RunResult;
      try {
        await client.ready();
        r = await measure(target, client, workDir, label);
      } finally {
        await client.close();
      }
      errors += r.errors;
      log(
        `  start-up ${fmt(r.startupMs, 0)} ms (${fmt(r.startupCpuMs, 0)} ms CPU), latency p50 ${fmt(r.latencyMedianUs, 0)} µs p99 ${fmt(r.latencyP99Us, 0)} µs, ` +
          `throughput ${CONCURRENCY.map((c) => `${c}:${fmt(r.throughput[c] ?? NaN, 0)}`).join(' ')} req/s, ` +
          `CPU ${fmt(r.cpuUsPerRequest, 0)} µs/req, peak RSS ${fmt(r.peakRssMiB, 1)} MiB`,
      );
      return r;
    };

    // The transport floor answers with pgplane's own (pre-encoded) response to the first XR.
    const floorResponse = join(workDir, 'floor-response.bin');
    const firstRequest = RunFunctionRequest.decode(encodedRequests('pgplane')[0]!);
    writeFileSync(floorResponse, RunFunctionResponse.encode(runFunctionInProcess(firstRequest)).finish());
    const floor = floorTarget(floorResponse);

    const pairs = new Map<PeerName, [RunResult, RunResult][]>();
    const floorRuns: RunResult[] = [];
    let errors = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const peer of PEER_NAMES) {
        // A B in odd rounds, B A in even ones, so a drift in machine load does not favour one side.
        const order: TargetName[] = round % 2 ? ['pgplane', peer] : [peer, 'pgplane'];
        const results = {} as Record<TargetName, RunResult>;
        for (const name of order) {
          log(`round ${round}/${ROUNDS}: ${name} (vs ${peer})`);
          results[name] = await runOnce(targets[name], files[name], `${round}-${peer}`);
        }
        const list = pairs.get(peer) ?? [];
        list.push([results.pgplane, results[peer]]);
        pairs.set(peer, list);
      }
      log(`round ${round}/${ROUNDS}: ${floor.name}`);
      floorRuns.push(await runOnce(floor, files.pgplane, `${round}-floor`));
    }
    const versions = Object.fromEntries(Object.values(targets).map((t) => [t.name, t.version])) as Record<
      TargetName,
      string
    >;
    const pgRuns = [...pairs.values()].flatMap((list) => list.map(([pg]) => pg));
    process.stdout.write(
      `\n## Peers: pgplane vs the Go composition functions\n\n${table(pairs, versions)}\n` +
        `\n### Where pgplane's server CPU goes\n\n${breakdownTable(breakdown(encodedRequests('pgplane')), floorRuns, pgRuns)}\n`,
    );
    if (errors > 0)
      process.stdout.write(`\n${errors} request(s) failed during the load phases (see above).\n`);
    return 0;
  } finally {
    if (process.env.PEERS_KEEP_LOGS === '1') log(`logs kept in ${workDir}`);
    else if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
