// The only SQL writer. One transaction per database: timeouts set, one advisory lock per
// database so two reconcilers never interleave their GRANTs there (on PostgreSQL 15 two
// transactions updating one ACL row make the second fail with "tuple concurrently updated"), a
// fresh snapshot taken under the lock (the plan is recomputed from it, so a stale plan is never applied), then every
// statement in one round trip and COMMIT in the next. Any failure rolls the whole transaction
// back, and so does a GRANT or REVOKE the server answers with "no privileges were granted"
// (a WARNING, not an error: the statement succeeds and changes nothing).
import { createHash } from 'node:crypto';
import type { QueryResult } from 'pg';
import { parseSnapshot, snapshotSql, type Queryable, type Snapshot, type SnapshotScope } from './observe.js';
import type { Plan, Statement } from './plan.js';
import { literal } from './sql.js';

export interface ApplyOptions {
  /** Per statement; bounds the wait for the advisory lock too. Default 30 s. */
  readonly statementTimeoutMs?: number;
  /** How long a GRANT may wait for a catalog row another transaction holds. Default 5 s. */
  readonly lockTimeoutMs?: number;
  /**
   * Told when the transaction is retried after "tuple concurrently updated" (XX000: a writer
   * outside the lock, e.g. a GRANT by hand or on a shared catalog, updated the same row).
   */
  readonly onRetry?: (attempt: number, message: string) => void;
}

/** Retries of a transaction that lost a catalog row race; each starts at once, within the statement timeout. */
const CONCURRENT_UPDATE_RETRIES = 3;

/** The part of a server notice apply reads (pg's NoticeMessage). */
interface Notice {
  readonly code?: string | undefined;
  readonly message?: string | undefined;
  readonly where?: string | undefined;
}

/** Where warnings arrive: pg's Client and PoolClient emit 'notice'. */
interface NoticeSource {
  on(event: 'notice', listener: (notice: Notice) => void): unknown;
  off(event: 'notice', listener: (notice: Notice) => void): unknown;
}

/** A client apply can run over: it must report notices, or a refused GRANT would pass unseen. */
export type ApplyClient = Queryable & NoticeSource;

/**
 * privilege_not_granted and privilege_not_revoked: the grantor lacked the grant option for
 * some ("not all privileges were granted") or all ("no privileges were granted") of them.
 */
const REFUSED = new Set(['01007', '01006']);

/** Thrown inside apply when the server refused privileges; becomes an ApplyError like any failure. */
class PrivilegesRefused extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly statementIndex: number | undefined,
  ) {
    super(message);
  }
}

/** The first refusal, the statement it came from (the notice's context quotes it) and how many more. */
function refusal(
  notices: readonly Notice[],
  statements: readonly Statement[],
): { message: string; code: string; statementIndex: number | undefined } | undefined {
  const first = notices[0];
  if (!first) return undefined;
  const index = statements.findIndex((s) => first.where?.includes(`SQL statement "${s.sql}"`) ?? false);
  const more = notices.length - 1;
  return {
    message: `WARNING: ${first.message ?? 'privileges not granted'}${more > 0 ? ` (and ${more} more such warning${more === 1 ? '' : 's'})` : ''}`,
    code: first.code ?? '01007',
    statementIndex: index >= 0 ? index : undefined,
  };
}

export interface ApplyResult {
  /** The plan computed under the lock: what was actually applied. */
  readonly plan: Plan;
  readonly roundTrips: number;
  /** The catalog fingerprint of the snapshot under the lock, when the scope asked for it. */
  readonly fingerprint?: string | undefined;
}

/** Why apply failed: the statement (when one was running), the server's message, and that nothing changed. */
export class ApplyError extends Error {
  constructor(
    readonly database: string,
    /** What was running: "statement 2 of 5: GRANT ...", "while locking and observing", ... */
    readonly where: string,
    /** What the server (or the driver) said, with its SQLSTATE: text we did not write. */
    readonly reported: string,
    /** Whether anything changed, in words. */
    readonly outcome: string,
    readonly statement: Statement | undefined,
    readonly sqlstate: string | undefined,
    readonly rolledBack: boolean,
    /** Lost a race for a catalog row ("tuple concurrently updated"): worth retrying at once. */
    readonly concurrentUpdate = false,
    /** Queries sent before the failure. */
    readonly roundTrips = 0,
  ) {
    super(ApplyError.format(database, where, reported, outcome));
    this.name = 'ApplyError';
  }

  private static format(database: string, where: string, reported: string, outcome: string): string {
    return `apply to database "${database}" failed ${where}: ${reported}; ${outcome}`;
  }

  /** The message with the server's text passed through `scrub` (the provider removes Secret values from it). */
  describe(scrub: (text: string) => string): string {
    return ApplyError.format(this.database, this.where, scrub(this.reported), this.outcome);
  }
}

/**
 * The advisory lock key for a database: 64 bits of a SHA-256, computed here so the key is the
 * same for every pgplane process and needs no parameters in the batch. One lock per database,
 * not per grantee: Grants of different grantees GRANT on the same tables.
 */
function advisoryLockKey(database: string): bigint {
  const digest = createHash('sha256').update(`pgplane.grants.database\u0000${database}`).digest();
  return digest.readBigInt64BE(0);
}

function isConcurrentUpdate(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return (
    e.code === 'XX000' && typeof e.message === 'string' && e.message.includes('tuple concurrently updated')
  );
}

/** A dollar-quote tag that does not occur in the body, so no statement text can end the block. */
function dollarTag(body: string): string {
  let n = 0;
  while (body.includes(`$pgplane${n}$`)) n++;
  return `$pgplane${n}$`;
}

