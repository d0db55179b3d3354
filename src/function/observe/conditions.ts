// Reading Kubernetes-style status conditions from observed objects.
import { getPath, getString, isObject } from '../../shared/json.js';

export interface ObservedCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export function findCondition(resource: unknown, type: string): ObservedCondition | undefined {
  const conditions = getPath(resource, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  for (const condition of conditions) {
    if (!isObject(condition) || condition.type !== type) continue;
    const status = getString(condition, 'status');
    const reason = getString(condition, 'reason');
    const message = getString(condition, 'message');
    return {
      type,
      status: status === 'True' || status === 'False' ? status : 'Unknown',
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    };
  }
  return undefined;
}
