// Verified restores (issue 13, item 2): backup.verify restores a throwaway, isolated clone from the
// latest backup on a schedule, times it, records the result in the XR's status and removes the
// clone; failed and overdue verifications are conditions and alerts. Stateless: every decision
// comes from the XR's status, the observed objects and the request's time.
import { Severity, Status, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { requestClock } from '../../src/function/server/clock.js';
import { buildRequest, render, type RenderRequest } from '../../src/render/render.js';
import { nextFire, parseCron } from '../../src/shared/cron.js';
import { getPath, type JsonObject } from '../../src/shared/json.js';
import { EXAMPLES_NOW, exampleCases } from '../support/examples.js';

const cases = exampleCases();
const example = (id: string): RenderRequest => {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no example ${id}`);
  return structuredClone(found.request);
};
const at = (request: RenderRequest, now: string): RenderRequest => ({ ...request, now: new Date(now) });
const respond = (request: RenderRequest) => render(request).response;
const verification = (response: RunFunctionResponse) =>
  getPath(response.desired?.composite?.resource, 'status', 'verification') as JsonObject;
const condition = (response: RunFunctionResponse) =>
  response.conditions.find((c) => c.type === 'RestoreVerified');
const keys = (response: RunFunctionResponse) => Object.keys(response.desired?.resources ?? {});
const alerts = (response: RunFunctionResponse) =>
  (
    getPath(response.desired?.resources['prometheus-rule']?.resource, 'spec', 'groups', '0', 'rules') as
      JsonObject[] | undefined
  )?.filter((r) => String(r.alert).startsWith('PostgresRestoreVerification')) ?? [];
const resource = (response: RunFunctionResponse, key: string) =>
  response.desired?.resources[key]?.resource as JsonObject;

/** The passed example's response, as Crossplane writes it back: the status the next call observes. */
function afterPassing(): RenderRequest {
  const passed = respond(example('verify/xr@passed'));
  const next = example('verify/xr@due');
  next.xr.status = { verification: verification(passed) };
  return next;
}

describe('a verification that is due', () => {
  const response = respond(example('verify/xr@due'));

  it('composes one clone from the latest base backup, stopping when it is consistent', () => {
    const clone = resource(response, 'verify-clone');
    expect(clone).toMatchObject({
      kind: 'Cluster',
      metadata: {
        name: 'orders-verify',
        namespace: 'shop',
        annotations: { 'pgplane.io/verify-backup': '2026-12-06T02:31:12Z' },
      },
      spec: {
        instances: 1,
        bootstrap: { recovery: { source: 'orders', recoveryTarget: { targetImmediate: true } } },
        externalClusters: [
          {
            name: 'orders',
            plugin: { parameters: { barmanObjectName: 'orders-backup', serverName: 'orders' } },
          },
        ],
      },
    });
  });

  it('runs the clone small, archiving nothing, with no roles, credentials, pooler or monitoring of its own', () => {
    const spec = getPath(resource(response, 'verify-clone'), 'spec') as JsonObject;
    expect(spec.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1000m', memory: '1Gi' },
    });
    expect(spec).not.toHaveProperty('plugins');
    expect(spec).not.toHaveProperty('managed');
    expect(getPath(spec, 'bootstrap', 'recovery')).not.toHaveProperty('secret');
    // PostgreSQL refuses to recover with fewer connections than the instance had.
    expect(getPath(spec, 'postgresql', 'parameters', 'max_connections')).toBe(
      getPath(resource(response, 'cluster'), 'spec', 'postgresql', 'parameters', 'max_connections'),
    );
    const cloneKeys = keys(response).filter((k) => k.startsWith('verify-'));
    expect(cloneKeys).toEqual(['verify-clone', 'verify-network-policy']);
  });

  it('isolates the clone: only the CNPG operator may reach its status port', () => {
    expect(getPath(resource(response, 'verify-network-policy'), 'spec')).toEqual({
      podSelector: { matchLabels: { 'cnpg.io/cluster': 'orders-verify' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cnpg-system' } } }],
          ports: [{ protocol: 'TCP', port: 8000 }],
        },
      ],
    });
  });

  it('never holds the XR back: the clone counts as ready', () => {
    expect(response.desired?.resources['verify-clone']?.ready).toBe(1);
  });

  it('waits for a completed base backup, a ready instance, and an instance that is not hibernated', () => {
    const noBackup = example('verify/xr@due');
    const store = noBackup.observed!.find((o) => o.kind === 'ObjectStore')!;
    store.status = {};
    expect(keys(respond(noBackup))).not.toContain('verify-clone');
    expect(verification(respond(noBackup)).message).toContain('there is no completed base backup yet');

    const hibernated = example('verify/xr@due');
    (hibernated.xr.spec as JsonObject).hibernate = true;
    expect(keys(respond(hibernated))).not.toContain('verify-clone');
    expect(condition(respond(hibernated))).toMatchObject({ reason: 'Paused' });

    expect(keys(respond(example('verify/xr')))).not.toContain('verify-clone');
  });
});

describe('while it runs, and when it ends', () => {
  it('keeps the clone while it restores, and says so', () => {
    const response = respond(example('verify/xr@running'));
    expect(keys(response)).toContain('verify-clone');
    expect(verification(response)).toMatchObject({ phase: 'Running', lastStarted: '2026-12-06T05:00:04Z' });
  });

  it('records a pass: when, from which backup, the measured RTO and the point recovered to; then removes the clone', () => {
    const response = respond(example('verify/xr@passed'));
    expect(verification(response)).toMatchObject({
      phase: 'Passed',
      lastResult: 'Passed',
      lastVerified: '2026-12-06T05:18:46Z',
      backup: 'base backup completed at 2026-12-06T02:31:12Z',
      recoveredTo: '2026-12-06T02:31:12Z',
      // 05:00:04 to 05:18:46.
      durationSeconds: 1122,
      // Next Sunday 05:00 plus the 6h timeout.
      dueBy: '2026-12-13T11:00:00Z',
    });
    expect(keys(response).filter((k) => k.startsWith('verify-'))).toEqual([]);
    expect(condition(response)).toMatchObject({ status: Status.STATUS_CONDITION_TRUE, reason: 'Verified' });
  });

  it('fails a clone that is not ready within the timeout, removes it, and raises the condition and alert', () => {
    const response = respond(example('verify/xr@failed'));
    expect(verification(response)).toMatchObject({
      phase: 'Failed',
      lastResult: 'Failed',
      lastFailed: '2026-12-06T02:00:04Z',
    });
    expect(keys(response)).not.toContain('verify-clone');
    expect(condition(response)).toMatchObject({ status: Status.STATUS_CONDITION_FALSE, reason: 'Failed' });
    expect(alerts(response).map((a) => a.alert)).toEqual(['PostgresRestoreVerificationFailed']);
  });

  it('fails a clone CNPG reports as failed without waiting for the timeout', () => {
    const request = example('verify/xr@running');
    const clone = request.observed!.find((o) => getPath(o, 'metadata', 'name') === 'orders-verify')!;
    clone.status = { phase: 'Failed to restore', phaseReason: 'no target backup found' };
    expect(verification(respond(request))).toMatchObject({
      phase: 'Failed',
      lastFailure:
        'clone orders-verify failed: CloudNativePG phase "Failed to restore": no target backup found',
    });
  });
});

describe('what is due, from status and the clock alone', () => {
  it('does not start the next verification in the response that records a pass, nor before the next schedule', () => {
    const passed = respond(example('verify/xr@passed'));
    expect(keys(passed)).not.toContain('verify-clone');
    const sameWeek = respond(at(afterPassing(), '2026-12-12T23:00:00Z'));
    expect(keys(sameWeek)).not.toContain('verify-clone');
    expect(verification(sameWeek)).toMatchObject({
      phase: 'Passed',
      lastVerified: '2026-12-06T05:18:46Z',
      message: expect.stringContaining('next at 2026-12-13T05:00:00Z'),
    });
  });

  it('starts the next one at the next scheduled time, keeping the last result in status', () => {
    const nextWeek = respond(at(afterPassing(), '2026-12-13T05:00:30Z'));
    expect(keys(nextWeek)).toContain('verify-clone');
    expect(verification(nextWeek)).toMatchObject({ phase: 'Running', lastVerified: '2026-12-06T05:18:46Z' });
    expect(condition(nextWeek)).toMatchObject({ status: Status.STATUS_CONDITION_TRUE });
  });

  it('is overdue once a scheduled verification has not passed by its timeout, and the alert fires by itself', () => {
    const overdue = respond(example('verify-overdue/xr@overdue'));
    expect(condition(overdue)).toMatchObject({
      status: Status.STATUS_CONDITION_FALSE,
      reason: 'Overdue',
      message: 'no restore verified since 2026-11-15T05:19:31Z; one was due by 2026-11-22T11:00:00Z',
    });
    // A deadline, not a flag: Prometheus fires it after 2026-11-22T11:00:00Z even if pgplane stops.
    expect(alerts(overdue)).toEqual([
      expect.objectContaining({
        alert: 'PostgresRestoreVerificationOverdue',
        expr: `time() > ${Date.parse('2026-11-22T11:00:00Z') / 1000}`,
      }),
    ]);
    expect(keys(overdue)).toContain('verify-clone');
  });

  it('judges the first verification from the XR creation time', () => {
    const request = example('verify/xr@due');
    (request.xr.metadata as JsonObject).creationTimestamp = '2026-12-06T05:10:00Z';
    const response = respond(request);
    expect(keys(response)).not.toContain('verify-clone');
    expect(verification(response).message).toContain('next at 2026-12-13T05:00:00Z');
  });

  it('is pure: the same request at the same time gives the same response', () => {
    const request = buildRequest(example('verify/xr@running'));
    expect(runFunction(request, undefined, EXAMPLES_NOW)).toEqual(
      runFunction(request, undefined, EXAMPLES_NOW),
    );
  });
});

describe('backup.verify is validated', () => {
  const withVerify = (verify: JsonObject) => {
    const request = example('verify/xr');
    (getPath(request.xr, 'spec', 'backup') as JsonObject).verify = verify;
    const response = respond(request);
    expect(keys(response)).toEqual([]);
    return response.results.find((r) => r.severity === Severity.SEVERITY_FATAL)?.message ?? '';
  };

  it('refuses schedules that are not six-field cron, are out of range, or never fire', () => {
    expect(withVerify({ schedule: '0 5 * * 0' })).toContain(
      'spec.backup.verify.schedule "0 5 * * 0" has 5 fields; six are needed, seconds first',
    );
    expect(withVerify({ schedule: '0 0 25 * * *' })).toContain('the hour field "25" is outside 0-23');
    expect(withVerify({ schedule: '0 0 5 * * SUN' })).toContain(
      'the day of week field "SUN" is not a number',
    );
    expect(withVerify({ schedule: '0 0 5 31 2 *' })).toContain('never fires (no such date)');
    expect(withVerify({ schedule: '0 0 5 * * 0'.repeat(20) })).toContain(
      'is too long (at most 64 characters)',
    );
  });

  it('refuses timeouts that are not whole hours or minutes up to 48h', () => {
    expect(withVerify({ schedule: '0 0 5 * * 0', timeout: '3d' })).toContain(
      'spec.backup.verify.timeout "3d" must be whole hours or minutes, like 6h or 90m',
    );
    expect(withVerify({ schedule: '0 0 5 * * 0', timeout: '49h' })).toContain('must be at most 48h');
  });
});

describe('the cron schedule and the clock', () => {
  const schedule = (text: string) => {
    const parsed = parseCron(text);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.schedule;
  };

  it('finds the next fire time with steps, ranges, lists and either day field', () => {
    expect(nextFire(schedule('0 */15 9-17 * * 1-5'), new Date('2026-12-04T17:50:00Z'))).toEqual(
      new Date('2026-12-07T09:00:00Z'),
    );
    expect(nextFire(schedule('30 0 3 1,15 * *'), new Date('2026-12-01T03:00:30Z'))).toEqual(
      new Date('2026-12-15T03:00:30Z'),
    );
    // Day of month 13 or a Friday, as classic cron reads two restricted day fields.
    expect(nextFire(schedule('0 0 0 13 * 5'), new Date('2026-12-06T00:00:00Z'))).toEqual(
      new Date('2026-12-11T00:00:00Z'),
    );
    expect(nextFire(schedule('0 0 5 * * 7'), new Date('2026-12-06T05:00:00Z'))).toEqual(
      new Date('2026-12-13T05:00:00Z'),
    );
  });

  it('reads a fixed time from PGPLANE_FUNCTION_NOW at the edge, else the clock', () => {
    expect(requestClock({ PGPLANE_FUNCTION_NOW: '2026-12-06T05:30:00Z' })()).toEqual(EXAMPLES_NOW);
    expect(() => requestClock({ PGPLANE_FUNCTION_NOW: 'soon' })).toThrow('is not an RFC 3339 time');
    const before = Date.now();
    expect(requestClock({})().getTime()).toBeGreaterThanOrEqual(before);
  });
});
