// The whole composition of one PostgresDatabase on its backend: the roles and the database (CNPG
// DatabaseRoles and Database on a shared instance; pgplane Roles and a Database on a registered
// server), every role's credentials and connection Secrets, the ProviderConfig that connects as
// the owner, and the Grants, with PUBLIC shut out of the database. Pure: no I/O, no clock.
import { kubernetesNameFragment } from '../../api/names.js';
import { getPath, type JsonObject } from '../../shared/json.js';
import { findCondition } from '../observe/conditions.js';
import {
  CONDITION_TYPES,
  DATABASE_CONDITION_TYPES,
  grantProblem,
  type CompositionBuilder,
  type Composition,
  type XrCondition,
} from '../compose/composition-builder.js';
import { buildCnpgDatabase } from '../compose/database.js';
import { buildProviderConfig, composedGrants } from '../compose/grants.js';
import type { RolePlan } from '../compose/plan.js';
import { composeCredentials } from '../compose/role-credentials.js';
import { buildDatabaseRole, extraRoles } from '../compose/roles.js';
import { teardownUsages } from '../compose/usages.js';
import type { DatabasePlan } from './plan.js';
import { buildServerDatabase, buildServerRole } from './server-objects.js';

export function composeDatabase(plan: DatabasePlan, out: CompositionBuilder): Composition {
  const roles = [plan.owner, ...extraRoles(plan)];
  const { details, adopted, rotations } = composeCredentials(
    plan,
    roles.filter((role) => role.login),
    out,
    { ownRolesOnly: true },
  );

  composeBackendObjects(plan, roles, out);

  const grants = composedGrants(plan, { isolated: true });
  // A legacy XR's Usage is cluster-scoped and cannot name these namespaced objects; its Grants
  // orphan instead (compose/grants.ts), so no order is needed.
  if (!plan.identity.legacy)
    for (const { key, usage } of teardownUsages(plan, grants)) out.addWhenObserved(key, usage);
  out.addWhenObserved(
    'provider-config',
    buildProviderConfig(
      plan,
      plan.backend.kind === 'PostgresInstance' ? { cluster: plan.backend.cluster } : plan.backend.server,
    ),
  );
  for (const { key, grant } of grants) {
    const resourceKey = `grant-${key}`;
    const observed = out.observedResource(resourceKey);
    const ready = isReady(observed);
    out.add(resourceKey, grant, ready);
    out.track(CONDITION_TYPES.grants, ready ? undefined : grantProblem(plan, grant, observed));
  }

  const status: JsonObject = {
    backend: { kind: plan.backend.kind, name: plan.backend.name },
    endpoint: plan.application.connection?.endpoint ?? plan.backend.endpoints.primary,
    port: plan.port,
    databaseName: plan.spec.databaseName,
    connectionSecretName: plan.application.connection?.secretName,
    ...(adopted.length > 0 ? { adoptedCredentialsSecrets: adopted } : {}),
    ...(rotations.length > 0 ? { passwordRotations: rotations.map((r) => ({ ...r })) } : {}),
  };
  const conditions: XrCondition[] = [backendCondition(plan), ...out.conditions()];
  return {
    resources: out.resources,
    requirements: out.requirements,
    // Legacy XRs: Crossplane writes these to the claim's connection Secret.
    ...(details ? { connectionDetails: details } : {}),
    status,
    conditions,
    warnings: out.warnings,
    refusals: out.refusals,
    specErrors: [],
    ready: Object.values(out.resources).every((r) => r.ready) && conditions.every((c) => c.status === 'True'),
  };
}

/** The roles and the database themselves, as the backend creates them. */
function composeBackendObjects(plan: DatabasePlan, roles: RolePlan[], out: CompositionBuilder): void {
  const databaseName = `${plan.name}-${kubernetesNameFragment(plan.spec.databaseName)}`;
  const onInstance = plan.backend.kind === 'PostgresInstance' ? plan.backend : undefined;
  for (const role of roles) {
    const key = `role-${role.key}`;
    const observed = out.observedResource(key);
    const ready = onInstance ? isApplied(observed) : isReady(observed);
    out.add(
      key,
      onInstance ? buildDatabaseRole(plan, role, onInstance.cluster) : buildServerRole(plan, role),
      ready,
    );
    out.track(
      DATABASE_CONDITION_TYPES.database,
      ready
        ? undefined
        : pending(plan, onInstance ? 'DatabaseRole' : 'Role', `${plan.name}-${role.key}`, observed),
    );
  }
  const observed = out.observedResource('database');
  const ready = onInstance ? isApplied(observed) : isReady(observed);
  out.add(
    'database',
    onInstance
      ? buildCnpgDatabase(plan, onInstance.cluster, {
          ownPublicSchema: onInstance.instanceSpec.version === '14',
        })
      : buildServerDatabase(plan, databaseName),
    ready,
  );
  out.track(
    DATABASE_CONDITION_TYPES.database,
    ready ? undefined : pending(plan, 'Database', databaseName, observed),
  );
}

function backendCondition(plan: DatabasePlan): XrCondition {
  return {
    type: DATABASE_CONDITION_TYPES.backend,
    status: 'True',
    reason: 'Available',
    message: `database ${plan.spec.databaseName} on ${plan.backend.kind} ${plan.backend.name}, isolated: only its own roles may connect`,
  };
}

/** CloudNativePG reports a Database or DatabaseRole it has reconciled with status.applied. */
function isApplied(observed: JsonObject | undefined): boolean {
  return getPath(observed, 'status', 'applied') === true;
}

/** pgplane's managed resources report Ready, as Crossplane's do. */
function isReady(observed: JsonObject | undefined): boolean {
  return findCondition(observed, 'Ready')?.status === 'True';
}

function pending(plan: DatabasePlan, kind: string, name: string, observed: JsonObject | undefined): string {
  const what = `${kind} ${plan.namespace}/${name}`;
  if (observed === undefined) return `${what} has not been created yet`;
  const message = getPath(observed, 'status', 'message');
  const synced = findCondition(observed, 'Synced');
  const why =
    typeof message === 'string' && message
      ? message
      : synced?.status === 'False' && synced.message
        ? synced.message
        : undefined;
  return `${what} is not ready${why ? `: ${why}` : ''}`;
}
