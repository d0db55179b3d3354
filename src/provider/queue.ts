// A work queue in the shape of client-go's: a key is queued at most once, a key is never
// processed by two workers at once (an add while it runs marks it dirty, and it runs again
// after), at most `concurrency` keys run together, failures are retried with backoff and
// successes may ask to run again later (periodic drift resync). Unlike client-go's, a running
// key may park: give its slot up while it waits on a batch (a Grant waiting for its database's
// next batch), so that more keys can join that batch. Timers are injected, so the behaviour is
// tested without waiting.
import { exponentialBackoff, type Backoff } from './backoff.js';

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Outcome {
  /** True when the key should be retried with backoff (the failure count grows). */
  readonly failed?: boolean;
  /** On success: run the key again after this long (drift resync). */
  readonly requeueAfterMs?: number;
}

/** A running key's hold on one of the queue's `concurrency` slots. */
export interface Slot {
  /**
   * Gives the slot up until `waiting` settles, then takes one back (before any key that has not
   * started) and settles as `waiting` did. For waits that get cheaper the more keys share them:
   * the Grants of one database waiting for one batch, which a held slot would keep small. Parked
   * keys stay running: none is started twice, none is forgotten.
   */
  park<T>(waiting: Promise<T>): Promise<T>;
}

type Handler = (key: string, slot: Slot) => Promise<Outcome>;

export interface QueueOptions {
  readonly concurrency: number;
  readonly handler: Handler;
  readonly backoff?: Backoff;
  readonly timers?: Timers;
  /** Called when the handler throws (the key is retried with backoff either way). */
  readonly onError?: (key: string, error: unknown) => void;
}

export interface QueueStats {
  readonly queued: number;
  /** Keys started and not ended, parked ones included. */
  readonly running: number;
  /** Running keys that gave their slot up while they wait on a batch (Slot.park). */
  readonly parked: number;
  readonly waiting: number;
}

export class WorkQueue {
  private readonly pending: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Slots held: running keys that are not parked. */
  private active = 0;
  private parked = 0;
  /** Parked keys whose wait is over, in the order they came back: the next slots are theirs. */
  private readonly returning: (() => void)[] = [];
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { due: number; handle: unknown }>();
  private readonly failures = new Map<string, number>();
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: QueueOptions) {
    if (!(options.concurrency >= 1))
      throw new Error(`concurrency must be at least 1, got ${options.concurrency}`);
    this.backoff = options.backoff ?? exponentialBackoff();
    this.timers = options.timers ?? realTimers;
  }

  /** Queues the key now (cancelling a later run); a running key runs once more when it ends. */
  add(key: string): void {
    if (this.stopped) return;
    this.cancelDelayed(key);
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.pending.push(key);
    this.pump();
  }

  /** Queues the key after a delay; an earlier pending run wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    if (this.queued.has(key) || this.dirty.has(key)) return;
    const due = this.timers.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.due <= due) return;
    this.cancelDelayed(key);
    const handle = this.timers.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { due, handle });
  }

  /** Forgets a key: no pending run, no failure count (the object was deleted). */
  forget(key: string): void {
    this.cancelDelayed(key);
    this.failures.delete(key);
    if (this.queued.delete(key)) this.pending.splice(this.pending.indexOf(key), 1);
    this.dirty.delete(key);
  }

  /** True while a handler of the key runs (parked or not). */
  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** Consecutive failures of the key so far. */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  stats(): QueueStats {
    return {
      queued: this.pending.length,
      running: this.running.size,
      parked: this.parked,
      waiting: this.delayed.size,
    };
  }

  /** Stops taking work, cancels timers and resolves when running handlers have finished. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const key of [...this.delayed.keys()]) this.cancelDelayed(key);
    this.pending.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await this.idle();
  }

  /** Resolves when nothing is queued or running (delayed runs do not count). */
  idle(): Promise<void> {
    if (this.running.size === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private cancelDelayed(key: string): void {
    const entry = this.delayed.get(key);
    if (!entry) return;
    this.timers.clearTimeout(entry.handle);
    this.delayed.delete(key);
  }

  private pump(): void {
    // Returning keys first, stopped or not: they finish what they started, and they free memory.
    while (this.active < this.options.concurrency && this.returning.length > 0) {
      this.active++;
      this.returning.shift()!();
    }
    while (!this.stopped && this.active < this.options.concurrency && this.pending.length > 0) {
      const key = this.pending.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      void this.process(key);
    }
  }

  /** The slot a handler runs in; parking twice at once is waiting twice, on one slot. */
  private slot(): Slot {
    let parked = false;
    return {
      park: async <T>(waiting: Promise<T>): Promise<T> => {
        if (parked) return waiting;
        parked = true;
        this.active--;
        this.parked++;
        this.pump();
        try {
          return await waiting;
        } finally {
          await new Promise<void>((resume) => {
            this.returning.push(resume);
            this.pump();
          });
          this.parked--;
          parked = false;
        }
      },
    };
  }

  private async process(key: string): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.options.handler(key, this.slot());
    } catch (error) {
      this.options.onError?.(key, error);
      outcome = { failed: true };
    }
    this.running.delete(key);
    this.active--;
    if (!this.stopped) {
      if (outcome.failed) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        if (this.dirty.delete(key)) this.add(key);
        else this.addAfter(key, this.backoff(failures));
      } else {
        this.failures.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        else if (outcome.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
      }
    }
    this.pump();
    if (this.running.size === 0 && this.pending.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
