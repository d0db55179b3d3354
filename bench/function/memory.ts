// Peak memory of `pgplane serve function` under concurrent maximum-size requests, against the
// memory limit the README recommends for the function's container (read from its
// DeploymentRuntimeConfig example, so the two cannot drift). Method and latest numbers:
// bench/README.md, "Function: memory under maximum-size requests".
//
//   node --import tsx bench/function/memory.ts
//
// Two requests, each as large as it can be:
// - "largest claim": the production example with every claim list the XRD bounds filled to its
//   maxItems (read from apis/namespaced/definition.yaml at run time, so it follows the schema),
//   kept only where the function still renders it without a FATAL result;
// - "largest message": the same claim plus observed resources padding the request to just under
//   the server's --max-recv-message-size (the default, 4 MiB).
// Each is sent with 10 calls in flight (Crossplane's default --max-reconcile-rate) and with as many
// as the server's per-connection stream limit allows on one HTTP/2 connection, for FUNCTION_MEMORY_SECONDS
// (default 5) per level, against --workers auto and --workers 0. Peak RSS is the kernel's VmHWM.
// Environment: FUNCTION_BENCH_SKIP_BUILD=1, FUNCTION_MEMORY_SECONDS, and to explore:
// FUNCTION_MEMORY_IN_FLIGHT ("10,16"), FUNCTION_MEMORY_MODES ("auto,0"), FUNCTION_MEMORY_CASES,
// FUNCTION_MEMORY_NODE_ARGS (flags for the server's node), FUNCTION_MEMORY_SERVER_ARGS (its flags).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { RunFunctionRequest, RunFunctionResponse, Severity } from '@crossplane-org/function-sdk-typescript';
import { parse } from 'yaml';
import { runFunction } from '../../src/function/handler.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_MAX_RECV_MESSAGE_BYTES,
} from '../../src/function/server/options.js';
import { buildRequest } from '../../src/render/render.js';
import { exampleCases } from '../../test/support/examples.js';
import { maximalClaim, type JsonSchema } from './max-claim.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env['FUNCTION_MEMORY_SECONDS'] ?? 5);
const LIMIT_MIB = recommendedLimitMiB();

