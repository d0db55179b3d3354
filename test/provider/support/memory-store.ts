// A managed resource store in memory, behaving as the API server does where the reconciler
// depends on it: a finalizer write is a compare-and-swap on the resourceVersion it was read at
// (a stale one is refused, as a 409), every write bumps the version, removing the last finalizer
// of a deleted object removes the object, and a status write of a gone object answers undefined.
import type { ManagedObject, ManagedStore } from '../../../src/provider/managed/reconciler.js';

export interface MemoryStore<O> {
  readonly store: ManagedStore<O>;
  /** The object as stored now (undefined once deleted). */
  readonly stored: () => O | undefined;
  /** Every status merge patch sent, in order. */
  readonly statusWrites: unknown[];
}

/** Applies an RFC 7386 JSON merge patch: null removes a key, objects merge, anything else replaces. */
function mergePatchInto(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : {};
  const entries = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) entries.delete(k);
    else entries.set(k, mergePatchInto(entries.get(k), v));
  }
  return Object.fromEntries(entries);
}

export function memoryStore<O extends ManagedObject<unknown>>(initial: O | undefined): MemoryStore<O> {
  let stored = initial ? structuredClone(initial) : undefined;
  let version = 100;
  const nextVersion = () => String(++version);
  const statusWrites: unknown[] = [];
  const store: ManagedStore<O> = {
    get: async () => (stored ? structuredClone(stored) : undefined),
    setFinalizers: async (object, finalizers) => {
      if (!stored) throw new Error('gone');
      if (object.metadata.resourceVersion !== stored.metadata.resourceVersion)
        throw new Error(`409 Conflict: resourceVersion ${object.metadata.resourceVersion} is stale`);
      stored = { ...stored, metadata: { ...stored.metadata, finalizers, resourceVersion: nextVersion() } };
      if (finalizers.length === 0 && stored.metadata.deletionTimestamp) stored = undefined;
      return structuredClone(stored ?? object);
    },
    patchStatus: async (_object, patch) => {
      statusWrites.push(patch);
      if (!stored) return undefined;
      stored = {
        ...stored,
        metadata: { ...stored.metadata, resourceVersion: nextVersion() },
        status: mergePatchInto(stored.status, patch) as O['status'],
      };
      return structuredClone(stored);
    },
  };
  return { store, stored: () => stored, statusWrites };
}
