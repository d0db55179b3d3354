// No Secret value in what the provider says: a ProviderConfig's author picks which Secret key
// feeds host, port, user and sslmode, so messages show keys and scrub what the driver echoes.
import { describe, expect, it } from 'vitest';
import { connectFailure, redact } from '../../src/provider/disclosure.js';

const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';

describe('redact', () => {
  it('replaces each Secret value with its key, the longer value first', () => {
    const values = [
      { key: 'username', value: 'app' },
      { key: 'host', value: 'app.db.internal' },
    ];
    expect(redact('cannot reach app.db.internal as "app"', values)).toBe(
      'cannot reach <host> as "<username>"',
    );
  });

  it('leaves words that merely contain a short value alone', () => {
    expect(redact('database "application" of app', [{ key: 'username', value: 'app' }])).toBe(
      'database "application" of <username>',
    );
  });

  it('catches the 63-byte prefix PostgreSQL echoes for a long role name, and other casings', () => {
    const long = `${STRIPE}${'x'.repeat(60)}`;
    const echoed = `role "${long.slice(0, 63)}" does not exist`;
    expect(redact(echoed, [{ key: 'stripe-key', value: long }])).toBe('role "<stripe-key>" does not exist');
    expect(redact(`getaddrinfo ENOTFOUND ${STRIPE.toLowerCase()}`, [{ key: 'k', value: STRIPE }])).toBe(
      'getaddrinfo ENOTFOUND <k>',
    );
  });

  it('cuts a multi-byte prefix on a character boundary, as the server does', () => {
    const long = 'é'.repeat(40); // 80 bytes: the server keeps 31 characters (62 bytes)
    expect(redact(`role "${'é'.repeat(31)}" does not exist`, [{ key: 'k', value: long }])).toBe(
      'role "<k>" does not exist',
    );
  });

  it('values with regular-expression characters are matched literally', () => {
    expect(redact('user "a.b*c(d)" failed', [{ key: 'u', value: 'a.b*c(d)' }])).toBe('user "<u>" failed');
    expect(redact('user "aXbbc(d)" failed', [{ key: 'u', value: 'a.b*c(d)' }])).toBe(
      'user "aXbbc(d)" failed',
    );
  });
});

describe('connectFailure', () => {
  const values = [
    { key: 'username', value: STRIPE },
    { key: 'host', value: 'pg.internal' },
  ];
  const error = (code: string | undefined, message: string) =>
    Object.assign(new Error(message), code ? { code } : {});

  it.each([
    [
      '28P01',
      `password authentication failed for user "${STRIPE}"`,
      'password authentication failed (SQLSTATE 28P01)',
    ],
    ['28000', `role "${STRIPE}" does not exist`, /^the server refused the login .*\(SQLSTATE 28000\)$/],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND pg.internal', 'the host name does not resolve (ENOTFOUND)'],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames: Host: pg.internal. is not in the cert's altnames: DNS:x",
      "the server's certificate does not name the host (ERR_TLS_CERT_ALTNAME_INVALID)",
    ],
  ])('%s is said in our words, not the echo', (code, message, expected) => {
    const said = connectFailure(error(code, message), values);
    if (typeof expected === 'string') expect(said).toBe(expected);
    else expect(said).toMatch(expected);
    expect(said).not.toContain(STRIPE);
    expect(said).not.toContain('pg.internal');
  });

  it('anything else is the driver text with the values replaced', () => {
    expect(connectFailure(error('08P01', `invalid startup for ${STRIPE}`), values)).toBe(
      'invalid startup for <username> (08P01)',
    );
    expect(connectFailure(new Error('Connection terminated due to connection timeout'), values)).toBe(
      'Connection terminated due to connection timeout',
    );
    expect(connectFailure(`thrown ${STRIPE}`, values)).toBe('thrown <username>');
  });
});
