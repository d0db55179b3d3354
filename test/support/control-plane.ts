// A real Crossplane control plane for end-to-end tests, with no cluster nodes: etcd +
// kube-apiserver (test/support/kube-apiserver.ts), kube-controller-manager (garbage collection,
// ClusterRole aggregation, namespaces), an in-memory OCI registry over TLS, Crossplane v2 core
// (`core init`, `core start`) and its RBAC manager (`rbac start`) out of cluster, each under its
// own service account bound only to the ClusterRoles Crossplane's Helm chart gives it.
//
// pgplane goes in the way README "Install in a cluster" says: its three packages are built with
// `crossplane xpkg build`, pushed to the registry, an ImageConfig points ghcr.io/pgplane at it,
// and a Configuration is applied; Crossplane's package manager pulls it and installs the function
// and the provider as its dependencies. Crossplane then creates the function's Service, TLS
// Secret and Deployment; with no kubelet, this harness runs the built program
// (`node dist/cli/main.js serve function`) with exactly that Secret, on 127.0.0.1:9443 under the
// Service's DNS name, and the provider (`serve provider`) with the service-account token of the
// Deployment Crossplane made for it, so it has exactly the RBAC manager's grants.
// The stand-in (control-plane-standin.ts) writes what kubelet, CloudNativePG and ESO would.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { getPath, getString, isObject } from '../../src/shared/json.js';
import { readObjects } from '../../src/shared/yaml-files.js';
import { installCrossplane, REPO_ROOT } from './crossplane.js';
import { crossplaneChartRbac } from './control-plane-chart.js';
import { KubeClient, isConditionTrue } from './control-plane-client.js';
import { startStandIn, type StandIn } from './control-plane-standin.js';
import { installControlPlaneTools, type ControlPlaneTools } from './control-plane-tools.js';
import { HostsFile } from './hosts-file.js';
import {
  applyCrdFile,
  installKubeTools,
  startKubeApiServer,
  startProcess,
  waitFor,
  type KubeApiServer,
  type ManagedProcess,
} from './kube-apiserver.js';
import { freePorts } from './ports.js';
import { makeTestPki, type TestPki } from './tls.js';
import { SHARED_CRDS_DIR } from './upstream-crds.js';

const execFileAsync = promisify(execFile);

export const NAMESPACE = 'crossplane-system';
const PACKAGE_VERSION = 'v0.1.0';
/** The repositories README publishes and package/configuration depends on. */
const PACKAGES = {
  function: 'ghcr.io/pgplane/function-pgplane',
  provider: 'ghcr.io/pgplane/provider-pgplane',
  configuration: 'ghcr.io/pgplane/configuration-pgplane',
} as const;
/** Names Crossplane's package manager gives the dependencies (repository path as a DNS label). */
export const FUNCTION_NAME = 'pgplane-function-pgplane';
export const PROVIDER_NAME = 'pgplane-provider-pgplane';
export const FUNCTION_PORT = 9443;

/** The upstream CRDs of every kind pgplane composes (CloudNativePG, Barman Cloud, ESO, Prometheus). */
const COMPOSED_CRDS = [
  'clusters.postgresql.cnpg.io.yaml',
  'poolers.postgresql.cnpg.io.yaml',
  'scheduledbackups.postgresql.cnpg.io.yaml',
  'databases.postgresql.cnpg.io.yaml',
  'databaseroles.postgresql.cnpg.io.yaml',
  'objectstores.barmancloud.cnpg.io.yaml',
  'externalsecrets.external-secrets.io.yaml',
  // Generated credentials: the Password generator, the reader store, the optional push-back.
  'passwords.generators.external-secrets.io.yaml',
  'secretstores.external-secrets.io.yaml',
  'pushsecrets.external-secrets.io.yaml',
  'podmonitors.monitoring.coreos.com.yaml',
  'prometheusrules.monitoring.coreos.com.yaml',
];

type ApiFlavour = 'namespaced' | 'legacy';

