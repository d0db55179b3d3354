// One RunFunction call as bytes: decode the request, run the handler, encode the response. Every
// outcome is response bytes or a named rejection, never a throw. It imports nothing of gRPC, so
// a worker thread (worker-pool.ts) loads it without the transport.
import {
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
  Target,
} from '@crossplane-org/function-sdk-typescript';
import type { Logger } from 'pino';
import { encodeRunFunctionResponse } from './encode.js';

export type Handler = (req: RunFunctionRequest, logger?: Logger) => RunFunctionResponse;

export type CallOutcome =
  | { ok: true; bytes: Buffer; fatal: boolean; tag: string }
  /**
   * No response: the server answers with this gRPC status. 'invalid-argument': the bytes are not
   * a RunFunctionRequest. 'unavailable': the function is shutting down (Crossplane retries).
   */
  | { ok: false; code: 'invalid-argument' | 'unavailable'; details: string };

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

/** Decodes, runs the handler, encodes. */
export function serveRunFunction(request: Buffer, handler: Handler, logger: Logger): CallOutcome {
  let req: RunFunctionRequest;
  try {
    req = RunFunctionRequest.decode(request);
  } catch (error) {
    return {
      ok: false,
      code: 'invalid-argument',
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
