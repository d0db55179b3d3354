// A real Kubernetes API server for end-to-end tests: etcd + kube-apiserver built from Go
// modules by test/tools/kube/install.sh, started on free loopback ports with throwaway
// certificates, a static admin token and RBAC. No controllers run: namespaces deleted here
// stay Terminating, pods are never scheduled, garbage collection does not happen.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { freePorts } from './ports.js';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';

const execFileAsync = promisify(execFile);

/** test/tools/kube: the Go module that pins the versions, and install.sh that builds them. */
const toolsDir = fileURLToPath(new URL('../tools/kube/', import.meta.url));
const installScript = join(toolsDir, 'install.sh');

interface KubeToolVersions {
  kubernetes: string;
  etcd: string;
}

/** The kube-apiserver and etcd versions pinned in test/tools/kube/go.mod. */
function kubeToolVersions(): KubeToolVersions {
  const goMod = readFileSync(join(toolsDir, 'go.mod'), 'utf8');
  const version = (module: string): string => {
    for (const line of goMod.split('\n')) {
      const [name, v] = line.trim().split(/\s+/);
      if (name === module && v?.startsWith('v')) return v;
    }
    throw new Error(`test/tools/kube/go.mod does not require ${module}`);
  };
  return { kubernetes: version('k8s.io/kubernetes'), etcd: version('go.etcd.io/etcd/server/v3') };
}

/**
 * Where install.sh puts the binaries (keep in step with the script):
 * ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/kube/<k8s>-etcd-<etcd>/bin.
 * PGPLANE_KUBE_BIN_DIR overrides it (binaries installed some other way).
 */
function kubeToolsBinDir(): string {
  const override = process.env['PGPLANE_KUBE_BIN_DIR'];
  if (override) return override;
  const cache = process.env['PGPLANE_TOOLS_CACHE'] || join(homedir(), '.cache', 'pgplane-tools');
  const { kubernetes, etcd } = kubeToolVersions();
  return join(cache, 'kube', `${kubernetes}-etcd-${etcd}`, 'bin');
}

/**
 * Runs install.sh (a no-op when the binaries are cached; a cold build of kube-apiserver takes
 * 5-20 minutes on two cores, so give the calling hook a generous timeout). The build log goes
 * to this process's stderr. Resolves to the bin folder.
 */
export async function installKubeTools(): Promise<string> {
  if (process.env['PGPLANE_KUBE_BIN_DIR']) return kubeToolsBinDir();
  const child = spawn(installScript, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${installScript} failed with exit code ${String(code)}`);
  const binDir = out.trim().split('\n').at(-1) ?? '';
  if (!existsSync(join(binDir, 'kube-apiserver'))) {
    throw new Error(`${installScript} printed ${JSON.stringify(binDir)}, which holds no kube-apiserver`);
  }
  return binDir;
}

export interface StartKubeApiServerOptions {
  /** Folder with `etcd` and `kube-apiserver`; default kubeToolsBinDir(). */
  binDir?: string;
  /** How long to wait for etcd and /readyz together; default 120 s. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--feature-gates=...`, ...), appended after the defaults. */
  apiServerArgs?: string[];
  /** Keep the work folder (certificates, kubeconfig, logs) after stop(); default false. */
  keepWorkDir?: boolean;
}

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  server: string;
  /** A kubeconfig (context `pgplane-test`) for the admin user; valid until stop(). */
  kubeconfigPath: string;
  /** Bearer token of the admin user (group system:masters). */
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  caCert: string;
  caCertPath: string;
  /** Key of that CA; kube-apiserver also accepts client certificates it signs (CN = user, O = groups). */
  caKeyPath: string;
  /** The RSA key that signs service-account tokens (kube-controller-manager needs the same one). */
  serviceAccountKeyPath: string;
  /** etcd client URL (http://127.0.0.1:<port>). */
  etcdEndpoint: string;
  /** Certificates, kubeconfig, etcd data and the two logs (etcd.log, kube-apiserver.log). */
  workDir: string;
  versions: KubeToolVersions;
  /** A fresh KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** Stops kube-apiserver then etcd (SIGTERM, SIGKILL after 10 s) and removes workDir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts etcd and kube-apiserver; retries on a port taken between probing and binding. */
