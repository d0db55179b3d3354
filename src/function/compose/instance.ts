// The whole composition of one PostgresInstance: desired objects, their readiness, XR status and
// conditions, from the resolved plan and what Crossplane observed. Pure: no I/O, no clock.
import { RESOURCE_KEYS, REQUIRED_CREDENTIALS_SECRET } from '../../shared/labels.js';
import { getObject, getPath, getString, type JsonObject } from '../../shared/json.js';
import { readClusterState } from '../observe/cluster.js';
import { findCondition } from '../observe/conditions.js';
import { readCredentialsSecret, type CredentialsSecretState } from '../observe/credentials-secret.js';
import { readExternalSecretState } from '../observe/external-secret.js';
import { passwordPolicyViolations, refusesWeakPasswords } from '../observe/password-policy.js';
import { readMajorVersion, type MajorVersionState } from '../observe/upgrade.js';
import type { FieldError } from '../xr/errors.js';
import { archiveServerName, buildObjectStore, buildScheduledBackup } from './backup.js';
import { buildCluster } from './cluster.js';
import { credentialsOwnership, type CredentialsOwnership } from '../observe/adoption.js';
import {
  buildConnectionExternalSecret,
  buildConnectionSecret,
  connectionLiterals,
  connectionValues,
  publishesConnection,
  storeConnectionPassword,
} from './connection.js';
import { buildCredentialsExternalSecret, ESO_API_VERSION, type StoreCredentials } from './credentials.js';
import {
  buildCopiedCredentialsExternalSecret,
  buildGeneratedCredentialsExternalSecret,
  buildSlotExternalSecret,
  buildPasswordGenerator,
  buildPushSecret,
  buildReaderRole,
  buildReaderRoleBinding,
  buildReaderServiceAccount,
  buildReaderStore,
  GENERATED_KEYS,
  generatedConnectionPassword,
  generatorName,
  readerName,
  type GeneratedCredentials,
} from './generated-credentials.js';
import { buildDatabase } from './database.js';
import { toJsonObject, type KubernetesObject } from './kubernetes-object.js';
import { buildProviderConfig, composedGrants } from './grants.js';
import { buildPodMonitor, buildPrometheusRule } from './monitoring.js';
import { buildNetworkPolicy } from './network-policy.js';
import type { InstancePlan, RolePlan } from './plan.js';
import { buildPooler } from './pooler.js';
import { resolveRestore, type RestoreOutcome } from './restore.js';
import { composeVerification, VERIFY_KEYS } from './verification.js';
import { buildDatabaseRole, cnpgManagedRoles, extraRoles } from './roles.js';
import { planRotation, type RotationPhase } from './rotation.js';
import { composedUsages } from './usages.js';

export interface Observed {
  /** Observed composed resources, by their key in the composition. */
  resources: Readonly<Record<string, JsonObject>>;
  /** Objects Crossplane fetched for us (existing credentials Secrets), by requirement key. */
  required: Readonly<Record<string, JsonObject>>;
  /**
   * Requirement keys Crossplane has answered, found or not. A key it has not answered yet (the
   * first call) is not an object that is missing.
   */
  answered?: ReadonlySet<string>;
  /** The XR's observed status: what this function returned before, as Crossplane wrote it. */
  compositeStatus?: JsonObject;
  /** The XR's creationTimestamp. */
  compositeCreated?: string;
  /** The time of the request, read by the handler: compose never reads a clock. */
  now?: Date;
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
   * Why nothing may be composed (a password the platform's policy refuses, a restore that cannot
   * happen). The handler answers with these as one FATAL result instead of the resources.
   */
  refusals: Refusal[];
  /**
   * Spec fields the observed state refuses (a version lower than the one running, an upgrade with
   * no backup): the handler answers with one FATAL InvalidSpec result, so nothing changes.
   */
  specErrors: FieldError[];
  /** Everything composed is ready: Crossplane may cache the answer longer. */
  ready: boolean;
}

interface Refusal {
  reason: 'WeakPassword' | 'RestoreRefused' | 'CredentialsConflict';
  message: string;
}

export const CONDITION_TYPES = {
  restore: 'Restored',
  cluster: 'ClusterReady',
  credentials: 'CredentialsReady',
  rotation: 'PasswordRotated',
  passwordPolicy: 'PasswordPolicy',
  connection: 'ConnectionSecretReady',
  grants: 'GrantsReady',
  majorVersion: 'MajorVersion',
} as const;

