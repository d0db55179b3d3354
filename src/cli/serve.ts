// `pgplane serve function|provider`: the long-running programs. Each is loaded only when it is
// the one served, so neither process carries the other's libraries.
import type { ProgramFiles } from './program-files.js';
import type { CliIo } from '../shared/io.js';

export const SERVE_USAGE = `Usage: pgplane serve <function|provider> [flags]

  function   The composition function: gRPC RunFunction for Crossplane (see 'pgplane serve function --help').
  provider   The grants provider.
`;

export async function serveCommand(argv: string[], io: CliIo, files: ProgramFiles = {}): Promise<number> {
  const [what, ...rest] = argv;
  switch (what) {
    case 'function':
      return (await import('./serve-function.js')).serveFunction(
        rest,
        io,
        files.functionWorker ? { functionWorker: files.functionWorker } : {},
      );
    case 'provider':
      return (await import('../provider/main.js')).runProvider(rest, io);
    case '-h':
    case '--help':
      io.stdout(SERVE_USAGE);
      return 0;
    default:
      io.stderr(
        `pgplane serve: ${what === undefined ? 'say what to serve' : `unknown program "${what}"`}\n\n${SERVE_USAGE}`,
      );
      return 2;
  }
}
