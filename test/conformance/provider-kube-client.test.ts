// The grants provider's own Kubernetes client (src/provider/kube/) against a real etcd +
// kube-apiserver: the harness kubeconfig loads, requests round-trip as JSON, errors carry the API
// server's status and reason without the bearer token, the Informer lists in pages and follows the
// watch, relists after a real 410 Gone (etcd compacted while its watch was down), resumes a failed
// watch where it stopped, and reads the provider's own writes at once; and the leader-election
// Lease round-trips with the MicroTime values the API server accepts.
//
// Secrets have no watch cache here (--watch-cache-sizes=secrets#0), so their watches read etcd and
// a compaction makes an old resourceVersion 410 Gone, as it does after the API server's own
// periodic compaction in a real cluster.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadKubeConnection } from '../../src/provider/kube/config.js';
import {
  isConflict,
  isNotFound,
  KubeApiError,
  KubeClient,
  type RequestOptionsIn,
  type WatchEvent,
} from '../../src/provider/kube/client.js';
import {
  Informer,
  type InformerOptions,
  type InformerVerb,
  type KubeObject,
} from '../../src/provider/kube/informer.js';
import { kubeLeaseClient, LeaderElector, microTime, type Lease } from '../../src/provider/leader.js';
import { eventually } from '../provider/support/e2e.js';
import { installKubeTools, startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver.js';

interface Metadata {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
}

interface ConfigMap extends KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Metadata;
  data?: Record<string, string>;
}

interface Secret extends KubeObject {
  metadata?: Metadata;
  data?: Record<string, string>;
}

interface List<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

type Query = RequestOptionsIn['query'];
type WatchQuery = Query & { timeoutSeconds: number };

/** What Informer uses of a KubeClient: a stand-in can delay or fail the real calls. */
type InformerClient = Pick<KubeClient, 'get' | 'watch'>;

/**
 * The real client, seen through: counts lists, records each watch's resourceVersion, and lets a
 * test hold or fail a watch before it reaches the server (n: the watch's number, from 1).
 */
function passThrough(beforeWatch: (n: number, signal: AbortSignal) => Promise<void>): {
  via: InformerClient;
  seen: { lists: number; readonly watchVersions: (string | undefined)[] };
} {
  const seen = { lists: 0, watchVersions: [] as (string | undefined)[] };
  const via: InformerClient = {
    get: <T>(path: string, query?: Query) => {
      seen.lists++;
      return client.get<T>(path, query);
    },
    watch: async (path: string, query: WatchQuery, onEvent: (e: WatchEvent) => void, signal: AbortSignal) => {
      seen.watchVersions.push(String(query['resourceVersion']));
      await beforeWatch(seen.watchVersions.length, signal);
      if (signal.aborted) return;
      return client.watch(path, query, onEvent, signal);
    },
  };
  return { via, seen };
}

let cluster: KubeApiServer;
let client: KubeClient;
const informers: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  const binDir = await installKubeTools();
  cluster = await startKubeApiServer({ binDir, apiServerArgs: ['--watch-cache-sizes=secrets#0'] });
  client = new KubeClient(loadKubeConnection({ path: cluster.kubeconfigPath }));
}, 45 * 60_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
}, 60_000);

afterEach(async () => {
  // Every informer a test started stops; a watch that did not end would hang the suite here.
  await Promise.all(informers.splice(0).map((i) => settles(i.stop(), 'informer.stop()')));
});

let namespaces = 0;
/** A fresh namespace per test (no controllers run: deleted ones would stay Terminating). */
async function namespace(): Promise<string> {
  const name = `kube-client-${++namespaces}`;
  await client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

const configMaps = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;
const secrets = (ns: string) => `/api/v1/namespaces/${ns}/secrets`;
const rv = (object: KubeObject | undefined) => object?.metadata?.resourceVersion;
const b64 = (text: string) => Buffer.from(text).toString('base64');

function createConfigMap(ns: string, name: string, data: Record<string, string> = {}): Promise<ConfigMap> {
  return client.create<ConfigMap>(configMaps(ns), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns },
    data,
  });
}

