// CloudNativePG API names shared by the builders.
export const CNPG_API_VERSION = 'postgresql.cnpg.io/v1';
export const BARMAN_CLOUD_PLUGIN = 'barman-cloud.cloudnative-pg.io';
export const BARMAN_CLOUD_API_VERSION = 'barmancloud.cnpg.io/v1';
/** Label CNPG puts on every instance pod of a cluster. */
export const CNPG_CLUSTER_LABEL = 'cnpg.io/cluster';
/** Label CNPG puts on the pods of a pooler. */
export const CNPG_POOLER_LABEL = 'cnpg.io/poolerName';
