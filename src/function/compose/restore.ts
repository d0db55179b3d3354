// Restore and clone: an instance created from another instance's backups, through CloudNativePG
// `bootstrap.recovery` and the Barman Cloud plugin. Pure: everything it knows comes from the plan,
// the observed Cluster, the XR's observed status and the source objects Crossplane fetched for it.
//
// Bootstrap is read by CNPG once, when the Cluster is created. So the restore request is recorded
// on the Cluster (an annotation): an observed Cluster without it was created without a restore, one
// with another value was restored from something else, and both refuse a restore that would
// silently do nothing. Once the Cluster exists, its bootstrap is carried forward as CNPG recorded
// it, and the source is no longer read (it may be deleted).
import type { PostgresInstanceSpec } from '../../api/postgres-instance.js';
import { getObject, getPath, getString, isObject, type JsonObject } from '../../shared/json.js';
import {
  readBackup,
  readDestinationPath,
  readRecoveryWindow,
  readSourceCluster,
  type Archive,
} from '../observe/restore.js';
import { BARMAN_CLOUD_API_VERSION, BARMAN_CLOUD_PLUGIN, CNPG_API_VERSION } from './cnpg.js';
import type { InstancePlan } from './plan.js';
import type { BootstrapConfiguration, ExternalCluster, RecoveryTarget } from './upstream/cnpg-cluster.js';

type RestoreRequest = NonNullable<PostgresInstanceSpec['restore']>;

/** On the Cluster: the restore it was bootstrapped with, as canonical JSON. */
const RESTORE_ANNOTATION = 'pgplane.io/restore';

/** Keys under which the function asks Crossplane for the restore source's objects. */
const RESTORE_REQUIREMENTS = {
  cluster: 'restore-source-cluster',
  objectStore: 'restore-source-object-store',
  backup: 'restore-source-backup',
} as const;

interface Requirement {
  apiVersion: string;
  kind: string;
  matchName: string;
  namespace: string;
}

/** What the restore needs of the Cluster: how it bootstraps, and what it records. */
export interface RecoveryBootstrap {
  bootstrap: BootstrapConfiguration;
  externalClusters: ExternalCluster[];
  annotations: Record<string, string>;
}

interface RestoreStatus {
  phase: 'Restoring' | 'Restored';
  from: string;
  target: string;
  message: string;
}

export type RestoreOutcome =
  /** No restore: the Cluster bootstraps with initdb. */
  | { kind: 'none' }
  /** Crossplane has not answered a requirement yet: compose no Cluster, it would bootstrap wrongly. */
  | { kind: 'waiting'; requirements: Record<string, Requirement>; message: string }
  /** The restore cannot happen; nothing may be composed. */
  | { kind: 'refused'; message: string }
  | {
      kind: 'recover';
      requirements: Record<string, Requirement>;
      recovery: RecoveryBootstrap;
      status: RestoreStatus;
    };

export interface RestoreObservation {
  /** The observed Cluster of this instance. */
  cluster?: JsonObject;
  /** Whether that Cluster reports ready instances: the recovery has finished. */
  clusterReady: boolean;
  /** The XR's own observed status (Crossplane writes back what the function returned). */
  compositeStatus?: JsonObject;
  /** The objects Crossplane fetched, by requirement key; `answered` says which keys it answered. */
  required: (key: string) => JsonObject | undefined;
  answered: (key: string) => boolean;
  /** The server folder this instance archives under (its own, never the source's). */
  serverName: string;
}

const FROM_EXAMPLE =
  'Example: restore: {from: checkout}, naming an instance in this namespace that has spec.backup';

/** A restore request as one comparable string: the fields that change what is recovered. */
function canonicalRestore(restore: RestoreRequest): string {
  const { from, targetTime, targetLSN, backup } = restore;
  return JSON.stringify({ from, targetTime, targetLSN, backup });
}

/** Where the recovery stops, in words: the status and messages say this. */
function describeTarget(restore: RestoreRequest): string {
  if (restore.targetTime) return restore.targetTime;
  if (restore.targetLSN) return `LSN ${restore.targetLSN}`;
  if (restore.backup) return `the end of backup ${restore.backup}`;
  return 'the end of the archive';
}

