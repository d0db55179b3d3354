// What this platform offers claims (its Input), checked against what a claim asks for: sizes,
// extensions, backups, secret stores and keys, parameters, list lengths. The claim asks; the
// platform decides. Reads the raw spec tolerantly, so a spec that also fails the schema hears
// about these in the same message.
import {
  DEFAULT_ALLOWED_EXTENSIONS,
  DEFAULT_GENERATED_CREDENTIALS,
  type ClaimPolicy,
  type GeneratedCredentialsPolicy,
  type FunctionInput,
} from '../../api/function-input.js';
import { CLAIM_LIST_LIMITS, CLAIM_LIST_PATHS, type ClaimListField } from '../../api/instance-features.js';
import { DEFAULT_CLAIM_PARAMETERS } from '../../api/postgres-parameters.js';
import { FIELD_EXAMPLES } from '../../api/postgres-instance.js';
import { getObject, getPath, isObject } from '../../shared/json.js';
import { sizeCatalog } from '../compose/sizing.js';
import type { FieldError } from './errors.js';
import { instanceName, type XrIdentity } from './identity.js';

export interface SecretStore {
  name: string;
  kind: 'SecretStore' | 'ClusterSecretStore';
}

/** Where the owner's (and every role's) password comes from, as the platform allows it. */
export type CredentialsSource =
  | { kind: 'SecretStore'; store: SecretStore; remoteKey: string; refreshInterval: string }
  | { kind: 'Secret' }
  | {
      kind: 'Generated';
      policy: GeneratedCredentialsPolicy;
      refreshInterval: string;
      /** spec.credentials.rotation.token: a change asks for new passwords. */
      rotationToken?: string;
    };

const DEFAULT_REFRESH_INTERVAL = '1h';

export function platformErrors(spec: unknown, input: FunctionInput): FieldError[] {
  return [
    ...sizeErrors(spec, input),
    ...extensionErrors(spec, input),
    ...backupErrors(spec, input),
    ...parameterErrors(spec, input.claims),
    ...limitErrors(spec, input.claims),
  ];
}

function sizeErrors(spec: unknown, input: FunctionInput): FieldError[] {
  const catalog = sizeCatalog(input);
  const size = getPath(spec, 'size') ?? 'small';
  if (typeof size !== 'string' || Object.hasOwn(catalog, size)) return [];
  return [
    {
      field: 'spec.size',
      problem: `is "${size}", which this platform does not offer; available sizes: ${Object.keys(catalog).join(', ')}`,
      example: FIELD_EXAMPLES.size!,
    },
  ];
}

function extensionErrors(spec: unknown, input: FunctionInput): FieldError[] {
  const allowed = input.extensions?.allowed ?? DEFAULT_ALLOWED_EXTENSIONS;
  const extensions = getPath(spec, 'extensions');
  return (Array.isArray(extensions) ? extensions : []).flatMap((extension: unknown, index) =>
    typeof extension === 'string' && !allowed.includes(extension)
      ? [
          {
            field: `spec.extensions[${index}]`,
            problem: `is "${extension}", which this platform does not allow; allowed: ${allowed.join(', ')}`,
            example: FIELD_EXAMPLES.extensions!,
          },
        ]
      : [],
  );
}

function backupErrors(spec: unknown, input: FunctionInput): FieldError[] {
  if (getPath(spec, 'backup') === undefined || input.backup) return [];
  return [
    {
      field: 'spec.backup',
      problem:
        'is set, but this platform has not configured an object store for backups (the function Input has no backup section); ask the platform team, or remove spec.backup',
      example: FIELD_EXAMPLES.backup!,
    },
  ];
}

function parameterErrors(spec: unknown, policy: ClaimPolicy | undefined): FieldError[] {
  const parameters = getObject(spec, 'parameters');
  if (!parameters) return [];
  const allowed = policy?.parameters ?? DEFAULT_CLAIM_PARAMETERS;
  return Object.keys(parameters)
    .filter((name) => !allowed.includes(name))
    .map((name) => ({
      field: `spec.parameters.${name}`,
      problem: `is not a parameter this platform lets claims set; allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'}`,
      example: FIELD_EXAMPLES.parameters!,
    }));
}

