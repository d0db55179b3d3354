// The Grant reconciler with in-memory stores and a scripted engine: finalizer, paused,
// management policies, deletion and orphaning, conditions, status, events. No Kubernetes.
import { revocationParameters } from '../../src/grants/revocation.js';
import { describe, expect, it } from 'vitest';
import { memoryStore } from './support/memory-store.js';
import type {
  ApplyClient,
  GrantInput,
  Plan,
  ReconcileOptions,
  ReconcileResult,
} from '../../src/grants/index.js';
import type {
  ConnectionSource,
  ProviderConfigRef,
  SecretRef,
  ServerConnection,
} from '../../src/provider/connection.js';
import { ConnectionConfigError } from '../../src/provider/connection.js';
import { GrantReconciler, type GrantObject } from '../../src/provider/grant/reconciler.js';
import { FINALIZER } from '../../src/provider/managed/reconciler.js';

const PASSWORD = 'hunter2-very-secret';
const KEY = 'team/app-read';
const now = new Date('2025-02-03T04:05:06Z');

function grant(
  overrides: { spec?: Record<string, unknown>; metadata?: Partial<GrantObject['metadata']> } = {},
): GrantObject {
  return {
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Grant',
    metadata: {
      name: 'app-read',
      namespace: 'team',
      generation: 1,
      resourceVersion: '1',
      ...overrides.metadata,
    },
    spec: {
      forProvider: {
        database: 'app',
        grantee: 'reader',
        tables: [{ schema: 'public', objects: ['*'], privileges: ['SELECT'] }],
      },
      providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
      ...overrides.spec,
    },
  };
}

const emptyPlan = (overrides: Partial<Plan> = {}): Plan => ({
  database: 'app',
  statements: [],
  drift: [],
  records: {},
  problems: [],
  ...overrides,
});
const missingSelect: Plan = emptyPlan({
  statements: [
    {
      action: 'GRANT',
      objectType: 'TABLE',
      grant: KEY,
      grantee: 'reader',
      privileges: ['SELECT'],
      objects: ['TABLE "public"."orders"'],
      sql: 'GRANT SELECT ...',
    },
  ],
  drift: [{ grant: KEY, object: 'TABLE "public"."orders"', missing: ['SELECT'], extra: [] }],
  records: {
    [KEY]: { grantee: 'reader', grants: ['SELECT ON TABLE "public"."orders"'], schemas: ['public'] },
  },
});

function harness(
  initial: GrantObject | undefined,
  engineResults: ((input: readonly GrantInput[], options: ReconcileOptions) => ReconcileResult)[] = [],
) {
  const memory = memoryStore(initial);
  const events: string[] = [];
  const calls: { input: readonly GrantInput[]; options: ReconcileOptions }[] = [];
  const dependencies: unknown[] = [];
  let connectError: Error | ((c: ServerConnection) => Error) | undefined;
  let sourceError: Error | undefined;
  let sourceSpec: ConnectionSource['spec'] = { connectionSecretRef: { name: 'owner' }, sslmode: 'disable' };
  let secretData: Record<string, string> = {
    username: 'owner',
    password: PASSWORD,
    host: 'db',
    port: '5432',
  };
  const connections: string[] = [];
  const inUse: string[] = [];
  const reconciler = new GrantReconciler({
    pollMs: 600_000,
    now: () => now,
    grants: memory.store,
    configs: {
      source: async (ref: ProviderConfigRef, namespace: string): Promise<ConnectionSource> => {
        if (sourceError) throw sourceError;
        return { kind: ref.kind, name: ref.name, namespace, spec: sourceSpec };
      },
      readSecret: async (ref: SecretRef) =>
        ref.name === 'owner' ? { data: secretData, version: '1' } : undefined,
      markInUse: async (ref: ProviderConfigRef, namespace: string) => {
        inUse.push(`${ref.kind} ${namespace}/${ref.name}`);
        connections.push('mark in use');
      },
    },
    databases: {
      withClient: async <T>(
        connection: ServerConnection,
        database: string,
        fn: (c: ApplyClient) => Promise<T>,
      ) => {
        connections.push(`${connection.user}@${connection.host}/${database}`);
        if (connectError) throw typeof connectError === 'function' ? connectError(connection) : connectError;
        // The scripted engine never touches the client.
        return fn({ query: undefined as never, on: () => undefined, off: () => undefined });
      },
    },
    events: { record: (_g, type, reason, note) => events.push(`${type} ${reason}: ${note}`) },
    engine: async (_client, input, options = {}) => {
      calls.push({ input, options });
      const next = engineResults.shift();
      if (!next) throw new Error('unexpected engine call');
      return next(input, options);
    },
    observer: { dependencies: (key, deps) => dependencies.push([key, deps]) },
  });
  return {
    reconciler,
    events,
    calls,
    statusWrites: memory.statusWrites,
    dependencies,
    connections,
    inUse,
    stored: memory.stored,
    setConnectError: (e: Error | ((c: ServerConnection) => Error) | undefined) => (connectError = e),
    setConfig: (spec: ConnectionSource['spec'], data: Record<string, string>) => {
      sourceSpec = spec;
      secretData = data;
    },
    setSourceError: (e: Error | undefined) => (sourceError = e),
  };
}