export function resolveRestore(plan: InstancePlan, observed: RestoreObservation): RestoreOutcome {
  const requested = plan.spec.restore;
  const recorded = getString(observed.cluster, 'metadata', 'annotations', RESTORE_ANNOTATION);
  if (observed.cluster) {
    if (!requested) return recorded ? carried(plan, observed, recorded) : { kind: 'none' };
    if (recorded === canonicalRestore(requested)) return carried(plan, observed, recorded);
    return { kind: 'refused', message: alreadyBootstrapped(plan, requested, recorded) };
  }
  if (!requested) return { kind: 'none' };
  // The Cluster may be unobserved for a moment; the XR's status still says it ran.
  const status = observed.compositeStatus;
  const restoredBefore = getObject(status, 'restore');
  if (getString(status, 'version') !== undefined && !sameRestore(restoredBefore, requested)) {
    return { kind: 'refused', message: alreadyBootstrapped(plan, requested, undefined) };
  }
  return fromSource(plan, requested, observed);
}

function sameRestore(status: JsonObject | undefined, requested: RestoreRequest): boolean {
  return status?.from === requested.from && status.target === describeTarget(requested);
}

function alreadyBootstrapped(
  plan: InstancePlan,
  requested: RestoreRequest,
  recorded: string | undefined,
): string {
  const where = `the CloudNativePG Cluster ${plan.namespace}/${plan.name}`;
  const why =
    'CloudNativePG reads bootstrap only when it creates a cluster, so this restore would silently do nothing';
  const what = recorded
    ? `spec.restore changed after ${where} was restored (it was ${describeRecorded(recorded)}, now from ${requested.from} to ${describeTarget(requested)}): ${why}`
    : `spec.restore was added after ${where} was created: ${why}`;
  return `${what}. Put it back as it was (or remove it), and create a new PostgresInstance with the restore instead. Example: a new instance ${plan.name}-restored with restore: {from: ${requested.from}}`;
}

function describeRecorded(recorded: string): string {
  const parsed = parseRecorded(recorded);
  return parsed ? `from ${parsed.from} to ${describeTarget(parsed)}` : 'a restore pgplane cannot read';
}

function parseRecorded(recorded: string): RestoreRequest | undefined {
  try {
    const value: unknown = JSON.parse(recorded);
    if (!isObject(value) || typeof value.from !== 'string') return undefined;
    const text = (key: string) => (typeof value[key] === 'string' ? { [key]: value[key] } : {});
    return { from: value.from, ...text('targetTime'), ...text('targetLSN'), ...text('backup') };
  } catch {
    return undefined;
  }
}

/** The Cluster exists: keep the bootstrap CNPG created it with; the source is not read again. */
function carried(plan: InstancePlan, observed: RestoreObservation, recorded: string): RestoreOutcome {
  // Read back from the API server, which validated them against the Cluster CRD these types are
  // generated from: they are the shape CNPG bootstrapped with, passed on unchanged.
  const spec = getObject(observed.cluster, 'spec');
  const bootstrap: BootstrapConfiguration | undefined = getObject(spec, 'bootstrap');
  const externalClusters = getPath(spec, 'externalClusters');
  const request = parseRecorded(recorded) ?? { from: '?' };
  return {
    kind: 'recover',
    requirements: {},
    recovery: {
      bootstrap: bootstrap ?? {},
      externalClusters: Array.isArray(externalClusters) ? externalClusters.filter(isExternalCluster) : [],
      annotations: { [RESTORE_ANNOTATION]: recorded },
    },
    status: restoreStatus(plan, request, observed, sourceArchive(observed.cluster, request.from)),
  };
}

/**
 * An observed externalClusters entry. The API server validated it against the Cluster CRD its type
 * is generated from, so its name (the one required field) is all there is left to check.
 */
function isExternalCluster(value: unknown): value is ExternalCluster {
  return isObject(value) && typeof value['name'] === 'string';
}

/** The archive a carried-forward Cluster recovered from, as its externalClusters entry names it. */
function sourceArchive(cluster: JsonObject | undefined, from: string): Archive | undefined {
  const external = getPath(cluster, 'spec', 'externalClusters');
  if (!Array.isArray(external)) return undefined;
  const entry = external.find((e) => isObject(e) && e.name === from);
  const objectStoreName = getString(entry, 'plugin', 'parameters', 'barmanObjectName');
  const serverName = getString(entry, 'plugin', 'parameters', 'serverName');
  return objectStoreName && serverName ? { objectStoreName, serverName } : undefined;
}

