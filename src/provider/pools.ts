// The provider's PostgreSQL connections: one lane per (server, database, user), all lanes under one
// global budget. However many databases the Grants name, the provider never holds more than
// `maxConnections` connections at once: a lane that needs one while the budget is spent takes an
// idle connection of another lane (closing it), or waits for one to be released. Idle connections
// close after `idleTimeoutMs`. A lane whose credentials changed (password rotation) is replaced;
// its connections close as they come back. Lanes are told apart by their connection values but
// shown (metrics, logs) by a label without Secret values.
import pg from 'pg';
import type { ApplyClient } from '../grants/index.js';
import { describeSecret, type ServerConnection } from './connection.js';
import { redact } from './disclosure.js';

export interface PoolOptions {
  /** Connections per (server, database, user). Small: a database's Grants share one batch at a time. */
  readonly max: number;
  /** Connections across every lane at once: the provider's whole footprint on the servers. */
  readonly maxConnections: number;
  /** Give up connecting after this long, so a dead server fails a reconcile instead of hanging it. */
  readonly connectionTimeoutMs: number;
  /** Close connections idle this long. */
  readonly idleTimeoutMs: number;
  /**
   * The session's statement_timeout and lock_timeout: what bounds every read (snapshots, the
   * drift check's fingerprint). Writes set their own, tighter, inside their transaction.
   */
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly applicationName: string;
  /** Called with a connection-level error (a backend died while idle): the lane's label and a scrubbed message. */
  readonly onError?: (label: string, message: string) => void;
}

// Two per database: one batch applying while a deletion revokes. Ten in all: a tenth of a default
// max_connections=100, whatever the number of databases.
const DEFAULT_POOL_OPTIONS: PoolOptions = {
  max: 2,
  maxConnections: 10,
  connectionTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 10_000,
  applicationName: 'pgplane-provider',
};

export interface PoolStat {
  /** The lane's label: see laneLabel(). */
  readonly key: string;
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

interface IdleClient {
  readonly client: pg.Client;
  readonly timer: NodeJS.Timeout;
}

interface Lane {
  readonly key: string;
  readonly label: string;
  readonly fingerprint: string;
  readonly config: pg.ClientConfig;
  readonly secretValues: ServerConnection['secretValues'];
  readonly idle: IdleClient[];
  /** Checked out or connecting. */
  busy: number;
  /** Replaced after a credentials change: its clients close when released. */
  retired: boolean;
}

interface Waiter {
  readonly lane: Lane;
  readonly resolve: (client: pg.Client) => void;
  readonly reject: (error: unknown) => void;
}

/** What tells lanes apart: the real connection values. In memory only, never shown. */
function laneKey(connection: ServerConnection, database: string): string {
  return JSON.stringify([connection.user, connection.host, connection.port, database]);
}

/**
 * What a lane is shown as: 'team/app-owner <username>@pg-rw.team.svc:5432/app'. The Secret
 * name tells apart lanes whose user comes from different Secrets; no Secret value appears.
 */
function laneLabel(connection: ServerConnection, database: string): string {
  const { user, host, port } = connection.shown;
  const secret = describeSecret(connection).replace(/^Secret "(.*)"$/, '$1');
  return `${secret} ${user}@${host}:${port}/${database}`;
}

export class PoolRegistry {
  private readonly lanes = new Map<string, Lane>();
  private readonly waiters: Waiter[] = [];
  private readonly options: PoolOptions;
  /** Connections open or opening, in every lane: never above options.maxConnections. */
  private open = 0;
  private closed = false;

  constructor(options: Partial<PoolOptions> = {}) {
    this.options = { ...DEFAULT_POOL_OPTIONS, ...options };
    if (this.options.max > this.options.maxConnections)
      this.options = { ...this.options, max: this.options.maxConnections };
  }

  get max(): number {
    return this.options.max;
  }

  get maxConnections(): number {
    return this.options.maxConnections;
  }

  /** The lane for this server and database (created, or replaced after a credentials change). */
  private lane(connection: ServerConnection, database: string): Lane {
    const key = laneKey(connection, database);
    const existing = this.lanes.get(key);
    if (existing && existing.fingerprint === connection.credentialsFingerprint) return existing;
    if (existing) {
      existing.retired = true;
      for (const idle of existing.idle.splice(0)) this.close(idle);
    }
    const lane: Lane = {
      key,
      label: this.uniqueLabel(laneLabel(connection, database), key),
      fingerprint: connection.credentialsFingerprint,
      config: {
        host: connection.host,
        port: connection.port,
        user: connection.user,
        password: connection.password,
        database,
        ssl: connection.ssl,
        connectionTimeoutMillis: this.options.connectionTimeoutMs,
        statement_timeout: this.options.statementTimeoutMs,
        lock_timeout: this.options.lockTimeoutMs,
        application_name: this.options.applicationName,
      },
      secretValues: connection.secretValues,
      idle: [],
      busy: 0,
      retired: false,
    };
    this.lanes.set(key, lane);
    return lane;
  }

