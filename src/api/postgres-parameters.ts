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

/** pgplane's own security defaults, which a claim cannot weaken. */
const PGPLANE_PINNED: Readonly<Record<string, string>> = {
  password_encryption: 'pgplane stores passwords as SCRAM-SHA-256 only',
};

export function forbiddenParameterReason(name: string): string | undefined {
  if (CNPG_MANAGED.includes(name))
    return 'is managed by CloudNativePG and cannot be set (its webhook would reject the Cluster)';
  return PGPLANE_PINNED[name];
}

/** GUC names: lower-case words with underscores; extension settings carry a dot (pg_stat_statements.max). */
export const PARAMETER_NAME_PATTERN = '^[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?$';
