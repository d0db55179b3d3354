// The only SQL writer. One transaction per database: timeouts set, an advisory lock per
// (database, grantee) so two reconcilers never interleave, a fresh snapshot taken under the
// lock (the plan is recomputed from it, so a stale plan is never applied), then every
// statement and COMMIT in one round trip. Any failure rolls the whole transaction back.
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
}

export interface ApplyResult {
  /** The plan computed under the lock: what was actually applied. */
  readonly plan: Plan;
  readonly roundTrips: number;
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
 * The advisory lock key for (database, grantee): 64 bits of a SHA-256, computed here so the
 * key is the same for every pgplane process and needs no parameters in the batch.
 */
export function advisoryLockKey(database: string, grantee: string): bigint {
  const digest = createHash('sha256').update(`pgplane.grants\u0000${database}\u0000${grantee}`).digest();
  return digest.readBigInt64BE(0);
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
export function statementsBlock(statements: readonly Statement[]): string {
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
  client: Queryable,
  database: string,
  scope: SnapshotScope,
  replan: (snapshot: Snapshot) => Plan,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const statementTimeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? 30_000));
  const lockTimeout = Math.max(1, Math.floor(options.lockTimeoutMs ?? 5_000));
  // Sorted keys: two reconcilers locking overlapping grantees take them in the same order (no deadlock).
  const keys = [...new Set(scope.grantees.map((g) => advisoryLockKey(database, g)))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const begin = [
    'BEGIN',
    'SET LOCAL standard_conforming_strings = on',
    `SET LOCAL statement_timeout = ${statementTimeout}`,
    ...keys.map((k) => `SELECT pg_advisory_xact_lock(${k.toString()})`),
    // Set after the advisory lock: waiting for another reconciler is bounded by statement_timeout only.
    `SET LOCAL lock_timeout = ${lockTimeout}`,
    snapshotSql(scope),
  ].join(';\n');

  let roundTrips = 0;
  let plan: Plan | undefined;
  let inTransaction = false;
  try {
    roundTrips++;
    inTransaction = true;
    const result = lastResult(await client.query(begin));
    plan = replan(parseSnapshot((result?.rows[0] as { snapshot?: unknown } | undefined)?.snapshot));
    roundTrips++;
    if (plan.statements.length === 0) {
      await client.query('COMMIT');
    } else {
      await client.query(`${statementsBlock(plan.statements)};\nCOMMIT`);
    }
    inTransaction = false;
    return { plan, roundTrips };
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
    const index = /^pgplane statement (\d+)$/.exec(pgError.detail ?? '')?.[1];
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
    );
  }
}
