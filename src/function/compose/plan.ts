// Everything the builders need, resolved once from the validated spec and the Input: names, size,
// image, credentials source, roles, optional features. Pure; the only place where defaults are
// decided, so every builder agrees.
import {
  DEFAULT_ALLOWED_EXTENSIONS,
  type FunctionInput,
  type Placement,
  type Size,
} from '../../api/function-input.js';
import type { PostgresInstanceSpec, PostgresVersion } from '../../api/postgres-instance.js';
import { grantParameters } from '../../api/grant.js';
import { MAX_IDENTIFIER_BYTES } from '../../api/names.js';
import { getPath } from '../../shared/json.js';
import { POSTGRES_PORT } from '../../shared/labels.js';
import type { FieldError } from '../xr/errors.js';
import { instanceName, type XrIdentity } from '../xr/identity.js';
import { sizeCatalog } from './sizing.js';

export type Image =
  | { imageName: string }
  | { catalog: { kind: 'ClusterImageCatalog' | 'ImageCatalog'; name: string; major: number } };

export interface SecretStore {
  name: string;
  kind: 'SecretStore' | 'ClusterSecretStore';
}

export type CredentialsSource =
  | { kind: 'SecretStore'; store: SecretStore; remoteKey: string; refreshInterval: string }
  | { kind: 'Secret' };

export type RoleKind = 'owner' | 'runtime' | 'readonly' | 'access';

/** One PostgreSQL role pgplane manages credentials for. */
export interface RolePlan {
  kind: RoleKind;
  /** The PostgreSQL role name. */
  name: string;
  /** Stable key fragment for composed resources: "owner", "runtime", "readonly", "access-<role>". */
  key: string;
  login: boolean;
  /** The kubernetes.io/basic-auth Secret CNPG reads the password from. */
  credentialsSecretName: string;
  /** Property of the remote secret that holds this role's password (secret-store mode). */
  passwordProperty: string;
  /** The Secret applications using this role read, and the host it points them to. */
  connection?: { secretName: string; endpoint: string };
}

export interface InstancePlan {
  identity: XrIdentity;
  spec: PostgresInstanceSpec;
  input: FunctionInput;
  /** Name of the CNPG Cluster and prefix of its Services. */
  name: string;
  namespace: string;
  version: PostgresVersion;
  size: Size;
  image: Image;
  storageClass?: string;
  placement: Placement;
  credentials: CredentialsSource;
  owner: RolePlan;
  runtime?: RolePlan;
  readOnly?: RolePlan;
  access: RolePlan[];
  /** The role whose connection Secret is spec.connectionSecretName: runtime, or owner without least privilege. */
  application: RolePlan;
  /** Schemas the least-privilege roles cover: public plus spec.schemas. */
  schemas: string[];
  /** Read-write Service of the cluster (migrations, the provider). */
  primaryEndpoint: string;
  port: number;
  pooler?: { name: string; endpoint: string };
  backup?: {
    objectStoreName: string;
    destinationPath: string;
    endpointURL?: string;
    s3Credentials?: { secretName: string; accessKeyIdKey: string; secretAccessKeyKey: string };
  };
  networkPolicy: boolean;
  monitoring: boolean;
}

export type PlanResult = { ok: true; plan: InstancePlan } | { ok: false; errors: FieldError[] };

const OWNER_PASSWORD_PROPERTY = 'password';

