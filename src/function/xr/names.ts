// Checks on the names a valid spec makes pgplane compose: one name per role, and one writer per
// Secret. Two composed objects writing one Secret would overwrite the owner's credentials or flap
// forever; refusing names the fields to change.
import { allRoles, type ComposedNames, type RoleNames } from '../compose/names.js';
import type { FieldError } from './errors.js';

/** One name per role. (Derived names always fit: compose/names.ts shortens them.) */
export function roleNameErrors(names: ComposedNames): FieldError[] {
  return duplicateRoleErrors(names);
}

function roleField(role: RoleNames): string {
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
