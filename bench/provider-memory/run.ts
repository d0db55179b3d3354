// Where the grants provider's resident memory goes before it reads a Grant, part by part, on the
// Node and flags of the provider image: a bare Node, the builtins pgplane's own code requires,
// each library as the provider uses it, pgplane's API schemas, and the whole bundle loaded. Each
// part is bundled as dist/cli is (scripts/bundle-options.mjs) and run --trials times; the table
// has the median peak RSS (VmHWM) and what the part adds to the builtins. Then V8's schedule for
// full GCs under those flags: how far the old generation may grow past what a full GC left
// alive, read from --trace-gc-verbose, for a few live sizes. Method and results: bench/README.md,
// "Provider memory". Never fails on the numbers.
//
//   npm run bench:provider-memory -- [--trials 5] [--node <binary>] [--node-args="..."]
//     (defaults: the Node major and the node flags of the Dockerfile's provider image)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../../scripts/bundle-options.mjs';
import { imageCommand } from '../../test/support/dockerfile.js';
import { imageNode } from '../../test/support/image-node.js';
import { bundleProvider } from '../provider-peers/bundle.js';
import { median } from '../support/stats.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MARK = 'pgplane-memory ';

interface Memory {
  /** VmHWM: the peak resident set, what the peers bench compares. */
  readonly peakMiB: number;
  /** RssFile at exit: pages of files, nearly all of them the node binary's. */
  readonly fileMiB: number;
}

/** A part: the code an entry runs after requiring the provider's builtins. */
interface Part {
  readonly label: string;
  readonly code: string;
}

const PARTS: readonly Part[] = [
  { label: 'pg (a Pool)', code: `import pg from 'pg'; keep(new pg.Pool());` },
  {
    label: 'prom-client (a registry and the metric types)',
    code: `import { Counter, Gauge, Histogram, Registry } from 'prom-client'; keep([Counter, Gauge, Histogram, new Registry()]);`,
  },
  {
    label: 'prom-client with its default metrics',
    code: `import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
const registry = new Registry(); collectDefaultMetrics({ register: registry }); keep([Counter, Gauge, Histogram, registry]);`,
  },
  {
    label: 'pino (a logger)',
    code: `import { pino } from 'pino'; keep(pino({ level: 'info' }));`,
  },
  { label: 'yaml (a parse)', code: `import { parse } from 'yaml'; keep(parse('a: 1'));` },
  {
    label: "zod/mini and pgplane's API schemas (Grant, Role, Database, ProviderConfig)",
    code: ['grant', 'role', 'database', 'provider-config']
      .map(
        (name, i) =>
          `import * as api${i} from ${JSON.stringify(join(root, `src/api/${name}.ts`))}; keep(api${i});`,
      )
      .join('\n'),
  },
];

/** Reads this process's memory at exit and prints it on stderr; preloaded with `-r`. */
const REPORTER = `process.on('exit', () => {
  const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(status)[1]);
  process.stderr.write(${JSON.stringify(MARK)} + JSON.stringify({ peakMiB: kib('VmHWM') / 1024, fileMiB: kib('RssFile') / 1024 }) + '\\n');
});
`;

