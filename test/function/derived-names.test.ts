// Defaults never make a valid claim invalid: a 63-byte databaseName is valid, so the roles derived
// from it (<databaseName>_rw, _ro) must fit PostgreSQL's 63 bytes too, deterministically and
// without two claims' long names colliding.
import { describe, expect, it } from 'vitest';
import { inputFrom } from '../../src/cli/render.js';
import { derivedRoleName } from '../../src/function/compose/names.js';
import { render } from '../../src/render/render.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { readSingleObject } from '../../src/shared/yaml-files.js';

const input = inputFrom(readSingleObject('apis/namespaced/composition.yaml'));

function managedRoleNames(databaseName: string): string[] {
  const xr: JsonObject = {
    apiVersion: 'database.pgplane.io/v1alpha1',
    kind: 'PostgresInstance',
    metadata: { name: 'analytics', namespace: 'data' },
    spec: { version: '16', storageGB: 10, databaseName, databaseOwner: 'analytics_owner' },
  };
  const result = render({ xr, input });
  expect(result.fatal).toBeUndefined();
  const cluster = result.objects.find((o) => o.kind === 'Cluster');
  const roles = getPath(cluster, 'spec', 'managed', 'roles') as { name: string }[];
  return roles.map((role) => role.name);
}

describe('roles derived from the database name', () => {
  it('are <databaseName>_rw and _ro when they fit, as before', () => {
    expect(managedRoleNames('billing')).toEqual(['billing_rw', 'billing_ro']);
    const sixty = 'a'.repeat(60);
    expect(derivedRoleName(sixty, '_rw')).toBe(`${sixty}_rw`);
  });

  it('fit in 63 bytes for a 63-byte databaseName, which renders', () => {
    const longest = `db_${'x'.repeat(60)}`;
    const [runtime, readOnly] = managedRoleNames(longest);
    for (const name of [runtime!, readOnly!]) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    }
    expect(runtime).toMatch(/_rw$/);
    expect(readOnly).toMatch(/_ro$/);
    expect(runtime!.slice(0, -3)).toBe(readOnly!.slice(0, -3));
  });

  it('may not land on a name PostgreSQL reserves: databaseName pg_stats is refused, naming roles.runtime', () => {
    const xr: JsonObject = {
      apiVersion: 'database.pgplane.io/v1alpha1',
      kind: 'PostgresInstance',
      metadata: { name: 'analytics', namespace: 'data' },
      spec: { version: '16', storageGB: 10, databaseName: 'pg_stats', databaseOwner: 'analytics_owner' },
    };
    const refused = render({ xr, input });
    expect(refused.objects.slice(1)).toEqual([]);
    expect(refused.fatal).toContain('spec.roles.runtime is "pg_stats_rw" (derived from spec.databaseName)');
    expect(refused.fatal).toContain('spec.roles.readOnly is "pg_stats_ro" (derived from spec.databaseName)');
    // Naming the roles is the way out.
    const named = render({
      xr: {
        ...xr,
        spec: { ...(xr.spec as JsonObject), roles: { runtime: 'stats_rw', readOnly: 'stats_ro' } },
      },
      input,
    });
    expect(named.fatal).toBeUndefined();
  });

  it('are the same on every render and differ for long names that share their first 51 bytes', () => {
    const shared = 'reporting_'.repeat(6);
    const a = `${shared}aaa`;
    const b = `${shared}bbb`;
    expect(derivedRoleName(a, '_rw')).toBe(derivedRoleName(a, '_rw'));
    expect(derivedRoleName(a, '_rw')).not.toBe(derivedRoleName(b, '_rw'));
    expect(managedRoleNames(a)).toEqual(managedRoleNames(a));
  });
});

describe('the long-names example', () => {
  const xr = readSingleObject('examples/long-names/xr.yaml');
  const result = render({ xr, input });

  it('renders: no default pushed a name past a limit', () => {
    expect(result.fatal).toBeUndefined();
  });

  it('composes every PostgreSQL role name within 63 bytes, and distinct', () => {
    const cluster = result.objects.find((o) => o.kind === 'Cluster');
    const roles = (getPath(cluster, 'spec', 'managed', 'roles') as { name: string }[]).map((r) => r.name);
    expect(roles.length).toBe(3);
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) expect(Buffer.byteLength(role)).toBeLessThanOrEqual(63);
  });

  it('names every composed object within Kubernetes limits', () => {
    for (const object of result.objects) {
      const name = getPath(object, 'metadata', 'name');
      expect(typeof name).toBe('string');
      expect((name as string).length, `${String(object.kind)} ${String(name)}`).toBeLessThanOrEqual(253);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
  });
});
