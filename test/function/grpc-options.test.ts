// The pure parts of the function server: flags + environment → options, and the health codec.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ADDRESS,
  DEFAULT_MAX_RECV_MESSAGE_BYTES,
  normaliseAddress,
  parseByteSize,
  parseServeFunctionArgs,
  type ParsedServeFunction,
} from '../../src/function/server/options.js';
import {
  cpusFromCfs,
  cpusFromCpuMax,
  defaultWorkers,
  usableCpus,
  type ReadText,
} from '../../src/function/server/cpus.js';
import {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  ServingStatus,
} from '../../src/function/server/health.js';

function run(parsed: ParsedServeFunction) {
  if (parsed.kind !== 'run') throw new Error(`expected options, got ${JSON.stringify(parsed)}`);
  return parsed.options;
}
function error(parsed: ParsedServeFunction): string {
  if (parsed.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe('parseServeFunctionArgs', () => {
  it('defaults: 0.0.0.0:9443, 4 MiB, 10s drain, info level, workers decided from the CPUs', () => {
    expect(run(parseServeFunctionArgs(['--insecure'], {}))).toEqual({
      address: DEFAULT_ADDRESS,
      tls: { mode: 'insecure' },
      maxRecvMessageBytes: DEFAULT_MAX_RECV_MESSAGE_BYTES,
      drainTimeoutMs: 10_000,
      connections: {
        keepaliveTimeMs: 60_000,
        keepaliveTimeoutMs: 20_000,
        maxConnectionIdleMs: 30 * 60_000,
        maxConcurrentStreams: 16,
      },
      debug: false,
      workers: 'auto',
    });
  });

  it('refuses to run without TLS unless --insecure, naming the flag and the variable', () => {
    const message = error(parseServeFunctionArgs([], {}));
    expect(message).toContain('--tls-certs-dir');
    expect(message).toContain('TLS_SERVER_CERTS_DIR');
    expect(message).toContain('--insecure');
    expect(error(parseServeFunctionArgs([], { TLS_SERVER_CERTS_DIR: '  ' }))).toContain('--insecure');
  });

  it('takes the certificates directory from TLS_SERVER_CERTS_DIR, either flag spelling overriding it', () => {
    const env = { TLS_SERVER_CERTS_DIR: '/tls/server' };
    expect(run(parseServeFunctionArgs([], env)).tls).toEqual({ mode: 'mtls', certsDir: '/tls/server' });
    expect(run(parseServeFunctionArgs(['--tls-certs-dir', '/a'], env)).tls).toEqual({
      mode: 'mtls',
      certsDir: '/a',
    });
    expect(run(parseServeFunctionArgs(['--tls-server-certs-dir=/b'], env)).tls).toEqual({
      mode: 'mtls',
      certsDir: '/b',
    });
    expect(run(parseServeFunctionArgs(['--tls-certs-dir=/a', '--tls-server-certs-dir=/a'], {})).tls).toEqual({
      mode: 'mtls',
      certsDir: '/a',
    });
    expect(error(parseServeFunctionArgs(['--tls-certs-dir=/a', '--tls-server-certs-dir=/b'], {}))).toMatch(
      /disagree/,
    );
  });

  it('--insecure wins over a certificates directory and says it ignored it', () => {
    const options = run(parseServeFunctionArgs(['--insecure'], { TLS_SERVER_CERTS_DIR: '/tls/server' }));
    expect(options.tls).toEqual({ mode: 'insecure' });
    expect(options.ignoredCertsDir).toBe('/tls/server');
  });

  it('parses --address, --max-recv-message-size, --drain-timeout and --debug', () => {
    expect(
      run(
        parseServeFunctionArgs(
          [
            '--insecure',
            '--address',
            ':9444',
            '--max-recv-message-size',
            '16Mi',
            '--drain-timeout=2500ms',
            '--workers',
            '3',
            '-d',
          ],
          {},
        ),
      ),
    ).toEqual({
      address: '0.0.0.0:9444',
      tls: { mode: 'insecure' },
      maxRecvMessageBytes: 16 * 1024 * 1024,
      drainTimeoutMs: 2500,
      connections: {
        keepaliveTimeMs: 60_000,
        keepaliveTimeoutMs: 20_000,
        maxConnectionIdleMs: 30 * 60_000,
        maxConcurrentStreams: 16,
      },
      debug: true,
      workers: 3,
    });
    expect(run(parseServeFunctionArgs(['--insecure', '--workers=0'], {})).workers).toBe(0);
    expect(
      run(
        parseServeFunctionArgs(
          [
            '--insecure',
            '--keepalive-time=15s',
            '--keepalive-timeout',
            '5s',
            '--max-connection-idle=5m',
            '--max-concurrent-streams',
            '32',
          ],
          {},
        ),
      ).connections,
    ).toEqual({
      keepaliveTimeMs: 15_000,
      keepaliveTimeoutMs: 5_000,
      maxConnectionIdleMs: 5 * 60_000,
      maxConcurrentStreams: 32,
    });
    expect(run(parseServeFunctionArgs(['--insecure', '--workers=auto'], {})).workers).toBe('auto');
  });

  it.each([
    [['--insecure', '--address', 'nope'], /--address must be host:port/],
    [['--insecure', '--address', '127.0.0.1:70000'], /0\.\.65535/],
    [['--insecure', '--max-recv-message-size', '0'], /--max-recv-message-size/],
    [['--insecure', '--max-recv-message-size', '4MB'], /--max-recv-message-size/],
    [['--insecure', '--max-recv-message-size', '2Gi'], /--max-recv-message-size/],
    [['--insecure', '--drain-timeout', 'soon'], /--drain-timeout/],
    [
      ['--insecure', '--workers', 'many'],
      /--workers must be auto or a number of threads from 0 to 16 \(e\.g\. 1\), got "many"/,
    ],
    [['--insecure', '--workers', '17'], /--workers must be/],
    [['--insecure', '--workers', '-1'], /--workers/],
    [
      ['--insecure', '--keepalive-time', '0s'],
      /--keepalive-time must be a positive duration like 60s, got "0s"/,
    ],
    [['--insecure', '--keepalive-timeout', 'soon'], /--keepalive-timeout must be a positive duration/],
    [['--insecure', '--max-connection-idle', '1x'], /--max-connection-idle must be a positive duration/],
    [
      ['--insecure', '--max-concurrent-streams', '0'],
      /--max-concurrent-streams must be a whole number from 1/,
    ],
    [['--insecure', '--max-concurrent-streams', 'lots'], /--max-concurrent-streams/],
    [['--insecure', '--port', '1'], /Unknown option '--port'/],
    [['--insecure', 'extra'], /positional/],
  ])('rejects %j', (argv, message) => {
    expect(error(parseServeFunctionArgs(argv, {}))).toMatch(message);
  });

  it('answers --help before checking anything else', () => {
    expect(parseServeFunctionArgs(['--help'], {})).toEqual({ kind: 'help' });
  });
});

describe('usable CPUs and the default worker count', () => {
  const files =
    (entries: Record<string, string>): ReadText =>
    (path) =>
      entries[path];

  it('reads the container CPU limit from cgroup v2 cpu.max, and v1 CFS quota/period', () => {
    expect(cpusFromCpuMax('100000 100000\n')).toBe(1);
    expect(cpusFromCpuMax('250000 100000')).toBe(2.5);
    expect(cpusFromCpuMax('max 100000')).toBeUndefined();
    expect(cpusFromCpuMax('garbage')).toBeUndefined();
    expect(cpusFromCfs('50000\n', '100000\n')).toBe(0.5);
    expect(cpusFromCfs('-1', '100000')).toBeUndefined();
  });

  it('caps the scheduler CPUs by the quota: a pod limited to one CPU on a 16-core node gets no worker', () => {
    const oneCpuPod = files({ '/sys/fs/cgroup/cpu.max': '100000 100000' });
    expect(usableCpus(oneCpuPod, 16)).toBe(1);
    expect(defaultWorkers(usableCpus(oneCpuPod, 16))).toBe(0);

    const unlimited = files({ '/sys/fs/cgroup/cpu.max': 'max 100000' });
    expect(usableCpus(unlimited, 16)).toBe(16);
    expect(defaultWorkers(usableCpus(unlimited, 16))).toBe(1);

    const v1 = files({
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '150000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
    expect(usableCpus(v1, 8)).toBe(1.5);
    expect(defaultWorkers(1.5)).toBe(1);

    expect(usableCpus(files({}), 2)).toBe(2);
    expect(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '400000 100000' }), 2)).toBe(2);
    expect(defaultWorkers(1)).toBe(0);
  });
});

describe('normaliseAddress and parseByteSize', () => {
  it.each([
    ['0.0.0.0:9443', '0.0.0.0:9443'],
    [':9443', '0.0.0.0:9443'],
    ['localhost:0', 'localhost:0'],
    ['[::]:9443', '[::]:9443'],
    ['[::1]:1', '[::1]:1'],
  ])('%s → %s', (given, want) => {
    expect(normaliseAddress(given)).toEqual({ address: want });
  });

  it.each([
    ['4194304', 4194304],
    ['512Ki', 512 * 1024],
    ['1Gi', 1024 ** 3],
    ['0', undefined],
    ['-1', undefined],
    ['1.5Mi', undefined],
  ])('%s → %s bytes', (given, want) => {
    expect(parseByteSize(given)).toBe(want);
  });
});

describe('health codec', () => {
  it('round-trips requests, including the empty service (the server as a whole) and long names', () => {
    for (const service of ['', 'apiextensions.fn.proto.v1.FunctionRunnerService', 'x'.repeat(300), 'ünï']) {
      expect(decodeHealthCheckRequest(encodeHealthCheckRequest({ service }))).toEqual({ service });
    }
  });

  it('encodes statuses as proto3 does (zero omitted) and round-trips them', () => {
    expect(encodeHealthCheckResponse({ status: ServingStatus.UNKNOWN })).toEqual(Buffer.alloc(0));
    expect(encodeHealthCheckResponse({ status: ServingStatus.SERVING })).toEqual(Buffer.from([0x08, 1]));
    for (const status of [ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVICE_UNKNOWN]) {
      expect(decodeHealthCheckResponse(encodeHealthCheckResponse({ status }))).toEqual({ status });
    }
  });

  it('skips unknown fields and rejects truncated input', () => {
    // field 2 varint 150, then field 1 "ab"
    expect(decodeHealthCheckRequest(Buffer.from([0x10, 0x96, 0x01, 0x0a, 0x02, 0x61, 0x62]))).toEqual({
      service: 'ab',
    });
    expect(() => decodeHealthCheckRequest(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(/truncated/);
    expect(() => decodeHealthCheckRequest(Buffer.from([0x0a]))).toThrow(/truncated/);
  });
});
