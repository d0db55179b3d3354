// A shared instance (spec.sharing.enabled): the PostgresDatabases that live on it, which its status
// lists, read from Crossplane as a list requirement. Pure: the list comes from the request.
import { getString, isObject, type JsonObject } from '../../shared/json.js';
import { findCondition } from '../observe/conditions.js';
import type { ResourceRequirement } from './composition-builder.js';
import type { InstancePlan } from './plan.js';

export const SHARED_DATABASES_REQUIREMENT = 'shared-databases';

const CLAIM_NAME_LABEL = 'crossplane.io/claim-name';
const CLAIM_NAMESPACE_LABEL = 'crossplane.io/claim-namespace';

/** One database the instance serves, as its status shows it. */
export interface ServedDatabase {
  /** The PostgresDatabase (its claim, for legacy XRs). */
  readonly name: string;
  readonly database: string;
  readonly owner: string;
  readonly ready: boolean;
}

export function sharingEnabled(plan: InstancePlan): boolean {
  return plan.spec.sharing?.enabled === true;
}

/**
 * Every PostgresDatabase that may name this instance: in its namespace (a namespaced XR), or the
 * legacy XRs whose claims live in its claim's namespace (a PostgresDatabase shares an instance of
 * its own namespace only).
 */
export function sharingRequirements(plan: InstancePlan): Record<string, ResourceRequirement> {
  if (!sharingEnabled(plan)) return {};
  const { apiVersion, kind } = plan.input.databaseKind;
  return {
    [SHARED_DATABASES_REQUIREMENT]: plan.identity.legacy
      ? { apiVersion, kind, matchLabels: { [CLAIM_NAMESPACE_LABEL]: plan.namespace } }
      : { apiVersion, kind, matchLabels: {}, namespace: plan.namespace },
  };
}

/** Those of the listed PostgresDatabases whose spec.instanceRef names this instance, by name. */
export function servedDatabases(plan: InstancePlan, listed: readonly JsonObject[]): ServedDatabase[] {
  return listed
    .filter((xr) => getString(xr, 'spec', 'instanceRef', 'name') === plan.name)
    .map((xr) => ({
      name: plan.identity.legacy
        ? (getString(xr, 'metadata', 'labels', CLAIM_NAME_LABEL) ?? getString(xr, 'metadata', 'name') ?? '')
        : (getString(xr, 'metadata', 'name') ?? ''),
      database: getString(xr, 'spec', 'databaseName') ?? '',
      owner: getString(xr, 'spec', 'databaseOwner') ?? '',
      ready: isObject(xr.status) && findCondition(xr, 'Ready')?.status === 'True',
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
