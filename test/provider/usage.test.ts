// Which ProviderConfig a Grant needs, and the in-use finalizer that follows the count of users.
import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../../src/provider/managed/reconciler.js';
import {
  configKey,
  configNeededBy,
  IN_USE_FINALIZER,
  inUseFinalizers,
  parseConfigKey,
} from '../../src/provider/usage.js';

const grant = (spec: unknown, metadata: Record<string, unknown> = {}) => ({
  metadata: { name: 'g', namespace: 'team', ...metadata },
  spec,
});

describe('configNeededBy', () => {
  it('names the namespaced ProviderConfig in the Grant’s namespace, or the ClusterProviderConfig', () => {
    expect(configNeededBy(grant({ providerConfigRef: { kind: 'ProviderConfig', name: 'app-db' } }))).toBe(
      'ProviderConfig/team/app-db',
    );
    expect(configNeededBy(grant({ providerConfigRef: { name: 'shared' } }))).toBe(
      'ClusterProviderConfig/shared',
    );
    expect(configNeededBy(grant({}))).toBe('ClusterProviderConfig/default');
  });

  it('a deleting Grant needs its config until its own finalizer is gone', () => {
    const ref = { providerConfigRef: { kind: 'ProviderConfig', name: 'app-db' } };
    const deleting = { deletionTimestamp: '2025-01-01T00:00:00Z' };
    expect(configNeededBy(grant(ref, { ...deleting, finalizers: [FINALIZER] }))).toBe(
      'ProviderConfig/team/app-db',
    );
    expect(configNeededBy(grant(ref, { ...deleting, finalizers: ['other'] }))).toBeUndefined();
  });

  it('an unusable reference needs no config', () => {
    expect(configNeededBy(grant({ providerConfigRef: { kind: 'Secret', name: 'x' } }))).toBeUndefined();
  });

  it('keys round-trip', () => {
    for (const [ref, ns] of [
      [{ kind: 'ProviderConfig', name: 'a' }, 'team'],
      [{ kind: 'ClusterProviderConfig', name: 'b' }, undefined],
    ] as const) {
      expect(parseConfigKey(configKey(ref, ns))).toEqual({ ref, namespace: ns });
    }
  });
});

describe('inUseFinalizers', () => {
  it('adds the finalizer while in use, keeping others; removes it when unused', () => {
    expect(inUseFinalizers({ finalizers: ['x'] }, 2)).toEqual(['x', IN_USE_FINALIZER]);
    expect(inUseFinalizers({ finalizers: ['x', IN_USE_FINALIZER] }, 0)).toEqual(['x']);
    expect(inUseFinalizers({ finalizers: [IN_USE_FINALIZER] }, 1)).toBeUndefined();
    expect(inUseFinalizers({}, 0)).toBeUndefined();
  });

  it('never adds it to a config being deleted (the API server refuses), but removes it when unused', () => {
    const deleting = { deletionTimestamp: '2025-01-01T00:00:00Z' };
    expect(inUseFinalizers({ ...deleting }, 1)).toBeUndefined();
    expect(inUseFinalizers({ ...deleting, finalizers: [IN_USE_FINALIZER] }, 1)).toBeUndefined();
    expect(inUseFinalizers({ ...deleting, finalizers: [IN_USE_FINALIZER] }, 0)).toEqual([]);
  });
});
