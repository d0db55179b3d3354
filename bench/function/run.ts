// The production function server under load: `pgplane serve function --insecure` (compiled dist/)
// on loopback, driven with the agent-executor example as Crossplane sends it. Method and the
// latest numbers: bench/README.md, Function.
//
//   node --import tsx bench/function/run.ts
//
// Environment: FUNCTION_BENCH_SECONDS (per throughput phase, default 3), FUNCTION_BENCH_REQUESTS
// (sequential latency samples per request, default 5000), FUNCTION_BENCH_SKIP_BUILD=1,
// FUNCTION_BENCH_NODE_ARGS (extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// FUNCTION_BENCH_MODES: which server configurations, comma-separated (default "auto,0": the
// default --workers, then --workers 0 as on a one-CPU pod).
// Prints a table per configuration with the targets beside; never fails on the numbers, only
// when the server cannot start or answers wrongly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
} from '@crossplane-org/function-sdk-typescript';
import { isDeepStrictEqual } from 'node:util';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest } from '../../src/render/render.js';
import { exampleCases } from '../../test/support/examples.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env['FUNCTION_BENCH_SECONDS'] ?? 3);
const REQUESTS = Number(process.env['FUNCTION_BENCH_REQUESTS'] ?? 5000);
const WARMUP_REQUESTS = 2000;
const CONCURRENCY = [1, 8, 64];
const NODE_ARGS = (process.env['FUNCTION_BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
const MODES = (process.env['FUNCTION_BENCH_MODES'] ?? 'auto,0').split(',').map((m) => m.trim());

const TARGETS = { medianMs: 1, p99Ms: 5, rps: 3000 };

// ---------------------------------------------------------------------------------------------
// The server

interface Server {
  child: ChildProcess;
  pid: number;
  address: string;
  /** Worker threads running the calls, as the server reports it. */
  workers: number;
  stop(): Promise<number | null>;
}

function build(): void {
  if (process.env['FUNCTION_BENCH_SKIP_BUILD'] === '1') return;
  // The artifact that ships: tsc's output plus the bundled entry point (npm run build).
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pgplane does not build:\n${result.stdout}${result.stderr}`);
}

async function startServer(workers: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      ...NODE_ARGS,
      'dist/cli/main.js',
      'serve',
      'function',
      '--insecure',
      '--address',
      '127.0.0.1:0',
      '--workers',
      workers,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 15_000;
  let line: string | undefined;
  while (!(line = output.split('\n').find((l) => l.includes('"msg":"pgplane function listening"')))) {
    if (gone || Date.now() > deadline) throw new Error(`the function server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const { address, workers: workerCount } = JSON.parse(line) as { address: string; workers: number };
  if (child.pid === undefined) throw new Error('no pid');
  return {
    child,
    pid: child.pid,
    address,
    workers: workerCount,
    async stop() {
      if (!gone) child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) process.stderr.write(`server exited ${String(code)}:\n${output}\n`);
      return code;
    },
  };
}

/** utime + stime of a process in milliseconds (/proc/<pid>/stat fields 14 and 15). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

// ---------------------------------------------------------------------------------------------
// The client. Correctness is checked through @grpc/grpc-js; the load is sent with node:http2
// directly (the gRPC wire protocol: a length-prefixed message, grpc-status in the trailers),
// because a grpc-js client costs about as much CPU per call as the server, and on two cores it
// would be the client, not the server, that sets the throughput.

const bytes = (b: Buffer): Buffer => b;
const METHOD = FunctionRunnerServiceService.runFunction.path;

function grpcCall(address: string, request: Buffer): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      METHOD,
      bytes,
      bytes,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value)),
    );
  }).finally(() => client.close());
}

interface Load {
  call(framed: Buffer): Promise<void>;
  close(): void;
}

/** One HTTP/2 connection, as Crossplane keeps one per function; calls are multiplexed on it. */
function connectLoad(address: string): Load {
  const session = http2.connect(`http://${address}`);
  session.on('error', (err) => process.stderr.write(`load session: ${err.message}\n`));
  const headers = {
    ':method': 'POST',
    ':path': METHOD,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  return {
    call: (framed) =>
      new Promise<void>((resolve, reject) => {
        const stream = session.request(headers);
        let status: unknown;
        let received = 0;
        stream.on('response', (h) => (status = h['grpc-status'] ?? status));
        stream.on('trailers', (h) => (status = h['grpc-status']));
        stream.on('data', (chunk: Buffer) => (received += chunk.length));
        stream.on('error', reject);
        stream.on('end', () =>
          status === '0' && received > 5
            ? resolve()
            : reject(new Error(`grpc-status ${String(status)}, ${received} bytes`)),
        );
        stream.end(framed);
      }),
    close: () => session.close(),
  };
}

function frame(message: Buffer): Buffer {
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function latency(client: Load, request: Buffer): Promise<{ medianMs: number; p99Ms: number }> {
  for (let i = 0; i < WARMUP_REQUESTS; i++) await client.call(request);
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = process.hrtime.bigint();
    await client.call(request);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

async function throughput(
  client: Load,
  request: Buffer,
  concurrency: number,
  pid: number,
): Promise<{ rps: number; cpuMsPerRequest: number }> {
  const runFor = async (seconds: number): Promise<number> => {
    const until = performance.now() + seconds * 1000;
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          await client.call(request);
          done++;
        }
      }),
    );
    return done;
  };
  await runFor(1);
  const cpu0 = cpuMs(pid);
  const started = performance.now();
  const done = await runFor(SECONDS);
  const elapsed = (performance.now() - started) / 1000;
  return { rps: done / elapsed, cpuMsPerRequest: (cpuMs(pid) - cpu0) / done };
}

