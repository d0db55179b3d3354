// The whole composition of one PostgresInstance: desired objects, their readiness, XR status and
// conditions, from the resolved plan and what Crossplane observed. Pure: no I/O, no clock.
import { RESOURCE_KEYS, REQUIRED_CREDENTIALS_SECRET } from '../../shared/labels.js';
import { getObject, getPath, getString, type JsonObject } from '../../shared/json.js';
import { readClusterState } from '../observe/cluster.js';
import { findCondition } from '../observe/conditions.js';
import { readCredentialsSecret, type CredentialsSecretState } from '../observe/credentials-secret.js';
import { readExternalSecretState } from '../observe/external-secret.js';
import { passwordPolicyViolations, refusesWeakPasswords } from '../observe/password-policy.js';
import { buildObjectStore, buildScheduledBackup } from './backup.js';
import { buildCluster } from './cluster.js';
import {
  buildConnectionExternalSecret,
  buildConnectionSecret,
  connectionLiterals,
  connectionValues,
  publishesConnection,
} from './connection.js';
import { buildCredentialsExternalSecret, type StoreCredentials } from './credentials.js';
import { buildDatabase } from './database.js';
import { toJsonObject, type KubernetesObject } from './kubernetes-object.js';
import { buildProviderConfig, composedGrants } from './grants.js';
import { buildPodMonitor, buildPrometheusRule } from './monitoring.js';
import { buildNetworkPolicy } from './network-policy.js';
import type { InstancePlan, RolePlan } from './plan.js';
import { buildPooler } from './pooler.js';
import { buildDatabaseRole, extraRoles } from './roles.js';

export interface Observed {
  /** Observed composed resources, by their key in the composition. */
  resources: Readonly<Record<string, JsonObject>>;
  /** Objects Crossplane fetched for us (existing credentials Secrets), by requirement key. */
  required: Readonly<Record<string, JsonObject>>;
}

interface ComposedResource {
  resource: JsonObject;
  ready: boolean;
}

interface ResourceRequirement {
  apiVersion: string;
  kind: string;
  matchName: string;
  namespace: string;
}

interface XrCondition {
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
  /**
   * Why nothing may be composed (a password the platform's policy refuses). The handler answers
   * with these as one FATAL result instead of the resources.
   */
  refusals: string[];
  /** Everything composed is ready: Crossplane may cache the answer longer. */
  ready: boolean;
}

export const CONDITION_TYPES = {
  cluster: 'ClusterReady',
  credentials: 'CredentialsReady',
  passwordPolicy: 'PasswordPolicy',
  connection: 'ConnectionSecretReady',
  grants: 'GrantsReady',
} as const;

/** Resource and requirement keys per role; the owner's keep the names they had before roles existed. */
function roleKeys(plan: InstancePlan, role: RolePlan) {
  return {
    credentials: role.kind === 'owner' ? RESOURCE_KEYS.credentials : `credentials-${role.key}`,
    connection: role === plan.application ? RESOURCE_KEYS.connection : `connection-${role.key}`,
    required:
      role.kind === 'owner' ? REQUIRED_CREDENTIALS_SECRET : `${REQUIRED_CREDENTIALS_SECRET}-${role.key}`,
  };
}

/** Collects what the builders produce, with one condition per concern aggregated over its objects. */
class CompositionBuilder {
  readonly resources: Record<string, ComposedResource> = {};
  readonly requirements: Record<string, ResourceRequirement> = {};
  readonly warnings: string[] = [];
  readonly refusals: string[] = [];
  private readonly problems = new Map<string, string[]>();

  constructor(private readonly observed: Observed) {}

  observedResource(key: string): JsonObject | undefined {
    return this.observed.resources[key];
  }

  requiredResource(key: string): JsonObject | undefined {
    return this.observed.required[key];
  }

  add(key: string, resource: KubernetesObject | JsonObject, ready: boolean): void {
    this.resources[key] = { resource: toJsonObject(resource), ready };
  }

  /** Auxiliary objects without a readiness signal of their own are ready once they exist. */
  addWhenObserved(key: string, resource: KubernetesObject | JsonObject | undefined): void {
    if (resource) this.add(key, resource, this.observedResource(key) !== undefined);
  }

  track(concern: string, problem?: string): void {
    const list = this.problems.get(concern) ?? [];
    if (problem) list.push(problem);
    this.problems.set(concern, list);
  }

