// The reactive drift check (--drift-check): between polls, each database that has Grants is asked
// for its catalog fingerprint (src/grants/fingerprint.ts, one small query) every interval; when it
// differs from the one taken after that database's last batch, its Grants are reconciled at once,
// so an out-of-band REVOKE is restored in seconds instead of at the next --poll. The full poll
// still runs: the fingerprint only says a snapshot is due early.
//
// A database whose batch is running is not checked (its own apply would look like drift), and one
// that was found changed is not checked again until a batch has refreshed its fingerprint. A check
// that cannot connect is skipped quietly: the Grants' own reconciles report connection problems.
import type { Queryable } from '../../grants/observe.js';
import type { Session } from '../session.js';
import type { BatchWatcher } from './batcher.js';

export interface CatalogWatchOptions {
  readonly intervalMs: number;
  readonly fingerprint: (client: Queryable) => Promise<string>;
  /** The database's catalog changed: reconcile these Grants (object keys). */
  readonly onChanged: (grantKeys: readonly string[], database: string) => void;
  /** True while a batch of this lane runs. */
  readonly busy: (lane: string) => boolean;
}

interface Watched {
  readonly session: Session;
  readonly database: string;
  /** After the last batch; undefined once a change was found and its reconciles are due. */
  fingerprint: string | undefined;
  readonly grants: Set<string>;
}

export class CatalogWatch implements BatchWatcher {
  private readonly lanes = new Map<string, Watched>();
  /** Grant key → the lane it was last reconciled in (a Grant that moves database moves lane). */
  private readonly laneOf = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(private readonly options: CatalogWatchOptions) {}

  /**
   * A batch of this lane ran; this is the catalog its first snapshot saw. If it changed since the
   * last batch (a hand REVOKE), the batch records the changed catalog as the new normal and would
   * hide the change from the Grants it did not serve: those are reconciled now.
   */
  starting(lane: string, grantKeys: readonly string[], fingerprint: string): void {
    const watched = this.lanes.get(lane);
    if (!watched || watched.fingerprint === undefined || watched.fingerprint === fingerprint) return;
    watched.fingerprint = undefined;
    const inBatch = new Set(grantKeys);
    const others = [...watched.grants].filter((key) => !inBatch.has(key));
    if (others.length > 0) this.options.onChanged(others, watched.database);
  }

  /** A batch of this lane finished on a connection: the fingerprint it left and the Grants it served. */
  observed(
    lane: string,
    session: Session,
    database: string,
    grantKeys: readonly string[],
    fingerprint: string,
  ): void {
    let watched = this.lanes.get(lane);
    if (!watched) {
      watched = { session, database, fingerprint, grants: new Set() };
      this.lanes.set(lane, watched);
    }
    watched.fingerprint = fingerprint;
    for (const key of grantKeys) {
      const before = this.laneOf.get(key);
      if (before !== undefined && before !== lane) this.drop(key, before);
      this.laneOf.set(key, lane);
      watched.grants.add(key);
    }
    this.timer ??= setInterval(() => void this.check(), this.options.intervalMs).unref();
  }

  /** The Grant is gone, or reconciled elsewhere. */
  forget(key: string): void {
    const lane = this.laneOf.get(key);
    if (lane !== undefined) this.drop(key, lane);
    this.laneOf.delete(key);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private drop(key: string, lane: string): void {
    const watched = this.lanes.get(lane);
    watched?.grants.delete(key);
    if (watched && watched.grants.size === 0) this.lanes.delete(lane);
    if (this.lanes.size === 0) this.stop();
  }

  /** One pass over the databases, one at a time: a check is never more than one connection. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const [lane, watched] of [...this.lanes]) {
        if (watched.fingerprint === undefined || this.options.busy(lane)) continue;
        const before = watched.fingerprint;
        let now: string;
        try {
          now = await watched.session.withClient(watched.database, (client) =>
            this.options.fingerprint(client),
          );
        } catch {
          continue;
        }
        // A batch may have refreshed it meanwhile; only a change from what that left counts.
        if (watched.fingerprint !== before || now === before || this.options.busy(lane)) continue;
        watched.fingerprint = undefined;
        this.options.onChanged([...watched.grants], watched.database);
      }
    } finally {
      this.checking = false;
    }
  }
}
