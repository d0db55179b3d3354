// Reconciles ONE Grant the way Crossplane users expect of a managed resource: finalizer,
// crossplane.io/paused, management policies, deletion that revokes (or orphans), then
// observe → plan → apply through the grants engine, and Synced/Ready conditions, status and
// events. Every dependency is an interface, so the whole flow is tested without Kubernetes.
import type { GrantStatus, GrantObservation } from '../api/provider-config.js';
import { GrantValidationError, parseGrant, type GrantParameters } from '../api/grant.js';
import {
  ApplyError,
  reconcile as engineReconcile,
  type GrantRecord,
  type ApplyClient,
  type ReconcileResult,
} from '../grants/index.js';
import {
  available,
  findCondition,
  paused,
  Reason,
  READY,
  setConditions,
  synced,
  syncError,
  unavailable,
  type ConditionUpdate,
} from './conditions.js';
import {
  describeConnection,
  describeSecret,
  describeSource,
  providerConfigRefOf,
  resolveConnection,
  type ConnectionSource,
  type ProviderConfigRef,
  type SecretReader,
  type SecretRef,
  type ServerConnection,
} from './connection.js';
import { revocationParameters } from '../grants/revocation.js';
import { connectFailure, redact } from './disclosure.js';
import type { Outcome } from './queue.js';
import {
  changeCounts,
  deepEqual,
  describeDrift,
  driftObservation,
  driftSummary,
  mergePatch,
} from './status.js';

export const FINALIZER = 'grants.pgplane.io/finalizer';
export const PAUSED_ANNOTATION = 'crossplane.io/paused';

/** A Grant as read from the API server. */
export interface GrantObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
    deletionTimestamp?: string | Date;
  };
  spec?: unknown;
  status?: GrantStatus;
}

export interface GrantStore {
  get(namespace: string, name: string): Promise<GrantObject | undefined>;
  /** Sets metadata.finalizers, guarded by resourceVersion; resolves to the updated object. */
  setFinalizers(grant: GrantObject, finalizers: string[]): Promise<GrantObject>;
  /** Applies a merge patch to the status subresource. */
  patchStatus(grant: GrantObject, statusPatch: unknown): Promise<void>;
}

export interface ConfigStore {
  /** The ProviderConfig (in the Grant's namespace) or ClusterProviderConfig; throws ConnectionConfigError. */
  source(ref: ProviderConfigRef, grantNamespace: string): Promise<ConnectionSource>;
  /**
   * Puts the in-use finalizer on the config before anything is granted through it, so the config
   * cannot disappear while a Grant still has privileges to revoke through it (usage.ts).
   */
  markInUse(ref: ProviderConfigRef, grantNamespace: string): Promise<void>;
  readSecret: SecretReader;
}

export interface Databases {
  withClient<T>(
    connection: ServerConnection,
    database: string,
    fn: (client: ApplyClient) => Promise<T>,
  ): Promise<T>;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Fire and forget: an event that cannot be written never fails a reconcile. */
  record(grant: GrantObject, type: EventType, reason: string, note: string): void;
}

export type Engine = typeof engineReconcile;

export interface ReconcileObserver {
  statementsApplied?(count: number): void;
  driftFound?(missing: number, extra: number): void;
  /** The Secrets and ProviderConfig a Grant depends on, so their changes re-reconcile it. */
  dependencies?(
    key: string,
    deps: { providerConfig: ProviderConfigRef; secrets: readonly SecretRef[] } | undefined,
  ): void;
}

