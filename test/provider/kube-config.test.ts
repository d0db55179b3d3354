// How the provider finds the API server and authenticates to it (src/provider/kube/config.ts):
// kubeconfig fields as client-go reads them, the refused features named with the file and the
// user or cluster, the --kubeconfig / $KUBECONFIG / in-cluster / ~/.kube/config precedence, and
// token files re-read once a minute. Only temp files; no network.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeConfigError, loadKubeConnection, type LoadOptions } from '../../src/provider/kube/config.js';
import { microTime } from '../../src/provider/leader.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgplane-kube-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface KubeconfigParts {
  readonly cluster?: Record<string, unknown>;
  readonly user?: Record<string, unknown>;
  readonly clusterName?: string;
  readonly userName?: string;
  readonly currentContext?: string | undefined;
}

/** Writes a one-context kubeconfig at dir/<relative> and returns its path. */
function writeKubeconfig(relative: string, parts: KubeconfigParts = {}): string {
  const clusterName = parts.clusterName ?? 'test-cluster';
  const userName = parts.userName ?? 'test-user';
  const doc: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: 'https://kube.example:6443', ...parts.cluster } }],
    users: [{ name: userName, user: parts.user ?? { token: 'inline-token' } }],
    contexts: [{ name: 'test-context', context: { cluster: clusterName, user: userName } }],
  };
  if (!('currentContext' in parts)) doc['current-context'] = 'test-context';
  else if (parts.currentContext !== undefined) doc['current-context'] = parts.currentContext;
  const path = join(dir, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, stringify(doc));
  return path;
}

