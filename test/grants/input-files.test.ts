// What `pgplane grants` and `pgplane render` say about input files that are not what they
// should be: a Grant file with no Grant, a YAML alias bomb, binary data, a garbled document.
// Every error names the file, fits on a line or two, and never echoes the file's content.
// No database is needed: the files are refused before anything connects.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/app.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const grant = `apiVersion: grants.pgplane.io/v1alpha1
kind: Grant
metadata: {name: reader}
spec:
  forProvider: {database: app, grantee: reader, databasePrivileges: [CONNECT]}
`;

/** 10 levels of 10 aliases: 10^10 nodes once expanded. */
function aliasBomb(): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++)
    lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

/** UTF-8 text that is not YAML on many long lines: each line of it is a YAML error. */
function garbledText(): string {
  const line = (n: number) => `key${n} {[: ${'z'.repeat(3000)} ]]] : : "`;
  return `${Array.from({ length: 30 }, (_, n) => line(n)).join('\n')}\n`;
}

describe('input files that are not Grants or not YAML', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  const DB = ['--database-url', 'postgresql://nobody@127.0.0.1:1/app'];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pgplane-input-'));
    await writeFile(file('grant.yaml'), grant);
    await writeFile(file('configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await writeFile(file('empty.yaml'), '# nothing here\n');
    await writeFile(file('bomb.yaml'), aliasBomb());
    await writeFile(file('random.bin'), randomBytes(64 * 1024));
    await writeFile(file('manifests.yaml.gz'), gzipSync(Buffer.from(grant.repeat(200))));
    // Invalid UTF-8 without a NUL byte.
    await writeFile(
      file('latin1.yaml'),
      Buffer.from([0x6b, 0x3a, 0x20, 0xe9, 0xe8, 0x0a].concat(Array(5000).fill(0xff))),
    );
    await writeFile(file('garbled.yaml'), garbledText());
  });

  it('a Grant file with no Grant is an error naming each such file', async () => {
    const result = await run([
      'grants',
      'apply',
      '-f',
      file('grant.yaml'),
      '-f',
      file('configmap.yaml'),
      '-f',
      file('empty.yaml'),
      ...DB,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `no Grant documents in ${file('configmap.yaml')} (found ConfigMap); ${file('empty.yaml')} (no documents): each -f file must hold at least one document with apiVersion: grants.pgplane.io/v1alpha1 and kind: Grant\n`,
    );
  });

  it.each([
    ['grants plan', (f: string) => ['grants', 'plan', '-f', f, ...DB]],
    ['render', (f: string) => ['render', f]],
  ])('%s: a YAML alias bomb is refused naming the file', async (_command, argv) => {
    const result = await run(argv(file('bomb.yaml')));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file('bomb.yaml')} document 1: invalid YAML: `);
    expect(result.stderr).toMatch(/alias/i);
  });

  it.each([
    ['random.bin', /not a YAML file: binary data \(a NUL byte at offset \d+\)/],
    ['manifests.yaml.gz', /not a YAML file: (binary data|not UTF-8 text)/],
    ['latin1.yaml', /not a YAML file: not UTF-8 text/],
    ['garbled.yaml', /document 1: invalid YAML: .* \(and \d+ more errors\)/],
  ])('%s: one bounded line naming the file, none of its content', async (name, reason) => {
    for (const argv of [
      ['grants', 'plan', '-f', file(name), ...DB],
      ['render', file(name)],
    ]) {
      const result = await run(argv);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(file(name));
      expect(result.stderr).toMatch(reason);
      expect(result.stderr.length).toBeLessThan(file(name).length + 400);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toContain('zzzzzzzzzz');
    }
  });

  it('a Grant quoting a huge value back stays a few bounded lines', async () => {
    const huge = 'Z'.repeat(100_000);
    await writeFile(
      file('huge.yaml'),
      grant.replace(
        'databasePrivileges: [CONNECT]',
        `tables: [{schema: public, objects: [orders], privileges: [${huge}]}]`,
      ),
    );
    const result = await run(['grants', 'plan', '-f', file('huge.yaml'), ...DB]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file('huge.yaml')} document 1`);
    expect(result.stderr.length).toBeLessThan(2_000);
    for (const line of result.stderr.split('\n')) expect(line.length).toBeLessThanOrEqual(300);
  });

  it('a folder is read like the files in it', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'pgplane-input-dir-'));
    await writeFile(path.join(folder, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    const result = await run(['grants', 'plan', '-f', folder, ...DB]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no Grant documents in ${folder} (found ConfigMap)`);
  });
});
