// Coalesces the due Grants of one database: the Grants that come up for reconcile while a batch
// of their database runs wait for the next, and each batch is one engine call (one snapshot for
// every grantee, one transaction under one lock) plus one verifying snapshot. 500 Grants in 20
// databases cost about 20 batches, not 500 × 5 round trips; a no-op poll costs one snapshot per
// database per poll window. Grant-specific on purpose: the managed lifecycle stays one object at
// a time, and only this client knows that its objects share a database catalog.
import type { GrantParameters } from '../../api/grant.js';
import {
  resultOf,
  type ApplyClient,
  type GrantRecord,
  reconcile as engineReconcile,
  type ReconcileResult,
} from '../../grants/index.js';
import type { Scrub, Session } from '../session.js';

/** The grants engine's reconcile (a stand-in in tests). */
export type Engine = typeof engineReconcile;

export interface BatchItem {
  readonly name: string;
  readonly parameters: GrantParameters;
  readonly previous: GrantRecord | undefined;
  /** False under an Observe-only management policy. */
  readonly apply: boolean;
  /**
   * New, or its spec edited since its last sync: its snapshot will almost surely find work, so a
   * batch holding one observes under the lock at once (one catalog read fewer; the engine's
   * expectChanges). A poll of unchanged Grants keeps the unlocked snapshot a no-op is answered by.
   */
  readonly changed: boolean;
}

export interface BatchOutcome {
  /** What the engine planned (and applied, when it did) for this Grant. */
  readonly result: ReconcileResult;
  /** A snapshot after the apply: what is left. The same as result when nothing was applied. */
  readonly verified: ReconcileResult;
}

/** Turns an engine failure into the Grant's own words (client.ts). */
export type EngineCall = (
  item: BatchItem,
  scrub: Scrub,
  call: () => Promise<ReconcileResult>,
) => Promise<ReconcileResult>;

