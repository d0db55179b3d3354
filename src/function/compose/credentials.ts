// The basic-auth Secret of each managed role, materialised by External Secrets from the platform's
// secret store. CNPG bootstraps the owner, and creates the other roles, from these Secrets.
import { CNPG_RELOAD_LABEL, commonLabels } from '../../shared/labels.js';
import type { CredentialsSource } from '../xr/policy.js';
import type { TenantPlan, RolePlan } from './plan.js';
import type { ExternalSecret, ExternalSecretData } from './upstream/eso-external-secret.js';

export const ESO_API_VERSION = 'external-secrets.io/v1';

/** External Secrets fills these from the store; the password never passes through Crossplane. */
export const PASSWORD = '{{ .password }}';
/**
 * The password inside a URI. Go's urlquery escapes for query strings: a space becomes "+", which
 * libpq (and JDBC) read as a literal "+" in the user-info part, so a password with a space would
 * not work. urlquery escapes every "+" of the password itself as %2B, so each "+" left came from
 * a space and %20 is exact.
 */
export const URI_PASSWORD = '{{ .password | urlquery | replace "+" "%20" }}';
export const PASSWORD_PLACEHOLDERS = [URI_PASSWORD, PASSWORD] as const;

export type StoreCredentials = Extract<CredentialsSource, { kind: 'SecretStore' }>;

/** Where a role's password lives in the store, as ESO's `data` entry names it. */
export function passwordData(source: StoreCredentials, role: RolePlan): ExternalSecretData[] {
  return [{ secretKey: 'password', remoteRef: { key: source.remoteKey, property: role.passwordProperty } }];
}

/**
 * Only the password comes from the store. The username is written as a literal: CNPG requires it to
 * equal the role name, and a store entry can drift from the claim; a literal cannot.
 */
export function buildCredentialsExternalSecret(
  plan: TenantPlan,
  source: StoreCredentials,
  role: RolePlan,
): ExternalSecret {
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name: role.credentialsSecretName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'credentials'),
    },
    spec: {
      refreshInterval: source.refreshInterval,
      secretStoreRef: { name: source.store.name, kind: source.store.kind },
      target: {
        name: role.credentialsSecretName,
        creationPolicy: 'Owner',
        template: basicAuthTemplate(role, true),
      },
      data: passwordData(source, role),
    },
  };
}

type SecretTemplate = NonNullable<NonNullable<NonNullable<ExternalSecret['spec']>['target']>['template']>;

/**
 * The kubernetes.io/basic-auth Secret CNPG reads a role's password from, in every credentials
 * source that composes one: username a literal (the role), password from the ExternalSecret's data.
 */
export function basicAuthTemplate(role: RolePlan, reload: boolean): SecretTemplate {
  return {
    engineVersion: 'v2',
    type: 'kubernetes.io/basic-auth',
    // CloudNativePG applies a changed password from a Secret with this label: rotation needs it.
    ...(reload ? { metadata: { labels: { [CNPG_RELOAD_LABEL]: 'true' } } } : {}),
    data: { username: role.name, password: PASSWORD },
  };
}
