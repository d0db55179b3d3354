// Metrics and alerts: a PodMonitor for the instances' metrics port (CNPG deprecates its built-in
// one) and a PrometheusRule with the few alerts every production database needs.
import { commonLabels } from '../../shared/labels.js';
import { CNPG_CLUSTER_LABEL } from './cnpg.js';
import type { InstancePlan } from './plan.js';
import type { PodMonitor } from './upstream/prometheus-pod-monitor.js';
import type { PrometheusRule, Rule } from './upstream/prometheus-rule.js';

const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

export function buildPodMonitor(plan: InstancePlan): PodMonitor | undefined {
  if (!plan.monitoring) return undefined;
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PodMonitor',
    metadata: { name: plan.name, namespace: plan.namespace, labels: commonLabels(plan.name, 'monitoring') },
    spec: {
      selector: { matchLabels: { [CNPG_CLUSTER_LABEL]: plan.name, 'cnpg.io/podRole': 'instance' } },
      podMetricsEndpoints: [{ port: 'metrics' }],
    },
  };
}

/** `extraRules`: alerts other concerns derive from observed state (restore verification). */
export function buildPrometheusRule(plan: InstancePlan, extraRules: Rule[] = []): PrometheusRule | undefined {
  if (!plan.monitoring || plan.spec.monitoring?.alerts === false) return undefined;
  const cluster = `namespace="${plan.namespace}", pod=~"${plan.name}-[0-9]+"`;
  const labels = { severity: 'critical', namespace: plan.namespace, cluster: plan.name };
  const rules: Rule[] = [
    {
      alert: 'PostgresInstanceDown',
      expr: `sum(cnpg_collector_up{${cluster}}) < ${plan.spec.hibernate ? 0 : plan.spec.instances}`,
      for: '5m',
      labels,
      annotations: { summary: `PostgreSQL instances of ${plan.namespace}/${plan.name} are down` },
    },
    {
      alert: 'PostgresReplicationLagHigh',
      expr: `max(cnpg_pg_replication_lag{${cluster}}) > 300`,
      for: '10m',
      labels: { ...labels, severity: 'warning' },
      annotations: { summary: `A replica of ${plan.namespace}/${plan.name} is more than 5 minutes behind` },
    },
    {
      alert: 'PostgresStorageAlmostFull',
      expr: `max(kubelet_volume_stats_used_bytes{namespace="${plan.namespace}", persistentvolumeclaim=~"${plan.name}-[0-9]+(-wal)?"} / kubelet_volume_stats_capacity_bytes{namespace="${plan.namespace}", persistentvolumeclaim=~"${plan.name}-[0-9]+(-wal)?"}) > 0.85`,
      for: '10m',
      labels: { ...labels, severity: 'warning' },
      annotations: {
        summary: `A volume of ${plan.namespace}/${plan.name} is more than 85% full: raise storageGB`,
      },
    },
  ];
  if (plan.backup) {
    rules.push({
      alert: 'PostgresBackupFailing',
      expr: `max(cnpg_collector_last_failed_backup_timestamp{${cluster}}) > max(cnpg_collector_last_available_backup_timestamp{${cluster}})`,
      for: '1h',
      labels,
      annotations: { summary: `The last backup of ${plan.namespace}/${plan.name} failed` },
    });
  }
  rules.push(...extraRules);
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PrometheusRule',
    metadata: { name: plan.name, namespace: plan.namespace, labels: commonLabels(plan.name, 'monitoring') },
    spec: { groups: [{ name: `pgplane-${plan.namespace}-${plan.name}`, rules }] },
  };
}