function createSecret(ns: string, name: string, value: string): Promise<Secret> {
  return client.create<Secret>(secrets(ns), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    type: 'Opaque',
    data: { value: b64(value) },
  });
}

/** Resolves as the promise does, or fails (instead of hanging the suite) after a generous deadline. */
async function settles<T>(promise: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function rejection(promise: Promise<unknown>): Promise<KubeApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KubeApiError);
  return error as KubeApiError;
}

interface Recorded {
  readonly verb: InformerVerb;
  readonly name: string;
  readonly resourceVersion: string | undefined;
}

function informer<T extends KubeObject>(
  options: InformerOptions,
  via: InformerClient = client,
): { informer: Informer<T>; events: Recorded[] } {
  const created = new Informer<T>(via as KubeClient, options);
  const events: Recorded[] = [];
  for (const verb of ['add', 'update', 'delete'] as const)
    created.on(verb, (object) =>
      events.push({ verb, name: object.metadata?.name ?? '', resourceVersion: rv(object) }),
    );
  informers.push(created);
  return { informer: created, events };
}

const names = (events: Recorded[], verb: InformerVerb) =>
  events
    .filter((e) => e.verb === verb)
    .map((e) => e.name)
    .sort();

/** A promise that resolves when released, or when the signal aborts. */
function gate(): { release: () => void; wait: (signal: AbortSignal) => Promise<void> } {
  let release = (): void => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    release: () => release(),
    wait: (signal) =>
      Promise.race([
        released,
        new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
      ]),
  };
}

