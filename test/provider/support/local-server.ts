// The machine's PostgreSQL (127.0.0.1:5432, trust auth) as the provider sees a server: the
// ServerConnection a ProviderConfig would resolve to, for tests that drive pools and batches
// directly, without Kubernetes.
import type { ServerConnection } from '../../../src/provider/connection.js';

export const LOCAL = { host: '127.0.0.1', port: 5432, user: 'postgres' };

/** A connection to the local server as `user` (the password is unused: trust auth). */
export function localConnection(user = LOCAL.user): ServerConnection {
  return {
    host: LOCAL.host,
    port: LOCAL.port,
    user,
    password: 'unused-with-trust',
    sslmode: 'disable',
    ssl: false,
    defaultDatabase: 'postgres',
    credentialsFingerprint: 'fingerprint',
    shown: { host: LOCAL.host, port: String(LOCAL.port), user: '<username>' },
    secret: { namespace: 'test', name: 'pg' },
    secretValues: [],
  };
}