/** Resource and requirement keys per role; the owner's keep the names they had before roles existed. */
function roleKeys(plan: InstancePlan, role: RolePlan) {
  return {
    credentials: role.kind === 'owner' ? RESOURCE_KEYS.credentials : `credentials-${role.key}`,
    connection: role === plan.application ? RESOURCE_KEYS.connection : `connection-${role.key}`,
    required:
      role.kind === 'owner' ? REQUIRED_CREDENTIALS_SECRET : `${REQUIRED_CREDENTIALS_SECRET}-${role.key}`,
    requiredExternalSecret:
      role.kind === 'owner'
        ? REQUIRED_CREDENTIALS_EXTERNAL_SECRET
        : `${REQUIRED_CREDENTIALS_EXTERNAL_SECRET}-${role.key}`,
    push: role.kind === 'owner' ? 'credentials-push' : `credentials-push-${role.key}`,
  };
}

/** Key under which the function asks for an ExternalSecret a team wrote for a credentials Secret. */
const REQUIRED_CREDENTIALS_EXTERNAL_SECRET = 'credentials-external-secret';

/** Collects what the builders produce, with one condition per concern aggregated over its objects. */
class CompositionBuilder {
  readonly resources: Record<string, ComposedResource> = {};
  readonly requirements: Record<string, ResourceRequirement> = {};
  readonly warnings: string[] = [];
  readonly refusals: Refusal[] = [];
  private readonly problems = new Map<string, string[]>();
  /** The reason a condition gives while it is False, where "Unavailable" would mislead. */
  private readonly pendingReasons = new Map<string, string>();
  /** What a ready condition says instead of "Available: ready" (e.g. that a Secret was adopted). */
  private readonly notes = new Map<string, { reason: string; messages: string[] }>();

  constructor(private readonly observed: Observed) {}

  observedResource(key: string): JsonObject | undefined {
    return this.observed.resources[key];
  }

  requiredResource(key: string): JsonObject | undefined {
    return this.observed.required[key];
  }

  /** Crossplane answered this requirement (with or without an object). */
  answered(key: string): boolean {
    return this.observed.answered?.has(key) ?? this.observed.required[key] !== undefined;
  }

  get compositeStatus(): JsonObject | undefined {
    return this.observed.compositeStatus;
  }

  get compositeCreated(): string | undefined {
    return this.observed.compositeCreated;
  }

  get now(): Date | undefined {
    return this.observed.now;
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

  pendingReason(concern: string, reason: string): void {
    this.pendingReasons.set(concern, reason);
  }

  note(concern: string, reason: string, message: string): void {
    const note = this.notes.get(concern) ?? { reason, messages: [] };
    note.messages.push(message);
    this.notes.set(concern, note);
  }

  conditions(): XrCondition[] {
    return [...this.problems.entries()].map(([type, problems]): XrCondition => {
      const note = this.notes.get(type);
      if (problems.length > 0) {
        const also = note ? `; ${note.messages.join('; ')}` : '';
        const reason = this.pendingReasons.get(type) ?? 'Unavailable';
        return { type, status: 'False', reason, message: `${problems.join('; ')}${also}` };
      }
      return note
        ? { type, status: 'True', reason: note.reason, message: `ready; ${note.messages.join('; ')}` }
        : { type, status: 'True', reason: 'Available', message: 'ready' };
    });
  }
}

export function composeInstance(plan: InstancePlan, observed: Observed): Composition {
  const out = new CompositionBuilder(observed);

  const observedCluster = out.observedResource(RESOURCE_KEYS.cluster);
  const cluster = readClusterState(observedCluster, plan.spec.instances);
  const archiveServer = archiveServerName(plan, observedCluster);
  const restore = resolveRestore(plan, {
    ...(observedCluster ? { cluster: observedCluster } : {}),
    clusterReady: cluster.ready || cluster.readyInstances > 0,
    ...(out.compositeStatus ? { compositeStatus: out.compositeStatus } : {}),
    required: (key) => out.requiredResource(key),
    answered: (key) => out.answered(key),
    serverName: archiveServer ?? plan.name,
  });
  if (restore.kind === 'refused') out.refusals.push({ reason: 'RestoreRefused', message: restore.message });
  if (restore.kind === 'waiting' || restore.kind === 'recover')
    Object.assign(out.requirements, restore.requirements);
  // Until the source is read, a Cluster would bootstrap empty (initdb) and never restore: none yet.
  if (restore.kind !== 'waiting') {
    const recovery = restore.kind === 'recover' ? restore.recovery : undefined;
    out.add(
      RESOURCE_KEYS.cluster,
      buildCluster(plan, {
        ...(recovery ? { recovery } : {}),
        ...(archiveServer ? { archiveServerName: archiveServer } : {}),
      }),
      cluster.ready,
    );
  }
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
        reason: cluster.observed ? 'Unavailable' : restore.kind === 'waiting' ? 'Waiting' : 'Creating',
        message: restore.kind === 'waiting' ? restore.message : (cluster.problem ?? 'not ready'),
      };

