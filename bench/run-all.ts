// `npm run bench`: every benchmark, one after the other, each in its own process so that one
// bench's memory and JIT state do not colour the next. A bench that is missing is skipped, one
// that fails is reported and the others still run. Benches print their own tables and never
// fail on their numbers; the exit code is non-zero only when a bench could not run to the end.
//
//   node --import tsx bench/run-all.ts
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const NAMED = ['function', 'grants', 'peers'];
// The named benches first, in that order, then any other bench/<name>/run.ts.
const BENCHES = [
  ...NAMED,
  ...readdirSync(join(root, 'bench'), { withFileTypes: true })
    .filter(
      (d) => d.isDirectory() && !NAMED.includes(d.name) && existsSync(join(root, 'bench', d.name, 'run.ts')),
    )
    .map((d) => d.name)
    .sort(),
];

interface Outcome {
  bench: string;
  status: 'ok' | 'missing' | 'failed';
  seconds: number;
  detail?: string;
}

const outcomes: Outcome[] = [];
for (const bench of BENCHES) {
  const script = join(root, 'bench', bench, 'run.ts');
  if (!existsSync(script)) {
    outcomes.push({ bench, status: 'missing', seconds: 0 });
    continue;
  }
  process.stdout.write(`\n=== bench/${bench} ===\n`);
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: 'inherit' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) outcomes.push({ bench, status: 'failed', seconds, detail: result.error.message });
  else if (result.status !== 0)
    outcomes.push({
      bench,
      status: 'failed',
      seconds,
      detail: result.signal ? `signal ${result.signal}` : `exit ${result.status}`,
    });
  else outcomes.push({ bench, status: 'ok', seconds });
}

process.stdout.write('\n=== summary ===\n');
for (const o of outcomes) {
  const what = o.status === 'missing' ? 'skipped (no run.ts)' : `${o.status} in ${o.seconds.toFixed(0)}s`;
  process.stdout.write(`bench/${o.bench}: ${what}${o.detail ? ` (${o.detail})` : ''}\n`);
}
process.exit(outcomes.some((o) => o.status === 'failed') ? 1 : 0);
