// `pgplane serve provider` flags: defaults, and a clear error naming the flag for a bad value.
import { describe, expect, it } from 'vitest';
import { parseProviderFlags } from '../../src/provider/main.js';

const parsed = (argv: string[]) => {
  const flags = parseProviderFlags(argv, {});
  if (flags === 'help') throw new Error('unexpected --help');
  return flags;
};

describe('serve provider flags', () => {
  it('defaults: poll 10m, drift check every 30s, 10 connections, concurrency 50', () => {
    expect(parsed([])).toMatchObject({
      pollMs: 600_000,
      driftCheckMs: 30_000,
      maxConnections: 10,
      concurrency: 50,
    });
  });

  it('--drift-check takes a duration, and 0 turns it off', () => {
    expect(parsed(['--drift-check', '5s']).driftCheckMs).toBe(5_000);
    expect(parsed(['--drift-check', '2m']).driftCheckMs).toBe(120_000);
    expect(parsed(['--drift-check=0']).driftCheckMs).toBe(0);
  });

  it('refuses a drift check under a second, or one that is not a duration, naming the flag', () => {
    expect(() => parsed(['--drift-check', '500ms'])).toThrow(
      /--drift-check must be 0 \(off\) or at least 1s, got "500ms"/,
    );
    expect(() => parsed(['--drift-check', 'often'])).toThrow(
      '--drift-check takes a duration such as 30s, 10m or 1h30m, got "often"',
    );
    expect(() => parsed(['--poll', '10'])).toThrow(
      '--poll takes a duration such as 30s, 10m or 1h30m, got "10"',
    );
  });
});
