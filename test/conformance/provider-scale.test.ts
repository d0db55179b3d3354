// Grants across more databases than the provider's connection budget, on a real kube-apiserver
// and the machine's PostgreSQL: every Grant becomes Ready, the catalog holds exactly what each
// Grant declares, and the provider never holds more connections than --max-connections in all
// (nor --pool-size in any one database), sampled from pg_stat_activity. Correctness only: how
// fast is bench/ (`npm run bench:provider-peers`).
import { describe, expect, it } from 'vitest';
import { runProviderBench } from '../../bench/provider/run.js';

describe('grants provider at scale', () => {
  it(
    '500 Grants across 20 databases are Ready and exact within a budget of 6 connections',
    async () => {
      // 6 < 20 databases: the budget is shared, idle connections make way for other databases.
      const result = await runProviderBench({
        grants: 500,
        databases: 20,
        poolSize: 2,
        maxConnections: 6,
        concurrency: 50,
        log: () => undefined,
      });
      expect(result).toMatchObject({ grants: 500, converged: 500, verified: true });
      expect(result.samples).toBeGreaterThan(10);
      expect(result.maxConnectionsTotal).toBeGreaterThan(0);
      expect(result.maxConnectionsTotal).toBeLessThanOrEqual(6);
      expect(result.maxConnectionsPerDatabase).toBeLessThanOrEqual(2);
    },
    30 * 60_000,
  );
});
