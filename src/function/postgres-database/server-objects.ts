// On a registered server, pgplane's own provider creates the roles and the database: a
// grants.pgplane.io Role per role and a Database, each through the platform's
// ClusterProviderConfig (the only credentials there that may create roles and databases).
import type { z } from 'zod';
import { DATABASE_API_VERSION, DATABASE_KIND, type databaseSchema } from '../../api/database.js';
import { CLUSTER_PROVIDER_CONFIG_KIND } from '../../api/provider-config.js';
import { ROLE_API_VERSION, ROLE_KIND, type roleSchema } from '../../api/role.js';
import { commonLabels } from '../../shared/labels.js';
import type { RolePlan } from '../compose/plan.js';
import type { DatabasePlan } from './plan.js';

/** The documents as the provider parses them (defaults may be left out). */
type Role = z.input<typeof roleSchema>;
type Database = z.input<typeof databaseSchema>;

function serverRef(plan: DatabasePlan) {
  return { kind: CLUSTER_PROVIDER_CONFIG_KIND, name: plan.backend.name };
}

/**
 * Least privilege, as on CloudNativePG (compose/roles.ts): no CREATEDB, no CREATEROLE. No inRoles:
 * an access role's memberships are its Grant's (a Role without inRoles leaves them alone).
 * Orphan: dropping a role that owns objects fails, and the database it owns is kept.
 */
export function buildServerRole(plan: DatabasePlan, role: RolePlan): Role {
  return {
    apiVersion: ROLE_API_VERSION,
    kind: ROLE_KIND,
    metadata: {
      name: `${plan.name}-${role.key}`,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'role'),
    },
    spec: {
      forProvider: {
        name: role.name,
        login: role.login,
        inherit: true,
        createdb: false,
        createrole: false,
        ...(role.login ? { passwordSecretRef: { name: role.credentialsSecretName, key: 'password' } } : {}),
      },
      providerConfigRef: serverRef(plan),
      deletionPolicy: 'Orphan',
    },
  };
}

/** The database, owned by the owner; never dropped with the claim. */
export function buildServerDatabase(plan: DatabasePlan, name: string): Database {
  return {
    apiVersion: DATABASE_API_VERSION,
    kind: DATABASE_KIND,
    metadata: { name, namespace: plan.namespace, labels: commonLabels(plan.name, 'database') },
    spec: {
      forProvider: { name: plan.spec.databaseName, owner: plan.spec.databaseOwner },
      providerConfigRef: serverRef(plan),
      deletionPolicy: 'Orphan',
    },
  };
}
