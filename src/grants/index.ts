// The grants engine: observe → plan → apply for the Grants of one database.
// The provider's controller and the CLI both call reconcile(); the pieces are exported for
// callers that need them apart (plan without a database, custom drift reporting).
import type { GrantParameters } from '../api/grant.js';
import { applyPlan, type ApplyClient, type ApplyOptions } from './apply.js';
import { observe, type Snapshot } from './observe.js';
import { planGrants, planOf, type Plan } from './plan.js';
import type { GrantRecord } from './record.js';
import { normalisePolicy, snapshotScope } from './spec.js';

export { type GrantParameters } from '../api/grant.js';
export { ApplyError, type ApplyClient } from './apply.js';
export { type Plan, type Statement } from './plan.js';
export type { GrantRecord } from './record.js';
/** One Grant to reconcile: its name (for plans, drift and records), its parameters, its last record. */
export interface GrantInput {
  readonly name: string;
  readonly parameters: GrantParameters;
  /** The record returned by the previous reconcile; additive mode revokes only what it lists. */
  readonly previous?: GrantRecord | undefined;
}

export interface ReconcileOptions extends ApplyOptions {
  /** Observe and plan only (management policy Observe, `pgplane grants plan`). */
  readonly dryRun?: boolean;
  /** Take the catalog fingerprint with the first snapshot (the provider's drift check). */
  readonly fingerprint?: boolean;
  /**
   * The Grants are new or changed, so the snapshot will almost surely find work: skip the
   * unlocked snapshot a no-op is answered by and observe under the lock at once. One catalog read
   * fewer per apply; a no-op then costs the lock (two round trips instead of one).
   */
  readonly expectChanges?: boolean;
}

export interface ReconcileResult {
  readonly database: string;
  /** The statements applied (or, in a dry run, that would be), with drift, problems and new records. */
  readonly plan: Plan;
  /** True when statements were committed. */
  readonly applied: boolean;
  /**
   * Queries sent: 1 for a no-op or dry run, 4 when something was applied (observe, lock and
   * re-observe, statements, COMMIT); with expectChanges 2 for a no-op and 3 for an apply.
   */
  readonly roundTrips: number;
  /** With options.fingerprint: the catalog fingerprint of the first snapshot, before anything was applied. */
  readonly fingerprint?: string | undefined;
}

/**
 * Reconciles the Grants of ONE database over `client` (connected to that database). A no-op is
 * a single query: the snapshot. Throws ApplyError when applying fails (everything rolled back),
 * including when the server refuses a privilege with a warning rather than an error.
 */
export async function reconcile(
  client: ApplyClient,
  grants: readonly GrantInput[],
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const databases = [...new Set(grants.map((g) => g.parameters.database))];
  if (databases.length > 1)
    throw new Error(
      `reconcile() takes the Grants of one database; got ${databases.map((d) => `"${d}"`).join(', ')}`,
    );
  const policies = grants.map((g) => normalisePolicy(g.name, g.parameters));
  const previous = Object.fromEntries(grants.map((g) => [g.name, g.previous]));
  const scope = {
    ...snapshotScope(
      policies,
      grants.map((g) => g.previous),
    ),
    fingerprint: options.fingerprint ?? false,
  };
  const expected = databases[0];
  const replan = (fresh: Snapshot): Plan => {
    if (expected !== undefined && fresh.database !== expected)
      throw new Error(`the Grants name database "${expected}" but the connection is to "${fresh.database}"`);
    return planGrants(policies, fresh, previous);
  };
  if (options.expectChanges && !options.dryRun && expected !== undefined) {
    // Under the lock at once, the fingerprint taken there: still the catalog before the apply.
    const applied = await applyPlan(client, expected, scope, replan, options);
    return {
      database: expected,
      plan: applied.plan,
      applied: applied.plan.statements.length > 0,
      roundTrips: applied.roundTrips,
      fingerprint: applied.fingerprint,
    };
  }
  const snapshot = await observe(client, scope);
  const plan = replan(snapshot);
  const fingerprint = snapshot.fingerprint;
  if (options.dryRun || plan.statements.length === 0)
    return { database: snapshot.database, plan, applied: false, roundTrips: 1, fingerprint };
  const applied = await applyPlan(
    client,
    snapshot.database,
    // Inside the locked transaction only what the plan needs: the fingerprint was taken above.
    { ...scope, fingerprint: false },
    replan,
    options,
  );
  return {
    database: snapshot.database,
    plan: applied.plan,
    applied: applied.plan.statements.length > 0,
    roundTrips: 1 + applied.roundTrips,
    fingerprint,
  };
}

/** What a reconcile of several Grants did for one of them (its statements, drift, problems, record). */
export function resultOf(result: ReconcileResult, name: string): ReconcileResult {
  const plan = planOf(result.plan, name);
  return { ...result, plan, applied: result.applied && plan.statements.length > 0 };
}
