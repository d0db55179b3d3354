import { defineConfig } from 'vitest/config';

// The conformance suites drive real peer tools (the Crossplane CLI, kube-apiserver) and take minutes.
export default defineConfig({
  test: {
    include: ['test/conformance/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
