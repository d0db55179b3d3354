// Everything the builders need, resolved once from the validated spec and the Input: names, size,
// image, credentials source, roles, optional features. Pure and total: validation (xr/validate.ts)
// has already refused every spec this could not resolve, so there is no error path here. The only
// place where defaults are decided, so every builder agrees.
import type { FunctionInput, Placement, Size } from '../../api/function-input.js';
import type { PostgresInstanceSpec, PostgresVersion } from '../../api/postgres-instance.js';
import { POSTGRES_PORT } from '../../shared/labels.js';
import { instanceName, type XrIdentity } from '../xr/identity.js';
import type { CredentialsSource } from '../xr/policy.js';
import { composedNames, type ComposedNames, type RoleKind, type RoleNames } from './names.js';
import { sizeCatalog } from './sizing.js';

type Image =
  | { imageName: string }
  | { catalog: { kind: 'ClusterImageCatalog' | 'ImageCatalog'; name: string; major: number } };

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

/**
 * What the role, credentials, connection and grants builders read: one application database and
 * its roles. An InstancePlan is one; so is a PostgresDatabase's plan (postgres-database/plan.ts),
 * whose database lives on a cluster or server it does not compose.
 */
export interface TenantPlan {
  identity: XrIdentity;
  spec: TenantSpec;
  input: FunctionInput;
  /** Prefix of every composed object's name, and the instance label. */
  name: string;
  namespace: string;
  credentials: CredentialsSource;
  owner: RolePlan;
  runtime?: RolePlan;
  readOnly?: RolePlan;
  access: RolePlan[];
  /** The role whose connection Secret is spec.connectionSecretName: runtime, or owner without least privilege. */
  application: RolePlan;
  /** Schemas the least-privilege roles cover: public plus spec.schemas. */
  schemas: string[];
  port: number;
}

/** The spec fields of one application database, shared by PostgresInstance and PostgresDatabase. */
type TenantSpec = Pick<
  PostgresInstanceSpec,
  'databaseName' | 'databaseOwner' | 'access' | 'schemas' | 'extensions'
> &
  Partial<Pick<PostgresInstanceSpec, 'hibernate'>>;

export interface InstancePlan extends TenantPlan {
  spec: PostgresInstanceSpec;
  version: PostgresVersion;
  size: Size;
  image: Image;
  storageClass?: string;
  placement: Placement;
  /** Read-write Service of the cluster (migrations, the provider). */
  primaryEndpoint: string;
  pooler?: { name: string; endpoint: string };
  backup?: {
    objectStoreName: string;
    destinationPath: string;
    endpointURL?: string;
    s3Credentials?: { secretName: string; accessKeyIdKey: string; secretAccessKeyKey: string };
  };
  networkPolicy: boolean;
  monitoring: boolean;
  /** Crossplane Usages refuse deleting the XR and its Cluster (usages.ts). */
  deletionProtection: boolean;
}

const OWNER_PASSWORD_PROPERTY = 'password';

export function planInstance(
  identity: XrIdentity,
  spec: PostgresInstanceSpec,
  input: FunctionInput,
  credentials: CredentialsSource,
): InstancePlan {
  const name = instanceName(identity);
  const namespace = identity.namespace;
  const service = (suffix: string) => `${name}-${suffix}.${namespace}.svc.${input.clusterDomain}`;

  const primaryEndpoint = service('rw');
  const pooler = spec.pooler ? { name: `${name}-pooler-rw`, endpoint: service('pooler-rw') } : undefined;
  const applicationEndpoint = pooler?.endpoint ?? primaryEndpoint;
  const names = composedNames(name, spec);
  const { owner, runtime, readOnly, access } = rolePlans(names, spec, input, {
    primary: primaryEndpoint,
    application: applicationEndpoint,
    read: service('r'),
  });

  const storageClass = spec.storageClass ?? input.storageClass;
  const production = input.profile === 'production';
  const backup = resolveBackup(name, namespace, spec, input);
  return {
    identity,
    spec,
    input,
    name,
    namespace,
    version: spec.version,
    // Validation refused sizes the catalog does not hold.
    size: sizeCatalog(input)[spec.size]!,
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
    // Validation refused a claim turning it off where the platform requires it.
    deletionProtection:
      input.deletionProtection?.required === true ||
      (spec.deletionProtection ?? input.deletionProtection?.default ?? production),
  };
}

/** Where each kind of role connects: migrations to the primary, reads to replicas, the rest to the application endpoint. */
export interface RoleEndpoints {
  primary: string;
  application: string;
  read: string;
}

/**
 * Every role's plan from its names: where its connection Secret points and which store property
 * holds its password. The one place both an instance and a PostgresDatabase decide these.
 */
export function rolePlans(
  names: ComposedNames,
  spec: { credentials?: { passwordProperty?: string | undefined } | undefined },
  input: FunctionInput,
  endpoints: RoleEndpoints,
): Pick<TenantPlan, 'owner' | 'runtime' | 'readOnly' | 'access'> {
  const endpointOf = (role: RoleNames): string => {
    if (role === names.application) return endpoints.application;
    if (role.kind === 'owner') return endpoints.primary;
    if (role.kind === 'readonly') return endpoints.read;
    return endpoints.application;
  };
  const plan = (role: RoleNames, passwordProperty: string): RolePlan => ({
    kind: role.kind,
    name: role.name,
    key: role.key,
    login: role.login,
    credentialsSecretName: role.credentialsSecretName,
    passwordProperty,
    ...(role.connectionSecretName
      ? { connection: { secretName: role.connectionSecretName, endpoint: endpointOf(role) } }
      : {}),
  });
  const owner = plan(
    names.owner,
    spec.credentials?.passwordProperty ?? input.credentials?.passwordProperty ?? OWNER_PASSWORD_PROPERTY,
  );
  const runtime = names.runtime ? plan(names.runtime, `${names.runtime.key}-password`) : undefined;
  const readOnly = names.readOnly ? plan(names.readOnly, `${names.readOnly.key}-password`) : undefined;
  const access = names.access.map((role) => plan(role, `${role.key}-password`));
  return { owner, ...(runtime ? { runtime } : {}), ...(readOnly ? { readOnly } : {}), access };
}

function resolveImage(version: PostgresVersion, input: FunctionInput): Image {
  const pinned = input.images?.pinned?.[version];
  if (pinned) return { imageName: pinned };
  const catalog = input.images?.catalogRef ?? { kind: 'ClusterImageCatalog', name: 'postgresql' };
  return { catalog: { ...catalog, major: Number(version) } };
}

function resolveBackup(
  name: string,
  namespace: string,
  spec: PostgresInstanceSpec,
  input: FunctionInput,
): InstancePlan['backup'] {
  // Without the Input's backup section validation has already refused spec.backup.
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
