// The whole composition of one PostgresInstance: desired objects, their readiness, XR status and
// conditions, from the resolved plan and what Crossplane observed. Pure: no I/O, no clock.
import { RESOURCE_KEYS, REQUIRED_CREDENTIALS_SECRET } from '../../shared/labels.js';
import { getObject, getString, type JsonObject } from '../../shared/json.js';
import { readClusterState } from '../observe/cluster.js';
import { readCredentialsSecret } from '../observe/credentials-secret.js';
import { readExternalSecretState } from '../observe/external-secret.js';
import { buildCluster } from './cluster.js';
import {
  buildConnectionExternalSecret,
  buildConnectionSecret,
  connectionLiterals,
  connectionValues,
} from './connection.js';
import { buildCredentialsExternalSecret } from './credentials.js';
import type { InstancePlan } from './plan.js';

export interface Observed {
  /** Observed composed resources, by their key in the composition. */
  resources: Readonly<Record<string, JsonObject>>;
  /** The existing credentials Secret, when Crossplane fetched it for us. */
  credentialsSecret?: JsonObject;
}

export interface ComposedResource {
  resource: JsonObject;
  ready: boolean;
}

export interface ResourceRequirement {
  apiVersion: string;
  kind: string;
  matchName: string;
  namespace: string;
}

export interface XrCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Composition {
  resources: Record<string, ComposedResource>;
  requirements: Record<string, ResourceRequirement>;
  /** Legacy XRs only: Crossplane writes these to the claim's connection Secret. */
  connectionDetails?: Record<string, string>;
  status: JsonObject;
  conditions: XrCondition[];
  warnings: string[];
  /** Everything composed is ready: Crossplane may cache the answer longer. */
  ready: boolean;
}

export const CONDITION_TYPES = {
  cluster: 'ClusterReady',
  credentials: 'CredentialsReady',
  connection: 'ConnectionSecretReady',
} as const;

export function composeInstance(plan: InstancePlan, observed: Observed): Composition {
  const resources: Record<string, ComposedResource> = {};
  const requirements: Record<string, ResourceRequirement> = {};
  const conditions: XrCondition[] = [];
  const warnings: string[] = [];
  let connectionDetails: Record<string, string> | undefined;

  const cluster = readClusterState(observed.resources[RESOURCE_KEYS.cluster], plan.spec.instances);
  resources[RESOURCE_KEYS.cluster] = { resource: buildCluster(plan), ready: cluster.ready };
  conditions.push(
    cluster.ready
      ? condition(
          CONDITION_TYPES.cluster,
          true,
          cluster.hibernated ? 'Hibernated' : 'Available',
          cluster.hibernated
            ? 'hibernated: pods are stopped, volumes are kept'
            : `${cluster.readyInstances}/${cluster.instances} instances ready`,
        )
      : condition(
          CONDITION_TYPES.cluster,
          false,
          cluster.observed ? 'Unavailable' : 'Creating',
          cluster.problem ?? 'not ready',
        ),
  );

  const source = plan.credentials;
  if (source.kind === 'SecretStore') {
    const credentials = readExternalSecretState(
      observed.resources[RESOURCE_KEYS.credentials],
      `ExternalSecret ${plan.namespace}/${plan.credentialsSecretName}`,
    );
    resources[RESOURCE_KEYS.credentials] = {
      resource: buildCredentialsExternalSecret(plan, source),
      ready: credentials.ready,
    };
    conditions.push(secretCondition(CONDITION_TYPES.credentials, credentials.ready, credentials.problem));

    const connection = readExternalSecretState(
      observed.resources[RESOURCE_KEYS.connection],
      `ExternalSecret ${plan.namespace}/${plan.connectionSecretName}`,
    );
    resources[RESOURCE_KEYS.connection] = {
      resource: buildConnectionExternalSecret(plan, source),
      ready: connection.ready,
    };
    conditions.push(secretCondition(CONDITION_TYPES.connection, connection.ready, connection.problem));
    if (plan.identity.legacy) connectionDetails = connectionLiterals(plan);
  } else {
    requirements[REQUIRED_CREDENTIALS_SECRET] = {
      apiVersion: 'v1',
      kind: 'Secret',
      matchName: plan.credentialsSecretName,
      namespace: plan.namespace,
    };
    const secret = readCredentialsSecret(
      observed.credentialsSecret,
      plan.credentialsSecretName,
      plan.namespace,
      plan.spec.databaseOwner,
    );
    conditions.push(
      secretCondition(CONDITION_TYPES.credentials, secret.found && !secret.problem, secret.problem),
    );
    if (secret.problem) warnings.push(secret.problem);

    if (plan.identity.legacy) {
      // Crossplane v1 writes connection details to the claim's writeConnectionSecretToRef.
      connectionDetails = secret.found ? connectionValues(plan, secret.password) : connectionLiterals(plan);
      conditions.push(
        secretCondition(CONDITION_TYPES.connection, secret.found, secret.found ? undefined : secret.problem),
      );
    } else if (secret.found) {
      const exists = observed.resources[RESOURCE_KEYS.connection] !== undefined;
      resources[RESOURCE_KEYS.connection] = {
        resource: buildConnectionSecret(plan, secret.password),
        ready: exists,
      };
      conditions.push(
        secretCondition(
          CONDITION_TYPES.connection,
          exists,
          `the connection Secret ${plan.namespace}/${plan.connectionSecretName} has not been created yet`,
        ),
      );
    } else {
      // The Secret may be briefly unreadable; dropping the connection Secret from the desired state
      // would make Crossplane delete it under running applications. Keep what exists.
      const existing = observed.resources[RESOURCE_KEYS.connection];
      if (existing) resources[RESOURCE_KEYS.connection] = { resource: carryForward(existing), ready: true };
      conditions.push(secretCondition(CONDITION_TYPES.connection, existing !== undefined, secret.problem));
    }
  }

  const status: JsonObject = {
    endpoint: plan.endpoint,
    port: plan.port,
    phase: cluster.phase,
    readyInstances: cluster.readyInstances,
    instances: cluster.instances,
    connectionSecretName: plan.connectionSecretName,
    ...(cluster.version ? { version: cluster.version } : {}),
  };

  return {
    resources,
    requirements,
    ...(connectionDetails ? { connectionDetails } : {}),
    status,
    conditions,
    warnings,
    ready: Object.values(resources).every((r) => r.ready) && conditions.every((c) => c.status === 'True'),
  };
}

function condition(type: string, ok: boolean, reason: string, message: string): XrCondition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

function secretCondition(type: string, ok: boolean, problem?: string): XrCondition {
  return ok
    ? condition(type, true, 'Available', 'synced')
    : condition(type, false, 'Unavailable', problem ?? 'not ready');
}

/** The parts of an observed object we own, without server-set metadata or status. */
function carryForward(observed: JsonObject): JsonObject {
  const metadata = getObject(observed, 'metadata') ?? {};
  const labels = getObject(metadata, 'labels');
  const type = getString(observed, 'type');
  const data = getObject(observed, 'data');
  return {
    apiVersion: observed.apiVersion,
    kind: observed.kind,
    metadata: { name: metadata.name, namespace: metadata.namespace, ...(labels ? { labels } : {}) },
    ...(type ? { type } : {}),
    ...(data ? { data } : {}),
  };
}