function restoreStatus(
  plan: InstancePlan,
  request: RestoreRequest,
  observed: RestoreObservation,
  archive: Archive | undefined,
): RestoreStatus {
  const previous = getObject(observed.compositeStatus, 'restore');
  const restored =
    observed.clusterReady || (previous?.phase === 'Restored' && sameRestore(previous, request));
  const source = `PostgresInstance ${plan.namespace}/${request.from}${archive ? ` (ObjectStore ${archive.objectStoreName}, server ${archive.serverName})` : ''}`;
  const target = describeTarget(request);
  return {
    phase: restored ? 'Restored' : 'Restoring',
    from: request.from,
    target,
    message: `${restored ? 'restored' : 'restoring'} from ${source} to ${target}`,
  };
}

/** A new Cluster: read the source's Cluster, its ObjectStore and, when named, the Backup. */
function fromSource(
  plan: InstancePlan,
  request: RestoreRequest,
  observed: RestoreObservation,
): RestoreOutcome {
  const from = request.from;
  const requirements: Record<string, Requirement> = {
    [RESTORE_REQUIREMENTS.cluster]: {
      apiVersion: CNPG_API_VERSION,
      kind: 'Cluster',
      matchName: from,
      namespace: plan.namespace,
    },
  };
  const waiting = (what: string): RestoreOutcome => ({
    kind: 'waiting',
    requirements,
    message: `waiting to read ${what} of the restore source ${plan.namespace}/${from}`,
  });
  const refuse = (problem: string): RestoreOutcome => ({
    kind: 'refused',
    message: `spec.restore.from names "${from}", but ${problem}. ${FROM_EXAMPLE}`,
  });

  if (!observed.answered(RESTORE_REQUIREMENTS.cluster)) return waiting('the CloudNativePG Cluster');
  const clusterObject = observed.required(RESTORE_REQUIREMENTS.cluster);
  if (!clusterObject)
    return refuse(
      `there is no PostgresInstance "${from}" in namespace ${plan.namespace} (no CloudNativePG Cluster ${plan.namespace}/${from}); a restore reads the backups of an instance in the same namespace`,
    );
  const source = readSourceCluster(clusterObject);
  if (source.instance !== from)
    return refuse(
      `the CloudNativePG Cluster ${plan.namespace}/${from} is not a pgplane PostgresInstance (it has no pgplane.io/instance label naming it)`,
    );
  if (!source.archive)
    return refuse(
      `PostgresInstance ${plan.namespace}/${from} has no backups configured (no spec.backup, so nothing is archived to restore from); add backup: {schedule: "0 0 3 * * *"} to it and wait for its first backup`,
    );
  const archive = source.archive;
  const mismatch = bootstrapMismatch(plan, source);
  if (mismatch) return refuse(mismatch);

  requirements[RESTORE_REQUIREMENTS.objectStore] = {
    apiVersion: BARMAN_CLOUD_API_VERSION,
    kind: 'ObjectStore',
    matchName: archive.objectStoreName,
    namespace: plan.namespace,
  };
  if (!observed.answered(RESTORE_REQUIREMENTS.objectStore)) return waiting('the Barman Cloud ObjectStore');
  const objectStore = observed.required(RESTORE_REQUIREMENTS.objectStore);
  if (!objectStore)
    return refuse(
      `its Barman Cloud ObjectStore ${plan.namespace}/${archive.objectStoreName} does not exist, so there is no archive to restore from`,
    );
  const window = readRecoveryWindow(objectStore, archive.serverName);
  if (!window.lastSuccessfulBackupTime)
    return refuse(
      `PostgresInstance ${plan.namespace}/${from} has no completed base backup yet (ObjectStore ${archive.objectStoreName} reports none for server ${archive.serverName}); wait for its first scheduled backup, or take one with kubectl cnpg backup ${from} -n ${plan.namespace} --method=plugin --plugin-name=${BARMAN_CLOUD_PLUGIN}`,
    );
  if (
    request.targetTime &&
    window.firstRecoverabilityPoint &&
    Date.parse(request.targetTime) < Date.parse(window.firstRecoverabilityPoint)
  )
    return {
      kind: 'refused',
      message: `spec.restore.targetTime is ${request.targetTime}, before the first point PostgresInstance ${plan.namespace}/${from} can be recovered to (${window.firstRecoverabilityPoint}; older backups are past their retention). Example: restore: {from: ${from}, targetTime: "${window.firstRecoverabilityPoint}"}`,
    };
  const ownPath = plan.backup?.destinationPath;
  if (
    ownPath !== undefined &&
    ownPath === readDestinationPath(objectStore) &&
    observed.serverName === archive.serverName
  )
    return refuse(
      `this instance would archive into the same place as its source (${ownPath}, server ${archive.serverName}), which would corrupt the source's recovery history`,
    );

  let recoveryTarget: RecoveryTarget | undefined;
  if (request.targetTime) recoveryTarget = { targetTime: request.targetTime };
  else if (request.targetLSN) recoveryTarget = { targetLSN: request.targetLSN };
  else if (request.backup) {
    requirements[RESTORE_REQUIREMENTS.backup] = {
      apiVersion: CNPG_API_VERSION,
      kind: 'Backup',
      matchName: request.backup,
      namespace: plan.namespace,
    };
    if (!observed.answered(RESTORE_REQUIREMENTS.backup)) return waiting(`the Backup ${request.backup}`);
    const backupObject = observed.required(RESTORE_REQUIREMENTS.backup);
    const backup = backupObject ? readBackup(backupObject) : undefined;
    const example = `Example: restore: {from: ${from}, backup: <a completed Backup of ${from}: kubectl -n ${plan.namespace} get backups.postgresql.cnpg.io>}`;
    const problem = !backup
      ? `there is no Backup ${plan.namespace}/${request.backup}`
      : backup.cluster !== from
        ? `Backup ${plan.namespace}/${request.backup} is a backup of ${backup.cluster ?? 'no cluster'}, not of ${from}`
        : backup.phase !== 'completed' || !backup.backupId
          ? `Backup ${plan.namespace}/${request.backup} has not completed (phase ${backup.phase ?? 'unknown'})`
          : undefined;
    if (problem || !backup?.backupId)
      return {
        kind: 'refused',
        message: `spec.restore.backup names "${request.backup}", but ${problem ?? 'it has no backup ID'}. ${example}`,
      };
    // That backup exactly: start from it and stop as soon as it is consistent.
    recoveryTarget = { backupID: backup.backupId, targetImmediate: true };
  }

  return {
    kind: 'recover',
    requirements,
    recovery: {
      bootstrap: recoveryBootstrap(plan, from, recoveryTarget),
      externalClusters: [archiveSource(from, archive)],
      annotations: { [RESTORE_ANNOTATION]: canonicalRestore(request) },
    },
    status: restoreStatus(plan, request, observed, archive),
  };
}

