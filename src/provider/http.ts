// /metrics (Prometheus), /healthz and /readyz on one small HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStat } from './pools.js';
import type { QueueStats } from './queue.js';

export class ProviderMetrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: 'pgplane_provider_reconcile_duration_seconds',
    help: 'Time to reconcile one managed resource, by kind (Grant, Role, Database) and result (applied, in-sync, observed, error, ...).',
    labelNames: ['resource', 'result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'pgplane_provider_reconcile_errors_total',
    help: 'Reconciles that failed (and were retried with backoff).',
    registers: [this.registry],
  });
  readonly statementsApplied = new Counter({
    name: 'pgplane_provider_statements_applied_total',
    help: 'GRANT/REVOKE statements committed.',
    registers: [this.registry],
  });
  readonly driftFound = new Counter({
    name: 'pgplane_provider_drift_privileges_total',
    help: 'Privileges found different from the spec (missing or extra), counted each time they are found.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly kubeRequests = new Counter({
    name: 'pgplane_provider_kube_requests_total',
    help: 'Requests to the Kubernetes API server, by method (WATCH for a watch) and HTTP status ("error": no answer).',
    labelNames: ['method', 'code'],
    registers: [this.registry],
  });
  readonly kubeConnections = new Counter({
    name: 'pgplane_provider_kube_connections_total',
    help: 'Connections opened to the Kubernetes API server, by protocol (h2; http/1.1 where the server offers no h2). Requests and watches share one h2 connection.',
    labelNames: ['protocol'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'pgplane_provider_leader',
    help: '1 while this replica holds the leader Lease (or runs without leader election).',
    registers: [this.registry],
  });

  constructor(sources: { pools: () => PoolStat[]; queue: () => QueueStats }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'pgplane_provider_' });
    new Gauge({
      name: 'pgplane_provider_pool_connections',
      help: 'Connections per (server, database, user) pool, by state: total, idle, waiting (callers queued for one).',
      labelNames: ['pool', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of sources.pools()) {
          this.set({ pool: p.key, state: 'total' }, p.total);
          this.set({ pool: p.key, state: 'idle' }, p.idle);
          this.set({ pool: p.key, state: 'waiting' }, p.waiting);
        }
      },
    });
    new Gauge({
      name: 'pgplane_provider_queue_keys',
      help: 'Work queue keys, by state: queued, running (parked included), parked (waiting for a batch, slot given up), waiting (delayed: backoff or next drift check).',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const s = sources.queue();
        this.set({ state: 'queued' }, s.queued);
        this.set({ state: 'running' }, s.running);
        this.set({ state: 'parked' }, s.parked);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
  }
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Parses ":8080", "127.0.0.1:0" or "8080". */
function parseAddress(address: string): { host: string | undefined; port: number } {
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon) : undefined;
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`not a listen address: ${address}`);
  return { host, port };
}

export async function startHttp(
  address: string,
  metrics: ProviderMetrics,
  ready: () => boolean,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  const { host, port } = parseAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
