// The names of everything one PostgresInstance composes that a claim can influence: roles, their
// resource keys and their Secrets. Pure and total: validation checks these names (length,
// collisions) and planning uses the very same ones, so the two can never disagree.
import { createHash } from 'node:crypto';
import type { PostgresInstanceSpec } from '../../api/postgres-instance.js';
import { kubernetesNameFragment, MAX_IDENTIFIER_BYTES } from '../../api/names.js';

export type RoleKind = 'owner' | 'runtime' | 'readonly' | 'access';

export interface RoleNames {
  kind: RoleKind;
  /** The PostgreSQL role name. */
  name: string;
  /** Stable key fragment for composed resources: "owner", "runtime", "readonly", "access-<role>". */
  key: string;
  login: boolean;
  /** The kubernetes.io/basic-auth Secret CNPG reads the password from. */
  credentialsSecretName: string;
  /** The Secret applications using this role read; none for a role without login. */
  connectionSecretName?: string;
  /** Index in spec.access, for access roles: errors name the entry. */
  accessIndex?: number;
}

export interface ComposedNames {
  owner: RoleNames;
  runtime?: RoleNames;
  readOnly?: RoleNames;
  access: RoleNames[];
  /** The role whose connection Secret is spec.connectionSecretName: runtime, or owner without least privilege. */
  application: RoleNames;
}

const RUNTIME_SUFFIX = '_rw';
const READ_ONLY_SUFFIX = '_ro';

/**
 * "<databaseName><suffix>", or, when that would pass PostgreSQL's 63 bytes, the database name cut
 * short with a hash of the whole name before the suffix ("<prefix>_<8 hex><suffix>"), as
 * Kubernetes shortens long generated names. Deterministic, always a valid identifier, and two
 * long names that share a prefix still get different roles. (Plain identifiers are ASCII, so
 * characters are bytes.)
 */
export function derivedRoleName(databaseName: string, suffix: string): string {
  const whole = `${databaseName}${suffix}`;
  if (whole.length <= MAX_IDENTIFIER_BYTES) return whole;
  const hash = createHash('sha256').update(databaseName).digest('hex').slice(0, 8);
  const prefix = databaseName.slice(0, MAX_IDENTIFIER_BYTES - suffix.length - hash.length - 1);
  return `${prefix}_${hash}${suffix}`;
}

/** The spec fields role and Secret names derive from: a PostgresInstance's, or a PostgresDatabase's. */
export type NamingSpec = Pick<
  PostgresInstanceSpec,
  'databaseName' | 'databaseOwner' | 'credentialsSecretName' | 'connectionSecretName' | 'roles' | 'access'
>;

function leastPrivilege(spec: NamingSpec): boolean {
  return spec.roles?.leastPrivilege ?? true;
}

export function composedNames(instance: string, spec: NamingSpec): ComposedNames {
  const connection = spec.connectionSecretName ?? `${instance}-connection`;
  const separate = leastPrivilege(spec);
  const derived = (
    kind: RoleKind,
    name: string,
    key: string,
    connectionSecretName: string | undefined,
    login = true,
  ): RoleNames => ({
    kind,
    name,
    key,
    login,
    credentialsSecretName: `${instance}-${key}-credentials`,
    ...(connectionSecretName ? { connectionSecretName } : {}),
  });

  const owner: RoleNames = {
    kind: 'owner',
    name: spec.databaseOwner,
    key: 'owner',
    login: true,
    credentialsSecretName: spec.credentialsSecretName ?? `${instance}-credentials`,
    connectionSecretName: separate ? `${connection}-owner` : connection,
  };
  const runtime = separate
    ? derived(
        'runtime',
        spec.roles?.runtime ?? derivedRoleName(spec.databaseName, RUNTIME_SUFFIX),
        'runtime',
        connection,
      )
    : undefined;
  const readOnly = separate
    ? derived(
        'readonly',
        spec.roles?.readOnly ?? derivedRoleName(spec.databaseName, READ_ONLY_SUFFIX),
        'readonly',
        `${connection}-readonly`,
      )
    : undefined;
  const access = (spec.access ?? []).map((entry, index) => {
    const fragment = kubernetesNameFragment(entry.role);
    return {
      ...derived(
        'access',
        entry.role,
        `access-${fragment}`,
        entry.login ? `${connection}-${fragment}` : undefined,
        entry.login,
      ),
      accessIndex: index,
    };
  });
  return {
    owner,
    ...(runtime ? { runtime } : {}),
    ...(readOnly ? { readOnly } : {}),
    access,
    application: runtime ?? owner,
  };
}

/** Every role, owner first, in the order the plan and the Grants use. */
export function allRoles(names: ComposedNames): RoleNames[] {
  return [names.owner, names.runtime, names.readOnly, ...names.access].filter(
    (role): role is RoleNames => role !== undefined,
  );
}