  const roles = [plan.owner, ...extraRoles(plan)].filter((role) => role.login);
  const { details: connectionDetails, adopted, rotations } = composeCredentials(plan, roles, out);

  if (plan.input.roleManagement === 'DatabaseRole') {
    for (const role of cnpgManagedRoles(plan)) {
      const key = `role-${role.key}`;
      const observedRole = out.observedResource(key);
      out.add(key, buildDatabaseRole(plan, role), getPath(observedRole, 'status', 'applied') === true);
    }
  }

  const version = readMajorVersion(
    plan,
    out.observedResource(RESOURCE_KEYS.cluster),
    out.observedResource('object-store'),
  );
  const grants = composedGrants(plan);
  for (const { key, usage } of composedUsages(plan, grants)) out.addWhenObserved(key, usage);
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
  const verification = composeVerification(plan, {
    now: out.now ?? new Date(0),
    ...(out.compositeStatus ? { compositeStatus: out.compositeStatus } : {}),
    ...(out.compositeCreated ? { compositeCreated: out.compositeCreated } : {}),
    ...(observedCluster ? { cluster: observedCluster } : {}),
    clusterReady: cluster.ready,
    ...(out.observedResource('object-store') ? { objectStore: out.observedResource('object-store') } : {}),
    ...(out.observedResource(VERIFY_KEYS.clone) ? { clone: out.observedResource(VERIFY_KEYS.clone) } : {}),
  });
  for (const { key, resource, ready } of verification?.resources ?? []) out.add(key, resource, ready);
  out.addWhenObserved('prometheus-rule', buildPrometheusRule(plan, verification?.alerts));
  out.addWhenObserved('network-policy', buildNetworkPolicy(plan));

  const status: JsonObject = {
    endpoint: plan.application.connection?.endpoint ?? plan.primaryEndpoint,
    port: plan.port,
    phase: cluster.phase,
    readyInstances: cluster.readyInstances,
    instances: cluster.instances,
    connectionSecretName: plan.application.connection?.secretName,
    ...(adopted.length > 0 ? { adoptedCredentialsSecrets: adopted } : {}),
    ...(rotations.length > 0 ? { passwordRotations: rotations.map((r) => ({ ...r })) } : {}),
    ...(cluster.version ? { version: cluster.version } : {}),
    ...(restore.kind === 'recover' ? { restore: { ...restore.status } } : {}),
    ...(verification ? { verification: { ...verification.status } } : {}),
    ...(version.kind === 'requested' || version.kind === 'upgrading'
      ? { upgrade: { from: version.from, to: version.to } }
      : {}),
    deletionProtection: plan.deletionProtection,
  };
  const conditions = [
    clusterCondition,
    ...restoreConditions(restore),
    ...majorVersionConditions(version),
    ...out.conditions(),
  ];
  const allConditions = verification ? [...conditions, verification.condition] : conditions;
  return {
    resources: out.resources,
    requirements: out.requirements,
    ...(connectionDetails ? { connectionDetails } : {}),
    status,
    conditions: allConditions,
    warnings: out.warnings,
    refusals: out.refusals,
    specErrors: version.kind === 'refused' ? [version.error] : [],
    // A restore not verified yet is no reason to call the function more often.
    ready: Object.values(out.resources).every((r) => r.ready) && conditions.every((c) => c.status === 'True'),
  };
}

