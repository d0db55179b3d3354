// Every login role's credentials and connection Secrets, whoever writes them: the team (an existing
// Secret, or one adopted), External Secrets from the platform's store, or the Password generator.
// Shared by the PostgresInstance and PostgresDatabase compositions.
import { RESOURCE_KEYS, REQUIRED_CREDENTIALS_SECRET } from '../../shared/labels.js';
import { getObject, getString, type JsonObject } from '../../shared/json.js';
import { credentialsOwnership, type CredentialsOwnership } from '../observe/adoption.js';
import { readCredentialsSecret, type CredentialsSecretState } from '../observe/credentials-secret.js';
import { readExternalSecretState } from '../observe/external-secret.js';
import { passwordPolicyViolations, refusesWeakPasswords } from '../observe/password-policy.js';
import { CONDITION_TYPES, type CompositionBuilder } from './composition-builder.js';
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
import type { RolePlan, TenantPlan } from './plan.js';
import { planRotation, type RotationPhase } from './rotation.js';

/** Resource and requirement keys per role; the owner's keep the names they had before roles existed. */
function roleKeys(plan: TenantPlan, role: RolePlan) {
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

export interface CredentialsOptions {
  /**
   * A Secret the team wrote is used only when its username is the role's own. Tenants of one
   * server share a namespace (a shared instance) and every role name is one tenant's, so this
   * keeps a claim from copying another tenant's password into a connection Secret it can read.
   */
  ownRolesOnly?: boolean;
}

/** Key under which the function asks for an ExternalSecret a team wrote for a credentials Secret. */
const REQUIRED_CREDENTIALS_EXTERNAL_SECRET = 'credentials-external-secret';

/**
 * Every login role's credentials and connection Secrets. Per role, whoever writes the credentials
 * Secret: the team (existing-Secret mode, or a Secret or ExternalSecret the team made before a
 * store-mode or generated claim: adopted), or pgplane (from the store, or generated).
 */
export function composeCredentials(
  plan: TenantPlan,
  roles: RolePlan[],
  out: CompositionBuilder,
  options: CredentialsOptions = {},
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
      details = composeFromSecret(plan, role, out, options) ?? details;
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
  plan: TenantPlan,
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
  plan: TenantPlan,
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
  plan: TenantPlan,
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
  plan: TenantPlan,
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
  plan: TenantPlan,
  role: RolePlan,
  out: CompositionBuilder,
  options: CredentialsOptions,
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
  if (options.ownRolesOnly && secret.found && secret.username !== role.name) {
    out.refusals.push({
      reason: 'CredentialsConflict',
      message: `the credentials Secret ${plan.namespace}/${role.credentialsSecretName} (${role.kind === 'owner' ? 'spec.credentialsSecretName' : `role ${role.name}`}) is for ${secret.username === undefined ? 'no role' : `role "${secret.username}"`}, not "${role.name}": on a shared server pgplane copies only a role's own password into its connection Secret; name a Secret of this database's own`,
    });
    return undefined;
  }
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
  plan: TenantPlan,
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
