// Deletion protection and ordered teardown (issue 13, item 3): which Crossplane Usages each XR
// shape composes, when, and what they name. Crossplane itself enforcing them is shown by the
// control-plane suites (test/conformance/control-plane*.test.ts).
import { Ready, Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { describe, expect, it } from 'vitest';
import { render, type RenderRequest } from '../../src/render/render.js';
import { getPath, getString, type JsonObject } from '../../src/shared/json.js';
import { exampleCases } from '../support/examples.js';

const cases = exampleCases();
const requestOf = (id: string): RenderRequest => {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no example ${id}`);
  return found.request;
};
const withSpec = (request: RenderRequest, spec: JsonObject): RenderRequest => ({
  ...request,
  xr: { ...request.xr, spec: { ...(request.xr['spec'] as JsonObject), ...spec } },
});
const withInput = (request: RenderRequest, input: JsonObject): RenderRequest => ({
  ...request,
  input: { ...request.input, ...input },
});
const resources = (response: RunFunctionResponse): Record<string, JsonObject> =>
  Object.fromEntries(
    Object.entries(response.desired?.resources ?? {}).map(([key, r]) => [key, r.resource as JsonObject]),
  );
const usages = (response: RunFunctionResponse): Record<string, JsonObject> =>
  Object.fromEntries(Object.entries(resources(response)).filter(([, r]) => r['kind'] === 'Usage'));
const target = (usage: JsonObject, side: 'of' | 'by'): string | undefined => {
  const kind = getString(usage, 'spec', side, 'kind');
  return kind ? `${kind}/${getString(usage, 'spec', side, 'resourceRef', 'name') ?? ''}` : undefined;
};

describe('deletion protection on a namespaced XR', () => {
  const response = render(requestOf('protected/xr')).response;
  const all = usages(response);

  it('refuses deleting the XR and its Cluster with a reason that says how to delete', () => {
    for (const key of ['usage-xr', 'usage-cluster']) {
      expect(getString(all[key], 'apiVersion')).toBe('protection.crossplane.io/v1beta1');
      expect(getPath(all[key], 'spec', 'by')).toBeUndefined();
      expect(getString(all[key], 'spec', 'reason')).toBe(
        'deletion protection is on for PostgresInstance vaults/treasury: set spec.deletionProtection: false, wait until this Usage is gone, then delete',
      );
      expect(getString(all[key], 'metadata', 'namespace')).toBe('vaults');
    }
    expect(target(all['usage-xr']!, 'of')).toBe('PostgresInstance/treasury');
    expect(target(all['usage-cluster']!, 'of')).toBe('Cluster/treasury');
    expect(getPath(response.desired?.composite?.resource, 'status', 'deletionProtection')).toBe(true);
  });

  it('drops both protection Usages when the team turns it off, keeping the teardown order', () => {
    const off = usages(render(withSpec(requestOf('protected/xr'), { deletionProtection: false })).response);
    expect(off['usage-xr']).toBeUndefined();
    expect(off['usage-cluster']).toBeUndefined();
    expect(Object.keys(off).sort()).toEqual([
      'usage-grant-public',
      'usage-grant-readonly',
      'usage-grant-runtime',
      'usage-provider-config',
      'usage-provider-config-credentials',
    ]);
  });

  it('is off by default on the standard profile and on by default on the production profile', () => {
    expect(usages(render(requestOf('minimal/xr')).response)['usage-xr']).toBeUndefined();
    expect(target(usages(render(requestOf('production/xr')).response)['usage-xr']!, 'of')).toBe(
      'PostgresInstance/checkout',
    );
    expect(usages(render(requestOf('unprotected/xr')).response)['usage-cluster']).toBeUndefined();
  });

  it('follows the Input default, and a platform that requires it refuses a claim turning it off', () => {
    const defaulted = render(withInput(requestOf('minimal/xr'), { deletionProtection: { default: true } }));
    expect(usages(defaulted.response)['usage-cluster']).toBeDefined();

    const required = withInput(requestOf('unprotected/xr'), { deletionProtection: { required: true } });
    const refused = render(required).response;
    expect(refused.results).toEqual([
      expect.objectContaining({
        severity: Severity.SEVERITY_FATAL,
        reason: 'InvalidSpec',
        message: expect.stringContaining(
          'spec.deletionProtection is false, but this platform requires deletion protection for every instance',
        ),
      }),
    ]);
    expect(refused.desired?.resources).toEqual({});

    const enforced = usages(render(withSpec(required, { deletionProtection: undefined })).response);
    expect(getString(enforced['usage-xr'], 'spec', 'reason')).toContain(
      'this platform requires it; ask the platform team to delete it',
    );
  });
});

describe('the fields as hostile input', () => {
  it('refuses a deletionProtection or upgrade that is not a boolean, naming the field and an example', () => {
    const response = render(
      withSpec(requestOf('protected/xr'), {
        deletionProtection: 'yes',
        upgrade: { allowWithoutBackup: 'true', force: true },
      }),
    ).response;
    expect(response.results).toHaveLength(1);
    const message = response.results[0]?.message ?? '';
    expect(response.results[0]?.severity).toBe(Severity.SEVERITY_FATAL);
    expect(message).toContain('spec.deletionProtection must be a boolean');
    expect(message).toContain('Example: deletionProtection: false');
    expect(message).toContain('spec.upgrade.allowWithoutBackup must be a boolean');
    expect(response.desired?.resources).toEqual({});
  });
});

describe('ordered teardown on a namespaced XR', () => {
  const response = render(requestOf('production/xr')).response;
  const all = usages(response);
  const grants = Object.entries(resources(response)).filter(([, r]) => r['kind'] === 'Grant');

  it('makes every Grant go before the ProviderConfig, and the ProviderConfig before the Cluster', () => {
    expect(grants.length).toBe(4);
    for (const [key, grant] of grants) {
      const usage = all[`usage-${key}`];
      expect(target(usage!, 'by')).toBe(`Grant/${getString(grant, 'metadata', 'name') ?? ''}`);
      expect(target(usage!, 'of')).toBe('ProviderConfig/checkout');
      expect(getPath(usage, 'spec', 'replayDeletion')).toBe(true);
    }
    expect(target(all['usage-provider-config']!, 'by')).toBe('ProviderConfig/checkout');
    expect(target(all['usage-provider-config']!, 'of')).toBe('Cluster/checkout');
  });

  it('keeps the Secret the ProviderConfig logs in with until the ProviderConfig is gone', () => {
    // Otherwise the credentials ExternalSecret goes with the XR, its Secret with it, and the Grants
    // could never connect to revoke.
    const credentials = all['usage-provider-config-credentials']!;
    expect(target(credentials, 'by')).toBe('ProviderConfig/checkout');
    expect(target(credentials, 'of')).toBe(
      `Secret/${getString(resources(response)['provider-config'], 'spec', 'connectionSecretRef', 'name') ?? ''}`,
    );
    expect(getString(credentials, 'spec', 'of', 'apiVersion')).toBe('v1');
    expect(getPath(credentials, 'spec', 'replayDeletion')).toBe(true);
  });

  it('makes each Grant revoke when it goes, since the Usages keep its server until then', () => {
    for (const [, grant] of grants) expect(getPath(grant, 'spec', 'deletionPolicy')).toBe('Delete');
  });

  it('orphans the Grants of a hibernated instance: there is no server to revoke on', () => {
    const hibernated = render(withSpec(requestOf('production/xr'), { hibernate: true })).response;
    const policies = Object.values(resources(hibernated))
      .filter((r) => r['kind'] === 'Grant')
      .map((g) => getPath(g, 'spec', 'deletionPolicy'));
    expect(policies).toEqual(['Orphan', 'Orphan', 'Orphan', 'Orphan']);
  });

  it('composes no ordering Usages when there are no Grants to order', () => {
    const noGrants = render(withSpec(requestOf('minimal/xr'), { roles: { leastPrivilege: false } })).response;
    expect(usages(noGrants)).toEqual({});
  });

  it('keeps every Usage name a valid Kubernetes name for the longest access roles', () => {
    const long = 'r'.repeat(63);
    const request = withSpec(requestOf('minimal/xr'), {
      access: [{ role: long }, { role: `${long.slice(0, 62)}s` }],
    });
    const names = Object.values(usages(render(request).response)).map(
      (u) => getString(u, 'metadata', 'name') ?? '',
    );
    expect(names.length).toBe(7);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/);
  });

  it('marks the Usages ready once Crossplane has created them', () => {
    const ready = render(requestOf('agent-executor/xr@ready')).response;
    for (const [key, r] of Object.entries(ready.desired?.resources ?? {})) {
      if (key.startsWith('usage-')) expect({ key, ready: r.ready }).toEqual({ key, ready: Ready.READY_TRUE });
    }
  });
});

describe('deletion protection on a legacy XR', () => {
  const response = render(requestOf('protected/xr-legacy')).response;
  const all = usages(response);

  it('protects the cluster-scoped XR with the legacy Usage, the only kind Crossplane v1 serves', () => {
    expect(Object.keys(all)).toEqual(['usage-xr']);
    expect(all['usage-xr']).toEqual({
      apiVersion: 'apiextensions.crossplane.io/v1alpha1',
      kind: 'Usage',
      metadata: {
        name: 'treasury-k8w2p-deletion-protection',
        labels: expect.objectContaining({ 'pgplane.io/instance': 'treasury' }),
      },
      spec: {
        of: {
          apiVersion: 'database.pgplane.io/v1alpha1',
          kind: 'XPostgresInstance',
          resourceRef: { name: 'treasury-k8w2p' },
        },
        reason:
          'deletion protection is on for PostgresInstance vaults/treasury (XPostgresInstance treasury-k8w2p): set spec.deletionProtection: false, wait until this Usage is gone, then delete',
      },
    });
  });

  it('composes no ordering Usages: a legacy Usage cannot name the namespaced Grants', () => {
    expect(usages(render(requestOf('agent-executor/xr-legacy')).response)).toEqual({});
  });

  it('orphans its Grants: with no ordering the Cluster may go first, and a revoke would wait forever', () => {
    const legacy = resources(render(requestOf('agent-executor/xr-legacy')).response);
    const policies = Object.values(legacy)
      .filter((r) => r['kind'] === 'Grant')
      .map((g) => getPath(g, 'spec', 'deletionPolicy'));
    expect(policies.length).toBeGreaterThan(0);
    expect(new Set(policies)).toEqual(new Set(['Orphan']));
  });
});
