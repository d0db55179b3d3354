// The in-database privileges of the least-privilege and extra roles, as pgplane Grants, and the
// ProviderConfig the grants provider uses to reach this cluster as the database owner.
import type { z } from 'zod';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import { GRANT_API_VERSION, GRANT_KIND, type grantParameters, type grantSchema } from '../../api/grant.js';
import { PROVIDER_CONFIG_KIND, type providerConfigSpecSchema } from '../../api/provider-config.js';
import type { AccessEntry } from '../../api/instance-features.js';
import { commonLabels } from '../../shared/labels.js';
import type { TenantPlan, RolePlan } from './plan.js';

/** A Grant as the provider parses it (the input of its zod schema: defaults may be left out). */
type Grant = z.input<typeof grantSchema>;
type GrantParameters = z.input<typeof grantParameters>;
/** A grant's parameters besides the database and mode, which every composed Grant sets alike. */
type GrantPolicy = Omit<GrantParameters, 'database' | 'mode'>;
type TablePrivilege = NonNullable<GrantParameters['tables']>[number]['privileges'][number];

/** pgplane's ProviderConfig; its spec is what the provider parses with providerConfigSpecSchema. */
interface ProviderConfig {
  apiVersion: typeof GRANT_API_VERSION;
  kind: typeof PROVIDER_CONFIG_KIND;
  metadata: IObjectMeta;
  spec: z.input<typeof providerConfigSpecSchema>;
}

const DML: TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

export interface ComposedGrant {
  key: string;
  grant: Grant;
}

/** Where the provider reaches the server: a CNPG cluster by name, or a host and its TLS settings. */
export type ProviderConfigServer = Omit<ProviderConfig['spec'], 'connectionSecretRef'>;

/**
 * The provider connects as the owner: grants on objects the owner owns need no superuser. By
 * default the server is this instance's own cluster, whose "<cluster>-ca" Secret lets the provider
 * verify its certificate; a PostgresDatabase names the shared instance's cluster, or a host.
 */
export function buildProviderConfig(
  plan: TenantPlan,
  server: ProviderConfigServer = { cluster: plan.name },
): ProviderConfig {
  return {
    apiVersion: GRANT_API_VERSION,
    kind: PROVIDER_CONFIG_KIND,
    metadata: { name: plan.name, namespace: plan.namespace, labels: commonLabels(plan.name, 'grants') },
    spec: { ...server, connectionSecretRef: { name: plan.owner.credentialsSecretName } },
  };
}

function grant(plan: TenantPlan, key: string, forProvider: GrantPolicy): ComposedGrant {
  return {
    key,
    grant: {
      apiVersion: GRANT_API_VERSION,
      kind: GRANT_KIND,
      metadata: {
        name: `${plan.name}-${key}`,
        namespace: plan.namespace,
        labels: commonLabels(plan.name, 'grants'),
      },
      spec: {
        forProvider: { database: plan.spec.databaseName, mode: 'authoritative', ...forProvider },
        providerConfigRef: { name: plan.name, kind: PROVIDER_CONFIG_KIND },
        deletionPolicy: grantDeletionPolicy(plan),
      },
    },
  };
}

/**
 * Deleting a Grant revokes what it granted (an `access` entry removed from a claim must take its
 * privileges with it) wherever the revoke can reach the server: on namespaced XRs, where Usages
 * (usages.ts) keep the ProviderConfig and the Cluster until every Grant is gone. A legacy XR has
 * no such ordering (its Usage cannot name namespaced objects), so its Cluster may go first and a
 * revoke would wait forever for a server that no longer exists; a hibernated Cluster has no
 * server to revoke on either. Those Grants orphan: the privileges go with the database, or stay
 * until the instance wakes and the Grant is composed with Delete again.
 */
function grantDeletionPolicy(plan: TenantPlan): 'Delete' | 'Orphan' {
  return plan.identity.legacy || plan.spec.hibernate ? 'Orphan' : 'Delete';
}

/** Wildcards over every schema the roles cover: existing objects now, future ones by default privileges. */
function everyObject<P extends string>(plan: TenantPlan, privileges: P[]) {
  return plan.schemas.map((schema) => ({
    schema,
    objects: ['*'],
    privileges,
    defaultPrivilegesFor: [plan.spec.databaseOwner],
  }));
}

function runtimeGrant(plan: TenantPlan, role: RolePlan): ComposedGrant {
  return grant(plan, role.key, {
    grantee: role.name,
    databasePrivileges: ['CONNECT', 'TEMPORARY'],
    // USAGE only: the runtime role reads and writes rows but cannot create, alter or drop objects.
    schemas: plan.schemas.map((name) => ({ name, privileges: ['USAGE'] })),
    tables: everyObject(plan, DML),
    sequences: everyObject(plan, ['USAGE', 'SELECT', 'UPDATE']),
  });
}

function readOnlyGrant(plan: TenantPlan, role: RolePlan): ComposedGrant {
  return grant(plan, role.key, {
    grantee: role.name,
    databasePrivileges: ['CONNECT'],
    schemas: plan.schemas.map((name) => ({ name, privileges: ['USAGE'] })),
    tables: everyObject(plan, ['SELECT']),
    sequences: everyObject(plan, ['SELECT']),
  });
}

/**
 * Before PostgreSQL 15 every role may CREATE in schema public through PUBLIC, which would let the
 * runtime role create (and own, and then alter) tables. Keep PUBLIC at USAGE, as 15+ does.
 */
function publicGrant(plan: TenantPlan): ComposedGrant {
  return grant(plan, 'public', { grantee: 'PUBLIC', schemas: [{ name: 'public', privileges: ['USAGE'] }] });
}

/**
 * A database several tenants share a server with: PUBLIC loses CONNECT and TEMPORARY on it (every
 * role on the server has them by default), so only the roles its own Grants name can connect, and
 * keeps USAGE alone on schema public, as publicGrant does.
 */
function isolationGrant(plan: TenantPlan): ComposedGrant {
  return grant(plan, 'public', {
    grantee: 'PUBLIC',
    databasePrivileges: [],
    schemas: [{ name: 'public', privileges: ['USAGE'] }],
  });
}

function accessGrant(plan: TenantPlan, role: RolePlan, entry: AccessEntry): ComposedGrant {
  const { role: _role, login: _login, ...privileges } = entry;
  return grant(plan, role.key, {
    grantee: role.name,
    databasePrivileges: entry.databasePrivileges ?? ['CONNECT'],
    ...privileges,
  });
}

/** `isolated`: the database shares its server with other tenants (a PostgresDatabase's, or a shared instance's own). */
export function composedGrants(plan: TenantPlan, options: { isolated?: boolean } = {}): ComposedGrant[] {
  const grants: ComposedGrant[] = [];
  if (plan.runtime) grants.push(runtimeGrant(plan, plan.runtime));
  if (plan.readOnly) grants.push(readOnlyGrant(plan, plan.readOnly));
  if (options.isolated) grants.push(isolationGrant(plan));
  else if (plan.runtime) grants.push(publicGrant(plan));
  for (const [index, role] of plan.access.entries()) {
    const entry = plan.spec.access?.[index];
    if (entry) grants.push(accessGrant(plan, role, entry));
  }
  return grants;
}
