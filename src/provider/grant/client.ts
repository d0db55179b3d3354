// The Grant's external client: connect through its ProviderConfig, observe and apply its
// privileges with the grants engine (one engine call observes and applies in one transaction, a
// second one verifies), revoke on deletion, and say all of it in a Grant's words. The lifecycle
// around it (finalizer, policies, conditions, status) is managed/reconciler.ts.
import type { GrantObservation } from '../../api/provider-config.js';
import { parseGrant, type GrantParameters } from '../../api/grant.js';
import { ApplyError, type GrantRecord, type ReconcileResult } from '../../grants/index.js';
import { revocationParameters } from '../../grants/revocation.js';
import type {
  ExternalClient,
  ExternalRequest,
  ManagedObject,
  Note,
  Observed,
  Parsed,
  SyncRequest,
  Wording,
} from '../managed/reconciler.js';
import { errorMessage, oneLine, ReconcileFailure } from '../managed/messages.js';
import { parsedSpec } from '../managed/parse.js';
import { openSession, withSession, type Scrub, type SessionDeps } from '../session.js';
import { catalogFingerprint } from '../../grants/fingerprint.js';
import { GrantBatcher, type Engine } from './batcher.js';
import { CatalogWatch } from './catalog-watch.js';
import { changeCounts, describeDrift, driftObservation, driftSummary } from './drift.js';

/** Counters the metrics endpoint exposes. */
export interface GrantMetricsObserver {
  statementsApplied?(count: number): void;
  driftFound?(missing: number, extra: number): void;
}

export interface GrantClientDeps extends SessionDeps {
  readonly engine: Engine;
  /** Told when an apply is retried after "tuple concurrently updated" (logged at info). */
  readonly onRetry?: ((database: string, attempt: number, message: string) => void) | undefined;
  readonly now: () => Date;
  readonly metrics?: GrantMetricsObserver | undefined;
  /** --drift-check: how often each database's catalog fingerprint is compared; 0 turns it off. */
  readonly driftCheckMs?: number | undefined;
  /** Reconcile these Grants now (their database's catalog changed between polls). */
  readonly requeue?: ((keys: readonly string[], database: string) => void) | undefined;
}

type GrantRequest = ExternalRequest<GrantParameters, GrantObservation>;

/** Waiting without a queue slot to give up (no queue: tests, a lone reconcile). */
const waitHere = <T>(waiting: Promise<T>): Promise<T> => waiting;

const where = (p: GrantParameters): string => `"${p.grantee}" in database "${p.database}"`;

const wording: Wording<GrantParameters> = {
  creating: 'privileges not applied yet',
  deleting: (p) =>
    `revoking the privileges of ${where(p)} before the Grant goes (deletionPolicy Delete); to leave them in place instead, set spec.deletionPolicy: Orphan`,
  orphaned: (p) => `privileges of ${where(p)} left in place (orphaned)`,
  notDeleted: (problem) => ({ reason: 'NotRevoked', note: `nothing revoked: ${problem}` }),
};

export class GrantClient implements ExternalClient<GrantParameters, GrantObservation> {
  readonly wording = wording;
  private readonly batcher: GrantBatcher;
  private readonly databases = new Map<string, string>();
  private readonly watch: CatalogWatch | undefined;

  constructor(private readonly deps: GrantClientDeps) {
    const engine: Engine = (client, grants, options) =>
      deps.engine(client, grants, {
        ...options,
        onRetry: (attempt, message) => deps.onRetry?.(grants[0]?.parameters.database ?? '', attempt, message),
      });
    const requeue = deps.requeue;
    this.watch =
      deps.driftCheckMs && requeue
        ? new CatalogWatch({
            intervalMs: deps.driftCheckMs,
            fingerprint: catalogFingerprint,
            busy: (lane) => this.batcher.busy(lane),
            onChanged: (keys, database) => requeue(keys, database),
          })
        : undefined;
    this.batcher = new GrantBatcher(
      engine,
      (item, scrub, call) => this.run(item.parameters, scrub, call),
      this.watch,
    );
  }

  /** Stops the drift check's timer (at shutdown). */
  close(): void {
    this.watch?.stop();
  }

