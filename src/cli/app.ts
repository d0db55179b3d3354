// pgplane: one binary for the composition function, the grants provider and local tooling.
// Each command is imported when it runs: `serve function` must start fast and small, without
// loading the PostgreSQL driver, the YAML parser or the grants engine it never uses.
import type { CliIo } from '../shared/io.js';
import type { ProgramFiles } from './program-files.js';

const USAGE = `Usage: pgplane <command> [flags]

Commands:
  render <xr.yaml>        Render a PostgresInstance locally (no cluster, no Docker).
  grants plan|apply       Plan or apply declared privileges against PostgreSQL.
  serve function|provider Run the composition function (gRPC) or the grants provider.

Run 'pgplane <command> --help' for a command's flags.`;

export async function main(argv: string[], io: CliIo, files: ProgramFiles = {}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'render':
        return (await import('./render.js')).renderCommand(rest, io);
      case 'grants':
        return await (await import('./grants.js')).grantsCommand(rest, io);
      case 'serve':
        return await (await import('./serve.js')).serveCommand(rest, io, files);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`pgplane: unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    io.stderr(`pgplane ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
