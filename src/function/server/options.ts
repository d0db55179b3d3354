// `pgplane serve function` flags and environment → one typed options object. Pure: no I/O, no
// process access; the CLI passes argv and env in, and prints what comes back.
import { parseArgs } from 'node:util';
import { parseDuration } from '../../shared/duration.js';

export const DEFAULT_ADDRESS = '0.0.0.0:9443';
/** gRPC's own default receive limit; Crossplane requests carry every observed resource, so it is a flag. */
export const DEFAULT_MAX_RECV_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Well inside Kubernetes' default 30s termination grace period, and far above any RunFunction call. */
const DEFAULT_DRAIN_TIMEOUT = '10s';
/** The variable Crossplane's package manager sets on a function's Deployment. */
const TLS_CERTS_DIR_ENV = 'TLS_SERVER_CERTS_DIR';
/** Each worker is a V8 isolate (~10 MB); beyond a few, threads only contend. */
const MAX_WORKERS = 16;

/** What one connection may hold and how long it may stay; see DEFAULT_CONNECTION_LIMITS. */
export interface ConnectionLimits {
  /** After this long without a ping from the server, the server sends one. */
  keepaliveTimeMs: number;
  /** A ping unanswered this long drops the connection (the peer is gone or stopped reading). */
  keepaliveTimeoutMs: number;
  /** A connection with no call for this long is closed (GOAWAY; gRPC clients reconnect when they next call). */
  maxConnectionIdleMs: number;
  /** Calls one connection may have open at once; a gRPC client queues the rest until one ends. */
  maxConcurrentStreams: number;
  /** A TLS handshake must end within this. */
  handshakeTimeoutMs: number;
}

/**
 * Crossplane keeps one long-lived connection per function and makes one RunFunction call per
 * XR reconcile, at most --max-reconcile-rate (default 10) at a time. None of these bounds is hit
 * by that: a live Crossplane answers pings within milliseconds, its connection is busy every poll
 * interval (1m), and 16 streams is above its default concurrency (grpc-go waits for a free stream
 * beyond the server's limit, it does not fail the call). More streams would not run faster: calls
 * run one at a time per thread. Fewer bound memory: each open stream may hold a request of up to
 * --max-recv-message-size (bench/README.md, "Function: memory").
 */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxConnectionIdleMs: 30 * 60_000,
  maxConcurrentStreams: 16,
  handshakeTimeoutMs: 10_000,
};

export const SERVE_FUNCTION_USAGE = `Usage: pgplane serve function [flags]

Runs the pgplane composition function: a gRPC server speaking Crossplane's RunFunction protocol
(apiextensions.fn.proto.v1), plus the standard grpc.health.v1.Health service.

Flags:
  --address <host:port>            Where to listen (default ${DEFAULT_ADDRESS}; port 0 picks a free port).
  --tls-certs-dir <dir>            Directory with tls.crt, tls.key and ca.crt; clients must present a
                                   certificate signed by ca.crt (mutual TLS). Alias: --tls-server-certs-dir.
                                   Default: $${TLS_CERTS_DIR_ENV}, which Crossplane sets.
  --insecure                       Serve without TLS (local development, 'crossplane render').
  --max-recv-message-size <bytes>  Largest request accepted (default ${DEFAULT_MAX_RECV_MESSAGE_BYTES}; suffixes Ki, Mi, Gi).
  --drain-timeout <duration>       On SIGTERM/SIGINT, how long in-flight calls may finish before the
                                   server closes them (default ${DEFAULT_DRAIN_TIMEOUT}); the process exits by then
                                   whatever its clients do.
  --keepalive-time <duration>      Ping a connection after this long without one (default ${ms(DEFAULT_CONNECTION_LIMITS.keepaliveTimeMs)}).
  --keepalive-timeout <duration>   Drop a connection whose ping is unanswered this long (default ${ms(DEFAULT_CONNECTION_LIMITS.keepaliveTimeoutMs)}).
  --max-connection-idle <duration> Close a connection with no call for this long (default ${ms(DEFAULT_CONNECTION_LIMITS.maxConnectionIdleMs)}).
  --max-concurrent-streams <n>     Calls one connection may have open at once (default ${DEFAULT_CONNECTION_LIMITS.maxConcurrentStreams}).
  --workers <n|auto>               Worker threads that run the calls while the gRPC thread serves
                                   (default auto: 1 when more than one CPU is usable, counting the
                                   container's CPU limit, else 0: calls run on the gRPC thread).
  -d, --debug                      Log at debug level (one line per call; never request bodies).
  -h, --help                       Show this help.
`;