describe('KubeClient', () => {
  it('loads the harness kubeconfig: its server, CA and bearer token reach the API server', async () => {
    const connection = loadKubeConnection({ path: cluster.kubeconfigPath });
    expect(connection.server.origin).toBe(cluster.server);
    expect(connection.authorization()).toBe(`Bearer ${cluster.token}`);
    const version = await client.get<{ gitVersion?: string }>('/version');
    expect(version.gitVersion).toBe(cluster.versions.kubernetes);
  });

  it('creates, reads, merge-patches and replaces a ConfigMap as the JSON it is', async () => {
    const ns = await namespace();
    const created = await createConfigMap(ns, 'settings', { a: '1', b: '2' });
    expect(created.metadata?.uid).toBeTruthy();
    expect(rv(created)).toBeTruthy();

    const path = `${configMaps(ns)}/settings`;
    const read = await client.get<ConfigMap>(path);
    expect(read).toMatchObject({ metadata: { name: 'settings', namespace: ns }, data: { a: '1', b: '2' } });

    // A merge patch adds and removes (null) keys and leaves the rest alone.
    const patched = await client.mergePatch<ConfigMap>(path, { data: { b: null, c: '3' } });
    expect(patched.data).toEqual({ a: '1', c: '3' });
    expect(rv(patched)).not.toBe(rv(created));

    // A replace with the current resourceVersion is the whole new object.
    const replaced = await client.replace<ConfigMap>(path, { ...patched, data: { only: 'this' } });
    expect(replaced.data).toEqual({ only: 'this' });
    expect((await client.get<ConfigMap>(path)).data).toEqual({ only: 'this' });
  });

  it('sends query parameters: a label selector lists only the matching objects', async () => {
    const ns = await namespace();
    for (const [name, team] of [
      ['x', 'red'],
      ['y', 'blue'],
      ['z', 'red'],
    ] as const)
      await client.create(configMaps(ns), { metadata: { name, labels: { team } } });
    const list = await client.get<List<ConfigMap>>(configMaps(ns), {
      labelSelector: 'team=red',
      limit: undefined,
    });
    expect(list.items?.map((c) => c.metadata?.name).sort()).toEqual(['x', 'z']);
  });

  it('a missing object is a 404 NotFound naming the path, never the bearer token', async () => {
    const ns = await namespace();
    const path = `${configMaps(ns)}/absent`;
    const error = await rejection(client.get(path));
    expect(error.status).toBe(404);
    expect(error.reason).toBe('NotFound');
    expect(isNotFound(error)).toBe(true);
    expect(isConflict(error)).toBe(false);
    expect(error.message).toContain(`GET ${path}`);
    expect(error.message).toContain('not found');
    expect(error.message).not.toContain(cluster.token);
  });

  it('a replace with a stale resourceVersion is a 409 Conflict naming the path, never the token', async () => {
    const ns = await namespace();
    const stale = await createConfigMap(ns, 'contended', { v: '1' });
    const path = `${configMaps(ns)}/contended`;
    await client.mergePatch(path, { data: { v: '2' } });
    const error = await rejection(client.replace(path, { ...stale, data: { v: 'lost update' } }));
    expect(error.status).toBe(409);
    expect(error.reason).toBe('Conflict');
    expect(isConflict(error)).toBe(true);
    expect(error.message).toContain(`PUT ${path}`);
    expect(error.message).not.toContain(cluster.token);
    expect((await client.get<ConfigMap>(path)).data).toEqual({ v: '2' });
  });

  it('creating an object that exists is a 409 AlreadyExists', async () => {
    const ns = await namespace();
    await createConfigMap(ns, 'twice');
    const error = await rejection(createConfigMap(ns, 'twice'));
    expect(error.status).toBe(409);
    expect(error.reason).toBe('AlreadyExists');
    expect(error.message).toContain(`POST ${configMaps(ns)}`);
  });

  it('a wrong token is a 401 whose message does not repeat the token', async () => {
    const wrongToken = `wrong-${cluster.token}`;
    const text = await readFile(cluster.kubeconfigPath, 'utf8');
    expect(text).toContain(cluster.token);
    const path = join(cluster.workDir, 'wrong-token.kubeconfig');
    await writeFile(path, text.replaceAll(cluster.token, wrongToken), { mode: 0o600 });
    const stranger = new KubeClient(loadKubeConnection({ path }));
    try {
      const error = await rejection(stranger.get('/api/v1/namespaces'));
      expect(error.status).toBe(401);
      expect(error.reason).toBe('Unauthorized');
      expect(error.message).toContain('GET /api/v1/namespaces');
      expect(error.message).not.toContain(wrongToken);
      expect(error.message).not.toContain(cluster.token);
    } finally {
      stranger.close();
    }
  });

  it('a watch streams the events, ends with the server timeout, and ends when aborted', async () => {
    const ns = await namespace();
    const list = await client.get<List<ConfigMap>>(configMaps(ns));
    const events: WatchEvent[] = [];
    const abort = new AbortController();
    const watching = client.watch(
      configMaps(ns),
      { resourceVersion: list.metadata?.resourceVersion, timeoutSeconds: 600 },
      (event) => events.push(event),
      abort.signal,
    );
    await createConfigMap(ns, 'watched');
    await client.mergePatch(`${configMaps(ns)}/watched`, { data: { k: 'v' } });
    await client.request('DELETE', `${configMaps(ns)}/watched`);
    await eventually('the watch to deliver the delete', async () =>
      events.some((e) => e.type === 'DELETED') ? true : undefined,
    );
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    abort.abort();
    await settles(watching, 'an aborted watch');

    // The server closes a watch after timeoutSeconds; the promise resolves, it does not reject.
    await settles(
      client.watch(configMaps(ns), { timeoutSeconds: 1 }, () => {}, new AbortController().signal),
      'a watch the server times out',
    );
  });

  it('speaks HTTP/2 to kube-apiserver: a watch and 40 requests in flight share one connection', async () => {
    const ns = await namespace();
    const connections: string[] = [];
    const h2 = new KubeClient(loadKubeConnection({ path: cluster.kubeconfigPath }), {
      connected: (protocol) => connections.push(protocol),
    });
    const abort = new AbortController();
    try {
      const events: WatchEvent[] = [];
      const watching = h2.watch(configMaps(ns), { timeoutSeconds: 600 }, (e) => events.push(e), abort.signal);
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          h2.create<ConfigMap>(configMaps(ns), { metadata: { name: `cm-${i}` }, data: { i: String(i) } }),
        ),
      );
      expect(created.map((c) => c.data?.['i'])).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
      await eventually('the watch to deliver the 40 creates', async () =>
        events.filter((e) => e.type === 'ADDED').length === 40 ? true : undefined,
      );
      expect(connections).toEqual(['h2']);
      abort.abort();
      await settles(watching, 'an aborted watch');
    } finally {
      abort.abort();
      h2.close();
    }
  });

  it('a watch of a resource the server does not serve rejects with the status', async () => {
    const error = await rejection(
      client.watch(
        '/apis/nothing.example/v1/widgets',
        { timeoutSeconds: 5 },
        () => {},
        new AbortController().signal,
      ),
    );
    expect(error.status).toBe(404);
  });
});

