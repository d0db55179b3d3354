// What the observed CNPG Cluster says about the database.
import { getNumber, getString } from '../../shared/json.js';
import { findCondition } from './conditions.js';

export interface ClusterState {
  observed: boolean;
  ready: boolean;
  hibernated: boolean;
  phase: string;
  readyInstances: number;
  instances: number;
  /** The running major, once CNPG reports it. */
  version?: string;
  /** Why it is not ready, in words a person can act on. */
  problem?: string;
}

export function readClusterState(cluster: unknown, desiredInstances: number): ClusterState {
  if (cluster === undefined) {
    return {
      observed: false,
      ready: false,
      hibernated: false,
      phase: 'Pending',
      readyInstances: 0,
      instances: desiredInstances,
      problem: 'the CloudNativePG Cluster has not been created yet',
    };
  }
  const phase = getString(cluster, 'status', 'phase') ?? 'Unknown';
  const phaseReason = getString(cluster, 'status', 'phaseReason');
  const ready = findCondition(cluster, 'Ready');
  const hibernation = findCondition(cluster, 'cnpg.io/hibernation');
  const hibernated = hibernation?.status === 'True';
  const major = getNumber(cluster, 'status', 'pgDataImageInfo', 'majorVersion');
  const isReady = ready?.status === 'True' || hibernated;
  const detail = ready?.message ?? phaseReason;
  return {
    observed: true,
    ready: isReady,
    hibernated,
    phase: hibernated ? 'Hibernated' : phase,
    readyInstances: getNumber(cluster, 'status', 'readyInstances') ?? 0,
    instances: getNumber(cluster, 'status', 'instances') ?? desiredInstances,
    ...(major !== undefined ? { version: String(major) } : {}),
    ...(isReady ? {} : { problem: `CloudNativePG reports phase "${phase}"${detail ? `: ${detail}` : ''}` }),
  };
}
