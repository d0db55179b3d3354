import { execFileSync } from 'node:child_process';

// Tests that spawn the CLI or the servers run the compiled program, as users do.
// Build once per run so they never exercise a stale dist/.
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
