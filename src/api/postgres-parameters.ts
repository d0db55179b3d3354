// PostgreSQL parameters a team may not set: CloudNativePG manages them (its "fixed" and "blocked"
// configuration parameters, refused by its admission webhook), or pgplane pins them for safety.
// Refusing them at render time turns a webhook rejection far from the claim into a message on it.

const CNPG_MANAGED = [
  // Need a restart and are owned by the operator.
  'allow_system_table_mods',
  'archive_mode',
  'bonjour',
  'bonjour_name',
  'cluster_name',
  'config_file',
  'data_directory',
  'data_sync_retry',
  'event_source',
  'external_pid_file',
  'hba_file',
  'hot_standby',
  'huge_pages',
  'ident_file',
  'jit_provider',
  'listen_addresses',
  'logging_collector',
  'port',
  'primary_conninfo',
  'primary_slot_name',
  'recovery_target',
  'recovery_target_action',
  'recovery_target_inclusive',
  'recovery_target_lsn',
  'recovery_target_name',
  'recovery_target_time',
  'recovery_target_timeline',
  'recovery_target_xid',
  'restore_command',
  'shared_preload_libraries',
  'unix_socket_directories',
  'unix_socket_group',
  'unix_socket_permissions',
  'wal_level',
  'wal_log_hints',
  // Reloadable, still owned by the operator (archiving, logging, TLS, replication).
  'archive_cleanup_command',
  'archive_command',
  'archive_timeout',
  'full_page_writes',
  'log_destination',
  'log_directory',
  'log_file_mode',
  'log_filename',
  'log_rotation_age',
  'log_rotation_size',
  'log_truncate_on_rotation',
  'promote_trigger_file',
  'recovery_end_command',
  'recovery_min_apply_delay',
  'restart_after_crash',
  'ssl',
  'ssl_ca_file',
  'ssl_cert_file',
  'ssl_crl_file',
  'ssl_dh_params_file',
  'ssl_ecdh_curve',
  'ssl_key_file',
  'ssl_passphrase_command',
  'ssl_passphrase_command_supports_reload',
  'ssl_prefer_server_ciphers',
  'stats_temp_directory',
  'synchronous_standby_names',
  'syslog_facility',
  'syslog_ident',
  'syslog_sequence_numbers',
  'syslog_split_messages',
];

/** pgplane's own security defaults, which neither a claim nor a platform's allow-list can weaken. */
const PGPLANE_PINNED: Readonly<Record<string, string>> = {
  password_encryption: 'pgplane stores passwords as SCRAM-SHA-256 only',
  // Loading libraries is running code in the server: an image concern, never a parameter.
  session_preload_libraries: 'loads server libraries into every session; libraries come with the image',
  local_preload_libraries: 'loads server libraries into every session; libraries come with the image',
  dynamic_library_path: 'changes where the server loads code from; libraries come with the image',
};

export function forbiddenParameterReason(name: string): string | undefined {
  if (CNPG_MANAGED.includes(name))
    return 'is managed by CloudNativePG and cannot be set (its webhook would reject the Cluster)';
  if (name.startsWith('ssl'))
    return 'is a TLS setting: CloudNativePG and the platform configure TLS, so ssl* parameters cannot be set';
  return Object.hasOwn(PGPLANE_PINNED, name) ? PGPLANE_PINNED[name] : undefined;
}

/**
 * What a claim may tune when the platform's Input names no list of its own: performance, logging
 * and timeouts of the team's own workload. Everything else is refused, because a parameter can do
 * more than tune: search_path decides which functions superuser sessions run, and preload
 * libraries run code. An allow-list, so a parameter a new PostgreSQL major adds is refused until a
 * platform decides otherwise.
 */
export const DEFAULT_CLAIM_PARAMETERS = [
  'autovacuum_analyze_scale_factor',
  'autovacuum_analyze_threshold',
  'autovacuum_max_workers',
  'autovacuum_naptime',
  'autovacuum_vacuum_cost_delay',
  'autovacuum_vacuum_cost_limit',
  'autovacuum_vacuum_insert_scale_factor',
  'autovacuum_vacuum_scale_factor',
  'autovacuum_vacuum_threshold',
  'checkpoint_completion_target',
  'checkpoint_timeout',
  'default_statistics_target',
  'default_transaction_isolation',
  'effective_cache_size',
  'effective_io_concurrency',
  'idle_in_transaction_session_timeout',
  'idle_session_timeout',
  'jit',
  'lock_timeout',
  'log_autovacuum_min_duration',
  'log_checkpoints',
  'log_connections',
  'log_disconnections',
  'log_lock_waits',
  'log_min_duration_statement',
  'log_statement',
  'log_temp_files',
  'maintenance_work_mem',
  'max_connections',
  'max_parallel_maintenance_workers',
  'max_parallel_workers',
  'max_parallel_workers_per_gather',
  'max_wal_size',
  'max_worker_processes',
  'min_wal_size',
  'pg_stat_statements.max',
  'pg_stat_statements.track',
  'random_page_cost',
  'seq_page_cost',
  'shared_buffers',
  'statement_timeout',
  'temp_buffers',
  'timezone',
  'track_io_timing',
  'wal_compression',
  'work_mem',
];

/** GUC names: lower-case words with underscores; extension settings carry a dot (pg_stat_statements.max). */
export const PARAMETER_NAME_PATTERN = '^[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?$';
export const MAX_PARAMETER_NAME = 127;

/**
 * Values are one line of printable text: CloudNativePG writes them into postgresql.conf, where a
 * newline would start a setting of the claim's choosing.
 */
export const PARAMETER_VALUE_PATTERN = '^[^\\x00-\\x1f\\x7f]*$';
export const MAX_PARAMETER_VALUE = 1024;