export interface ReconcilerDeps {
  readonly grants: GrantStore;
  readonly configs: ConfigStore;
  readonly databases: Databases;
  readonly events: EventRecorder;
  readonly engine?: Engine;
  readonly now?: () => Date;
  /** How long until a healthy Grant is checked for drift again. */
  readonly pollMs: number;
  readonly observer?: ReconcileObserver;
  readonly log?: { debug(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface ReconcileReport extends Outcome {
  /** What happened, for logs and metrics: applied, observed, in-sync, paused, deleted, orphaned, error, gone. */
  readonly result: string;
}

/** A failure with a message fit for a condition: what was being done and why it failed. */
export class ReconcileFailure extends Error {
  constructor(
    message: string,
    readonly reason: string = 'ReconcileError',
  ) {
    super(message);
    this.name = 'ReconcileFailure';
  }
}

interface Policies {
  readonly apply: boolean;
  readonly delete: boolean;
}

/** Crossplane management policies: ["*"] (the default) does everything; ["Observe"] applies nothing. */
export function managementPolicies(list: readonly string[] | undefined): Policies {
  const set = new Set(list && list.length > 0 ? list : ['*']);
  const all = set.has('*');
  return { apply: all || set.has('Create') || set.has('Update'), delete: all || set.has('Delete') };
}

/** Ready=False while a Grant with deletionPolicy Delete revokes, and for as long as it cannot. */
function deleting(p: GrantParameters): ConditionUpdate {
  return unavailable(
    Reason.Deleting,
    `revoking the privileges of "${p.grantee}" in database "${p.database}" before the Grant goes (deletionPolicy Delete); to leave them in place instead, set spec.deletionPolicy: Orphan`,
  );
}

export function grantKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** One line, bounded: conditions are read in `kubectl get` and `kubectl describe`. */
function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

function errorMessage(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error));
}

/** Removes Secret values from text the driver or the server wrote (disclosure.ts). */
type Scrub = (text: string) => string;

export class GrantReconciler {
  private readonly engine: Engine;
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.engine = deps.engine ?? engineReconcile;
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<ReconcileReport> {
    const { namespace, name } = splitKey(key);
    let grant = await this.deps.grants.get(namespace, name);
    if (!grant) {
      this.deps.observer?.dependencies?.(key, undefined);
      return { result: 'gone' };
    }

    if (grant.metadata.annotations?.[PAUSED_ANNOTATION] === 'true') {
      await this.writeStatus(grant, [paused()], grant.status?.atProvider);
      return { result: 'paused' };
    }

    let parameters: GrantParameters;
    let policies: Policies;
    try {
      const document = parseGrant(grant, `${namespace}/${name}`);
      parameters = document.spec.forProvider;
      policies = managementPolicies(document.spec.managementPolicies);
      if (grant.metadata.deletionTimestamp && document.spec.deletionPolicy === 'Orphan')
        policies = { ...policies, delete: false };
    } catch (error) {
      const message =
        error instanceof GrantValidationError
          ? `invalid spec: ${error.problems.join('; ')}`
          : errorMessage(error);
      if (grant.metadata.deletionTimestamp)
        return this.release(grant, 'Warning', 'NotRevoked', `nothing revoked: ${message}`);
      await this.writeStatus(
        grant,
        [syncError(message), ...this.readyIfUnset(grant)],
        grant.status?.atProvider,
      );
      // A bad spec does not heal by itself: the edit that fixes it triggers the next reconcile.
      return { result: 'invalid', requeueAfterMs: this.deps.pollMs };
    }

    if (grant.metadata.deletionTimestamp) {
      if (!grant.metadata.finalizers?.includes(FINALIZER)) return { result: 'gone' };
      if (!policies.delete) {
        return this.release(
          grant,
          'Normal',
          'Orphaned',
          `privileges of "${parameters.grantee}" in database "${parameters.database}" left in place (orphaned)`,
        );
      }
    } else if (!grant.metadata.finalizers?.includes(FINALIZER)) {
      grant = await this.deps.grants.setFinalizers(grant, [...(grant.metadata.finalizers ?? []), FINALIZER]);
    }

    try {
      return grant.metadata.deletionTimestamp
        ? await this.delete(key, grant, parameters)
        : await this.sync(key, grant, parameters, policies);
    } catch (error) {
      const message = errorMessage(error);
      const previous = findCondition(grant.status?.conditions, 'Synced');
      if (previous?.message !== message)
        this.deps.events.record(grant, 'Warning', 'CannotReconcile', message);
      const ready = grant.metadata.deletionTimestamp ? [deleting(parameters)] : this.readyIfUnset(grant);
      await this.writeStatus(grant, [syncError(message), ...ready], grant.status?.atProvider);
      return { result: 'error', failed: true };
    }
  }