/**
 * All statements as one DO block: one round trip, and a failure is re-raised with the index of
 * the statement that failed (DETAIL "pgplane statement N"), so the error can name it.
 */
function statementsBlock(statements: readonly Statement[]): string {
  const body = `
DECLARE
  statements text[] := ARRAY[${statements.map((s) => literal(s.sql)).join(',\n    ')}]::text[];
  n integer := 0;
BEGIN
  BEGIN
    FOR i IN 1 .. coalesce(cardinality(statements), 0) LOOP
      n := i;
      EXECUTE statements[i];
    END LOOP;
  EXCEPTION WHEN OTHERS OR query_canceled THEN
    RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = SQLERRM, DETAIL = 'pgplane statement ' || n;
  END;
END`;
  const tag = dollarTag(body);
  return `DO ${tag}${body}${tag}`;
}

interface PgError {
  message: string;
  code?: string;
  detail?: string;
}

function asPgError(error: unknown): PgError {
  if (error instanceof PrivilegesRefused) return { message: error.message, code: error.code };
  if (error instanceof Error) return error as Error & PgError;
  return { message: String(error) };
}

function lastResult(result: QueryResult | QueryResult[]): QueryResult | undefined {
  return Array.isArray(result) ? result.at(-1) : result;
}

/**
 * Applies the plan for these grantees in one transaction. `replan` turns the snapshot taken under
 * the lock into the plan to apply; when nothing is left to do, the transaction ends without writes.
 */
export async function applyPlan(
  client: ApplyClient,
  database: string,
  scope: SnapshotScope,
  replan: (snapshot: Snapshot) => Plan,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  let roundTrips = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await applyOnce(client, database, scope, replan, options);
      return { ...result, roundTrips: roundTrips + result.roundTrips };
    } catch (error) {
      // Rolled back, so nothing changed: retried at once, each try bounded by the same timeouts.
      if (!(error instanceof ApplyError) || !error.concurrentUpdate || attempt > CONCURRENT_UPDATE_RETRIES)
        throw error;
      roundTrips += error.roundTrips;
      options.onRetry?.(attempt, error.message);
    }
  }
}

async function applyOnce(
  client: ApplyClient,
  database: string,
  scope: SnapshotScope,
  replan: (snapshot: Snapshot) => Plan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const statementTimeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? 30_000));
  const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? 5_000));
  const begin = [
    'BEGIN',
    'SET LOCAL standard_conforming_strings = on',
    // A role or database may raise it to error: then refused GRANTs would go unreported.
    'SET LOCAL client_min_messages = warning',
    `SET LOCAL statement_timeout = ${statementTimeout}`,
    `SELECT pg_advisory_xact_lock(${advisoryLockKey(database).toString()})`,
    // Set after the advisory lock: waiting for another reconciler is bounded by statement_timeout only.
    `SET LOCAL lock_timeout = ${lockTimeout}`,
    snapshotSql(scope),
  ].join(';\n');

  let roundTrips = 0;
  let plan: Plan | undefined;
  let inTransaction = false;
  const refused: Notice[] = [];
  const onNotice = (notice: Notice): void => {
    if (notice.code !== undefined && REFUSED.has(notice.code)) refused.push(notice);
  };
  client.on('notice', onNotice);
  try {
    roundTrips++;
    inTransaction = true;
    const result = lastResult(await client.query(begin));
    const snapshot = parseSnapshot((result?.rows[0] as { snapshot?: unknown } | undefined)?.snapshot);
    plan = replan(snapshot);
    if (plan.statements.length > 0) {
      roundTrips++;
      await client.query(statementsBlock(plan.statements));
      // Notices arrive before the query's result, so every refusal is in by now.
      const refusedBy = refusal(refused, plan.statements);
      if (refusedBy) throw new PrivilegesRefused(refusedBy.message, refusedBy.code, refusedBy.statementIndex);
    }
    roundTrips++;
    await client.query('COMMIT');
    inTransaction = false;
    return { plan, roundTrips, fingerprint: snapshot.fingerprint };
  } catch (error) {
    const pgError = asPgError(error);
    let rolledBack = !inTransaction;
    if (inTransaction) {
      try {
        roundTrips++;
        await client.query('ROLLBACK');
        rolledBack = true;
      } catch {
        // The connection is gone: the server rolls the transaction back when the session ends.
        rolledBack = true;
      }
    }
    const index =
      error instanceof PrivilegesRefused
        ? error.statementIndex === undefined
          ? undefined
          : String(error.statementIndex + 1)
        : /^pgplane statement (\d+)$/.exec(pgError.detail ?? '')?.[1];
    const statement = index !== undefined ? plan?.statements[Number(index) - 1] : undefined;
    const where = statement
      ? `statement ${index} of ${plan?.statements.length}: ${statement.sql}`
      : plan
        ? 'while applying the plan'
        : 'while locking and observing';
    // A server error means the transaction never committed. A dropped connection is the same,
    // unless it dropped during COMMIT itself: then only the next snapshot can tell.
    const outcome = pgError.code
      ? 'the transaction was rolled back, nothing changed'
      : 'the connection failed; the transaction was not committed unless the failure hit COMMIT itself (run plan to check)';
    throw new ApplyError(
      database,
      where,
      `${pgError.message}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`,
      outcome,
      statement,
      pgError.code,
      rolledBack,
      rolledBack && isConcurrentUpdate(pgError),
      roundTrips,
    );
  } finally {
    client.off('notice', onNotice);
  }
}
