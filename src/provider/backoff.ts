// Exponential backoff with jitter: how long to wait before retrying a key after `failures`
// consecutive errors. Pure: the random source is injected so tests can pin it.

export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Upper bound for any delay (before jitter). */
  readonly maxMs: number;
  /**
   * Fraction of the delay that is random: 0.2 spreads a delay d over [0.8d, 1.2d], so a
   * hundred Grants that failed together (the server went away) do not retry together.
   */
  readonly jitter: number;
  /** A number in [0, 1); default Math.random. */
  readonly random?: () => number;
}

// 1 s doubles to the 5-minute cap in nine failures: quick for a blip, gentle for a dead server.
const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 5 * 60_000, jitter: 0.2 };

export type Backoff = (failures: number) => number;

export function exponentialBackoff(options: BackoffOptions = DEFAULT_BACKOFF): Backoff {
  const random = options.random ?? Math.random;
  const jitter = Math.min(Math.max(options.jitter, 0), 1);
  return (failures) => {
    const exponent = Math.max(0, Math.floor(failures) - 1);
    // 2 ** 60 is finite; the cap keeps it meaningful.
    const raw = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(exponent, 60));
    const spread = raw * jitter * (2 * random() - 1);
    return Math.max(0, Math.round(raw + spread));
  };
}

/** Spreads a period by ±fraction, so periodic resyncs of many keys do not line up. */
export function jittered(periodMs: number, fraction: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(periodMs * (1 + fraction * (2 * random() - 1))));
}

/**
 * The delay until a poll group's next slot: every group polls once per period at its own phase
 * (a hash of its name), so the objects of one group come due together while groups stay spread
 * over the period. Between half a period and one and a half: a period on average.
 */
export function alignedDelay(periodMs: number, group: string, nowMs: number): number {
  let hash = 2166136261;
  for (let i = 0; i < group.length; i++) hash = Math.imul(hash ^ group.charCodeAt(i), 16777619) >>> 0;
  const phase = hash % periodMs;
  const delay = (((phase - nowMs) % periodMs) + periodMs) % periodMs;
  return delay < periodMs / 2 ? delay + periodMs : delay;
}