  /** Observe (and, unless Observe-only, apply), then report. */
  private async sync(
    key: string,
    grant: GrantObject,
    parameters: GrantParameters,
    policies: Policies,
  ): Promise<ReconcileReport> {
    const previous = grant.status?.atProvider?.record;
    const { result, verified } = await this.withDatabase(key, grant, parameters, async (client, scrub) => {
      const input = [{ name: key, parameters, previous }];
      const first = await this.run(parameters, scrub, () =>
        this.engine(client, input, { dryRun: !policies.apply }),
      );
      // After an apply, one more snapshot says what is left (extras additive mode keeps, a racing writer).
      const check = first.applied
        ? await this.run(parameters, scrub, () =>
            this.engine(client, [{ name: key, parameters, previous: first.plan.records[key] }], {
              dryRun: true,
            }),
          )
        : first;
      return { result: first, verified: check };
    });

    const remaining = driftSummary(verified.plan);
    const atProvider: GrantObservation = {
      database: parameters.database,
      grantee: parameters.grantee,
      drift: driftObservation(remaining),
      ...(grant.status?.atProvider?.lastCorrection
        ? { lastCorrection: grant.status.atProvider.lastCorrection }
        : {}),
      ...(result.plan.problems.length > 0 ? { problems: [...result.plan.problems] } : {}),
    };
    const record: GrantRecord | undefined = policies.apply
      ? (result.plan.records[key] ?? previous)
      : previous;
    if (record) atProvider.record = record;

    if (result.applied) {
      const counts = changeCounts(result.plan);
      atProvider.lastCorrection = {
        time: this.now().toISOString(),
        statements: result.plan.statements.length,
        ...counts,
      };
      this.deps.observer?.statementsApplied?.(result.plan.statements.length);
      const found = driftSummary(result.plan);
      this.deps.observer?.driftFound?.(found.missing, found.extra);
      this.deps.events.record(
        grant,
        'Normal',
        'PrivilegesApplied',
        `granted ${counts.granted} and revoked ${counts.revoked} privilege(s) of "${parameters.grantee}" in database "${parameters.database}" (${result.plan.statements.length} statement(s)): ${describeDrift(found)}`,
      );
    }

    const pending = verified.plan.statements.length;
    const conditions: ConditionUpdate[] = [];
    if (result.plan.problems.length > 0) {
      conditions.push(syncError(`the plan could not honour: ${result.plan.problems.slice(0, 3).join('; ')}`));
    } else {
      conditions.push(synced());
    }
    if (pending === 0) {
      conditions.push(available());
    } else if (!policies.apply) {
      this.deps.observer?.driftFound?.(remaining.missing, remaining.extra);
      const message = `${describeDrift(remaining)}; not applied because managementPolicies is [${(this.policiesOf(grant) ?? []).join(', ')}]`;
      const before = grant.status?.atProvider?.drift;
      if (before?.missing !== remaining.missing || before.extra !== remaining.extra) {
        this.deps.events.record(grant, 'Warning', 'DriftObserved', message);
      }
      conditions.push(unavailable(Reason.Drifted, message));
    } else {
      conditions.push(
        unavailable(
          Reason.Unavailable,
          `${pending} statement(s) still pending after apply: ${describeDrift(remaining)}`,
        ),
      );
    }
    await this.writeStatus(grant, conditions, atProvider);
    const failed = result.plan.problems.length > 0;
    return {
      result: result.applied ? 'applied' : policies.apply ? 'in-sync' : 'observed',
      ...(failed ? { failed } : { requeueAfterMs: this.deps.pollMs }),
    };
  }

  private async delete(
    key: string,
    grant: GrantObject,
    parameters: GrantParameters,
  ): Promise<ReconcileReport> {
    // Not Ready from the moment deletion starts: what it grants is about to go.
    await this.writeStatus(grant, [deleting(parameters)], grant.status?.atProvider);
    const previous = grant.status?.atProvider?.record;
    const revoke = revocationParameters(parameters);
    const result = await this.withDatabase(key, grant, parameters, (client, scrub) =>
      this.run(parameters, scrub, () =>
        this.engine(client, [{ name: key, parameters: revoke, previous }], {}),
      ),
    );
    const { revoked } = changeCounts(result.plan);
    this.deps.observer?.statementsApplied?.(result.plan.statements.length);
    return this.release(
      grant,
      'Normal',
      'PrivilegesRevoked',
      `revoked ${revoked} privilege(s) of "${parameters.grantee}" in database "${parameters.database}"`,
      'deleted',
    );
  }

