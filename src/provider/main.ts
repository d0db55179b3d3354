// `pgplane serve provider`: flags, logging, leader election, the HTTP endpoints, the controller,
// and a graceful shutdown on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import type { CliIo } from '../shared/io.js';
import { parseDuration } from '../shared/duration.js';
import { Controller } from './controller.js';
import { KubeClient } from './kube/client.js';
import { loadKubeConnection } from './kube/config.js';
import { ProviderMetrics, startHttp, type HealthServer } from './http.js';
import { kubeLeaseClient, LeaderElector } from './leader.js';
import { PoolRegistry } from './pools.js';
import type { QueueStats } from './queue.js';

export const PROVIDER_USAGE = `Usage: pgplane serve provider [flags]

Runs the grants provider: reconciles grants.pgplane.io Grants against PostgreSQL.

Flags:
  --kubeconfig <path>            Kubeconfig to use (default: $KUBECONFIG, else the in-cluster service
                                 account, else ~/.kube/config).
  --poll <duration>              How often each Grant is checked for drift (default 10m).
  --drift-check <duration>       How often each database's catalog fingerprint is compared between
                                 polls; a change reconciles its Grants at once (default 30s; 0: off).
  --concurrency <n>              Objects reconciled at once (default 50). Alias: --max-reconcile-rate.
                                 A Grant waiting for its database's next batch gives its slot up
                                 (the batch is one snapshot and one transaction for all of them),
                                 so this bounds API-server work, not the size of a batch.
  --pool-size <n>                Connections per (server, database, user) (default 2).
  --max-connections <n>          Connections to PostgreSQL at once, across every server and
                                 database (default 10); idle ones close after 30s or when
                                 another database needs the room.
  --leader-election              Elect one active replica through a coordination.k8s.io Lease.
  --leader-election-namespace    Namespace of the Lease (default $POD_NAMESPACE or crossplane-system).
  --metrics-address <addr>       Where /metrics, /healthz and /readyz listen (default :8080; :0 picks a port).
  --debug                        Log every reconcile.
`;