export async function startKubeApiServer(options: StartKubeApiServerOptions = {}): Promise<KubeApiServer> {
  const binDir = options.binDir ?? kubeToolsBinDir();
  for (const name of ['etcd', 'kube-apiserver']) {
    if (!existsSync(join(binDir, name))) {
      throw new Error(
        `${name} not found in ${binDir}. Build it with ${installScript} ` +
          '(cached after the first run; a cold build takes 5-20 minutes), ' +
          'or set PGPLANE_KUBE_BIN_DIR to a folder that holds etcd and kube-apiserver.',
      );
    }
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(binDir, options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortInUseError)) throw error;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function startOnce(binDir: string, options: StartKubeApiServerOptions): Promise<KubeApiServer> {
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  const workDir = await mkdtemp(join(tmpdir(), 'pgplane-kube-'));
  const processes: ManagedProcess[] = [];
  // If the test process exits without stop() (a crash, process.exit), take the servers along.
  const exitHook = (): void => {
    for (const p of processes) p.kill();
    if (!options.keepWorkDir) rmSync(workDir, { recursive: true, force: true });
  };
  process.once('exit', exitHook);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', exitHook);
    // kube-apiserver first: it needs etcd to shut down cleanly.
    for (const p of [...processes].reverse()) await p.stop();
    if (!options.keepWorkDir) await rm(workDir, { recursive: true, force: true });
  };

  try {
    const versions = kubeToolVersions();
    const certs = await writeCertificates(workDir);
    const token = `pgplane-admin-${randomHex(16)}`;
    const tokenFile = join(workDir, 'tokens.csv');
    await writeFile(tokenFile, `${token},pgplane-admin,pgplane-admin,"system:masters"\n`, { mode: 0o600 });

    const [etcdClientPort, etcdPeerPort, apiPort] = await freePorts(3);
    const etcdEndpoint = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeer = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess('etcd', join(binDir, 'etcd'), workDir, [
      '--name=pgplane-test',
      `--data-dir=${join(workDir, 'etcd-data')}`,
      `--listen-client-urls=${etcdEndpoint}`,
      `--advertise-client-urls=${etcdEndpoint}`,
      `--listen-peer-urls=${etcdPeer}`,
      `--initial-advertise-peer-urls=${etcdPeer}`,
      `--initial-cluster=pgplane-test=${etcdPeer}`,
      '--initial-cluster-state=new',
      // Throwaway data: no fsync keeps tests fast on slow disks.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    processes.push(etcd);
    await waitFor('etcd /health', deadline, [etcd], async () => {
      const body = await httpGet(`${etcdEndpoint}/health`);
      return body !== undefined && body.includes('"health":"true"');
    });

    const server = `https://127.0.0.1:${apiPort}`;
    const apiServer = startProcess('kube-apiserver', join(binDir, 'kube-apiserver'), workDir, [
      `--etcd-servers=${etcdEndpoint}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(workDir, 'apiserver-certs')}`,
      `--tls-cert-file=${certs.servingCertPath}`,
      `--tls-private-key-file=${certs.servingKeyPath}`,
      `--client-ca-file=${certs.caCertPath}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${certs.serviceAccountKeyPath}`,
      `--service-account-signing-key-file=${certs.serviceAccountKeyPath}`,
      // No controller-manager runs, so nothing creates the default ServiceAccount pods need.
      '--disable-admission-plugins=ServiceAccount',
      // The lease reconciler would publish 127.0.0.1 as the kubernetes Service's endpoint,
      // which the Endpoints validation rejects (loopback) and logs every 10 s.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      ...(options.apiServerArgs ?? []),
    ]);
    processes.push(apiServer);
    await waitFor('kube-apiserver /readyz', deadline, [etcd, apiServer], async () => {
      const body = await httpGet(`${server}/readyz`, { ca: certs.caCert, token });
      return body === 'ok';
    });

    const kubeconfigPath = join(workDir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml(server, certs.caCert, token), { mode: 0o600 });

    return {
      server,
      kubeconfigPath,
      token,
      caCert: certs.caCert,
      caCertPath: certs.caCertPath,
      caKeyPath: certs.caKeyPath,
      serviceAccountKeyPath: certs.serviceAccountKeyPath,
      etcdEndpoint,
      workDir,
      versions,
      kubeConfig: () => {
        const kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        return kc;
      },
      stop,
    };
  } catch (error) {
    const logs = await Promise.all(processes.map((p) => p.logTail()));
    await stop();
    if (logs.some((log) => /address already in use/i.test(log))) {
      throw new PortInUseError(
        `a port was taken before etcd or kube-apiserver bound it:\n${logs.join('\n')}`,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${logs.join('\n')}`, { cause: error });
  }
}

/** A child process whose output goes to <workDir>/<name>.log (the control-plane suite reuses it). */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
  kill(): void;
  stop(): Promise<void>;
  logTail(): Promise<string>;
}

export function startProcess(
  name: string,
  binary: string,
  workDir: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): ManagedProcess {
  const logPath = join(workDir, `${name}.log`);
  const log: WriteStream = createWriteStream(logPath);
  const child = spawn(binary, args, {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env } : {}),
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      log.write(`\n[harness] ${name} failed to start: ${error.message}\n`);
      exitedFlag = true;
      resolve();
    });
    child.once('close', (code, signal) => {
      log.write(`\n[harness] ${name} exited (code ${String(code)}, signal ${String(signal)})\n`);
      exitedFlag = true;
      resolve();
    });
  });
  const closeLog = (): Promise<void> => new Promise((resolve) => log.end(resolve));
  return {
    name,
    child,
    exited,
    hasExited: () => exitedFlag,
    kill: () => {
      if (!exitedFlag) child.kill('SIGKILL');
    },
    stop: async () => {
      if (!exitedFlag) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await closeLog();
    },
    logTail: async () => {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      const lines = text.trimEnd().split('\n').slice(-40);
      return `--- last lines of ${name} log (${logPath}) ---\n${lines.join('\n')}`;
    },
  };
}

/** Polls `check` every 200 ms until it holds; fails when a watched process exits or the deadline passes. */
export async function waitFor(
  what: string,
  deadline: number,
  watched: ManagedProcess[],
  check: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    const dead = watched.find((p) => p.hasExited());
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** GET a URL; resolves to the body on 200 and undefined on any other status. */
function httpGet(url: string, auth?: { ca: string; token: string }): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', reject);
    };
    const req = auth
      ? httpsRequest(url, { ca: auth.ca, headers: { Authorization: `Bearer ${auth.token}` } }, onResponse)
      : httpRequest(url, onResponse);
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

interface Certificates {
  caCert: string;
  caCertPath: string;
  caKeyPath: string;
  servingCertPath: string;
  servingKeyPath: string;
  serviceAccountKeyPath: string;
}

/** A throwaway CA and a serving certificate for 127.0.0.1/localhost (openssl), and a service-account key. */
async function writeCertificates(workDir: string): Promise<Certificates> {
  const p = (name: string): string => join(workDir, name);
  const openssl = async (args: string[]): Promise<void> => {
    try {
      await execFileAsync('openssl', args, { cwd: workDir });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`openssl ${args[0] ?? ''} failed (is openssl installed?): ${stderr}`, { cause: error });
    }
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ecKey,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '3650',
    '-subj',
    '/CN=pgplane-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await openssl([
    'req',
    '-new',
    ...ecKey,
    '-keyout',
    p('apiserver.key'),
    '-out',
    p('apiserver.csr'),
    '-subj',
    '/CN=kube-apiserver',
  ]);
  await writeFile(
    p('apiserver.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,' +
        'DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
      '',
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    p('apiserver.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    p('apiserver.ext'),
    '-out',
    p('apiserver.crt'),
  ]);

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(p('service-account.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });

  return {
    caCert: await readFile(p('ca.crt'), 'utf8'),
    caCertPath: p('ca.crt'),
    caKeyPath: p('ca.key'),
    servingCertPath: p('apiserver.crt'),
    servingKeyPath: p('apiserver.key'),
    serviceAccountKeyPath: p('service-account.key'),
  };
}

function kubeconfigYaml(server: string, caCert: string, token: string): string {
  const name = 'pgplane-test';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name, cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } },
    ],
    users: [{ name: 'pgplane-admin', user: { token } }],
    contexts: [{ name, context: { cluster: name, user: 'pgplane-admin', namespace: 'default' } }],
    'current-context': name,
  });
}

function randomHex(bytes: number): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// CRDs

export interface ApplyCrdOptions {
  /** How long to wait for Established and for the resource to be served; default 60 s. */
  timeoutMs?: number;
  /** Server-side apply field manager; default `pgplane-tests`. */
  fieldManager?: string;
}

/**
 * Server-side applies every CustomResourceDefinition in a YAML file (other kinds are
 * ignored) and waits until each is Established and its resources answer a list.
 */
export async function applyCrdFile(
  kc: KubeConfig,
  path: string,
  options: ApplyCrdOptions = {},
): Promise<V1CustomResourceDefinition[]> {
  const docs = parseAllDocuments(await readFile(path, 'utf8'));
  const crds: V1CustomResourceDefinition[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (isCrd(value)) crds.push(value);
  }
  if (crds.length === 0) throw new Error(`${path} holds no CustomResourceDefinition`);
  return applyCrds(kc, crds, options);
}

/**
 * Server-side applies CRD objects and waits until each is Established and served.
 *
 * The CRDs go over the wire as the JSON they are: client-node's typed serializer knows the schema
 * keywords only by its own property names (`_default`, `x_kubernetes_preserve_unknown_fields`) and
 * silently drops `default` and every `x-kubernetes-*` keyword of a CRD parsed from YAML.
 */
export async function applyCrds(
  kc: KubeConfig,
  crds: V1CustomResourceDefinition[],
  options: ApplyCrdOptions = {},
): Promise<V1CustomResourceDefinition[]> {
  const fieldManager = options.fieldManager ?? 'pgplane-tests';
  for (const crd of crds) {
    const name = crdName(crd);
    await serverSideApply(
      kc,
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
      { ...crd, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' },
    );
  }
  return Promise.all(crds.map((crd) => waitForCrdEstablished(kc, crdName(crd), options.timeoutMs)));
}

/** PATCH with application/apply-patch+yaml (JSON is YAML), authenticated as the kubeconfig's user. */
async function serverSideApply(kc: KubeConfig, path: string, body: unknown): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const options: RequestOptions = {
    method: 'PATCH',
    hostname: url.hostname,
    port: url.port,
    path: `${url.pathname}${url.search}`,
    headers: { 'Content-Type': 'application/apply-patch+yaml', Accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(options);
  const payload = JSON.stringify(body);
  await new Promise<void>((resolve, reject) => {
    const request = httpsRequest(options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        (response.statusCode ?? 500) < 300
          ? resolve()
          : reject(
              new Error(`server-side apply of ${url.pathname} failed (${response.statusCode}): ${text}`),
            ),
      );
    });
    request.on('error', reject);
    request.end(payload);
  });
}

/**
 * Waits until a CRD has Established=True and NamesAccepted=True, then until every served
 * version answers a list: the handler and its watch cache lag the condition a little, and
 * requests in between fail with 404 or 429 "storage is (re)initializing".
 */
async function waitForCrdEstablished(
  kc: KubeConfig,
  name: string,
  timeoutMs = 60_000,
): Promise<V1CustomResourceDefinition> {
  const deadline = Date.now() + timeoutMs;
  const crdApi = kc.makeApiClient(ApiextensionsV1Api);
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  let last: V1CustomResourceDefinition | undefined;
  for (;;) {
    last = await crdApi.readCustomResourceDefinition({ name });
    const conditions = last.status?.conditions ?? [];
    const isTrue = (type: string): boolean => conditions.some((c) => c.type === type && c.status === 'True');
    if (isTrue('Established') && isTrue('NamesAccepted')) break;
    if (Date.now() > deadline) {
      throw new Error(`CRD ${name} not Established after ${timeoutMs} ms: ${JSON.stringify(conditions)}`);
    }
    await sleep(100);
  }
  const { group, names } = last.spec;
  for (const version of last.spec.versions.filter((v) => v.served)) {
    for (;;) {
      try {
        await customObjects.listClusterCustomObject({ group, version: version.name, plural: names.plural });
        break;
      } catch (error) {
        // 404 until the handler exists, 429 "storage is (re)initializing" until its watch cache is ready.
        const retriable = error instanceof ApiException && [404, 429, 503].includes(error.code);
        if (!retriable || Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  }
  return last;
}

function isCrd(value: unknown): value is V1CustomResourceDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'CustomResourceDefinition' &&
    typeof (value as { apiVersion?: unknown }).apiVersion === 'string' &&
    (value as { apiVersion: string }).apiVersion.startsWith('apiextensions.k8s.io/')
  );
}

function crdName(crd: V1CustomResourceDefinition): string {
  const name = crd.metadata?.name;
  if (!name) throw new Error(`CRD for ${crd.spec.names.plural}.${crd.spec.group} has no metadata.name`);
  return name;
}
