// The connection Secret applications read. Same keys whichever way it is built:
// endpoint, port, database, username, password, sslmode, uri, jdbc-uri.
import { commonLabels } from '../../shared/labels.js';
import type { JsonObject } from '../../shared/json.js';
import { ESO_API_VERSION, passwordData, type StoreCredentials } from './credentials.js';
import type { InstancePlan } from './plan.js';

/** Every connection goes over TLS (the Cluster refuses plain-text connections). */
export const SSL_MODE = 'require';

export function connectionLiterals(plan: InstancePlan): Record<string, string> {
  return {
    endpoint: plan.endpoint,
    port: String(plan.port),
    database: plan.spec.databaseName,
    username: plan.spec.databaseOwner,
    sslmode: SSL_MODE,
  };
}

function uris(plan: InstancePlan, encodedPassword: string): Record<string, string> {
  const { endpoint, port } = plan;
  const { databaseName: database, databaseOwner: user } = plan.spec;
  return {
    uri: `postgresql://${user}:${encodedPassword}@${endpoint}:${port}/${database}?sslmode=${SSL_MODE}`,
    'jdbc-uri': `jdbc:postgresql://${endpoint}:${port}/${database}?user=${user}&password=${encodedPassword}&sslmode=${SSL_MODE}`,
  };
}

/**
 * With a secret store, External Secrets writes the connection Secret itself from the same remote
 * password plus literals: the password never passes through Crossplane or this function.
 */
export function buildConnectionExternalSecret(plan: InstancePlan, source: StoreCredentials): JsonObject {
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name: plan.connectionSecretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'connection'),
    },
    spec: {
      refreshInterval: source.refreshInterval,
      secretStoreRef: { name: source.store.name, kind: source.store.kind },
      target: {
        name: plan.connectionSecretName,
        creationPolicy: 'Owner',
        template: {
          engineVersion: 'v2',
          type: 'Opaque',
          metadata: { labels: commonLabels(plan.name, 'connection') },
          data: {
            ...connectionLiterals(plan),
            password: '{{ .password }}',
            ...uris(plan, '{{ .password | urlquery }}'),
          },
        },
      },
      data: passwordData(source),
    },
  };
}

/** The full set of connection values, once the password is known (existing-Secret mode). */
export function connectionValues(plan: InstancePlan, password: string): Record<string, string> {
  return { ...connectionLiterals(plan), password, ...uris(plan, encodeURIComponent(password)) };
}

export function buildConnectionSecret(plan: InstancePlan, password: string): JsonObject {
  const values = connectionValues(plan, password);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: plan.connectionSecretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'connection'),
    },
    type: 'Opaque',
    data: Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]),
    ),
  };
}
