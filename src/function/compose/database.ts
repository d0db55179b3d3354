// Schemas and extensions inside the application database, through CloudNativePG's Database object:
// declarative, reconciled by the operator, no SQL from Crossplane.
import { kubernetesNameFragment } from '../../api/names.js';
import { commonLabels } from '../../shared/labels.js';
import { CNPG_API_VERSION } from './cnpg.js';
import type { TenantPlan } from './plan.js';
import type { Database } from './upstream/cnpg-database.js';

/** Only when the claim asks for schemas or extensions; initdb already created the database itself. */
export function buildDatabase(plan: TenantPlan): Database | undefined {
  const schemas = plan.spec.schemas ?? [];
  const extensions = plan.spec.extensions ?? [];
  if (schemas.length === 0 && extensions.length === 0) return undefined;
  return buildCnpgDatabase(plan, plan.name);
}

/**
 * The application database on `cluster`, with its schemas and extensions; never dropped.
 * `ownPublicSchema`: before PostgreSQL 15 schema public belongs to the bootstrap superuser, so the
 * owner (whom the grants provider connects as) could not manage privileges on it; CNPG then gives
 * it to the owner, as 15+ does through pg_database_owner (compose/cluster.ts does the same at initdb).
 */
export function buildCnpgDatabase(
  plan: TenantPlan,
  cluster: string,
  options: { ownPublicSchema?: boolean } = {},
): Database {
  const schemas = [
    ...(options.ownPublicSchema ? ['public'] : []),
    ...(plan.spec.schemas ?? []).filter((name) => !options.ownPublicSchema || name !== 'public'),
  ];
  const extensions = plan.spec.extensions ?? [];
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'Database',
    metadata: {
      name: `${plan.name}-${kubernetesNameFragment(plan.spec.databaseName)}`,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'database'),
    },
    spec: {
      cluster: { name: cluster },
      name: plan.spec.databaseName,
      owner: plan.spec.databaseOwner,
      ensure: 'present',
      // The data outlives this object: deleting it must never drop the database.
      databaseReclaimPolicy: 'retain',
      ...(schemas.length > 0
        ? { schemas: schemas.map((name) => ({ name, owner: plan.spec.databaseOwner, ensure: 'present' })) }
        : {}),
      ...(extensions.length > 0
        ? { extensions: extensions.map((name) => ({ name, ensure: 'present' })) }
        : {}),
    },
  };
}
