// `pgplane serve function`: flags → options (src/function/server/options.ts), logger, signals,
// exit codes. Its own module, loaded only to serve the function: `serve provider` never loads
// grpc-js or the function's server (about 11 MiB of the provider's resident memory).
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { serverCredentials, TlsConfigError } from '../function/server/credentials.js';
import { defaultWorkers, usableCpus } from '../function/server/cpus.js';
import { functionLogger } from '../function/server/logger.js';
import { WorkerStartError } from '../function/server/worker-pool.js';
import { parseServeFunctionArgs, SERVE_FUNCTION_USAGE } from '../function/server/options.js';
import { BindError, startFunctionServer, type RunningFunctionServer } from '../function/server/server.js';
import type { CliIo } from '../shared/io.js';

export interface ServeFunctionHooks {
  env?: Readonly<Record<string, string | undefined>>;
  /** Aborting it stops the server as SIGTERM does (tests that run in-process). */
  signal?: AbortSignal;
  /** The worker threads' entry file; without it, calls run on the gRPC thread. */
  functionWorker?: URL;
  /** Called once the server listens. */
  onListening?: (server: RunningFunctionServer) => void;
}

/**
 * Serves until SIGTERM/SIGINT; resolves to the exit code: 0 after a clean drain, 1 when
 * in-flight calls had to be cut or the server could not start, 2 for bad flags.
 */
export async function serveFunction(
  argv: string[],
  io: CliIo,
  hooks: ServeFunctionHooks = {},
): Promise<number> {
  const parsed = parseServeFunctionArgs(argv, hooks.env ?? process.env);
  if (parsed.kind === 'help') {
    io.stdout(SERVE_FUNCTION_USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    io.stderr(
      `pgplane serve function: ${parsed.message}\n\nRun 'pgplane serve function --help' for the flags.\n`,
    );
    return 2;
  }
  const { options } = parsed;
  const log = functionLogger(options.debug, (line) => io.stdout(line));
  // grpc-js writes its own lines ("E No address added...") to stderr; keep one log stream, JSON.
  grpc.setLogger({ error: (...args: unknown[]) => log.warn({ source: 'grpc-js' }, format(...args)) });
  if (options.ignoredCertsDir !== undefined) {
    log.warn(
      { tlsCertsDir: options.ignoredCertsDir },
      '--insecure given: ignoring the TLS certificates directory',
    );
  }

  const workers =
    options.workers === 'auto' ? (hooks.functionWorker ? defaultWorkers(usableCpus()) : 0) : options.workers;
  if (workers > 0 && !hooks.functionWorker) {
    io.stderr('pgplane serve function: --workers needs the built program (dist/cli/function-worker.js)\n');
    return 2;
  }

  let server: RunningFunctionServer;
  try {
    const loaded = serverCredentials(options.tls);
    server = await startFunctionServer({
      address: options.address,
      security: loaded.security,
      maxRecvMessageBytes: options.maxRecvMessageBytes,
      connections: options.connections,
      logger: log,
      ...(hooks.functionWorker && workers > 0
        ? {
            workers: {
              count: workers,
              script: hooks.functionWorker,
              writeLog: (line: string) => io.stdout(line),
            },
          }
        : {}),
    });
    log.info(
      {
        address: server.address,
        tls:
          options.tls.mode === 'mtls'
            ? 'mutual (client certificates signed by ca.crt required)'
            : 'none (--insecure)',
        ...(options.tls.mode === 'mtls'
          ? { tlsCertsDir: options.tls.certsDir, certificate: loaded.certificate }
          : {}),
        maxRecvMessageBytes: options.maxRecvMessageBytes,
        ...options.connections,
        workers,
      },
      'pgplane function listening',
    );
  } catch (error) {
    if (!(error instanceof TlsConfigError || error instanceof BindError || error instanceof WorkerStartError))
      throw error;
    log.error({ err: error.message }, 'cannot start');
    io.stderr(`pgplane serve function: ${error.message}\n`);
    return 1;
  }
  hooks.onListening?.(server);

  const why = await stopRequested(hooks.signal);
  log.info({ why, drainTimeoutMs: options.drainTimeoutMs }, 'draining: no new calls, in-flight calls finish');
  // A second signal while draining means "now".
  const force = (): void => {
    log.warn('second signal while draining: closing connections now');
    server.forceStop();
  };
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  const outcome = await server.stop(options.drainTimeoutMs);
  process.off('SIGTERM', force);
  process.off('SIGINT', force);
  if (outcome === 'drained') {
    log.info('drained; exiting');
    return 0;
  }
  log.warn(
    { drainTimeoutMs: options.drainTimeoutMs },
    'calls still in flight after the drain timeout were cut',
  );
  return 1;
}

/** Resolves with what asked the server to stop; the listeners go, so a second signal is seen afresh. */
function stopRequested(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const on = (why: string) => (): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onTerm = on('SIGTERM');
    const onInt = on('SIGINT');
    const onAbort = on('aborted');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