describe('Informer', () => {
  it('lists in pages, adds each object once, then follows creates, updates and deletes', async () => {
    const ns = await namespace();
    for (const n of [1, 2, 3, 4, 5]) await createConfigMap(ns, `cm-${n}`, { n: String(n) });
    const listing = vi.spyOn(client, 'get');
    const { informer: cms, events } = informer<ConfigMap>({ path: configMaps(ns), pageSize: 2 });
    await cms.start();
    const pages = listing.mock.calls.filter(([path]) => path === configMaps(ns)).map(([, query]) => query);
    listing.mockRestore();

    // Five objects in pages of two: three requests, each after the first continuing the last.
    expect(pages).toHaveLength(3);
    expect(pages.map((q) => q?.['limit'])).toEqual([2, 2, 2]);
    expect(pages[0]?.['continue']).toBeUndefined();
    expect(pages[1]?.['continue']).toBeTruthy();
    expect(pages[2]?.['continue']).toBeTruthy();
    expect(names(events, 'add')).toEqual(['cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5']);
    expect(events).toHaveLength(5);
    expect(cms.list()).toHaveLength(5);
    expect(cms.get('cm-3', ns)?.data).toEqual({ n: '3' });

    await createConfigMap(ns, 'cm-6', { n: '6' });
    await eventually('the new ConfigMap in the cache', async () => cms.get('cm-6', ns));
    expect(events.at(-1)).toMatchObject({ verb: 'add', name: 'cm-6' });

    const patched = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/cm-2`, { data: { n: 'two' } });
    await eventually('the update in the cache', async () =>
      cms.get('cm-2', ns)?.data?.['n'] === 'two' ? true : undefined,
    );
    expect(events.at(-1)).toEqual({ verb: 'update', name: 'cm-2', resourceVersion: rv(patched) });

    await client.request('DELETE', `${configMaps(ns)}/cm-4`);
    await eventually('the delete in the cache', async () =>
      cms.get('cm-4', ns) === undefined ? true : undefined,
    );
    expect(events.at(-1)).toMatchObject({ verb: 'delete', name: 'cm-4' });
    expect(
      cms
        .list()
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(['cm-1', 'cm-2', 'cm-3', 'cm-5', 'cm-6']);
  });

  it('with fieldSelector metadata.name=x, caches only x', async () => {
    const ns = await namespace();
    await createConfigMap(ns, 'x', { v: '1' });
    await createConfigMap(ns, 'other', { v: '1' });
    const { informer: only, events } = informer<ConfigMap>({
      path: configMaps(ns),
      fieldSelector: 'metadata.name=x',
    });
    await only.start();
    expect(only.list().map((c) => c.metadata?.name)).toEqual(['x']);

    await createConfigMap(ns, 'y');
    await client.mergePatch(`${configMaps(ns)}/other`, { data: { v: '2' } });
    await client.mergePatch(`${configMaps(ns)}/x`, { data: { v: '2' } });
    // Events arrive in order: once x's update is here, anything about y or other would be too.
    await eventually('the update of x', async () =>
      only.get('x', ns)?.data?.['v'] === '2' ? true : undefined,
    );
    expect(only.get('y', ns)).toBeUndefined();
    expect(only.get('other', ns)).toBeUndefined();
    expect(events.map((e) => `${e.verb} ${e.name}`)).toEqual(['add x', 'update x']);
  });

  it('wrote(): a patch is read back at once, then the watch delivers the same version', async () => {
    const ns = await namespace();
    await createConfigMap(ns, 'status', { phase: 'Pending' });
    const { informer: cms } = informer<ConfigMap>({ path: configMaps(ns) });
    await cms.start();

    const patched = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/status`, {
      data: { phase: 'Ready' },
    });
    // The API server tracks who wrote what in managedFields; the cache drops it (nothing reads it).
    expect(patched.metadata).toHaveProperty('managedFields');
    // What the cache holds, whether wrote() or the watch (it may have come first) put it there.
    const { managedFields: _dropped, ...metadata } = patched.metadata as Record<string, unknown>;
    const expected = { ...patched, metadata };
    cms.wrote(patched);
    expect(cms.get('status', ns)).toEqual(expected);
    expect(cms.get('status', ns)?.metadata).not.toHaveProperty('managedFields');

    await eventually('the watch to deliver the patch', async () =>
      rv(cms.list().find((c) => c.metadata?.name === 'status')) === rv(patched) ? true : undefined,
    );
    expect(rv(cms.get('status', ns))).toBe(rv(patched));
    expect(cms.get('status', ns)?.data).toEqual({ phase: 'Ready' });
    expect(cms.list().every((c) => c.metadata && !('managedFields' in c.metadata))).toBe(true);

    // Later writes by anyone else are seen: the overlay ended with the delivery.
    const later = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/status`, {
      data: { phase: 'Edited' },
    });
    await eventually('a later edit', async () =>
      rv(cms.get('status', ns)) === rv(later) ? true : undefined,
    );
  });

  it('wrote() of a version the watch has already passed does not hide the newer object', async () => {
    const ns = await namespace();
    await createConfigMap(ns, 'raced', { by: 'nobody' });
    const { informer: cms } = informer<ConfigMap>({ path: configMaps(ns) });
    await cms.start();

    // The provider's patch returns; before its continuation runs, the watch delivers that
    // version and a user's edit right after it.
    const ours = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/raced`, { data: { by: 'provider' } });
    const theirs = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/raced`, { data: { by: 'user' } });
    await eventually('the watch to deliver both writes', async () =>
      rv(cms.get('raced', ns)) === rv(theirs) ? true : undefined,
    );
    cms.wrote(ours);
    expect(rv(cms.get('raced', ns))).toBe(rv(theirs));
    expect(cms.get('raced', ns)?.data).toEqual({ by: 'user' });

    // Nor does it hide what comes after.
    const next = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/raced`, {
      data: { by: 'user again' },
    });
    await eventually('the next edit', async () => (rv(cms.get('raced', ns)) === rv(next) ? true : undefined));
  });

  /** A ConfigMap and an informer whose watch waits for held.release(), with the updates it emits. */
  async function heldWatch(name: string) {
    const ns = await namespace();
    await createConfigMap(ns, name, { phase: 'Pending' });
    const held = gate();
    const { via } = passThrough((_n, signal) => held.wait(signal));
    const { informer: cms } = informer<ConfigMap>({ path: configMaps(ns) }, via);
    const updates: { phase: string | undefined; ownWrite: boolean }[] = [];
    cms.on('update', (object, { ownWrite }) => updates.push({ phase: object.data?.['phase'], ownWrite }));
    await cms.start();
    return { ns, cms, updates, held };
  }

  it('the watch echo of a version the provider wrote is marked ownWrite; anyone else’s edit is not', async () => {
    // The watch is held until the provider's write is recorded, so the echo cannot outrun it.
    const { ns, cms, updates, held } = await heldWatch('echo');

    cms.wrote(await client.mergePatch<ConfigMap>(`${configMaps(ns)}/echo`, { data: { phase: 'Ours' } }));
    held.release();
    await eventually('the echo', async () => (updates.length === 1 ? true : undefined));
    await client.mergePatch<ConfigMap>(`${configMaps(ns)}/echo`, { data: { phase: 'Theirs' } });
    await eventually('the later edit', async () => (updates.length === 2 ? true : undefined));
    expect(updates).toEqual([
      { phase: 'Ours', ownWrite: true },
      { phase: 'Theirs', ownWrite: false },
    ]);
  });

  it('echoes of two writes in a row are both ownWrite: the first arrives after the second was recorded', async () => {
    // As a reconcile does: a finalizer PATCH, then a status PATCH, both answered before the
    // watch delivers either (held here until both are recorded).
    const { ns, cms, updates, held } = await heldWatch('twice');

    cms.wrote(await client.mergePatch<ConfigMap>(`${configMaps(ns)}/twice`, { data: { phase: 'First' } }));
    const second = await client.mergePatch<ConfigMap>(`${configMaps(ns)}/twice`, {
      data: { phase: 'Second' },
    });
    cms.wrote(second);
    expect(cms.get('twice', ns)?.data).toEqual({ phase: 'Second' });
    held.release();
    await eventually('both echoes', async () => (updates.length === 2 ? true : undefined));
    expect(cms.get('twice', ns)?.data).toEqual({ phase: 'Second' });
    await client.mergePatch<ConfigMap>(`${configMaps(ns)}/twice`, { data: { phase: 'Theirs' } });
    await eventually('the later edit', async () => (updates.length === 3 ? true : undefined));
    expect(updates).toEqual([
      { phase: 'First', ownWrite: true },
      { phase: 'Second', ownWrite: true },
      { phase: 'Theirs', ownWrite: false },
    ]);
  });

  it('wrote() of an object the cache does not hold is ignored', async () => {
    const ns = await namespace();
    const { informer: cms } = informer<ConfigMap>({
      path: configMaps(ns),
      fieldSelector: 'metadata.name=kept',
    });
    await cms.start();
    const outside = await createConfigMap(ns, 'outside');
    cms.wrote(outside);
    expect(cms.get('outside', ns)).toBeUndefined();
  });

  it('start() rejects when the first list fails', async () => {
    const { informer: none } = informer<KubeObject>({ path: '/apis/nothing.example/v1/widgets' });
    const error = await rejection(none.start());
    expect(error.status).toBe(404);
  });

  it('stop() ends a running watch promptly', async () => {
    const ns = await namespace();
    const { informer: cms } = informer<ConfigMap>({ path: configMaps(ns) });
    await cms.start();
    await createConfigMap(ns, 'seen');
    await eventually('the watch to be running', async () => cms.get('seen', ns));
    // Its watch asked the server for 5-10 minutes; stop() must not wait for that.
    await settles(cms.stop(), 'stop() with an open watch', 30_000);
    expect(cms.list()).toHaveLength(1);
  });

  it('relists after a real 410 Gone and reports the difference as deletes, updates and adds', async () => {
    const ns = await namespace();
    for (const name of ['a', 'b', 'c']) await createSecret(ns, name, 'v1');
    // The first watch waits (its connection down, as it were) while the test changes things.
    const down = gate();
    const errors: unknown[] = [];
    const { via, seen } = passThrough(async (n, signal) => {
      if (n === 1) await down.wait(signal);
    });
    const { watchVersions } = seen;
    const { informer: secretCache, events } = informer<Secret>(
      { path: secrets(ns), onError: (error) => errors.push(error) },
      via,
    );
    await secretCache.start();
    expect(names(events, 'add')).toEqual(['a', 'b', 'c']);
    await eventually('the first watch', async () => (watchVersions.length === 1 ? true : undefined));
    events.length = 0;

    await client.request('DELETE', `${secrets(ns)}/a`);
    const updatedB = await client.mergePatch<Secret>(`${secrets(ns)}/b`, { data: { value: b64('v2') } });
    const createdD = await createSecret(ns, 'd', 'v1');
    // etcd forgets every revision before d's: the informer's version is gone.
    const compaction = await fetch(`${cluster.etcdEndpoint}/v3/kv/compaction`, {
      method: 'POST',
      body: JSON.stringify({ revision: rv(createdD), physical: true }),
    });
    expect(compaction.ok).toBe(true);
    down.release();

    await eventually('the relist', async () => (secretCache.get('d', ns) ? true : undefined));
    expect(names(events, 'delete')).toEqual(['a']);
    expect(events.filter((e) => e.verb === 'update')).toEqual([
      { verb: 'update', name: 'b', resourceVersion: rv(updatedB) },
    ]);
    expect(names(events, 'add')).toEqual(['d']);
    expect(events).toHaveLength(3);
    expect(
      secretCache
        .list()
        .map((s) => s.metadata?.name)
        .sort(),
    ).toEqual(['b', 'c', 'd']);
    // A 410 is not a failure to report: the informer relists and watches on.
    expect(errors).toEqual([]);

    await eventually('a watch from the relisted version', async () =>
      watchVersions.length >= 2 ? true : undefined,
    );
    expect(watchVersions[1]).not.toBe(watchVersions[0]);
    expect(seen.lists).toBe(2);
    await createSecret(ns, 'e', 'v1');
    await eventually('a create after the relist', async () => secretCache.get('e', ns));
    expect(events.at(-1)).toMatchObject({ verb: 'add', name: 'e' });
  });

  it('a failed watch is reported and retried from where it stopped, without a relist', async () => {
    const ns = await namespace();
    await createConfigMap(ns, 'before', { v: '1' });
    const outage = gate();
    const reported: { error: unknown; retryInMs: number }[] = [];
    const { via, seen } = passThrough(async (n, signal) => {
      if (n === 1) throw new Error('socket hang up (injected)');
      await outage.wait(signal);
    });
    const { watchVersions } = seen;
    const { informer: cms, events } = informer<ConfigMap>(
      { path: configMaps(ns), onError: (error, retryInMs) => reported.push({ error, retryInMs }) },
      via,
    );
    await cms.start();
    await eventually('the retried watch', async () => (watchVersions.length === 2 ? true : undefined));
    expect(reported).toHaveLength(1);
    expect((reported[0]?.error as Error).message).toContain('injected');
    expect(reported[0]?.retryInMs).toBeGreaterThan(0);

    // Changes made while the watch was down arrive once it is back, from the same version.
    await client.mergePatch(`${configMaps(ns)}/before`, { data: { v: '2' } });
    await createConfigMap(ns, 'during');
    outage.release();
    await eventually('the changes made during the outage', async () =>
      cms.get('during', ns) ? true : undefined,
    );
    expect(cms.get('before', ns)?.data).toEqual({ v: '2' });
    expect(watchVersions[1]).toBe(watchVersions[0]);
    expect(seen.lists).toBe(1);
    expect(events.map((e) => `${e.verb} ${e.name}`)).toEqual(['add before', 'update before', 'add during']);
  });
});

