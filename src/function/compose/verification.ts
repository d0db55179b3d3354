// Verified restores (backup.verify): on a schedule, a throwaway clone of the instance is restored
// from its latest base backup, timed until CNPG reports it ready (or it fails or times out), the
// result is recorded in the XR's status, and the clone is removed.
//
// Stateless: what is due comes from the XR's own status (Crossplane writes back what this returns),
// the observed clone and the request's time, which the handler passes in. At most one clone exists:
// it has one resource key, and a response that records a finished verification never starts the
// next one.
import { commonLabels } from '../../shared/labels.js';
import { nextFire, parseCron } from '../../shared/cron.js';
import { getNumber, getObject, getPath, getString, isObject, type JsonObject } from '../../shared/json.js';
import { durationMinutes } from '../../api/instance-features.js';
import { readArchive, readRecoveryWindow, type Archive } from '../observe/restore.js';
import { CNPG_API_VERSION, CNPG_CLUSTER_LABEL } from './cnpg.js';
import { toJsonObject } from './kubernetes-object.js';
import type { InstancePlan } from './plan.js';
import { archiveSource, recoveryBootstrap } from './restore.js';
import { memoryParameters, sizeCatalog } from './sizing.js';
import type { Cluster } from './upstream/cnpg-cluster.js';
import type { INetworkPolicy as NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { Rule } from './upstream/prometheus-rule.js';

export const VERIFY_KEYS = { clone: 'verify-clone', networkPolicy: 'verify-network-policy' } as const;
/** On the clone: when the base backup it restores completed (the point it recovers to). */
const VERIFY_BACKUP_ANNOTATION = 'pgplane.io/verify-backup';
const MAX_CLUSTER_NAME = 50;
const CLONE_SUFFIX = '-verify';
/** The size the clone runs with: compute only has to replay the backup, not serve traffic. */
const CLONE_SIZE = 'small';
const INSTANCE_STATUS_PORT = 8000;

interface VerificationStatus {
  phase: 'Pending' | 'Running' | 'Passed' | 'Failed';
  /** The outcome of the last verification that finished. */
  lastResult?: 'Passed' | 'Failed';
  /** When the last (or running) clone was created. */
  lastStarted?: string;
  /** When a restore last succeeded: the clone reported ready. */
  lastVerified?: string;
  /** The base backup it restored, by completion time. */
  backup?: string;
  /** The point the clone recovered to: its data is at least this recent (an RPO bound). */
  recoveredTo?: string;
  /** Measured RTO: clone creation to ready. */
  durationSeconds?: number;
  lastFailed?: string;
  lastFailure?: string;
  /** When the next verification must have passed, or the Overdue condition and alert fire. */
  dueBy?: string;
  message: string;
}

interface VerifyCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface VerificationOutcome {
  resources: { key: string; resource: JsonObject; ready: boolean }[];
  status: VerificationStatus;
  condition: VerifyCondition;
  /** Alerts for the instance's PrometheusRule. */
  alerts: Rule[];
}

export interface VerificationObservation {
  now: Date;
  compositeStatus?: JsonObject;
  /** The XR's creationTimestamp: the first verification is due at the first schedule after it. */
  compositeCreated?: string;
  cluster?: JsonObject;
  clusterReady: boolean;
  objectStore?: JsonObject;
  clone?: JsonObject;
}

const VERIFY_CONDITION = 'RestoreVerified';

/** RFC 3339 in UTC to the second, as Kubernetes writes timestamps. */
function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function cloneName(instance: string): string {
  const room = MAX_CLUSTER_NAME - CLONE_SUFFIX.length;
  return `${instance.slice(0, room).replace(/-+$/, '')}${CLONE_SUFFIX}`;
}

export function composeVerification(
  plan: InstancePlan,
  observed: VerificationObservation,
): VerificationOutcome | undefined {
  const verify = plan.spec.backup?.verify;
  if (!verify || !plan.backup) return undefined;
  const parsed = parseCron(verify.schedule);
  // Validation refused schedules that do not parse.
  if (!parsed.ok) return undefined;
  const schedule = parsed.schedule;
  const timeoutMs = durationMinutes(verify.timeout) * 60_000;
  const previous = readPrevious(observed.compositeStatus);
  const { now } = observed;
  const clone =
    observed.clone && !getString(observed.clone, 'metadata', 'deletionTimestamp')
      ? observed.clone
      : undefined;

  let status: VerificationStatus;
  const resources: VerificationOutcome['resources'] = [];
  if (clone) {
    const created = getString(clone, 'metadata', 'creationTimestamp');
    const backup = getString(clone, 'metadata', 'annotations', VERIFY_BACKUP_ANNOTATION);
    const ready = readyTransition(clone);
    const phase = getString(clone, 'status', 'phase') ?? 'Pending';
    const startedAt = created ? Date.parse(created) : now.getTime();
    if (ready !== undefined) {
      const seconds = Math.max(0, Math.round((Date.parse(ready) - startedAt) / 1000));
      status = {
        ...previous,
        phase: 'Passed',
        lastResult: 'Passed',
        ...(created ? { lastStarted: created } : {}),
        lastVerified: ready,
        ...(backup ? { backup: `base backup completed at ${backup}`, recoveredTo: backup } : {}),
        durationSeconds: seconds,
        message: `restore verified: clone ${cloneName(plan.name)} was ready ${seconds}s after it was created${backup ? `, recovered to ${backup}` : ''}`,
      };
    } else if (/fail/i.test(phase) || now.getTime() - startedAt > timeoutMs) {
      const timedOut = !/fail/i.test(phase);
      const failure = timedOut
        ? `clone ${cloneName(plan.name)} was not ready ${verify.timeout} after it was created (CloudNativePG phase "${phase}")`
        : `clone ${cloneName(plan.name)} failed: CloudNativePG phase "${phase}"${phaseReason(clone)}`;
      status = {
        ...previous,
        phase: 'Failed',
        lastResult: 'Failed',
        ...(created ? { lastStarted: created } : {}),
        lastFailed: timedOut
          ? rfc3339(new Date(startedAt + timeoutMs))
          : (readyConditionTime(clone) ?? created ?? rfc3339(now)),
        lastFailure: failure,
        message: `restore verification failed: ${failure}`,
      };
    } else {
      resources.push(...cloneResources(plan, clone, backup));
      status = {
        ...previous,
        phase: 'Running',
        ...(created ? { lastStarted: created } : {}),
        message: `verifying: clone ${cloneName(plan.name)} is restoring${backup ? ` the base backup completed at ${backup}` : ''} (CloudNativePG phase "${phase}")`,
      };
    }
  } else {
    const archive = readArchive(observed.cluster);
    const window = archive ? readRecoveryWindow(observed.objectStore, archive.serverName) : {};
    const baseline = previous.lastStarted ?? observed.compositeCreated;
    const next = baseline ? nextFire(schedule, new Date(baseline)) : now;
    const due = next !== undefined && next.getTime() <= now.getTime();
    const blocker = plan.spec.hibernate
      ? 'the instance is hibernated'
      : !archive || !observed.clusterReady
        ? 'the instance is not ready'
        : !window.lastSuccessfulBackupTime
          ? 'there is no completed base backup yet'
          : undefined;
    if (due && !blocker && archive && window.lastSuccessfulBackupTime) {
      resources.push(...cloneResources(plan, undefined, window.lastSuccessfulBackupTime, archive));
      status = {
        ...previous,
        phase: 'Running',
        message: `verifying: restoring the base backup completed at ${window.lastSuccessfulBackupTime} into clone ${cloneName(plan.name)}`,
      };
    } else {
      const when = due
        ? `due, waiting because ${blocker ?? 'nothing'}`
        : `next at ${next ? rfc3339(next) : 'never'}`;
      status = {
        ...previous,
        phase: previous.lastResult ?? 'Pending',
        message: `${previous.lastVerified ? `restore last verified at ${previous.lastVerified}` : 'no restore verified yet'}; next verification ${when}`,
      };
    }
  }

  // The phase first, where a person reading the status looks.
  const { phase: currentPhase, ...details } = status;
  status = { phase: currentPhase, ...details };
  const verifiedBaseline = status.lastVerified ?? observed.compositeCreated;
  const nextAfterVerified = verifiedBaseline ? nextFire(schedule, new Date(verifiedBaseline)) : undefined;
  const dueBy = nextAfterVerified ? new Date(nextAfterVerified.getTime() + timeoutMs) : undefined;
  if (dueBy) status.dueBy = rfc3339(dueBy);
  // A hibernated instance runs nothing, verifications included: they are paused, not overdue.
  const paused = plan.spec.hibernate;
  const overdue = !paused && dueBy !== undefined && now.getTime() > dueBy.getTime();
  return {
    resources,
    status,
    condition: paused
      ? { type: VERIFY_CONDITION, status: 'False', reason: 'Paused', message: status.message }
      : verifyCondition(status, overdue),
    alerts: verifyAlerts(plan, status, paused ? undefined : dueBy),
  };
}

function readPrevious(
  compositeStatus: JsonObject | undefined,
): Omit<VerificationStatus, 'phase' | 'message'> {
  const previous = getObject(compositeStatus, 'verification');
  const text = (key: string) => {
    const value = getString(previous, key);
    return value ? { [key]: value } : {};
  };
  const result = getString(previous, 'lastResult');
  const duration = getNumber(previous, 'durationSeconds');
  return {
    ...(result === 'Passed' || result === 'Failed' ? { lastResult: result } : {}),
    ...text('lastStarted'),
    ...text('lastVerified'),
    ...text('backup'),
    ...text('recoveredTo'),
    ...(duration !== undefined ? { durationSeconds: duration } : {}),
    ...text('lastFailed'),
    ...text('lastFailure'),
  };
}

/** When the clone's Ready condition last changed, whatever its status. */
function readyConditionTime(clone: JsonObject): string | undefined {
  const conditions = getPath(clone, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  return getString(
    conditions.find((c) => isObject(c) && c.type === 'Ready'),
    'lastTransitionTime',
  );
}

/** When the clone's Ready condition turned True, if it is True. */
function readyTransition(clone: JsonObject): string | undefined {
  const conditions = getPath(clone, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  const ready = conditions.find((c) => isObject(c) && c.type === 'Ready');
  if (!isObject(ready) || ready.status !== 'True') return undefined;
  return getString(ready, 'lastTransitionTime');
}

function phaseReason(clone: JsonObject): string {
  const reason = getString(clone, 'status', 'phaseReason');
  return reason ? `: ${reason}` : '';
}

function verifyCondition(status: VerificationStatus, overdue: boolean): VerifyCondition {
  const condition = (ok: boolean, reason: string, message: string): VerifyCondition => ({
    type: VERIFY_CONDITION,
    status: ok ? 'True' : 'False',
    reason,
    message,
  });
  if (status.lastResult === 'Failed')
    return condition(
      false,
      'Failed',
      `the last restore verification failed: ${status.lastFailure ?? 'unknown'}`,
    );
  if (overdue)
    return condition(
      false,
      'Overdue',
      `${status.lastVerified ? `no restore verified since ${status.lastVerified}` : 'no restore verified yet'}; one was due by ${status.dueBy ?? '?'}`,
    );
  if (status.lastVerified)
    return condition(
      true,
      'Verified',
      `restore verified at ${status.lastVerified}${status.durationSeconds !== undefined ? ` in ${status.durationSeconds}s` : ''}${status.recoveredTo ? `, recovered to ${status.recoveredTo}` : ''}`,
    );
  return condition(false, 'Pending', status.message);
}

/**
 * Overdue is `time() > <deadline>`: Prometheus fires it on its own once the deadline passes, even
 * if pgplane never runs again. A failed verification fires while its result stands.
 */
function verifyAlerts(plan: InstancePlan, status: VerificationStatus, dueBy: Date | undefined): Rule[] {
  const labels = { severity: 'critical', namespace: plan.namespace, cluster: plan.name };
  const rules: Rule[] = [];
  if (dueBy)
    rules.push({
      alert: 'PostgresRestoreVerificationOverdue',
      expr: `time() > ${Math.floor(dueBy.getTime() / 1000)}`,
      labels,
      annotations: {
        summary: `No restore of ${plan.namespace}/${plan.name} has been verified since ${status.lastVerified ?? 'it was created'}; one was due by ${rfc3339(dueBy)}`,
      },
    });
  if (status.lastResult === 'Failed')
    rules.push({
      alert: 'PostgresRestoreVerificationFailed',
      expr: 'vector(1)',
      labels,
      annotations: {
        summary: `The last restore verification of ${plan.namespace}/${plan.name} failed: ${status.lastFailure ?? 'unknown'}`,
      },
    });
  return rules;
}

/** The clone and the NetworkPolicy that isolates it; neither holds the XR's readiness. */
function cloneResources(
  plan: InstancePlan,
  observedClone: JsonObject | undefined,
  backup: string | undefined,
  archive?: Archive,
): VerificationOutcome['resources'] {
  // A running clone keeps what it was created with: the archive it reads and the backup it restores.
  const source = archive ?? archiveOf(observedClone, plan.name);
  if (!source) return [];
  return [
    {
      key: VERIFY_KEYS.clone,
      resource: toJsonObject(buildClone(plan, source, backup)),
      ready: true,
    },
    {
      key: VERIFY_KEYS.networkPolicy,
      resource: toJsonObject(buildCloneNetworkPolicy(plan)),
      ready: true,
    },
  ];
}

function archiveOf(clone: JsonObject | undefined, source: string): Archive | undefined {
  const external = getPath(clone, 'spec', 'externalClusters');
  if (!Array.isArray(external)) return undefined;
  const entry = external.find((e) => isObject(e) && e.name === source);
  const objectStoreName = getString(entry, 'plugin', 'parameters', 'barmanObjectName');
  const serverName = getString(entry, 'plugin', 'parameters', 'serverName');
  return objectStoreName && serverName ? { objectStoreName, serverName } : undefined;
}

/**
 * One small instance recovered from the latest base backup and stopped as soon as it is consistent:
 * no WAL archiving (it writes no backups), no managed roles, Pooler, monitoring, Grants or
 * connection Secrets. max_connections stays the instance's: PostgreSQL refuses to recover with less.
 */
function buildClone(plan: InstancePlan, archive: Archive, backup: string | undefined): Cluster {
  const size = sizeCatalog(plan.input)[CLONE_SIZE] ?? plan.size;
  const { nodeSelector, tolerations } = plan.placement;
  const instanceParameters = memoryParameters(plan.size);
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'Cluster',
    metadata: {
      name: cloneName(plan.name),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'restore-verification'),
      ...(backup ? { annotations: { [VERIFY_BACKUP_ANNOTATION]: backup } } : {}),
    },
    spec: {
      instances: 1,
      ...('imageName' in plan.image
        ? { imageName: plan.image.imageName }
        : { imageCatalogRef: { apiGroup: 'postgresql.cnpg.io', ...plan.image.catalog } }),
      enableSuperuserAccess: false,
      storage: {
        size: `${plan.spec.storageGB}Gi`,
        ...(plan.storageClass ? { storageClass: plan.storageClass } : {}),
      },
      ...(plan.spec.walStorageGB
        ? {
            walStorage: {
              size: `${plan.spec.walStorageGB}Gi`,
              ...(plan.storageClass ? { storageClass: plan.storageClass } : {}),
            },
          }
        : {}),
      resources: {
        requests: { cpu: size.cpu.request, memory: size.memory.request },
        limits: { cpu: size.cpu.limit, memory: size.memory.limit },
      },
      postgresql: {
        parameters: {
          ...memoryParameters(size),
          ...(instanceParameters.max_connections
            ? { max_connections: instanceParameters.max_connections }
            : {}),
          ...plan.spec.parameters,
        },
      },
      bootstrap: recoveryBootstrap(plan, plan.name, { targetImmediate: true }, { ownerSecret: false }),
      externalClusters: [archiveSource(plan.name, archive)],
      affinity: {
        enablePodAntiAffinity: false,
        ...(nodeSelector && Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
        ...(tolerations && tolerations.length > 0 ? { tolerations } : {}),
      },
    },
  };
}

/**
 * Nothing may connect to the clone, except the CNPG operator to its instance manager's status port:
 * without that CNPG cannot see it become ready.
 */
function buildCloneNetworkPolicy(plan: InstancePlan): NetworkPolicy {
  const operator = plan.input.namespaces?.operator ?? 'cnpg-system';
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: cloneName(plan.name),
      namespace: plan.namespace,
      labels: commonLabels(plan.name, 'restore-verification'),
    },
    spec: {
      podSelector: { matchLabels: { [CNPG_CLUSTER_LABEL]: cloneName(plan.name) } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': operator } } }],
          ports: [{ protocol: 'TCP', port: INSTANCE_STATUS_PORT }],
        },
      ],
    },
  };
}