function limitErrors(spec: unknown, policy: ClaimPolicy | undefined): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of Object.keys(CLAIM_LIST_LIMITS) as ClaimListField[]) {
    const limit = policy?.limits?.[field];
    if (limit === undefined) continue;
    const path = CLAIM_LIST_PATHS[field];
    const value = getPath(spec, ...path);
    const count = Array.isArray(value) ? value.length : isObject(value) ? Object.keys(value).length : 0;
    if (count > limit) {
      errors.push({
        field: `spec.${path.join('.')}`,
        problem: `has ${count} entries; this platform allows at most ${limit}`,
        ...(FIELD_EXAMPLES[path[0]!] ? { example: FIELD_EXAMPLES[path[0]!] } : {}),
      });
    }
  }
  return errors;
}

/**
 * The credentials source a claim gets: a secret store the platform offers, with the key its
 * template gives (or, where the platform allows it for that store, the claim's own), or an
 * existing Secret. Errors name what the platform offers instead.
 */
export function resolveCredentials(
  identity: XrIdentity,
  spec: {
    databaseName: string;
    databaseOwner: string;
    credentials?: {
      source?: 'SecretStore' | 'Secret' | 'Generated' | undefined;
      secretStoreRef?: SecretStore | undefined;
      remoteKey?: string | undefined;
      passwordProperty?: string | undefined;
      refreshInterval?: string | undefined;
      rotation?: { token: string } | undefined;
    };
  },
  input: FunctionInput,
): { ok: true; source: CredentialsSource } | { ok: false; errors: FieldError[] } {
  const asked = spec.credentials;
  const platformStore = input.credentials?.secretStoreRef;
  const store = asked?.secretStoreRef ?? platformStore;
  const source = asked?.source ?? input.credentials?.defaultSource ?? (store ? 'SecretStore' : 'Secret');
  if (source !== 'Generated' && asked?.rotation !== undefined) {
    return fail({
      field: 'spec.credentials.rotation',
      problem: `is set, but the credentials source is ${source}: pgplane rotates only passwords it generates; ${source === 'Secret' ? 'change the password in your Secret' : 'change the password in the store'} (CloudNativePG applies it), or use source: Generated`,
      example: 'credentials: {source: Generated, rotation: {token: "2026-12-01"}}',
    });
  }
  if (source === 'Secret') return { ok: true, source: { kind: 'Secret' } };
  const refreshInterval =
    asked?.refreshInterval ?? input.credentials?.refreshInterval ?? DEFAULT_REFRESH_INTERVAL;
  if (source === 'Generated') return generatedSource(asked, input, refreshInterval);

  if (!store) {
    return fail({
      field: 'spec.credentials.secretStoreRef',
      problem:
        'is required when credentials.source is SecretStore and the platform Input names no default store',
      example: 'credentials: {source: SecretStore, secretStoreRef: {name: vault, kind: ClusterSecretStore}}',
    });
  }
  const offer = storeOffer(store, platformStore, input.claims);
  if (!offer) {
    return fail({
      field: 'spec.credentials.secretStoreRef',
      problem: `is ${store.kind} "${store.name}", which this platform does not offer to claims; offered: ${describeOffers(platformStore, input.claims)}`,
      example: platformStore
        ? `credentials: {secretStoreRef: {name: ${platformStore.name}, kind: ${platformStore.kind}}}, or leave secretStoreRef out`
        : 'credentials: {source: Secret}',
    });
  }
  const errors: FieldError[] = [];
  for (const field of ['remoteKey', 'passwordProperty'] as const) {
    if (asked?.[field] !== undefined && !offer.remoteKeys) {
      errors.push({
        field: `spec.credentials.${field}`,
        problem: `is set, but this platform does not let claims choose keys in ${store.kind} "${store.name}": the key comes from the platform's template, filled with this claim's own namespace and name; remove it`,
        example: 'credentials: {}',
      });
    }
  }
  const template = input.credentials?.remoteKeyTemplate;
  const remoteKey =
    (offer.remoteKeys ? asked?.remoteKey : undefined) ??
    (template
      ? template
          .replaceAll('{namespace}', identity.namespace)
          .replaceAll('{name}', instanceName(identity))
          .replaceAll('{databaseName}', spec.databaseName)
          .replaceAll('{databaseOwner}', spec.databaseOwner)
      : undefined);
  if (!remoteKey && errors.length === 0) {
    errors.push(
      offer.remoteKeys
        ? {
            field: 'spec.credentials.remoteKey',
            problem:
              'is required: the password comes from a secret store and the platform Input has no remoteKeyTemplate',
            example: FIELD_EXAMPLES['credentials.remoteKey']!,
          }
        : {
            field: 'spec.credentials',
            problem: `cannot be resolved: this platform's Input has no credentials.remoteKeyTemplate for ${store.kind} "${store.name}" and does not let claims name keys; ask the platform team`,
            example: 'credentials: {source: Secret}',
          },
    );
  }
  if (errors.length > 0 || !remoteKey) return { ok: false, errors };
  return {
    ok: true,
    source: {
      kind: 'SecretStore',
      store,
      remoteKey,
      refreshInterval,
    },
  };
}

