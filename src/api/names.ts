// Naming rules shared by every API: PostgreSQL identifiers and Kubernetes object names.
// One place, so the XRD, the function's validation and the grants engine agree on what is legal.
import { createHash } from 'node:crypto';

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
  // CloudNativePG's PgBouncer authentication role.
  'cnpg_pooler_pgbouncer',
  'public',
  'none',
  'current_user',
  'session_user',
  'current_role',
]);

function identifierProblem(value: string): string | undefined {
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
  return identifierProblem(value) ?? reservedRoleProblem(value);
}

/** Why a role name of any spelling is one no tenant may take, or undefined when it is free. */
export function reservedRoleProblem(value: string): string | undefined {
  if (RESERVED_ROLES.has(value.toLowerCase()))
    return `is a reserved role name (${[...RESERVED_ROLES].join(', ')} cannot be used)`;
  if (value.toLowerCase().startsWith('pg_'))
    return 'starts with "pg_", a prefix PostgreSQL reserves for its predefined roles';
  return undefined;
}

/**
 * Databases that exist in every cluster: the superuser's maintenance database and the templates.
 * Making a team the owner of one would hand it the operator's own database or every future one.
 */
const RESERVED_DATABASES = new Set(['postgres', 'template0', 'template1']);

export function databaseNameProblem(value: string): string | undefined {
  return identifierProblem(value) ?? reservedDatabaseProblem(value);
}

/** Why a database name of any spelling is one every cluster already has, or undefined. */
export function reservedDatabaseProblem(value: string): string | undefined {
  if (RESERVED_DATABASES.has(value.toLowerCase()))
    return `is a database every PostgreSQL cluster already has (${[...RESERVED_DATABASES].join(', ')} cannot be used)`;
  return undefined;
}

/**
 * Schemas PostgreSQL owns. Owning pg_catalog would let a team put functions where every session,
 * superusers included, looks first; PostgreSQL itself refuses new schemas named pg_*.
 */
const RESERVED_SCHEMAS = new Set(['information_schema']);

export function schemaNameProblem(value: string): string | undefined {
  const identifier = identifierProblem(value);
  if (identifier) return identifier;
  if (RESERVED_SCHEMAS.has(value.toLowerCase()))
    return 'is a schema PostgreSQL owns (information_schema); name a schema of the application';
  if (value.toLowerCase().startsWith('pg_'))
    return 'starts with "pg_", a prefix PostgreSQL reserves for its system schemas (pg_catalog, pg_toast, ...)';
  return undefined;
}

/** RFC 1123 subdomain: what Kubernetes accepts as the name of a Secret and most objects. */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const dnsSubdomain = new RegExp(DNS_SUBDOMAIN_PATTERN);
export const MAX_DNS_SUBDOMAIN = 253;

/** Why a composed object name is not one Kubernetes accepts, or undefined when it is. */
export function objectNameProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_DNS_SUBDOMAIN)
    return `is ${value.length} characters long; at most ${MAX_DNS_SUBDOMAIN} are allowed`;
  if (!dnsSubdomain.test(value)) {
    return 'must be a Kubernetes object name: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/**
 * pgplane derives Secret names from the ones a claim gives: "<connectionSecretName>-<role>", where
 * the role part is at most 72 characters ("-" and a 71-character name fragment, see
 * kubernetesNameFragment). Claim-given names stay this much under the limit, so every derived name
 * is a valid object name.
 */
const MAX_DERIVED_SUFFIX = 72;
export const MAX_CLAIM_SECRET_NAME = MAX_DNS_SUBDOMAIN - MAX_DERIVED_SUFFIX;

/** RFC 1123 label: what Kubernetes accepts as a namespace name. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const MAX_DNS_LABEL = 63;
const dnsLabelAnyStart = new RegExp(DNS_LABEL_PATTERN);

export function namespaceNameProblem(value: string): string | undefined {
  if (value.length > MAX_DNS_LABEL)
    return `is ${value.length} characters long; namespace names are at most ${MAX_DNS_LABEL}`;
  if (!dnsLabelAnyStart.test(value))
    return 'must be a namespace name: lower-case letters, digits and "-", starting and ending with a letter or digit';
  return undefined;
}

/** Label keys: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
export const MAX_LABEL_KEY = MAX_DNS_SUBDOMAIN + 1 + MAX_DNS_LABEL;
/** Label values: empty, or at most 63 characters of letters, digits, "-", "_", "." between alphanumerics. */
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';

export function labelKeyProblem(value: string): string | undefined {
  const slash = value.lastIndexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash) : '';
  const name = value.slice(slash + 1);
  if (!new RegExp(LABEL_KEY_PATTERN).test(value))
    return 'is not a label key: an optional DNS prefix and "/", then letters, digits, "-", "_" and "." between letters or digits';
  if (prefix.length > MAX_DNS_SUBDOMAIN) return `has a prefix longer than ${MAX_DNS_SUBDOMAIN} characters`;
  if (name.length > MAX_DNS_LABEL) return `has a name part longer than ${MAX_DNS_LABEL} characters`;
  return undefined;
}

/**
 * A piece of a Kubernetes name made from a PostgreSQL identifier: lower case, "_" as "-". When
 * that alone would not be a valid name (a leading or trailing "_"), the edges are trimmed and a
 * hash of the identifier is appended, so the fragment stays deterministic and distinct. Names
 * that were already fine are unchanged, so existing objects keep their names.
 */
export function kubernetesNameFragment(identifier: string): string {
  const plain = identifier.toLowerCase().replaceAll('_', '-');
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(plain)) return plain;
  const trimmed = plain.replace(/^-+|-+$/g, '') || 'x';
  return `${trimmed}-${createHash('sha256').update(identifier).digest('hex').slice(0, 8)}`;
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
