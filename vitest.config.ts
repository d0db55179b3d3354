import { defineConfig } from 'vitest/config';

// The unit, gRPC, schema and PostgreSQL suites: what `npm test` runs.
// The Crossplane CLI conformance suite is slower and lives in vitest.conformance.config.ts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/conformance/**', 'node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