export type TlsOptions = { mode: 'insecure' } | { mode: 'mtls'; certsDir: string };

interface ServeFunctionOptions {
  /** host:port as grpc-js binds it. */
  readonly address: string;
  readonly tls: TlsOptions;
  readonly maxRecvMessageBytes: number;
  readonly drainTimeoutMs: number;
  readonly debug: boolean;
  /** Keepalive, idle and stream limits (the handshake timeout is not a flag). */
  readonly connections: Omit<ConnectionLimits, 'handshakeTimeoutMs'>;
  /** Worker threads for the calls; 'auto' lets the CLI decide from the usable CPUs (cpus.ts). */
  readonly workers: number | 'auto';
  /** Set when --insecure wins over a certificates directory that was also given; worth a warning. */
  readonly ignoredCertsDir?: string;
}

export type ParsedServeFunction =
  { kind: 'run'; options: ServeFunctionOptions } | { kind: 'help' } | { kind: 'error'; message: string };

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** "4194304", "4Mi", "512Ki" → bytes; undefined when it is not a positive size that fits gRPC's int32. */
export function parseByteSize(text: string): number | undefined {
  const match = /^([0-9]+)(Ki|Mi|Gi)?$/.exec(text.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * (SIZE_UNITS[match[2] ?? ''] ?? 1);
  // grpc-js keeps the limit in a signed 32-bit channel argument.
  return bytes >= 1 && bytes <= 2 ** 31 - 1 ? bytes : undefined;
}

/**
 * Normalises a listen address: ":9443" (Go style) → "0.0.0.0:9443"; "host:port" and "[v6]:port"
 * are checked for a port in range. Returns an error message for anything else.
 */
export function normaliseAddress(text: string): { address: string } | { error: string } {
  const value = text.trim();
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})$/.exec(value);
  if (!match) {
    return { error: `--address must be host:port (e.g. ${DEFAULT_ADDRESS} or 127.0.0.1:0), got "${text}"` };
  }
  const port = Number(match[2]);
  if (port > 65535) return { error: `--address port must be 0..65535, got ${port}` };
  const host = match[1] === '' ? '0.0.0.0' : match[1];
  return { address: `${host}:${port}` };
}

