// The function server in-process, over a real loopback socket: what a handler failure becomes,
// and the health service's Watch through a drain. The program itself is in grpc-server.test.ts.
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
  Target,
} from '@crossplane-org/function-sdk-typescript';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HEALTH_SERVICE_NAME,
  ServingStatus,
  healthServiceDefinition,
  type HealthCheckResponse,
} from '../../src/function/server/health.js';
import { serveRunFunction } from '../../src/function/server/call.js';
import {
  FUNCTION_SERVICE_NAME,
  startFunctionServer,
  type Handler,
  type RunningFunctionServer,
} from '../../src/function/server/server.js';

const lines: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });

let running: RunningFunctionServer | undefined;
afterEach(async () => {
  await running?.stop(1000);
  running = undefined;
  lines.length = 0;
});

async function start(handler?: Handler): Promise<RunningFunctionServer> {
  running = await startFunctionServer({
    address: '127.0.0.1:0',
    security: { mode: 'insecure' },
    maxRecvMessageBytes: 4 * 1024 * 1024,
    logger,
    ...(handler ? { handler } : {}),
  });
  return running;
}

function call(address: string, req: RunFunctionRequest): Promise<RunFunctionResponse> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const method = FunctionRunnerServiceService.runFunction;
  return new Promise<RunFunctionResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      req,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, rsp) => (err || !rsp ? reject(err ?? new Error('no response')) : resolve(rsp)),
    );
  }).finally(() => client.close());
}

const request = RunFunctionRequest.fromPartial({ meta: { tag: 'abc' } });

describe('a handler that throws', () => {
  it('becomes a FATAL result on the XR, and the server keeps serving', async () => {
    let calls = 0;
    const server = await start(() => {
      calls++;
      throw new Error('boom');
    });
    for (let i = 0; i < 3; i++) {
      const rsp = await call(server.address, request);
      expect(rsp.meta?.tag).toBe('abc');
      expect(rsp.results).toEqual([
        {
          severity: Severity.SEVERITY_FATAL,
          message: expect.stringContaining('boom') as unknown as string,
          reason: 'InternalError',
          target: Target.TARGET_COMPOSITE,
        },
      ]);
    }
    expect(calls).toBe(3);
    expect(lines.some((l) => l.includes('RunFunction failed'))).toBe(true);
  });

  it('is caught even when what it throws is not an Error, or the response cannot be encoded', () => {
    const notAnError = serveRunFunction(
      Buffer.alloc(0),
      () => {
        throw 'a string';
      },
      logger,
    );
    expect(notAnError).toMatchObject({ ok: true, fatal: true });

    const unencodable = serveRunFunction(
      Buffer.alloc(0),
      () => ({ results: [{ severity: 1n }] }) as unknown as RunFunctionResponse,
      logger,
    );
    expect(unencodable).toMatchObject({ ok: true, fatal: true });
  });

  it('never sees a request that does not decode: INVALID_ARGUMENT instead', () => {
    // Field 1 with wire type 7, which protobuf does not have.
    const outcome = serveRunFunction(
      Buffer.from([0x0f]),
      () => {
        throw new Error('must not be called');
      },
      logger,
    );
    expect(outcome).toMatchObject({
      ok: false,
      code: 'invalid-argument',
      details: expect.stringContaining('cannot decode') as unknown,
    });
  });
});

describe('debug logging', () => {
  it('logs one line per call with sizes and duration, never the request body', async () => {
    const server = await start();
    const secret = 'hunter2-do-not-log';
    await call(
      server.address,
      RunFunctionRequest.fromPartial({
        meta: { tag: 't' },
        observed: { composite: { resource: { spec: { password: secret } } } },
      }),
    );
    const line = lines.find((l) => l.includes('"msg":"RunFunction"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? '{}')).toMatchObject({ tag: 't', fatal: true });
    expect(lines.join('\n')).not.toContain(secret);
  });
});

describe('health Watch', () => {
  it('streams SERVING, then NOT_SERVING when the server drains, then ends so the drain completes', async () => {
    const server = await start();
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const stream = client.makeServerStreamRequest(
      healthServiceDefinition.watch.path,
      healthServiceDefinition.watch.requestSerialize,
      healthServiceDefinition.watch.responseDeserialize,
      { service: FUNCTION_SERVICE_NAME },
    );
    const seen: ServingStatus[] = [];
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (rsp: HealthCheckResponse) => {
        seen.push(rsp.status);
        if (seen.length === 1) void server.stop(30_000).then((how) => expect(how).toBe('drained'));
      });
      stream.on('status', () => resolve());
      stream.on('error', () => undefined);
    });
    await ended;
    client.close();
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(await server.stop(30_000)).toBe('drained');
  });

  it('answers SERVICE_UNKNOWN for a service it does not know', async () => {
    const server = await start();
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const stream = client.makeServerStreamRequest(
      healthServiceDefinition.watch.path,
      healthServiceDefinition.watch.requestSerialize,
      healthServiceDefinition.watch.responseDeserialize,
      { service: 'no.such.Service' },
    );
    const first = await new Promise<HealthCheckResponse>((resolve) => stream.once('data', resolve));
    expect(first.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    stream.cancel();
    stream.on('error', () => undefined);
    client.close();
    expect(HEALTH_SERVICE_NAME).toBe('grpc.health.v1.Health');
  });
});