/** Restoring, then restored: what is recovered from where, to which point. */
function restoreConditions(restore: RestoreOutcome): XrCondition[] {
  if (restore.kind !== 'recover') return [];
  const restored = restore.status.phase === 'Restored';
  return [
    {
      type: CONDITION_TYPES.restore,
      status: restored ? 'True' : 'False',
      reason: restore.status.phase,
      message: restore.status.message,
    },
  ];
}

/** Which major runs, and an upgrade while it is requested or running (the database is down meanwhile). */
function majorVersionConditions(version: MajorVersionState): XrCondition[] {
  const type = CONDITION_TYPES.majorVersion;
  switch (version.kind) {
    case 'current':
      return [
        {
          type,
          status: 'True',
          reason: 'Current',
          message: `PostgreSQL ${version.running} runs, as spec.version asks`,
        },
      ];
    case 'requested':
      return [
        {
          type,
          status: 'False',
          reason: 'UpgradeRequested',
          message: `upgrading PostgreSQL ${version.from} to ${version.to}: CloudNativePG stops the instances and runs pg_upgrade, with no rollback once it completes (backup: ${version.backup})`,
        },
      ];
    case 'upgrading':
      return [
        {
          type,
          status: 'False',
          reason: 'Upgrading',
          message: `CloudNativePG is upgrading PostgreSQL ${version.from} to ${version.to} offline with pg_upgrade (phase "${version.phase}"); the database is unavailable until it completes`,
        },
      ];
    default:
      return [];
  }
}

/** Why a Grant is not ready yet, with the provider's own message when it has one. */
function grantProblem(plan: InstancePlan, grant: JsonObject, observed: JsonObject | undefined): string {
  const name = `Grant ${plan.namespace}/${getString(grant, 'metadata', 'name') ?? ''}`;
  if (observed === undefined) return `${name} has not been created yet`;
  const synced = findCondition(observed, 'Synced');
  return `${name} is not ready${synced?.status === 'False' && synced.message ? `: ${synced.message}` : ''}`;
}

/**
 * Every login role's credentials and connection Secrets. Per role, whoever writes the credentials
 * Secret: the team (existing-Secret mode, or a Secret or ExternalSecret the team made before a
 * store-mode or generated claim: adopted), or pgplane (from the store, or generated).
 */
function composeCredentials(
  plan: InstancePlan,
  roles: RolePlan[],
  out: CompositionBuilder,
): { details: Record<string, string> | undefined; adopted: string[]; rotations: RotationStatus[] } {
  const source = plan.credentials;
  let details: Record<string, string> | undefined;
  const adopted: string[] = [];
  const readable: string[] = [];
  const rotations: RotationStatus[] = [];
  for (const role of roles) {
    const writer: CredentialsOwnership | 'unknown' =
      source.kind === 'Secret' ? { writer: 'team', via: 'Secret' } : ownershipOf(plan, role, out);
    if (writer === 'unknown') {
      out.track(
        CONDITION_TYPES.credentials,
        `reading whether ${plan.namespace}/${role.credentialsSecretName} already exists`,
      );
      continue;
    }
    if (writer.writer === 'other') {
      out.refusals.push({ reason: 'CredentialsConflict', message: writer.problem });
      continue;
    }
    if (writer.writer === 'team') {
      if (source.kind !== 'Secret') {
        adopted.push(role.credentialsSecretName);
        out.note(
          CONDITION_TYPES.credentials,
          'AdoptedSecret',
          `role ${role.name} uses the team's own ${writer.via} ${plan.namespace}/${role.credentialsSecretName}; pgplane composes no credentials for it`,
        );
      }
      details = composeFromSecret(plan, role, out) ?? details;
      continue;
    }
    if (source.kind === 'SecretStore') composeFromStore(plan, source, role, out);
    else if (source.kind === 'Generated') {
      const generated = composeGenerated(plan, source, role, out);
      readable.push(...generated.readable);
      if (generated.rotation) rotations.push(generated.rotation);
    }
    if (plan.identity.legacy && role === plan.application && publishesConnection(role)) {
      // The password never reaches pgplane: the claim's connection Secret gets the literals only.
      details = connectionLiterals(plan, role);
    }
  }
  if (source.kind === 'Generated' && readable.length > 0) {
    composeGeneratedShared(plan, source, readable, out);
  }
  return { details, adopted, rotations };
}

