// A list-then-watch cache of one kind of object, as client-go's reflector keeps one: list (in
// pages), then watch from the list's resourceVersion with bookmarks; when the server says the
// version is too old (410 Gone), list again and report the difference as adds, updates and deletes.
// A failed watch is retried with backoff from where it stopped; the first list's failure is the
// caller's (start() rejects).
//
// Reads see the provider's own writes at once: `wrote` keeps the object a PATCH returned until the
// watch delivers that version, so a reconcile that follows a status write does not read the state
// from before it (and skip a write it needs, thinking nothing changed).
import { exponentialBackoff } from '../backoff.js';
import { isObject } from '../../shared/json.js';
import { KubeApiError, type KubeClient, type WatchEvent } from './client.js';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | undefined;
}

interface ListResponse<T> {
  readonly metadata?: { resourceVersion?: string; continue?: string };
  readonly items?: T[];
}

export type InformerVerb = 'add' | 'update' | 'delete';

/** What an informer knows of a change beyond the object. */
export interface ChangeInfo {
  /**
   * The watch delivered a version the provider wrote and passed to `wrote` (its latest write or
   * an earlier one: a finalizer PATCH's echo may come after the status PATCH that followed it):
   * the writer already held this state, so it needs no reconcile to learn of it.
   */
  readonly ownWrite: boolean;
}

export interface InformerOptions {
  /** The collection, e.g. /apis/grants.pgplane.io/v1alpha1/grants or /api/v1/namespaces/ns/secrets. */
  readonly path: string;
  readonly fieldSelector?: string | undefined;
  /** Objects per list page. */
  readonly pageSize?: number;
  /** A watch failed and is retried after retryInMs. */
  readonly onError?: (error: unknown, retryInMs: number) => void;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

const versionOf = (object: KubeObject | undefined) => object?.metadata?.resourceVersion;

/**
 * The object as cached: without metadata.managedFields, which nothing here reads and which is
 * often the largest part of an object (an entry per writer), as controller-runtime's caches drop it.
 */
function trimmed<T extends KubeObject>(object: T): T {
  const metadata = object.metadata as (KubeObject['metadata'] & { managedFields?: unknown }) | undefined;
  if (metadata?.managedFields !== undefined) delete metadata.managedFields;
  return object;
}

/**
 * Whether version a is b or later. The API server's versions are etcd revisions (decimal); any
 * other pair is compared for equality only.
 */
function atLeast(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || (/^\d+$/.test(a) && /^\d+$/.test(b) && BigInt(a) > BigInt(b));
}

class Gone extends Error {}

const OWN: ChangeInfo = { ownWrite: true };
const NOT_OWN: ChangeInfo = { ownWrite: false };

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly written = new Map<string, T>();
  /** Per object, the versions the provider wrote that the watch has not delivered yet. */
  private readonly ownVersions = new Map<string, string[]>();
  private readonly listeners: Record<InformerVerb, ((object: T, info: ChangeInfo) => void)[]> = {
    add: [],
    update: [],
    delete: [],
  };
  private readonly abort = new AbortController();
  private readonly backoff = exponentialBackoff({ baseMs: 500, maxMs: 30_000, jitter: 0.2 });
  private resourceVersion = '';
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: InformerOptions,
  ) {}

  on(verb: InformerVerb, listener: (object: T, info: ChangeInfo) => void): void {
    this.listeners[verb].push(listener);
  }

  /** The cached object (or the provider's newer write of it). */
  get(name: string, namespace?: string): T | undefined {
    const key = `${namespace ?? ''}/${name}`;
    return this.written.get(key) ?? this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Records an object the provider just wrote (a PATCH's response), until the watch delivers it. */
  wrote(object: T): void {
    const key = keyOf(object);
    const version = versionOf(object);
    // The watch may have delivered this version, and a newer one, before the caller got here.
    if (!this.cache.has(key) || version === undefined || atLeast(versionOf(this.cache.get(key)), version))
      return;
    this.ownVersions.set(key, [...(this.ownVersions.get(key) ?? []), version]);
    const latest = this.written.get(key);
    if (latest === undefined || !atLeast(versionOf(latest), version)) this.written.set(key, trimmed(object));
  }

  /** Lists (rejects if that fails), then watches in the background until stop(). */
  async start(): Promise<void> {
    await this.relist();
    this.running = this.watchLoop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private emit(verb: InformerVerb, object: T, info: ChangeInfo = NOT_OWN): void {
    for (const listener of this.listeners[verb]) listener(object, info);
  }

  private async relist(): Promise<void> {
    const items: T[] = [];
    let next: string | undefined;
    let version = '';
    do {
      const page = await this.client.get<ListResponse<T>>(this.options.path, {
        limit: this.options.pageSize ?? 500,
        continue: next,
        fieldSelector: this.options.fieldSelector,
      });
      for (const item of page.items ?? []) items.push(trimmed(item));
      next = page.metadata?.continue || undefined;
      version = page.metadata?.resourceVersion ?? '';
    } while (next);
    this.resourceVersion = version;
    this.written.clear();
    this.ownVersions.clear();
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const before = this.cache.get(key);
      this.cache.set(key, item);
      if (!before) this.emit('add', item);
      else if (versionOf(before) !== versionOf(item)) this.emit('update', item);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('delete', object);
    }
  }

  private apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const code = isObject(event.object) ? event.object['code'] : undefined;
      if (code === 410) throw new Gone();
      throw new Error(`watch ${this.options.path}: ${JSON.stringify(event.object).slice(0, 500)}`);
    }
    const object = trimmed(event.object as T);
    const version = versionOf(object);
    if (version) this.resourceVersion = version;
    if (event.type === 'BOOKMARK') return;
    const key = keyOf(object);
    const own = this.ownVersions.get(key) ?? [];
    const ownWrite = version !== undefined && own.includes(version);
    // Delivered, or passed by this version: the watch will not bring those again.
    const undelivered = event.type === 'DELETED' ? [] : own.filter((v) => !atLeast(version, v));
    if (undelivered.length > 0) this.ownVersions.set(key, undelivered);
    else this.ownVersions.delete(key);
    if (atLeast(version, versionOf(this.written.get(key))) || event.type === 'DELETED')
      this.written.delete(key);
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', object);
      return;
    }
    const existed = this.cache.has(key);
    this.cache.set(key, object);
    this.emit(existed ? 'update' : 'add', object, ownWrite ? OWN : NOT_OWN);
  }

  private async watchLoop(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        // As client-go: a random 5-10 minutes, so watches of many replicas do not renew together.
        const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
        await this.client.watch(
          this.options.path,
          {
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds,
            fieldSelector: this.options.fieldSelector,
          },
          (event) => this.apply(event),
          signal,
        );
        failures = 0;
      } catch (watchError) {
        if (signal.aborted) return;
        let error = watchError;
        if (error instanceof Gone || (error instanceof KubeApiError && error.status === 410)) {
          try {
            await this.relist();
            failures = 0;
            continue;
          } catch (listError) {
            error = listError;
          }
        }
        failures++;
        const delay = this.backoff(failures);
        this.options.onError?.(error, delay);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        // After a failure the version may be gone too; a 410 on the next watch relists.
      }
    }
  }
}
