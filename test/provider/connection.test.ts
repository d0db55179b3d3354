import { describe, expect, it } from 'vitest';
import {
  buildConnection,
  connectionSource,
  ConnectionConfigError,
  decodeSecretData,
  describeConnection,
  describeSecret,
  providerConfigRefOf,
  resolveConnection,
  type SecretRef,
} from '../../src/provider/connection.js';

const PASSWORD = 'pa ss-w0rd';

/** A CNPG `<cluster>-app` Secret as CNPG writes it (decoded). */
const cnpgApp = {
  username: 'app',
  password: PASSWORD,
  host: 'pg-rw',
  port: '5432',
  dbname: 'app',
  user: 'app',
};
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function reader(secrets: Record<string, Record<string, string>>) {
  const reads: string[] = [];
  const read = async (ref: SecretRef) => {
    reads.push(`${ref.namespace}/${ref.name}`);
    return secrets[`${ref.namespace}/${ref.name}`];
  };
  return { read, reads };
}

describe('providerConfigRefOf', () => {
  it('defaults like Crossplane v2: ClusterProviderConfig "default"', () => {
    expect(providerConfigRefOf(undefined)).toEqual({ kind: 'ClusterProviderConfig', name: 'default' });
    expect(providerConfigRefOf({ name: 'pg' })).toEqual({ kind: 'ClusterProviderConfig', name: 'pg' });
    expect(providerConfigRefOf({ name: 'pg', kind: 'ProviderConfig' })).toEqual({
      kind: 'ProviderConfig',
      name: 'pg',
    });
    expect(() => providerConfigRefOf({ name: 'pg', kind: 'Secret' })).toThrow(/use ProviderConfig/);
  });
});

describe('ProviderConfig + Secret → connection', () => {
  it('a CNPG cluster reference reads <cluster>-app and <cluster>-ca and uses the namespaced service with verify-full', async () => {
    const source = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'team-a' },
      spec: { cluster: 'pg' },
    });
    const { read, reads } = reader({
      'team-a/pg-app': cnpgApp,
      'team-a/pg-ca': { 'ca.crt': CA, 'ca.key': 'secret-key' },
    });
    const { connection, secrets } = await resolveConnection(source, read);
    expect(reads).toEqual(['team-a/pg-app', 'team-a/pg-ca']);
    expect(secrets).toEqual([
      { namespace: 'team-a', name: 'pg-app' },
      { namespace: 'team-a', name: 'pg-ca' },
    ]);
    expect(connection).toMatchObject({
      host: 'pg-rw.team-a.svc',
      port: 5432,
      user: 'app',
      password: PASSWORD,
      sslmode: 'verify-full',
    });
    expect(connection.ssl).toEqual({ rejectUnauthorized: true, ca: CA });
  });

  it("a ClusterProviderConfig names the Secrets' namespace; custom keys and literal overrides win", () => {
    const source = connectionSource('ClusterProviderConfig', {
      metadata: { name: 'shared' },
      spec: {
        namespace: 'db',
        connectionSecretRef: { name: 'owner' },
        keys: { user: 'login', password: 'secret' },
        port: 6432,
        sslmode: 'disable',
      },
    });
    const connection = buildConnection(
      source,
      { login: 'owner', secret: PASSWORD, host: 'db.example', port: '5432' },
      undefined,
    );
    expect(connection).toMatchObject({
      host: 'db.example',
      port: 6432,
      user: 'owner',
      sslmode: 'disable',
      ssl: false,
    });
  });

  it('defaults sslmode to require without a CA and reads sslmode from the Secret', () => {
    const source = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { connectionSecretRef: { name: 's' } },
    });
    expect(buildConnection(source, { ...cnpgApp }, undefined)).toMatchObject({
      sslmode: 'require',
      ssl: { rejectUnauthorized: false },
    });
    expect(buildConnection(source, { ...cnpgApp, sslmode: 'disable' }, undefined)).toMatchObject({
      sslmode: 'disable',
      ssl: false,
    });
  });

  it('a changed password changes the credentials fingerprint, which never contains the password', () => {
    const source = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { connectionSecretRef: { name: 's' } },
    });
    const a = buildConnection(source, cnpgApp, undefined);
    const b = buildConnection(source, { ...cnpgApp, password: 'rotated' }, undefined);
    expect(a.credentialsFingerprint).not.toBe(b.credentialsFingerprint);
    expect(a.credentialsFingerprint).not.toContain(PASSWORD);
  });

  it.each([
    [{}, /has no key "username"/],
    [{ username: 'app' }, /has no key "password"/],
    [{ username: 'app', password: 'x', port: 'abc', host: 'h' }, /key "port" is not a port number/],
    [
      { username: 'app', password: 'x', host: 'h', sslmode: 'prefer' },
      /key "sslmode" does not hold an sslmode; it must be one of disable, require, verify-ca, verify-full/,
    ],
  ])('a Secret missing or garbling values gives a readable error: %j', (data, message) => {
    const source = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { connectionSecretRef: { name: 's' } },
    });
    expect(() => buildConnection(source, { host: 'h', ...data }, undefined)).toThrow(message);
  });

  it('errors name the Secret and the key, never the password', async () => {
    const source = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { cluster: 'pg' },
    });
    const { read } = reader({ 'a/pg-app': { ...cnpgApp, port: 'not-a-port' }, 'a/pg-ca': { 'ca.crt': CA } });
    const error = await resolveConnection(source, read).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionConfigError);
    expect((error as Error).message).toBe(
      'Secret "a/pg-app" (from ProviderConfig "a/pg") key "port" is not a port number (1-65535)',
    );
    expect((error as Error).message).not.toContain(PASSWORD);
  });

  it('a missing Secret, a missing CA and an invalid ProviderConfig are readable errors', async () => {
    const pc = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { cluster: 'pg' },
    });
    await expect(resolveConnection(pc, reader({}).read)).rejects.toThrow(
      'Secret "a/pg-app" named by ProviderConfig "a/pg" does not exist',
    );
    await expect(resolveConnection(pc, reader({ 'a/pg-app': cnpgApp }).read)).rejects.toThrow(
      'CA Secret "a/pg-ca" named by ProviderConfig "a/pg" does not exist',
    );
    expect(() =>
      connectionSource('ProviderConfig', { metadata: { name: 'pg', namespace: 'a' }, spec: {} }),
    ).toThrow(/ProviderConfig "pg" is invalid: spec.connectionSecretRef: is required without cluster/);
    expect(() =>
      connectionSource('ClusterProviderConfig', { metadata: { name: 'pg' }, spec: { cluster: 'pg' } }),
    ).toThrow(/spec.namespace/);
  });

  it('describeConnection and decodeSecretData', () => {
    const source = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { connectionSecretRef: { name: 's' }, sslmode: 'disable' },
    });
    const c = buildConnection(source, cnpgApp, undefined);
    // Values from the Secret show as their keys; the Secret is named next to them.
    expect(describeConnection(c, 'app')).toBe('<username>@<host>:<port>/app (sslmode disable)');
    expect(describeSecret(c)).toBe('Secret "a/s"');
    const cluster = connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { cluster: 'pg', port: 6432 },
    });
    // Values from the ProviderConfig itself show as they are.
    expect(describeConnection(buildConnection(cluster, cnpgApp, CA))).toBe(
      '<username>@pg-rw.a.svc:6432 (sslmode verify-full)',
    );
    expect(decodeSecretData({ password: Buffer.from(PASSWORD).toString('base64') })).toEqual({
      password: PASSWORD,
    });
  });
});

