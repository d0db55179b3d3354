// The esbuild options every pgplane bundle shares: dist/cli (scripts/bundle.mjs, what the images
// run) and the benches that bundle another checkout's provider the same way.
import { builtinModules } from 'node:module';

const BUILTIN = new RegExp(`^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);

/**
 * Node builtins imported with `import` are loaded with require() instead.
 *
 * Why: to build an ES module namespace for a builtin, Node reads every one of its exports, lazy
 * getters included. On Node 22+ `node:http` has getters for WebSocket, CloseEvent and
 * MessageEvent, so `import … from 'node:http'` loads undici, which nothing here uses
 * (13 MiB resident in a bare script; `node:crypto` likewise loads WebCrypto, `node:fs` the
 * promises API). Behind a CommonJS module, esbuild reads an imported name where it is used, and
 * nothing else. test/scripts/bundle.test.ts holds the line.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: BUILTIN }, (args) =>
      args.kind === 'import-statement' || args.kind === 'dynamic-import'
        ? { path: args.path.replace(/^node:/, ''), namespace: 'builtin' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

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
  plugins: [builtinsThroughRequire],
  // Optional native bindings the libraries probe for at run time; never installed here.
  external: ['pg-native', 'cpu-features', 'ssh2'],
  logLevel: 'warning',
};
