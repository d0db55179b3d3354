// Who may connect to the database pods. Always: the CNPG operator (status port and management),
// the cluster's own instances (replication), its pooler, and Prometheus (metrics port).
import { commonLabels } from '../../shared/labels.js';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { CNPG_CLUSTER_LABEL, CNPG_POOLER_LABEL } from './cnpg.js';
import type { InstancePlan } from './plan.js';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const POSTGRES: INetworkPolicyPort = { protocol: 'TCP', port: 5432 };
const STATUS: INetworkPolicyPort = { protocol: 'TCP', port: 8000 };
const METRICS: INetworkPolicyPort = { protocol: 'TCP', port: 9187 };

function inNamespace(namespace: string): INetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } };
}

export function buildNetworkPolicy(plan: InstancePlan): INetworkPolicy | undefined {
  if (!plan.networkPolicy) return undefined;
  const settings = plan.spec.networkPolicy;
  const namespaces = plan.input.namespaces ?? { operator: 'cnpg-system', monitoring: 'monitoring' };
  const clients: INetworkPolicyPeer[] = [
    ...(settings?.allowedNamespaces ?? []).map(inNamespace),
    ...((settings?.allowSameNamespace ?? true)
      ? (settings?.allowedPodLabels ?? [{}]).map((labels) => ({ podSelector: { matchLabels: labels } }))
      : []),
    ...(plan.pooler ? [{ podSelector: { matchLabels: { [CNPG_POOLER_LABEL]: plan.pooler.name } } }] : []),
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: `${plan.name}-database`,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'network'),
    },
    spec: {
      podSelector: { matchLabels: { [CNPG_CLUSTER_LABEL]: plan.name } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { [CNPG_CLUSTER_LABEL]: plan.name } } }] },
        { from: [inNamespace(namespaces.operator)], ports: [POSTGRES, STATUS] },
        { from: [inNamespace(namespaces.monitoring)], ports: [METRICS] },
        ...(clients.length > 0 ? [{ from: clients, ports: [POSTGRES] }] : []),
      ],
    },
  };
}