// ---------------------------------------------------------------------------------------------

function scenario(id: string): { req: RunFunctionRequest; bytes: Buffer; framed: Buffer } {
  const example = exampleCases().find((c) => c.id === id);
  if (!example) throw new Error(`no example ${id}`);
  const req = buildRequest(example.request);
  const message = Buffer.from(RunFunctionRequest.encode(req).finish());
  return { req, bytes: message, framed: frame(message) };
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);
const verdict = (ok: boolean): string => (ok ? 'met' : 'missed');

type Scenario = { id: string } & ReturnType<typeof scenario>;

/** One server configuration: correctness check, latency, throughput; returns the table rows. */
async function measure(mode: string, scenarios: Scenario[]): Promise<{ workers: number; rows: string[][] }> {
  const server = await startServer(mode);
  const rows: string[][] = [];
  try {
    const client = connectLoad(server.address);
    // Correctness first: the server answers what the handler computes in-process.
    for (const s of scenarios) {
      const rsp = RunFunctionResponse.decode(await grpcCall(server.address, s.bytes));
      const fatal = rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
      if (fatal) throw new Error(`${s.id}: FATAL ${fatal.message}`);
      if (
        !isDeepStrictEqual(
          rsp,
          RunFunctionResponse.decode(RunFunctionResponse.encode(runFunction(s.req)).finish()),
        )
      )
        throw new Error(`${s.id}: the server's response differs from runFunction() in-process`);
    }

    for (const s of scenarios) {
      const l = await latency(client, s.framed);
      rows.push([
        `${s.id} (${s.bytes.length} B)`,
        'latency, sequential',
        `median ${fmt(l.medianMs, 3)} ms`,
        `< ${TARGETS.medianMs} ms`,
        verdict(l.medianMs < TARGETS.medianMs),
      ]);
      rows.push([
        '',
        '',
        `p99 ${fmt(l.p99Ms, 3)} ms`,
        `< ${TARGETS.p99Ms} ms`,
        verdict(l.p99Ms < TARGETS.p99Ms),
      ]);
    }
    for (const s of scenarios) {
      for (const c of CONCURRENCY) {
        const t = await throughput(client, s.framed, c, server.pid);
        // The target is for concurrent clients; one call at a time is bounded by the round trip
        // (the latency rows), not by the server, and is shown for reference.
        const concurrent = c > 1;
        rows.push([
          s.id,
          `throughput, ${c} in flight`,
          `${fmt(t.rps, 0)} req/s (server CPU ${fmt(t.cpuMsPerRequest, 3)} ms/req)`,
          concurrent ? `>= ${TARGETS.rps} req/s` : '(sequential)',
          concurrent ? verdict(t.rps >= TARGETS.rps) : '',
        ]);
      }
    }
    client.close();
  } finally {
    await server.stop();
  }
  return { workers: server.workers, rows };
}

async function main(): Promise<void> {
  build();
  const scenarios = ['agent-executor/xr', 'agent-executor/xr@ready'].map((id) => ({ id, ...scenario(id) }));
  const tables: string[] = [];
  for (const mode of MODES) {
    const { workers, rows } = await measure(mode, scenarios);
    const header = ['request', 'measure', 'result', 'target', ''];
    const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
    const title =
      mode === 'auto'
        ? `Default (--workers auto: ${workers} worker thread${workers === 1 ? '' : 's'} on this machine)`
        : `--workers ${mode}${workers === 0 ? ' (calls on the gRPC thread, as on a one-CPU pod)' : ''}`;
    tables.push(`${title}\n\n${table}`);
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `pgplane serve function --insecure on loopback, one HTTP/2 connection (as Crossplane uses), node:http2 load client, ` +
      `${availableParallelism()} CPUs (${cpu}), Node ${process.version}; ` +
      `latency: ${WARMUP_REQUESTS} warm-up then ${REQUESTS} sequential calls; ` +
      `throughput: 1 s warm-up then ${SECONDS} s per level.\n\n${tables.join('\n\n')}\n`,
  );
}

await main();
