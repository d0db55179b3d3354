#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that npm left out.
//
// Why: the registry mirror our machines use serves only the packages for this platform. `npm install`
// then records no entry for, say, @rollup/rollup-darwin-arm64, and `npm ci` refuses the lock as
// "out of sync". An entry with the version, `optional: true` and the os/cpu read from the package's
// name lets `npm ci` skip those packages here and install them on the platforms that need them.
//
// Run after any dependency change: `npm install && node scripts/complete-lockfile.mjs`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const OS_NAMES = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'openharmony',
];
const CPU_NAMES = ['x64', 'arm64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'];

function missingPackages() {
  try {
    execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts'], { stdio: 'pipe' });
    return [];
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    return [...new Set([...output.matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((m) => m[1]))];
  }
}

function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = OS_NAMES.find((candidate) => tokens.includes(candidate));
  const cpu = CPU_NAMES.find((candidate) => tokens.includes(candidate));
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}) };
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const missing = missingPackages();
for (const name of missing) {
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = entry.optionalDependencies?.[name];
    if (!range) continue;
    const hoisted = `node_modules/${name}`;
    const key = lock.packages[hoisted] ? `${path ? `${path}/` : ''}node_modules/${name}` : hoisted;
    if (lock.packages[key]) continue;
    lock.packages[key] = {
      version: range.replace(/^[\^~=]/, ''),
      optional: true,
      ...(entry.dev ? { dev: true } : {}),
      ...platformOf(name),
    };
  }
}
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`completed ${missing.length} optional platform package(s) in package-lock.json\n`);
