// Rewrites test/conformance/expected/*.yaml from what `crossplane render` produces now, by
// running the conformance test with UPDATE_EXPECTED=1. Review the diff before committing it:
// these files are the reviewed contract the conformance suite holds every change to.
//
//   node --import tsx scripts/update-render-expectations.ts
import { spawnSync } from 'node:child_process';

if (process.env['CI']) {
  console.error('update-render-expectations: refusing to rewrite expectations in CI');
  process.exit(1);
}

const result = spawnSync(
  'npx',
  ['vitest', 'run', '--config', 'vitest.conformance.config.ts', 'test/conformance/crossplane-render.test.ts'],
  { stdio: 'inherit', env: { ...process.env, UPDATE_EXPECTED: '1' } },
);
if (result.status === 0) {
  // Written as `yaml` prints them; formatted like the rest of the repository so lint passes.
  spawnSync('npx', ['prettier', '--write', 'test/conformance/expected'], { stdio: 'inherit' });
  console.error(
    'update-render-expectations: done; review `git diff test/conformance/expected` before committing',
  );
}
process.exit(result.status ?? 1);
