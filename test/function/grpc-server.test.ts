// The real program over a real socket: `node dist/cli/main.js serve function ...` (the vitest
// globalSetup builds dist/). Process behaviour (TLS, start-up refusals, signals, exit codes) is
// tested here; the in-process server details are in grpc-handler.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import * as http2 from 'node:http2';
import { X509Certificate, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
} from '@crossplane-org/function-sdk-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { ServingStatus, healthServiceDefinition } from '../../src/function/server/health.js';
import { FUNCTION_SERVICE_NAME } from '../../src/function/server/server.js';
import { serveFunction } from '../../src/cli/serve-function.js';
import { buildRequest } from '../../src/render/render.js';
import { exampleCases } from '../support/examples.js';
import {
  crossplaneCa,
  crossplaneClient,
  makeCrossplanePki,
  makeTestPki,
  type CrossplaneKeyPair,
  type CrossplanePki,
  type TestPki,
} from '../support/tls.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');

// ---------------------------------------------------------------------------------------------
// The program

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Served {
  child: ChildProcess;
  /** 127.0.0.1:<port the server chose> */
  address: string;
  output(): string;
  /** Resolves when a line matching `pattern` has been written (stdout or stderr). */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<Exit>;
  stop(): Promise<Exit>;
}

/** The environment without TLS_SERVER_CERTS_DIR, so the machine's own setting never leaks in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('TLS_SERVER_CERTS_DIR' in extra)) delete env['TLS_SERVER_CERTS_DIR'];
  return env;
}

function spawnServe(
  args: string[],
  env = cleanEnv(),
): { child: ChildProcess; output(): string; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [MAIN, 'serve', 'function', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Starts the server on 127.0.0.1:0 and reads the port it bound from its "listening" log line. */
async function serve(args: string[], env = cleanEnv()): Promise<Served> {
  const { child, output, exited } = spawnServe(['--address', '127.0.0.1:0', ...args], env);
  let gone = false;
  void exited.then(() => (gone = true));
  const waitFor = async (pattern: RegExp): Promise<void> => {
    while (!pattern.test(output())) {
      if (gone) throw new Error(`server exited while waiting for ${String(pattern)}:\n${output()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor(/"msg":"pgplane function listening"/);
  const line = output()
    .split('\n')
    .find((l) => l.includes('"msg":"pgplane function listening"'));
  const address = (JSON.parse(line ?? '{}') as { address?: string }).address;
  if (!address) throw new Error(`no address in: ${line}`);
  return {
    child,
    address,
    output,
    waitFor,
    exited,
    async stop() {
      if (!gone) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs the program to its end (for the ones that must refuse to start). */
async function runToExit(args: string[], env = cleanEnv()): Promise<Exit & { output: string }> {
  const { child, output, exited } = spawnServe(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, output: output() };
}

// ---------------------------------------------------------------------------------------------
// Clients

function agentExecutorRequest(id = 'agent-executor/xr'): RunFunctionRequest {
  const example = exampleCases().find((c) => c.id === id);
  if (!example) throw new Error(`no example ${id}`);
  return buildRequest(example.request);
}

type Credentials = grpc.ChannelCredentials;
const insecure = (): Credentials => grpc.credentials.createInsecure();

/** A client with a connection of its own, so that one test's broken connection is not another's. */
function ownClient(address: string, credentials: Credentials): grpc.Client {
  return new grpc.Client(address, credentials, { 'grpc.use_local_subchannel_pool': 1 });
}

function unaryOn<Req, Rsp>(
  client: grpc.Client,
  method: grpc.MethodDefinition<Req, Rsp>,
  req: Req,
): Promise<Rsp> {
  return new Promise<Rsp>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      req,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, rsp) => (err || !rsp ? reject(err ?? new Error('no response')) : resolve(rsp)),
    );
  });
}

/** One unary call on its own connection. */
function unary<Req, Rsp>(
  address: string,
  credentials: Credentials,
  method: grpc.MethodDefinition<Req, Rsp>,
  req: Req,
): Promise<Rsp> {
  const client = ownClient(address, credentials);
  return unaryOn(client, method, req).finally(() => client.close());
}

function call(
  address: string,
  credentials: Credentials,
  req: RunFunctionRequest,
): Promise<RunFunctionResponse> {
  return unary(address, credentials, FunctionRunnerServiceService.runFunction, req);
}

/** RunFunction with the body sent as given and the response returned undecoded. */
function callRaw(address: string, body: Buffer): Promise<Buffer> {
  const bytes = (b: Buffer): Buffer => b;
  const method: grpc.MethodDefinition<Buffer, Buffer> = {
    ...FunctionRunnerServiceService.runFunction,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  };
  return unary(address, insecure(), method, body);
}

async function healthCheck(address: string, credentials: Credentials, service = ''): Promise<ServingStatus> {
  return (await unary(address, credentials, healthServiceDefinition.check, { service })).status;
}

function fatalOf(rsp: RunFunctionResponse): string | undefined {
  return rsp.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message;
}

// ---------------------------------------------------------------------------------------------

// Calls on the gRPC thread (--workers 0, a one-CPU pod) and on worker threads must not differ.
describe.each(['0', '2'])('pgplane serve function --insecure --workers %s', (workers) => {
  let server: Served;
  beforeAll(async () => {
    server = await serve(['--insecure', '--workers', workers]);
  });

  afterAll(async () => {
    const exit = await server.stop();
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('says how many worker threads run the calls', () => {
    const listening = server
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"pgplane function listening"'));
    expect(JSON.parse(listening ?? '{}')).toMatchObject({ workers: Number(workers) });
  });

  it('answers every example, 8 calls at a time, each exactly as runFunction() does in-process', async () => {
    const requests = exampleCases().map((c) => buildRequest(c.request));
    // One connection with calls multiplexed on it, as Crossplane calls a function.
    const client = ownClient(server.address, insecure());
    const callOn = (req: RunFunctionRequest) =>
      unaryOn(client, FunctionRunnerServiceService.runFunction, req);
    try {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < requests.length; i += 8) {
          const batch = requests.slice(i, i + 8);
          const responses = await Promise.all(batch.map(callOn));
          responses.forEach((rsp, j) => expect(rsp).toEqual(runFunction(batch[j]!)));
        }
      }
    } finally {
      client.close();
    }
  });

  it.each(['agent-executor/xr', 'agent-executor/xr@ready'])(
    'answers %s over gRPC exactly as runFunction() does in-process',
    async (id) => {
      const req = agentExecutorRequest(id);
      const overGrpc = await call(server.address, insecure(), req);
      expect(fatalOf(overGrpc)).toBeUndefined();
      expect(Object.keys(overGrpc.desired?.resources ?? {})).toContain('cluster');
      expect(overGrpc).toEqual(runFunction(req));
    },
  );

  it('answers the health service: SERVING for the server and the function, NOT_FOUND for others', async () => {
    expect(await healthCheck(server.address, insecure())).toBe(ServingStatus.SERVING);
    expect(await healthCheck(server.address, insecure(), FUNCTION_SERVICE_NAME)).toBe(ServingStatus.SERVING);
    await expect(healthCheck(server.address, insecure(), 'no.such.Service')).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it('survives garbage: random bytes on the TCP port and as a RunFunction body', async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const socket = tcpConnect({ host: '127.0.0.1', port: Number(server.address.split(':')[1]) }, () => {
          socket.end(randomBytes(4096));
        });
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    for (let i = 0; i < 20; i++) {
      // Either a decode error (INVALID_ARGUMENT) or a request that decodes to nonsense (FATAL result).
      await callRaw(server.address, randomBytes(64 + i * 50)).then(
        (bytes) => expect(fatalOf(RunFunctionResponse.decode(bytes))).toBeDefined(),
        (err: unknown) => expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT }),
      );
    }
    expect(server.child.exitCode).toBeNull();
    expect(fatalOf(await call(server.address, insecure(), agentExecutorRequest()))).toBeUndefined();
  });
});

describe('pgplane serve function with TLS', () => {
  let pki: TestPki;
  let server: Served;
  beforeAll(async () => {
    pki = makeTestPki();
    // The certificates directory from the variable Crossplane sets, as in a real Deployment.
    server = await serve([], cleanEnv({ TLS_SERVER_CERTS_DIR: pki.serverDir }));
  });
  afterAll(async () => {
    await server?.stop();
    pki?.cleanup();
  });

  const mtls = (): Credentials => grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert);

  it('serves a client that presents a certificate from ca.crt', async () => {
    expect(server.output()).toContain('mutual (client certificates signed by ca.crt required)');
    const req = agentExecutorRequest();
    expect(await call(server.address, mtls(), req)).toEqual(runFunction(req));
    expect(await healthCheck(server.address, mtls())).toBe(ServingStatus.SERVING);
  });

  it('refuses a client without a certificate', async () => {
    await expect(
      call(server.address, grpc.credentials.createSsl(pki.ca), agentExecutorRequest()),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const stranger = grpc.credentials.createSsl(pki.ca, pki.strangerClient.key, pki.strangerClient.cert);
    await expect(call(server.address, stranger, agentExecutorRequest())).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it('refuses a plaintext client', async () => {
    await expect(call(server.address, insecure(), agentExecutorRequest())).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it('also takes the directory from --tls-certs-dir', async () => {
    const other = await serve(['--tls-certs-dir', pki.serverDir]);
    try {
      expect(await healthCheck(other.address, mtls())).toBe(ServingStatus.SERVING);
    } finally {
      expect(await other.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

// Crossplane's certificates: every one has the CA's own subject and no authority key identifier,
// which OpenSSL takes for self-signed (openssl verify: error 18). Crossplane (Go) checks the
// server's certificate by signature; the client below does the same, since Node's would refuse it.
describe("pgplane serve function with Crossplane's own certificates", () => {
  let pki: CrossplanePki;
  let server: Served;
  beforeAll(async () => {
    pki = makeCrossplanePki();
    server = await serve([], cleanEnv({ TLS_SERVER_CERTS_DIR: pki.serverDir }));
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    pki?.cleanup();
  });

  const caCert = (): X509Certificate => new X509Certificate(pki.ca.cert);
  const asCrossplane = (client?: CrossplaneKeyPair): Credentials =>
    grpc.credentials.createSsl(pki.ca.cert, client?.key ?? null, client?.cert ?? null, {
      rejectUnauthorized: false,
      checkServerIdentity: (_host, peer) =>
        new X509Certificate(peer.raw).verify(caCert().publicKey)
          ? undefined
          : new Error('the server certificate is not signed by ca.crt'),
    });
  const refused = async (client: CrossplaneKeyPair | undefined): Promise<void> => {
    await expect(call(server.address, asCrossplane(client), agentExecutorRequest())).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  };

  it("serves Crossplane's client certificate", async () => {
    const req = agentExecutorRequest();
    expect(await call(server.address, asCrossplane(pki.client), req)).toEqual(runFunction(req));
  });

  it('refuses a client without a certificate', async () => {
    await refused(undefined);
  });

  it('refuses a certificate from another CA made from the same template (same subject)', async () => {
    await refused(crossplaneClient(crossplaneCa()));
    expect(server.output()).toMatch(
      /"reason":"the certificate \(issuer [^"]*CN=Crossplane\) is not signed by a certificate in ca\.crt".*"msg":"refused a client certificate"/,
    );
  });

  it('refuses an expired certificate and one not valid yet', async () => {
    const day = 24 * 60 * 60 * 1000;
    const now = Date.now();
    await refused(
      crossplaneClient(pki.ca, { notBefore: new Date(now - 3 * day), notAfter: new Date(now - day) }),
    );
    await refused(
      crossplaneClient(pki.ca, { notBefore: new Date(now + day), notAfter: new Date(now + 3 * day) }),
    );
    expect(server.output()).toContain('expired');
    expect(server.output()).toContain('not valid before');
  });

  it('refuses a certificate of the same CA not made for clients: a server one, and the CA itself', async () => {
    await refused(crossplaneClient(pki.ca, { extKeyUsage: ['serverAuth'] }));
    await refused(pki.ca);
    expect(server.output()).toContain('client authentication');
  });

  it('still serves Crossplane after the refusals', async () => {
    expect(await healthCheck(server.address, asCrossplane(pki.client))).toBe(ServingStatus.SERVING);
  });
});

describe('pgplane serve function refuses to start', () => {
  it('without TLS and without --insecure, naming both ways out', async () => {
    const exit = await runToExit(['--address', '127.0.0.1:0']);
    expect(exit.code).toBe(2);
    expect(exit.output).toContain('--insecure');
    expect(exit.output).toContain('TLS_SERVER_CERTS_DIR');
    expect(exit.output).toContain('--tls-certs-dir');
  });

  it('when the certificates directory lacks the files, naming the missing one', async () => {
    const exit = await runToExit(['--address', '127.0.0.1:0', '--tls-certs-dir', ROOT]);
    expect(exit.code).toBe(1);
    expect(exit.output).toContain(join(ROOT, 'ca.crt'));
  });

  it('when the port is taken, exiting non-zero with a message', async () => {
    const holder: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => {
        const address = holder.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      }),
    );
    try {
      const exit = await runToExit(['--insecure', '--address', `127.0.0.1:${port}`]);
      expect(exit.code).toBe(1);
      expect(exit.output).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(exit.output).toContain('already in use');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
  it('when the worker threads cannot start, exiting 1 with the reason', async () => {
    const stderr: string[] = [];
    const io = { stdout: () => undefined, stderr: (text: string) => void stderr.push(text) };
    const argv = ['--insecure', '--address', '127.0.0.1:0', '--workers', '1'];
    const missing = new URL('file:///nonexistent/function-worker.js');
    expect(await serveFunction(argv, io, { functionWorker: missing })).toBe(1);
    expect(stderr.join('')).toMatch(
      /cannot start the RunFunction worker threads \(\/nonexistent\/function-worker\.js\)/,
    );
    // Without the built program there is no worker to start: --workers is refused, auto means 0.
    stderr.length = 0;
    expect(await serveFunction(argv, io)).toBe(2);
    expect(stderr.join('')).toContain('--workers needs the built program');
  });
});

describe('pgplane serve function --max-recv-message-size', () => {
  it('rejects a larger request with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const server = await serve(['--insecure', '--max-recv-message-size', '1Ki']);
    try {
      const big = agentExecutorRequest('agent-executor/xr@ready');
      expect(RunFunctionRequest.encode(big).finish().length).toBeGreaterThan(1024);
      await expect(call(server.address, insecure(), big)).rejects.toMatchObject({
        code: grpc.status.RESOURCE_EXHAUSTED,
      });
      expect(await healthCheck(server.address, insecure())).toBe(ServingStatus.SERVING);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Draining. Calls are made with node:http2 directly so that they are provably in flight when the
// signal arrives: each request's headers and first bytes are on the server (a PING sent after
// them has been answered), the rest of each body is sent only once the server logs that it is
// draining. Every call must then complete, and the process exit 0.

interface RawCall {
  finish(): void;
  response: Promise<{ status: string | undefined; body: Buffer }>;
}

function startRawCall(session: http2.ClientHttp2Session, message: Uint8Array): Promise<RawCall> {
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  const stream = session.request({
    ':method': 'POST',
    ':path': FunctionRunnerServiceService.runFunction.path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const chunks: Buffer[] = [];
  let status: string | undefined;
  const readStatus = (headers: http2.IncomingHttpHeaders): void => {
    const value = headers['grpc-status'];
    if (typeof value === 'string') status = value;
  };
  stream.on('response', readStatus);
  stream.on('trailers', readStatus);
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const response = new Promise<{ status: string | undefined; body: Buffer }>((resolve, reject) => {
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
  });
  return new Promise((resolve, reject) => {
    stream.write(framed.subarray(0, 16), (err) => {
      if (err) reject(err);
      else resolve({ finish: () => stream.end(framed.subarray(16)), response });
    });
  });
}

/**
 * 32 calls in flight on `session` when the server gets SIGTERM: each must get its whole response
 * and status 0, and the process must then exit 0 after a clean drain.
 */
async function drainsInFlightCalls(server: Served, session: http2.ClientHttp2Session): Promise<void> {
  try {
    const req = agentExecutorRequest();
    const message = RunFunctionRequest.encode(req).finish();
    const calls = await Promise.all(Array.from({ length: 32 }, () => startRawCall(session, message)));
    // The PING goes out after every call's first bytes; its answer means the server has read them.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));

    server.child.kill('SIGTERM');
    await server.waitFor(/"msg":"draining/);
    for (const c of calls) c.finish();

    const responses = await Promise.all(calls.map((c) => c.response));
    const want = runFunction(req);
    for (const { status, body } of responses) {
      expect(status).toBe('0');
      expect(body.readUInt32BE(1)).toBe(body.length - 5);
      expect(RunFunctionResponse.decode(body.subarray(5))).toEqual(want);
    }
  } finally {
    session.close();
  }
  expect(await server.exited).toEqual({ code: 0, signal: null });
  expect(server.output()).toContain('"msg":"drained; exiting"');
}

// Node's client does not wait for a free stream as gRPC clients do: the servers allow all 32 at once.
describe('pgplane serve function on SIGTERM', () => {
  it.each(['0', '1'])('finishes every in-flight call, then exits 0 (--workers %s)', async (workers) => {
    const server = await serve(['--insecure', '--workers', workers, '--max-concurrent-streams', '32']);
    await drainsInFlightCalls(server, http2.connect(`http://${server.address}`));
  });

  it("finishes every in-flight call over mutual TLS with Crossplane's certificates, then exits 0", async () => {
    const pki = makeCrossplanePki();
    try {
      const server = await serve(
        ['--max-concurrent-streams', '32'],
        cleanEnv({ TLS_SERVER_CERTS_DIR: pki.serverDir }),
      );
      const session = http2.connect(`https://${server.address}`, {
        key: pki.client.key,
        cert: pki.client.cert,
        // Crossplane's server certificate is one OpenSSL calls self-signed; not what is tested here.
        rejectUnauthorized: false,
      });
      await drainsInFlightCalls(server, session);
    } finally {
      pki.cleanup();
    }
  });

  it('exits 0 on SIGINT when nothing is in flight', async () => {
    const server = await serve(['--insecure']);
    expect(await healthCheck(server.address, insecure())).toBe(ServingStatus.SERVING);
    server.child.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('"why":"SIGINT"');
  });

  it('cuts a call that never finishes once --drain-timeout has passed, and exits 1', async () => {
    const server = await serve(['--insecure', '--drain-timeout', '300ms']);
    const session = http2.connect(`http://${server.address}`);
    session.on('error', () => undefined);
    try {
      const stuck = await startRawCall(session, RunFunctionRequest.encode(agentExecutorRequest()).finish());
      stuck.response.catch(() => undefined);
      await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(server.output()).toContain('were cut');
    } finally {
      session.destroy();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Clients that never let go. Whatever they do, the process exits by --drain-timeout; with no call
// in flight it exits 0, as after any clean drain.

/** The HTTP/2 client preface and an empty SETTINGS frame: enough for the server to open a session. */
const HTTP2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

type Misbehaviour = 'silent TCP' | 'HTTP/2 preface, then silent' | 'HTTP/2 preface, then stops reading';

/** Connects and misbehaves; resolves once the connection is in the state named. */
function misbehave(
  how: Misbehaviour,
  connect: () => Socket,
  ready: 'connect' | 'secureConnect',
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect();
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once(ready, () => {
      if (how === 'silent TCP') return resolve(socket);
      socket.write(HTTP2_PREFACE, () => {
        // Reading on keeps the server's writes flowing but answers none of them (no SETTINGS ack,
        // no PING ack, no FIN); pausing also leaves the server's writes unread.
        if (how === 'HTTP/2 preface, then silent') socket.resume();
        else socket.pause();
        resolve(socket);
      });
    });
  });
}

/** The process's exit, or 'still running' once `ms` have passed. */
function exitWithin(server: Served, ms: number): Promise<Exit | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>(
    (resolve) => (timer = setTimeout(() => resolve('still running'), ms)),
  );
  return Promise.race([server.exited, timeout]).finally(() => clearTimeout(timer));
}

const MISBEHAVIOURS: Misbehaviour[] = [
  'silent TCP',
  'HTTP/2 preface, then silent',
  'HTTP/2 preface, then stops reading',
];
const DRAIN_MS = 2000;
/** Far above the drain timeout plus a process exit; the clients above would hold it forever. */
const EXIT_BOUND_MS = DRAIN_MS + 8000;

describe('pgplane serve function on SIGTERM, with clients that never let go', () => {
  it('--insecure: exits 0 by --drain-timeout with every kind of stuck client connected', async () => {
    const server = await serve(['--insecure', '--drain-timeout', `${DRAIN_MS}ms`]);
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    const clients = await Promise.all(
      MISBEHAVIOURS.map((how) => misbehave(how, () => tcpConnect({ host, port }), 'connect')),
    );
    try {
      // The server is serving them: a health check on another connection still answers.
      expect(await healthCheck(server.address, insecure())).toBe(ServingStatus.SERVING);
      server.child.kill('SIGTERM');
      expect(await exitWithin(server, EXIT_BOUND_MS)).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain('"msg":"drained; exiting"');
    } finally {
      for (const c of clients) c.destroy();
      await server.stop();
    }
  });

  it("mutual TLS with Crossplane's certificates: exits 0 by --drain-timeout, mid-handshake clients included", async () => {
    const pki = makeCrossplanePki();
    const server = await serve(
      ['--drain-timeout', `${DRAIN_MS}ms`],
      cleanEnv({ TLS_SERVER_CERTS_DIR: pki.serverDir }),
    );
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    const overTls = (): Socket =>
      tlsConnect({
        host,
        port,
        ALPNProtocols: ['h2'],
        key: pki.client.key,
        cert: pki.client.cert,
        // Crossplane's server certificate is one OpenSSL calls self-signed; not what is tested here.
        rejectUnauthorized: false,
      });
    const clients = await Promise.all([
      // Never sends a ClientHello: stuck in the TLS handshake.
      misbehave('silent TCP', () => tcpConnect({ host, port }), 'connect'),
      misbehave('HTTP/2 preface, then silent', overTls, 'secureConnect'),
      misbehave('HTTP/2 preface, then stops reading', overTls, 'secureConnect'),
    ]);
    try {
      server.child.kill('SIGTERM');
      expect(await exitWithin(server, EXIT_BOUND_MS)).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain('"msg":"drained; exiting"');
    } finally {
      for (const c of clients) c.destroy();
      await server.stop();
      pki.cleanup();
    }
  });
});

describe('pgplane serve function reaps connections that stopped answering', () => {
  it('closes a connection whose client answers no keepalive ping, silent or no longer reading, and serves on', async () => {
    const server = await serve(['--insecure', '--keepalive-time', '300ms', '--keepalive-timeout', '300ms']);
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    try {
      const clients = await Promise.all(
        MISBEHAVIOURS.map((how) => misbehave(how, () => tcpConnect({ host, port }), 'connect')),
      );
      const closed = (socket: Socket): Promise<'closed' | 'open'> => {
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([
          new Promise<'closed'>((resolve) =>
            socket.destroyed ? resolve('closed') : socket.once('close', () => resolve('closed')),
          ),
          new Promise<'open'>((resolve) => (timer = setTimeout(() => resolve('open'), 10_000))),
        ]).finally(() => clearTimeout(timer));
      };
      // A paused client sees its socket close only once it reads again, so it reads again only after
      // the server had time to give up on it (the FIN or reset is then waiting for it).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const c of clients) c.resume();
      expect(await Promise.all(clients.map(closed))).toEqual(['closed', 'closed', 'closed']);
      expect(await healthCheck(server.address, insecure())).toBe(ServingStatus.SERVING);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  });
});
