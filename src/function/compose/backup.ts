// Continuous backup through the Barman Cloud plugin: an ObjectStore, WAL archiving on the Cluster,
// and a ScheduledBackup for base backups.
import { commonLabels } from '../../shared/labels.js';
import type { JsonObject } from '../../shared/json.js';
import { BARMAN_CLOUD_API_VERSION, BARMAN_CLOUD_PLUGIN, CNPG_API_VERSION } from './cnpg.js';
import type { InstancePlan } from './plan.js';

export function buildObjectStore(plan: InstancePlan): JsonObject | undefined {
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

/** The Cluster's plugins entry that makes Barman Cloud the WAL archiver. */
export function walArchiverPlugins(plan: InstancePlan): JsonObject[] {
  if (!plan.backup) return [];
  return [
    {
      name: BARMAN_CLOUD_PLUGIN,
      isWALArchiver: true,
      parameters: { barmanObjectName: plan.backup.objectStoreName },
    },
  ];
}

export function buildScheduledBackup(plan: InstancePlan): JsonObject | undefined {
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
