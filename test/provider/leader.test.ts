import { describe, expect, it } from 'vitest';
import { LeaderElector, type Lease, type LeaseClient } from '../../src/provider/leader.js';

/** An in-memory Lease with resourceVersion checks, like the API server's. */
function memoryLease(): LeaseClient & { lease: () => Lease | undefined } {
  let stored: Lease | undefined;
  let version = 0;
  const copy = (l: Lease): Lease => ({ ...l, metadata: { ...l.metadata }, spec: { ...l.spec } });
  return {
    lease: () => stored,
    read: async () => (stored ? copy(stored) : undefined),
    create: async (l) => {
      if (stored) throw new Error('409 exists');
      stored = { ...copy(l), metadata: { ...l.metadata, resourceVersion: String(++version) } };
      return copy(stored);
    },
    replace: async (l) => {
      if (l.metadata?.resourceVersion !== stored?.metadata?.resourceVersion) throw new Error('409 conflict');
      stored = { ...copy(l), metadata: { ...l.metadata, resourceVersion: String(++version) } };
      return copy(stored);
    },
  };
}

describe('LeaderElector', () => {
  it('one holder at a time; a follower takes over only after a full lease duration without renewal', async () => {
    const client = memoryLease();
    let now = 1_000_000;
    const a = new LeaderElector({ client, name: 'l', namespace: 'ns', identity: 'a', now: () => now });
    const b = new LeaderElector({ client, name: 'l', namespace: 'ns', identity: 'b', now: () => now });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    now += 10_000;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    now += 10_000;
    // b last saw a renewal 10 s ago (on its own clock) when it observes the new record now.
    expect(await b.tryAcquireOrRenew()).toBe(false);
    now += 16_000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(client.lease()?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('release hands the Lease over at once', async () => {
    const client = memoryLease();
    let now = 0;
    const a = new LeaderElector({ client, name: 'l', namespace: 'ns', identity: 'a', now: () => now });
    const b = new LeaderElector({ client, name: 'l', namespace: 'ns', identity: 'b', now: () => now });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    await a.release();
    now += 1;
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });
});
