// The load generator: a separate process, so that its CPU is not charged to the server under test.
// Driven by bench/peers/run.ts over stdin/stdout, one JSON command and one JSON answer per line.
//
//   node --import tsx bench/peers/client.ts <requests.json>
//
// Requests are protobuf-encoded once (by run.ts, with the SDK's RunFunctionRequest codec) and
// sent as bytes over the SDK's FunctionRunnerService method, and responses are kept as bytes
// (one in SAMPLE_EVERY is decoded and checked for a FATAL result), so the client's share of the
// machine stays small and equal for every server.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionResponse,
  Severity,
} from '@crossplane-org/function-sdk-typescript';

export type ClientCommand =
  | { cmd: 'startup'; address: string; timeoutMs: number }
  | { cmd: 'latency'; address: string; warmup: number; maxRequests: number; maxSeconds: number }
  | { cmd: 'throughput'; address: string; concurrency: number; warmupSeconds: number; seconds: number }
  | { cmd: 'exit' };

export type ClientAnswer =
  | { ok: true; cmd: 'startup'; attempts: number }
  | { ok: true; cmd: 'latency'; requests: number; medianUs: number; p99Us: number; errors: number }
  | { ok: true; cmd: 'throughput'; requests: number; seconds: number; errors: number }
  | { ok: false; error: string };

const METHOD = FunctionRunnerServiceService.runFunction.path;
const SAMPLE_EVERY = 256;
const identity = (b: Buffer): Buffer => b;

const requests: Buffer[] = (JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as string[]).map((s) =>
  Buffer.from(s, 'base64'),
);
if (requests.length === 0) throw new Error('client: no requests');

function newClient(address: string): grpc.Client {
  // A local subchannel pool: every client is its own HTTP/2 connection, as separate callers are.
  return new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
}

let sampled = 0;
function call(client: grpc.Client, request: Buffer, deadlineMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      METHOD,
      identity,
      identity,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, value) => {
        if (err) return reject(err);
        if (!value || value.length === 0) return reject(new Error('empty response'));
        if (sampled++ % SAMPLE_EVERY === 0) {
          const rsp = RunFunctionResponse.decode(value);
          const fatal = rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
          if (fatal) return reject(new Error(`FATAL result: ${fatal.message}`));
        }
        resolve();
      },
    );
  });
}

function portOpen(address: string): Promise<boolean> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    address.slice(address.lastIndexOf(':') + 1),
  ];
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls the port, then calls until the first successful RunFunction response. */
async function startup(address: string, timeoutMs: number): Promise<ClientAnswer> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  while (Date.now() < deadline) {
    attempts++;
    if (!(await portOpen(address))) {
      await sleep(1);
      continue;
    }
    const client = newClient(address);
    try {
      await call(client, requests[0]!, 2_000);
      return { ok: true, cmd: 'startup', attempts };
    } catch {
      await sleep(1);
    } finally {
      client.close();
    }
  }
  return { ok: false, error: `no successful RunFunction within ${timeoutMs} ms` };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** One client, one request at a time: the latency of a single reconcile's call. */
async function latency(
  address: string,
  warmup: number,
  maxRequests: number,
  maxSeconds: number,
): Promise<ClientAnswer> {
  const client = newClient(address);
  let errors = 0;
  try {
    for (let i = 0; i < warmup; i++) await call(client, requests[i % requests.length]!);
    const samples: number[] = [];
    const end = process.hrtime.bigint() + BigInt(Math.round(maxSeconds * 1e9));
    for (let i = 0; i < maxRequests; i++) {
      const started = process.hrtime.bigint();
      if (started > end) break;
      try {
        await call(client, requests[i % requests.length]!);
        samples.push(Number(process.hrtime.bigint() - started) / 1000);
      } catch {
        errors++;
      }
    }
    samples.sort((a, b) => a - b);
    return {
      ok: true,
      cmd: 'latency',
      requests: samples.length,
      medianUs: percentile(samples, 50),
      p99Us: percentile(samples, 99),
      errors,
    };
  } finally {
    client.close();
  }
}

/** `concurrency` clients (connections), each with one request in flight, for a fixed time. */
async function throughput(
  address: string,
  concurrency: number,
  warmupSeconds: number,
  seconds: number,
): Promise<ClientAnswer> {
  const clients = Array.from({ length: concurrency }, () => newClient(address));
  let measuring = false;
  let stopped = false;
  let completed = 0;
  let errors = 0;
  const loop = async (index: number): Promise<void> => {
    let i = index;
    while (!stopped) {
      try {
        await call(clients[index]!, requests[i++ % requests.length]!);
        if (measuring && !stopped) completed++;
      } catch {
        if (measuring && !stopped) errors++;
      }
    }
  };
  try {
    const loops = clients.map((_, index) => loop(index));
    await sleep(warmupSeconds * 1000);
    measuring = true;
    const started = process.hrtime.bigint();
    await sleep(seconds * 1000);
    stopped = true;
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    await Promise.all(loops);
    return { ok: true, cmd: 'throughput', requests: completed, seconds: elapsed, errors };
  } finally {
    for (const c of clients) c.close();
  }
}

async function handle(command: ClientCommand): Promise<ClientAnswer | undefined> {
  switch (command.cmd) {
    case 'startup':
      return startup(command.address, command.timeoutMs);
    case 'latency':
      return latency(command.address, command.warmup, command.maxRequests, command.maxSeconds);
    case 'throughput':
      return throughput(command.address, command.concurrency, command.warmupSeconds, command.seconds);
    case 'exit':
      return undefined;
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line) as ClientCommand;
  let answer: ClientAnswer | undefined;
  try {
    answer = await handle(command);
  } catch (err) {
    answer = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  if (answer === undefined) break;
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
process.exit(0);
