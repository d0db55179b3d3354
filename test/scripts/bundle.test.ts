// What scripts/bundle-options.mjs promises about the bundled program: Node builtins are loaded
// with require(), so the provider never pays for parts of Node it does not use.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_OPTIONS } from '../../scripts/bundle-options.mjs';

const dir = mkdtempSync(join(tmpdir(), 'pgplane-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Printed as the process exits: the internal modules Node loaded that the provider must not need
// (it speaks HTTP/2 to the API server, so http2 is no longer one of them).
const REPORT = join(dir, 'report.cjs');
writeFileSync(
  REPORT,
  `process.on('exit', () => require('node:fs').writeSync(2, '\\nLOADED ' + JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m))) + '\\n'));\n`,
);

function loadedBy(args: string[]): string[] {
  const { stderr } = spawnSync(process.execPath, ['--require', REPORT, ...args], { encoding: 'utf8' });
  const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
  return JSON.parse(line!.slice('LOADED '.length)) as string[];
}

describe('bundled builtins', () => {
  it('imports by name resolve, getters included, and read nothing else', async () => {
    // util.parseArgs is a lazy getter on Node 20; http.WebSocket is one on Node 22+ (it loads undici).
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { request } from 'node:http';\nimport { parseArgs } from 'node:util';\nimport * as os from 'node:os';\nconsole.log(typeof request, typeof parseArgs, typeof os.hostname);\n`,
    );
    const outfile = join(dir, 'entry.mjs');
    await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile });
    expect(execFileSync(process.execPath, [outfile], { encoding: 'utf8' }).trim()).toBe(
      'function function function',
    );
    expect(loadedBy([outfile])).toEqual([]);
  });

  // On Node 20, pg's Cloudflare probe reads the global Response (it loads undici); Node 21+ has a
  // navigator that answers the probe first, and the image ships Node 24.
  it.runIf('navigator' in globalThis)(
    '`serve provider` does not load undici (Node 21+; Node 20 loads it for the runtime probe of pg)',
    () => {
      expect(loadedBy(['dist/cli/main.js', 'serve', 'provider', '--help'])).toEqual([]);
    },
  );
});