function writeFile(relative: string, content: string): string {
  const path = join(dir, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** A service-account folder as the kubelet mounts it. */
function serviceAccount(token = 'sa-token\n'): string {
  writeFile('sa/token', token);
  writeFile('sa/ca.crt', CA);
  return join(dir, 'sa');
}

function loadError(options: LoadOptions): KubeConfigError {
  try {
    loadKubeConnection(options);
  } catch (error) {
    expect(error).toBeInstanceOf(KubeConfigError);
    return error as KubeConfigError;
  }
  throw new Error('loadKubeConnection succeeded');
}

describe('loadKubeConnection from a kubeconfig', () => {
  it('uses the current context: server, inline token as Bearer, verified TLS', () => {
    const path = writeKubeconfig('kubeconfig');
    const connection = loadKubeConnection({ path, env: {} });
    expect(connection.server.href).toBe('https://kube.example:6443/');
    expect(connection.source).toBe(path);
    expect(connection.authorization()).toBe('Bearer inline-token');
    expect(connection.tls()).toMatchObject({ rejectUnauthorized: true });
    expect(connection.tls().ca).toBeUndefined();
  });

  it('reads tokenFile relative to the kubeconfig folder, not the working directory', () => {
    writeFile('conf/tokens/t', 'relative-token\n');
    const path = writeKubeconfig('conf/kubeconfig', { user: { tokenFile: 'tokens/t' } });
    expect(process.cwd()).not.toBe(join(dir, 'conf'));
    expect(loadKubeConnection({ path, env: {} }).authorization()).toBe('Bearer relative-token');
  });

  it('reads an absolute tokenFile as is', () => {
    const tokenPath = writeFile('elsewhere/token', 'absolute-token');
    const path = writeKubeconfig('conf/kubeconfig', { user: { tokenFile: tokenPath } });
    expect(loadKubeConnection({ path, env: {} }).authorization()).toBe('Bearer absolute-token');
  });

  it('with both token and tokenFile, uses the file (it can rotate), as client-go does', () => {
    writeFile('conf/t', 'file-token');
    const path = writeKubeconfig('conf/kubeconfig', { user: { token: 'inline-token', tokenFile: 't' } });
    expect(loadKubeConnection({ path, env: {} }).authorization()).toBe('Bearer file-token');
  });

  it('fails at load, naming the file, when the tokenFile is missing', () => {
    const path = writeKubeconfig('conf/kubeconfig', { user: { tokenFile: 'missing-token' } });
    expect(loadError({ path, env: {} }).message).toContain(join(dir, 'conf', 'missing-token'));
  });

  it('decodes client-certificate-data, client-key-data and certificate-authority-data', () => {
    const path = writeKubeconfig('kubeconfig', {
      cluster: { 'certificate-authority-data': b64(CA) },
      user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) },
    });
    const connection = loadKubeConnection({ path, env: {} });
    expect(connection.tls()).toEqual({
      ca: CA,
      cert: CERT,
      key: KEY,
      servername: undefined,
      rejectUnauthorized: true,
    });
    // A client certificate is the authentication: no Authorization header.
    expect(connection.authorization()).toBeUndefined();
  });

  it('reads client-certificate, client-key and certificate-authority files relative to the kubeconfig', () => {
    writeFile('conf/pki/ca.crt', CA);
    writeFile('conf/pki/client.crt', CERT);
    const keyPath = writeFile('keys/client.key', KEY);
    const path = writeKubeconfig('conf/kubeconfig', {
      cluster: { 'certificate-authority': 'pki/ca.crt' },
      user: { 'client-certificate': 'pki/client.crt', 'client-key': keyPath },
    });
    expect(loadKubeConnection({ path, env: {} }).tls()).toMatchObject({ ca: CA, cert: CERT, key: KEY });
  });

  it('fails at load, naming the file, when a certificate file is missing', () => {
    const path = writeKubeconfig('conf/kubeconfig', {
      user: { 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' },
    });
    expect(loadError({ path, env: {} }).message).toContain(join(dir, 'conf', 'pki', 'client.crt'));
  });

  it('insecure-skip-tls-verify turns certificate verification off', () => {
    const path = writeKubeconfig('kubeconfig', { cluster: { 'insecure-skip-tls-verify': true } });
    expect(loadKubeConnection({ path, env: {} }).tls().rejectUnauthorized).toBe(false);
  });

  it('tls-server-name becomes the TLS servername', () => {
    const path = writeKubeconfig('kubeconfig', { cluster: { 'tls-server-name': 'kubernetes.default' } });
    expect(loadKubeConnection({ path, env: {} }).tls().servername).toBe('kubernetes.default');
  });

  it('username and password become Basic authentication', () => {
    const path = writeKubeconfig('kubeconfig', { user: { username: 'admin', password: 's3cr:et' } });
    const header = loadKubeConnection({ path, env: {} }).authorization();
    expect(header).toBe(`Basic ${b64('admin:s3cr:et')}`);
  });

  it.each(['exec', 'auth-provider'])(
    'refuses a user that authenticates with %s, naming the file and user',
    (key) => {
      const path = writeKubeconfig('kubeconfig', {
        userName: 'cloud-user',
        user: {
          [key]:
            key === 'exec'
              ? { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' }
              : { name: 'gcp' },
        },
      });
      const error = loadError({ path, env: {} });
      expect(error.message).toContain(path);
      expect(error.message).toContain('user "cloud-user"');
      expect(error.message).toContain(key);
    },
  );

  it('refuses a cluster reached through proxy-url, naming the file and cluster', () => {
    const path = writeKubeconfig('kubeconfig', {
      clusterName: 'proxied',
      cluster: { 'proxy-url': 'http://proxy.example:3128' },
    });
    const error = loadError({ path, env: {} });
    expect(error.message).toContain(path);
    expect(error.message).toContain('cluster "proxied"');
    expect(error.message).toContain('proxy-url');
  });

  it('refuses a kubeconfig without current-context, naming the file', () => {
    const path = writeKubeconfig('kubeconfig', { currentContext: undefined });
    const error = loadError({ path, env: {} });
    expect(error.message).toContain(path);
    expect(error.message).toContain('current-context');
  });

  it('refuses a current-context that is not defined, naming it', () => {
    const path = writeKubeconfig('kubeconfig', { currentContext: 'staging' });
    const error = loadError({ path, env: {} });
    expect(error.message).toContain(path);
    expect(error.message).toContain('context "staging"');
  });

  it('refuses a kubeconfig that cannot be read, naming it', () => {
    const path = join(dir, 'does-not-exist');
    expect(loadError({ path, env: {} }).message).toContain(path);
  });
});

describe('loadKubeConnection precedence', () => {
  let savedHome: string | undefined;

  beforeEach(() => {
    savedHome = process.env['HOME'];
    // os.homedir() follows $HOME on POSIX; point ~ at an empty folder unless a test fills it.
    process.env['HOME'] = join(dir, 'home');
  });

  afterEach(() => {
    if (savedHome === undefined) delete process.env['HOME'];
    else process.env['HOME'] = savedHome;
  });

  const inClusterEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  function homeKubeconfig(): string {
    const path = writeKubeconfig('home/.kube/config', { user: { token: 'home-token' } });
    expect(join(homedir(), '.kube', 'config')).toBe(path);
    return path;
  }

  it('--kubeconfig wins over $KUBECONFIG, the service account and ~/.kube/config', () => {
    homeKubeconfig();
    const explicit = writeKubeconfig('explicit', { user: { token: 'explicit-token' } });
    const fromEnv = writeKubeconfig('from-env', { user: { token: 'env-token' } });
    const connection = loadKubeConnection({
      path: explicit,
      env: { ...inClusterEnv, KUBECONFIG: fromEnv },
      serviceAccountDir: serviceAccount(),
    });
    expect(connection.source).toBe(explicit);
    expect(connection.authorization()).toBe('Bearer explicit-token');
  });

  it('$KUBECONFIG wins over the service account; its first non-empty entry is used', () => {
    homeKubeconfig();
    const first = writeKubeconfig('first', { user: { token: 'first-token' } });
    const second = writeKubeconfig('second', { user: { token: 'second-token' } });
    const connection = loadKubeConnection({
      env: { ...inClusterEnv, KUBECONFIG: `:${first}:${second}` },
      serviceAccountDir: serviceAccount(),
    });
    expect(connection.source).toBe(first);
    expect(connection.authorization()).toBe('Bearer first-token');
  });

  it('$KUBECONFIG entries that do not exist are skipped', () => {
    const real = writeKubeconfig('real', { user: { token: 'real-token' } });
    const connection = loadKubeConnection({ env: { KUBECONFIG: `${join(dir, 'missing')}:${real}` } });
    expect(connection.source).toBe(real);
  });

  it('the in-cluster service account wins over ~/.kube/config', () => {
    homeKubeconfig();
    const connection = loadKubeConnection({ env: inClusterEnv, serviceAccountDir: serviceAccount() });
    expect(connection.source).toBe('in-cluster');
    expect(connection.server.href).toBe('https://10.96.0.1/');
    expect(connection.authorization()).toBe('Bearer sa-token');
    expect(connection.tls()).toEqual({ ca: CA, rejectUnauthorized: true });
  });

  it('in a cluster, a service port other than 443 is kept', () => {
    const connection = loadKubeConnection({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '6443' },
      serviceAccountDir: serviceAccount(),
    });
    expect(connection.server.href).toBe('https://10.96.0.1:6443/');
  });

  it('in a cluster, an IPv6 service host is bracketed', () => {
    const connection = loadKubeConnection({
      env: { KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: serviceAccount(),
    });
    expect(connection.server.hostname).toBe('[fd00:10:96::1]');
    expect(connection.server.href).toBe('https://[fd00:10:96::1]/');
  });

  it('in a cluster without a mounted token, fails at load naming the token path', () => {
    const saDir = join(dir, 'empty-sa');
    mkdirSync(saDir);
    const error = loadError({ env: inClusterEnv, serviceAccountDir: saDir });
    expect(error.message).toContain(join(saDir, 'token'));
  });

  it('only KUBERNETES_SERVICE_HOST without a port is not in-cluster: ~/.kube/config is used', () => {
    const home = homeKubeconfig();
    const connection = loadKubeConnection({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      serviceAccountDir: serviceAccount(),
    });
    expect(connection.source).toBe(home);
  });

  it('falls back to ~/.kube/config', () => {
    const home = homeKubeconfig();
    const connection = loadKubeConnection({ env: {}, serviceAccountDir: join(dir, 'no-sa') });
    expect(connection.source).toBe(home);
    expect(connection.authorization()).toBe('Bearer home-token');
  });

  it('without any of them, the error names ~/.kube/config', () => {
    const error = loadError({ env: {}, serviceAccountDir: join(dir, 'no-sa') });
    expect(error.message).toContain(join(dir, 'home', '.kube', 'config'));
  });
});

describe('token and certificate files are re-read once a minute', () => {
  const start = 1_700_000_000_000;

  it('a rotated tokenFile is used after a minute', () => {
    const tokenPath = writeFile('token', 'first');
    const path = writeKubeconfig('kubeconfig', { user: { tokenFile: 'token' } });
    let now = start;
    const connection = loadKubeConnection({ path, env: {}, now: () => now });
    expect(connection.authorization()).toBe('Bearer first');
    writeFileSync(tokenPath, 'second\n');
    now = start + 30_000;
    expect(connection.authorization()).toBe('Bearer first');
    now = start + 60_000;
    expect(connection.authorization()).toBe('Bearer second');
  });

  it('a rotated service-account token is used after a minute', () => {
    const saDir = serviceAccount('first');
    let now = start;
    const connection = loadKubeConnection({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: saDir,
      now: () => now,
    });
    expect(connection.authorization()).toBe('Bearer first');
    writeFileSync(join(saDir, 'token'), 'second');
    now = start + 61_000;
    expect(connection.authorization()).toBe('Bearer second');
  });

  it('a token file that disappears keeps the last token, and a new one is used once it is back', () => {
    const tokenPath = writeFile('token', 'kept');
    const path = writeKubeconfig('kubeconfig', { user: { tokenFile: tokenPath } });
    let now = start;
    const connection = loadKubeConnection({ path, env: {}, now: () => now });
    expect(connection.authorization()).toBe('Bearer kept');
    unlinkSync(tokenPath);
    now = start + 120_000;
    expect(connection.authorization()).toBe('Bearer kept');
    now = start + 240_000;
    expect(connection.authorization()).toBe('Bearer kept');
    writeFileSync(tokenPath, 'replacement');
    now = start + 360_000;
    expect(connection.authorization()).toBe('Bearer replacement');
  });

  it('a rotated client certificate and key are used after a minute', () => {
    const certPath = writeFile('client.crt', CERT);
    const keyPath = writeFile('client.key', KEY);
    const path = writeKubeconfig('kubeconfig', {
      user: { 'client-certificate': 'client.crt', 'client-key': 'client.key' },
    });
    let now = start;
    const connection = loadKubeConnection({ path, env: {}, now: () => now });
    expect(connection.tls()).toMatchObject({ cert: CERT, key: KEY });
    const rotatedCert = CERT.replace('client', 'rotated');
    const rotatedKey = KEY.replace('key', 'rotated');
    writeFileSync(certPath, rotatedCert);
    writeFileSync(keyPath, rotatedKey);
    now = start + 60_000;
    expect(connection.tls()).toMatchObject({ cert: rotatedCert, key: rotatedKey });
  });
});

describe('microTime', () => {
  it('is RFC 3339 with microseconds, as the API server writes a MicroTime', () => {
    expect(microTime(Date.UTC(2026, 11, 2, 14, 0, 0, 123))).toBe('2026-12-02T14:00:00.123000Z');
    expect(microTime(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microTime(Date.UTC(2026, 0, 1, 0, 0, 0, 7))).toMatch(/^2026-01-01T00:00:00\.007000Z$/);
  });
});