const conditionsOf = (g: GrantObject | undefined) =>
  (g?.status?.conditions ?? []).map(
    (c) => `${c.type}=${c.status}/${c.reason}${c.message ? `: ${c.message}` : ''}`,
  );

describe('GrantReconciler', () => {
  it('adds the finalizer, applies, then verifies, and reports Synced and Ready with the record', async () => {
    const h = harness(grant(), [
      () => ({ database: 'app', plan: missingSelect, applied: true, roundTrips: 3 }),
      () => ({
        database: 'app',
        plan: emptyPlan({ records: missingSelect.records }),
        applied: false,
        roundTrips: 1,
      }),
    ]);
    const report = await h.reconciler.reconcile(KEY);
    expect(report).toEqual({ result: 'applied', requeueAfterMs: 600_000 });
    expect(h.stored()?.metadata.finalizers).toEqual([FINALIZER]);
    expect(h.calls.map((c) => c.options.dryRun)).toEqual([false, true]);
    expect(h.calls[0]!.input[0]).toMatchObject({ name: KEY, previous: undefined });
    expect(h.calls[1]!.input[0]!.previous).toEqual(missingSelect.records[KEY]);
    expect(conditionsOf(h.stored())).toEqual(['Synced=True/ReconcileSuccess', 'Ready=True/Available']);
    expect(h.stored()?.status).toMatchObject({
      observedGeneration: 1,
      atProvider: {
        database: 'app',
        grantee: 'reader',
        drift: { missing: 0, extra: 0 },
        lastCorrection: { time: now.toISOString(), statements: 1, granted: 1, revoked: 0 },
        record: missingSelect.records[KEY],
      },
    });
    expect(h.events).toEqual([
      'Normal PrivilegesApplied: granted 1 and revoked 0 privilege(s) of "reader" in database "app" (1 statement(s)): 1 declared privilege(s) missing (e.g. SELECT ON TABLE "public"."orders")',
    ]);
    expect(h.dependencies.at(-1)).toEqual([
      KEY,
      {
        providerConfig: { kind: 'ProviderConfig', name: 'pg' },
        secrets: [{ namespace: 'team', name: 'owner' }],
      },
    ]);
  });

  it('writes nothing when a poll finds the database in sync', async () => {
    const h = harness(grant(), [
      () => ({
        database: 'app',
        plan: emptyPlan({ records: missingSelect.records }),
        applied: false,
        roundTrips: 1,
      }),
      () => ({
        database: 'app',
        plan: emptyPlan({ records: missingSelect.records }),
        applied: false,
        roundTrips: 1,
      }),
    ]);
    await h.reconciler.reconcile(KEY);
    const writes = h.statusWrites.length;
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'in-sync', requeueAfterMs: 600_000 });
    expect(h.statusWrites).toHaveLength(writes);
  });

  it('with managementPolicies [Observe] applies nothing and reports the drift', async () => {
    const h = harness(grant({ spec: { managementPolicies: ['Observe'] } }), [
      () => ({ database: 'app', plan: missingSelect, applied: false, roundTrips: 1 }),
    ]);
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'observed', requeueAfterMs: 600_000 });
    expect(h.calls.map((c) => c.options.dryRun)).toEqual([true]);
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=True/ReconcileSuccess',
      'Ready=False/Drifted: 1 declared privilege(s) missing (e.g. SELECT ON TABLE "public"."orders"); not applied because managementPolicies is [Observe]',
    ]);
    expect(h.stored()?.status?.atProvider?.drift).toEqual({
      missing: 1,
      extra: 0,
      missingSample: ['SELECT ON TABLE "public"."orders"'],
    });
    // Nothing was granted, so the record stays empty.
    expect(h.stored()?.status?.atProvider?.record).toBeUndefined();
    expect(h.events).toEqual([expect.stringMatching(/^Warning DriftObserved: 1 declared privilege/)]);
  });

  it('honours crossplane.io/paused: no database access, Synced=False ReconcilePaused', async () => {
    const h = harness(grant({ metadata: { annotations: { 'crossplane.io/paused': 'true' } } }));
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'paused' });
    expect(h.connections).toEqual([]);
    expect(conditionsOf(h.stored())).toEqual([
      expect.stringMatching(/^Synced=False\/ReconcilePaused: Reconciliation is paused/),
    ]);
  });

  it('a connection failure is Synced=False with what was being done, retried with backoff, and never shows the password', async () => {
    const h = harness(grant());
    h.setConnectError(new Error('password authentication failed for user "owner"'));
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'error', failed: true });
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=False/ReconcileError: cannot connect to <username>@<host>:<port>/app (sslmode disable) using ProviderConfig "team/pg" with Secret "team/owner": password authentication failed for user "<username>"',
      'Ready=False/Creating: privileges not applied yet',
    ]);
    expect(h.events).toHaveLength(1);
    // The same error again: no second event.
    await h.reconciler.reconcile(KEY);
    expect(h.events).toHaveLength(1);
    expect(JSON.stringify([h.stored(), h.events, h.statusWrites])).not.toContain(PASSWORD);
  });

  describe('a ProviderConfig mapping connection fields to other keys of its Secret', () => {
    const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    const LONG = `${STRIPE}-${'q'.repeat(70)}`;
    const data = {
      username: 'owner',
      password: PASSWORD,
      host: 'db',
      port: '5432',
      'stripe-key': STRIPE,
      long: LONG,
    };
    const withCode = (code: string, message: string) => Object.assign(new Error(message), { code });
    // What pg and Node say, built from the values the provider connected with, as they would.
    it.each<[string, Record<string, string>, ((c: ServerConnection) => Error) | undefined]>([
      [
        'user: wrong password',
        { user: 'stripe-key' },
        (c) => withCode('28P01', `password authentication failed for user "${c.user}"`),
      ],
      [
        'user: no such role (63-byte echo)',
        { user: 'long' },
        (c) => withCode('28000', `role "${c.user.slice(0, 63)}" does not exist`),
      ],
      [
        'user: the password itself',
        { user: 'password' },
        (c) => withCode('28P01', `password authentication failed for user "${c.user}"`),
      ],
      ['host: DNS', { host: 'stripe-key' }, (c) => withCode('ENOTFOUND', `getaddrinfo ENOTFOUND ${c.host}`)],
      [
        'host: TLS',
        { host: 'stripe-key' },
        (c) =>
          withCode(
            'ERR_TLS_CERT_ALTNAME_INVALID',
            `Hostname/IP does not match certificate's altnames: Host: ${c.host.toLowerCase()}. is not in the cert's altnames: DNS:db`,
          ),
      ],
      [
        'host and user: an unknown error',
        { host: 'stripe-key', user: 'password' },
        (c) => new Error(`odd failure for ${c.user}@${c.host}:${c.port}`),
      ],
      ['sslmode', { sslmode: 'stripe-key' }, undefined],
      ['port', { port: 'stripe-key' }, undefined],
      ['every key', { host: 'stripe-key', port: 'password', user: 'long', sslmode: 'password' }, undefined],
    ])('%s: conditions and events name keys, never values', async (_what, keys, failure) => {
      const h = harness(grant());
      h.setConfig({ connectionSecretRef: { name: 'owner' }, keys }, data);
      h.setConnectError(failure ?? (() => new Error('not reached')));
      expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'error', failed: true });
      const written = JSON.stringify([h.stored(), h.events, h.statusWrites]);
      expect(conditionsOf(h.stored())[0]).toMatch(/^Synced=False\/ReconcileError: /);
      for (const value of [STRIPE, PASSWORD, LONG.slice(0, 63), STRIPE.toLowerCase()])
        expect(written).not.toContain(value);
      expect(conditionsOf(h.stored())[0]).toMatch(/Secret "team\/owner"|<stripe-key>|<long>|<password>/);
    });

    it('the server echoing the user while observing or applying is scrubbed too, our own words are not', async () => {
      const h = harness(grant(), [
        () => {
          throw new Error(`permission denied for role "${STRIPE}" in database app`);
        },
      ]);
      h.setConfig({ connectionSecretRef: { name: 'owner' }, keys: { user: 'stripe-key' } }, data);
      await h.reconciler.reconcile(KEY);
      expect(conditionsOf(h.stored())[0]).toBe(
        'Synced=False/ReconcileError: cannot observe privileges of "reader" in database "app": permission denied for role "<stripe-key>" in database app',
      );
    });
  });

  it('a missing ProviderConfig is a readable error and still registers the dependency', async () => {
    const h = harness(grant());
    h.setSourceError(new ConnectionConfigError('ProviderConfig "team/pg" does not exist'));
    await h.reconciler.reconcile(KEY);
    expect(conditionsOf(h.stored())[0]).toBe(
      'Synced=False/ReconcileError: ProviderConfig "team/pg" does not exist',
    );
    expect(h.dependencies).toContainEqual([
      KEY,
      { providerConfig: { kind: 'ProviderConfig', name: 'pg' }, secrets: [] },
    ]);
  });

  it('an invalid spec is reported with the field and an example, without touching the database', async () => {
    const bad = grant({
      spec: {
        forProvider: {
          database: 'app',
          grantee: 'reader',
          tables: [{ schema: 'public', objects: ['*', 'x'], privileges: ['SELECT'] }],
        },
      },
    });
    const h = harness(bad);
    await h.reconciler.reconcile(KEY);
    expect(h.connections).toEqual([]);
    expect(conditionsOf(h.stored())[0]).toMatch(
      /^Synced=False\/ReconcileError: invalid spec: spec.forProvider.tables\[0\].objects: mixes "\*" with names/,
    );
  });

  it('deletion revokes what the record holds, then removes the finalizer', async () => {
    const record = missingSelect.records[KEY]!;
    const deleting = grant({ metadata: { finalizers: [FINALIZER], deletionTimestamp: now.toISOString() } });
    deleting.status = { atProvider: { record } };
    const revoke = emptyPlan({
      statements: [
        {
          action: 'REVOKE',
          objectType: 'TABLE',
          grant: KEY,
          grantee: 'reader',
          privileges: ['SELECT'],
          objects: ['TABLE "public"."orders"'],
          sql: '',
        },
      ],
    });
    const h = harness(deleting, [() => ({ database: 'app', plan: revoke, applied: true, roundTrips: 4 })]);
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'deleted' });
    // Not Ready from the moment deletion started, before anything was revoked.
    expect(JSON.stringify(h.statusWrites[0])).toContain('"reason":"Deleting"');
    expect(h.inUse).toEqual(['ProviderConfig team/pg']);
    expect(h.calls[0]!.input[0]).toEqual({
      name: KEY,
      parameters: { database: 'app', grantee: 'reader', mode: 'additive' },
      previous: record,
    });
    expect(h.stored()).toBeUndefined();
    expect(h.events).toEqual([
      'Normal PrivilegesRevoked: revoked 1 privilege(s) of "reader" in database "app"',
    ]);
  });

  it('deletion that cannot reach the database keeps the finalizer, reports why, and is not Ready', async () => {
    const ready = grant({ metadata: { finalizers: [FINALIZER], deletionTimestamp: now.toISOString() } });
    ready.status = {
      conditions: [
        { type: 'Synced', status: 'True', reason: 'ReconcileSuccess', lastTransitionTime: now.toISOString() },
        { type: 'Ready', status: 'True', reason: 'Available', lastTransitionTime: now.toISOString() },
      ],
    };
    const h = harness(ready);
    h.setConnectError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    );
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'error', failed: true });
    expect(h.stored()?.metadata.finalizers).toEqual([FINALIZER]);
    expect(conditionsOf(h.stored())).toEqual([
      'Synced=False/ReconcileError: cannot connect to <username>@<host>:<port>/app (sslmode disable) using ProviderConfig "team/pg" with Secret "team/owner": connection refused (ECONNREFUSED)',
      'Ready=False/Deleting: revoking the privileges of "reader" in database "app" before the Grant goes (deletionPolicy Delete); to leave them in place instead, set spec.deletionPolicy: Orphan',
    ]);
  });

  it('a deleting Grant whose ProviderConfig is gone says so, is not Ready, and keeps its finalizer', async () => {
    const h = harness(grant({ metadata: { finalizers: [FINALIZER], deletionTimestamp: now.toISOString() } }));
    h.setSourceError(
      new ConnectionConfigError('ProviderConfig "team/pg" named by spec.providerConfigRef does not exist'),
    );
    await h.reconciler.reconcile(KEY);
    expect(h.stored()?.metadata.finalizers).toEqual([FINALIZER]);
    expect(conditionsOf(h.stored())[1]).toMatch(/^Ready=False\/Deleting: .*set spec.deletionPolicy: Orphan/);
  });

  it('marks the ProviderConfig in use before connecting, for syncs and deletions', async () => {
    const h = harness(grant(), [
      () => ({ database: 'app', plan: emptyPlan(), applied: false, roundTrips: 1 }),
      () => ({ database: 'app', plan: emptyPlan(), applied: false, roundTrips: 1 }),
    ]);
    await h.reconciler.reconcile(KEY);
    expect(h.inUse).toEqual(['ProviderConfig team/pg']);
    expect(h.connections).toEqual(['mark in use', 'owner@db/app']);
  });

  it.each([
    ['deletionPolicy Orphan', { deletionPolicy: 'Orphan' }],
    ['managementPolicies without Delete', { managementPolicies: ['Observe', 'Create', 'Update'] }],
  ])('%s leaves the privileges and removes the finalizer', async (_name, spec) => {
    const h = harness(
      grant({ spec, metadata: { finalizers: [FINALIZER], deletionTimestamp: now.toISOString() } }),
    );
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'orphaned' });
    expect(h.calls).toEqual([]);
    expect(h.stored()).toBeUndefined();
    expect(h.events[0]).toMatch(/^Normal Orphaned: privileges of "reader" in database "app" left in place/);
  });

  it('a Grant that is gone is forgotten', async () => {
    const h = harness(undefined);
    expect(await h.reconciler.reconcile(KEY)).toEqual({ result: 'gone' });
    expect(h.dependencies).toEqual([[KEY, undefined]]);
  });

  it('authoritative deletion revokes every declared scope', () => {
    expect(
      revocationParameters({
        database: 'app',
        grantee: 'r',
        mode: 'authoritative',
        databasePrivileges: ['CONNECT'],
        schemas: [{ name: 'public', privileges: ['USAGE'] }],
        tables: [{ schema: 'public', objects: ['*'], privileges: ['SELECT'] }],
        memberships: [{ role: 'x' }],
      }),
    ).toEqual({
      database: 'app',
      grantee: 'r',
      mode: 'authoritative',
      databasePrivileges: [],
      schemas: [{ name: 'public', privileges: [] }],
      tables: [{ schema: 'public', objects: ['*'], privileges: [] }],
      memberships: [],
    });
  });
});
