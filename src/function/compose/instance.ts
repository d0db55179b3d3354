// The whole composition of one PostgresInstance: desired objects, their readiness, XR status and
// conditions, from the resolved plan and what Crossplane observed. Pure: no I/O, no clock.
import { RESOURCE_KEYS } from '../../shared/labels.js';
import { getPath, type JsonObject } from '../../shared/json.js';
import { readClusterState } from '../observe/cluster.js';
import { findCondition } from '../observe/conditions.js';
import { readMajorVersion, type MajorVersionState } from '../observe/upgrade.js';
import { archiveServerName, buildObjectStore, buildScheduledBackup } from './backup.js';
import { buildCluster } from './cluster.js';
import {
  CompositionBuilder,
  CONDITION_TYPES,
  grantProblem,
  type Composition,
  type Observed,
  type XrCondition,
} from './composition-builder.js';
import { buildDatabase } from './database.js';
import { buildProviderConfig, composedGrants } from './grants.js';
import { buildPodMonitor, buildPrometheusRule } from './monitoring.js';
import { buildNetworkPolicy } from './network-policy.js';
import type { InstancePlan } from './plan.js';
import { buildPooler } from './pooler.js';
import { resolveRestore, type RestoreOutcome } from './restore.js';
import { composeCredentials } from './role-credentials.js';
import { buildDatabaseRole, cnpgManagedRoles, extraRoles } from './roles.js';
import {
  servedDatabases,
  SHARED_DATABASES_REQUIREMENT,
  sharingEnabled,
  sharingRequirements,
} from './sharing.js';
import { composedUsages } from './usages.js';
import { composeVerification, VERIFY_KEYS } from './verification.js';

