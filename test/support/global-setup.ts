import { execFileSync } from 'node:child_process';

// Tests that spawn the CLI or the servers run the built program, as users do: tsc's output plus
// the bundled entry point (scripts/bundle.mjs). Build once per run so they never run a stale dist/.
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });
}
