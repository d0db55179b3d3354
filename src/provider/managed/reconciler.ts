// The lifecycle every managed resource of this provider shares, as crossplane-runtime's managed
// reconciler: crossplane.io/paused, the finalizer, management policies, deletion policy, Synced
// and Ready conditions, events and status writes. What a kind does to its external system (a
// Grant's privileges, a Role, a Database) sits behind ExternalClient, so a new kind is a new
// client plus its CRD, not a copy of this loop. Every dependency is an interface: the whole flow
// is tested without Kubernetes.
import {
  available,
  findCondition,
  paused,
  Reason,
  READY,
  setConditions,
  synced,
  syncError,
  unavailable,
  type Condition,
  type ConditionUpdate,
} from './conditions.js';
import { errorMessage } from './messages.js';
import { deepEqual, mergePatch } from './patch.js';
import { managementPolicies, type Policies } from './policies.js';
import type { Outcome, Slot } from '../queue.js';

/** One finalizer for every kind of grants.pgplane.io: the provider's promise to clean up. */
export const FINALIZER = 'grants.pgplane.io/finalizer';
export const PAUSED_ANNOTATION = 'crossplane.io/paused';

interface ManagedStatus<AtProvider> {
  conditions?: Condition[] | undefined;
  observedGeneration?: number | undefined;
  atProvider?: AtProvider | undefined;
}

/** A managed resource as read from the API server; spec is parsed by its ExternalClient. */
export interface ManagedObject<AtProvider> {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
    deletionTimestamp?: string | Date;
  };
  spec?: unknown;
  status?: ManagedStatus<AtProvider> | undefined;
}

export interface ManagedStore<O> {
  get(namespace: string, name: string): Promise<O | undefined>;
  /** Sets metadata.finalizers, guarded by resourceVersion; resolves to the updated object. */
  setFinalizers(object: O, finalizers: string[]): Promise<O>;
  /**
   * Applies a merge patch to the status subresource; resolves to the updated object (undefined if
   * it is gone). Its resourceVersion is the one a finalizer write after it must carry.
   */
  patchStatus(object: O, statusPatch: unknown): Promise<O | undefined>;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Fire and forget: an event that cannot be written never fails a reconcile. */
  record(object: ManagedObject<unknown>, type: EventType, reason: string, note: string): void;
}

/** An event's reason and note. */
export interface Note {
  readonly reason: string;
  readonly note: string;
}

/** A spec the client accepted, with the policies the lifecycle honours; or why it is invalid. */
export type Parsed<Spec> =
  | {
      readonly spec: Spec;
      readonly managementPolicies?: readonly string[] | undefined;
      readonly deletionPolicy?: 'Delete' | 'Orphan' | undefined;
    }
  | { readonly invalid: string };

export interface ExternalRequest<Spec, AtProvider> {
  readonly key: string;
  readonly object: ManagedObject<AtProvider>;
  readonly spec: Spec;
}

export interface SyncRequest<Spec, AtProvider> extends ExternalRequest<Spec, AtProvider> {
  /** False under an Observe-only management policy: look, change nothing. */
  readonly apply: boolean;
  /**
   * Waits on `waiting` with the reconcile's queue slot given up meanwhile (queue.ts Slot.park):
   * for a client whose objects wait to share a batch. Unset (no queue): just wait.
   */
  readonly park?: <T>(waiting: Promise<T>) => Promise<T>;
}

/** What a sync found and did, in the words of the kind. */
export interface Observed<AtProvider> {
  readonly atProvider: AtProvider;
  /** Set when this sync changed the external resource: the Normal event that says how. */
  readonly applied?: Note | undefined;
  /** What the spec asks that cannot be honoured: Synced=False with this message. */
  readonly problem?: string | undefined;
  /** How the external resource still differs from the spec, or undefined when it matches. */
  readonly drift?:
    | {
        /** What differs (Observe-only; the lifecycle adds why nothing was applied). */
        readonly observed: string;
        /** Why it still differs after an apply. */
        readonly afterApply: string;
        /** Differs from what status last reported: worth a Warning event. */
        readonly changed: boolean;
      }
    | undefined;
}

