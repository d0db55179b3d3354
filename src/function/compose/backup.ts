// Continuous backup through the Barman Cloud plugin: an ObjectStore, WAL archiving on the Cluster,
// and a ScheduledBackup for base backups.
import { commonLabels } from '../../shared/labels.js';
import { BARMAN_CLOUD_API_VERSION, BARMAN_CLOUD_PLUGIN, CNPG_API_VERSION } from './cnpg.js';
import { explicitServerName } from '../observe/restore.js';
import type { InstancePlan } from './plan.js';
import type { ObjectStore } from './upstream/barman-cloud-object-store.js';
import type { PluginConfiguration } from './upstream/cnpg-cluster.js';
import type { ScheduledBackup } from './upstream/cnpg-scheduled-backup.js';

export function buildObjectStore(plan: InstancePlan): ObjectStore | undefined {
  const { backup } = plan;
  if (!backup || !plan.spec.backup) return undefined;
  const credentials = backup.s3Credentials
    ? {
        accessKeyId: { name: backup.s3Credentials.secretName, key: backup.s3Credentials.accessKeyIdKey },
        secretAccessKey: {
          name: backup.s3Credentials.secretName,
          key: backup.s3Credentials.secretAccessKeyKey,
        },
      }
    : { inheritFromIAMRole: true };
  return {
    apiVersion: BARMAN_CLOUD_API_VERSION,
    kind: 'ObjectStore',
    metadata: {
      name: backup.objectStoreName,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'backup'),
    },
    spec: {
      retentionPolicy: plan.spec.backup.retention,
      configuration: {
        destinationPath: backup.destinationPath,
        ...(backup.endpointURL ? { endpointURL: backup.endpointURL } : {}),
        s3Credentials: credentials,
        wal: { compression: 'gzip' },
        data: { compression: 'gzip' },
      },
    },
  };
}

/**
 * The server folder a Cluster archives under, inside its ObjectStore's path. CNPG refuses to
 * archive into a folder that holds another cluster's WAL, and an instance deleted and created again
 * under the same name would find its old archive there: a new Cluster takes a folder of its own
 * incarnation (the XR's uid). A Cluster that exists keeps the folder it has (the plugin's default,
 * its name, for Clusters composed before this), so a running archive never moves.
 */
export function archiveServerName(plan: InstancePlan, observedCluster: unknown): string | undefined {
  if (observedCluster !== undefined) return explicitServerName(observedCluster);
  const incarnation = plan.identity.uid
    ?.toLowerCase()
    .replace(/[^a-f0-9]/g, '')
    .slice(0, 8);
  return incarnation ? `${plan.name}-${incarnation}` : undefined;
}

/** The Cluster's plugins entry that makes Barman Cloud the WAL archiver. */
export function walArchiverPlugins(plan: InstancePlan, serverName?: string): PluginConfiguration[] {
  if (!plan.backup) return [];
  return [
    {
      name: BARMAN_CLOUD_PLUGIN,
      isWALArchiver: true,
      parameters: { barmanObjectName: plan.backup.objectStoreName, ...(serverName ? { serverName } : {}) },
    },
  ];
}

export function buildScheduledBackup(plan: InstancePlan): ScheduledBackup | undefined {
  if (!plan.backup || !plan.spec.backup) return undefined;
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'ScheduledBackup',
    metadata: {
      name: `${plan.name}-daily`,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'backup'),
    },
    spec: {
      cluster: { name: plan.name },
      schedule: plan.spec.backup.schedule,
      method: 'plugin',
      pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
      // A first base backup right away: WAL alone cannot restore anything.
      immediate: true,
      backupOwnerReference: 'self',
    },
  };
}