function measure(
  node: string,
  nodeArgs: readonly string[],
  reporter: string,
  program: readonly string[],
): Memory {
  const run = spawnSync(node, [...nodeArgs, '-r', reporter, ...program], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const line = run.stderr.split('\n').find((l) => l.startsWith(MARK));
  if (run.status !== 0 || !line)
    throw new Error(`${program.join(' ')} exited ${run.status}:\n${run.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(MARK.length)) as Memory;
}

function medianOf(trials: number, once: () => Memory): Memory {
  const runs = Array.from({ length: trials }, once);
  return { peakMiB: median(runs.map((r) => r.peakMiB)), fileMiB: median(runs.map((r) => r.fileMiB)) };
}

/**
 * The builtins pgplane's own code loads: the bundle's `require("node:…")` calls
 * (scripts/bundle-options.mjs). The libraries' own `require("events")`-style calls are theirs, and
 * count in their rows.
 */
function builtinsOf(bundle: string): string[] {
  return [
    ...new Set(
      [...readFileSync(bundle, 'utf8').matchAll(/require\("(node:[a-z0-9_/]+)"\)/g)].map((m) => m[1]!),
    ),
  ].sort();
}

async function bundlePart(
  dir: string,
  name: string,
  builtins: readonly string[],
  code: string,
): Promise<string> {
  const entry = join(dir, `${name}.ts`);
  writeFileSync(
    entry,
    `${builtins.map((b) => `import ${JSON.stringify(b)};`).join('\n')}
// What a part builds stays reachable, as the provider's own objects do.
const kept: unknown[] = [];
const keep = (value: unknown): void => void kept.push(value);
${code}
`,
  );
  const outfile = join(dir, `${name}.mjs`);
  await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile, nodePaths: [join(root, 'node_modules')] });
  return outfile;
}

/**
 * V8's allocation limits after full GCs, under the given flags, for a program that keeps `liveMiB`
 * alive and allocates garbage that lives long enough to reach the old generation (the last
 * 1 MiB of it is kept): [old generation size after the GC, the limit it set] in MiB. What a full
 * GC leaves includes that garbage and what was allocated while it marked, so it is more than the
 * probe keeps; the growth allowed is the point.
 */
function gcLimits(node: string, nodeArgs: readonly string[], liveMiB: number): Array<[number, number]> {
  const program = `const live = []; for (let i = 0; i < ${liveMiB} * 16; i++) live.push(new Array(8192).fill(i));
const recent = []; for (let i = 0; i < 4000; i++) recent[i % 16] = new Array(8192).fill(i);`;
  const run = spawnSync(node, [...nodeArgs, '--trace-gc-verbose', '-e', program], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the GC probe exited ${run.status}:\n${run.stderr.slice(-2000)}`);
  return [...run.stdout.matchAll(/\[HeapController\] Limit: old size: (\d+) KB, new limit: (\d+) KB/g)].map(
    (m) => [Number(m[1]) / 1024, Number(m[2]) / 1024],
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '5' },
      node: { type: 'string' },
      'node-args': { type: 'string' },
    },
  });
  const trials = Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1)
    throw new Error(`--trials: a whole number ≥ 1, e.g. --trials 5`);
  const node = values.node ?? imageNode(root, 'provider');
  const nodeArgs =
    values['node-args'] !== undefined
      ? values['node-args'].split(' ').filter(Boolean)
      : imageCommand(root, 'provider').nodeFlags;
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();

  const dir = mkdtempSync(join(tmpdir(), 'pgplane-provider-memory-'));
  try {
    const reporter = join(dir, 'reporter.cjs');
    writeFileSync(reporter, REPORTER);
    const provider = await bundleProvider(root, dir);
    const builtins = builtinsOf(provider);
    const bare = medianOf(trials, () => measure(node, nodeArgs, reporter, ['-e', '0']));
    const base = await bundlePart(dir, 'builtins', builtins, '');
    const floor = medianOf(trials, () => measure(node, nodeArgs, reporter, [base]));
    const rows: Array<[string, Memory]> = [
      ['Node, nothing loaded (`-e 0`)', bare],
      [`the builtins pgplane's code requires (${builtins.map((b) => b.slice(5)).join(', ')})`, floor],
    ];
    for (const [i, part] of PARTS.entries()) {
      const bundle = await bundlePart(dir, `part-${i}`, builtins, part.code);
      rows.push([`+ ${part.label}`, medianOf(trials, () => measure(node, nodeArgs, reporter, [bundle]))]);
    }
    const whole = medianOf(trials, () => measure(node, nodeArgs, reporter, [provider, '--help']));
    rows.push(["the provider's bundle, loaded (`--help`)", whole]);

    const mib = (n: number) => n.toFixed(1);
    const lines = [
      `## The provider at rest: ${version}, ${nodeArgs.join(' ') || 'no flags'}; medians of ${trials}`,
      '',
      '| part | peak RSS (MiB) | of which file-backed (MiB) | above the builtins (MiB) |',
      '| --- | --- | --- | --- |',
      ...rows.map(
        ([label, m], i) =>
          `| ${label} | ${mib(m.peakMiB)} | ${mib(m.fileMiB)} | ${i < 2 ? '' : `${m.peakMiB >= floor.peakMiB ? '+' : ''}${mib(m.peakMiB - floor.peakMiB)}`} |`,
      ),
      '',
      '## V8 full-GC schedule under the same flags (`--trace-gc-verbose`)',
      '',
      '| the probe keeps | old generation after a full GC (MiB) | next full GC starts at (MiB) | growth allowed (MiB) |',
      '| --- | --- | --- | --- |',
    ];
    for (const live of [4, 16, 32]) {
      const limits = gcLimits(node, nodeArgs, live);
      const last = limits.at(-1);
      lines.push(
        last
          ? `| ${live} MiB | ${mib(last[0])} | ${mib(last[1])} | ${mib(last[1] - last[0])} |`
          : `| ${live} MiB | (no full GC ran) | | |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
