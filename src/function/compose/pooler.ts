// A PgBouncer Pooler in front of the primary; applications then connect through it.
import { commonLabels } from '../../shared/labels.js';
import { CNPG_API_VERSION } from './cnpg.js';
import type { InstancePlan } from './plan.js';
import type { Pooler } from './upstream/cnpg-pooler.js';

export function buildPooler(plan: InstancePlan): Pooler | undefined {
  const pooler = plan.spec.pooler;
  if (!pooler || !plan.pooler) return undefined;
  const parameters: Record<string, string> = {
    ...(pooler.maxClientConnections !== undefined
      ? { max_client_conn: String(pooler.maxClientConnections) }
      : {}),
    ...(pooler.defaultPoolSize !== undefined ? { default_pool_size: String(pooler.defaultPoolSize) } : {}),
  };
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'Pooler',
    metadata: {
      name: plan.pooler.name,
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'pooler'),
    },
    spec: {
      cluster: { name: plan.name },
      type: 'rw',
      instances: pooler.instances,
      pgbouncer: {
        poolMode: pooler.mode,
        ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
      },
    },
  };
}
