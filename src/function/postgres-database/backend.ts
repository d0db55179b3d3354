// Where a PostgresDatabase's database lives, read from what Crossplane fetched for the function:
// the shared PostgresInstance (spec.instanceRef) or the ClusterProviderConfig the platform
// registered (spec.server). Each must say that this database may use it; until Crossplane has
// answered, nothing is decided. Pure: the required objects in, a backend or a refusal out.
import type { FunctionInput } from '../../api/function-input.js';
import {
  CLUSTER_PROVIDER_CONFIG_KIND,
  clusterProviderConfigSpecSchema,
  PROVIDER_GROUP,
  PROVIDER_VERSION,
} from '../../api/provider-config.js';
import type { PostgresDatabaseSpec } from '../../api/postgres-database.js';
import { postgresInstanceSpecSchema, type PostgresInstanceSpec } from '../../api/postgres-instance.js';
import { POSTGRES_PORT } from '../../shared/labels.js';
import { getObject, getString, type JsonObject } from '../../shared/json.js';
import type { ResourceRequirement } from '../compose/composition-builder.js';
import type { ProviderConfigServer } from '../compose/grants.js';
import type { RoleEndpoints } from '../compose/plan.js';
import { instanceName, readIdentity, type XrIdentity } from '../xr/identity.js';

const CLAIM_NAME_LABEL = 'crossplane.io/claim-name';
const CLAIM_NAMESPACE_LABEL = 'crossplane.io/claim-namespace';

/** The label that makes a ClusterProviderConfig a server PostgresDatabases may use at all. */
const SHARED_SERVER_LABEL = 'pgplane.io/shared-server';
/** The namespaces whose PostgresDatabases may use it: "team-a,team-b", or "*". */
const ALLOWED_NAMESPACES_ANNOTATION = 'pgplane.io/allowed-namespaces';

/** Requirement keys: the backend object, and every PostgresDatabase that might share it. */
export const REQUIRED = { backend: 'backend', databases: 'databases' } as const;

export type Backend =
  | {
      kind: 'PostgresInstance';
      /** namespace/name, for messages and status. */
      name: string;
      /** The instance's CNPG Cluster, where DatabaseRoles and the Database go. */
      cluster: string;
      endpoints: RoleEndpoints;
      port: number;
      /** The instance's own spec, validated: its database and roles are not a tenant's to take. */
      instanceSpec: PostgresInstanceSpec;
      instanceName: string;
    }
  | {
      kind: 'ClusterProviderConfig';
      name: string;
      endpoints: RoleEndpoints;
      port: number;
      /** What the database's own ProviderConfig copies to reach the same server. */
      server: ProviderConfigServer;
    };

export type BackendOutcome =
  | { kind: 'waiting'; message: string }
  | { kind: 'refused'; message: string }
  | { kind: 'resolved'; backend: Backend };

/** What the function asks Crossplane for: the backend object, and the PostgresDatabases that may share it. */
export function backendRequirements(
  identity: XrIdentity,
  spec: PostgresDatabaseSpec,
  input: FunctionInput,
): Record<string, ResourceRequirement> {
  // Every PostgresDatabase of this API: on an instance, only this namespace can share it; a
  // registered server is shared across namespaces.
  // Legacy XRs are cluster-scoped: those of the claim's namespace are found by their claims'
  // labels, and so is an instance.
  const databases: ResourceRequirement = {
    apiVersion: identity.apiVersion,
    kind: identity.kind,
    ...(spec.instanceRef
      ? identity.legacy
        ? { matchLabels: { [CLAIM_NAMESPACE_LABEL]: identity.namespace } }
        : { matchLabels: {}, namespace: identity.namespace }
      : { matchLabels: {} }),
  };
  const instance = spec.instanceRef && {
    apiVersion: input.instanceKind.apiVersion,
    kind: input.instanceKind.kind,
  };
  const backend: ResourceRequirement = instance
    ? identity.legacy
      ? {
          ...instance,
          matchLabels: {
            [CLAIM_NAME_LABEL]: spec.instanceRef?.name ?? '',
            [CLAIM_NAMESPACE_LABEL]: identity.namespace,
          },
        }
      : { ...instance, matchName: spec.instanceRef?.name ?? '', namespace: identity.namespace }
    : {
        apiVersion: `${PROVIDER_GROUP}/${PROVIDER_VERSION}`,
        kind: CLUSTER_PROVIDER_CONFIG_KIND,
        matchName: spec.server?.name ?? '',
      };
  return { [REQUIRED.backend]: backend, [REQUIRED.databases]: databases };
}