  conditions(): XrCondition[] {
    return [...this.problems.entries()].map(([type, problems]) =>
      problems.length === 0
        ? { type, status: 'True', reason: 'Available', message: 'ready' }
        : { type, status: 'False', reason: 'Unavailable', message: problems.join('; ') },
    );
  }
}

export function composeInstance(plan: InstancePlan, observed: Observed): Composition {
  const out = new CompositionBuilder(observed);

  const cluster = readClusterState(out.observedResource(RESOURCE_KEYS.cluster), plan.spec.instances);
  out.add(RESOURCE_KEYS.cluster, buildCluster(plan), cluster.ready);
  const clusterCondition: XrCondition = cluster.ready
    ? {
        type: CONDITION_TYPES.cluster,
        status: 'True',
        reason: cluster.hibernated ? 'Hibernated' : 'Available',
        message: cluster.hibernated
          ? 'hibernated: pods are stopped, volumes are kept'
          : `${cluster.readyInstances}/${cluster.instances} instances ready`,
      }
    : {
        type: CONDITION_TYPES.cluster,
        status: 'False',
        reason: cluster.observed ? 'Unavailable' : 'Creating',
        message: cluster.problem ?? 'not ready',
      };

  const roles = [plan.owner, ...extraRoles(plan)].filter((role) => role.login);
  const connectionDetails =
    plan.credentials.kind === 'SecretStore'
      ? composeFromStore(plan, plan.credentials, roles, out)
      : composeFromSecrets(plan, roles, out);

  if (plan.input.roleManagement === 'DatabaseRole') {
    for (const role of extraRoles(plan)) {
      const key = `role-${role.key}`;
      const observedRole = out.observedResource(key);
      out.add(key, buildDatabaseRole(plan, role), getPath(observedRole, 'status', 'applied') === true);
    }
  }

  const grants = composedGrants(plan);
  if (grants.length > 0) {
    out.addWhenObserved('provider-config', buildProviderConfig(plan));
    for (const { key, grant } of grants) {
      const resourceKey = `grant-${key}`;
      const observedGrant = out.observedResource(resourceKey);
      const ready = findCondition(observedGrant, 'Ready')?.status === 'True';
      out.add(resourceKey, grant, ready);
      out.track(CONDITION_TYPES.grants, ready ? undefined : grantProblem(plan, grant, observedGrant));
    }
  }

  const database = buildDatabase(plan);
  if (database)
    out.add('database', database, getPath(out.observedResource('database'), 'status', 'applied') === true);
  out.addWhenObserved('pooler', buildPooler(plan));
  out.addWhenObserved('object-store', buildObjectStore(plan));
  out.addWhenObserved('scheduled-backup', buildScheduledBackup(plan));
  out.addWhenObserved('pod-monitor', buildPodMonitor(plan));
  out.addWhenObserved('prometheus-rule', buildPrometheusRule(plan));
  out.addWhenObserved('network-policy', buildNetworkPolicy(plan));

  const status: JsonObject = {
    endpoint: plan.application.connection?.endpoint ?? plan.primaryEndpoint,
    port: plan.port,
    phase: cluster.phase,
    readyInstances: cluster.readyInstances,
    instances: cluster.instances,
    connectionSecretName: plan.application.connection?.secretName,
    ...(cluster.version ? { version: cluster.version } : {}),
  };
  const conditions = [clusterCondition, ...out.conditions()];
  return {
    resources: out.resources,
    requirements: out.requirements,
    ...(connectionDetails ? { connectionDetails } : {}),
    status,
    conditions,
    warnings: out.warnings,
    refusals: out.refusals,
    ready: Object.values(out.resources).every((r) => r.ready) && conditions.every((c) => c.status === 'True'),
  };
}

/** Why a Grant is not ready yet, with the provider's own message when it has one. */
function grantProblem(plan: InstancePlan, grant: JsonObject, observed: JsonObject | undefined): string {
  const name = `Grant ${plan.namespace}/${getString(grant, 'metadata', 'name') ?? ''}`;
  if (observed === undefined) return `${name} has not been created yet`;
  const synced = findCondition(observed, 'Synced');
  return `${name} is not ready${synced?.status === 'False' && synced.message ? `: ${synced.message}` : ''}`;
}

