// Wiring: informers for every managed kind (kinds.ts: Grant, Role, Database), ProviderConfigs and
// ClusterProviderConfigs, and one watch per Secret an object reads, feed one work queue; the queue
// runs each kind's reconciler with bounded concurrency, backoff and a periodic drift resync; Secret
// and ProviderConfig changes re-reconcile the objects that use them. A second, small queue keeps
// the in-use finalizer on each ProviderConfig while a managed resource needs it.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  CLUSTER_PROVIDER_CONFIG_KIND,
  PLURALS,
  PROVIDER_CONFIG_KIND,
  PROVIDER_GROUP,
  PROVIDER_VERSION,
} from '../api/provider-config.js';
import { alignedDelay, exponentialBackoff, jittered } from './backoff.js';
import {
  ConnectionConfigError,
  connectionSource,
  decodeSecretData,
  type ConnectionSource,
  type ProviderConfigRef,
  type SecretRef,
} from './connection.js';
import type { ProviderMetrics } from './http.js';
import { configKey, configNeededBy, inUseFinalizers, parseConfigKey, IN_USE_FINALIZER } from './usage.js';
import type { PoolRegistry } from './pools.js';
import { WorkQueue } from './queue.js';
import { isConflict, isNotFound, type KubeClient } from './kube/client.js';
import { Informer, type KubeObject } from './kube/informer.js';
import { managedKinds, type ManagedKind } from './kinds.js';
import { needsReconcile, triggerOf, type Trigger } from './managed/triggers.js';
import {
  objectKey,
  type EventRecorder,
  type ManagedObject,
  type ManagedStore,
} from './managed/reconciler.js';
import type { ConfigStore } from './session.js';

export interface ControllerOptions {
  readonly pollMs: number;
  /** --drift-check: how often each database's catalog fingerprint is compared; 0: off. */
  readonly driftCheckMs: number;
  readonly concurrency: number;
  readonly identity: string;
}

const GROUP_PATH = `/apis/${PROVIDER_GROUP}/${PROVIDER_VERSION}`;
const segment = encodeURIComponent;

/** The path of a namespaced object of the group (or its collection across namespaces, without a name). */
function objectPath(plural: string, namespace?: string, name?: string): string {
  if (namespace === undefined) return `${GROUP_PATH}/${plural}`;
  return `${GROUP_PATH}/namespaces/${segment(namespace)}/${plural}${name === undefined ? '' : `/${segment(name)}`}`;
}

type CachedManaged = ManagedObject<unknown> & KubeObject;

/**
 * Reads a managed resource from the informer's cache (as controller-runtime's client does: no GET
 * per reconcile) and writes its finalizers and status, for any kind of the group. What a write
 * returns goes back to the cache, so the next read sees it before the watch does.
 */
function kubeManagedStore<O extends ManagedObject<unknown>>(
  client: KubeClient,
  plural: string,
  cache: () => Informer<CachedManaged>,
): ManagedStore<O> {
  return {
    get: (namespace, name) => Promise.resolve(cache().get(name, namespace) as O | undefined),
    setFinalizers: async (object, finalizers) => {
      const { namespace, name, resourceVersion } = object.metadata;
      // resourceVersion makes it a compare-and-swap: a concurrent edit gives 409 and a retry.
      const body = { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } };
      const updated = await client.mergePatch<O>(objectPath(plural, namespace, name), body);
      cache().wrote(updated);
      return updated;
    },
    patchStatus: async (object, statusPatch) => {
      const { namespace, name } = object.metadata;
      try {
        const updated = await client.mergePatch<O>(`${objectPath(plural, namespace, name)}/status`, {
          status: statusPatch,
        });
        cache().wrote(updated);
        return updated;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        return undefined;
      }
    },
  };
}