export function planInstance(
  identity: XrIdentity,
  spec: PostgresInstanceSpec,
  input: FunctionInput,
): PlanResult {
  const errors: FieldError[] = [];
  const name = instanceName(identity);
  const namespace = identity.namespace;
  const service = (suffix: string) => `${name}-${suffix}.${namespace}.svc.${input.clusterDomain}`;

  errors.push(...platformErrors(spec, input));
  const size = sizeCatalog(input)[spec.size];
  const credentials = resolveCredentials(identity, spec, input, errors);
  const backup = resolveBackup(name, namespace, spec, input);

  const primaryEndpoint = service('rw');
  const pooler = spec.pooler ? { name: `${name}-pooler-rw`, endpoint: service('pooler-rw') } : undefined;
  const applicationEndpoint = pooler?.endpoint ?? primaryEndpoint;
  const connectionSecretName = spec.connectionSecretName ?? `${name}-connection`;
  const leastPrivilege = spec.roles?.leastPrivilege ?? true;

  const owner: RolePlan = {
    kind: 'owner',
    name: spec.databaseOwner,
    key: 'owner',
    login: true,
    credentialsSecretName: spec.credentialsSecretName ?? `${name}-credentials`,
    passwordProperty:
      spec.credentials?.passwordProperty ?? input.credentials?.passwordProperty ?? OWNER_PASSWORD_PROPERTY,
    connection: {
      secretName: leastPrivilege ? `${connectionSecretName}-owner` : connectionSecretName,
      endpoint: leastPrivilege ? primaryEndpoint : applicationEndpoint,
    },
  };
  const role = (
    kind: RoleKind,
    roleName: string,
    key: string,
    connection: RolePlan['connection'],
    login = true,
  ): RolePlan => ({
    kind,
    name: roleName,
    key,
    login,
    credentialsSecretName: `${name}-${key}-credentials`,
    passwordProperty: `${key}-password`,
    ...(connection ? { connection } : {}),
  });

  const runtime = leastPrivilege
    ? role(
        'runtime',
        spec.roles?.runtime ?? derivedRoleName(spec.databaseName, '_rw', 'roles.runtime', errors),
        'runtime',
        {
          secretName: connectionSecretName,
          endpoint: applicationEndpoint,
        },
      )
    : undefined;
  const readOnly = leastPrivilege
    ? role(
        'readonly',
        spec.roles?.readOnly ?? derivedRoleName(spec.databaseName, '_ro', 'roles.readOnly', errors),
        'readonly',
        {
          secretName: `${connectionSecretName}-readonly`,
          endpoint: service('r'),
        },
      )
    : undefined;
  const access = (spec.access ?? []).map((entry) => {
    const key = `access-${entry.role.toLowerCase().replaceAll('_', '-')}`;
    return role(
      'access',
      entry.role,
      key,
      entry.login
        ? {
            secretName: `${connectionSecretName}-${key.slice('access-'.length)}`,
            endpoint: applicationEndpoint,
          }
        : undefined,
      entry.login,
    );
  });
  checkDistinctRoles([owner, runtime, readOnly, ...access], errors);
  checkAccessGrants(spec, errors);

  if (!size || !credentials || errors.length > 0) return { ok: false, errors };
  const storageClass = spec.storageClass ?? input.storageClass;
  const production = input.profile === 'production';
  return {
    ok: true,
    plan: {
      identity,
      spec,
      input,
      name,
      namespace,
      version: spec.version,
      size,
      image: resolveImage(spec.version, input),
      ...(storageClass ? { storageClass } : {}),
      placement: input.placement ?? {},
      credentials,
      owner,
      ...(runtime ? { runtime } : {}),
      ...(readOnly ? { readOnly } : {}),
      access,
      application: runtime ?? owner,
      schemas: [...new Set(['public', ...(spec.schemas ?? [])])],
      primaryEndpoint,
      port: POSTGRES_PORT,
      ...(pooler ? { pooler } : {}),
      ...(backup ? { backup } : {}),
      networkPolicy: spec.networkPolicy?.enabled ?? (production || spec.networkPolicy !== undefined),
      monitoring: spec.monitoring !== undefined || production,
    },
  };
}

function derivedRoleName(databaseName: string, suffix: string, field: string, errors: FieldError[]): string {
  const derived = `${databaseName}${suffix}`;
  if (Buffer.byteLength(derived, 'utf8') > MAX_IDENTIFIER_BYTES) {
    errors.push({
      field: `spec.${field}`,
      problem: `is needed: the derived name "${derived}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`,
      example: `roles: {${field.split('.')[1]}: app${suffix}}`,
    });
  }
  return derived;
}

