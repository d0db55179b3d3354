// Everything the builders need, resolved once from the validated spec and the Input: names, size,
// image, credentials source. Pure; the only place where defaults are decided.
import type { FunctionInput, Placement, Size } from '../../api/function-input.js';
import type { PostgresInstanceSpec, PostgresVersion } from '../../api/postgres-instance.js';
import { POSTGRES_PORT } from '../../shared/labels.js';
import type { FieldError } from '../xr/errors.js';
import { instanceName, type XrIdentity } from '../xr/identity.js';
import { sizeCatalog } from './sizing.js';

export type Image =
  | { imageName: string }
  | { catalog: { kind: 'ClusterImageCatalog' | 'ImageCatalog'; name: string; major: number } };

export type CredentialsSource =
  | {
      kind: 'SecretStore';
      store: { name: string; kind: 'SecretStore' | 'ClusterSecretStore' };
      remoteKey: string;
      passwordProperty: string;
      refreshInterval: string;
    }
  | { kind: 'Secret' };

export interface InstancePlan {
  identity: XrIdentity;
  spec: PostgresInstanceSpec;
  /** Name of the CNPG Cluster and prefix of its Services. */
  name: string;
  namespace: string;
  version: PostgresVersion;
  size: Size;
  image: Image;
  storageClass?: string;
  placement: Placement;
  credentials: CredentialsSource;
  credentialsSecretName: string;
  connectionSecretName: string;
  endpoint: string;
  port: number;
}

export type PlanResult = { ok: true; plan: InstancePlan } | { ok: false; errors: FieldError[] };

export function planInstance(
  identity: XrIdentity,
  spec: PostgresInstanceSpec,
  input: FunctionInput,
): PlanResult {
  const errors: FieldError[] = [];
  const name = instanceName(identity);
  const namespace = identity.namespace;

  const catalog = sizeCatalog(input);
  const size = catalog[spec.size];
  if (!size) {
    errors.push({
      field: 'spec.size',
      problem: `is "${spec.size}", which this platform does not offer; available sizes: ${Object.keys(catalog).join(', ')}`,
      example: 'size: medium',
    });
  }

  const credentials = resolveCredentials(identity, spec, input, errors);
  if (!size || !credentials) return { ok: false, errors };

  const storageClass = spec.storageClass ?? input.storageClass;
  return {
    ok: true,
    plan: {
      identity,
      spec,
      name,
      namespace,
      version: spec.version,
      size,
      image: resolveImage(spec.version, input),
      ...(storageClass ? { storageClass } : {}),
      placement: input.placement ?? {},
      credentials,
      credentialsSecretName: spec.credentialsSecretName ?? `${name}-credentials`,
      connectionSecretName: spec.connectionSecretName ?? `${name}-connection`,
      endpoint: `${name}-rw.${namespace}.svc.${input.clusterDomain}`,
      port: POSTGRES_PORT,
    },
  };
}

function resolveImage(version: PostgresVersion, input: FunctionInput): Image {
  const pinned = input.images?.pinned?.[version];
  if (pinned) return { imageName: pinned };
  const catalog = input.images?.catalogRef ?? { kind: 'ClusterImageCatalog', name: 'postgresql' };
  return { catalog: { ...catalog, major: Number(version) } };
}

function resolveCredentials(
  identity: XrIdentity,
  spec: PostgresInstanceSpec,
  input: FunctionInput,
  errors: FieldError[],
): CredentialsSource | undefined {
  const fromSpec = spec.credentials;
  const store = fromSpec?.secretStoreRef ?? input.credentials?.secretStoreRef;
  const source = fromSpec?.source ?? (store ? 'SecretStore' : 'Secret');
  if (source === 'Secret') return { kind: 'Secret' };

  if (!store) {
    errors.push({
      field: 'spec.credentials.secretStoreRef',
      problem:
        'is required when credentials.source is SecretStore and the platform Input names no default store',
      example: 'credentials: {source: SecretStore, secretStoreRef: {name: vault, kind: ClusterSecretStore}}',
    });
    return undefined;
  }
  const template = input.credentials?.remoteKeyTemplate;
  const remoteKey =
    fromSpec?.remoteKey ??
    (template
      ? template
          .replaceAll('{namespace}', identity.namespace)
          .replaceAll('{name}', instanceName(identity))
          .replaceAll('{databaseName}', spec.databaseName)
          .replaceAll('{databaseOwner}', spec.databaseOwner)
      : undefined);
  if (!remoteKey) {
    errors.push({
      field: 'spec.credentials.remoteKey',
      problem:
        'is required: the password comes from a secret store and the platform Input has no remoteKeyTemplate',
      example: 'credentials: {remoteKey: databases/agent-executor}',
    });
    return undefined;
  }
  return {
    kind: 'SecretStore',
    store,
    remoteKey,
    passwordProperty: fromSpec?.passwordProperty ?? input.credentials?.passwordProperty ?? 'password',
    refreshInterval: fromSpec?.refreshInterval ?? input.credentials?.refreshInterval ?? '1h',
  };
}