/** "Role/team/orders-app": the queue's key for one object of one kind. */
function queueKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${objectKey(namespace, name)}`;
}

function splitQueueKey(key: string): { kind: string; namespace: string; objectKey: string } {
  const slash = key.indexOf('/');
  const rest = key.slice(slash + 1);
  return { kind: key.slice(0, slash), namespace: rest.slice(0, rest.indexOf('/')), objectKey: rest };
}

/**
 * Kubernetes Events about managed resources, through the core v1 API as crossplane-runtime's
 * recorder writes them: Crossplane's RBAC manager grants a provider create on core `events`, not
 * on `events.k8s.io` (which shows the same Events). Failures are logged, never fatal.
 */
function kubeEventRecorder(client: KubeClient, identity: string, log: Logger): EventRecorder {
  return {
    record: (object, type, reason, note) => {
      const { namespace, name, uid, resourceVersion } = object.metadata;
      const now = new Date().toISOString();
      void client
        .create(`/api/v1/namespaces/${segment(namespace)}/events`, {
          // As client-go's recorder names them: <object>.<hex nanoseconds> (a random suffix instead).
          metadata: {
            name: `${name}.${Date.now().toString(16)}${randomBytes(4).toString('hex')}`,
            namespace,
          },
          involvedObject: {
            apiVersion: object.apiVersion,
            kind: object.kind,
            name,
            namespace,
            uid,
            resourceVersion,
          },
          reason,
          message: note.slice(0, 1024),
          type,
          source: { component: `${PROVIDER_GROUP}/provider`, host: identity.slice(0, 128) },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        })
        .catch((error: unknown) =>
          log.warn({ object: `${namespace}/${name}`, reason, err: String(error) }, 'cannot record event'),
        );
    },
  };
}

interface Dependencies {
  providerConfig: ProviderConfigRef;
  secrets: readonly SecretRef[];
}

type Unstructured = KubeObject & {
  metadata?: { generation?: number; finalizers?: string[] };
  spec?: unknown;
};

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

/** Reads and sets the finalizers of ProviderConfigs and ClusterProviderConfigs. */
export interface ConfigFinalizers {
  get(ref: ProviderConfigRef, namespace: string | undefined): Promise<Unstructured | undefined>;
  /** Sets metadata.finalizers, guarded by resourceVersion (409 when the object changed). */
  set(
    ref: ProviderConfigRef,
    namespace: string | undefined,
    finalizers: string[],
    resourceVersion: string | undefined,
  ): Promise<void>;
}

function kubeConfigFinalizers(client: KubeClient): ConfigFinalizers {
  const path = (ref: ProviderConfigRef, namespace: string | undefined) =>
    ref.kind === PROVIDER_CONFIG_KIND
      ? objectPath(PLURALS.ProviderConfig, namespace ?? '', ref.name)
      : `${GROUP_PATH}/${PLURALS.ClusterProviderConfig}/${segment(ref.name)}`;
  return {
    get: async (ref, namespace) => {
      try {
        return await client.get<Unstructured>(path(ref, namespace));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    set: async (ref, namespace, finalizers, resourceVersion) => {
      const body = { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } };
      try {
        await client.mergePatch(path(ref, namespace), body);
      } catch (error) {
        // Gone: nothing to protect any more.
        if (!isNotFound(error)) throw error;
      }
    },
  };
}

export class Controller {
  readonly queue: WorkQueue;
  /** ProviderConfig keys (usage.configKey) whose in-use finalizer may need adding or removing. */
  private readonly configQueue: WorkQueue;
  private readonly kinds: ReadonlyMap<string, ManagedKind>;
  private readonly configFinalizers: ConfigFinalizers;
  /** Per queue key (kind/namespace/name): what the object connects through. */
  private readonly dependencies = new Map<string, Dependencies>();
  private readonly seen = new Map<string, Trigger>();
  /** Per queue key: the config the object needs (usage.configNeededBy), for counting users. */
  private readonly uses = new Map<string, string>();
  /** Per config key: its generation, so a finalizer or status change does not requeue its users. */
  private readonly configGenerations = new Map<string, number | undefined>();
  private readonly informers: { stop(): Promise<void> }[] = [];
  /**
   * One watch per Secret a ProviderConfig or an object references, started when first read: the
   * provider caches those Secrets only, never every Secret of the cluster.
   */
  private readonly secretWatches = new Map<string, { cache: Informer<Secret>; synced: Promise<void> }>();
  private readonly providerConfigs: Informer<Unstructured>;
  private readonly clusterProviderConfigs: Informer<Unstructured>;
  private readonly managedCaches = new Map<string, Informer<CachedManaged>>();
  private stopped = false;
  private synced = false;

  constructor(
    private readonly client: KubeClient,
    private readonly pools: PoolRegistry,
    private readonly metrics: ProviderMetrics,
    private readonly log: Logger,
    private readonly options: ControllerOptions,
  ) {
    this.configFinalizers = kubeConfigFinalizers(client);
    this.providerConfigs = this.informer(objectPath(PLURALS.ProviderConfig), PLURALS.ProviderConfig);
    this.clusterProviderConfigs = this.informer(
      objectPath(PLURALS.ClusterProviderConfig),
      PLURALS.ClusterProviderConfig,
    );
    const configs: ConfigStore = {
      source: async (ref, objectNamespace) => this.source(ref, objectNamespace),
      markInUse: async (ref, objectNamespace) => this.markInUse(ref, objectNamespace),
      readSecret: async (ref) => {
        const secret = await this.watchedSecret(ref);
        return secret
          ? { data: decodeSecretData(secret.data), version: secret.metadata?.resourceVersion ?? '' }
          : undefined;
      },
    };
    const kinds = managedKinds({
      store: (plural) => kubeManagedStore(client, plural, () => this.managedCache(plural)),
      configs,
      databases: pools,
      events: kubeEventRecorder(client, options.identity, log),
      pollMs: options.pollMs,
      driftCheckMs: options.driftCheckMs,
      requeue: (kind, keys, database) => {
        for (const key of keys) this.queue.add(`${kind}/${key}`);
        this.log.info(
          { kind, database, objects: keys.length },
          'catalog changed between polls; reconciling its objects',
        );
      },
      dependencies: (kind, key, deps) => {
        const queued = `${kind}/${key}`;
        if (deps) this.dependencies.set(queued, deps);
        else this.dependencies.delete(queued);
      },
      grantMetrics: {
        statementsApplied: (n) => metrics.statementsApplied.inc(n),
        driftFound: (missing, extra) => {
          if (missing > 0) metrics.driftFound.inc({ kind: 'missing' }, missing);
          if (extra > 0) metrics.driftFound.inc({ kind: 'extra' }, extra);
        },
      },
      concurrentUpdateRetried: (database, attempt, message) =>
        this.log.info(
          { database, attempt, err: message },
          'catalog row updated concurrently; retrying the apply at once',
        ),
    });
    this.kinds = new Map(kinds.map((k) => [k.kind, k]));
    for (const kind of kinds)
      this.managedCaches.set(kind.plural, this.informer(objectPath(kind.plural), kind.plural));
    this.configQueue = this.makeConfigQueue();
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      backoff: exponentialBackoff(),
      handler: async (key, slot) => {
        const { kind, objectKey: object } = splitQueueKey(key);
        const reconciler = this.kinds.get(kind)?.reconciler;
        if (!reconciler) return {};
        const end = metrics.reconcileDuration.startTimer({ resource: kind });
        try {
          const report = await reconciler.reconcile(object, slot);
          end({ result: report.result });
          if (report.failed) metrics.reconcileErrors.inc();
          this.log.debug({ object: key, result: report.result }, 'reconciled');
          if (report.requeueAfterMs === undefined) return report;
          const group = reconciler.pollGroup?.(object);
          // The Grants of one database poll together (one snapshot for all of them), each database
          // at its own phase; without a group, ±10 %: objects created together do not all poll in
          // the same second forever after.
          return {
            ...report,
            requeueAfterMs:
              group !== undefined
                ? alignedDelay(report.requeueAfterMs, group, Date.now())
                : jittered(report.requeueAfterMs, 0.1),
          };
        } catch (error) {
          end({ result: 'error' });
          metrics.reconcileErrors.inc();
          throw error;
        }
      },
      onError: (key, error) =>
        this.log.warn(
          { object: key, err: error instanceof Error ? error.message : String(error) },
          'reconcile failed; retrying with backoff',
        ),
    });
  }

  /** A list-watch cache whose failed watches are logged as they are retried. */
  private informer<T extends KubeObject>(path: string, name: string, fieldSelector?: string): Informer<T> {
    const informer = new Informer<T>(this.client, {
      path,
      fieldSelector,
      onError: (error, retryInMs) =>
        this.log.warn(
          { informer: name, err: error instanceof Error ? error.message : String(error), retryInMs },
          'watch failed; restarting',
        ),
    });
    this.informers.push(informer);
    return informer;
  }

  private managedCache(plural: string): Informer<CachedManaged> {
    const cache = this.managedCaches.get(plural);
    if (!cache) throw new Error(`no cache for ${plural}`);
    return cache;
  }

  /** A queue of its own: a slow database never delays a ProviderConfig's finalizer. */
  private makeConfigQueue(): WorkQueue {
    return new WorkQueue({
      concurrency: 2,
      backoff: exponentialBackoff(),
      handler: async (key) => {
        await this.reconcileConfig(key);
        return {};
      },
      onError: (key, error) =>
        this.log.warn(
          { providerConfig: key, err: error instanceof Error ? error.message : String(error) },
          'cannot update the in-use finalizer; retrying with backoff',
        ),
    });
  }

  /** True once every informer has listed (the caches are complete). */
  get ready(): boolean {
    return this.synced && !this.stopped;
  }

  private async source(ref: ProviderConfigRef, objectNamespace: string): Promise<ConnectionSource> {
    const object =
      ref.kind === PROVIDER_CONFIG_KIND
        ? this.providerConfigs.get(ref.name, objectNamespace)
        : this.clusterProviderConfigs.get(ref.name);
    if (!object) {
      const where = ref.kind === PROVIDER_CONFIG_KIND ? `"${objectNamespace}/${ref.name}"` : `"${ref.name}"`;
      throw new ConnectionConfigError(`${ref.kind} ${where} named by spec.providerConfigRef does not exist`);
    }
    return connectionSource(
      ref.kind,
      object as { metadata?: { name?: string; namespace?: string }; spec?: unknown },
    );
  }

  private cachedConfig(ref: ProviderConfigRef, namespace: string | undefined): Unstructured | undefined {
    return ref.kind === PROVIDER_CONFIG_KIND
      ? this.providerConfigs.get(ref.name, namespace)
      : this.clusterProviderConfigs.get(ref.name);
  }

  /**
   * Called by a Grant's reconcile before it connects: once it returns, the config cannot vanish
   * while that Grant still needs it (the config queue only removes the finalizer when no Grant
   * in the cache needs it, and this Grant is in the cache). A config already being deleted cannot
   * take a new finalizer; it serves the Grants it has until they are gone.
   */
  private async markInUse(ref: ProviderConfigRef, objectNamespace: string): Promise<void> {
    const namespace = ref.kind === PROVIDER_CONFIG_KIND ? objectNamespace : undefined;
    let object = this.cachedConfig(ref, namespace);
    for (let attempt = 0; object && attempt < 3; attempt++) {
      const next = inUseFinalizers(object.metadata ?? {}, 1);
      if (!next) return;
      try {
        await this.configFinalizers.set(ref, namespace, next, object.metadata?.resourceVersion);
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Changed since the cache saw it: read it again and decide again.
        object = await this.configFinalizers.get(ref, namespace);
      }
    }
  }

  /** Adds or removes a config's in-use finalizer to match how many Grants need it. */
  private async reconcileConfig(key: string): Promise<void> {
    const { ref, namespace } = parseConfigKey(key);
    const object = this.cachedConfig(ref, namespace);
    if (!object) return;
    let users = 0;
    for (const needed of this.uses.values()) if (needed === key) users++;
    const next = inUseFinalizers(object.metadata ?? {}, users);
    if (!next) return;
    // A conflict (a Grant's reconcile added the finalizer, an edit) throws: retried with backoff,
    // on the next cache state.
    await this.configFinalizers.set(ref, namespace, next, object.metadata?.resourceVersion);
    this.log.debug(
      { providerConfig: key, users, finalizer: IN_USE_FINALIZER },
      users > 0 ? 'in use' : 'no longer in use',
    );
  }

  /** Records which config an object needs now; the configs whose user count changed are requeued. */
  private trackUse(key: string, needed: string | undefined): void {
    const before = this.uses.get(key);
    if (before === needed) return;
    if (needed === undefined) this.uses.delete(key);
    else this.uses.set(key, needed);
    if (!this.synced) return;
    if (before !== undefined) this.configQueue.add(before);
    if (needed !== undefined) this.configQueue.add(needed);
  }

  /** The Secret from its own watch (a field selector on its name), started and listed on first use. */
  private async watchedSecret(ref: SecretRef): Promise<Secret | undefined> {
    const key = `${ref.namespace}/${ref.name}`;
    let watch = this.secretWatches.get(key);
    if (!watch) {
      const informer = this.informer<Secret>(
        `/api/v1/namespaces/${segment(ref.namespace)}/secrets`,
        `secret ${key}`,
        `metadata.name=${ref.name}`,
      );
      for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (s) => this.onSecret(s));
      const synced = informer.start().catch((error: unknown) => {
        // Not cached: the next read starts a new watch.
        this.secretWatches.delete(key);
        this.informers.splice(this.informers.indexOf(informer), 1);
        throw error;
      });
      watch = { cache: informer, synced };
      this.secretWatches.set(key, watch);
    }
    await watch.synced;
    return watch.cache.get(ref.name, ref.namespace);
  }

  private onSecret(secret: Secret): void {
    const ns = secret.metadata?.namespace;
    const name = secret.metadata?.name;
    this.enqueueWhere(
      (deps) => deps.secrets.some((s) => s.namespace === ns && s.name === name),
      'secret changed',
    );
  }

  async start(): Promise<void> {
    const { providerConfigs, clusterProviderConfigs } = this;
    const managed = [...this.kinds.values()].map((kind) => ({
      kind,
      informer: this.managedCache(kind.plural),
    }));

    const onConfig =
      (
        kind: typeof PROVIDER_CONFIG_KIND | typeof CLUSTER_PROVIDER_CONFIG_KIND,
        verb: 'add' | 'update' | 'delete',
      ) =>
      (object: Unstructured): void => {
        const { name = '', namespace, generation } = object.metadata ?? {};
        const key = configKey({ kind, name }, namespace);
        if (verb === 'delete') {
          this.configGenerations.delete(key);
        } else {
          if (this.synced) this.configQueue.add(key);
          // Our own finalizer writes change no generation: they need no reconciles of their users.
          if (verb === 'update' && this.configGenerations.get(key) === generation) return;
          this.configGenerations.set(key, generation);
        }
        this.enqueueWhere(
          (deps, key) =>
            deps.providerConfig.kind === kind &&
            deps.providerConfig.name === name &&
            (kind !== PROVIDER_CONFIG_KIND || splitQueueKey(key).namespace === namespace),
          'provider config changed',
        );
      };
    for (const verb of ['add', 'update', 'delete'] as const) {
      providerConfigs.on(verb, onConfig(PROVIDER_CONFIG_KIND, verb));
      clusterProviderConfigs.on(verb, onConfig(CLUSTER_PROVIDER_CONFIG_KIND, verb));
    }

    for (const { kind, informer } of managed) {
      informer.on('add', (o) => this.onManaged(kind.kind, o, true, false));
      informer.on('update', (o, { ownWrite }) => this.onManaged(kind.kind, o, false, ownWrite));
      informer.on('delete', (o) => {
        const key = queueKey(kind.kind, o.metadata.namespace, o.metadata.name);
        this.seen.delete(key);
        this.dependencies.delete(key);
        this.queue.forget(key);
        this.trackUse(key, undefined);
      });
    }

    // Caches the reconcilers read from first, then the objects that need them.
    for (const informer of [providerConfigs, clusterProviderConfigs, ...managed.map((m) => m.informer)])
      await informer.start();
    this.synced = true;
    // Only now are the users of every config known: a config checked before its users were
    // listed would look unused and lose its finalizer.
    for (const pc of providerConfigs.list())
      this.configQueue.add(
        configKey({ kind: PROVIDER_CONFIG_KIND, name: pc.metadata?.name ?? '' }, pc.metadata?.namespace),
      );
    for (const cpc of clusterProviderConfigs.list())
      this.configQueue.add(
        configKey({ kind: CLUSTER_PROVIDER_CONFIG_KIND, name: cpc.metadata?.name ?? '' }, undefined),
      );
    this.log.info(
      Object.fromEntries(managed.map((m) => [m.kind.plural, m.informer.list().length])),
      'caches synced; reconciling',
    );
  }

  private onManaged(kind: string, object: ManagedObject<unknown>, added: boolean, ownWrite: boolean): void {
    const key = queueKey(kind, object.metadata.namespace, object.metadata.name);
    this.trackUse(key, configNeededBy(object));
    // Neither our status writes nor our finalizer writes come back as reconciles (triggers.ts).
    const previous = added ? undefined : this.seen.get(key);
    const current = triggerOf(object);
    this.seen.set(key, current);
    if (needsReconcile({ previous, current, ownWrite, reconciling: this.queue.isRunning(key) }))
      this.queue.add(key);
  }

  private enqueueWhere(match: (deps: Dependencies, key: string) => boolean, why: string): void {
    for (const [key, deps] of this.dependencies) {
      if (match(deps, key)) {
        this.log.debug({ object: key, why }, 'requeue');
        this.queue.add(key);
      }
    }
  }

  /** Stops watching, lets running reconciles finish, closes the pools. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((i) => i.stop().catch(() => undefined)));
    for (const kind of this.kinds.values()) kind.reconciler.close?.();
    await Promise.all([this.queue.shutdown(), this.configQueue.shutdown()]);
    await this.pools.closeAll();
  }
}
