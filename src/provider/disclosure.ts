// What the provider may say about a connection. A value read from a Secret never reaches a
// condition, an event, a log line or a metric: messages show the key it came from (<key>), and
// text from the driver or the server, which echoes host and role names, is rewritten first.
// Whoever may write a ProviderConfig chooses which Secret key feeds which field, so any key of
// any Secret in the namespace may land in host, user or sslmode: no value is safe to show.
// Pure: no I/O.

/** A value the connection took from a Secret, and the key it came from. */
export interface SecretValue {
  readonly key: string;
  readonly value: string;
}

/** How a Secret-sourced value is shown: the key in angle brackets, e.g. <username>. */
export function shownKey(key: string): string {
  return `<${key}>`;
}

/** PostgreSQL cuts names to NAMEDATALEN - 1 bytes before echoing them in "role ... does not exist". */
const NAME_BYTES = 63;

function truncatedName(value: string): string | undefined {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= NAME_BYTES) return undefined;
  // Cut on a character boundary, as the server does (pg_mbcliplen).
  let end = NAME_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

const WORD = /[A-Za-z0-9_]/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A value as a pattern. Edges that are word characters must be at a word boundary, so a short
 * value ("app") does not garble longer words ("application"); the driver and the server quote
 * or space-separate every name they echo. Case-insensitive: host names may be lower-cased.
 */
function valuePattern(value: string): string {
  const start = WORD.test(value[0]!) ? '(?<![A-Za-z0-9_])' : '';
  const end = WORD.test(value[value.length - 1]!) ? '(?![A-Za-z0-9_])' : '';
  return `${start}${escapeRegExp(value)}${end}`;
}

/**
 * Replaces every Secret value in `text` (and the 63-byte prefix the server echoes for long
 * names) with the key it came from. Longer values first, so one value inside another is no gap.
 */
export function redact(text: string, values: readonly SecretValue[]): string {
  const replacements = new Map<string, string>();
  for (const { key, value } of values) {
    if (value.trim() === '') continue;
    for (const v of [value, value.trim(), truncatedName(value)]) {
      if (v !== undefined && v !== '' && !replacements.has(v.toLowerCase()))
        replacements.set(v.toLowerCase(), shownKey(key));
    }
  }
  let out = text;
  for (const [value, shown] of [...replacements].sort((a, b) => b[0].length - a[0].length)) {
    out = out.replace(new RegExp(valuePattern(value), 'gi'), shown);
  }
  return out;
}

/** SQLSTATEs a login can fail with, in words: the server's own text names the role. */
const SERVER_REFUSALS: Readonly<Record<string, string>> = {
  '28P01': 'password authentication failed',
  '28000':
    'the server refused the login (no pg_hba.conf entry matches, or the role does not exist or may not log in)',
  '3D000': 'the database does not exist',
  '42501': 'permission denied to connect to the database (the role lacks CONNECT on it)',
  '53300': 'the server has too many connections',
  '57P03': 'the server is starting up, shutting down or in recovery',
};

/** Node's network and TLS error codes, in words: Node's own text names the host. */
const CLIENT_FAILURES: Readonly<Record<string, string>> = {
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS lookup timed out)',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'connecting timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name the host",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate is not signed by the CA",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not signed by the CA",
  UNABLE_TO_GET_ISSUER_CERT: "the server's certificate is not signed by the CA",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is not signed by the CA",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
};

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * Why connecting failed, fit for a condition: the known causes in our own words (their raw text
 * echoes host and role names), anything else as the driver said it with Secret values replaced.
 */
export function connectFailure(error: unknown, values: readonly SecretValue[]): string {
  const code = codeOf(error);
  const known = code ? (SERVER_REFUSALS[code] ?? CLIENT_FAILURES[code]) : undefined;
  if (known) return `${known} (${/^[0-9A-Z]{5}$/.test(code!) ? `SQLSTATE ${code}` : code})`;
  const message = error instanceof Error ? error.message : String(error);
  return `${redact(message, values)}${code && !message.includes(code) ? ` (${code})` : ''}`;
}