/**
 * Generated credentials: the password is made in the cluster, so there is no store or key for a
 * claim to choose. Naming one is refused rather than ignored: the claim would believe its
 * password lives there.
 */
function generatedSource(
  asked:
    | {
        rotation?: { token: string } | undefined;
        secretStoreRef?: SecretStore | undefined;
        remoteKey?: string | undefined;
        passwordProperty?: string | undefined;
      }
    | undefined,
  input: FunctionInput,
  refreshInterval: string,
): { ok: true; source: CredentialsSource } | { ok: false; errors: FieldError[] } {
  const errors = (['secretStoreRef', 'remoteKey', 'passwordProperty'] as const)
    .filter((field) => asked?.[field] !== undefined)
    .map((field) => ({
      field: `spec.credentials.${field}`,
      problem:
        'is set, but credentials.source is Generated: every password is generated in the cluster and read from no store; remove it, or use source: SecretStore',
      example: 'credentials: {source: Generated}',
    }));
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    source: {
      kind: 'Generated',
      policy: input.credentials?.generated ?? DEFAULT_GENERATED_CREDENTIALS,
      refreshInterval,
      ...(asked?.rotation ? { rotationToken: asked.rotation.token } : {}),
    },
  };
}

function fail(error: FieldError): { ok: false; errors: FieldError[] } {
  return { ok: false, errors: [error] };
}

interface StoreOffer {
  remoteKeys: boolean;
}

/** Whether the platform offers this store to claims, and on which terms. */
function storeOffer(
  store: SecretStore,
  platformStore: SecretStore | undefined,
  policy: ClaimPolicy | undefined,
): StoreOffer | undefined {
  const offers = (policy?.secretStores ?? []).filter(
    (offer) => offer.kind === store.kind && (offer.name === undefined || offer.name === store.name),
  );
  const isPlatformStore = platformStore?.name === store.name && platformStore.kind === store.kind;
  if (offers.length === 0 && !isPlatformStore) return undefined;
  return { remoteKeys: offers.some((offer) => offer.remoteKeys) };
}

function describeOffers(platformStore: SecretStore | undefined, policy: ClaimPolicy | undefined): string {
  const offers = [
    ...(platformStore ? [`${platformStore.kind} "${platformStore.name}" (the default)`] : []),
    ...(policy?.secretStores ?? []).map((offer) =>
      offer.name ? `${offer.kind} "${offer.name}"` : `any ${offer.kind} in the claim's namespace`,
    ),
  ];
  return offers.length > 0 ? offers.join(', ') : 'none (use credentials.source: Secret)';
}
