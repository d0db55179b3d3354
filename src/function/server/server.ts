// The gRPC server around the pure RunFunction handler: binds, serves RunFunction and the health
// service, and drains on stop. Process concerns (flags, signals, exit codes) live in the CLI.
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
  Target,
} from '@crossplane-org/function-sdk-typescript';
import type { Logger } from 'pino';
import { runFunction } from '../handler.js';
import { encodeRunFunctionResponse } from './encode.js';
import { HealthService, ServingStatus, healthServiceDefinition } from './health.js';

export type Handler = (req: RunFunctionRequest, logger?: Logger) => RunFunctionResponse;

export const FUNCTION_SERVICE_NAME = 'apiextensions.fn.proto.v1.FunctionRunnerService';

export interface FunctionServerOptions {
  /** host:port; port 0 binds a free port (see RunningFunctionServer.address). */
  address: string;
  credentials: grpc.ServerCredentials;
  maxRecvMessageBytes: number;
  logger: Logger;
  /** The RunFunction implementation; pgplane's handler unless a test passes another. */
  handler?: Handler;
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

const functionServiceDefinition = { runFunction: runFunctionMethod } satisfies grpc.ServiceDefinition;

/** Crossplane retries a FATAL step after the TTL; a bug should not wait the default 60s. */
const INTERNAL_ERROR_TTL = { seconds: 15, nanos: 0 };

/** What Crossplane gets when the handler throws: a FATAL result on the XR, never a dead process. */
export function internalErrorResponse(
  req: RunFunctionRequest | undefined,
  error: unknown,
): RunFunctionResponse {
  const message = error instanceof Error ? error.message : String(error);
  return {
    meta: { tag: req?.meta?.tag ?? '', ttl: INTERNAL_ERROR_TTL },
    desired: req?.desired,
    results: [
      {
        severity: Severity.SEVERITY_FATAL,
        message: `the pgplane function failed unexpectedly (this is a bug in pgplane; please report it): ${message}`,
        reason: 'InternalError',
        target: Target.TARGET_COMPOSITE,
      },
    ],
    context: req?.context,
    requirements: undefined,
    conditions: [],
  };
}

/**
 * Decodes, runs the handler, encodes. Exported for the tests; every outcome is either encoded
 * response bytes or a gRPC status, never a throw.
 */
export function serveRunFunction(
  request: Buffer,
  handler: Handler,
  logger: Logger,
):
  | { ok: true; bytes: Buffer; fatal: boolean; tag: string }
  | { ok: false; status: grpc.status; details: string } {
  let req: RunFunctionRequest;
  try {
    req = RunFunctionRequest.decode(request);
  } catch (error) {
    return {
      ok: false,
      status: grpc.status.INVALID_ARGUMENT,
      details: `cannot decode the RunFunctionRequest: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const tag = req.meta?.tag ?? '';
  let rsp: RunFunctionResponse;
  let encoded: Buffer;
  try {
    rsp = handler(req, logger);
    encoded = encodeRunFunctionResponse(rsp);
  } catch (error) {
    // The stack is safe to log (code locations, no request data); the request itself is not.
    logger.error(
      { err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error), tag },
      'RunFunction failed; answering with a FATAL result',
    );
    try {
      rsp = internalErrorResponse(req, error);
      encoded = encodeRunFunctionResponse(rsp);
    } catch {
      // Nothing from the request at all, through the SDK's own encoder.
      rsp = internalErrorResponse(undefined, error);
      encoded = Buffer.from(RunFunctionResponse.encode(rsp).finish());
    }
  }
  const fatal = rsp.results.some((r) => r.severity === Severity.SEVERITY_FATAL);
  return { ok: true, bytes: encoded, fatal, tag };
}

export function startFunctionServer(opts: FunctionServerOptions): Promise<RunningFunctionServer> {
  const { logger } = opts;
  const handler = opts.handler ?? runFunction;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxRecvMessageBytes,
    // Responses carry every composed resource; gRPC's send side is unlimited by default, say so.
    'grpc.max_send_message_length': -1,
    // channelz stays on: with it off, grpc-js 1.14 does not track sessions where forceShutdown()
    // looks for them, and a drain that times out would leave the process hanging on open sockets.
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
      const outcome = serveRunFunction(call.request, handler, logger);
      if (!outcome.ok) {
        logger.warn({ code: grpc.status[outcome.status], details: outcome.details }, 'RunFunction rejected');
        callback({ code: outcome.status, details: outcome.details });
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
    },
  };
  server.addService(functionServiceDefinition, implementation);

  return new Promise((resolve, reject) => {
    server.bindAsync(opts.address, opts.credentials, (error, port) => {
      if (error) {
        server.forceShutdown();
        reject(new BindError(`cannot listen on ${opts.address}: ${describeBindError(error)}`));
        return;
      }
      const host = opts.address.slice(0, opts.address.lastIndexOf(':'));
      resolve({
        address: `${host}:${port}`,
        port,
        health,
        ...stopper(server, health),
      });
    });
  });
}

function describeBindError(error: Error): string {
  // grpc-js reports "No address added out of total 1 resolved" and keeps the cause in the
  // message's tail; name the usual reason so a person knows what to do.
  const text = error.message;
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

function stopper(server: grpc.Server, health: HealthService): Stopper {
  let stopping: Promise<'drained' | 'forced'> | undefined;
  let force = (): void => server.forceShutdown();
  return {
    stop(graceMs) {
      stopping ??= new Promise((resolve) => {
        // Probes see NOT_SERVING at once; open Watch streams end so they do not hold the drain.
        health.shutdown();
        let settled = false;
        const finish = (how: 'drained' | 'forced'): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (how === 'forced') server.forceShutdown();
          resolve(how);
        };
        const timer = setTimeout(() => finish('forced'), graceMs);
        force = () => finish('forced');
        server.tryShutdown(() => finish('drained'));
      });
      return stopping;
    },
    forceStop: () => force(),
  };
}
