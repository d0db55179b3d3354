// Who the XR is: its kind, name and namespace, and whether it is a Crossplane v1 (legacy) XR behind
// a claim. Never depends on the XR's group or kind, so a platform's own API can point at pgplane.
import { getString, isObject } from '../../shared/json.js';

export interface XrIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  /** Where composed objects live: the XR's namespace (v2) or its claim's namespace (legacy). */
  namespace: string;
  /** Legacy (LegacyCluster) XRs are cluster-scoped and usually bound to a namespaced claim. */
  legacy: boolean;
  /** metadata.uid: tells two XRs of one name apart (a deleted instance and its re-creation). */
  uid?: string;
  claim?: { name: string; namespace: string; kind?: string };
}

const CLAIM_NAME_LABEL = 'crossplane.io/claim-name';
const CLAIM_NAMESPACE_LABEL = 'crossplane.io/claim-namespace';

export function readIdentity(xr: unknown): XrIdentity {
  const apiVersion = getString(xr, 'apiVersion') ?? '';
  const kind = getString(xr, 'kind') ?? 'PostgresInstance';
  const name = getString(xr, 'metadata', 'name') ?? '';
  const namespace = getString(xr, 'metadata', 'namespace');
  const labels = isObject(xr) ? getString(xr, 'metadata', 'labels', CLAIM_NAME_LABEL) : undefined;
  const claimName = getString(xr, 'spec', 'claimRef', 'name') ?? labels;
  const claimNamespace =
    getString(xr, 'spec', 'claimRef', 'namespace') ??
    getString(xr, 'metadata', 'labels', CLAIM_NAMESPACE_LABEL);
  const claimKind = getString(xr, 'spec', 'claimRef', 'kind');
  const uid = getString(xr, 'metadata', 'uid');
  const incarnation = uid ? { uid } : {};

  if (namespace) return { apiVersion, kind, name, namespace, legacy: false, ...incarnation };
  const claim =
    claimName && claimNamespace
      ? { name: claimName, namespace: claimNamespace, ...(claimKind ? { kind: claimKind } : {}) }
      : undefined;
  return {
    apiVersion,
    kind,
    name,
    namespace: claim?.namespace ?? '',
    legacy: true,
    ...incarnation,
    ...(claim ? { claim } : {}),
  };
}

/** How a person finds the object: "PostgresInstance databases/agent-executor". */
export function describeXr(identity: XrIdentity): string {
  if (identity.claim) {
    const claimKind = identity.claim.kind ?? 'claim';
    return `${claimKind} ${identity.claim.namespace}/${identity.claim.name} (${identity.kind} ${identity.name})`;
  }
  return identity.legacy || !identity.namespace
    ? `${identity.kind} ${identity.name || '<unnamed>'}`
    : `${identity.kind} ${identity.namespace}/${identity.name || '<unnamed>'}`;
}

/** The name composed objects take: the claim's for legacy XRs (stable, readable endpoints), else the XR's. */
export function instanceName(identity: XrIdentity): string {
  return identity.claim?.name ?? identity.name;
}