export function parseServeFunctionArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedServeFunction {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        address: { type: 'string' },
        'tls-certs-dir': { type: 'string' },
        'tls-server-certs-dir': { type: 'string' },
        insecure: { type: 'boolean' },
        'max-recv-message-size': { type: 'string' },
        'drain-timeout': { type: 'string' },
        workers: { type: 'string' },
        'keepalive-time': { type: 'string' },
        'keepalive-timeout': { type: 'string' },
        'max-connection-idle': { type: 'string' },
        'max-concurrent-streams': { type: 'string' },
        debug: { type: 'boolean', short: 'd' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { kind: 'help' };

  const address = normaliseAddress(values.address ?? DEFAULT_ADDRESS);
  if ('error' in address) return { kind: 'error', message: address.error };

  const flagDir = values['tls-certs-dir'];
  const sdkFlagDir = values['tls-server-certs-dir'];
  if (flagDir !== undefined && sdkFlagDir !== undefined && flagDir !== sdkFlagDir) {
    return {
      kind: 'error',
      message: `--tls-certs-dir "${flagDir}" and --tls-server-certs-dir "${sdkFlagDir}" disagree; give one`,
    };
  }
  const certsDir = nonEmpty(flagDir ?? sdkFlagDir) ?? nonEmpty(env[TLS_CERTS_DIR_ENV]);
  const insecure = values.insecure ?? false;
  if (!insecure && certsDir === undefined) {
    return {
      kind: 'error',
      message:
        `refusing to serve without TLS: give --tls-certs-dir <dir> (or set ${TLS_CERTS_DIR_ENV}) ` +
        'to a directory holding tls.crt, tls.key and ca.crt, or pass --insecure for local development',
    };
  }

  let maxRecvMessageBytes = DEFAULT_MAX_RECV_MESSAGE_BYTES;
  const size = values['max-recv-message-size'];
  if (size !== undefined) {
    const bytes = parseByteSize(size);
    if (bytes === undefined) {
      return {
        kind: 'error',
        message: `--max-recv-message-size must be a positive number of bytes below 2Gi (e.g. 4194304 or 16Mi), got "${size}"`,
      };
    }
    maxRecvMessageBytes = bytes;
  }

  const drain = values['drain-timeout'] ?? DEFAULT_DRAIN_TIMEOUT;
  const drainTimeoutMs = durationMs(drain);
  if (drainTimeoutMs === undefined) {
    return { kind: 'error', message: `--drain-timeout must be a duration like 10s or 500ms, got "${drain}"` };
  }

  const durations = {
    keepaliveTimeMs: ['keepalive-time', '60s'],
    keepaliveTimeoutMs: ['keepalive-timeout', '20s'],
    maxConnectionIdleMs: ['max-connection-idle', '30m'],
  } as const;
  const connections: { -readonly [K in keyof ServeFunctionOptions['connections']]: number } = {
    ...DEFAULT_CONNECTION_LIMITS,
  };
  for (const [key, [flag, example]] of Object.entries(durations) as [
    keyof typeof durations,
    (typeof durations)[keyof typeof durations],
  ][]) {
    const text = values[flag];
    if (text === undefined) continue;
    const value = durationMs(text);
    if (value === undefined || value < 1) {
      return {
        kind: 'error',
        message: `--${flag} must be a positive duration like ${example}, got "${text}"`,
      };
    }
    connections[key] = value;
  }
  const streams = values['max-concurrent-streams'];
  if (streams !== undefined) {
    if (!/^\d{1,6}$/.test(streams) || Number(streams) < 1) {
      return {
        kind: 'error',
        message: `--max-concurrent-streams must be a whole number from 1 to 999999 (e.g. 100), got "${streams}"`,
      };
    }
    connections.maxConcurrentStreams = Number(streams);
  }

  const workersText = values.workers ?? 'auto';
  const workers =
    workersText === 'auto' ? 'auto' : /^\d{1,2}$/.test(workersText) ? Number(workersText) : undefined;
  if (workers === undefined || (workers !== 'auto' && workers > MAX_WORKERS)) {
    return {
      kind: 'error',
      message: `--workers must be auto or a number of threads from 0 to ${MAX_WORKERS} (e.g. 1), got "${workersText}"`,
    };
  }

  return {
    kind: 'run',
    options: {
      address: address.address,
      tls: insecure || certsDir === undefined ? { mode: 'insecure' } : { mode: 'mtls', certsDir },
      maxRecvMessageBytes,
      drainTimeoutMs,
      connections: {
        keepaliveTimeMs: connections.keepaliveTimeMs,
        keepaliveTimeoutMs: connections.keepaliveTimeoutMs,
        maxConnectionIdleMs: connections.maxConnectionIdleMs,
        maxConcurrentStreams: connections.maxConcurrentStreams,
      },
      debug: values.debug ?? false,
      workers,
      ...(insecure && certsDir !== undefined ? { ignoredCertsDir: certsDir } : {}),
    },
  };
}

/** "10s", "500ms", "1m" → milliseconds; undefined when it is not a duration. */
function durationMs(text: string): number | undefined {
  try {
    const d = parseDuration(text);
    return d.seconds * 1000 + Math.floor(d.nanos / 1e6);
  } catch {
    return undefined;
  }
}

/** 60000 → "60s", 1800000 → "30m": the defaults as the flags spell them. */
function ms(value: number): string {
  return value % 60_000 === 0 ? `${value / 60_000}m` : `${value / 1000}s`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
