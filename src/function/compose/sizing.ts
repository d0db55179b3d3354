// Sizes: the catalog (built-in defaults merged with the Input) and the PostgreSQL memory settings
// each size implies.
import type { FunctionInput, Size } from '../../api/function-input.js';

const BUILT_IN_SIZES: Readonly<Record<string, Size>> = {
  small: { cpu: { request: '250m', limit: '1000m' }, memory: { request: '256Mi', limit: '1Gi' } },
  medium: { cpu: { request: '500m', limit: '2000m' }, memory: { request: '512Mi', limit: '2Gi' } },
  large: { cpu: { request: '1000m', limit: '4000m' }, memory: { request: '1Gi', limit: '4Gi' } },
};

export function sizeCatalog(input: FunctionInput): Record<string, Size> {
  return { ...BUILT_IN_SIZES, ...input.sizes };
}

const UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes in a Kubernetes quantity the Input schema already validated (e.g. "512Mi", "2G"). */
function quantityBytes(quantity: string): number {
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(quantity);
  const unit = UNIT_BYTES[match?.[2] ?? ''];
  if (!match || unit === undefined) throw new Error(`not a Kubernetes quantity: ${quantity}`);
  return Number(match[1]) * unit;
}

const MiB = 2 ** 20;

/**
 * PostgreSQL settings that must follow the memory limit, or PostgreSQL either wastes the pod's memory
 * or gets OOM-killed. The ratios are the usual dedicated-server starting points: a quarter of memory
 * for shared_buffers, three quarters assumed available as cache, and work_mem sized so that every
 * connection running a few sorts at once still fits beside shared_buffers.
 */
export function memoryParameters(size: Size): Record<string, string> {
  const limitMiB = Math.floor(quantityBytes(size.memory.limit) / MiB);
  const maxConnections = size.maxConnections ?? Math.max(100, Math.floor((100 * limitMiB) / 1024));
  const sharedBuffersMiB = Math.max(32, Math.floor(limitMiB / 4));
  const workMemMiB = Math.max(4, Math.floor((limitMiB - sharedBuffersMiB) / (maxConnections * 3)));
  return {
    shared_buffers: `${sharedBuffersMiB}MB`,
    effective_cache_size: `${Math.floor((limitMiB * 3) / 4)}MB`,
    maintenance_work_mem: `${Math.max(64, Math.floor(limitMiB / 16))}MB`,
    work_mem: `${workMemMiB}MB`,
    max_connections: String(maxConnections),
  };
}
