// The managed kinds this provider serves, each a CRD plural plus a reconciler on the shared
// lifecycle (managed/reconciler.ts) with the kind's own ExternalClient. The controller runs them
// all from one queue; a new kind is one entry here, its client and its CRD.
import { DATABASE_KIND } from '../api/database.js';
import { PLURALS } from '../api/provider-config.js';
import { ROLE_KIND } from '../api/role.js';
import type { GrantMetricsObserver } from './grant/client.js';
import { GrantReconciler, type GrantObject } from './grant/reconciler.js';
import {
  ManagedReconciler,
  type EventRecorder,
  type ExternalClient,
  type ManagedObject,
  type ManagedStore,
  type ReconcileReport,
} from './managed/reconciler.js';
import { DatabaseClient } from './database/client.js';
import { RoleClient } from './role/client.js';
import type { Slot } from './queue.js';
import type { ConfigDependencies, ConfigStore, Databases } from './session.js';

interface KindReconciler {
  /** `slot` lets a reconcile give its queue slot up while it waits on a batch. */
  reconcile(key: string, slot?: Slot): Promise<ReconcileReport>;
  /** The group an object polls with (a Grant's database), or undefined to poll on its own. */
  pollGroup?(key: string): string | undefined;
  /** Stops whatever the kind runs besides reconciles (the Grant's drift check). */
  close?(): void;
}

export interface ManagedKind {
  readonly kind: string;
  readonly plural: string;
  readonly reconciler: KindReconciler;
}

export interface KindDeps {
  /** Reads and writes the objects of one plural. */
  readonly store: <O extends ManagedObject<unknown>>(plural: string) => ManagedStore<O>;
  readonly configs: ConfigStore;
  readonly databases: Databases;
  readonly events: EventRecorder;
  readonly pollMs: number;
  /** --drift-check for Grants; 0: off. */
  readonly driftCheckMs: number;
  /** Reconcile these objects of a kind now ("namespace/name" keys). */
  readonly requeue: (kind: string, keys: readonly string[], database: string) => void;
  readonly now?: () => Date;
  /** What an object (by kind and "namespace/name") connects through, so changes to it re-reconcile the object. */
  readonly dependencies: (kind: string, key: string, deps: ConfigDependencies | undefined) => void;
  readonly grantMetrics: GrantMetricsObserver;
  readonly concurrentUpdateRetried: (database: string, attempt: number, message: string) => void;
}

export function managedKinds(deps: KindDeps): ManagedKind[] {
  const grant = new GrantReconciler({
    grants: deps.store<GrantObject>(PLURALS.Grant),
    configs: deps.configs,
    databases: deps.databases,
    events: deps.events,
    pollMs: deps.pollMs,
    driftCheckMs: deps.driftCheckMs,
    requeue: (keys, database) => deps.requeue('Grant', keys, database),
    ...(deps.now ? { now: deps.now } : {}),
    observer: {
      ...deps.grantMetrics,
      dependencies: (key, d) => deps.dependencies('Grant', key, d),
      concurrentUpdateRetried: deps.concurrentUpdateRetried,
    },
  });
  const session = (kind: string) => ({
    configs: deps.configs,
    databases: deps.databases,
    dependencies: (key: string, d: ConfigDependencies | undefined) => deps.dependencies(kind, key, d),
    now: deps.now ?? (() => new Date()),
  });
  return [
    { kind: 'Grant', plural: PLURALS.Grant, reconciler: grant },
    lifecycleKind(ROLE_KIND, PLURALS.Role, deps, new RoleClient(session(ROLE_KIND))),
    lifecycleKind(DATABASE_KIND, PLURALS.Database, deps, new DatabaseClient(session(DATABASE_KIND))),
  ];
}

/** A kind on the shared lifecycle with its ExternalClient: what Role and Database are. */
function lifecycleKind<Spec, AtProvider>(
  kind: string,
  plural: string,
  deps: KindDeps,
  client: ExternalClient<Spec, AtProvider>,
): ManagedKind {
  return {
    kind,
    plural,
    reconciler: new ManagedReconciler<Spec, AtProvider>({
      store: deps.store<ManagedObject<AtProvider>>(plural),
      client,
      events: deps.events,
      pollMs: deps.pollMs,
      now: deps.now,
    }),
  };
}