/**
 * Who writes a role's credentials Secret when pgplane would. Until this XR has composed its own,
 * asks for the Secret and an ExternalSecret of that name; once it has, reads nothing, so in
 * store and generated modes no request carries a password pgplane's objects wrote. "unknown"
 * until Crossplane has answered both (the first call).
 */
function ownershipOf(
  plan: InstancePlan,
  role: RolePlan,
  out: CompositionBuilder,
): CredentialsOwnership | 'unknown' {
  const keys = roleKeys(plan, role);
  const composed = out.observedResource(keys.credentials);
  if (composed) return { writer: 'pgplane' };
  out.requirements[keys.requiredExternalSecret] = {
    apiVersion: ESO_API_VERSION,
    kind: 'ExternalSecret',
    matchName: role.credentialsSecretName,
    namespace: plan.namespace,
  };
  out.requirements[keys.required] = {
    apiVersion: 'v1',
    kind: 'Secret',
    matchName: role.credentialsSecretName,
    namespace: plan.namespace,
  };
  if (!out.answered(keys.requiredExternalSecret) || !out.answered(keys.required)) return 'unknown';
  return credentialsOwnership({
    compositeName: plan.identity.name,
    instance: plan.name,
    namespace: plan.namespace,
    secretName: role.credentialsSecretName,
    composed,
    externalSecret: out.requiredResource(keys.requiredExternalSecret),
    secret: out.requiredResource(keys.required),
  });
}

/** Secret-store mode: External Secrets writes the role's credentials and connection Secrets. */
function composeFromStore(
  plan: InstancePlan,
  source: StoreCredentials,
  role: RolePlan,
  out: CompositionBuilder,
): void {
  const keys = roleKeys(plan, role);
  const credentials = readExternalSecretState(
    out.observedResource(keys.credentials),
    `ExternalSecret ${plan.namespace}/${role.credentialsSecretName}`,
  );
  out.add(keys.credentials, buildCredentialsExternalSecret(plan, source, role), credentials.ready);
  out.track(CONDITION_TYPES.credentials, credentials.problem);

  if (!publishesConnection(role)) return;
  const connection = readExternalSecretState(
    out.observedResource(keys.connection),
    `ExternalSecret ${plan.namespace}/${role.connection.secretName}`,
  );
  out.add(
    keys.connection,
    buildConnectionExternalSecret(plan, storeConnectionPassword(source, role), role),
    connection.ready,
  );
  out.track(CONDITION_TYPES.connection, connection.problem);
}

/** Where one role's password rotation stands, for the XR's status. */
interface RotationStatus {
  role: string;
  phase: RotationPhase;
  token?: string;
  rotatedAt?: string;
}

/**
 * Generated credentials: the role's password generated once (in place, or into a rotation's slot
 * that the credentials Secret copies), its connection Secret copied from the same Secret. Answers
 * the Secrets the reader store must be able to read, and where the role's rotation stands.
 */