/** Secret-store mode: External Secrets writes every credentials and connection Secret. */
function composeFromStore(
  plan: InstancePlan,
  source: StoreCredentials,
  roles: RolePlan[],
  out: CompositionBuilder,
): Record<string, string> | undefined {
  for (const role of roles) {
    const keys = roleKeys(plan, role);
    const credentials = readExternalSecretState(
      out.observedResource(keys.credentials),
      `ExternalSecret ${plan.namespace}/${role.credentialsSecretName}`,
    );
    out.add(keys.credentials, buildCredentialsExternalSecret(plan, source, role), credentials.ready);
    out.track(CONDITION_TYPES.credentials, credentials.problem);

    if (!publishesConnection(role)) continue;
    const connection = readExternalSecretState(
      out.observedResource(keys.connection),
      `ExternalSecret ${plan.namespace}/${role.connection.secretName}`,
    );
    out.add(keys.connection, buildConnectionExternalSecret(plan, source, role), connection.ready);
    out.track(CONDITION_TYPES.connection, connection.problem);
  }
  const application = plan.application;
  return plan.identity.legacy && publishesConnection(application)
    ? connectionLiterals(plan, application)
    : undefined;
}

/**
 * Existing-Secret mode: the teams' basic-auth Secrets are asked for as required resources, and the
 * connection Secrets are composed from them (namespaced XRs) or returned as connection details
 * (legacy XRs, whose claim's writeConnectionSecretToRef receives them).
 */
function composeFromSecrets(
  plan: InstancePlan,
  roles: RolePlan[],
  out: CompositionBuilder,
): Record<string, string> | undefined {
  let details: Record<string, string> | undefined;
  for (const role of roles) {
    const keys = roleKeys(plan, role);
    out.requirements[keys.required] = {
      apiVersion: 'v1',
      kind: 'Secret',
      matchName: role.credentialsSecretName,
      namespace: plan.namespace,
    };
    const secret: CredentialsSecretState = readCredentialsSecret(
      out.requiredResource(keys.required),
      role.credentialsSecretName,
      plan.namespace,
      role.name,
    );
    out.track(CONDITION_TYPES.credentials, secret.problem);
    if (secret.found && secret.problem) out.warnings.push(secret.problem);
    if (secret.found) checkPasswordPolicy(plan, role, secret.password, out);
    if (!publishesConnection(role)) continue;

    if (plan.identity.legacy) {
      if (role !== plan.application) continue;
      // Crossplane v1 writes connection details to the claim's writeConnectionSecretToRef.
      details = secret.found ? connectionValues(plan, role, secret.password) : connectionLiterals(plan, role);
      out.track(CONDITION_TYPES.connection, secret.found ? undefined : secret.problem);
      continue;
    }
    const existing = out.observedResource(keys.connection);
    if (secret.found) {
      out.add(keys.connection, buildConnectionSecret(plan, role, secret.password), existing !== undefined);
      out.track(
        CONDITION_TYPES.connection,
        existing
          ? undefined
          : `the connection Secret ${plan.namespace}/${role.connection.secretName} has not been created yet`,
      );
    } else {
      // The Secret may be briefly unreadable; dropping the connection Secret from the desired state
      // would make Crossplane delete it under running applications. Keep what exists.
      if (existing) out.add(keys.connection, carryForward(existing), true);
      out.track(CONDITION_TYPES.connection, existing ? undefined : secret.problem);
    }
  }
  return details;
}

/**
 * The platform's password policy on a password pgplane can see. The message names the Secret and
 * the rules it breaks; the password, and anything computed from it, stays out of it.
 */
function checkPasswordPolicy(
  plan: InstancePlan,
  role: RolePlan,
  password: string,
  out: CompositionBuilder,
): void {
  const policy = plan.input.credentials?.passwordPolicy;
  const violations = passwordPolicyViolations(password, role.name, policy);
  if (violations.length === 0) {
    out.track(CONDITION_TYPES.passwordPolicy);
    return;
  }
  const message = `the password in Secret ${plan.namespace}/${role.credentialsSecretName} (role ${role.name}) breaks this platform's password policy: ${violations.join('; ')}. Set a random one, e.g. --from-literal=password="$(openssl rand -base64 32)"`;
  if (refusesWeakPasswords(policy)) out.refusals.push(message);
  else {
    out.warnings.push(message);
    out.track(CONDITION_TYPES.passwordPolicy, message);
  }
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
