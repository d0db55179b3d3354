// A Grant's reconciler: the shared managed-resource lifecycle (managed/reconciler.ts) driving the
// Grant's external client (client.ts). This file only wires the two together.
import type { GrantObservation } from '../../api/provider-config.js';
import type { GrantParameters } from '../../api/grant.js';
import { reconcile as engineReconcile } from '../../grants/index.js';
import {
  ManagedReconciler,
  type EventRecorder,
  type ManagedObject,
  type ManagedStore,
  type ReconcileReport,
} from '../managed/reconciler.js';
import type { Slot } from '../queue.js';
import type { ConfigDependencies, ConfigStore, Databases } from '../session.js';
import type { Engine } from './batcher.js';
import { GrantClient, type GrantMetricsObserver } from './client.js';

/** A Grant as read from the API server. */
export type GrantObject = ManagedObject<GrantObservation>;
type GrantStore = ManagedStore<GrantObject>;

interface ReconcileObserver extends GrantMetricsObserver {
  /** The Secrets and ProviderConfig a Grant depends on, so their changes re-reconcile it. */
  dependencies?(key: string, deps: ConfigDependencies | undefined): void;
  /** An apply lost a catalog row race ("tuple concurrently updated") and is retried at once. */
  concurrentUpdateRetried?(database: string, attempt: number, message: string): void;
}

export interface ReconcilerDeps {
  readonly grants: GrantStore;
  readonly configs: ConfigStore;
  readonly databases: Databases;
  readonly events: EventRecorder;
  readonly engine?: Engine;
  readonly now?: () => Date;
  /** How long until a healthy Grant is checked for drift again. */
  readonly pollMs: number;
  /** How often each database's catalog fingerprint is compared between polls; 0 or unset: never. */
  readonly driftCheckMs?: number | undefined;
  /** Reconcile these Grants now (object keys). */
  readonly requeue?: ((keys: readonly string[], database: string) => void) | undefined;
  readonly observer?: ReconcileObserver;
}

export class GrantReconciler {
  private readonly managed: ManagedReconciler<GrantParameters, GrantObservation>;
  private readonly client: GrantClient;

  constructor(deps: ReconcilerDeps) {
    const now = deps.now ?? (() => new Date());
    const observer = deps.observer;
    const client = (this.client = new GrantClient({
      configs: deps.configs,
      databases: deps.databases,
      engine: deps.engine ?? engineReconcile,
      now,
      metrics: observer,
      dependencies: observer?.dependencies ? (key, d) => observer.dependencies?.(key, d) : undefined,
      onRetry: (database, attempt, message) =>
        observer?.concurrentUpdateRetried?.(database, attempt, message),
      driftCheckMs: deps.driftCheckMs,
      requeue: deps.requeue,
    }));
    this.managed = new ManagedReconciler({
      store: deps.grants,
      client,
      events: deps.events,
      pollMs: deps.pollMs,
      now,
    });
  }

  reconcile(key: string, slot?: Slot): Promise<ReconcileReport> {
    return this.managed.reconcile(key, slot);
  }

  /** Stops the drift check (at shutdown). */
  close(): void {
    this.client.close();
  }

  /** The group a Grant polls with (its database), so a no-op poll is one snapshot per database. */
  pollGroup(key: string): string | undefined {
    return this.client.pollGroup(key);
  }
}
