// A grants engine stand-in for tests of batching: every Grant is already in sync (an empty plan,
// nothing applied), and each call is recorded as the Grant names it was given, so a test can see
// how the Grants were batched without a database.
import type { ApplyClient, GrantInput, ReconcileResult } from '../../../src/grants/index.js';

export function inSyncEngine(batches: string[][]) {
  return async (_client: ApplyClient, input: readonly GrantInput[]): Promise<ReconcileResult> => {
    batches.push(input.map((g) => g.name));
    const database = input[0]!.parameters.database;
    return {
      database,
      plan: { database, statements: [], drift: [], records: {}, problems: [] },
      applied: false,
      roundTrips: 1,
    };
  };
}
