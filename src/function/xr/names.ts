// Checks on the names a valid spec makes pgplane compose: one name per role, and one writer per
// Secret. Two composed objects writing one Secret would overwrite the owner's credentials or flap
// forever; refusing names the fields to change.
import type { FunctionInput } from '../../api/function-input.js';
import { reservedRoleProblem } from '../../api/names.js';
import { allRoles, type ComposedNames, type RoleNames } from '../compose/names.js';
import type { FieldError } from './errors.js';

/**
 * One name per role, and none PostgreSQL reserves. (Derived names always fit: compose/names.ts
 * shortens them.) A name the claim writes is checked by the schema; a derived one is checked here:
 * databaseName pg_catalog would make the runtime role pg_catalog_rw, which CREATE ROLE refuses.
 */
export function roleNameErrors(names: ComposedNames): FieldError[] {
  return [...reservedRoleErrors(names), ...duplicateRoleErrors(names)];
}

function reservedRoleErrors(names: ComposedNames): FieldError[] {
  return allRoles(names).flatMap((role): FieldError[] => {
    const problem = reservedRoleProblem(role.name);
    if (!problem) return [];
    const derived = role.kind === 'runtime' || role.kind === 'readonly';
    return [
      {
        field: roleField(role),
        problem: `is "${role.name}"${derived ? ' (derived from spec.databaseName)' : ''}, which ${problem}; name the role yourself`,
        example: role.kind === 'readonly' ? 'roles: {readOnly: orders_ro}' : 'roles: {runtime: orders_rw}',
      },
    ];
  });
}

/** The claim field that names a role. */
export function roleField(role: RoleNames): string {
  switch (role.kind) {
    case 'owner':
      return 'spec.databaseOwner';
    case 'runtime':
      return 'spec.roles.runtime';
    case 'readonly':
      return 'spec.roles.readOnly';
    case 'access':
      return `spec.access[${role.accessIndex ?? 0}].role`;
  }
}

function duplicateRoleErrors(names: ComposedNames): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, RoleNames>();
  for (const role of allRoles(names)) {
    // PostgreSQL names are case-sensitive, but two roles differing only in case would share Secret names.
    const folded = role.name.toLowerCase();
    const previous = seen.get(folded);
    if (previous) {
      errors.push({
        field: roleField(role),
        problem: `names role "${role.name}" twice (already the ${previous.kind} role); every role needs its own name`,
        example: 'access: [{role: reporting}]',
      });
    } else seen.set(folded, role);
  }
  return errors;
}

interface SecretWriter {
  name: string;
  /** What the Secret is, for a person: "the owner's credentials Secret". */
  what: string;
  /** The claim field that decides the name. */
  field: string;
}

function secretWriters(names: ComposedNames): SecretWriter[] {
  const roleLabel = (role: RoleNames) =>
    role.kind === 'access'
      ? `access role "${role.name}"`
      : `${role.kind === 'readonly' ? 'read-only' : role.kind} role`;
  return allRoles(names).flatMap((role): SecretWriter[] => [
    {
      name: role.credentialsSecretName,
      what: `the ${roleLabel(role)}'s credentials Secret`,
      field: role.kind === 'owner' ? 'spec.credentialsSecretName' : roleField(role),
    },
    ...(role.connectionSecretName
      ? [
          {
            name: role.connectionSecretName,
            what: `the ${roleLabel(role)}'s connection Secret`,
            field: role.kind === 'access' ? roleField(role) : 'spec.connectionSecretName',
          },
        ]
      : []),
  ]);
}

/** One writer per Secret. */
export function secretCollisionErrors(names: ComposedNames): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, SecretWriter>();
  for (const writer of secretWriters(names)) {
    const previous = seen.get(writer.name);
    if (!previous) {
      seen.set(writer.name, writer);
      continue;
    }
    errors.push({
      field: writer.field,
      problem: `makes "${writer.name}" both ${previous.what} (from ${previous.field}) and ${writer.what}; two objects would write one Secret, so every Secret needs its own name`,
      example:
        writer.field === 'spec.credentialsSecretName' || previous.field === 'spec.credentialsSecretName'
          ? 'credentialsSecretName: app-db-credentials, connectionSecretName: app-db'
          : 'access: [{role: reporting}]',
    });
  }
  return errors;
}

/**
 * Secrets the platform already uses in the instance's namespace: the ones CloudNativePG makes for
 * the Cluster (its CA, server and replication certificates, the superuser and app credentials) and
 * the object-store keys the Input names for backups. A claim naming one as a credentials or
 * connection Secret would have pgplane read it as a password, or write over it.
 */
function reservedSecretNames(instance: string, input: FunctionInput): Map<string, string> {
  const reserved = new Map<string, string>(
    ['ca', 'server', 'replication', 'superuser', 'app'].map((suffix) => [
      `${instance}-${suffix}`,
      `CloudNativePG's ${suffix} Secret for this Cluster`,
    ]),
  );
  const s3 = input.backup?.s3Credentials?.secretName;
  if (s3) reserved.set(s3, "the platform's object-store credentials for backups");
  return reserved;
}

export function reservedSecretErrors(
  names: ComposedNames,
  instance: string,
  input: FunctionInput,
): FieldError[] {
  const reserved = reservedSecretNames(instance, input);
  return secretWriters(names).flatMap((writer) => {
    const owner = reserved.get(writer.name);
    return owner
      ? [
          {
            field: writer.field,
            problem: `makes "${writer.name}" ${writer.what}, but that name is ${owner}; pick a name of your own`,
            example: 'credentialsSecretName: app-db-credentials, connectionSecretName: app-db',
          },
        ]
      : [];
  });
}
