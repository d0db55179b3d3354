// The worker pool's promises to the gRPC thread, with real worker threads running a stand-in
// worker (test/support/fake-function-worker.mjs): every call gets exactly its own answer, a
// worker that dies fails only its own calls (with a FATAL result) and is replaced, a worker that
// cannot start never leaves a call waiting, and closing answers what is still in flight.
import { RunFunctionResponse, Severity } from '@crossplane-org/function-sdk-typescript';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/function/server/call.js';
import {
  WorkerPool,
  WorkerStartError,
  type WorkerPoolOptions,
} from '../../src/function/server/worker-pool.js';

const FAKE = new URL('../support/fake-function-worker.mjs', import.meta.url);

const logLines: string[] = [];
const written: string[] = [];
const fallbackCalls: string[] = [];

function options(overrides: Partial<WorkerPoolOptions> = {}): WorkerPoolOptions {
  return {
    size: 2,
    script: FAKE,
    workerData: { debug: false },
    writeLog: (line) => void written.push(line),
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
    fallback: (request) => {
      fallbackCalls.push(request.toString());
      return { ok: true, bytes: request, fatal: false, tag: 'fallback' };
    },
    ...overrides,
  };
}

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  delete process.env['FAKE_WORKER_FAIL_LOAD'];
  logLines.length = 0;
  written.length = 0;
  fallbackCalls.length = 0;
});

function bytesOf(outcome: CallOutcome): string {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.details}`);
  return outcome.bytes.toString();
}

function fatalMessage(outcome: CallOutcome): string | undefined {
  if (!outcome.ok) return undefined;
  return RunFunctionResponse.decode(outcome.bytes).results.find((r) => r.severity === Severity.SEVERITY_FATAL)
    ?.message;
}

describe('WorkerPool', () => {
  it('answers every call with its own bytes, as a Buffer, across workers and out of order', async () => {
    pool = await WorkerPool.start(options({ size: 3 }));
    expect(pool.alive).toBe(3);
    const requests = Array.from({ length: 500 }, (_, i) => `e-${i}-${'x'.repeat(i % 50)}`);
    const outcomes = await Promise.all(requests.map((r) => pool!.run(Buffer.from(r))));
    expect(outcomes.map(bytesOf)).toEqual(requests);
    expect(outcomes.every((o) => o.ok && Buffer.isBuffer(o.bytes) && o.tag === 'echo')).toBe(true);
  });

  it('sends only the request bytes, not the buffer a view sits in', async () => {
    pool = await WorkerPool.start(options({ size: 1 }));
    const big = Buffer.alloc(1024 * 1024, 'z');
    big.write('e-view', 1000);
    expect(bytesOf(await pool.run(big.subarray(1000, 1006)))).toBe('e-view');
  });

  it('writes the workers’ log lines to the log stream', async () => {
    pool = await WorkerPool.start(options({ size: 1 }));
    await pool.run(Buffer.from('l'));
    expect(written.join('')).toContain('"msg":"from the worker"');
  });

  it('fails only the dead worker’s calls, with a FATAL result, and replaces the worker', async () => {
    pool = await WorkerPool.start(options({ size: 1 }));
    const hanging = pool.run(Buffer.from('h'));
    const crashing = pool.run(Buffer.from('c'));
    for (const outcome of await Promise.all([hanging, crashing])) {
      expect(fatalMessage(outcome)).toMatch(/failed unexpectedly.*worker thread exited with code 3/);
    }
    expect(logLines.join('')).toContain('a RunFunction worker thread died; starting another');
    // The replacement serves; nothing went to the gRPC thread.
    await expect.poll(async () => bytesOf(await pool!.run(Buffer.from('e-after')))).toBe('e-after');
    expect(pool.alive).toBe(1);
    expect(fallbackCalls).toEqual([]);
  });

  it('keeps calls going on the other workers while one is lost', async () => {
    pool = await WorkerPool.start(options({ size: 2 }));
    const crash = pool.run(Buffer.from('c'));
    const others = Array.from({ length: 50 }, (_, i) => pool!.run(Buffer.from(`e-${i}`)));
    expect(fatalMessage(await crash)).toBeDefined();
    const answered = await Promise.all(others);
    // Calls queued on the crashing worker fail with it; every other one is answered in full.
    const echoed = answered.filter((o) => o.ok && o.tag === 'echo');
    const failed = answered.filter((o) => o.ok && o.tag === '' && o.fatal);
    expect(echoed.length + failed.length).toBe(50);
    expect(echoed.length).toBeGreaterThanOrEqual(25);
    expect(failed.map(fatalMessage).every((m) => /exited with code 3/.test(m ?? ''))).toBe(true);
  });

  it('runs calls on the calling thread when a dead worker cannot be replaced', async () => {
    pool = await WorkerPool.start(options({ size: 1 }));
    process.env['FAKE_WORKER_FAIL_LOAD'] = '1';
    expect(fatalMessage(await pool.run(Buffer.from('c')))).toBeDefined();
    await expect.poll(() => pool!.alive).toBe(0);
    expect(logLines.join('')).toContain('failed to start; calls run on the gRPC thread instead');
    expect(bytesOf(await pool.run(Buffer.from('e-fallback')))).toBe('e-fallback');
    expect(fallbackCalls).toEqual(['e-fallback']);
  });

  it('refuses to start when a worker cannot load, naming the script', async () => {
    process.env['FAKE_WORKER_FAIL_LOAD'] = '1';
    const failed = WorkerPool.start(options({ size: 2 }));
    await expect(failed).rejects.toBeInstanceOf(WorkerStartError);
    await expect(failed).rejects.toThrow(/fake-function-worker\.mjs.*cannot load/);
  });

  it('refuses to start when a worker does not report ready in time', async () => {
    const never = new URL('data:text/javascript,setInterval(() => {}, 1000)');
    await expect(WorkerPool.start(options({ size: 1, script: never, startTimeoutMs: 200 }))).rejects.toThrow(
      /did not start within 200 ms/,
    );
  });

  it('answers calls still in a worker UNAVAILABLE (Crossplane retries) when closed', async () => {
    pool = await WorkerPool.start(options({ size: 1 }));
    const hanging = pool.run(Buffer.from('h'));
    await pool.close();
    expect(await hanging).toEqual({
      ok: false,
      code: 'unavailable',
      details: expect.stringMatching(/shutting down/),
    });
    expect(logLines.join('')).not.toContain('died');
  });
});
