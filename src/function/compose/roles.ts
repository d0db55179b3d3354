// The non-owner roles, created by CloudNativePG: either as the Cluster's managed.roles or, where the
// platform runs CNPG 1.30 or later and prefers it, as standalone DatabaseRole objects.
import { commonLabels } from '../../shared/labels.js';
import { CNPG_API_VERSION } from './cnpg.js';
import type { InstancePlan, RolePlan, TenantPlan } from './plan.js';
import type { RoleConfiguration } from './upstream/cnpg-cluster.js';
import type { DatabaseRole, DatabaseRoleSpec } from './upstream/cnpg-database-role.js';

/** Every role pgplane creates besides the owner, which initdb creates. */
export function extraRoles(plan: TenantPlan): RolePlan[] {
  return [plan.runtime, plan.readOnly, ...plan.access].filter((role): role is RolePlan => role !== undefined);
}

/** The attributes a Cluster's managed role and a DatabaseRole share: valid, and the same, in both. */
type SharedKeys = keyof RoleConfiguration & keyof DatabaseRoleSpec;
type RoleAttributes = Pick<RoleConfiguration, SharedKeys> & Pick<DatabaseRoleSpec, SharedKeys>;

function roleAttributes(role: RolePlan): RoleAttributes {
  return {
    name: role.name,
    ensure: 'present',
    login: role.login,
    inherit: true,
    // Least privilege: none of these roles may create databases or roles, or bypass row security.
    createdb: false,
    createrole: false,
    superuser: false,
    bypassrls: false,
    ...(role.login ? { passwordSecret: { name: role.credentialsSecretName } } : { disablePassword: true }),
    comment: `${role.kind} role managed by pgplane`,
  };
}

/**
 * The roles CloudNativePG manages: every role but the owner, and the owner too once its password
 * rotates. CNPG applies a changed password only to roles it manages, and initdb's owner is not
 * one after bootstrap unless it is listed.
 */
export function cnpgManagedRoles(plan: TenantPlan): RolePlan[] {
  const rotates = plan.credentials.kind === 'Generated' && plan.credentials.rotationToken !== undefined;
  return rotates ? [plan.owner, ...extraRoles(plan)] : extraRoles(plan);
}

/** The Cluster's spec.managed.roles, or nothing when roles are DatabaseRole objects. */
export function managedRoles(plan: InstancePlan): RoleConfiguration[] {
  if (plan.input.roleManagement !== 'ManagedRoles') return [];
  return cnpgManagedRoles(plan).map(roleAttributes);
}

/**
 * A role as a CNPG DatabaseRole of `cluster`: the instance's own Cluster, or the shared instance's
 * Cluster a PostgresDatabase creates its roles on.
 */
export function buildDatabaseRole(plan: TenantPlan, role: RolePlan, cluster = plan.name): DatabaseRole {
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'DatabaseRole',
    metadata: {
      name: `${plan.name}-${role.key}`,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'role'),
    },
    spec: {
      cluster: { name: cluster },
      ...roleAttributes(role),
      // Dropping a role that owns objects fails; keep it when the object goes away.
      databaseRoleReclaimPolicy: 'retain',
    },
  };
}
