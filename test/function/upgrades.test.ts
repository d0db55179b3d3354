// Guarded major upgrades (issue 13, item 4): a version lower than the running major is refused and
// nothing changes; a higher one needs a backup to go back to unless the claim opts out; while
// CloudNativePG runs pg_upgrade, status and a condition say from which major to which.
import { Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
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
const withoutObserved = (request: RenderRequest, key: string): RenderRequest => ({
  ...request,
  observed: (request.observed ?? []).filter(
    (o) => getString(o, 'metadata', 'annotations', 'crossplane.io/composition-resource-name') !== key,
  ),
});
const condition = (response: RunFunctionResponse, type: string) =>
  response.conditions.find((c) => c.type === type);
const catalogMajor = (response: RunFunctionResponse): unknown =>
  getPath(response.desired?.resources['cluster']?.resource, 'spec', 'imageCatalogRef', 'major');
const status = (response: RunFunctionResponse): unknown =>
  getPath(response.desired?.composite?.resource, 'status');

function expectRefused(response: RunFunctionResponse, ...fragments: string[]): void {
  expect(response.results).toHaveLength(1);
  const [result] = response.results;
  expect(result).toMatchObject({ severity: Severity.SEVERITY_FATAL, reason: 'InvalidSpec' });
  for (const fragment of fragments) expect(result!.message).toContain(fragment);
  // FATAL: Crossplane applies nothing, so the Cluster keeps the major it runs.
  expect(response.desired?.resources).toEqual({});
  expect(condition(response, 'SpecValid')).toMatchObject({ reason: 'InvalidSpec' });
}

describe('a version lower than the running major', () => {
  it('is refused, naming spec.version and the running version, and nothing changes', () => {
    expectRefused(
      render(requestOf('major-upgrade/xr@downgrade')).response,
      'PostgresInstance observability/telemetry is invalid: spec.version is "17", lower than PostgreSQL 18, the major running in Cluster observability/telemetry',
      'Example: version: "18"',
    );
  });

  it('is refused even when the claim opts out of the backup guard', () => {
    const request = withSpec(requestOf('major-upgrade/xr@downgrade'), {
      upgrade: { allowWithoutBackup: true },
    });
    expectRefused(render(request).response, 'lower than PostgreSQL 18');
  });
});

describe('a higher version', () => {
  it('goes ahead with a successful newest backup and working WAL archiving, saying from which major to which', () => {
    const response = render(requestOf('major-upgrade/xr@allowed')).response;
    expect(response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL)).toEqual([]);
    expect(catalogMajor(response)).toBe(17);
    expect(status(response)).toMatchObject({ version: '16', upgrade: { from: '16', to: '17' } });
    expect(condition(response, 'MajorVersion')).toMatchObject({
      reason: 'UpgradeRequested',
      message: expect.stringContaining('upgrading PostgreSQL 16 to 17') as string,
    });
    expect(condition(response, 'MajorVersion')?.message).toContain('base backup of 2026-11-30T02:00:41Z');
  });

  it('is refused when the newest backup failed, saying what is missing and how to opt out', () => {
    expectRefused(
      render(requestOf('major-upgrade/xr@refused-without-backup')).response,
      'spec.version is "17", a major upgrade from PostgreSQL 16',
      'the newest base backup failed (2026-11-30T02:00:12Z, after the last successful one of 2026-11-29T02:00:38Z)',
      'upgrade: {allowWithoutBackup: true}',
    );
  });

  it('is refused when no base backup has completed yet', () => {
    const request = withoutObserved(requestOf('major-upgrade/xr@allowed'), 'object-store');
    expectRefused(
      render(request).response,
      'ObjectStore observability/telemetry-backup reports no successful base backup yet',
    );
  });

  it('is refused when WAL archiving fails, since the backup cannot be brought up to now', () => {
    const request = requestOf('major-upgrade/xr@allowed');
    const failing = {
      ...request,
      observed: (request.observed ?? []).map((o) =>
        o['kind'] === 'Cluster'
          ? {
              ...o,
              status: {
                ...(o['status'] as JsonObject),
                conditions: [{ type: 'ContinuousArchiving', status: 'False', message: 'exit status 1' }],
              },
            }
          : o,
      ),
    };
    expectRefused(
      render(failing).response,
      'WAL archiving is not working',
      'ContinuousArchiving is False: exit status 1',
    );
  });

  it('is refused without spec.backup, and goes ahead without one when the claim opts out', () => {
    const request = withSpec(requestOf('major-upgrade/xr@allowed'), { backup: undefined });
    expectRefused(render(request).response, 'spec.backup is not set, so there is no backup');

    const optedOut = render(withSpec(request, { upgrade: { allowWithoutBackup: true } })).response;
    expect(catalogMajor(optedOut)).toBe(17);
    expect(condition(optedOut, 'MajorVersion')?.message).toContain(
      'backup: skipped: spec.upgrade.allowWithoutBackup is true',
    );
  });

  it('is not asked for a backup again once the Cluster runs the upgrade (instances and archiving are down)', () => {
    const request = withoutObserved(requestOf('major-upgrade/xr@running'), 'object-store');
    const response = render(request).response;
    expect(response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL)).toEqual([]);
    expect(catalogMajor(response)).toBe(17);
  });
});

describe('an upgrade CloudNativePG is running', () => {
  const response = render(requestOf('major-upgrade/xr@running')).response;

  it('reports from which major to which in status and a False MajorVersion condition', () => {
    expect(status(response)).toMatchObject({ version: '16', upgrade: { from: '16', to: '17' } });
    expect(condition(response, 'MajorVersion')).toMatchObject({
      reason: 'Upgrading',
      message:
        'CloudNativePG is upgrading PostgreSQL 16 to 17 offline with pg_upgrade (phase "Upgrading Postgres major version"); the database is unavailable until it completes',
    });
  });

  it('reports the major as current, with no upgrade in status, once it runs the requested one', () => {
    const done = render(requestOf('agent-executor/xr@ready')).response;
    expect(condition(done, 'MajorVersion')).toMatchObject({ reason: 'Current' });
    expect(getPath(status(done), 'upgrade')).toBeUndefined();
  });
});
