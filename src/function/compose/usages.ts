// Crossplane Usages: deletion protection (the XR and its CNPG Cluster refuse deletion while
// spec.deletionProtection is on) and ordered teardown (every Grant goes before the ProviderConfig
// it connects through, and that before the Cluster it connects to and the Secret it logs in with,
// so a Grant never outlives the database it has to revoke in).
//
// Which Usage API depends on the XR's shape. A namespaced (Crossplane v2) XR composes
// protection.crossplane.io Usages beside its objects. A legacy XR gets the deprecated
// apiextensions.crossplane.io Usage, the only one Crossplane v1 serves; that kind is cluster-scoped
// and its references carry no namespace (Crossplane indexes them with the namespace "", see
// internal/protection/usage/finder.go), so it can name the cluster-scoped XR but none of the
// namespaced objects pgplane composes: a legacy XR is protected as a whole and its teardown is not
// ordered (its Grants orphan, so no order is needed for deletion to finish).
import { createHash } from 'node:crypto';
import { MAX_DNS_SUBDOMAIN } from '../../api/names.js';
import { GRANT_API_VERSION, GRANT_KIND } from '../../api/grant.js';
import { PROVIDER_CONFIG_KIND } from '../../api/provider-config.js';
import { commonLabels } from '../../shared/labels.js';
import { getString } from '../../shared/json.js';
import { describeXr } from '../xr/identity.js';
import { CNPG_API_VERSION } from './cnpg.js';
import type { ComposedGrant } from './grants.js';
import type { InstancePlan, TenantPlan } from './plan.js';
import type { LegacyUsage } from './upstream/crossplane-legacy-usage.js';
import type { Usage, UsageSpec } from './upstream/crossplane-usage.js';

const USAGE_API_VERSION = 'protection.crossplane.io/v1beta1';
/** v1alpha1: served by every Crossplane that has Usages (1.14 on, behind --enable-usages before 1.19). */
const LEGACY_USAGE_API_VERSION = 'apiextensions.crossplane.io/v1alpha1';
const USAGE_KIND = 'Usage';

export interface ComposedUsage {
  /** Key in the composition. Stable: renaming one deletes and re-creates the Usage. */
  key: string;
  usage: Usage | LegacyUsage;
}

/** A reference by name: valid as a Usage's `of` and `by`, and as a legacy Usage's. */
type UsageReference = NonNullable<UsageSpec['by']>;

interface Reference {
  apiVersion: string;
  kind: string;
  name: string;
}

/** Resource keys of the Usages; a Grant's is "grant-<key>", its Usage's "usage-grant-<key>". */
const USAGE_KEYS = {
  cluster: 'usage-cluster',
  xr: 'usage-xr',
  providerConfig: 'usage-provider-config',
  providerConfigCredentials: 'usage-provider-config-credentials',
  grant: (grantKey: string) => `usage-grant-${grantKey}`,
} as const;

export function composedUsages(plan: InstancePlan, grants: readonly ComposedGrant[]): ComposedUsage[] {
  return plan.identity.legacy ? legacyUsages(plan) : namespacedUsages(plan, grants);
}

function namespacedUsages(plan: InstancePlan, grants: readonly ComposedGrant[]): ComposedUsage[] {
  const cluster: Reference = { apiVersion: CNPG_API_VERSION, kind: 'Cluster', name: plan.name };
  const usages: ComposedUsage[] = [];
  if (plan.deletionProtection) {
    const reason = protectionReason(plan);
    const xr: Reference = {
      apiVersion: plan.identity.apiVersion,
      kind: plan.identity.kind,
      name: plan.identity.name,
    };
    // Both: the XR's Usage refuses `kubectl delete` of the instance; the Cluster's refuses deleting
    // the database underneath it (a composed Usage of the Cluster alone would be garbage-collected
    // together with the Cluster when the XR goes).
    usages.push(
      {
        key: USAGE_KEYS.xr,
        usage: usage(plan, `${plan.name}-protect-instance`, 'protection', { of: ref(xr), reason }),
      },
      {
        key: USAGE_KEYS.cluster,
        usage: usage(plan, `${plan.name}-protect-cluster`, 'protection', { of: ref(cluster), reason }),
      },
    );
  }
  return [...usages, ...teardownUsages(plan, grants, cluster)];
}

