// Where the API server is and how to authenticate to it, as controller-runtime finds it: the
// --kubeconfig flag, else $KUBECONFIG, else the in-cluster service account, else ~/.kube/config.
//
// The provider talks to the API server with a small client of its own (client.ts) instead of
// @kubernetes/client-node: that library's generated models and its dependencies were five of the
// six and a half megabytes of the provider's bundle and about 55 MiB of its resident memory before
// a single Grant was read (bench/README.md, "Provider peers"). The kubeconfig features it drops are
// refused here by name, never ignored: exec plugins, auth providers and proxies.
//
// Token and certificate files are read again once a minute, as client-go does: a projected
// service-account token is rotated in place by the kubelet.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { getObject, getString, isObject, type JsonObject } from '../../shared/json.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const FILE_REFRESH_MS = 60_000;

/** TLS material for the API server's connection (node:tls option names). */
export interface KubeTls {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly servername?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

export interface KubeConnection {
  /** The API server's base URL, e.g. https://10.96.0.1:443. */
  readonly server: URL;
  /** Where the settings came from, for logs and errors: a kubeconfig path or "in-cluster". */
  readonly source: string;
  /** The TLS material now (files are re-read at most once a minute). */
  tls(): KubeTls;
  /** The Authorization header now, if the user authenticates with one. */
  authorization(): string | undefined;
}

export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

/** A file's content, read again when it is older than a minute. */
class RefreshedFile {
  private value: string | undefined;
  private readAt = -Infinity;

  constructor(
    readonly path: string,
    private readonly now: () => number,
  ) {}

  get(): string {
    if (this.value === undefined || this.now() - this.readAt >= FILE_REFRESH_MS) {
      try {
        this.value = readFileSync(this.path, 'utf8');
        this.readAt = this.now();
      } catch (error) {
        // A rotation in progress: keep what worked until the file is back.
        if (this.value === undefined)
          throw new KubeConfigError(`cannot read ${this.path}: ${(error as Error).message}`);
      }
    }
    return this.value;
  }
}

type Material = { readonly file: RefreshedFile } | { readonly inline: string } | undefined;

function materialValue(m: Material): string | undefined {
  if (!m) return undefined;
  return 'file' in m ? m.file.get() : m.inline;
}

export interface LoadOptions {
  /** --kubeconfig. */
  readonly path?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => number;
  /** The service-account folder (tests point it elsewhere). */
  readonly serviceAccountDir?: string;
}

export function loadKubeConnection(options: LoadOptions = {}): KubeConnection {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  if (options.path) return fromKubeconfig(options.path, now);
  // client-go merges the files of $KUBECONFIG; the provider reads the first that exists.
  const listed = env['KUBECONFIG']?.split(':').filter((p) => p !== '') ?? [];
  const fromEnv = listed.find((p) => existsSync(p)) ?? listed[0];
  if (fromEnv) return fromKubeconfig(fromEnv, now);
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']) return inCluster(env, saDir, now);
  return fromKubeconfig(join(homedir(), '.kube', 'config'), now);
}

function inCluster(env: NodeJS.ProcessEnv, dir: string, now: () => number): KubeConnection {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const token = new RefreshedFile(join(dir, 'token'), now);
  const ca = new RefreshedFile(join(dir, 'ca.crt'), now);
  // Fail at start-up, with the path, when the token or the CA is not mounted.
  token.get();
  ca.get();
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    source: 'in-cluster',
    tls: () => ({ ca: ca.get(), rejectUnauthorized: true }),
    authorization: () => `Bearer ${token.get().trim()}`,
  };
}

function named(list: unknown, name: string, what: string, path: string): JsonObject {
  const entry = Array.isArray(list) ? list.find((e) => isObject(e) && e['name'] === name) : undefined;
  if (!isObject(entry)) throw new KubeConfigError(`${path}: ${what} "${name}" is not defined`);
  return entry;
}

function fromKubeconfig(path: string, now: () => number): KubeConnection {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KubeConfigError(`cannot read the kubeconfig ${path}: ${(error as Error).message}`);
  }
  const contextName = getString(doc, 'current-context');
  if (!contextName) throw new KubeConfigError(`${path}: current-context is not set`);
  const context =
    getObject(named(getObject(doc)?.['contexts'], contextName, 'context', path), 'context') ?? {};
  const clusterName = getString(context, 'cluster') ?? '';
  const userName = getString(context, 'user');
  const cluster =
    getObject(named(getObject(doc)?.['clusters'], clusterName, 'cluster', path), 'cluster') ?? {};
  const user = userName
    ? (getObject(named(getObject(doc)?.['users'], userName, 'user', path), 'user') ?? {})
    : {};

  for (const unsupported of ['exec', 'auth-provider'])
    if (user[unsupported] !== undefined)
      throw new KubeConfigError(
        `${path}: user "${userName}" authenticates with ${unsupported}, which the provider does not support; ` +
          'use a token, tokenFile or client certificate (in a cluster the provider uses its service account)',
      );
  if (cluster['proxy-url'] !== undefined)
    throw new KubeConfigError(
      `${path}: cluster "${clusterName}" sets proxy-url, which the provider does not support`,
    );

  const server = getString(cluster, 'server');
  if (!server) throw new KubeConfigError(`${path}: cluster "${clusterName}" has no server`);
  // Relative file paths are relative to the kubeconfig, as client-go resolves them.
  const resolved = (file: string) => (isAbsolute(file) ? file : join(dirname(path), file));
  const material = (dataKey: string, fileKey: string, owner: JsonObject): Material => {
    const data = getString(owner, dataKey);
    if (data) return { inline: Buffer.from(data, 'base64').toString('utf8') };
    const file = getString(owner, fileKey);
    if (file) return { file: new RefreshedFile(resolved(file), now) };
    return undefined;
  };
  const ca = material('certificate-authority-data', 'certificate-authority', cluster);
  const cert = material('client-certificate-data', 'client-certificate', user);
  const key = material('client-key-data', 'client-key', user);
  const tokenFile = getString(user, 'tokenFile');
  const inlineToken = getString(user, 'token');
  // As client-go: tokenFile, re-read as it rotates, wins over an inline token.
  const token: Material = tokenFile
    ? { file: new RefreshedFile(resolved(tokenFile), now) }
    : inlineToken
      ? { inline: inlineToken }
      : undefined;
  const username = getString(user, 'username');
  const password = getString(user, 'password') ?? '';
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const servername = getString(cluster, 'tls-server-name');

  const connection: KubeConnection = {
    server: new URL(server),
    source: path,
    tls: () => ({
      ca: materialValue(ca),
      cert: materialValue(cert),
      key: materialValue(key),
      servername,
      rejectUnauthorized: !insecure,
    }),
    authorization: () => {
      const t = materialValue(token)?.trim();
      if (t) return `Bearer ${t}`;
      if (username) return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      return undefined;
    },
  };
  // Unreadable files fail at start-up with their path, not at the first request.
  connection.tls();
  connection.authorization();
  return connection;
}
