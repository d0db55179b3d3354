// RunFunction calls on worker threads, so the gRPC thread only moves bytes.
//
// Why: Node runs JavaScript on one thread. In-thread, each steady-state call costs that thread
// ~0.3 ms (HTTP/2 and grpc-js ~0.08 ms, decoding, composing and encoding the rest), which caps a
// function at ~3,000 calls/s whatever the pod's CPUs. With the work on a worker, the gRPC thread
// keeps accepting and answering calls while the worker composes the previous ones, and the two
// run on two cores (bench/function measures both modes). On a one-CPU pod the hand-off is pure
// overhead, so the CLI starts no workers there (see cpus.ts).
//
// A worker that dies (a crash, not a thrown error: those are FATAL results inside the worker)
// fails only its own in-flight calls, with a FATAL result, and is replaced; when no worker can run
// at all, calls run on the gRPC thread again. Nothing waits for a worker that will not answer.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { internalErrorResponse, type CallOutcome } from './call.js';
import { encodeRunFunctionResponse } from './encode.js';

/** What a worker is started with (workerData). */
export interface FunctionWorkerData {
  readonly debug: boolean;
}

/** Pool → worker: one call. The request bytes are transferred, not copied. */
export interface CallMessage {
  readonly id: number;
  readonly request: Uint8Array;
}

/** Worker → pool. A structured clone turns the outcome's Buffer into a plain Uint8Array. */
export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly id: number; readonly outcome: CallOutcome }
  | { readonly kind: 'log'; readonly line: string };

export interface WorkerPoolOptions {
  readonly size: number;
  /** The worker's entry file (the CLI's function-worker.js). */
  readonly script: URL;
  readonly workerData: FunctionWorkerData;
  /** Where the workers' log lines go: the same stream as the gRPC thread's. */
  readonly writeLog: (line: string) => void;
  readonly logger: Logger;
  /** Runs a call on the calling thread, for when no worker is alive. */
  readonly fallback: (request: Buffer) => CallOutcome;
  /** How long a worker may take to load before the pool gives up on it. */
  readonly startTimeoutMs?: number;
}

interface Slot {
  worker: Worker;
  readonly inFlight: Map<number, (outcome: CallOutcome) => void>;
  /** Answered 'ready' once; a worker that dies before that is not started again. */
  ready: boolean;
  lost: boolean;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;

/**
 * Calls handed to one worker at a time: one running, one ready behind it so the worker never
 * waits for the gRPC thread. The rest wait here as the bytes grpc-js received, not yet copied for
 * the worker: with 4 MiB requests, every call handed over early would cost another 4 MiB.
 */
const CALLS_PER_WORKER = 2;

/** The workers could not be started; the server does not start either. */
export class WorkerStartError extends Error {}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Calls no worker has room for yet, oldest first. */
  private readonly waiting: { request: Buffer; resolve: (outcome: CallOutcome) => void }[] = [];
  private nextId = 0;
  private closing = false;
  /** Set once every first worker is ready: before that, start() reports failures itself. */
  private started = false;

  private constructor(private readonly opts: WorkerPoolOptions) {}

