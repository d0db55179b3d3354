// Connection Secrets applications read, one per login role. Same keys whichever way they are built:
// endpoint, port, database, username, password, sslmode, uri, jdbc-uri.
import { commonLabels } from '../../shared/labels.js';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import {
  ESO_API_VERSION,
  PASSWORD,
  passwordData,
  URI_PASSWORD,
  type StoreCredentials,
} from './credentials.js';
import type { TenantPlan, RolePlan } from './plan.js';
import type { ExternalSecret, ExternalSecretData } from './upstream/eso-external-secret.js';

/** Every connection goes over TLS (the Cluster refuses plain-text connections). */
const SSL_MODE = 'require';

type PublishedRole = RolePlan & { connection: NonNullable<RolePlan['connection']> };

export function publishesConnection(role: RolePlan): role is PublishedRole {
  return role.connection !== undefined;
}

export function connectionLiterals(plan: TenantPlan, role: PublishedRole): Record<string, string> {
  return {
    endpoint: role.connection.endpoint,
    port: String(plan.port),
    database: plan.spec.databaseName,
    username: role.name,
    sslmode: SSL_MODE,
  };
}

function uris(plan: TenantPlan, role: PublishedRole, encodedPassword: string): Record<string, string> {
  const { endpoint } = role.connection;
  const { port } = plan;
  const database = encodeURIComponent(plan.spec.databaseName);
  const user = encodeURIComponent(role.name);
  return {
    uri: `postgresql://${user}:${encodedPassword}@${endpoint}:${port}/${database}?sslmode=${SSL_MODE}`,
    'jdbc-uri': `jdbc:postgresql://${endpoint}:${port}/${database}?user=${user}&password=${encodedPassword}&sslmode=${SSL_MODE}`,
  };
}

/** Where a connection ExternalSecret reads the role's password: a store, and the data entry in it. */
export interface ConnectionPassword {
  storeRef: { name: string; kind: 'SecretStore' | 'ClusterSecretStore' };
  refreshInterval: string;
  data: ExternalSecretData[];
}

/** Secret-store mode: the same remote password the credentials ExternalSecret reads. */
export function storeConnectionPassword(source: StoreCredentials, role: RolePlan): ConnectionPassword {
  return {
    storeRef: { name: source.store.name, kind: source.store.kind },
    refreshInterval: source.refreshInterval,
    data: passwordData(source, role),
  };
}

/**
 * With a secret store (or generated credentials, read back through the reader store), External
 * Secrets writes the connection Secret itself from the password plus literals: the password never
 * passes through Crossplane or this function.
 */
export function buildConnectionExternalSecret(
  plan: TenantPlan,
  source: ConnectionPassword,
  role: PublishedRole,
): ExternalSecret {
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name: role.connection.secretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'connection'),
    },
    spec: {
      refreshInterval: source.refreshInterval,
      secretStoreRef: source.storeRef,
      target: {
        name: role.connection.secretName,
        creationPolicy: 'Owner',
        template: {
          engineVersion: 'v2',
          type: 'Opaque',
          metadata: { labels: commonLabels(plan.name, 'connection') },
          data: {
            ...connectionLiterals(plan, role),
            password: PASSWORD,
            ...uris(plan, role, URI_PASSWORD),
          },
        },
      },
      data: source.data,
    },
  };
}

/** The full set of connection values, once the password is known (existing-Secret mode). */
export function connectionValues(
  plan: TenantPlan,
  role: PublishedRole,
  password: string,
): Record<string, string> {
  return { ...connectionLiterals(plan, role), password, ...uris(plan, role, encodeURIComponent(password)) };
}

export function buildConnectionSecret(plan: TenantPlan, role: PublishedRole, password: string): ISecret {
  const values = connectionValues(plan, role, password);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: role.connection.secretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'connection'),
    },
    type: 'Opaque',
    data: Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]),
    ),
  };
}
