// Lease-based leader election (coordination.k8s.io/v1), as client-go does it: one replica holds
// the Lease and renews it; the others take it over only after it has gone unrenewed for a whole
// lease duration, measured on their own clock (so clock skew between nodes does not matter).
import { isNotFound, type KubeClient } from './kube/client.js';

/** A coordination.k8s.io/v1 Lease, as far as leader election reads and writes it. */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    /** MicroTime: RFC 3339 with microseconds. */
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaseClient {
  read(): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  replace(lease: Lease): Promise<Lease>;
}

/** A Kubernetes MicroTime: 2026-12-02T14:00:00.123000Z. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

const instant = (time: string | undefined) => (time ? new Date(time).toISOString() : '');

export interface ElectorOptions {
  readonly client: LeaseClient;
  readonly name: string;
  readonly namespace: string;
  readonly identity: string;
  /** How long a Lease stays valid without renewal. */
  readonly leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long (less than the lease duration). */
  readonly renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. */
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
  readonly log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

// client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry.
const DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export class LeaderElector {
  private observedRecord = '';
  private observedAt = 0;
  private readonly opts: Required<Omit<ElectorOptions, 'log'>> & Pick<ElectorOptions, 'log'>;

  constructor(options: ElectorOptions) {
    this.opts = { ...DEFAULTS, now: Date.now, ...options };
  }

  /**
   * One attempt: creates the Lease, renews ours, or takes over one that has expired.
   * Resolves to true when we hold the Lease afterwards.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, name, namespace } = this.opts;
    const now = this.opts.now();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    let current: Lease | undefined;
    try {
      current = await client.read();
    } catch {
      return false;
    }
    const stamp = microTime(now);
    if (!current) {
      try {
        await client.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: stamp,
            renewTime: stamp,
            leaseTransitions: 0,
          },
        });
        this.observe(`${identity}|${instant(stamp)}`, now);
        return true;
      } catch {
        return false;
      }
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${instant(spec.renewTime)}`;
    if (record !== this.observedRecord) this.observe(record, now);
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder !== '' && holder !== identity && this.observedAt + leaseMs > now) return false;
    try {
      await client.replace({
        ...current,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: stamp,
          ...(holder === identity
            ? {}
            : { acquireTime: stamp, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
        },
      });
      this.observe(`${identity}|${instant(stamp)}`, now);
      return true;
    } catch {
      // A conflict: someone else renewed or took it between our read and write.
      return false;
    }
  }

  /**
   * Waits for leadership, calls onStarted, renews until the signal aborts or renewing fails for
   * renewDeadline (then onStopped). The caller releases the Lease once its work has stopped.
   */
  async run(signal: AbortSignal, onStarted: () => void, onStopped: () => void): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, identity } = this.opts;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    this.opts.log?.info({ identity, lease: `${this.opts.namespace}/${this.opts.name}` }, 'became leader');
    onStarted();
    let lastRenew = this.opts.now();
    while (!signal.aborted) {
      await sleep(retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.opts.now();
      } else if (this.opts.now() - lastRenew > renewDeadlineMs) {
        this.opts.log?.warn({ identity }, 'lost leadership: could not renew the Lease');
        onStopped();
        return;
      }
    }
  }

  /** Gives the Lease up: a successor takes over at once instead of after a lease duration. */
  async release(): Promise<void> {
    try {
      const current = await this.opts.client.read();
      if (!current || current.spec?.holderIdentity !== this.opts.identity) return;
      await this.opts.client.replace({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.opts.now()),
        },
      });
    } catch {
      // Best effort: the Lease expires by itself.
    }
  }

  private observe(record: string, at: number): void {
    this.observedRecord = record;
    this.observedAt = at;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The LeaseClient over the API server. */
export function kubeLeaseClient(client: KubeClient, namespace: string, name: string): LeaseClient {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  return {
    read: async () => {
      try {
        return await client.get<Lease>(path);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: (lease) => client.create<Lease>(collection, lease),
    replace: (lease) => client.replace<Lease>(path, lease),
  };
}
