// What the objects a restore reads say: the source's CNPG Cluster (where it archives, which major
// and database it runs), its Barman Cloud ObjectStore (whether a base backup exists, and from
// when), a CNPG Backup, and what an observed Cluster was bootstrapped from.
import { getNumber, getObject, getString, isObject, type JsonObject } from '../../shared/json.js';
import { BARMAN_CLOUD_PLUGIN } from '../compose/cnpg.js';

/** Where a cluster's WAL and base backups go: the ObjectStore and the server folder inside it. */
export interface Archive {
  objectStoreName: string;
  serverName: string;
}

export interface SourceCluster {
  /** The instance label pgplane puts on the Clusters it composes. */
  instance?: string;
  /** Its WAL archiver, when backups are configured. */
  archive?: Archive;
  /** The running major, once CNPG reports it. */
  major?: number;
  /** The application database and owner it was bootstrapped with. */
  database?: string;
  owner?: string;
}

const INSTANCE_LABEL = 'pgplane.io/instance';

/** The Barman Cloud WAL archiver of a Cluster spec; the plugin's serverName defaults to the Cluster's name. */
export function readArchive(cluster: unknown): Archive | undefined {
  const plugins = getObject(cluster, 'spec')?.plugins;
  if (!Array.isArray(plugins)) return undefined;
  for (const plugin of plugins) {
    if (!isObject(plugin) || plugin.name !== BARMAN_CLOUD_PLUGIN || plugin.isWALArchiver !== true) continue;
    if (plugin.enabled === false) continue;
    const objectStoreName = getString(plugin, 'parameters', 'barmanObjectName');
    if (!objectStoreName) continue;
    const serverName =
      getString(plugin, 'parameters', 'serverName') ?? getString(cluster, 'metadata', 'name') ?? '';
    return { objectStoreName, serverName };
  }
  return undefined;
}

/** The serverName an observed Cluster archives under, only when it says so explicitly. */
export function explicitServerName(cluster: unknown): string | undefined {
  const plugins = getObject(cluster, 'spec')?.plugins;
  if (!Array.isArray(plugins)) return undefined;
  const archiver = plugins.find(
    (plugin) => isObject(plugin) && plugin.name === BARMAN_CLOUD_PLUGIN && plugin.isWALArchiver === true,
  );
  return getString(archiver, 'parameters', 'serverName');
}

export function readSourceCluster(cluster: JsonObject): SourceCluster {
  const bootstrap = getObject(cluster, 'spec', 'bootstrap');
  const method = getObject(bootstrap, 'initdb') ?? getObject(bootstrap, 'recovery');
  const instance = getString(cluster, 'metadata', 'labels', INSTANCE_LABEL);
  const archive = readArchive(cluster);
  const major = getNumber(cluster, 'status', 'pgDataImageInfo', 'majorVersion');
  const database = getString(method, 'database');
  const owner = getString(method, 'owner');
  return {
    ...(instance ? { instance } : {}),
    ...(archive ? { archive } : {}),
    ...(major !== undefined ? { major } : {}),
    ...(database ? { database } : {}),
    ...(owner ? { owner } : {}),
  };
}

/** What the ObjectStore knows of one server's backups (Barman Cloud plugin status). */
export interface RecoveryWindow {
  firstRecoverabilityPoint?: string;
  lastSuccessfulBackupTime?: string;
  lastFailedBackupTime?: string;
}

export function readRecoveryWindow(objectStore: unknown, serverName: string): RecoveryWindow {
  const window = getObject(objectStore, 'status', 'serverRecoveryWindow', serverName);
  const field = (key: keyof RecoveryWindow) => {
    const value = getString(window, key);
    return value ? { [key]: value } : {};
  };
  return {
    ...field('firstRecoverabilityPoint'),
    ...field('lastSuccessfulBackupTime'),
    ...field('lastFailedBackupTime'),
  };
}

export function readDestinationPath(objectStore: unknown): string | undefined {
  return getString(objectStore, 'spec', 'configuration', 'destinationPath');
}

/** A CNPG Backup: whose it is, whether it completed, its Barman ID and when it ended. */
export interface BackupState {
  cluster?: string;
  phase?: string;
  backupId?: string;
  stoppedAt?: string;
}

export function readBackup(backup: unknown): BackupState {
  const value = (...path: string[]) => getString(backup, ...path);
  const cluster = value('spec', 'cluster', 'name');
  const phase = value('status', 'phase');
  const backupId = value('status', 'backupId');
  const stoppedAt = value('status', 'stoppedAt');
  return {
    ...(cluster ? { cluster } : {}),
    ...(phase ? { phase } : {}),
    ...(backupId ? { backupId } : {}),
    ...(stoppedAt ? { stoppedAt } : {}),
  };
}