  /** Starts `size` workers and resolves once every one has loaded; rejects (and stops them) if one cannot. */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      await Promise.all(Array.from({ length: opts.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw new WorkerStartError(
        `cannot start the RunFunction worker threads (${opts.script.pathname}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    pool.started = true;
    return pool;
  }

  /** Live workers; fewer than `size` only after a replacement failed to start. */
  get alive(): number {
    return this.slots.filter((s) => !s.lost).length;
  }

  run(request: Buffer): Promise<CallOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ request, resolve });
      this.dispatch();
    });
  }

  /** Hands waiting calls to workers with room; with no worker alive, runs them on this thread. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.leastBusy();
      if (!slot) {
        const call = this.waiting.shift()!;
        call.resolve(this.opts.fallback(call.request));
        continue;
      }
      if (slot.inFlight.size >= CALLS_PER_WORKER) return;
      const call = this.waiting.shift()!;
      this.send(slot, call.request, call.resolve);
    }
  }

  private send(slot: Slot, request: Buffer, resolve: (outcome: CallOutcome) => void): void {
    const id = this.nextId++;
    // Copied into an ArrayBuffer of its own and transferred: grpc-js's Buffer may be a view into
    // a larger one, which a structured clone would copy whole, and it stays in use here (the
    // debug log reports its size), so it is never the one transferred.
    const own = new Uint8Array(request.byteLength);
    own.set(request);
    slot.inFlight.set(id, resolve);
    slot.worker.postMessage({ id, request: own } satisfies CallMessage, [own.buffer]);
  }

  /**
   * Stops every worker. A call still in one (only after a drain timed out) is answered
   * UNAVAILABLE, which Crossplane retries.
   */
  async close(): Promise<void> {
    this.closing = true;
    const shuttingDown: CallOutcome = {
      ok: false,
      code: 'unavailable',
      details: 'the pgplane function is shutting down; retry',
    };
    for (const slot of this.slots) this.lose(slot, shuttingDown);
    for (const call of this.waiting.splice(0)) call.resolve(shuttingDown);
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private leastBusy(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.lost) continue;
      if (!best || slot.inFlight.size < best.inFlight.size) best = slot;
    }
    return best;
  }

  private spawn(replacing?: Slot): Promise<void> {
    const worker = new Worker(this.opts.script, { workerData: this.opts.workerData });
    const slot: Slot = { worker, inFlight: new Map(), ready: false, lost: false };
    if (replacing) this.slots[this.slots.indexOf(replacing)] = slot;
    else this.slots.push(slot);

    const timeoutMs = this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the RunFunction worker thread did not start within ${timeoutMs} ms`));
        void worker.terminate();
      }, timeoutMs);
      worker.on('message', (message: WorkerMessage) => {
        switch (message.kind) {
          case 'ready':
            slot.ready = true;
            clearTimeout(timer);
            resolve();
            return;
          case 'log':
            this.opts.writeLog(message.line);
            return;
          case 'done':
            this.settle(slot, message.id, message.outcome);
            return;
        }
      });
      const die = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
        this.lose(slot, error);
      };
      worker.on('error', die);
      worker.on('exit', (code) => die(new Error(`the RunFunction worker thread exited with code ${code}`)));
    });
  }

  private settle(slot: Slot, id: number, outcome: CallOutcome): void {
    const resolve = slot.inFlight.get(id);
    if (!resolve) return;
    slot.inFlight.delete(id);
    resolve(outcome.ok ? { ...outcome, bytes: asBuffer(outcome.bytes) } : outcome);
    this.dispatch();
  }

  /**
   * Answers the slot's in-flight calls (`why`: an error becomes a FATAL result) and, unless the
   * pool is closing, starts a replacement. Idempotent.
   */
  private lose(slot: Slot, why: Error | CallOutcome): void {
    if (slot.lost) return;
    slot.lost = true;
    const answer = why instanceof Error ? internalErrorOutcome(why) : why;
    for (const resolve of slot.inFlight.values()) resolve(answer);
    slot.inFlight.clear();
    if (this.closing || !this.started || !(why instanceof Error)) return;
    // The calls waiting for it go to the others, or to this thread when none is left.
    queueMicrotask(() => this.dispatch());
    if (!slot.ready) {
      this.opts.logger.error(
        { err: why.message },
        'a RunFunction worker thread failed to start; calls run on the gRPC thread instead',
      );
      return;
    }
    this.opts.logger.error({ err: why.message }, 'a RunFunction worker thread died; starting another');
    this.spawn(slot).then(
      () => this.dispatch(),
      () => {
        // lose() has logged it; the slot stays lost and calls go to the others or the fallback.
        this.dispatch();
      },
    );
  }
}

/** A Buffer view of bytes that crossed threads (a structured clone leaves a plain Uint8Array). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The bytes in an ArrayBuffer of their own, ready to transfer: as they are when they already fill
 * one, else copied (small Buffers share Node's pool). For bytes the sender no longer needs.
 */
export function exclusiveBytes(bytes: Buffer): Buffer<ArrayBuffer> {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  )
    return bytes as Buffer<ArrayBuffer>;
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(own);
  return own;
}

function internalErrorOutcome(error: Error): CallOutcome {
  return {
    ok: true,
    bytes: encodeRunFunctionResponse(internalErrorResponse(undefined, error)),
    fatal: true,
    tag: '',
  };
}
