// Naming rules shared by every API: PostgreSQL identifiers and Kubernetes object names.
// One place, so the XRD, the function's validation and the grants engine agree on what is legal.

/** PostgreSQL truncates identifiers longer than NAMEDATALEN-1 bytes; we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * A "plain" identifier: letters, digits and underscores, as the published PostgresInstance shape
 * allows. Such names survive URIs, JDBC strings and shell scripts without escaping. (Mixed case is
 * legal, though SQL then needs quotes; pgplane always quotes.)
 */
export const PLAIN_IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
const plainIdentifier = new RegExp(PLAIN_IDENTIFIER_PATTERN);

/**
 * Roles a database owner must never be: the bootstrap superuser, CNPG's replication user, and the
 * `pg_` prefix PostgreSQL reserves for its predefined roles.
 */
const RESERVED_ROLES = new Set([
  'postgres',
  'streaming_replica',
  'public',
  'none',
  'current_user',
  'session_user',
  'current_role',
]);

export function identifierProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (Buffer.byteLength(value, 'utf8') > MAX_IDENTIFIER_BYTES) {
    return `is ${Buffer.byteLength(value, 'utf8')} bytes long; PostgreSQL identifiers are at most ${MAX_IDENTIFIER_BYTES} bytes`;
  }
  if (!plainIdentifier.test(value)) {
    return 'must start with a letter or underscore and contain only letters, digits and underscores';
  }
  return undefined;
}

export function roleNameProblem(value: string): string | undefined {
  const identifier = identifierProblem(value);
  if (identifier) return identifier;
  if (RESERVED_ROLES.has(value.toLowerCase()))
    return `is a reserved role name (${[...RESERVED_ROLES].join(', ')} cannot be used)`;
  if (value.toLowerCase().startsWith('pg_'))
    return 'starts with "pg_", a prefix PostgreSQL reserves for its predefined roles';
  return undefined;
}

/** RFC 1123 subdomain: what Kubernetes accepts as the name of a Secret and most objects. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const dnsSubdomain = new RegExp(DNS_SUBDOMAIN_PATTERN);
export const MAX_DNS_SUBDOMAIN = 253;

export function secretNameProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_DNS_SUBDOMAIN)
    return `is ${value.length} characters long; at most ${MAX_DNS_SUBDOMAIN} are allowed`;
  if (!dnsSubdomain.test(value)) {
    return 'must be a Kubernetes object name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/**
 * CNPG derives Services (`<name>-rw`, `<name>-ro`, `<name>-r`), Pods (`<name>-<n>`) and Jobs from the
 * cluster name, and these are DNS-1035 labels of at most 63 characters; CNPG's own limit is 50.
 */
export const MAX_CLUSTER_NAME = 50;
const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function clusterNameProblem(value: string): string | undefined {
  if (value.length > MAX_CLUSTER_NAME) {
    return `is ${value.length} characters long; CloudNativePG cluster names are at most ${MAX_CLUSTER_NAME} characters because Services and Pods are named after them`;
  }
  if (!dnsLabel.test(value)) {
    return 'must start with a lower-case letter and contain only lower-case letters, digits and "-" (it becomes the name of Services and Pods)';
  }
  return undefined;
}