/**
 * Ordered teardown of the Grants: a chain, so N Grants need N + 2 Usages: Grants → ProviderConfig
 * → the server object it connects to (`server`: the instance's Cluster; a PostgresDatabase names
 * none, its server is not its own), and the ProviderConfig → the owner's credentials Secret it logs
 * in with. Without the last, garbage collection deletes the credentials ExternalSecret with the XR,
 * its Secret goes with it, and the Grants could never connect to revoke. replayDeletion: when the
 * garbage collector's delete of the used object was refused, Crossplane repeats it as soon as the
 * Usage goes, instead of waiting for the back-off.
 */
export function teardownUsages(
  plan: TenantPlan,
  grants: readonly ComposedGrant[],
  server?: Reference,
): ComposedUsage[] {
  if (grants.length === 0) return [];
  const providerConfig: Reference = {
    apiVersion: GRANT_API_VERSION,
    kind: PROVIDER_CONFIG_KIND,
    name: plan.name,
  };
  const usages: ComposedUsage[] = [];
  if (server) {
    usages.push({
      key: USAGE_KEYS.providerConfig,
      usage: usage(plan, `${plan.name}-provider-config-uses-cluster`, 'teardown', {
        of: ref(server),
        by: ref(providerConfig),
        replayDeletion: true,
      }),
    });
  }
  usages.push({
    key: USAGE_KEYS.providerConfigCredentials,
    usage: usage(plan, `${plan.name}-provider-config-uses-credentials`, 'teardown', {
      of: ref({ apiVersion: 'v1', kind: 'Secret', name: plan.owner.credentialsSecretName }),
      by: ref(providerConfig),
      replayDeletion: true,
    }),
  });
  for (const { key, grant } of grants) {
    const grantName = getString(grant, 'metadata', 'name') ?? '';
    usages.push({
      key: USAGE_KEYS.grant(key),
      usage: usage(plan, boundedName(grantName, '-uses-provider-config'), 'teardown', {
        of: ref(providerConfig),
        by: ref({ apiVersion: GRANT_API_VERSION, kind: GRANT_KIND, name: grantName }),
        replayDeletion: true,
      }),
    });
  }
  return usages;
}

function legacyUsages(plan: InstancePlan): ComposedUsage[] {
  if (!plan.deletionProtection) return [];
  const xr: Reference = {
    apiVersion: plan.identity.apiVersion,
    kind: plan.identity.kind,
    name: plan.identity.name,
  };
  return [
    {
      key: USAGE_KEYS.xr,
      usage: {
        apiVersion: LEGACY_USAGE_API_VERSION,
        kind: USAGE_KIND,
        // Cluster-scoped, like the XR it protects, and named after it (XR names are cluster-unique).
        metadata: {
          name: boundedName(plan.identity.name, '-deletion-protection'),
          labels: commonLabels(plan.name, 'protection'),
        },
        spec: { of: ref(xr), reason: protectionReason(plan) },
      },
    },
  ];
}

function usage(plan: TenantPlan, name: string, component: string, spec: UsageSpec): Usage {
  return {
    apiVersion: USAGE_API_VERSION,
    kind: USAGE_KIND,
    metadata: { name, namespace: plan.namespace, labels: commonLabels(plan.name, component) },
    spec,
  };
}

function ref(target: Reference): UsageReference {
  return { apiVersion: target.apiVersion, kind: target.kind, resourceRef: { name: target.name } };
}

/** What the API server's refusal quotes to whoever tries to delete: why, and how to really delete. */
function protectionReason(plan: InstancePlan): string {
  const off = plan.input.deletionProtection?.required
    ? 'this platform requires it; ask the platform team to delete it'
    : 'set spec.deletionProtection: false, wait until this Usage is gone, then delete';
  return `deletion protection is on for ${describeXr(plan.identity)}: ${off}`;
}

/**
 * "<base><suffix>", or, past Kubernetes' 253 characters, the base cut short with a hash of the
 * whole before the suffix: deterministic, and two long names that share a prefix stay distinct.
 */
function boundedName(base: string, suffix: string): string {
  const whole = `${base}${suffix}`;
  if (whole.length <= MAX_DNS_SUBDOMAIN) return whole;
  const hash = createHash('sha256').update(whole).digest('hex').slice(0, 8);
  return `${base.slice(0, MAX_DNS_SUBDOMAIN - suffix.length - hash.length - 1).replace(/[-.]+$/, '')}-${hash}${suffix}`;
}