export function composeInstance(plan: InstancePlan, observed: Observed): Composition {
  const out = new CompositionBuilder(observed);

  const observedCluster = out.observedResource(RESOURCE_KEYS.cluster);
  const cluster = readClusterState(observedCluster, plan.spec.instances);
  const archiveServer = archiveServerName(plan, observedCluster);
  const restore = resolveRestore(plan, {
    ...(observedCluster ? { cluster: observedCluster } : {}),
    clusterReady: cluster.ready || cluster.readyInstances > 0,
    ...(out.compositeStatus ? { compositeStatus: out.compositeStatus } : {}),
    required: (key) => out.requiredResource(key),
    answered: (key) => out.answered(key),
    serverName: archiveServer ?? plan.name,
  });
  if (restore.kind === 'refused') out.refusals.push({ reason: 'RestoreRefused', message: restore.message });
  if (restore.kind === 'waiting' || restore.kind === 'recover')
    Object.assign(out.requirements, restore.requirements);
  // Until the source is read, a Cluster would bootstrap empty (initdb) and never restore: none yet.
  if (restore.kind !== 'waiting') {
    const recovery = restore.kind === 'recover' ? restore.recovery : undefined;
    out.add(
      RESOURCE_KEYS.cluster,
      buildCluster(plan, {
        ...(recovery ? { recovery } : {}),
        ...(archiveServer ? { archiveServerName: archiveServer } : {}),
      }),
      cluster.ready,
    );
  }
  const clusterCondition: XrCondition = cluster.ready
    ? {
        type: CONDITION_TYPES.cluster,
        status: 'True',
        reason: cluster.hibernated ? 'Hibernated' : 'Available',
        message: cluster.hibernated
          ? 'hibernated: pods are stopped, volumes are kept'
          : `${cluster.readyInstances}/${cluster.instances} instances ready`,
      }
    : {
        type: CONDITION_TYPES.cluster,
        status: 'False',
        reason: cluster.observed ? 'Unavailable' : restore.kind === 'waiting' ? 'Waiting' : 'Creating',
        message: restore.kind === 'waiting' ? restore.message : (cluster.problem ?? 'not ready'),
      };

  const roles = [plan.owner, ...extraRoles(plan)].filter((role) => role.login);
  const { details: connectionDetails, adopted, rotations } = composeCredentials(plan, roles, out);

  if (plan.input.roleManagement === 'DatabaseRole') {
    for (const role of cnpgManagedRoles(plan)) {
      const key = `role-${role.key}`;
      const observedRole = out.observedResource(key);
      out.add(key, buildDatabaseRole(plan, role), getPath(observedRole, 'status', 'applied') === true);
    }
  }

  const version = readMajorVersion(
    plan,
    out.observedResource(RESOURCE_KEYS.cluster),
    out.observedResource('object-store'),
  );
  // A shared instance's own database is closed to PUBLIC too: tenants' roles live on its server.
  const grants = composedGrants(plan, { isolated: sharingEnabled(plan) });
  Object.assign(out.requirements, sharingRequirements(plan));
  for (const { key, usage } of composedUsages(plan, grants)) out.addWhenObserved(key, usage);
  if (grants.length > 0) {
    out.addWhenObserved('provider-config', buildProviderConfig(plan));
    for (const { key, grant } of grants) {
      const resourceKey = `grant-${key}`;
      const observedGrant = out.observedResource(resourceKey);
      const ready = findCondition(observedGrant, 'Ready')?.status === 'True';
      out.add(resourceKey, grant, ready);
      out.track(CONDITION_TYPES.grants, ready ? undefined : grantProblem(plan, grant, observedGrant));
    }
  }

  const database = buildDatabase(plan);
  if (database)
    out.add('database', database, getPath(out.observedResource('database'), 'status', 'applied') === true);
  out.addWhenObserved('pooler', buildPooler(plan));
  out.addWhenObserved('object-store', buildObjectStore(plan));
  out.addWhenObserved('scheduled-backup', buildScheduledBackup(plan));
  out.addWhenObserved('pod-monitor', buildPodMonitor(plan));
  const verification = composeVerification(plan, {
    now: out.now ?? new Date(0),
    ...(out.compositeStatus ? { compositeStatus: out.compositeStatus } : {}),
    ...(out.compositeCreated ? { compositeCreated: out.compositeCreated } : {}),
    ...(observedCluster ? { cluster: observedCluster } : {}),
    clusterReady: cluster.ready,
    ...(out.observedResource('object-store') ? { objectStore: out.observedResource('object-store') } : {}),
    ...(out.observedResource(VERIFY_KEYS.clone) ? { clone: out.observedResource(VERIFY_KEYS.clone) } : {}),
  });
  for (const { key, resource, ready } of verification?.resources ?? []) out.add(key, resource, ready);
  out.addWhenObserved('prometheus-rule', buildPrometheusRule(plan, verification?.alerts));
  out.addWhenObserved('network-policy', buildNetworkPolicy(plan));

  const status: JsonObject = {
    endpoint: plan.application.connection?.endpoint ?? plan.primaryEndpoint,
    port: plan.port,
    phase: cluster.phase,
    readyInstances: cluster.readyInstances,
    instances: cluster.instances,
    connectionSecretName: plan.application.connection?.secretName,
    ...(adopted.length > 0 ? { adoptedCredentialsSecrets: adopted } : {}),
    ...(rotations.length > 0 ? { passwordRotations: rotations.map((r) => ({ ...r })) } : {}),
    ...(cluster.version ? { version: cluster.version } : {}),
    ...(restore.kind === 'recover' ? { restore: { ...restore.status } } : {}),
    ...(verification ? { verification: { ...verification.status } } : {}),
    ...(version.kind === 'requested' || version.kind === 'upgrading'
      ? { upgrade: { from: version.from, to: version.to } }
      : {}),
    deletionProtection: plan.deletionProtection,
    ...(sharingEnabled(plan)
      ? {
          databases: servedDatabases(plan, out.requiredList(SHARED_DATABASES_REQUIREMENT)).map((d) => ({
            ...d,
          })),
        }
      : {}),
  };
  const conditions = [
    clusterCondition,
    ...restoreConditions(restore),
    ...majorVersionConditions(version),
    ...out.conditions(),
  ];
  const allConditions = verification ? [...conditions, verification.condition] : conditions;
  return {
    resources: out.resources,
    requirements: out.requirements,
    ...(connectionDetails ? { connectionDetails } : {}),
    status,
    conditions: allConditions,
    warnings: out.warnings,
    refusals: out.refusals,
    specErrors: version.kind === 'refused' ? [version.error] : [],
    // A restore not verified yet is no reason to call the function more often.
    ready: Object.values(out.resources).every((r) => r.ready) && conditions.every((c) => c.status === 'True'),
  };
}

/** Restoring, then restored: what is recovered from where, to which point. */
function restoreConditions(restore: RestoreOutcome): XrCondition[] {
  if (restore.kind !== 'recover') return [];
  const restored = restore.status.phase === 'Restored';
  return [
    {
      type: CONDITION_TYPES.restore,
      status: restored ? 'True' : 'False',
      reason: restore.status.phase,
      message: restore.status.message,
    },
  ];
}

/** Which major runs, and an upgrade while it is requested or running (the database is down meanwhile). */
function majorVersionConditions(version: MajorVersionState): XrCondition[] {
  const type = CONDITION_TYPES.majorVersion;
  switch (version.kind) {
    case 'current':
      return [
        {
          type,
          status: 'True',
          reason: 'Current',
          message: `PostgreSQL ${version.running} runs, as spec.version asks`,
        },
      ];
    case 'requested':
      return [
        {
          type,
          status: 'False',
          reason: 'UpgradeRequested',
          message: `upgrading PostgreSQL ${version.from} to ${version.to}: CloudNativePG stops the instances and runs pg_upgrade, with no rollback once it completes (backup: ${version.backup})`,
        },
      ];
    case 'upgrading':
      return [
        {
          type,
          status: 'False',
          reason: 'Upgrading',
          message: `CloudNativePG is upgrading PostgreSQL ${version.from} to ${version.to} offline with pg_upgrade (phase "${version.phase}"); the database is unavailable until it completes`,
        },
      ];
    default:
      return [];
  }
}
