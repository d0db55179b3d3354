// Runs the DDL of a Role or a Database: every statement bounded by statement_timeout and
// lock_timeout, in one transaction when PostgreSQL allows it (CREATE/ALTER ROLE, GRANT, COMMENT)
// and alone when it does not (CREATE DATABASE, DROP DATABASE cannot run inside a transaction
// block). A failure says which statement, in its shown form: a statement that carries a password
// verifier is shown without it.
import type { Queryable } from '../../grants/observe.js';

export interface DdlStatement {
  readonly sql: string;
  /** What messages and events show; defaults to sql. Set for a statement that carries a secret. */
  readonly shown?: string | undefined;
}

export interface StatementLimits {
  /** Per statement. Default 30 s. */
  readonly statementTimeoutMs?: number | undefined;
  /** How long a statement may wait for a lock another session holds. Default 5 s. */
  readonly lockTimeoutMs?: number | undefined;
}

/** Why a statement failed, with the server's text kept apart so the caller can scrub it. */
export class StatementError extends Error {
  constructor(
    /** "statement 2 of 3: ALTER ROLE ..." */
    readonly where: string,
    /** What the server or the driver said, with its SQLSTATE. */
    readonly reported: string,
    readonly sqlstate: string | undefined,
    /** Whether anything changed, in words. */
    readonly outcome: string,
  ) {
    super(`${where} failed: ${reported}; ${outcome}`);
    this.name = 'StatementError';
  }

  describe(scrub: (text: string) => string): string {
    return `${this.where} failed: ${scrub(this.reported)}; ${this.outcome}`;
  }
}

function timeouts(limits: StatementLimits): { statement: number; lock: number } {
  return {
    statement: Math.max(1, Math.floor(limits.statementTimeoutMs ?? 30_000)),
    lock: Math.max(1, Math.floor(limits.lockTimeoutMs ?? 5_000)),
  };
}

function reportedOf(error: unknown): { reported: string; sqlstate: string | undefined } {
  const e = error as { message?: unknown; code?: unknown };
  const sqlstate = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : String(error);
  return { reported: `${message}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`, sqlstate };
}

const shownOf = (s: DdlStatement): string => s.shown ?? s.sql;

/** Runs the statements in one transaction: all of them or none. */
export async function runInTransaction(
  client: Queryable,
  statements: readonly DdlStatement[],
  limits: StatementLimits = {},
): Promise<void> {
  if (statements.length === 0) return;
  const t = timeouts(limits);
  await client.query(
    ['BEGIN', `SET LOCAL statement_timeout = ${t.statement}`, `SET LOCAL lock_timeout = ${t.lock}`].join(
      ';\n',
    ),
  );
  let index = 0;
  try {
    for (const statement of statements) {
      index++;
      await client.query(statement.sql);
    }
    index = 0;
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const { reported, sqlstate } = reportedOf(error);
    const where =
      index > 0 ? `statement ${index} of ${statements.length}: ${shownOf(statements[index - 1]!)}` : 'COMMIT';
    throw new StatementError(
      where,
      reported,
      sqlstate,
      sqlstate
        ? 'the transaction was rolled back, nothing changed'
        : 'the connection failed; the transaction was not committed unless the failure hit COMMIT itself',
    );
  }
}

/**
 * Runs one statement PostgreSQL will not run in a transaction block, bounded by the same
 * timeouts for this session only (they are reset afterwards: the connection goes back to a pool).
 */
export async function runAlone(
  client: Queryable,
  statement: DdlStatement,
  limits: StatementLimits = {},
): Promise<void> {
  const t = timeouts(limits);
  await client.query(`SET statement_timeout = ${t.statement}; SET lock_timeout = ${t.lock}`);
  try {
    await client.query(statement.sql);
  } catch (error) {
    const { reported, sqlstate } = reportedOf(error);
    throw new StatementError(
      shownOf(statement),
      reported,
      sqlstate,
      sqlstate ? 'nothing changed' : 'the connection failed; check the server before retrying',
    );
  } finally {
    await client.query('RESET statement_timeout; RESET lock_timeout').catch(() => undefined);
  }
}