describe('Informer relist after a watch that fails with HTTP 410 (a stand-in client)', () => {
  it('lists again and emits the difference', async () => {
    const object = (name: string, resourceVersion: string): ConfigMap => ({
      metadata: { name, namespace: 'ns', resourceVersion },
    });
    const lists: List<ConfigMap>[] = [
      {
        metadata: { resourceVersion: '10' },
        items: [object('kept', '3'), object('changed', '4'), object('gone', '5')],
      },
      {
        metadata: { resourceVersion: '20' },
        items: [object('kept', '3'), object('changed', '15'), object('new', '18')],
      },
    ];
    const watched: string[] = [];
    const via: InformerClient = {
      get: async <T>() => {
        const next = lists.shift();
        if (!next) throw new Error('no more lists');
        return next as T;
      },
      watch: async (
        _path: string,
        query: WatchQuery,
        _onEvent: (e: WatchEvent) => void,
        signal: AbortSignal,
      ) => {
        watched.push(String(query['resourceVersion']));
        if (watched.length === 1)
          throw new KubeApiError(
            'GET /api/v1/configmaps: too old resource version (410 Expired)',
            410,
            'Expired',
          );
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      },
    };
    const { informer: cms, events } = informer<ConfigMap>({ path: '/api/v1/configmaps' }, via);
    await cms.start();
    await eventually('the watch after the relist', async () => (watched.length === 2 ? true : undefined));
    expect(watched).toEqual(['10', '20']);
    expect(events.slice(3)).toEqual([
      { verb: 'update', name: 'changed', resourceVersion: '15' },
      { verb: 'add', name: 'new', resourceVersion: '18' },
      { verb: 'delete', name: 'gone', resourceVersion: '5' },
    ]);
    expect(
      cms
        .list()
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(['changed', 'kept', 'new']);
  });
});

describe('kubeLeaseClient', () => {
  it('reads nothing, creates, reads and replaces a Lease with MicroTime stamps', async () => {
    const ns = await namespace();
    const leases = kubeLeaseClient(client, ns, 'pgplane-provider');
    expect(await leases.read()).toBeUndefined();

    const acquired = microTime(Date.UTC(2026, 11, 2, 14, 0, 0, 123));
    const created = await leases.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'pgplane-provider', namespace: ns },
      spec: {
        holderIdentity: 'replica-a',
        leaseDurationSeconds: 15,
        acquireTime: acquired,
        renewTime: acquired,
        leaseTransitions: 0,
      },
    });
    expect(created.spec).toEqual({
      holderIdentity: 'replica-a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-12-02T14:00:00.123000Z',
      renewTime: '2026-12-02T14:00:00.123000Z',
      leaseTransitions: 0,
    });

    const read = await leases.read();
    expect(read?.spec).toEqual(created.spec);
    expect(rv(read)).toBe(rv(created));

    const renewed = microTime(Date.UTC(2026, 11, 2, 14, 0, 2, 456));
    const replaced = await leases.replace({ ...created, spec: { ...created.spec, renewTime: renewed } });
    expect(replaced.spec?.renewTime).toBe('2026-12-02T14:00:02.456000Z');
    expect(rv(replaced)).not.toBe(rv(created));

    // A replace from a stale read loses: that is how two replicas never both hold the Lease.
    const stale: Lease = { ...created, spec: { ...created.spec, holderIdentity: 'replica-b' } };
    const error = await rejection(leases.replace(stale));
    expect(isConflict(error)).toBe(true);
    expect((await leases.read())?.spec?.holderIdentity).toBe('replica-a');
  });

  it('a LeaderElector acquires, keeps out a second replica, and hands over on release', async () => {
    const ns = await namespace();
    const leases = kubeLeaseClient(client, ns, 'election');
    const a = new LeaderElector({ client: leases, name: 'election', namespace: ns, identity: 'a' });
    const b = new LeaderElector({ client: leases, name: 'election', namespace: ns, identity: 'b' });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect((await leases.read())?.spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });

    await a.release();
    expect((await leases.read())?.spec?.holderIdentity).toBe('');
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const lease = await leases.read();
    expect(lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(lease?.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});