/** The words of a kind for the lifecycle's own conditions and events. */
export interface Wording<Spec> {
  /** Ready=False/Creating until a sync has succeeded once. */
  readonly creating: string;
  /** Ready=False/Deleting while deletion removes the external resource, and for as long as it cannot. */
  deleting(spec: Spec): string;
  /** The Normal "Orphaned" event when deletion leaves the external resource in place. */
  orphaned(spec: Spec): string;
  /** The Warning event when an object whose spec is invalid goes without removing anything. */
  notDeleted(problem: string): Note;
}

/** What one kind does to its external system: crossplane-runtime's ExternalClient, in one call each. */
export interface ExternalClient<Spec, AtProvider> {
  /** Validates the spec; may throw, and the error's message becomes Synced=False. */
  parse(object: ManagedObject<AtProvider>, key: string): Parsed<Spec>;
  /** Observe, then (when request.apply) Create or Update to match the spec, then observe again. */
  sync(request: SyncRequest<Spec, AtProvider>): Promise<Observed<AtProvider>>;
  /** Removes what the spec created; resolves to the Normal event that says what went. */
  delete(request: ExternalRequest<Spec, AtProvider>): Promise<Note>;
  /** The object is gone or released: stop tracking what it depends on. */
  forget(key: string): void;
  readonly wording: Wording<Spec>;
}

export interface ManagedReconcilerOptions<Spec, AtProvider> {
  readonly store: ManagedStore<ManagedObject<AtProvider>>;
  readonly client: ExternalClient<Spec, AtProvider>;
  readonly events: EventRecorder;
  /** How long until a healthy object is checked for drift again. */
  readonly pollMs: number;
  readonly now?: (() => Date) | undefined;
}

