// One server, many tenants: no two may hold one database or one role, and no tenant may take the
// shared instance's own. Roles and databases belong to the whole server, so a second claim to a
// name would hand one tenant another's data. Among the PostgresDatabases on one backend the older
// keeps its names (creationTimestamp, then namespace/name: every call of every tenant agrees) and
// the newer is refused, naming both. Pure: the claims in, the conflicts out.
import { postgresDatabaseSpecSchema, type PostgresDatabaseSpec } from '../../api/postgres-database.js';
import { getObject, getString, type JsonObject } from '../../shared/json.js';
import { allRoles, composedNames, type ComposedNames, type RoleNames } from '../compose/names.js';
import { instanceName, readIdentity, type XrIdentity } from '../xr/identity.js';
import { roleField } from '../xr/names.js';
import type { Backend } from './backend.js';

interface Claim {
  namespace: string;
  name: string;
  uid?: string;
  created?: string;
  spec: PostgresDatabaseSpec;
}

/** Why this claim may not have its names, one sentence each; empty when it may. */
export function nameConflicts(
  self: { identity: XrIdentity; created?: string; spec: PostgresDatabaseSpec; names: ComposedNames },
  backend: Backend,
  databases: readonly JsonObject[],
): string[] {
  const own: Claim = {
    namespace: self.identity.namespace,
    name: instanceName(self.identity),
    ...(self.identity.uid ? { uid: self.identity.uid } : {}),
    ...(self.created ? { created: self.created } : {}),
    spec: self.spec,
  };
  const conflicts = backend.kind === 'PostgresInstance' ? instanceConflicts(self, backend) : [];
  for (const other of databases.map(readClaim)) {
    if (!other || isSame(own, other) || !sameBackend(own, other) || !isOlder(other, own)) continue;
    const who = `PostgresDatabase ${other.namespace}/${other.name}`;
    if (other.spec.databaseName === self.spec.databaseName)
      conflicts.push(
        `spec.databaseName "${self.spec.databaseName}" is already the database of ${who}, which was there first on ${describeBackend(backend)}; pick another databaseName`,
      );
    const taken = new Map(allRoles(composedNames(other.name, other.spec)).map((r) => [r.name, r]));
    for (const role of allRoles(self.names)) {
      const theirs = taken.get(role.name);
      if (theirs)
        conflicts.push(
          `${fieldOf(role, self.spec)} "${role.name}" is already the ${describeRole(theirs)} of ${who}, which was there first on ${describeBackend(backend)}; pick another role name`,
        );
    }
  }
  return conflicts;
}

/** The shared instance's own database and roles, with the instance plan's defaults. */
function instanceConflicts(
  self: { identity: XrIdentity; spec: PostgresDatabaseSpec; names: ComposedNames },
  backend: Extract<Backend, { kind: 'PostgresInstance' }>,
): string[] {
  const who = `the shared PostgresInstance ${backend.name} itself`;
  const conflicts: string[] = [];
  // Both prefix what they compose with their name: their Secrets and ProviderConfigs would collide.
  if (instanceName(self.identity) === backend.instanceName)
    conflicts.push(
      `metadata.name "${instanceName(self.identity)}" is the name of ${who}; the objects both compose (<name>-credentials, ProviderConfig <name>, ...) would collide: pick another name`,
    );
  if (self.spec.databaseName === backend.instanceSpec.databaseName)
    conflicts.push(
      `spec.databaseName "${self.spec.databaseName}" is the database of ${who}; pick another databaseName`,
    );
  const taken = new Map(
    allRoles(composedNames(backend.instanceName, backend.instanceSpec)).map((r) => [r.name, r]),
  );
  for (const role of allRoles(self.names)) {
    const theirs = taken.get(role.name);
    if (theirs)
      conflicts.push(
        `${fieldOf(role, self.spec)} "${role.name}" is the ${describeRole(theirs)} of ${who}; pick another role name`,
      );
  }
  return conflicts;
}

/** The field that names a role, saying so when the name is the default it derives. */
function fieldOf(role: RoleNames, spec: PostgresDatabaseSpec): string {
  const derived =
    (role.kind === 'runtime' && spec.roles?.runtime === undefined) ||
    (role.kind === 'readonly' && spec.roles?.readOnly === undefined);
  return derived ? `${roleField(role)} (by default, from spec.databaseName)` : roleField(role);
}

function readClaim(object: JsonObject): Claim | undefined {
  const parsed = postgresDatabaseSpecSchema.safeParse(getObject(object, 'spec') ?? {});
  // An invalid claim composes nothing, so it holds no names.
  if (!parsed.success) return undefined;
  // A legacy XR is known by its claim: the namespace and name its objects take.
  const identity = readIdentity(object);
  const created = getString(object, 'metadata', 'creationTimestamp');
  const uid = identity.uid;
  return {
    namespace: identity.namespace,
    name: instanceName(identity),
    ...(uid ? { uid } : {}),
    ...(created ? { created } : {}),
    spec: parsed.data,
  };
}

function isSame(a: Claim, b: Claim): boolean {
  if (a.uid && b.uid) return a.uid === b.uid;
  return a.namespace === b.namespace && a.name === b.name;
}

/** An instance is shared within its namespace; a registered server across namespaces. */
function sameBackend(a: Claim, b: Claim): boolean {
  if (a.spec.instanceRef && b.spec.instanceRef)
    return a.namespace === b.namespace && a.spec.instanceRef.name === b.spec.instanceRef.name;
  if (a.spec.server && b.spec.server) return a.spec.server.name === b.spec.server.name;
  return false;
}

/**
 * The older claim keeps its names. A claim not created yet (rendered before it is applied) is
 * the newest of all; equal times fall back to namespace/name, so both sides agree who is first.
 */
function isOlder(a: Claim, b: Claim): boolean {
  const at = a.created ? Date.parse(a.created) : Number.POSITIVE_INFINITY;
  const bt = b.created ? Date.parse(b.created) : Number.POSITIVE_INFINITY;
  if (at !== bt) return at < bt;
  return `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}`;
}

function describeBackend(backend: Backend): string {
  return `${backend.kind} ${backend.name}`;
}

function describeRole(role: RoleNames): string {
  switch (role.kind) {
    case 'owner':
      return 'owner role';
    case 'runtime':
      return 'runtime role';
    case 'readonly':
      return 'read-only role';
    case 'access':
      return 'access role';
  }
}
