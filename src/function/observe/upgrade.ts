// Major versions: what runs (the observed Cluster's status.pgDataImageInfo.majorVersion), what the
// claim asks for (spec.version), and whether going from one to the other is allowed. CloudNativePG
// (1.26 and later) upgrades a major in place and offline with pg_upgrade; there is no way back once
// it completes, and no way down at all. So a lower version is refused, and a higher one needs a
// backup to go back to, unless the claim opts out. Pure, and with no clock: "a backup to go back
// to" is read from what the operators report (the newest base backup succeeded, WAL archiving
// works), not from how old the backup is, so the same observed state always gets the same answer.
import { getNumber, getObject, getPath, getString, isObject, type JsonObject } from '../../shared/json.js';
import type { InstancePlan } from '../compose/plan.js';
import type { FieldError } from '../xr/errors.js';
import { findCondition } from './conditions.js';

export type MajorVersionState =
  /** Nothing runs yet (or CloudNativePG has not reported the major): nothing to guard. */
  | { kind: 'unknown' }
  | { kind: 'current'; running: string }
  /** spec.version is higher and the guard let it through; CloudNativePG has not started yet. */
  | { kind: 'requested'; from: string; to: string; backup: string }
  /** CloudNativePG reports the upgrade in progress (status.targetPgDataImageInfo). */
  | { kind: 'upgrading'; from: string; to: string; phase: string }
  | { kind: 'refused'; error: FieldError };

const CONTINUOUS_ARCHIVING = 'ContinuousArchiving';
/** CloudNativePG's PhaseMajorUpgrade. */
const CNPG_MAJOR_UPGRADE_PHASE = 'Upgrading Postgres major version';

export function readMajorVersion(
  plan: InstancePlan,
  cluster: JsonObject | undefined,
  objectStore: JsonObject | undefined,
): MajorVersionState {
  const runningMajor = getNumber(cluster, 'status', 'pgDataImageInfo', 'majorVersion');
  if (cluster === undefined || runningMajor === undefined) return { kind: 'unknown' };
  const running = String(runningMajor);
  const requested = Number(plan.version);

  if (requested < runningMajor) {
    return {
      kind: 'refused',
      error: {
        field: 'spec.version',
        problem: `is "${plan.version}", lower than PostgreSQL ${running}, the major running in ${where(plan)}: a data directory cannot go back a major version, so nothing was changed. Keep the running major, or restore a backup into a new instance to run ${plan.version}`,
        example: `version: "${running}"`,
      },
    };
  }
  // CloudNativePG sets the target image before it starts the pg_upgrade Job and clears it when the
  // upgrade completes or is rolled back; the phase says the same while the Job runs.
  const target = getNumber(cluster, 'status', 'targetPgDataImageInfo', 'majorVersion');
  const phase = getString(cluster, 'status', 'phase') ?? 'Unknown';
  if (target !== undefined && target !== runningMajor)
    return { kind: 'upgrading', from: running, to: String(target), phase };
  if (phase === CNPG_MAJOR_UPGRADE_PHASE && requested > runningMajor)
    return { kind: 'upgrading', from: running, to: plan.version, phase };
  if (requested === runningMajor) return { kind: 'current', running };

  const upgrade = { from: running, to: plan.version };
  // Already let through on an earlier call (the Cluster asks for the new major): the instances may be
  // down for pg_upgrade now, and archiving with them, so the backup is not asked for again.
  if (clusterAsksFor(cluster, requested))
    return { kind: 'requested', ...upgrade, backup: 'checked when the upgrade was requested' };
  if (plan.spec.upgrade?.allowWithoutBackup)
    return { kind: 'requested', ...upgrade, backup: 'skipped: spec.upgrade.allowWithoutBackup is true' };

  const backup = lastGoodBackup(plan, cluster, objectStore);
  if (backup.ok) return { kind: 'requested', ...upgrade, backup: `base backup of ${backup.at}` };
  return {
    kind: 'refused',
    error: {
      field: 'spec.version',
      problem: `is "${plan.version}", a major upgrade from PostgreSQL ${running} (${where(plan)}). CloudNativePG upgrades offline with pg_upgrade and cannot roll back a completed upgrade, so pgplane upgrades only with a backup to go back to, and ${backup.missing}; nothing was changed. Configure spec.backup and wait for a successful backup, or accept the risk with upgrade: {allowWithoutBackup: true}`,
      example: 'backup: {schedule: "0 0 3 * * *"}',
    },
  };
}

/** Whether the observed Cluster's spec already asks for this major (catalog major or pinned image). */
function clusterAsksFor(cluster: JsonObject, major: number): boolean {
  const catalogMajor = getNumber(cluster, 'spec', 'imageCatalogRef', 'major');
  if (catalogMajor !== undefined) return catalogMajor === major;
  const current = getString(cluster, 'status', 'pgDataImageInfo', 'image');
  const image = getString(cluster, 'spec', 'imageName');
  // A pinned image: a different image than the one the data directory last ran, with the same
  // major requested, means the new image was applied already.
  return image !== undefined && current !== undefined && image !== current;
}

type BackupCheck = { ok: true; at: string } | { ok: false; missing: string };

/**
 * A backup to go back to: backups are configured, the newest base backup in the Barman Cloud
 * ObjectStore succeeded (no failure after it), and WAL archiving works, so recovery reaches up to
 * the moment the upgrade starts. (The plugin reports backups on the ObjectStore, per server name:
 * CloudNativePG's own lastSuccessfulBackup is not set for plugins.)
 */
function lastGoodBackup(
  plan: InstancePlan,
  cluster: JsonObject,
  objectStore: JsonObject | undefined,
): BackupCheck {
  if (!plan.backup) return { ok: false, missing: 'spec.backup is not set, so there is no backup' };
  const store = `ObjectStore ${plan.namespace}/${plan.backup.objectStoreName}`;
  const window = getObject(objectStore, 'status', 'serverRecoveryWindow', serverName(plan, cluster));
  const succeeded = getString(window, 'lastSuccessfulBackupTime');
  if (!succeeded) return { ok: false, missing: `${store} reports no successful base backup yet` };
  const failed = getString(window, 'lastFailedBackupTime');
  if (failed && Date.parse(failed) > Date.parse(succeeded))
    return {
      ok: false,
      missing: `the newest base backup failed (${failed}, after the last successful one of ${succeeded})`,
    };
  const archiving = findCondition(cluster, CONTINUOUS_ARCHIVING);
  if (archiving?.status !== 'True')
    return {
      ok: false,
      missing: `WAL archiving is not working (${where(plan)} condition ${CONTINUOUS_ARCHIVING} is ${archiving?.status ?? 'missing'}${archiving?.message ? `: ${archiving.message}` : ''}), so the backup of ${succeeded} cannot be brought up to now`,
    };
  return { ok: true, at: succeeded };
}

function where(plan: InstancePlan): string {
  return `Cluster ${plan.namespace}/${plan.name}`;
}

/** The server name the Cluster archives under: the plugin's serverName parameter, else the Cluster's name. */
function serverName(plan: InstancePlan, cluster: JsonObject): string {
  const plugins = getPath(cluster, 'spec', 'plugins');
  const archiver = Array.isArray(plugins)
    ? plugins.find((p): p is JsonObject => isObject(p) && p['isWALArchiver'] === true)
    : undefined;
  return getString(archiver, 'parameters', 'serverName') ?? plan.name;
}
