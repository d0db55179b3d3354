#!/usr/bin/env node
// Bundles the pgplane program into dist/cli/main.js and dist/cli/function-worker.js (replacing
// tsc's entry files), with each command in its own lazily loaded chunk.
//
// Why: Node 20 spends most of `serve function`'s start-up resolving and compiling hundreds of small
// ES modules (grpc-js, pino, zod, the SDK). One bundle starts in about two thirds of the time
// (bench/peers measures it), which matters when Crossplane restarts or scales the function.
// Tests, the Dockerfile and `npm run render` all run this same file.
import { build } from 'esbuild';

await build({
  // The worker threads' entry file beside main.js, where main.ts looks for it.
  entryPoints: { main: 'src/cli/main.ts', 'function-worker': 'src/cli/function-worker.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __pgplaneCreateRequire } from 'node:module'; const require = __pgplaneCreateRequire(import.meta.url);",
  },
  // Optional native bindings the libraries probe for at run time; never installed here.
  external: ['pg-native', 'cpu-features', 'ssh2'],
  logLevel: 'warning',
});
