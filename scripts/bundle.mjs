#!/usr/bin/env node
// Bundles the pgplane program into dist/cli/main.js and dist/cli/function-worker.js (replacing
// tsc's entry files), with each command in its own lazily loaded chunk.
//
// Why: Node 20 spends most of `serve function`'s start-up resolving and compiling hundreds of small
// ES modules (grpc-js, pino, zod, the SDK). One bundle starts in about two thirds of the time
// (bench/peers measures it), which matters when Crossplane restarts or scales the function.
// Tests, the Dockerfile and `npm run render` all run this same file.
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from './bundle-options.mjs';

await build({
  ...BUNDLE_OPTIONS,
  // The worker threads' entry file beside main.js, where main.ts looks for it.
  entryPoints: { main: 'src/cli/main.ts', 'function-worker': 'src/cli/function-worker.ts' },
  outdir: 'dist/cli',
  splitting: true,
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
});
