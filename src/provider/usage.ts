// Which ProviderConfigs are in use, and the in-use finalizer that keeps one from disappearing
// before the Grants that connect through it. When garbage collection deletes a ProviderConfig
// and its Grants together, the ProviderConfig waits (deletionTimestamp set, still readable)
// while each Grant revokes through it; once no Grant needs it, the finalizer goes and so does
// the ProviderConfig. The finalizer is crossplane-runtime's, so it reads as it does for every
// other provider. Pure: the controller feeds it from its caches.
import { CLUSTER_PROVIDER_CONFIG_KIND } from '../api/provider-config.js';
import { providerConfigRefOf, type ProviderConfigRef } from './connection.js';
import { FINALIZER, type ManagedObject } from './managed/reconciler.js';

export const IN_USE_FINALIZER = 'in-use.crossplane.io';

/** "ProviderConfig/team/app-db" or "ClusterProviderConfig/default": one key per config object. */
export function configKey(ref: ProviderConfigRef, namespace: string | undefined): string {
  return ref.kind === CLUSTER_PROVIDER_CONFIG_KIND
    ? `${ref.kind}/${ref.name}`
    : `${ref.kind}/${namespace ?? ''}/${ref.name}`;
}

export function parseConfigKey(key: string): { ref: ProviderConfigRef; namespace: string | undefined } {
  const [kind, ...rest] = key.split('/');
  if (kind === CLUSTER_PROVIDER_CONFIG_KIND)
    return { ref: { kind, name: rest.join('/') }, namespace: undefined };
  return { ref: { kind: 'ProviderConfig', name: rest.slice(1).join('/') }, namespace: rest[0] };
}

/**
 * The config a Grant needs, or undefined when it needs none: a Grant being deleted whose
 * finalizer is gone has nothing left to revoke, and an unusable reference names no config.
 */
export function configNeededBy(grant: Pick<ManagedObject<unknown>, 'metadata' | 'spec'>): string | undefined {
  if (grant.metadata.deletionTimestamp && !grant.metadata.finalizers?.includes(FINALIZER)) return undefined;
  const spec = grant.spec as { providerConfigRef?: { name: string; kind?: string } } | undefined;
  try {
    return configKey(providerConfigRefOf(spec?.providerConfigRef), grant.metadata.namespace);
  } catch {
    return undefined;
  }
}

export interface ConfigObjectMeta {
  readonly finalizers?: string[] | undefined;
  readonly deletionTimestamp?: string | Date | undefined;
}

/**
 * The finalizers a config should have with this many users, or undefined when they are right.
 * The finalizer is added while the config is live and in use (the API server refuses new
 * finalizers on an object being deleted) and removed as soon as nothing uses it.
 */
export function inUseFinalizers(metadata: ConfigObjectMeta, users: number): string[] | undefined {
  const finalizers = metadata.finalizers ?? [];
  const has = finalizers.includes(IN_USE_FINALIZER);
  if (users > 0 && !has && !metadata.deletionTimestamp) return [...finalizers, IN_USE_FINALIZER];
  if (users === 0 && has) return finalizers.filter((f) => f !== IN_USE_FINALIZER);
  return undefined;
}
