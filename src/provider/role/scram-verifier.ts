// A role's password as PostgreSQL stores it: a SCRAM-SHA-256 verifier (RFC 5802, RFC 7677),
// computed here so ALTER ROLE ... PASSWORD carries the verifier and the cleartext never reaches
// the server, its logs or pg_stat_statements. PostgreSQL stores a value already in this form as
// is, whatever password_encryption says. Pure but for the random salt, which can be passed in.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's scram_iterations default (and its only value before 16). */
const SCRAM_ITERATIONS = 4096;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
const SALT_BYTES = 16;

export interface VerifierOptions {
  /** For tests that compare with a verifier PostgreSQL computed: reuse its salt. */
  readonly salt?: Buffer | undefined;
  readonly iterations?: number | undefined;
}

/**
 * Why pgplane cannot compute a verifier PostgreSQL would match for this password, or undefined.
 * PostgreSQL passes a non-ASCII password through SASLprep (RFC 4013) against the Unicode 3.2
 * tables before hashing, and falls back to the raw bytes when a character is unassigned in 3.2;
 * node has neither those tables nor SASLprep, so a verifier computed here for a non-ASCII
 * password might not be the one the server derives at login: the role would be locked out.
 * ASCII passwords skip SASLprep in PostgreSQL (pg_saslprep returns them unchanged).
 */
export function passwordProblem(password: string): string | undefined {
  if (password === '') return 'is empty';
  if (password.includes('\u0000')) return 'contains a NUL character, which a PostgreSQL password cannot hold';
  if ([...password].some((c) => c.codePointAt(0)! > 0x7f))
    return 'contains characters outside ASCII; PostgreSQL normalises such passwords (SASLprep) in a way pgplane cannot reproduce when it computes the SCRAM verifier, so use an ASCII password';
  return undefined;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64, as in pg_authid. */
export function scramVerifier(password: string, options: VerifierOptions = {}): string {
  const problem = passwordProblem(password);
  if (problem) throw new Error(`cannot compute a SCRAM verifier: the password ${problem}`);
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
