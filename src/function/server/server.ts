// The gRPC server around the pure RunFunction handler: listens (listener.ts), serves RunFunction
// and the health service, bounds what a connection may hold, and drains on stop. Process concerns (flags, signals, exit codes) live in the CLI.
import * as grpc from '@grpc/grpc-js';
import { FunctionRunnerServiceService } from '@crossplane-org/function-sdk-typescript';
import type { Logger } from 'pino';
import { runFunction } from '../handler.js';
import { requestClock } from './clock.js';
import { serveRunFunction, type CallOutcome, type Handler } from './call.js';
import type { TransportSecurity } from './credentials.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './options.js';
import { HealthService, ServingStatus, healthServiceDefinition } from './health.js';
import { listen, type Listener } from './listener.js';
import { WorkerPool } from './worker-pool.js';

export type { Handler } from './call.js';

export const FUNCTION_SERVICE_NAME = 'apiextensions.fn.proto.v1.FunctionRunnerService';

export interface FunctionServerOptions {
  /** host:port; port 0 binds a free port (see RunningFunctionServer.address). */
  address: string;
  security: TransportSecurity;
  maxRecvMessageBytes: number;
  /** Keepalive, idle and stream limits; absent ones take the defaults below. */
  connections?: Partial<ConnectionLimits>;
  logger: Logger;
  /** The RunFunction implementation; pgplane's handler unless a test passes another. */
  handler?: Handler;
  /**
   * Run calls on this many worker threads (pgplane's handler only); absent or 0 runs them on the
   * gRPC thread. See worker-pool.ts for when that pays.
   */
  workers?: { count: number; script: URL; writeLog: (line: string) => void };
}

export interface RunningFunctionServer {
  /** The address actually bound, with the port the OS chose when 0 was asked for. */
  address: string;
  port: number;
  health: HealthService;
  /**
   * Stops accepting calls and lets in-flight ones finish for up to `graceMs`, then cuts what is
   * left. Resolves 'drained' when nothing had to be cut.
   */
  stop(graceMs: number): Promise<'drained' | 'forced'>;
  /** Cuts every connection now (a second signal while draining); a pending stop() resolves 'forced'. */
  forceStop(): void;
}

export class BindError extends Error {}

/**
 * The SDK's RunFunction method with (de)serialisation moved into the handler: a request that is
 * not a RunFunctionRequest gets INVALID_ARGUMENT naming that, and a response that cannot be
 * encoded becomes a FATAL result like any other handler failure instead of a bare INTERNAL.
 */
const bytes = (b: Buffer): Buffer => b;
const runFunctionMethod = {
  path: FunctionRunnerServiceService.runFunction.path,
  requestStream: false,
  responseStream: false,
  requestSerialize: bytes,
  requestDeserialize: bytes,
  responseSerialize: bytes,
  responseDeserialize: bytes,
} satisfies grpc.MethodDefinition<Buffer, Buffer>;

const REJECTION_STATUS: Readonly<Record<Extract<CallOutcome, { ok: false }>['code'], grpc.status>> = {
  'invalid-argument': grpc.status.INVALID_ARGUMENT,
  unavailable: grpc.status.UNAVAILABLE,
};

const functionServiceDefinition = { runFunction: runFunctionMethod } satisfies grpc.ServiceDefinition;