interface Pending {
  readonly item: BatchItem;
  readonly session: Session;
  readonly resolve: (outcome: BatchOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane {
  readonly database: string;
  pending: Pending[];
  running: boolean;
  /** When the lane began gathering its first batch. */
  since: number;
}

/** Enough to amortise the snapshot, few enough that one statement block stays readable in an error. */
const MAX_BATCH = 200;

/** Batches one database runs on a connection before handing it back: the others get their turn. */
const BATCHES_PER_CONNECTION = 8;

/**
 * An idle database's first batch waits for the Grants that come due with its first one: until
 * no Grant of any database has come due for QUIET_MS (a burst of creations or a provider restart
 * reaches the lanes interleaved, a few each second per database, for as long as the API server
 * takes to answer their finalizer writes), or the first has waited MAX_GATHER_MS, or the batch
 * is full. A lone Grant waits QUIET_MS. At 500 Grants x 20 databases a fixed 25 ms had made
 * ~250 batches of 1-2 Grants, each costing two snapshots and often a new connection.
 */
const QUIET_MS = 100;
const MAX_GATHER_MS = 1000;

/** How much longer a lane gathers before its first batch: 0 when it should start now. Pure. */
export function gatherDelay(lane: {
  readonly since: number;
  readonly pending: number;
  readonly lastSubmitAt: number;
  readonly now: number;
}): number {
  if (lane.pending >= MAX_BATCH) return 0;
  const due = Math.min(lane.lastSubmitAt + QUIET_MS, lane.since + MAX_GATHER_MS);
  return Math.max(0, due - lane.now);
}

/**
 * Told after each batch what the database's catalog looked like (catalog-watch.ts), from the
 * fingerprints the batch's own snapshots carry: no query of its own.
 */
export interface BatchWatcher {
  /**
   * The catalog before the batch changed anything. A change since the last batch is drift for
   * the Grants of the database that were not in this batch (its snapshot saw it for the rest).
   */
  starting(lane: string, grantKeys: readonly string[], fingerprint: string): void;
  /** The catalog the batch left, and the Grants it served. */
  observed(
    lane: string,
    session: Session,
    database: string,
    grantKeys: readonly string[],
    fingerprint: string,
  ): void;
}

/** A group's settlements, and the first and last catalog fingerprints its snapshots saw. */
interface GroupRun {
  readonly settle: (() => void)[];
  readonly before: string | undefined;
  readonly after: string | undefined;
}

export class GrantBatcher {
  private readonly lanes = new Map<string, Lane>();
  /** When a Grant of any database last came due. */
  private lastSubmitAt = 0;

  constructor(
    private readonly engine: Engine,
    private readonly wrap: EngineCall,
    private readonly watcher?: BatchWatcher,
  ) {}

  /** True while a batch of this lane is gathering or running. */
  busy(lane: string): boolean {
    return this.lanes.get(lane)?.running ?? false;
  }

  /** Reconciles this Grant in the next batch of its database; resolves when that batch is done. */
  submit(session: Session, item: BatchItem): Promise<BatchOutcome> {
    const database = item.parameters.database;
    // Grants through different servers, users or passwords never share a batch.
    const key = JSON.stringify([
      session.connection.host,
      session.connection.port,
      session.connection.user,
      session.connection.credentialsFingerprint,
      database,
    ]);
    const now = Date.now();
    this.lastSubmitAt = now;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { database, pending: [], running: false, since: now };
      this.lanes.set(key, lane);
    }
    const promise = new Promise<BatchOutcome>((resolve, reject) =>
      lane.pending.push({ item, session, resolve, reject }),
    );
    if (!lane.running) {
      // A new lane: a lane is dropped once it has drained.
      lane.running = true;
      this.gather(key, lane);
    }
    return promise;
  }

  /** Waits while the Grants that come due with the lane's first keep coming (gatherDelay), then drains. */
  private gather(key: string, lane: Lane): void {
    const delay = gatherDelay({
      since: lane.since,
      pending: lane.pending.length,
      lastSubmitAt: this.lastSubmitAt,
      now: Date.now(),
    });
    if (delay === 0) void this.drain(key, lane);
    else setTimeout(() => this.gather(key, lane), delay);
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    while (lane.pending.length > 0) await this.runOnConnection(key, lane);
    lane.running = false;
    this.lanes.delete(key);
  }

  /**
   * Batches on one connection: the first is taken once the connection is ours (when the budget is
   * spent on other databases, the Grants that come due while this database waits join it instead
   * of each costing a batch and a connection of their own), and the Grants that come due during a
   * batch make the next one on the same connection, up to BATCHES_PER_CONNECTION. Handing the
   * connection back between them had made way for another database's waiting batch, and this
   * database's next batch opened a new one: a backend started, authenticated and its catalog
   * caches filled cold, nearly once per batch with more databases than --max-connections.
   */
  private async runOnConnection(key: string, lane: Lane): Promise<void> {
    // The newest session: the same server and credentials for every Grant of the lane.
    const session = lane.pending.at(-1)!.session;
    let batch: Pending[] = [];
    try {
      await session.withClient(lane.database, async (client) => {
        for (let n = 0; n < BATCHES_PER_CONNECTION && lane.pending.length > 0; n++) {
          batch = takeBatch(lane);
          await this.runBatch(key, lane.database, session, client, batch);
          batch = [];
        }
      });
    } catch (error) {
      // Connecting failed (the same for every Grant that was waiting for it), or the connection
      // was lost during a batch: its Grants fail; the batches before it are settled.
      if (batch.length === 0) batch = takeBatch(lane);
      for (const p of batch) p.reject(error);
    }
  }

  private async runBatch(
    key: string,
    database: string,
    session: Session,
    client: ApplyClient,
    batch: readonly Pending[],
  ): Promise<void> {
    // Settled once the batch is over and the watcher told: when a Grant's reconcile returns, the
    // drift check already compares against the catalog its apply left.
    const settled: (() => void)[] = [];
    let before: string | undefined;
    let after: string | undefined;
    for (const apply of [true, false]) {
      const group = batch.filter((p) => p.item.apply === apply);
      if (group.length === 0) continue;
      const run = await this.runGroup(client, group, apply);
      settled.push(...run.settle);
      before ??= run.before;
      after = run.after ?? after;
    }
    const keys = batch.map((p) => p.item.name);
    if (before !== undefined) this.watcher?.starting(key, keys, before);
    if (after !== undefined) this.watcher?.observed(key, session, database, keys, after);
    for (const settle of settled) settle();
  }

  /** Reconciles a group; resolves to how each of its Grants is to be settled. */
  private async runGroup(client: ApplyClient, group: readonly Pending[], apply: boolean): Promise<GroupRun> {
    if (group.length > 1) {
      try {
        const together = await this.reconcileTogether(client, group, apply);
        return {
          settle: group.map((p) => () => p.resolve(together.outcomes.get(p.item.name)!)),
          before: together.before,
          after: together.after,
        };
      } catch {
        // One Grant's failure (a refused privilege, a statement error) must not fail the others:
        // each is retried alone below, so only the culprit reports an error, in its own words.
      }
    }
    const settle: (() => void)[] = [];
    let before: string | undefined;
    let after: string | undefined;
    for (const p of group) {
      try {
        const alone = await this.reconcileTogether(client, [p], apply);
        settle.push(() => p.resolve(alone.outcomes.get(p.item.name)!));
        before ??= alone.before;
        after = alone.after ?? after;
      } catch (error) {
        settle.push(() => p.reject(error));
      }
    }
    return { settle, before, after };
  }

  private async reconcileTogether(
    client: ApplyClient,
    group: readonly Pending[],
    apply: boolean,
  ): Promise<{
    outcomes: Map<string, BatchOutcome>;
    before?: string | undefined;
    after?: string | undefined;
  }> {
    const inputs = group.map((p) => ({
      name: p.item.name,
      parameters: p.item.parameters,
      previous: p.item.previous,
    }));
    // A lone Grant's failure is worded as its own; a batch's goes to the retry above.
    const call = (fn: () => Promise<ReconcileResult>) =>
      group.length === 1 ? this.wrap(group[0]!.item, group[0]!.session.scrub, fn) : fn();
    // The fingerprints only when a drift check watches them: they cost a catalog scan per snapshot.
    const fingerprint = this.watcher !== undefined;
    const expectChanges = apply && group.some((p) => p.item.changed);
    const first = await call(() =>
      this.engine(client, inputs, { dryRun: !apply, fingerprint, expectChanges }),
    );
    // After an apply, one more snapshot says what is left (extras additive mode keeps, a racing writer).
    const check = first.applied
      ? await call(() =>
          this.engine(
            client,
            inputs.map((input) => ({ ...input, previous: first.plan.records[input.name] ?? input.previous })),
            { dryRun: true, fingerprint },
          ),
        )
      : first;
    const outcomes = new Map(
      group.map((p) => [
        p.item.name,
        { result: resultOf(first, p.item.name), verified: resultOf(check, p.item.name) },
      ]),
    );
    // The verifying snapshot's fingerprint is the catalog after the apply.
    return { outcomes, before: first.fingerprint, after: check.fingerprint };
  }
}

/**
 * The next batch: up to MAX_BATCH Grants, one per grantee. A second Grant for a grantee already
 * in the batch waits for the next one, so it is reconciled as if alone, as before batching
 * (in one plan, the engine would refuse it as a duplicate).
 */
function takeBatch(lane: Lane): Pending[] {
  const batch: Pending[] = [];
  const rest: Pending[] = [];
  const grantees = new Set<string>();
  for (const p of lane.pending) {
    if (batch.length < MAX_BATCH && !grantees.has(p.item.parameters.grantee)) {
      grantees.add(p.item.parameters.grantee);
      batch.push(p);
    } else {
      rest.push(p);
    }
  }
  lane.pending = rest;
  return batch;
}