  /** Two live lanes never share a label (a metric series each): the second gets " #2", and so on. */
  private uniqueLabel(base: string, key: string): string {
    const taken = new Set([...this.lanes].filter(([k]) => k !== key).map(([, l]) => l.label));
    let label = base;
    for (let n = 2; taken.has(label); n++) label = `${base} #${n}`;
    return label;
  }

  /**
   * Runs fn with one client of the lane. A client that saw an error is closed rather than
   * kept, so a connection cut mid-transaction is never reused.
   */
  async withClient<T>(
    connection: ServerConnection,
    database: string,
    fn: (client: ApplyClient) => Promise<T>,
  ): Promise<T> {
    const lane = this.lane(connection, database);
    const client = await this.acquire(lane);
    let failed = false;
    try {
      return await fn(client);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      this.release(lane, client, failed);
    }
  }

  private acquire(lane: Lane): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the provider is shutting down'));
    const idle = lane.idle.pop();
    if (idle) {
      clearTimeout(idle.timer);
      lane.busy++;
      return Promise.resolve(idle.client);
    }
    if (lane.busy < this.options.max && this.makeRoom()) return this.connect(lane);
    return new Promise((resolve, reject) => this.waiters.push({ lane, resolve, reject }));
  }

  /**
   * True when one more connection fits the budget. When it does not, closes another lane's idle
   * connection: its room counts once the server has seen it close (then pump() hands it on).
   */
  private makeRoom(): boolean {
    if (this.open < this.options.maxConnections) return true;
    for (const lane of this.lanes.values()) {
      const idle = lane.idle.shift();
      if (idle) {
        this.close(idle);
        break;
      }
    }
    return false;
  }

  private async connect(lane: Lane): Promise<pg.Client> {
    this.open++;
    lane.busy++;
    const client = new pg.Client(lane.config);
    // Without a listener, a backend killed while idle would crash the process.
    client.on('error', (error: Error) =>
      this.options.onError?.(lane.label, redact(error.message, lane.secretValues)),
    );
    try {
      await client.connect();
      return client;
    } catch (error) {
      lane.busy--;
      this.destroy(client);
      throw error;
    }
  }

  private release(lane: Lane, client: pg.Client, failed: boolean): void {
    lane.busy--;
    if (failed || lane.retired || this.closed) {
      this.destroy(client);
    } else {
      const i = this.waiters.findIndex((w) => w.lane === lane);
      if (i >= 0) {
        const [waiter] = this.waiters.splice(i, 1);
        lane.busy++;
        waiter!.resolve(client);
        return;
      }
      if (this.waiters.length > 0) {
        // Another lane is waiting for the budget: this connection makes way for it.
        this.destroy(client);
      } else {
        const timer = setTimeout(() => {
          const at = lane.idle.findIndex((x) => x.client === client);
          if (at >= 0) this.close(lane.idle.splice(at, 1)[0]!);
        }, this.options.idleTimeoutMs);
        timer.unref();
        lane.idle.push({ client, timer });
      }
    }
    this.pump();
  }

  /** Hands the free budget to waiting lanes, in arrival order. */
  private pump(): void {
    for (let i = 0; i < this.waiters.length;) {
      const waiter = this.waiters[i]!;
      const idle = waiter.lane.idle.pop();
      if (idle) {
        clearTimeout(idle.timer);
        this.waiters.splice(i, 1);
        waiter.lane.busy++;
        waiter.resolve(idle.client);
        continue;
      }
      if (waiter.lane.busy < this.options.max && this.makeRoom()) {
        this.waiters.splice(i, 1);
        this.connect(waiter.lane).then(waiter.resolve, waiter.reject);
        continue;
      }
      i++;
    }
  }

  private close(idle: IdleClient): void {
    clearTimeout(idle.timer);
    this.destroy(idle.client);
  }

  /** Closes a connection; it leaves the budget only once closed, so the cap holds on the server too. */
  private destroy(client: pg.Client): void {
    void client
      .end()
      .catch(() => undefined)
      .finally(() => {
        this.open--;
        this.pump();
      });
  }

  stats(): PoolStat[] {
    const waiting = new Map<Lane, number>();
    for (const w of this.waiters) waiting.set(w.lane, (waiting.get(w.lane) ?? 0) + 1);
    return [...this.lanes.values()]
      .filter((lane) => !lane.retired)
      .map((lane) => ({
        key: lane.label,
        total: lane.busy + lane.idle.length,
        idle: lane.idle.length,
        waiting: waiting.get(lane) ?? 0,
      }));
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the provider is shutting down'));
    const ending: Promise<void>[] = [];
    for (const lane of this.lanes.values()) {
      for (const idle of lane.idle.splice(0)) {
        clearTimeout(idle.timer);
        ending.push(idle.client.end().catch(() => undefined));
      }
    }
    this.lanes.clear();
    await Promise.all(ending);
  }
}
