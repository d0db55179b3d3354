// pgplane's grants provider as one bundle, built as dist/cli is (scripts/bundle-options.mjs), for
// the benches that run it the way the provider image does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../../scripts/bundle-options.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Bundles `src/provider/main.ts` of a checkout (this one or another, e.g. before a change) into
 * `dir/provider.mjs`, a program that takes the provider's arguments; returns its path.
 */
export async function bundleProvider(src: string, dir: string): Promise<string> {
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { runProvider } from ${JSON.stringify(join(src, 'src/provider/main.ts'))};
const io = { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) };
process.exitCode = await runProvider(process.argv.slice(2), io);
`,
  );
  const outfile = join(dir, 'provider.mjs');
  await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile, nodePaths: [join(root, 'node_modules')] });
  return outfile;
}
