// 500 Grants across 20 databases on a real kube-apiserver and the machine's PostgreSQL: every
// Grant converges, and the provider never holds more than --pool-size connections in any one
// database (sampled from pg_stat_activity). The same run is `node --import tsx bench/provider/run.ts`.
import { describe, expect, it } from 'vitest';
import { runProviderBench } from '../../bench/provider/run.js';

describe('grants provider at scale', () => {
  it(
    '500 Grants across 20 databases converge within the per-database connection bound',
    async () => {
      const result = await runProviderBench({
        grants: 500,
        databases: 20,
        poolSize: 2,
        concurrency: 16,
        log: () => undefined,
      });
      expect(result).toMatchObject({ grants: 500, converged: 500, verified: true });
      expect(result.samples).toBeGreaterThan(10);
      expect(result.maxConnectionsPerDatabase).toBeGreaterThan(0);
      expect(result.maxConnectionsPerDatabase).toBeLessThanOrEqual(2);
    },
    30 * 60_000,
  );
});