describe('a hostile ProviderConfig: every key mapped to another key of the Secret', () => {
  const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
  const secret = { ...cnpgApp, 'stripe-key': STRIPE };
  const source = (keys: Record<string, string>) =>
    connectionSource('ProviderConfig', {
      metadata: { name: 'pg', namespace: 'a' },
      spec: { connectionSecretRef: { name: 's' }, keys },
    });

  it.each([
    ['sslmode', { sslmode: 'stripe-key' }],
    ['port', { port: 'stripe-key' }],
    ['sslmode', { sslmode: 'password' }],
    ['every key', { host: 'stripe-key', port: 'password', user: 'stripe-key', sslmode: 'stripe-key' }],
  ])('%s: the error names the Secret and the key, never the value', (_what, keys) => {
    const error = (() => {
      try {
        buildConnection(source(keys), secret, undefined);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConnectionConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Secret "a\/s" \(from ProviderConfig "a\/pg"\) key "(stripe-key|password)"/);
    expect(message).not.toContain(STRIPE);
    expect(message).not.toContain(PASSWORD);
  });

  it('host and user from any key: described by key, and every value read is listed for scrubbing', () => {
    const c = buildConnection(source({ host: 'stripe-key', user: 'password' }), secret, undefined);
    expect(c).toMatchObject({ host: STRIPE, user: PASSWORD });
    expect(describeConnection(c, 'app')).toBe('<password>@<stripe-key>:<port>/app (sslmode require)');
    expect(c.secretValues).toEqual(
      expect.arrayContaining([
        { key: 'stripe-key', value: STRIPE },
        { key: 'password', value: PASSWORD },
        { key: 'port', value: '5432' },
      ]),
    );
  });
});