function composeGenerated(
  plan: InstancePlan,
  source: GeneratedCredentials,
  role: RolePlan,
  out: CompositionBuilder,
): { readable: string[]; rotation?: RotationStatus } {
  const keys = roleKeys(plan, role);
  const slotKey = (slot: string) => `${keys.credentials}-slot-${slot}`;
  const observedCredentials = out.observedResource(keys.credentials);
  const rotation = planRotation(role, source.rotationToken, {
    credentials: observedCredentials,
    slot: (name) => out.observedResource(slotKey(name)),
  });
  for (const slot of rotation.slots) {
    const state = readExternalSecretState(
      out.observedResource(slotKey(slot.name)),
      `ExternalSecret ${plan.namespace}/${slot.name} (new password, rotation "${slot.token}")`,
      `check that External Secrets runs and the Password generator ${plan.namespace}/${generatorName(plan)} exists`,
    );
    out.add(slotKey(slot.name), buildSlotExternalSecret(plan, role, slot.name), state.ready);
  }
  const copied = rotation.slots.find((slot) => slot.name === rotation.source);
  const credentials = readExternalSecretState(
    observedCredentials,
    `ExternalSecret ${plan.namespace}/${role.credentialsSecretName} (generated password)`,
    `check that External Secrets runs and the Password generator ${plan.namespace}/${generatorName(plan)} exists`,
  );
  out.add(
    keys.credentials,
    copied
      ? buildCopiedCredentialsExternalSecret(plan, source, role, copied)
      : buildGeneratedCredentialsExternalSecret(plan, role),
    credentials.ready,
  );
  out.track(CONDITION_TYPES.credentials, credentials.problem);
  if (rotation.phase) {
    out.track(CONDITION_TYPES.rotation, rotation.waitingFor);
    out.pendingReason(CONDITION_TYPES.rotation, 'Rotating');
    if (rotation.phase === 'Rotated') {
      out.note(
        CONDITION_TYPES.rotation,
        'Rotated',
        `role ${role.name} has the password of rotation "${rotation.token ?? ''}"${rotation.rotatedAt ? `, generated at ${rotation.rotatedAt}` : ''}`,
      );
    }
  }

  const push = buildPushSecret(plan, source, role);
  if (push) {
    const pushed = readExternalSecretState(
      out.observedResource(keys.push),
      `PushSecret ${plan.namespace}/${role.credentialsSecretName}-push`,
      'check that the store the platform pushes generated passwords to accepts writes',
    );
    out.add(keys.push, push, pushed.ready);
    out.track(CONDITION_TYPES.credentials, pushed.problem);
  }

  const result = {
    readable: [role.credentialsSecretName, ...rotation.slots.map((slot) => slot.name)],
    ...(rotation.phase
      ? {
          rotation: {
            role: role.name,
            phase: rotation.phase,
            ...(rotation.token ? { token: rotation.token } : {}),
            ...(rotation.rotatedAt ? { rotatedAt: rotation.rotatedAt } : {}),
          },
        }
      : {}),
  };
  if (!publishesConnection(role)) return result;
  const connection = readExternalSecretState(
    out.observedResource(keys.connection),
    `ExternalSecret ${plan.namespace}/${role.connection.secretName}`,
    `check the SecretStore ${plan.namespace}/${readerName(plan)}`,
  );
  // The connection Secret copies what the credentials Secret copies, so both switch together.
  const from = rotation.source ?? role.credentialsSecretName;
  out.add(
    keys.connection,
    buildConnectionExternalSecret(plan, generatedConnectionPassword(plan, source, from), role),
    connection.ready,
  );
  out.track(CONDITION_TYPES.connection, connection.problem);
  return result;
}

/** The generator and the reader store every generated role shares. */
function composeGeneratedShared(
  plan: InstancePlan,
  source: GeneratedCredentials,
  readable: string[],
  out: CompositionBuilder,
): void {
  out.addWhenObserved(GENERATED_KEYS.generator, buildPasswordGenerator(plan, source));
  out.addWhenObserved(GENERATED_KEYS.readerAccount, buildReaderServiceAccount(plan));
  out.addWhenObserved(GENERATED_KEYS.readerRole, buildReaderRole(plan, readable));
  out.addWhenObserved(GENERATED_KEYS.readerBinding, buildReaderRoleBinding(plan));
  const store = readExternalSecretState(
    out.observedResource(GENERATED_KEYS.readerStore),
    `SecretStore ${plan.namespace}/${readerName(plan)}`,
    'check that External Secrets may read Secrets in this namespace through it',
  );
  out.add(GENERATED_KEYS.readerStore, buildReaderStore(plan), store.ready);
  out.track(CONDITION_TYPES.connection, store.problem);
}

/**
 * A credentials Secret the team wrote (existing-Secret mode, or adopted): asked for as a required
 * resource, and the role's connection Secret composed from it (namespaced XRs) or returned as
 * connection details (legacy XRs, whose claim's writeConnectionSecretToRef receives them).
 */
function composeFromSecret(
  plan: InstancePlan,
  role: RolePlan,
  out: CompositionBuilder,
): Record<string, string> | undefined {
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
  if (!publishesConnection(role)) return undefined;

  if (plan.identity.legacy) {
    if (role !== plan.application) return undefined;
    // Crossplane v1 writes connection details to the claim's writeConnectionSecretToRef.
    out.track(CONDITION_TYPES.connection, secret.found ? undefined : secret.problem);
    return secret.found ? connectionValues(plan, role, secret.password) : connectionLiterals(plan, role);
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
  return undefined;
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
  if (refusesWeakPasswords(policy)) out.refusals.push({ reason: 'WeakPassword', message });
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