export interface ReconcileReport extends Outcome {
  /** What happened, for logs and metrics: applied, observed, in-sync, paused, deleted, orphaned, invalid, error, gone. */
  readonly result: string;
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class ManagedReconciler<Spec, AtProvider> {
  private readonly now: () => Date;

  constructor(private readonly options: ManagedReconcilerOptions<Spec, AtProvider>) {
    this.now = options.now ?? (() => new Date());
  }

  private get client(): ExternalClient<Spec, AtProvider> {
    return this.options.client;
  }

  /** `slot`: the queue slot this reconcile runs in, which sync may give up while it waits on a batch. */
  async reconcile(key: string, slot?: Slot): Promise<ReconcileReport> {
    const { namespace, name } = splitKey(key);
    let object = await this.options.store.get(namespace, name);
    if (!object) {
      this.client.forget(key);
      return { result: 'gone' };
    }

    if (object.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') {
      await this.writeStatus(object, [paused()], object.status?.atProvider);
      return { result: 'paused' };
    }

    let parsed: Parsed<Spec>;
    try {
      parsed = this.client.parse(object, key);
    } catch (error) {
      parsed = { invalid: errorMessage(error) };
    }
    if ('invalid' in parsed) {
      if (object.metadata.deletionTimestamp) {
        const { reason, note } = this.client.wording.notDeleted(parsed.invalid);
        return this.release(object, 'Warning', reason, note);
      }
      await this.writeStatus(
        object,
        [syncError(parsed.invalid), ...this.readyIfUnset(object)],
        object.status?.atProvider,
      );
      // A bad spec does not heal by itself: the edit that fixes it triggers the next reconcile.
      return { result: 'invalid', requeueAfterMs: this.options.pollMs };
    }
    const { spec } = parsed;
    let policies = managementPolicies(parsed.managementPolicies);
    if (object.metadata.deletionTimestamp && parsed.deletionPolicy === 'Orphan')
      policies = { ...policies, delete: false };

    if (object.metadata.deletionTimestamp) {
      if (!object.metadata.finalizers?.includes(FINALIZER)) return { result: 'gone' };
      if (!policies.delete)
        return this.release(object, 'Normal', 'Orphaned', this.client.wording.orphaned(spec));
    } else if (!object.metadata.finalizers?.includes(FINALIZER)) {
      object = await this.options.store.setFinalizers(object, [
        ...(object.metadata.finalizers ?? []),
        FINALIZER,
      ]);
    }

    try {
      return object.metadata.deletionTimestamp
        ? await this.delete(key, object, spec)
        : await this.sync(key, object, spec, policies, slot);
    } catch (error) {
      const message = errorMessage(error);
      const previous = findCondition(object.status?.conditions, 'Synced');
      if (previous?.message !== message)
        this.options.events.record(object, 'Warning', 'CannotReconcile', message);
      const ready = object.metadata.deletionTimestamp ? [this.deleting(spec)] : this.readyIfUnset(object);
      await this.writeStatus(object, [syncError(message), ...ready], object.status?.atProvider);
      return { result: 'error', failed: true };
    }
  }

  /** Observe (and, unless Observe-only, apply), then report. */
  private async sync(
    key: string,
    object: ManagedObject<AtProvider>,
    spec: Spec,
    policies: Policies,
    slot: Slot | undefined,
  ): Promise<ReconcileReport> {
    const observed = await this.client.sync({
      key,
      object,
      spec,
      apply: policies.apply,
      ...(slot ? { park: <T>(waiting: Promise<T>) => slot.park(waiting) } : {}),
    });
    if (observed.applied)
      this.options.events.record(object, 'Normal', observed.applied.reason, observed.applied.note);

    const conditions: ConditionUpdate[] = [observed.problem ? syncError(observed.problem) : synced()];
    if (!observed.drift) {
      conditions.push(available());
    } else if (!policies.apply) {
      const message = `${observed.drift.observed}; not applied because managementPolicies is [${(policiesOf(object) ?? []).join(', ')}]`;
      if (observed.drift.changed) this.options.events.record(object, 'Warning', 'DriftObserved', message);
      conditions.push(unavailable(Reason.Drifted, message));
    } else {
      conditions.push(unavailable(Reason.Unavailable, observed.drift.afterApply));
    }
    await this.writeStatus(object, conditions, observed.atProvider);
    return {
      result: observed.applied ? 'applied' : policies.apply ? 'in-sync' : 'observed',
      ...(observed.problem ? { failed: true } : { requeueAfterMs: this.options.pollMs }),
    };
  }

  private async delete(key: string, read: ManagedObject<AtProvider>, spec: Spec): Promise<ReconcileReport> {
    // Not Ready from the moment deletion starts: what it provides is about to go. The finalizer
    // write after the delete carries the version this status write made: with the version read,
    // the API server refuses it (409) and the finalizer would wait for another reconcile, which
    // may no longer be able to connect (garbage collection removes the Secrets meanwhile).
    const object = await this.writeStatus(read, [this.deleting(spec)], read.status?.atProvider);
    const { reason, note } = await this.client.delete({ key, object, spec });
    return this.release(object, 'Normal', reason, note, 'deleted');
  }

  /** Removes the finalizer: the API server then deletes the object. */
  private async release(
    object: ManagedObject<AtProvider>,
    type: EventType,
    reason: string,
    note: string,
    result = 'orphaned',
  ): Promise<ReconcileReport> {
    const { namespace, name } = object.metadata;
    this.options.events.record(object, type, reason, note);
    if (object.metadata.finalizers?.includes(FINALIZER)) {
      await this.options.store.setFinalizers(
        object,
        object.metadata.finalizers.filter((f) => f !== FINALIZER),
      );
    }
    this.client.forget(objectKey(namespace, name));
    return { result };
  }

  private deleting(spec: Spec): ConditionUpdate {
    return unavailable(Reason.Deleting, this.client.wording.deleting(spec));
  }

  private readyIfUnset(object: ManagedObject<AtProvider>): ConditionUpdate[] {
    return findCondition(object.status?.conditions, READY)
      ? []
      : [unavailable(Reason.Creating, this.client.wording.creating)];
  }

  /** Writes status only when it changed, so a steady state costs no API writes. */
  /** Writes the status if it changed; resolves to the object as it is after the write. */
  private async writeStatus(
    object: ManagedObject<AtProvider>,
    updates: ConditionUpdate[],
    atProvider: AtProvider | undefined,
  ): Promise<ManagedObject<AtProvider>> {
    const generation = object.metadata.generation;
    const before: ManagedStatus<AtProvider> = object.status ?? {};
    const after: ManagedStatus<AtProvider> = {
      ...before,
      conditions: setConditions(before.conditions, updates, this.now(), generation),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      ...(atProvider ? { atProvider } : {}),
    };
    if (deepEqual(before, after)) return object;
    return (await this.options.store.patchStatus(object, mergePatch(before, after))) ?? object;
  }
}

/** spec.managementPolicies as written, for messages (the parsed list may have been defaulted). */
function policiesOf(object: ManagedObject<unknown>): string[] | undefined {
  const list = (object.spec as { managementPolicies?: unknown } | undefined)?.managementPolicies;
  return Array.isArray(list) ? list.map(String) : undefined;
}