function checkDistinctRoles(roles: readonly (RolePlan | undefined)[], errors: FieldError[]): void {
  const seen = new Map<string, RolePlan>();
  for (const role of roles) {
    if (!role) continue;
    // PostgreSQL names are case-sensitive, but two roles differing only in case would share Secret names.
    const folded = role.name.toLowerCase();
    const previous = seen.get(folded);
    if (previous) {
      errors.push({
        field:
          role.kind === 'access'
            ? 'spec.access'
            : `spec.roles.${role.kind === 'runtime' ? 'runtime' : 'readOnly'}`,
        problem: `names role "${role.name}" twice (already the ${previous.kind} role); every role needs its own name`,
        example: 'access: [{role: reporting}]',
      });
    }
    seen.set(folded, role);
  }
}

/** An access entry becomes a Grant; the grants engine's own schema has the last word on it. */
function checkAccessGrants(spec: PostgresInstanceSpec, errors: FieldError[]): void {
  for (const [index, entry] of (spec.access ?? []).entries()) {
    const { role, login: _login, ...privileges } = entry;
    const parsed = grantParameters.safeParse({
      database: spec.databaseName,
      grantee: role,
      mode: 'authoritative',
      ...privileges,
    });
    if (parsed.success) continue;
    for (const issue of parsed.error.issues) {
      errors.push({
        field: `spec.access[${index}]${issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('')}`,
        problem: issue.message,
        example:
          'access: [{role: reporting, tables: [{schema: analytics, objects: ["*"], privileges: [SELECT]}]}]',
      });
    }
  }
}

function resolveImage(version: PostgresVersion, input: FunctionInput): Image {
  const pinned = input.images?.pinned?.[version];
  if (pinned) return { imageName: pinned };
  const catalog = input.images?.catalogRef ?? { kind: 'ClusterImageCatalog', name: 'postgresql' };
  return { catalog: { ...catalog, major: Number(version) } };
}

/**
 * Checks against what this platform offers (its Input): sizes, allowed extensions, a backup store.
 * They read the raw spec, so a spec that fails the schema still hears about these in the same
 * message, instead of one problem per render.
 */
export function platformErrors(spec: unknown, input: FunctionInput): FieldError[] {
  const errors: FieldError[] = [];
  const catalog = sizeCatalog(input);
  const size = getPath(spec, 'size') ?? 'small';
  if (typeof size === 'string' && !(size in catalog)) {
    errors.push({
      field: 'spec.size',
      problem: `is "${size}", which this platform does not offer; available sizes: ${Object.keys(catalog).join(', ')}`,
      example: 'size: medium',
    });
  }
  const allowed = input.extensions?.allowed ?? DEFAULT_ALLOWED_EXTENSIONS;
  const extensions = getPath(spec, 'extensions');
  for (const [index, extension] of (Array.isArray(extensions) ? extensions : []).entries()) {
    if (typeof extension === 'string' && !allowed.includes(extension)) {
      errors.push({
        field: `spec.extensions[${index}]`,
        problem: `is "${extension}", which this platform does not allow; allowed: ${allowed.join(', ')}`,
        example: 'extensions: [pg_stat_statements, pgcrypto]',
      });
    }
  }
  if (getPath(spec, 'backup') !== undefined && !input.backup) {
    errors.push({
      field: 'spec.backup',
      problem:
        'is set, but this platform has not configured an object store for backups (the function Input has no backup section); ask the platform team, or remove spec.backup',
      example: 'backup: {schedule: "0 0 3 * * *", retention: 30d}',
    });
  }
  return errors;
}

function resolveBackup(
  name: string,
  namespace: string,
  spec: PostgresInstanceSpec,
  input: FunctionInput,
): InstancePlan['backup'] {
  // Without the Input's backup section platformErrors() has already refused spec.backup.
  if (!spec.backup || !input.backup) return undefined;
  return {
    objectStoreName: `${name}-backup`,
    destinationPath: input.backup.destinationPathTemplate
      .replaceAll('{namespace}', namespace)
      .replaceAll('{name}', name),
    ...(input.backup.endpointURL ? { endpointURL: input.backup.endpointURL } : {}),
    ...(input.backup.s3Credentials ? { s3Credentials: input.backup.s3Credentials } : {}),
  };
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
    refreshInterval: fromSpec?.refreshInterval ?? input.credentials?.refreshInterval ?? '1h',
  };
}
