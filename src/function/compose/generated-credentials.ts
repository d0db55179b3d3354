// Generated credentials: every role's password is made in the cluster by External Secrets'
// Password generator, once, and nobody (no person, no Crossplane request, not this function) ever
// carries it. The pieces:
// - one Password generator per instance, holding the Input's length and character policy;
// - per role, an ExternalSecret that runs it once (refreshPolicy CreatedOnce) into the
//   kubernetes.io/basic-auth Secret CloudNativePG reads, the username a literal;
// - a SecretStore of External Secrets' kubernetes provider that can read exactly those Secrets
//   (a ServiceAccount, a Role limited to their names, a RoleBinding), through which the connection
//   ExternalSecrets copy the password, as they copy it from the platform's store in store mode;
// - where the platform names a store for it, a PushSecret per role writing the password back.
import { commonLabels } from '../../shared/labels.js';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { CredentialsSource } from '../xr/policy.js';
import type { ConnectionPassword } from './connection.js';
import { basicAuthTemplate, ESO_API_VERSION } from './credentials.js';
import type { TenantPlan, RolePlan } from './plan.js';
import { PASSWORD_SLOT_ANNOTATION, ROTATION_TOKEN_ANNOTATION } from './rotation.js';
import type { ExternalSecret } from './upstream/eso-external-secret.js';
import type { Password } from './upstream/eso-password.js';
import type { PushSecret } from './upstream/eso-push-secret.js';
import type { SecretStore } from './upstream/eso-secret-store.js';

export type GeneratedCredentials = Extract<CredentialsSource, { kind: 'Generated' }>;

const GENERATORS_API_VERSION = 'generators.external-secrets.io/v1alpha1';
const PUSH_SECRET_API_VERSION = 'external-secrets.io/v1alpha1';

/** Resource keys of the objects generated mode adds once per instance. */
export const GENERATED_KEYS = {
  generator: 'password-generator',
  readerAccount: 'credentials-reader-account',
  readerRole: 'credentials-reader-role',
  readerBinding: 'credentials-reader-binding',
  readerStore: 'credentials-reader-store',
} as const;

export function generatorName(plan: TenantPlan): string {
  return `${plan.name}-password`;
}

/** The store (and its ServiceAccount, Role, RoleBinding) connection ExternalSecrets read the generated Secrets through. */
export function readerName(plan: TenantPlan): string {
  return `${plan.name}-credentials-reader`;
}

export function buildPasswordGenerator(plan: TenantPlan, source: GeneratedCredentials): Password {
  const { policy } = source;
  return {
    apiVersion: GENERATORS_API_VERSION,
    kind: 'Password',
    metadata: {
      name: generatorName(plan),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    spec: {
      length: policy.length,
      digits: policy.digits,
      symbols: policy.symbols,
      symbolCharacters: policy.symbolCharacters,
      noUpper: false,
      allowRepeat: true,
    },
  };
}

/**
 * Runs the generator once into the role's credentials Secret. CreatedOnce: ESO never regenerates
 * it while the Secret exists, so a refresh or an ESO restart does not change a working password.
 */
export function buildGeneratedCredentialsExternalSecret(plan: TenantPlan, role: RolePlan): ExternalSecret {
  return generatingExternalSecret(plan, role, role.credentialsSecretName, true);
}

/**
 * A rotation's new password: generated once into a slot Secret of its own, which the credentials
 * and connection ExternalSecrets then copy. CloudNativePG does not read it, so no reload label.
 */
export function buildSlotExternalSecret(plan: TenantPlan, role: RolePlan, slot: string): ExternalSecret {
  return generatingExternalSecret(plan, role, slot, false);
}

/**
 * Once a role's password has rotated, its credentials Secret copies the slot through the reader
 * store; the ExternalSecret records which slot (and token), so the next call knows where the role
 * stands.
 */
export function buildCopiedCredentialsExternalSecret(
  plan: TenantPlan,
  source: GeneratedCredentials,
  role: RolePlan,
  slot: { name: string; token: string },
): ExternalSecret {
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name: role.credentialsSecretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
      annotations: { [PASSWORD_SLOT_ANNOTATION]: slot.name, [ROTATION_TOKEN_ANNOTATION]: slot.token },
    },
    spec: {
      refreshInterval: source.refreshInterval,
      secretStoreRef: { name: readerName(plan), kind: 'SecretStore' },
      target: {
        name: role.credentialsSecretName,
        creationPolicy: 'Owner',
        template: basicAuthTemplate(role, true),
      },
      data: [{ secretKey: 'password', remoteRef: { key: slot.name, property: 'password' } }],
    },
  };
}

