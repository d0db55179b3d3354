// Whether PostgreSQL would accept a password, on a server that authenticates everyone by trust.
// The local PostgreSQL 15 uses trust (and its pg_hba is the machine's, not ours to change), so a
// login proves nothing about a password. What password authentication would check is the role's
// SCRAM-SHA-256 verifier in pg_authid; checking a password against it (RFC 5802, RFC 7677) is the
// same computation the server makes, without the network exchange.
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { ident } from '../../src/shared/sql-ident.js';
import { LOCAL_SERVER } from './postgres.js';

// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, all base64.
const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/**
 * Whether `password` matches a SCRAM-SHA-256 verifier. ASCII passwords only: PostgreSQL passes a
 * password through SASLprep first, which leaves ASCII unchanged (or is skipped for it) and which
 * node:crypto does not implement, so a non-ASCII password throws rather than get a wrong answer.
 */
function verifierAccepts(verifier: string, password: string): boolean {
  if ([...password].some((c) => c.charCodeAt(0) > 0x7f))
    throw new Error('verifierAccepts: only ASCII passwords are supported (no SASLprep here)');
  const match = VERIFIER.exec(verifier);
  if (!match) throw new Error('not a SCRAM-SHA-256 verifier (is password_encryption md5?)');
  const [, iterations, salt, storedKey] = match;
  const salted = pbkdf2Sync(password, Buffer.from(salt!, 'base64'), Number(iterations), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const computed = createHash('sha256').update(clientKey).digest();
  const expected = Buffer.from(storedKey!, 'base64');
  return expected.length === computed.length && timingSafeEqual(computed, expected);
}

/**
 * Whether PostgreSQL's password authentication would let `role` in with `password`, read as the
 * superuser from pg_authid. A role without a password (or without the role) accepts none.
 */
export async function serverAccepts(role: string, password: string): Promise<boolean> {
  const client = new pg.Client({ ...LOCAL_SERVER, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolpassword: string | null }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [role],
    );
    const verifier = rows[0]?.rolpassword;
    return verifier ? verifierAccepts(verifier, password) : false;
  } finally {
    await client.end();
  }
}

/**
 * Sets a role's password as a SCRAM-SHA-256 verifier, in one bounded transaction. ALTER ROLE takes
 * no bind parameters, so the password goes as an escaped literal (pg's escapeLiteral); the
 * plaintext reaches the server once and is stored only hashed.
 */
export async function setPassword(client: pg.ClientBase, role: string, password: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SET LOCAL statement_timeout = '10s'");
    await client.query("SET LOCAL lock_timeout = '5s'");
    await client.query("SET LOCAL password_encryption = 'scram-sha-256'");
    await client.query(`ALTER ROLE ${ident(role)} PASSWORD ${pg.escapeLiteral(password)}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