export function resolveBackend(
  identity: XrIdentity,
  spec: PostgresDatabaseSpec,
  input: FunctionInput,
  required: { answered: (key: string) => boolean; object: (key: string) => JsonObject | undefined },
): BackendOutcome {
  const what = spec.instanceRef
    ? `${input.instanceKind.kind} ${identity.namespace}/${spec.instanceRef.name}`
    : `ClusterProviderConfig ${spec.server?.name ?? ''}`;
  if (!required.answered(REQUIRED.backend) || !required.answered(REQUIRED.databases))
    return { kind: 'waiting', message: `reading ${what} and the PostgresDatabases that share it` };
  const found = required.object(REQUIRED.backend);
  if (!found)
    return {
      kind: 'refused',
      message: `${what} (spec.${spec.instanceRef ? 'instanceRef' : 'server'}.name) does not exist${spec.instanceRef ? ' in this namespace' : ''}; name one that does`,
    };
  return spec.instanceRef
    ? instanceBackend(identity, input, what, found)
    : serverBackend(identity, input, what, found);
}

function instanceBackend(
  identity: XrIdentity,
  input: FunctionInput,
  what: string,
  instance: JsonObject,
): BackendOutcome {
  const parsed = postgresInstanceSpecSchema.safeParse(getObject(instance, 'spec') ?? {});
  if (!parsed.success)
    return { kind: 'refused', message: `${what} has an invalid spec; fix it before databases can share it` };
  if (parsed.data.sharing?.enabled !== true)
    return {
      kind: 'refused',
      message: `${what} does not share its server: its owner must set spec.sharing.enabled: true before PostgresDatabases may live on it`,
    };
  // A PostgresInstance composes a CNPG Cluster of its own name, its claim's for a legacy one
  // (compose/plan.ts).
  const cluster = instanceName(readIdentity(instance));
  const service = (suffix: string) => `${cluster}-${suffix}.${identity.namespace}.svc.${input.clusterDomain}`;
  const primary = service('rw');
  return {
    kind: 'resolved',
    backend: {
      kind: 'PostgresInstance',
      name: `${identity.namespace}/${cluster}`,
      cluster,
      endpoints: {
        primary,
        application: parsed.data.pooler ? service('pooler-rw') : primary,
        read: service('r'),
      },
      port: POSTGRES_PORT,
      instanceSpec: parsed.data,
      instanceName: cluster,
    },
  };
}

function serverBackend(
  identity: XrIdentity,
  input: FunctionInput,
  what: string,
  config: JsonObject,
): BackendOutcome {
  if (getString(config, 'metadata', 'labels', SHARED_SERVER_LABEL) !== 'true')
    return {
      kind: 'refused',
      message: `${what} is not a server the platform shares with PostgresDatabases (it has no label ${SHARED_SERVER_LABEL}: "true"); ask the platform team which servers this namespace may use`,
    };
  const allowed = (getString(config, 'metadata', 'annotations', ALLOWED_NAMESPACES_ANNOTATION) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (!allowed.includes('*') && !allowed.includes(identity.namespace))
    return {
      kind: 'refused',
      message: `${what} is not offered to namespace ${identity.namespace} (its ${ALLOWED_NAMESPACES_ANNOTATION} annotation is ${allowed.length > 0 ? `"${allowed.join(',')}"` : 'missing'}); ask the platform team to add this namespace`,
    };
  const parsed = clusterProviderConfigSpecSchema.safeParse(getObject(config, 'spec') ?? {});
  if (!parsed.success)
    return { kind: 'refused', message: `${what} has an invalid spec; ask the platform team to fix it` };
  const spec = parsed.data;
  // The host applications and the database's own ProviderConfig use. A host that only the
  // ClusterProviderConfig's Secret holds is out of reach: the function never reads that Secret.
  const host =
    spec.host ??
    (spec.cluster ? `${spec.cluster}-rw.${spec.namespace}.svc.${input.clusterDomain}` : undefined);
  if (!host)
    return {
      kind: 'refused',
      message: `${what} names no spec.host or spec.cluster (its host is only in its Secret, which pgplane does not read); ask the platform team to set spec.host`,
    };
  const port = spec.port ?? POSTGRES_PORT;
  // The CA, if the server is verified: a namespaced ProviderConfig reads Secrets of its own
  // namespace only, so the platform publishes the same CA Secret in every allowed namespace.
  const caSecretRef =
    spec.caSecretRef ?? (spec.cluster ? { name: `${spec.cluster}-ca`, key: 'ca.crt' } : undefined);
  const sslmode = spec.sslmode ?? (caSecretRef ? 'verify-full' : undefined);
  return {
    kind: 'resolved',
    backend: {
      kind: 'ClusterProviderConfig',
      name: getString(config, 'metadata', 'name') ?? '',
      endpoints: { primary: host, application: host, read: host },
      port,
      server: {
        host,
        ...(spec.port !== undefined ? { port: spec.port } : {}),
        ...(sslmode ? { sslmode } : {}),
        ...(caSecretRef ? { caSecretRef } : {}),
      },
    },
  };
}
