// One bounded pg.Pool per (server, database, user), shared by every Grant that targets it, so
// 500 Grants in one database never open more than `max` connections there. A pool whose
// credentials changed (password rotation) is drained and replaced.
import pg from 'pg';
import type { Queryable } from '../grants/index.js';
import type { ServerConnection } from './connection.js';

export interface PoolOptions {
  /** Connections per (server, database, user). Small: a reconcile is one or three round trips. */
  readonly max: number;
  /** Give up connecting after this long, so a dead server fails a reconcile instead of hanging it. */
  readonly connectionTimeoutMs: number;
  /** Close connections idle this long. */
  readonly idleTimeoutMs: number;
  readonly applicationName: string;
  /** Called with a pool-level error (a backend died while idle); never includes the password. */
  readonly onError?: (key: string, error: Error) => void;
  /** For tests: how pools are made. */
  readonly createPool?: (config: pg.PoolConfig) => pg.Pool;
}

// Two: one Grant applying while another takes its one-query snapshot. Raised with --pool-size.
export const DEFAULT_POOL_OPTIONS: PoolOptions = {
  max: 2,
  connectionTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  applicationName: 'pgplane-provider',
};

export interface PoolStat {
  readonly key: string;
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

interface Entry {
  readonly pool: pg.Pool;
  readonly fingerprint: string;
}

export function poolKey(connection: ServerConnection, database: string): string {
  return `${connection.user}@${connection.host}:${connection.port}/${database}`;
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
    pool.on('error', (error: Error) => this.options.onError?.(key, error));
    this.pools.set(key, { pool, fingerprint: connection.credentialsFingerprint });
    return pool;
  }

  /**
   * Runs fn with one client of the pool. A client that saw an error is destroyed rather than
   * returned, so a connection cut mid-transaction is never reused.
   */
  async withClient<T>(
    connection: ServerConnection,
    database: string,
    fn: (client: Queryable) => Promise<T>,
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
    return [...this.pools].map(([key, { pool }]) => ({
      key,
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