  /** Removes the finalizer: the API server then deletes the Grant. */
  private async release(
    grant: GrantObject,
    type: 'Normal' | 'Warning',
    reason: string,
    note: string,
    result = 'orphaned',
  ): Promise<ReconcileReport> {
    const { namespace, name } = grant.metadata;
    this.deps.events.record(grant, type, reason, note);
    if (grant.metadata.finalizers?.includes(FINALIZER)) {
      await this.deps.grants.setFinalizers(
        grant,
        grant.metadata.finalizers.filter((f) => f !== FINALIZER),
      );
    }
    this.deps.observer?.dependencies?.(grantKey(namespace, name), undefined);
    return { result };
  }

  private async withDatabase<T>(
    key: string,
    grant: GrantObject,
    parameters: GrantParameters,
    fn: (client: ApplyClient, scrub: Scrub) => Promise<T>,
  ): Promise<T> {
    const ref = providerConfigRefOf(
      (grant.spec as { providerConfigRef?: { name: string; kind?: string } } | undefined)?.providerConfigRef,
    );
    // Recorded before anything can fail: creating or fixing a missing ProviderConfig or Secret re-reconciles.
    let secretsRead: SecretRef[] = [];
    const remember = (): void =>
      this.deps.observer?.dependencies?.(key, { providerConfig: ref, secrets: secretsRead });
    remember();
    const source = await this.deps.configs.source(ref, grant.metadata.namespace);
    await this.deps.configs.markInUse(ref, grant.metadata.namespace);
    const resolved = await resolveConnection(source, async (secretRef) => {
      secretsRead = [...secretsRead, secretRef];
      remember();
      return this.deps.configs.readSecret(secretRef);
    });
    const { connection } = resolved;
    const scrub: Scrub = (text) => redact(text, connection.secretValues);
    try {
      return await this.deps.databases.withClient(connection, parameters.database, (client) =>
        fn(client, scrub),
      );
    } catch (error) {
      if (error instanceof ReconcileFailure) throw error;
      // Our words for the known causes: the driver's own text echoes the host and the role.
      throw new ReconcileFailure(
        oneLine(
          `cannot connect to ${describeConnection(connection, parameters.database)} using ${describeSource(source)} with ${describeSecret(connection)}: ${connectFailure(error, connection.secretValues)}`,
        ),
      );
    }
  }

  /**
   * Runs one engine call, turning its errors into messages that say what was being done. Only
   * the server's and the driver's text is scrubbed: ours holds no Secret value, and scrubbing it
   * would turn database "app" into database "<username>" when the owner is called app too.
   */
  private async run(
    parameters: GrantParameters,
    scrub: Scrub,
    fn: () => Promise<ReconcileResult>,
  ): Promise<ReconcileResult> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ApplyError) {
        throw new ReconcileFailure(
          oneLine(
            `cannot apply privileges of "${parameters.grantee}" in database "${parameters.database}" (rolled back, nothing changed): ${error.describe(scrub)}`,
          ),
        );
      }
      throw new ReconcileFailure(
        oneLine(
          `cannot observe privileges of "${parameters.grantee}" in database "${parameters.database}": ${scrub(errorMessage(error))}`,
        ),
      );
    }
  }

  private policiesOf(grant: GrantObject): string[] | undefined {
    const list = (grant.spec as { managementPolicies?: unknown } | undefined)?.managementPolicies;
    return Array.isArray(list) ? list.map(String) : undefined;
  }

  private readyIfUnset(grant: GrantObject): ConditionUpdate[] {
    return findCondition(grant.status?.conditions, READY)
      ? []
      : [unavailable(Reason.Creating, 'privileges not applied yet')];
  }

  /** Writes status only when it changed, so a steady state costs no API writes. */
  private async writeStatus(
    grant: GrantObject,
    updates: ConditionUpdate[],
    atProvider: GrantObservation | undefined,
  ): Promise<void> {
    const generation = grant.metadata.generation;
    const before: GrantStatus = grant.status ?? {};
    const after: GrantStatus = {
      ...before,
      conditions: setConditions(before.conditions, updates, this.now(), generation),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      ...(atProvider ? { atProvider } : {}),
    };
    if (deepEqual(before, after)) return;
    await this.deps.grants.patchStatus(grant, mergePatch(before, after));
  }
}