export interface ProviderFlags {
  readonly kubeconfig: string | undefined;
  readonly pollMs: number;
  readonly driftCheckMs: number;
  readonly concurrency: number;
  readonly poolSize: number;
  readonly maxConnections: number;
  readonly leaderElection: boolean;
  readonly leaderElectionNamespace: string;
  readonly metricsAddress: string;
  readonly debug: boolean;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

/** A Go-style duration flag in milliseconds ("0" is zero, as in Go). */
function durationMs(name: string, text: string): number {
  if (text === '0') return 0;
  try {
    const d = parseDuration(text);
    return d.seconds * 1000 + Math.floor(d.nanos / 1e6);
  } catch {
    throw new Error(`--${name} takes a duration such as 30s, 10m or 1h30m, got "${text}"`);
  }
}

export function parseProviderFlags(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ProviderFlags | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      poll: { type: 'string' },
      'drift-check': { type: 'string' },
      concurrency: { type: 'string' },
      'max-reconcile-rate': { type: 'string' },
      'pool-size': { type: 'string' },
      'max-connections': { type: 'string' },
      'leader-election': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'metrics-address': { type: 'string' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const pollMs = durationMs('poll', values.poll ?? '10m');
  if (pollMs < 1000) throw new Error(`--poll must be at least 1s, got "${values.poll}"`);
  const driftCheckMs = durationMs('drift-check', values['drift-check'] ?? '30s');
  if (driftCheckMs !== 0 && driftCheckMs < 1000)
    throw new Error(`--drift-check must be 0 (off) or at least 1s, got "${values['drift-check']}"`);
  return {
    kubeconfig: values.kubeconfig,
    pollMs,
    driftCheckMs,
    concurrency: positiveInt('concurrency', values.concurrency ?? values['max-reconcile-rate'], 50),
    poolSize: positiveInt('pool-size', values['pool-size'], 2),
    maxConnections: positiveInt('max-connections', values['max-connections'], 10),
    leaderElection: values['leader-election'] ?? false,
    leaderElectionNamespace:
      values['leader-election-namespace'] ?? env['POD_NAMESPACE'] ?? 'crossplane-system',
    metricsAddress: values['metrics-address'] ?? ':8080',
    debug: values.debug ?? false,
  };
}

export function providerLogger(io: CliIo, debug: boolean): Logger {
  return pino(
    {
      level: debug ? 'debug' : 'info',
      base: { component: 'pgplane-provider' },
      // Defence in depth: nothing logs these, and if something did they would not be written.
      redact: {
        paths: ['password', '*.password', 'connection.password', 'ssl.ca', '*.data'],
        censor: '[redacted]',
      },
    },
    { write: (line: string) => io.stdout(line) },
  );
}

/**
 * Runs the provider until SIGTERM/SIGINT (or `signal` aborts); resolves to the exit code.
 * Losing leadership exits with 1 so the replica restarts as a follower, as controller-runtime does.
 */
export async function runProvider(argv: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  let flags: ProviderFlags | 'help';
  try {
    flags = parseProviderFlags(argv);
  } catch (error) {
    io.stderr(
      `pgplane serve provider: ${error instanceof Error ? error.message : String(error)}\n\n${PROVIDER_USAGE}`,
    );
    return 2;
  }
  if (flags === 'help') {
    io.stdout(PROVIDER_USAGE);
    return 0;
  }
  const log = providerLogger(io, flags.debug);
  const queueStats = { current: (): QueueStats => ({ queued: 0, running: 0, parked: 0, waiting: 0 }) };
  const pools = new PoolRegistry({
    max: flags.poolSize,
    maxConnections: flags.maxConnections,
    onError: (pool, message) => log.warn({ pool, err: message }, 'idle connection lost'),
  });
  const metrics = new ProviderMetrics({ pools: () => pools.stats(), queue: () => queueStats.current() });
  let kube: KubeClient;
  try {
    kube = new KubeClient(loadKubeConnection({ path: flags.kubeconfig }), {
      answered: (method, code) => metrics.kubeRequests.inc({ method, code }),
      connected: (protocol) => metrics.kubeConnections.inc({ protocol }),
    });
  } catch (error) {
    io.stderr(`pgplane serve provider: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const identity = `${hostname()}_${process.pid}`;
  const controller = new Controller(kube, pools, metrics, log, {
    pollMs: flags.pollMs,
    driftCheckMs: flags.driftCheckMs,
    concurrency: flags.concurrency,
    identity,
  });
  queueStats.current = () => controller.queue.stats();
  const active = controller;

  const stop = new AbortController();
  let exitCode = 0;
  const shutdown = (code: number, why: string): void => {
    if (stop.signal.aborted) return;
    exitCode = code;
    log.info({ why }, 'shutting down');
    stop.abort();
  };
  const onSignal = (name: string) => () => shutdown(0, name);
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  signal?.addEventListener('abort', () => shutdown(0, 'aborted'), { once: true });

  let http: HealthServer | undefined;
  let leading = !flags.leaderElection;
  try {
    // Ready when this replica can do its job: caches synced as leader, or waiting as a standby.
    http = await startHttp(
      flags.metricsAddress,
      metrics,
      () => !stop.signal.aborted && (!leading || active.ready),
    );
    log.info(
      {
        metricsPort: http.port,
        poll: `${flags.pollMs}ms`,
        driftCheck: flags.driftCheckMs === 0 ? 'off' : `${flags.driftCheckMs}ms`,
        concurrency: flags.concurrency,
        poolSize: flags.poolSize,
        maxConnections: flags.maxConnections,
        leaderElection: flags.leaderElection,
      },
      'pgplane grants provider starting',
    );
    const startController = (): void => {
      leading = true;
      metrics.leader.set(1);
      active.start().catch((error: unknown) => {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'cannot start watching');
        shutdown(1, 'start failed');
      });
    };
    let election: Promise<void> = Promise.resolve();
    let elector: LeaderElector | undefined;
    if (flags.leaderElection) {
      const lease = { namespace: flags.leaderElectionNamespace, name: 'pgplane-grants-provider' };
      elector = new LeaderElector({
        client: kubeLeaseClient(kube, lease.namespace, lease.name),
        ...lease,
        identity,
        log,
      });
      log.info({ lease: `${lease.namespace}/${lease.name}`, identity }, 'waiting for leadership');
      election = elector.run(stop.signal, startController, () => shutdown(1, 'lost leadership'));
    } else {
      startController();
    }
    await new Promise<void>((resolve) =>
      stop.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    // Stop reconciling before giving up the Lease, so two leaders never overlap.
    await active.stop();
    await election;
    await elector?.release();
    metrics.leader.set(0);
  } catch (error) {
    log.error({ err: error instanceof Error ? error.message : String(error) }, 'provider failed');
    exitCode = 1;
    await active.stop().catch(() => undefined);
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await http?.close();
    kube.close();
  }
  log.info({ exitCode }, 'stopped');
  log.flush();
  return exitCode;
}