/**
 * A physical restore brings the source's databases as they were: the same major, database and
 * owner. A claim that says otherwise would get an instance whose spec does not describe it.
 */
function bootstrapMismatch(
  plan: InstancePlan,
  source: ReturnType<typeof readSourceCluster>,
): string | undefined {
  const { spec } = plan;
  const from = `PostgresInstance ${plan.namespace}/${spec.restore?.from ?? ''}`;
  if (source.major !== undefined && String(source.major) !== spec.version)
    return `${from} runs PostgreSQL ${source.major} and a restore cannot change the major; set version: "${source.major}" (spec.version is "${spec.version}")`;
  if (source.database && source.database !== spec.databaseName)
    return `${from} holds database ${source.database}; set databaseName: ${source.database} (spec.databaseName is ${spec.databaseName}), a restore recovers its databases as they were`;
  if (source.owner && source.owner !== spec.databaseOwner)
    return `${from} is owned by ${source.owner}; set databaseOwner: ${source.owner} (spec.databaseOwner is ${spec.databaseOwner})`;
  return undefined;
}

/** `bootstrap.recovery` from the source's archive; the owner keeps this instance's own password. */
export function recoveryBootstrap(
  plan: InstancePlan,
  source: string,
  recoveryTarget?: RecoveryTarget,
  { ownerSecret = true }: { ownerSecret?: boolean } = {},
): BootstrapConfiguration {
  return {
    recovery: {
      source,
      database: plan.spec.databaseName,
      owner: plan.spec.databaseOwner,
      // A verification clone takes no credentials: nobody connects to it.
      ...(ownerSecret ? { secret: { name: plan.owner.credentialsSecretName } } : {}),
      ...(recoveryTarget ? { recoveryTarget } : {}),
    },
  };
}

/** The externalClusters entry that reads an archive through the plugin (read-only: never archived to). */
export function archiveSource(name: string, archive: Archive): ExternalCluster {
  return {
    name,
    plugin: {
      name: BARMAN_CLOUD_PLUGIN,
      parameters: { barmanObjectName: archive.objectStoreName, serverName: archive.serverName },
    },
  };
}