  parse(object: ManagedObject<GrantObservation>, key: string): Parsed<GrantParameters> {
    return parsedSpec(parseGrant, object, key);
  }

  /**
   * The Grants of one database share a snapshot, so they poll together: the database a Grant
   * was last synced in (undefined before its first sync).
   */
  pollGroup(key: string): string | undefined {
    return this.databases.get(key);
  }

  forget(key: string): void {
    this.databases.delete(key);
    this.watch?.forget(key);
    this.deps.dependencies?.(key, undefined);
  }

  async sync({
    key,
    object,
    spec: parameters,
    apply,
    park,
  }: SyncRequest<GrantParameters, GrantObservation>): Promise<Observed<GrantObservation>> {
    const before = object.status?.atProvider;
    const previous = before?.record;
    this.databases.set(key, parameters.database);
    // The Grants of one database that are due together share one snapshot and one transaction.
    // Parked while it waits: a held queue slot per waiting Grant would cap a database's batch at
    // its share of --concurrency (2-3 Grants with 20 databases), and let one slow server's
    // Grants take every slot.
    const session = await openSession(this.deps, key, object);
    const { result, verified } = await (park ?? waitHere)(
      this.batcher.submit(session, {
        name: key,
        parameters,
        previous,
        apply,
        changed: previous === undefined || object.metadata.generation !== object.status?.observedGeneration,
      }),
    );

    const remaining = driftSummary(verified.plan);
    const atProvider: GrantObservation = {
      database: parameters.database,
      grantee: parameters.grantee,
      drift: driftObservation(remaining),
      ...(before?.lastCorrection ? { lastCorrection: before.lastCorrection } : {}),
      ...(result.plan.problems.length > 0 ? { problems: [...result.plan.problems] } : {}),
    };
    const record: GrantRecord | undefined = apply ? (result.plan.records[key] ?? previous) : previous;
    if (record) atProvider.record = record;

    let applied: Note | undefined;
    if (result.applied) {
      const counts = changeCounts(result.plan);
      atProvider.lastCorrection = {
        time: this.deps.now().toISOString(),
        statements: result.plan.statements.length,
        ...counts,
      };
      this.deps.metrics?.statementsApplied?.(result.plan.statements.length);
      const found = driftSummary(result.plan);
      this.deps.metrics?.driftFound?.(found.missing, found.extra);
      applied = {
        reason: 'PrivilegesApplied',
        note: `granted ${counts.granted} and revoked ${counts.revoked} privilege(s) of ${where(parameters)} (${result.plan.statements.length} statement(s)): ${describeDrift(found)}`,
      };
    }

    const pending = verified.plan.statements.length;
    if (pending > 0 && !apply) this.deps.metrics?.driftFound?.(remaining.missing, remaining.extra);
    return {
      atProvider,
      applied,
      problem:
        result.plan.problems.length > 0
          ? `the plan could not honour: ${result.plan.problems.slice(0, 3).join('; ')}`
          : undefined,
      drift:
        pending === 0
          ? undefined
          : {
              observed: describeDrift(remaining),
              afterApply: `${pending} statement(s) still pending after apply: ${describeDrift(remaining)}`,
              changed: before?.drift?.missing !== remaining.missing || before.drift.extra !== remaining.extra,
            },
    };
  }

  async delete({ key, object, spec: parameters }: GrantRequest): Promise<Note> {
    const previous = object.status?.atProvider?.record;
    const revoke = revocationParameters(parameters);
    const result = await withSession(this.deps, key, object, parameters.database, (client, scrub) =>
      this.run(parameters, scrub, () =>
        this.deps.engine(client, [{ name: key, parameters: revoke, previous }], {}),
      ),
    );
    const { revoked } = changeCounts(result.plan);
    this.deps.metrics?.statementsApplied?.(result.plan.statements.length);
    return { reason: 'PrivilegesRevoked', note: `revoked ${revoked} privilege(s) of ${where(parameters)}` };
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
            `cannot apply privileges of ${where(parameters)} (rolled back, nothing changed): ${error.describe(scrub)}`,
          ),
        );
      }
      throw new ReconcileFailure(
        oneLine(`cannot observe privileges of ${where(parameters)}: ${scrub(errorMessage(error))}`),
      );
    }
  }
}
