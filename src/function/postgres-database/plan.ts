// Everything a PostgresDatabase's builders need, resolved once: its roles and Secrets (named and
// defaulted exactly as an instance's), the endpoints of the backend it lives on. Pure and total.
import type { FunctionInput } from '../../api/function-input.js';
import type { PostgresDatabaseSpec } from '../../api/postgres-database.js';
import type { ComposedNames } from '../compose/names.js';
import { rolePlans, type TenantPlan } from '../compose/plan.js';
import { instanceName, type XrIdentity } from '../xr/identity.js';
import type { CredentialsSource } from '../xr/policy.js';
import type { Backend } from './backend.js';

export interface DatabasePlan extends TenantPlan {
  spec: PostgresDatabaseSpec;
  backend: Backend;
}

export function planDatabase(
  identity: XrIdentity,
  spec: PostgresDatabaseSpec,
  input: FunctionInput,
  credentials: CredentialsSource,
  names: ComposedNames,
  backend: Backend,
): DatabasePlan {
  const roles = rolePlans(names, spec, input, backend.endpoints);
  return {
    identity,
    spec,
    input,
    // What it composes is prefixed with its own name, as an instance's is with the instance's.
    name: instanceName(identity),
    namespace: identity.namespace,
    credentials,
    ...roles,
    application: roles.runtime ?? roles.owner,
    schemas: [...new Set(['public', ...(spec.schemas ?? [])])],
    port: backend.port,
    backend,
  };
}