export interface ControlPlane {
  kube: KubeApiServer;
  /** As the cluster admin (the test itself, like a person with kubectl). */
  admin: KubeClient;
  registry: string;
  hosts: HostsFile;
  standIn: StandIn;
  tools: ControlPlaneTools;
  /** The function's TLS folder as Crossplane generated it (tls.crt, tls.key, ca.crt). */
  functionCertsDir: string;
  /** Crossplane's client certificate folder (what it presents to functions). */
  clientCertsDir: string;
  /** The last lines of every log, for a failure message. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

async function kubeconfigForToken(
  kube: KubeApiServer,
  dir: string,
  name: string,
  token: string,
): Promise<string> {
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: {
            server: kube.server,
            'certificate-authority-data': Buffer.from(kube.caCert).toString('base64'),
          },
        },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: name } }],
      'current-context': 'test',
    }),
    { mode: 0o600 },
  );
  return path;
}

/** A token for a ServiceAccount from the TokenRequest API: the process runs as that account. */
async function serviceAccountKubeconfig(
  admin: KubeClient,
  kube: KubeApiServer,
  dir: string,
  sa: string,
): Promise<string> {
  const response = await admin.request(
    'POST',
    `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${encodeURIComponent(sa)}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 6 * 3600 } },
  );
  const token = getString(response, 'status', 'token');
  if (!token) throw new Error(`no token for ServiceAccount ${NAMESPACE}/${sa}`);
  return kubeconfigForToken(kube, dir, `sa-${sa}`, token);
}

async function writeSecretFiles(admin: KubeClient, name: string, dir: string): Promise<void> {
  const secret = await admin.get({ apiVersion: 'v1', kind: 'Secret', name, namespace: NAMESPACE });
  const data = secret && isObject(secret['data']) ? secret['data'] : {};
  mkdirSync(dir, { recursive: true });
  for (const key of ['tls.crt', 'tls.key', 'ca.crt']) {
    const value = data[key];
    if (typeof value !== 'string') throw new Error(`Secret ${NAMESPACE}/${name} has no ${key}`);
    writeFileSync(join(dir, key), Buffer.from(value, 'base64'), { mode: 0o600 });
  }
}

const WEBHOOK_SERVICE = 'crossplane-webhooks';
const WEBHOOK_TLS_SECRET = 'crossplane-tls-server';

/**
 * Crossplane's one webhook: cluster/webhookconfigurations/usage.yaml of the release, as the Helm
 * chart installs it (`core init` fills in the Service and the CA bundle).
 */
const USAGE_WEBHOOK_CONFIGURATION = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  metadata: { name: 'crossplane-no-usages' },
  webhooks: [
    {
      admissionReviewVersions: ['v1'],
      clientConfig: {
        service: { name: 'webhook-service', namespace: 'system', path: '/validate-no-usages' },
      },
      failurePolicy: 'Fail',
      name: 'nousages.protection.crossplane.io',
      objectSelector: { matchLabels: { 'crossplane.io/in-use': 'true' } },
      rules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['DELETE'], resources: ['*'] }],
      sideEffects: 'None',
    },
  ],
};

/**
 * What a cluster gives Crossplane's webhook server and this machine does not: a Service the API
 * server resolves. An ExternalName Service to localhost stands in for the chart's ClusterIP one
 * (with no kube-proxy, a ClusterIP routes nowhere); the API server still checks the certificate
 * against the Service's DNS name, which `core init` puts in crossplane-tls-server. Returns the
 * environment `core init` and `core start` take.
 */
async function serveCrossplaneWebhooks(
  admin: KubeClient,
  dir: string,
  port: number,
): Promise<{ env: Record<string, string> }> {
  await admin.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: WEBHOOK_SERVICE, namespace: NAMESPACE },
    spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'webhook', port }] },
  });
  const configsDir = join(dir, 'webhookconfigurations');
  mkdirSync(configsDir, { recursive: true });
  writeFileSync(join(configsDir, 'usage.yaml'), stringify(USAGE_WEBHOOK_CONFIGURATION));
  return {
    env: {
      ENABLE_WEBHOOKS: 'true',
      WEBHOOK_CONFIGS_PATH: configsDir,
      WEBHOOK_SERVICE_NAME: WEBHOOK_SERVICE,
      WEBHOOK_SERVICE_NAMESPACE: NAMESPACE,
      WEBHOOK_SERVICE_PORT: String(port),
      WEBHOOK_PORT: String(port),
    },
  };
}

/** Builds a package with `crossplane xpkg build` (no runtime image: nothing pulls it here) and pushes it. */
async function buildAndPush(
  cli: string,
  workDir: string,
  packageRoot: string,
  reference: string,
  caFile: string,
): Promise<void> {
  const file = join(workDir, `${reference.split('/').at(-1)?.replace(/[:]/g, '_') ?? 'pkg'}.xpkg`);
  // --examples-root points at an empty folder: the packages ship no examples.
  const examples = join(workDir, 'no-examples');
  mkdirSync(examples, { recursive: true });
  await execFileAsync(
    cli,
    ['xpkg', 'build', `--package-root=${packageRoot}`, `--examples-root=${examples}`, '-o', file],
    {
      cwd: workDir,
    },
  );
  await execFileAsync(cli, ['xpkg', 'push', '-f', file, reference], {
    cwd: workDir,
    // The registry's certificate is signed by a throwaway CA; Go reads extra roots from here.
    env: { ...process.env, SSL_CERT_FILE: caFile },
  });
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(
        new Error(
          `127.0.0.1:${port} is in use; the function must listen there (Crossplane dials the Service's port)`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

interface RunningProgram {
  process: ManagedProcess;
}

function startNodeProgram(name: string, workDir: string, args: string[]): RunningProgram {
  return {
    process: startProcess(name, process.execPath, workDir, [join(REPO_ROOT, 'dist/cli/main.js'), ...args], {
      ...process.env,
    }),
  };
}

export interface StartControlPlaneOptions {
  flavour: ApiFlavour;
}

export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlane> {
  const binDir = await installKubeTools();
  const tools = await installControlPlaneTools();
  const cli = await installCrossplane();

  // PGPLANE_KEEP_CONTROL_PLANE=1 keeps the work folder (every log) for a look after a failure.
  const kube = await startKubeApiServer({
    binDir,
    keepWorkDir: process.env['PGPLANE_KEEP_CONTROL_PLANE'] === '1',
  });
  const dir = kube.workDir;
  const processes: ManagedProcess[] = [];
  const hosts = new HostsFile();
  let registryPki: TestPki | undefined;
  let standIn: StandIn | undefined;
  const stop = async (): Promise<void> => {
    await standIn?.stop().catch(() => undefined);
    for (const p of [...processes].reverse()) await p.stop();
    hosts.restore();
    registryPki?.cleanup();
    await kube.stop();
  };
  const logs = async (): Promise<string> => (await Promise.all(processes.map((p) => p.logTail()))).join('\n');

  try {
    const admin = new KubeClient(kube.kubeConfig());

    // kube-controller-manager: what a cluster has and Crossplane relies on.
    processes.push(
      startProcess('kube-controller-manager', join(binDir, 'kube-controller-manager'), dir, [
        `--kubeconfig=${kube.kubeconfigPath}`,
        '--controllers=garbage-collector-controller,clusterrole-aggregation-controller,namespace-controller,serviceaccount-controller',
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        `--service-account-private-key-file=${kube.serviceAccountKeyPath}`,
        `--root-ca-file=${kube.caCertPath}`,
        // No HTTPS endpoint: nothing probes it, and serving would need request-header auth set up.
        '--secure-port=0',
        '--v=1',
      ]),
    );

    // The registry, over TLS with a throwaway CA that Crossplane is told about (--ca-bundle-path).
    registryPki = makeTestPki();
    const [registryPort] = await freePorts(1);
    const registry = `127.0.0.1:${registryPort ?? 0}`;
    const registryProcess = startProcess('registry', tools.registry, dir, [
      `--address=${registry}`,
      `--cert=${join(registryPki.serverDir, 'tls.crt')}`,
      `--key=${join(registryPki.serverDir, 'tls.key')}`,
    ]);
    processes.push(registryProcess);
    const caFile = join(registryPki.serverDir, 'ca.crt');
    await waitFor('the registry', Date.now() + 30_000, [registryProcess], async () =>
      (await readFile(join(dir, 'registry.log'), 'utf8')).includes('serving https://'),
    );

    // The packages, built from the repository as a release would build them.
    const configurationRoot = join(dir, 'configuration-package');
    mkdirSync(configurationRoot, { recursive: true });
    cpSync(
      join(REPO_ROOT, 'package/configuration/crossplane.yaml'),
      join(configurationRoot, 'crossplane.yaml'),
    );
    const apisDir = join(REPO_ROOT, 'apis', options.flavour);
    for (const file of readdirSync(apisDir).filter((f) => f.endsWith('.yaml'))) {
      cpSync(join(apisDir, file), join(configurationRoot, file));
    }
    const local = (pkg: string): string => `${registry}/${pkg.replace(/^ghcr\.io\//, '')}:${PACKAGE_VERSION}`;
    await buildAndPush(cli, dir, join(REPO_ROOT, 'package/function'), local(PACKAGES.function), caFile);
    await buildAndPush(cli, dir, join(REPO_ROOT, 'package/provider'), local(PACKAGES.provider), caFile);
    await buildAndPush(cli, dir, configurationRoot, local(PACKAGES.configuration), caFile);

    // Crossplane's namespace, service accounts and RBAC, as its Helm chart installs them, plus
    // pgplane's aggregated role (package/rbac): nothing else grants Crossplane anything.
    await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    for (const sa of ['crossplane', 'rbac-manager']) {
      await admin.apply({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: sa, namespace: NAMESPACE },
      });
    }
    for (const object of [
      ...crossplaneChartRbac(tools.chartTemplatesDir),
      ...readObjects(join(REPO_ROOT, 'package/rbac')),
    ]) {
      await admin.apply(object);
    }
    await waitFor('ClusterRole crossplane aggregated', Date.now() + 60_000, processes, async () => {
      const role = await admin.get({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        name: 'crossplane',
      });
      const rules = role?.['rules'];
      return Array.isArray(rules) && JSON.stringify(rules).includes('objectstores');
    });
    const crossplaneKubeconfig = await serviceAccountKubeconfig(admin, kube, dir, 'crossplane');
    const rbacKubeconfig = await serviceAccountKubeconfig(admin, kube, dir, 'rbac-manager');

    // The kinds pgplane composes (their operators are not installed; the stand-in plays them).
    for (const file of COMPOSED_CRDS) await applyCrdFile(admin.kc, join(SHARED_CRDS_DIR, file));

    // Crossplane runs its Usage controllers (deletion protection, teardown order) only with its
    // webhook, which refuses deleting an object in use: the API server must reach it.
    const [webhookPort] = await freePorts(1);
    const webhooks = await serveCrossplaneWebhooks(admin, dir, webhookPort!);
    const coreEnv = {
      ...process.env,
      KUBECONFIG: crossplaneKubeconfig,
      POD_NAMESPACE: NAMESPACE,
      POD_SERVICE_ACCOUNT: 'crossplane',
      ...webhooks.env,
      TLS_CA_SECRET_NAME: 'crossplane-root-ca',
      TLS_SERVER_SECRET_NAME: 'crossplane-tls-server',
      TLS_CLIENT_SECRET_NAME: 'crossplane-tls-client',
    };
    // In a cluster, kubelet restarts a failed init container; the first run can fail while the
    // API server's discovery has not caught up with the CRDs it just created ("no matches for kind").
    for (let attempt = 1; ; attempt++) {
      const init = startProcess(
        `crossplane-init-${attempt}`,
        tools.crossplane,
        dir,
        ['core', 'init', '--activation=*'],
        {
          ...coreEnv,
          CRDS_PATH: tools.crdsDir,
        },
      );
      processes.push(init);
      await init.exited;
      if (init.child.exitCode === 0) break;
      if (attempt === 5)
        throw new Error(`crossplane core init failed ${attempt} times:\n${await init.logTail()}`);
      await new Promise((r) => setTimeout(r, 2000));
    }

    const clientCertsDir = join(dir, 'crossplane-tls-client');
    await writeSecretFiles(admin, 'crossplane-tls-client', clientCertsDir);
    const cacheDir = join(dir, 'xpkg-cache');
    mkdirSync(cacheDir, { recursive: true });
    const [metricsPort, healthPort] = await freePorts(2);
    const serverCertsDir = join(dir, 'crossplane-tls-server');
    await writeSecretFiles(admin, WEBHOOK_TLS_SECRET, serverCertsDir);
    const core = startProcess('crossplane', tools.crossplane, dir, ['core', 'start', '--debug'], {
      ...coreEnv,
      TLS_SERVER_CERTS_DIR: serverCertsDir,
      TLS_CLIENT_CERTS_DIR: clientCertsDir,
      CA_BUNDLE_PATH: caFile,
      XPKG_CACHE_DIR: cacheDir,
      METRICS_PORT: String(metricsPort),
      HEALTH_PROBE_PORT: String(healthPort),
    });
    processes.push(core);
    processes.push(
      startProcess(
        'crossplane-rbac-manager',
        tools.crossplane,
        dir,
        ['rbac', 'start', '--provider-clusterrole=crossplane:allowed-provider-permissions'],
        { ...process.env, KUBECONFIG: rbacKubeconfig },
      ),
    );

    standIn = startStandIn(admin, hosts, NAMESPACE);

    // README: point the published names at your registry, then install the Configuration.
    await admin.apply({
      apiVersion: 'pkg.crossplane.io/v1beta1',
      kind: 'ImageConfig',
      metadata: { name: 'pgplane-registry' },
      spec: {
        matchImages: [{ type: 'Prefix', prefix: 'ghcr.io/pgplane' }],
        rewriteImage: { prefix: `${registry}/pgplane` },
      },
    });
    await admin.apply({
      apiVersion: 'pkg.crossplane.io/v1',
      kind: 'Configuration',
      metadata: { name: 'configuration-pgplane' },
      spec: { package: `${PACKAGES.configuration}:${PACKAGE_VERSION}` },
    });

    // The function's runtime: the Secret and endpoint Crossplane made for it.
    let functionCertsDir = '';
    await waitFor(
      'FunctionRevision with an endpoint and a TLS Secret',
      Date.now() + 240_000,
      [core],
      async () => {
        const revisions = await admin.list({ apiVersion: 'pkg.crossplane.io/v1', kind: 'FunctionRevision' });
        const revision = revisions.find((r) => getString(r, 'status', 'endpoint'));
        const secretName = revision ? getString(revision, 'spec', 'tlsServerSecretName') : undefined;
        if (!secretName) return false;
        functionCertsDir = join(dir, 'function-tls');
        await writeSecretFiles(admin, secretName, functionCertsDir);
        return true;
      },
    );
    // Crossplane dials the Service's port 9443; nothing else may hold it (the render suite's own
    // function server, another control plane).
    await assertPortFree(FUNCTION_PORT);
    hosts.add(`${FUNCTION_NAME}.${NAMESPACE}`, `${FUNCTION_NAME}.${NAMESPACE}.svc`);
    const fn = startNodeProgram('function', dir, [
      'serve',
      'function',
      `--tls-certs-dir=${functionCertsDir}`,
      `--address=127.0.0.1:${FUNCTION_PORT}`,
      '--debug',
    ]);
    processes.push(fn.process);

    // The provider, as the ServiceAccount of the Deployment Crossplane created for it.
    let providerSa = '';
    await waitFor('the provider Deployment', Date.now() + 240_000, [core], async () => {
      const deployments = await admin.list({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: NAMESPACE,
      });
      const deployment = deployments.find((d) =>
        JSON.stringify(getPath(d, 'metadata', 'ownerReferences') ?? []).includes('"kind":"ProviderRevision"'),
      );
      providerSa = deployment
        ? (getString(deployment, 'spec', 'template', 'spec', 'serviceAccountName') ?? '')
        : '';
      return providerSa !== '';
    });
    await waitFor('the provider ServiceAccount and its binding', Date.now() + 120_000, [core], async () => {
      const bindings = await admin.list({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
      });
      return bindings.some((b) => JSON.stringify(b['subjects'] ?? []).includes(`"name":"${providerSa}"`));
    });
    const providerKubeconfig = await serviceAccountKubeconfig(admin, kube, dir, providerSa);
    const provider = startNodeProgram('provider', dir, [
      'serve',
      'provider',
      `--kubeconfig=${providerKubeconfig}`,
      '--metrics-address=127.0.0.1:0',
      '--poll=30s',
    ]);
    processes.push(provider.process);

    await waitFor(
      'the Configuration Healthy',
      Date.now() + 240_000,
      [core, fn.process, provider.process],
      async () => {
        const configuration = await admin.get({
          apiVersion: 'pkg.crossplane.io/v1',
          kind: 'Configuration',
          name: 'configuration-pgplane',
        });
        return isConditionTrue(configuration, 'Healthy') && isConditionTrue(configuration, 'Installed');
      },
    );

    return {
      kube,
      admin,
      registry,
      hosts,
      standIn,
      tools,
      functionCertsDir,
      clientCertsDir,
      logs,
      stop,
    };
  } catch (error) {
    const tail = await logs();
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${tail}`, { cause: error });
  }
}

/** Polls until `check` returns a value; the failure names what was awaited and shows `describe()`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  describe: () => Promise<string>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await describe()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
