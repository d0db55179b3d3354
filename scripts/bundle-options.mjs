// The esbuild options every pgplane bundle shares: dist/cli (scripts/bundle.mjs, what the images
// run) and the benches that bundle another checkout's provider the same way.
export const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // V8 keeps a module's source text for lazy compilation, as two-byte text if one character is
  // outside Latin-1: ASCII escapes and no whitespace or comments (libraries' comments carry
  // such characters) keep it small. The source maps say where a stack frame was.
  charset: 'ascii',
  minifyWhitespace: true,
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __pgplaneCreateRequire } from 'node:module'; const require = __pgplaneCreateRequire(import.meta.url);",
  },
  // Optional native bindings the libraries probe for at run time; never installed here.
  external: ['pg-native', 'cpu-features', 'ssh2'],
  logLevel: 'warning',
};
