import { describe, expect, it } from 'vitest';
import { exponentialBackoff, jittered } from '../../src/provider/backoff.js';
import { WorkQueue, type Outcome, type Slot } from '../../src/provider/queue.js';
import { flush, ManualTimers } from './fake-timers.js';

/** A handler whose runs the test finishes by hand. */
function controlled() {
  const runs: { key: string; finish: (outcome?: Outcome) => void; fail: (error: Error) => void }[] = [];
  const handler = (key: string) =>
    new Promise<Outcome>((resolve, reject) => {
      runs.push({ key, finish: (outcome = {}) => resolve(outcome), fail: reject });
    });
  return { runs, handler };
}

describe('backoff', () => {
  it('doubles from the base to the cap', () => {
    const backoff = exponentialBackoff({ baseMs: 1000, maxMs: 10_000, jitter: 0, random: () => 0.5 });
    expect([1, 2, 3, 4, 5, 6, 50].map(backoff)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('spreads each delay by the jitter fraction, both ways', () => {
    const low = exponentialBackoff({ baseMs: 1000, maxMs: 60_000, jitter: 0.2, random: () => 0 });
    const high = exponentialBackoff({ baseMs: 1000, maxMs: 60_000, jitter: 0.2, random: () => 0.999999 });
    expect(low(3)).toBe(3200);
    expect(high(3)).toBe(4800);
    expect(jittered(600_000, 0.1, () => 0)).toBe(540_000);
  });
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const timers = new ManualTimers();
    const { runs, handler } = controlled();
    const queue = new WorkQueue({ concurrency: 1, handler, timers });
    queue.add('a');
    queue.add('b');
    queue.add('b');
    queue.add('b');
    expect(runs.map((r) => r.key)).toEqual(['a']);
    expect(queue.stats()).toMatchObject({ queued: 1, running: 1 });
    runs[0]!.finish();
    await flush();
    runs[1]!.finish();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    expect(queue.stats()).toEqual({ queued: 0, running: 0, parked: 0, waiting: 0 });
  });

  it('never runs one key twice at once, and runs it again when it was added while running', async () => {
    const { runs, handler } = controlled();
    const queue = new WorkQueue({ concurrency: 4, handler, timers: new ManualTimers() });
    queue.add('a');
    queue.add('a');
    queue.add('a');
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'a']);
    runs[1]!.finish();
    await flush();
    expect(runs).toHaveLength(2);
  });

  it('runs at most `concurrency` keys together', async () => {
    const { runs, handler } = controlled();
    const queue = new WorkQueue({ concurrency: 2, handler, timers: new ManualTimers() });
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    expect(queue.stats()).toMatchObject({ running: 2, queued: 3 });
    runs[1]!.finish();
    await flush();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b', 'c']);
  });

  it('retries failures with growing backoff and resets it after a success', async () => {
    const timers = new ManualTimers();
    const { runs, handler } = controlled();
    const errors: string[] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      handler,
      timers,
      backoff: exponentialBackoff({ baseMs: 100, maxMs: 1000, jitter: 0 }),
      onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`),
    });
    queue.add('a');
    runs[0]!.finish({ failed: true });
    await flush();
    expect(timers.pending()).toEqual([100]);
    timers.advance(100);
    runs[1]!.fail(new Error('boom'));
    await flush();
    expect(errors).toEqual(['a: boom']);
    expect(queue.failureCount('a')).toBe(2);
    expect(timers.pending()).toEqual([200]);
    timers.advance(200);
    runs[2]!.finish({ requeueAfterMs: 5000 });
    await flush();
    expect(queue.failureCount('a')).toBe(0);
    expect(timers.pending()).toEqual([5000]);
  });

  it('an add cancels a pending backoff: a fixed Secret retries at once', async () => {
    const timers = new ManualTimers();
    const { runs, handler } = controlled();
    const queue = new WorkQueue({ concurrency: 1, handler, timers });
    queue.add('a');
    runs[0]!.finish({ failed: true });
    await flush();
    expect(timers.pending()).toHaveLength(1);
    queue.add('a');
    expect(runs).toHaveLength(2);
    expect(timers.pending()).toEqual([]);
  });

  it('keeps the earliest of two delayed runs', () => {
    const timers = new ManualTimers();
    const queue = new WorkQueue({ concurrency: 1, handler: async () => ({}), timers });
    queue.addAfter('a', 1000);
    queue.addAfter('a', 5000);
    queue.addAfter('a', 500);
    expect(timers.pending()).toEqual([500]);
  });

  it('forget drops pending work; shutdown waits for running handlers and takes no more', async () => {
    const timers = new ManualTimers();
    const { runs, handler } = controlled();
    const queue = new WorkQueue({ concurrency: 1, handler, timers });
    queue.add('a');
    queue.add('b');
    queue.forget('b');
    queue.addAfter('c', 100);
    let done = false;
    const stopping = queue.shutdown().then(() => (done = true));
    await flush();
    expect(done).toBe(false);
    runs[0]!.finish({ requeueAfterMs: 10 });
    await stopping;
    queue.add('d');
    expect(runs.map((r) => r.key)).toEqual(['a']);
    expect(timers.pending()).toEqual([]);
  });

  describe('parking (a key waiting on a batch gives its slot up)', () => {
    /** A handler that parks on a wait the test settles, then runs on until the test finishes it. */
    function parking() {
      const log: string[] = [];
      const waits = new Map<string, { settle: () => void; fail: (error: Error) => void }>();
      const ends = new Map<string, () => void>();
      const handler = async (key: string, slot: Slot): Promise<Outcome> => {
        log.push(`start ${key}`);
        if (key.startsWith('p')) {
          try {
            await slot.park(
              new Promise<void>((settle, fail) => waits.set(key, { settle: () => settle(), fail })),
            );
            log.push(`resumed ${key}`);
          } catch (error) {
            log.push(`resumed ${key} with ${(error as Error).message}`);
            return { failed: true };
          }
        }
        await new Promise<void>((end) => ends.set(key, end));
        log.push(`end ${key}`);
        return {};
      };
      return { log, waits, ends, handler };
    }

    it('lets other keys run while one is parked, and never more than `concurrency` unparked', async () => {
      const { log, waits, ends, handler } = parking();
      const queue = new WorkQueue({ concurrency: 1, handler, timers: new ManualTimers() });
      queue.add('p1');
      queue.add('a');
      await flush();
      // p1 parked: a has its slot.
      expect(log).toEqual(['start p1', 'start a']);
      expect(queue.stats()).toMatchObject({ running: 2, parked: 1 });
      waits.get('p1')!.settle();
      await flush();
      // p1's wait is over, but a holds the only slot: p1 waits for it.
      expect(log).toEqual(['start p1', 'start a']);
      ends.get('a')!();
      await flush();
      expect(log).toEqual(['start p1', 'start a', 'end a', 'resumed p1']);
      expect(queue.stats()).toMatchObject({ running: 1, parked: 0 });
      ends.get('p1')!();
      await flush();
      expect(queue.stats()).toEqual({ queued: 0, running: 0, parked: 0, waiting: 0 });
    });

    it('gives the next slot to a returning key before a key that has not started', async () => {
      const { log, waits, ends, handler } = parking();
      const queue = new WorkQueue({ concurrency: 1, handler, timers: new ManualTimers() });
      queue.add('p1');
      queue.add('a');
      queue.add('b');
      await flush();
      waits.get('p1')!.settle();
      ends.get('a')!();
      await flush();
      expect(log).toEqual(['start p1', 'start a', 'end a', 'resumed p1']);
      ends.get('p1')!();
      await flush();
      expect(log.at(-1)).toBe('start b');
    });

    it('never starts a parked key again: an add while it is parked runs it once more after', async () => {
      const { log, waits, ends, handler } = parking();
      const queue = new WorkQueue({ concurrency: 2, handler, timers: new ManualTimers() });
      queue.add('p1');
      await flush();
      queue.add('p1');
      await flush();
      expect(log).toEqual(['start p1']);
      waits.get('p1')!.settle();
      await flush();
      ends.get('p1')!();
      await flush();
      expect(log).toEqual(['start p1', 'resumed p1', 'end p1', 'start p1']);
    });

    it('takes a slot back before a failed wait reaches the handler', async () => {
      const { log, waits, ends, handler } = parking();
      const queue = new WorkQueue({ concurrency: 1, handler, timers: new ManualTimers() });
      queue.add('p1');
      queue.add('a');
      await flush();
      waits.get('p1')!.fail(new Error('connection refused'));
      await flush();
      expect(log).toEqual(['start p1', 'start a']);
      ends.get('a')!();
      await flush();
      expect(log).toEqual(['start p1', 'start a', 'end a', 'resumed p1 with connection refused']);
      expect(queue.failureCount('p1')).toBe(1);
    });

    it('lets parked keys finish after shutdown, and shutdown waits for them', async () => {
      const { log, waits, ends, handler } = parking();
      const queue = new WorkQueue({ concurrency: 1, handler, timers: new ManualTimers() });
      queue.add('p1');
      queue.add('b');
      await flush();
      let stopped = false;
      void queue.shutdown().then(() => (stopped = true));
      ends.get('b')!();
      await flush();
      expect(stopped).toBe(false);
      waits.get('p1')!.settle();
      await flush();
      ends.get('p1')!();
      await flush();
      expect(log).toEqual(['start p1', 'start b', 'end b', 'resumed p1', 'end p1']);
      expect(stopped).toBe(true);
    });
  });
});
