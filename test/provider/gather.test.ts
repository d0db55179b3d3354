// How long a database's first batch waits for the Grants that come due with its first one: while
// Grants keep coming due (anywhere), up to a bound; a lone Grant hardly waits. On a fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GrantParameters } from '../../src/api/grant.js';
import { gatherDelay, GrantBatcher } from '../../src/provider/grant/batcher.js';
import type { Session } from '../../src/provider/session.js';
import { inSyncEngine } from './support/in-sync-engine.js';
import { localConnection } from './support/local-server.js';

describe('gatherDelay', () => {
  it('waits until Grants have stopped coming due for 100 ms', () => {
    expect(gatherDelay({ since: 0, pending: 1, lastSubmitAt: 0, now: 0 })).toBe(100);
    expect(gatherDelay({ since: 0, pending: 5, lastSubmitAt: 350, now: 400 })).toBe(50);
    expect(gatherDelay({ since: 0, pending: 5, lastSubmitAt: 350, now: 450 })).toBe(0);
  });

  it('never past a second after the first, however long they keep coming', () => {
    expect(gatherDelay({ since: 0, pending: 40, lastSubmitAt: 950, now: 960 })).toBe(40);
    expect(gatherDelay({ since: 0, pending: 40, lastSubmitAt: 999, now: 1000 })).toBe(0);
  });

  it('starts at once when the batch is full', () => {
    expect(gatherDelay({ since: 0, pending: 200, lastSubmitAt: 10, now: 10 })).toBe(0);
  });
});

describe('GrantBatcher gathering', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // The engine below never touches the client.
  const session: Session = {
    connection: localConnection('owner'),
    scrub: (text) => text,
    withClient: (_database, fn) =>
      fn({ query: undefined as never, on: () => undefined, off: () => undefined }),
    readSecret: () => Promise.resolve(undefined),
  };

  function batcher() {
    const batches: string[][] = [];
    return { batches, batcher: new GrantBatcher(inSyncEngine(batches), (_item, _scrub, call) => call()) };
  }

  const parameters = (database: string, grantee: string): GrantParameters => ({
    database,
    grantee,
    mode: 'additive',
    tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT'] }],
  });
  const submit = (b: GrantBatcher, database: string, name: string) =>
    b.submit(session, {
      name,
      parameters: parameters(database, name),
      previous: undefined,
      apply: true,
      changed: true,
    });

  it('a trickle of Grants across two databases, 40 ms apart, makes one batch per database', async () => {
    const { batches, batcher: b } = batcher();
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      done.push(submit(b, i % 2 === 0 ? 'orders' : 'billing', `reader-${i}`));
      await vi.advanceTimersByTimeAsync(40);
    }
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(done);
    expect(batches.map((names) => names.length).sort()).toEqual([5, 5]);
  });

  it('a trickle that does not stop is cut into batches a second apart', async () => {
    const { batches, batcher: b } = batcher();
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      done.push(submit(b, 'orders', `reader-${i}`));
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(done);
    // 2.5 s of Grants: batches at about 1 s and 2 s, and the rest once they stop.
    expect(batches.map((names) => names.length)).toEqual([20, 20, 10]);
  });
});