function generatingExternalSecret(
  plan: TenantPlan,
  role: RolePlan,
  secretName: string,
  reload: boolean,
): ExternalSecret {
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name: secretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    spec: {
      refreshPolicy: 'CreatedOnce',
      target: { name: secretName, creationPolicy: 'Owner', template: basicAuthTemplate(role, reload) },
      dataFrom: [
        {
          sourceRef: {
            generatorRef: { apiVersion: GENERATORS_API_VERSION, kind: 'Password', name: generatorName(plan) },
          },
        },
      ],
    },
  };
}

export function buildReaderServiceAccount(plan: TenantPlan): IServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {
      name: readerName(plan),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    automountServiceAccountToken: false,
  };
}

/** Read access to the generated credentials Secrets of this instance, by name, and nothing else. */
export function buildReaderRole(plan: TenantPlan, secretNames: string[]): IRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: {
      name: readerName(plan),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    rules: [
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: secretNames,
        verbs: ['get'],
      },
      // The kubernetes provider checks its own rights before it reads.
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
    ],
  };
}

export function buildReaderRoleBinding(plan: TenantPlan): IRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: {
      name: readerName(plan),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: readerName(plan) },
    subjects: [{ kind: 'ServiceAccount', name: readerName(plan), namespace: plan.namespace }],
  };
}

export function buildReaderStore(plan: TenantPlan): SecretStore {
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'SecretStore',
    metadata: {
      name: readerName(plan),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    spec: {
      provider: {
        kubernetes: {
          remoteNamespace: plan.namespace,
          server: { caProvider: { type: 'ConfigMap', name: 'kube-root-ca.crt', key: 'ca.crt' } },
          auth: { serviceAccount: { name: readerName(plan) } },
        },
      },
    },
  };
}

/** Connection ExternalSecrets copy the password from the generated Secret, through the reader store. */
export function generatedConnectionPassword(
  plan: TenantPlan,
  source: GeneratedCredentials,
  fromSecret: string,
): ConnectionPassword {
  return {
    storeRef: { name: readerName(plan), kind: 'SecretStore' },
    refreshInterval: source.refreshInterval,
    data: [{ secretKey: 'password', remoteRef: { key: fromSecret, property: 'password' } }],
  };
}

/** The remote key a role's generated password is pushed to. */
function pushRemoteKey(plan: TenantPlan, source: GeneratedCredentials, role: RolePlan): string {
  return source.policy.pushRemoteKeyTemplate
    .replaceAll('{namespace}', plan.namespace)
    .replaceAll('{name}', plan.name)
    .replaceAll('{role}', role.name);
}

/** Writes a role's generated password back to the platform's store; never deletes it there. */
export function buildPushSecret(
  plan: TenantPlan,
  source: GeneratedCredentials,
  role: RolePlan,
): PushSecret | undefined {
  const store = source.policy.pushSecretStoreRef;
  if (!store) return undefined;
  return {
    apiVersion: PUSH_SECRET_API_VERSION,
    kind: 'PushSecret',
    metadata: {
      name: `${role.credentialsSecretName}-push`,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    spec: {
      refreshInterval: source.refreshInterval,
      // A disaster recovery reads the store: deleting the claim must not take the password with it.
      deletionPolicy: 'None',
      updatePolicy: 'Replace',
      secretStoreRefs: [{ name: store.name, kind: store.kind }],
      selector: { secret: { name: role.credentialsSecretName } },
      data: [
        {
          match: {
            secretKey: 'password',
            remoteRef: { remoteKey: pushRemoteKey(plan, source, role), property: 'password' },
          },
        },
      ],
    },
  };
}
