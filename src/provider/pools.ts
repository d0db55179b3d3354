// One bounded pg.Pool per (server, database, user), shared by every Grant that targets it, so
// 500 Grants in one database never open more than `max` connections there. A pool whose
// credentials changed (password rotation) is drained and replaced. Pools are told apart by
// their connection values but shown (metrics, logs) by a label without Secret values.
import pg from 'pg';
import type { ApplyClient } from '../grants/index.js';
import { describeSecret, type ServerConnection } from './connection.js';
import { redact } from './disclosure.js';

export interface PoolOptions {
  /** Connections per (server, database, user). Small: a reconcile is one or three round trips. */
  readonly max: number;
  /** Give up connecting after this long, so a dead server fails a reconcile instead of hanging it. */
  readonly connectionTimeoutMs: number;
  /** Close connections idle this long. */
  readonly idleTimeoutMs: number;
  readonly applicationName: string;
  /** Called with a pool-level error (a backend died while idle): the pool's label and a scrubbed message. */
  readonly onError?: (label: string, message: string) => void;
  /** For tests: how pools are made. */
  readonly createPool?: (config: pg.PoolConfig) => pg.Pool;
}

// Two: one Grant applying while another takes its one-query snapshot. Raised with --pool-size.
const DEFAULT_POOL_OPTIONS: PoolOptions = {
  max: 2,
  connectionTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  applicationName: 'pgplane-provider',
};

export interface PoolStat {
  /** The pool's label: see poolLabel(). */
  readonly key: string;
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

interface Entry {
  readonly pool: pg.Pool;
  readonly fingerprint: string;
  readonly label: string;
}

/** What tells pools apart: the real connection values. In memory only, never shown. */
function poolKey(connection: ServerConnection, database: string): string {
  return JSON.stringify([connection.user, connection.host, connection.port, database]);
}

/**
 * What a pool is shown as: 'team/app-owner <username>@pg-rw.team.svc:5432/app'. The Secret
 * name tells apart pools whose user comes from different Secrets; no Secret value appears.
 */
function poolLabel(connection: ServerConnection, database: string): string {
  const { user, host, port } = connection.shown;
  const secret = describeSecret(connection).replace(/^Secret "(.*)"$/, '$1');
  return `${secret} ${user}@${host}:${port}/${database}`;
}

export class PoolRegistry {
  private readonly pools = new Map<string, Entry>();
  private readonly options: PoolOptions;

  constructor(options: Partial<PoolOptions> = {}) {
    this.options = { ...DEFAULT_POOL_OPTIONS, ...options };
  }

  get max(): number {
    return this.options.max;
  }

  /** The pool for this server and database (created, or replaced after a credentials change). */
  pool(connection: ServerConnection, database: string): pg.Pool {
    const key = poolKey(connection, database);
    const existing = this.pools.get(key);
    if (existing && existing.fingerprint === connection.credentialsFingerprint) return existing.pool;
    if (existing) {
      this.pools.delete(key);
      // Running queries finish; their clients are closed when released.
      void existing.pool.end().catch(() => undefined);
    }
    const label = this.uniqueLabel(poolLabel(connection, database), key);
    const create = this.options.createPool ?? ((config: pg.PoolConfig) => new pg.Pool(config));
    const pool = create({
      host: connection.host,
      port: connection.port,
      user: connection.user,
      password: connection.password,
      database,
      ssl: connection.ssl,
      max: this.options.max,
      connectionTimeoutMillis: this.options.connectionTimeoutMs,
      idleTimeoutMillis: this.options.idleTimeoutMs,
      application_name: this.options.applicationName,
    });
    // Without a listener, a backend killed while idle would crash the process.
    const secretValues = connection.secretValues;
    pool.on('error', (error: Error) => this.options.onError?.(label, redact(error.message, secretValues)));
    this.pools.set(key, { pool, fingerprint: connection.credentialsFingerprint, label });
    return pool;
  }

  /** Two live pools never share a label (a metric series each): the second gets " #2", and so on. */
  private uniqueLabel(base: string, key: string): string {
    const taken = new Set([...this.pools].filter(([k]) => k !== key).map(([, e]) => e.label));
    let label = base;
    for (let n = 2; taken.has(label); n++) label = `${base} #${n}`;
    return label;
  }

  /**
   * Runs fn with one client of the pool. A client that saw an error is destroyed rather than
   * returned, so a connection cut mid-transaction is never reused.
   */
  async withClient<T>(
    connection: ServerConnection,
    database: string,
    fn: (client: ApplyClient) => Promise<T>,
  ): Promise<T> {
    const client = await this.pool(connection, database).connect();
    // An error on an idle checked-out client must not crash the process either.
    const onError = (): void => undefined;
    client.on('error', onError);
    let failed: Error | undefined;
    try {
      return await fn(client);
    } catch (error) {
      failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off('error', onError);
      client.release(failed);
    }
  }

  stats(): PoolStat[] {
    return [...this.pools.values()].map(({ pool, label }) => ({
      key: label,
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }));
  }

  async closeAll(): Promise<void> {
    const entries = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(entries.map((e) => e.pool.end().catch(() => undefined)));
  }
}