/** The container memory limit in the README's DeploymentRuntimeConfig for the function. */
function recommendedLimitMiB(): number {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const found = /limits: \{cpu: "[^"]+", memory: (\d+)Mi\}/.exec(readme);
  if (!found)
    throw new Error('README.md has no DeploymentRuntimeConfig with limits: {cpu: ..., memory: <n>Mi}');
  return Number(found[1]);
}
// Crossplane's default concurrency, and the most one connection may have open (a gRPC client
// waits for a free stream beyond it; Node's, used here, would be refused).
const IN_FLIGHT = list(
  'FUNCTION_MEMORY_IN_FLIGHT',
  `10,${DEFAULT_CONNECTION_LIMITS.maxConcurrentStreams}`,
).map(Number);
const MODES = list('FUNCTION_MEMORY_MODES', 'auto,0');
const CASES = list('FUNCTION_MEMORY_CASES', 'largest claim,largest message');
const NODE_ARGS = (process.env['FUNCTION_MEMORY_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
const SERVER_ARGS = (process.env['FUNCTION_MEMORY_SERVER_ARGS'] ?? '').split(/\s+/).filter(Boolean);

function list(variable: string, fallback: string): string[] {
  return (process.env[variable] ?? fallback).split(',').map((v) => v.trim());
}

type Json = Record<string, unknown>;

function specSchema(): JsonSchema {
  const xrd = parse(readFileSync(`${root}apis/namespaced/definition.yaml`, 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
  };
  const spec = xrd.spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'];
  if (!spec) throw new Error('apis/namespaced/definition.yaml has no spec schema');
  return spec;
}

function fatalOf(rsp: RunFunctionResponse): string | undefined {
  return rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message;
}

function requests(): { name: string; bytes: Buffer; note: string }[] {
  const example = exampleCases().find((c) => c.id === 'production/xr');
  if (!example) throw new Error('no production/xr example');
  const renders = (spec: Json): boolean => {
    const xr = { ...example.request.xr, spec } as typeof example.request.xr;
    return fatalOf(runFunction(buildRequest({ ...example.request, xr }))) === undefined;
  };
  const claim = maximalClaim(example.request.xr['spec'] as Json, specSchema(), renders);
  const xr = { ...example.request.xr, spec: claim.spec } as typeof example.request.xr;
  const largest = buildRequest({ ...example.request, xr });
  const claimBytes = Buffer.from(RunFunctionRequest.encode(largest).finish());

  // Observed resources the function does not compose, each a ConfigMap of 256 KiB, then one
  // sized to leave ~1 KiB under the limit.
  const padded = RunFunctionRequest.fromPartial(largest);
  const pad = (name: string, size: number): void => {
    padded.observed!.resources[name] = {
      resource: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'shop' },
        data: { blob: 'x'.repeat(size) },
      },
      connectionDetails: {},
      ready: 0,
    };
  };
  const size = (): number => RunFunctionRequest.encode(padded).finish().length;
  let i = 0;
  while (size() + 300 * 1024 < DEFAULT_MAX_RECV_MESSAGE_BYTES) pad(`pad-${i++}`, 256 * 1024);
  pad(`pad-${i}`, Math.max(0, DEFAULT_MAX_RECV_MESSAGE_BYTES - size() - 1024 - 64));
  const messageBytes = Buffer.from(RunFunctionRequest.encode(padded).finish());
  if (messageBytes.length > DEFAULT_MAX_RECV_MESSAGE_BYTES) throw new Error('padded request too large');
  if (fatalOf(runFunction(padded)))
    throw new Error(`the padded request renders FATAL: ${fatalOf(runFunction(padded))}`);
  return [
    { name: 'largest claim', bytes: claimBytes, note: claim.report },
    { name: 'largest message', bytes: messageBytes, note: `claim + ${i + 1} observed ConfigMaps` },
  ];
}

interface Server {
  child: ChildProcess;
  address: string;
  stop(): Promise<void>;
}

async function startServer(workers: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      ...NODE_ARGS,
      `${root}dist/cli/main.js`,
      'serve',
      'function',
      '--insecure',
      '--address',
      '127.0.0.1:0',
      '--workers',
      workers,
      ...SERVER_ARGS,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  let line: string | undefined;
  for (
    let waited = 0;
    !(line = output.split('\n').find((l) => l.includes('"msg":"pgplane function listening"')));
    waited += 20
  ) {
    if (waited > 20_000 || child.exitCode !== null) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const { address } = JSON.parse(line) as { address: string };
  return {
    child,
    address,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function framed(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

function callOnce(session: http2.ClientHttp2Session, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    const read = (h: http2.IncomingHttpHeaders): void => {
      if (typeof h['grpc-status'] === 'string') status = h['grpc-status'];
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('data', () => undefined);
    stream.on('end', () => (status === '0' ? resolve() : reject(new Error(`grpc-status ${status}`))));
    stream.on('error', reject);
    stream.end(body);
  });
}

/** Keeps `inFlight` calls going for `seconds`; returns the calls completed. */
async function load(address: string, body: Buffer, inFlight: number, seconds: number): Promise<number> {
  // Node's client would otherwise refuse to hold more than 10 MB of a session's frames at once.
  const session = http2.connect(`http://${address}`, { maxSessionMemory: 4096 });
  // The server's GOAWAY when it stops after the run is not a failure of the run.
  session.on('error', () => undefined);
  const until = Date.now() + seconds * 1000;
  let done = 0;
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (Date.now() < until) {
          await callOnce(session, body);
          done++;
        }
      }),
    );
  } finally {
    session.close();
  }
  return done;
}

function statusKib(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

async function main(): Promise<void> {
  if (process.env['FUNCTION_BENCH_SKIP_BUILD'] !== '1') {
    const built = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`pgplane does not build:\n${built.stdout}${built.stderr}`);
  }
  const cases = requests().filter((c) => CASES.includes(c.name));
  for (const c of cases)
    console.log(`${c.name}: ${(c.bytes.length / 1024).toFixed(0)} KiB request (${c.note})`);
  const rows: string[] = [
    `| --workers | request | in flight | calls | peak RSS (MiB) | under ${LIMIT_MIB} Mi |`,
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const mode of MODES) {
    for (const c of cases) {
      for (const inFlight of IN_FLIGHT) {
        // A fresh server per row: VmHWM is a high-water mark for the process's whole life.
        const server = await startServer(mode);
        const pid = server.child.pid!;
        try {
          const calls = await load(server.address, framed(c.bytes), inFlight, SECONDS);
          const peak = statusKib(pid, 'VmHWM') / 1024;
          console.log(
            `--workers ${mode}, ${c.name}, ${inFlight} in flight: ${calls} calls, peak RSS ${peak.toFixed(1)} MiB`,
          );
          rows.push(
            `| ${mode} | ${c.name} (${(c.bytes.length / 1024).toFixed(0)} KiB) | ${inFlight} | ${calls} | ${peak.toFixed(1)} | ${peak < LIMIT_MIB ? 'yes' : '**no**'} |`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  }
  console.log(`\n${rows.join('\n')}`);
}

await main();
