// The CloudNativePG Cluster: the database itself.
import { CNPG_HIBERNATION_ANNOTATION, commonLabels } from '../../shared/labels.js';
import type { InstancePlan } from './plan.js';
import { walArchiverPlugins } from './backup.js';
import { managedRoles } from './roles.js';
import { memoryParameters } from './sizing.js';
import { ident } from '../../shared/sql-ident.js';
import { CNPG_API_VERSION } from './cnpg.js';
import type { RecoveryBootstrap } from './restore.js';
import type { AffinityConfiguration, Cluster, StorageConfiguration } from './upstream/cnpg-cluster.js';

/**
 * Plain-text connections are refused before CNPG's catch-all `host ... scram-sha-256` rule: a
 * password never crosses the network unencrypted, whatever the client's sslmode.
 */
const TLS_ONLY_HBA = ['hostnossl all all all reject'];

/** What is decided from observed state, not from the spec alone. */
export interface ClusterOptions {
  /** A restore: bootstrap from the source's archive instead of initdb. */
  recovery?: RecoveryBootstrap;
  /** The server folder the WAL archiver writes under (see archiveServerName). */
  archiveServerName?: string;
}

export function buildCluster(plan: InstancePlan, options: ClusterOptions = {}): Cluster {
  const { spec } = plan;
  const { recovery } = options;
  const annotations = {
    ...(spec.hibernate ? { [CNPG_HIBERNATION_ANNOTATION]: 'on' } : {}),
    ...recovery?.annotations,
  };
  const roles = managedRoles(plan);
  const plugins = walArchiverPlugins(plan, options.archiveServerName);
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'Cluster',
    metadata: {
      name: plan.name,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'database'),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      instances: spec.instances,
      ...('imageName' in plan.image
        ? { imageName: plan.image.imageName }
        : { imageCatalogRef: { apiGroup: 'postgresql.cnpg.io', ...plan.image.catalog } }),
      // Applications and migrations use the owner; nobody needs the postgres superuser over the network.
      enableSuperuserAccess: false,
      primaryUpdateStrategy: 'unsupervised',
      storage: volume(spec.storageGB, plan.storageClass),
      ...(spec.walStorageGB ? { walStorage: volume(spec.walStorageGB, plan.storageClass) } : {}),
      resources: {
        requests: { cpu: plan.size.cpu.request, memory: plan.size.memory.request },
        limits: { cpu: plan.size.cpu.limit, memory: plan.size.memory.limit },
      },
      postgresql: {
        parameters: parameters(plan),
        pg_hba: TLS_ONLY_HBA,
      },
      bootstrap: recovery?.bootstrap ?? {
        initdb: {
          database: spec.databaseName,
          owner: spec.databaseOwner,
          secret: { name: plan.owner.credentialsSecretName },
          // Checksums catch silent storage corruption; they can only be chosen at initdb.
          dataChecksums: true,
          ...(plan.version === '14' ? { postInitApplicationSQL: [ownPublicSchema(plan)] } : {}),
        },
      },
      affinity: affinity(plan),
      ...(roles.length > 0 ? { managed: { roles } } : {}),
      ...(plugins.length > 0 ? { plugins } : {}),
      ...(recovery && recovery.externalClusters.length > 0
        ? { externalClusters: recovery.externalClusters }
        : {}),
    },
  };
}

/**
 * Size-derived settings first, then the claim's own (they may override memory settings), then what
 * pgplane pins. CNPG preloads pg_stat_statements only when one of its settings is present.
 */
function parameters(plan: InstancePlan): Record<string, string> {
  const wantsStatements = plan.spec.extensions?.includes('pg_stat_statements') ?? false;
  return {
    ...memoryParameters(plan.size),
    ...(wantsStatements ? { 'pg_stat_statements.max': '10000' } : {}),
    ...plan.spec.parameters,
    password_encryption: 'scram-sha-256',
  };
}

function volume(sizeGB: number, storageClass: string | undefined): StorageConfiguration {
  return { size: `${sizeGB}Gi`, ...(storageClass ? { storageClass } : {}) };
}

function affinity(plan: InstancePlan): AffinityConfiguration {
  const { nodeSelector, tolerations } = plan.placement;
  return {
    // With replicas, two instances on one node would fail together.
    enablePodAntiAffinity: plan.spec.instances > 1,
    topologyKey: 'kubernetes.io/hostname',
    ...(nodeSelector && Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
    ...(tolerations && tolerations.length > 0 ? { tolerations } : {}),
  };
}

/**
 * Before PostgreSQL 15 the public schema belongs to the bootstrap superuser, so the owner (whom the
 * grants provider connects as) could not manage privileges on it. Give it to the owner, as 15+ does
 * through pg_database_owner. Runs once, as the superuser, at bootstrap.
 */
function ownPublicSchema(plan: InstancePlan): string {
  return `ALTER SCHEMA public OWNER TO ${ident(plan.spec.databaseOwner)}`;
}
