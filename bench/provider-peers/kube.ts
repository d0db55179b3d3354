// The bench's own traffic to the API server during a trial, kept as light as the bench can make
// it, because on a 2-core machine it competes with the provider it measures: the Grants are created
// over one HTTP/2 connection (pgplane's KubeClient, as client-go would) and readiness is followed
// with one watch (pgplane's Informer), not a LIST of every Grant four times a second.
// `@kubernetes/client-node` 1.4, which the rest of the bench uses for set-up and clean-up, builds a
// new https.Agent per request (ApiClient's applySecurityAuthentication), so every request it sends
// is a new TLS connection and handshake: 500 of them to create 500 Grants.
import { KubeClient } from '../../src/provider/kube/client.js';
import { loadKubeConnection } from '../../src/provider/kube/config.js';
import { Informer, type KubeObject } from '../../src/provider/kube/informer.js';

export interface Conditioned extends KubeObject {
  metadata: { name: string; namespace: string; finalizers?: string[] };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/** Synced=True and Ready=True, as `kubectl wait` and Crossplane read a managed resource. */
export const isReady = (o: Conditioned): boolean =>
  ['Synced', 'Ready'].every((t) => o.status?.conditions?.some((c) => c.type === t && c.status === 'True'));

export function benchKubeClient(kubeconfigPath: string): KubeClient {
  return new KubeClient(loadKubeConnection({ path: kubeconfigPath }));
}

/** Creates every object in the collection, `inFlight` at a time (batches: the next waits for the last). */
export async function createAll(
  client: KubeClient,
  collection: string,
  bodies: readonly object[],
  inFlight = 50,
): Promise<void> {
  for (let i = 0; i < bodies.length; i += inFlight)
    await Promise.all(bodies.slice(i, i + inFlight).map((body) => client.create(collection, body)));
}

/** Follows a collection's objects by watch and tells when `wanted` of them are Ready at once. */
export class ReadyWatch {
  private readonly informer: Informer<Conditioned>;
  private readonly ready = new Set<string>();
  private allReadyAt: number | undefined;
  private abandoned: Error | undefined;
  private notify: (() => void) | undefined;

  constructor(
    client: KubeClient,
    collection: string,
    private readonly wanted: number,
  ) {
    this.informer = new Informer<Conditioned>(client, { path: collection });
    const seen = (o: Conditioned) => {
      if (isReady(o)) this.ready.add(o.metadata.name);
      else this.ready.delete(o.metadata.name);
      if (this.ready.size >= this.wanted && this.allReadyAt === undefined) {
        this.allReadyAt = Date.now();
        this.notify?.();
      }
    };
    this.informer.on('add', seen);
    this.informer.on('update', seen);
    this.informer.on('delete', (o) => this.ready.delete(o.metadata.name));
  }

  /** Lists, then watches: start it before the first object is created. */
  start(): Promise<void> {
    return this.informer.start();
  }

  /**
   * When the watch first saw `wanted` Ready (epoch ms), or undefined if not by the deadline;
   * rejects once abandon() is called (the provider exited).
   */
  async allReady(deadline: number): Promise<number | undefined> {
    if (this.allReadyAt === undefined && this.abandoned === undefined) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.notify = resolve;
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
    if (this.abandoned) throw this.abandoned;
    return this.allReadyAt;
  }

  /** Stops waiting: allReady() rejects with this reason. */
  abandon(reason: string): void {
    this.abandoned ??= new Error(reason);
    this.notify?.();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