export async function startFunctionServer(opts: FunctionServerOptions): Promise<RunningFunctionServer> {
  const { logger } = opts;
  const now = requestClock();
  const handler: Handler = opts.handler ?? ((req, log) => runFunction(req, log, now()));
  const inThread = (request: Buffer): CallOutcome => serveRunFunction(request, handler, logger);
  const pool =
    opts.workers && opts.workers.count > 0 && !opts.handler
      ? await WorkerPool.start({
          size: opts.workers.count,
          script: opts.workers.script,
          workerData: { debug: logger.isLevelEnabled('debug') },
          writeLog: opts.workers.writeLog,
          logger,
          fallback: inThread,
        })
      : undefined;
  const serve = pool ? (request: Buffer) => pool.run(request) : inThread;
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.connections };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxRecvMessageBytes,
    // Responses carry every composed resource; gRPC's send side is unlimited by default, say so.
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.max_connection_idle_ms': limits.maxConnectionIdleMs,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    // channelz stays on: with it off, grpc-js 1.14 does not track sessions where forceShutdown()
    // looks for them.
  });

  const health = new HealthService({
    '': ServingStatus.SERVING,
    [FUNCTION_SERVICE_NAME]: ServingStatus.SERVING,
  });
  server.addService(healthServiceDefinition, health.implementation);

  const debug = logger.isLevelEnabled('debug');
  const implementation: grpc.UntypedServiceImplementation = {
    runFunction: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const started = debug ? process.hrtime.bigint() : 0n;
      const answer = (outcome: CallOutcome): void => {
        if (!outcome.ok) {
          const code = REJECTION_STATUS[outcome.code];
          logger.warn({ code: grpc.status[code], details: outcome.details }, 'RunFunction rejected');
          callback({ code, details: outcome.details });
          return;
        }
        if (debug) {
          logger.debug(
            {
              tag: outcome.tag,
              fatal: outcome.fatal,
              requestBytes: call.request.length,
              responseBytes: outcome.bytes.length,
              ms: Number(process.hrtime.bigint() - started) / 1e6,
            },
            'RunFunction',
          );
        }
        callback(null, outcome.bytes);
      };
      const outcome = serve(call.request);
      if (outcome instanceof Promise) void outcome.then(answer);
      else answer(outcome);
    },
  };
  server.addService(functionServiceDefinition, implementation);

  // TLS and the client check happen in listener.ts; gRPC gets connections already verified, as
  // plaintext HTTP/2 streams.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const { host, port } = splitAddress(opts.address);
  let listener: Listener;
  try {
    listener = await listen({
      host,
      port,
      security: opts.security,
      handshakeTimeoutMs: limits.handshakeTimeoutMs,
      // The server pings every keepalive time and a live peer answers, so a live connection is
      // never this quiet; this catches one whose peer stopped reading with the buffers full.
      inactivityTimeoutMs: 2 * limits.keepaliveTimeMs + limits.keepaliveTimeoutMs,
      logger,
      onConnection: (connection) => injector.injectConnection(connection),
    });
  } catch (error) {
    server.forceShutdown();
    await pool?.close();
    throw new BindError(`cannot listen on ${opts.address}: ${describeBindError(error)}`);
  }
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${listener.port}`,
    port: listener.port,
    health,
    ...stopper(server, listener, health, pool),
  };
}

/** "host:port" or "[v6]:port" (options.ts has checked it) → the parts net.listen takes. */
function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

function describeBindError(error: unknown): string {
  // Name the usual reason so a person knows what to do; the system's message follows.
  const text = error instanceof Error ? error.message : String(error);
  if (/EADDRINUSE|address already in use/i.test(text))
    return `the address is already in use (another process holds the port) — ${text}`;
  if (/EACCES|permission denied/i.test(text))
    return `permission denied (ports below 1024 need privileges) — ${text}`;
  if (/EADDRNOTAVAIL/i.test(text)) return `no such local address — ${text}`;
  return text;
}

interface Stopper {
  stop(graceMs: number): Promise<'drained' | 'forced'>;
  forceStop(): void;
}

/** How long a client gets to close a connection the server has closed its side of, while draining. */
const DRAIN_LINGER_MS = 1000;

function stopper(
  server: grpc.Server,
  listener: Listener,
  health: HealthService,
  pool: WorkerPool | undefined,
): Stopper {
  let stopping: Promise<'drained' | 'forced'> | undefined;
  // Workers stop last: a call the drain waits for may still be in one.
  const closePool = (): Promise<void> => pool?.close() ?? Promise.resolve();
  // Whatever a client does, nothing of it outlives the server: no socket keeps the process up.
  const cutEverything = (): void => {
    server.forceShutdown();
    listener.destroyAll();
  };
  let force = (): void => {
    cutEverything();
    void closePool();
  };
  return {
    stop(graceMs) {
      stopping ??= new Promise((resolve) => {
        // Probes see NOT_SERVING at once; open Watch streams end so they do not hold the drain.
        health.shutdown();
        // No new connections; one still in its TLS handshake has no call to finish.
        listener.stopAccepting(DRAIN_LINGER_MS);
        let settled = false;
        const finish = (how: 'drained' | 'forced'): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          cutEverything();
          void closePool().then(() => resolve(how));
        };
        const timer = setTimeout(() => finish('forced'), graceMs);
        force = () => finish('forced');
        // tryShutdown sends GOAWAY on every connection; its callback alone does not prove the
        // calls have ended. Node 24's http2 Server.close() closes every session itself, and
        // grpc-js 1.14 then finds each one `closed` (close() was called, streams still open),
        // takes that for finished and calls back at once. A session ends its connection only
        // once its last stream has ended, so the connections closing is the proof.
        const grpcDone = new Promise<void>((done) => server.tryShutdown(() => done()));
        void Promise.all([grpcDone, listener.closed()]).then(() => finish('drained'));
      });
      return stopping;
    },
    forceStop: () => force(),
  };
}
