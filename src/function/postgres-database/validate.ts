// The one validation pass for a PostgresDatabase: the schema, what the platform offers (stores,
// keys, extensions, list limits), the names it would compose, and what its backend cannot do.
// The same checks as an instance's, on the fields the two share; planning has no error path.
import type { FunctionInput } from '../../api/function-input.js';
import { clusterNameProblem, namespaceNameProblem } from '../../api/names.js';
import {
  DATABASE_FIELD_EXAMPLES,
  postgresDatabaseSpecSchema,
  type PostgresDatabaseSpec,
} from '../../api/postgres-database.js';
import { getObject, getPath, getString, type JsonObject } from '../../shared/json.js';
import { composedNames, type ComposedNames } from '../compose/names.js';
import { accessErrors } from '../xr/access.js';
import { fieldErrors, type FieldError } from '../xr/errors.js';
import { instanceName, readIdentity, type XrIdentity } from '../xr/identity.js';
import { reservedSecretErrors, roleNameErrors, secretCollisionErrors } from '../xr/names.js';
import { platformErrors, resolveCredentials, type CredentialsSource } from '../xr/policy.js';

export type ValidatedDatabase =
  | {
      ok: true;
      identity: XrIdentity;
      spec: PostgresDatabaseSpec;
      credentials: CredentialsSource;
      names: ComposedNames;
    }
  | { ok: false; identity: XrIdentity; errors: FieldError[] };

const SPEC_EXAMPLE = 'spec: {instanceRef: {name: shared}, databaseName: orders, databaseOwner: orders_owner}';

export function validateDatabase(xr: unknown, input: FunctionInput): ValidatedDatabase {
  const identity = readIdentity(xr);
  const errors = identityErrors(identity);
  const spec = getObject(xr, 'spec');
  if (!spec) {
    errors.push({ field: 'spec', problem: 'is required', example: SPEC_EXAMPLE });
    return { ok: false, identity, errors };
  }
  const parsed = postgresDatabaseSpecSchema.safeParse(spec);
  if (!parsed.success)
    errors.push(
      ...fieldErrors(parsed.error.issues, spec, { prefix: 'spec', examples: DATABASE_FIELD_EXAMPLES }),
    );
  const named = new Set(errors.map((e) => e.field));
  errors.push(
    ...[...platformErrors(spec, input), ...serverBackendErrors(spec)].filter((e) => !named.has(e.field)),
  );
  if (!parsed.success) return { ok: false, identity, errors };

  const credentials = resolveCredentials(identity, parsed.data, input);
  if (!credentials.ok) errors.push(...credentials.errors);
  const names = composedNames(instanceName(identity), parsed.data);
  errors.push(
    ...roleNameErrors(names),
    ...accessErrors(parsed.data),
    ...secretCollisionErrors(names),
    // On a shared instance, its Cluster's own Secrets (CA, superuser, app) are in this namespace.
    ...(parsed.data.instanceRef ? reservedSecretErrors(names, parsed.data.instanceRef.name, input) : []),
  );
  if (!credentials.ok || errors.length > 0) return { ok: false, identity, errors };
  return { ok: true, identity, spec: parsed.data, credentials: credentials.source, names };
}

/**
 * On a registered server pgplane creates the database with its provider's Database, which has no
 * schemas or extensions yet: refused rather than silently not created. Reads the raw spec, so a
 * spec that also fails the schema hears about it in the same message.
 */
function serverBackendErrors(spec: JsonObject): FieldError[] {
  const server = getString(spec, 'server', 'name');
  if (getObject(spec, 'server') === undefined) return [];
  return (['schemas', 'extensions'] as const)
    .filter((field) => {
      const value = getPath(spec, field);
      return Array.isArray(value) && value.length > 0;
    })
    .map((field) => ({
      field: `spec.${field}`,
      problem: `is not offered on a registered server (spec.server) yet: pgplane cannot create ${field} there; remove it and create them in a migration run as the owner, or use a shared PostgresInstance (spec.instanceRef)`,
      example: `spec: {server: {name: ${server ?? 'rds-main'}}, databaseName: orders, databaseOwner: orders_owner}`,
    }));
}

/**
 * Its name prefixes what it composes and its namespace is where the composed objects live: the
 * XR's own (namespaced), or its claim's (legacy, cluster-scoped XR).
 */
function identityErrors(identity: XrIdentity): FieldError[] {
  if (!identity.name)
    return [{ field: 'metadata.name', problem: 'is required', example: 'metadata: {name: orders}' }];
  const errors: FieldError[] = [];
  const ofClaim = identity.claim ? ' (of the claim)' : '';
  if (!identity.namespace) {
    errors.push({
      field: 'metadata.namespace',
      problem:
        'is missing: a namespaced XR needs a namespace, and a legacy cluster-scoped XR must be created through its claim (the claim gives the namespace)',
      example: 'metadata: {name: orders, namespace: databases}',
    });
  } else {
    const problem = namespaceNameProblem(identity.namespace);
    if (problem)
      errors.push({
        field: `metadata.namespace${ofClaim}`,
        problem: `${JSON.stringify(identity.namespace)} ${problem}`,
        example: 'metadata: {name: orders, namespace: databases}',
      });
  }
  const problem = clusterNameProblem(instanceName(identity));
  if (problem)
    errors.push({
      field: `metadata.name${ofClaim}`,
      problem: `"${instanceName(identity)}" ${problem}`,
      example: 'metadata: {name: orders}',
    });
  return errors;
}
