// The grants provider end to end: a real kube-apiserver + etcd (test/tools/kube), the provider
// as a real process (dist/), and a real PostgreSQL 18 with SCRAM auth that the test kills and
// restarts. The provider connects as the database OWNER (no superuser), as with CNPG.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreV1Api,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type pg from 'pg';
import { installKubeTools, startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver.js';
import {
  condition,
  eventually,
  grantsApi,
  installProviderCrds,
  isConverged,
  startKillablePostgres,
  startProvider,
  type GrantView,
  type KillablePostgres,
  type ProviderProcess,
} from '../provider/support/e2e.js';

const NS = 'team';
const OWNER_PASSWORD = 'owner-Secret-3f9a1c';
const WRONG_PASSWORD = 'definitely-Wrong-77b2';
const POLL = '5s';
// Generous: reconciles take milliseconds, but the machine is shared and small.
const WAIT = 90_000;

describe('grants provider against a real API server and PostgreSQL', () => {
  let cluster: KubeApiServer | undefined;
  let kc: KubeConfig;
  let pgServer: KillablePostgres | undefined;
  let provider: ProviderProcess | undefined;
  let admin: pg.Client;
  let grants: ReturnType<typeof grantsApi>;
  let core: CoreV1Api;

  const has = async (role: string, table: string, privilege: string): Promise<boolean> => {
    const { rows } = await admin.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2, $3) AS ok', [
      role,
      table,
      privilege,
    ]);
    return rows[0]!.ok;
  };
  const grantDoc = (name: string, forProvider: object, extra: object = {}) => ({
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Grant',
    metadata: { name, namespace: NS },
    spec: { forProvider, providerConfigRef: { kind: 'ProviderConfig', name: 'app-db' }, ...extra },
  });
  const edit = async (name: string, change: (g: GrantView) => void): Promise<void> => {
    // Read-modify-replace with a retry on conflict: what `kubectl edit` does.
    await eventually(`edit of ${name}`, async () => {
      const current = await grants.get(NS, name);
      if (!current) throw new Error(`${name} not found`);
      change(current);
      await grants.replace(NS, name, current);
      return true;
    });
  };
  const converged = (name: string, within = WAIT) =>
    eventually(
      `${name} Synced=True and Ready=True`,
      async () => {
        const g = await grants.get(NS, name);
        return isConverged(g) ? g : undefined;
      },
      within,
    );
  const setPassword = (password: string) =>
    core.patchNamespacedSecret(
      { name: 'app-owner', namespace: NS, body: { stringData: { password } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  beforeAll(async () => {
    const binDir = await installKubeTools();
    cluster = await startKubeApiServer({ binDir });
    kc = cluster.kubeConfig();
    await installProviderCrds(kc);
    grants = grantsApi(kc);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });

    pgServer = await startKillablePostgres();
    admin = await pgServer.connect();
    // The application database belongs to its owner, which creates the tables, as with CNPG.
    await admin.query(`CREATE ROLE app_owner LOGIN PASSWORD '${OWNER_PASSWORD}'`);
    await admin.query('CREATE ROLE app_reader');
    await admin.query('CREATE ROLE app_auditor');
    await admin.query('CREATE ROLE app_orphan');
    for (const role of ['app_gc', 'app_gc_both', 'app_gc_orphan', 'app_gc_stuck'])
      await admin.query(`CREATE ROLE ${role}`);
    await admin.query('CREATE DATABASE app OWNER app_owner');
    await admin.end();
    admin = await pgServer.connect('app');
    await admin.query('SET ROLE app_owner');
    await admin.query('CREATE TABLE public.orders (id int)');
    await admin.query('CREATE TABLE public.customers (id int)');
    await admin.query('RESET ROLE');

    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'app-owner' },
        type: 'kubernetes.io/basic-auth',
        stringData: {
          username: 'app_owner',
          password: OWNER_PASSWORD,
          host: '127.0.0.1',
          port: String(pgServer.port),
        },
      },
    });
    await grants.createProviderConfig(NS, {
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'ProviderConfig',
      metadata: { name: 'app-db', namespace: NS },
      spec: { connectionSecretRef: { name: 'app-owner' }, sslmode: 'disable' },
    });
    provider = await startProvider(cluster.kubeconfigPath, [
      '--poll',
      POLL,
      '--leader-election',
      '--leader-election-namespace',
      'default',
      '--pool-size',
      '2',
      '--debug',
    ]);
  }, 45 * 60_000);

  afterAll(async () => {
    if (provider) {
      // Graceful shutdown: SIGTERM ends with exit code 0.
      expect(await provider.stop()).toBe(0);
    }
    await admin?.end().catch(() => undefined);
    await pgServer?.stop();
    await cluster?.stop();
  }, 120_000);

  it('applying a Grant makes the privileges real, adds the finalizer and reports Ready and Synced', async () => {
    await grants.create(
      NS,
      grantDoc('app-read', {
        database: 'app',
        grantee: 'app_reader',
        databasePrivileges: ['CONNECT'],
        schemas: [{ name: 'public', privileges: ['USAGE'] }],
        tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT'] }],
      }),
    );
    const g = await converged('app-read');
    expect(await has('app_reader', 'public.orders', 'SELECT')).toBe(true);
    expect(g.metadata.finalizers).toContain('grants.pgplane.io/finalizer');
    expect(condition(g, 'Ready')?.reason).toBe('Available');
    expect(g.status?.atProvider?.drift).toEqual({ missing: 0, extra: 0 });
    // Events are written after the status, without blocking the reconcile.
    const notes = await eventually('a PrivilegesApplied event', async () => {
      const events = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
      const found = events.items
        .map((e) => `${e.reason}: ${e.note}`)
        .filter((n) => n.startsWith('PrivilegesApplied'));
      if (found.length === 0)
        throw new Error(
          provider!
            .output()
            .split('\n')
            .filter((l) => l.includes('event'))
            .join('\n'),
        );
      return found;
    });
    expect(notes[0]).toMatch(/^PrivilegesApplied: granted 3 and revoked 0 privilege\(s\) of "app_reader"/);
  });

  it('editing the Grant converges: a privilege added is granted, one removed is revoked', async () => {
    await edit('app-read', (g) => {
      (g.spec['forProvider'] as { tables: unknown[] }).tables = [
        { schema: 'public', objects: ['orders', 'customers'], privileges: ['SELECT', 'INSERT'] },
      ];
    });
    await converged('app-read');
    expect(await has('app_reader', 'public.customers', 'INSERT')).toBe(true);
    await edit('app-read', (g) => {
      (g.spec['forProvider'] as { tables: unknown[] }).tables = [
        { schema: 'public', objects: ['orders', 'customers'], privileges: ['SELECT'] },
      ];
    });
    await converged('app-read');
    expect(await has('app_reader', 'public.customers', 'INSERT')).toBe(false);
    expect(await has('app_reader', 'public.customers', 'SELECT')).toBe(true);
  });

  it('a privilege revoked by hand comes back within one poll', async () => {
    await admin.query('REVOKE SELECT ON public.orders FROM app_reader');
    expect(await has('app_reader', 'public.orders', 'SELECT')).toBe(false);
    // The poll is 5 s (±10 %); allow a few of them on a busy machine.
    await eventually(
      'SELECT restored',
      async () => ((await has('app_reader', 'public.orders', 'SELECT')) ? true : undefined),
      30_000,
    );
  });

  it('with managementPolicies [Observe] a hand revoke is reported as drift and not restored', async () => {
    await edit('app-read', (g) => {
      g.spec['managementPolicies'] = ['Observe'];
    });
    await converged('app-read');
    await admin.query('REVOKE SELECT ON public.orders FROM app_reader');
    const drifted = await eventually(
      'drift reported',
      async () => {
        const g = await grants.get(NS, 'app-read');
        return condition(g, 'Ready')?.reason === 'Drifted' ? g : undefined;
      },
      WAIT,
    );
    expect(drifted.status?.atProvider?.drift).toMatchObject({
      missing: 1,
      missingSample: ['SELECT ON TABLE "public"."orders"'],
    });
    expect(condition(drifted, 'Ready')?.message).toMatch(
      /1 declared privilege\(s\) missing .*not applied because managementPolicies is \[Observe\]/,
    );
    expect(condition(drifted, 'Synced')?.status).toBe('True');
    // Three more polls go by; the privilege stays revoked.
    await new Promise((r) => setTimeout(r, 16_000));
    expect(await has('app_reader', 'public.orders', 'SELECT')).toBe(false);
    // Back to full management: restored.
    await edit('app-read', (g) => {
      g.spec['managementPolicies'] = ['*'];
    });
    await converged('app-read');
    expect(await has('app_reader', 'public.orders', 'SELECT')).toBe(true);
  });

  it('a wrong password gives Synced=False with a readable reason; fixing the Secret recovers without a restart', async () => {
    await setPassword(WRONG_PASSWORD);
    // Something to do, so recovery is visible in the database too.
    await edit('app-read', (g) => {
      (g.spec['forProvider'] as { tables: unknown[] }).tables = [
        { schema: 'public', objects: ['orders', 'customers'], privileges: ['SELECT', 'UPDATE'] },
      ];
    });
    const failing = await eventually(
      'Synced=False',
      async () => {
        const g = await grants.get(NS, 'app-read');
        const synced = condition(g, 'Synced');
        return synced?.status === 'False' && /password authentication failed/.test(synced.message ?? '')
          ? g
          : undefined;
      },
      WAIT,
    );
    expect(condition(failing, 'Synced')).toMatchObject({
      reason: 'ReconcileError',
      // Values from the Secret show as their keys: the ProviderConfig's author picks the keys.
      message:
        'cannot connect to <username>@<host>:<port>/app (sslmode disable) using ProviderConfig "team/app-db" with Secret "team/app-owner": password authentication failed (SQLSTATE 28P01)',
    });
    expect(await has('app_reader', 'public.orders', 'UPDATE')).toBe(false);
    // Backoff: retries are spaced out, so the error count grows slowly (the unit tests pin the schedule).
    const metrics = await (await fetch(`http://127.0.0.1:${provider!.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/pgplane_provider_reconcile_errors_total [1-9]/);

    await setPassword(OWNER_PASSWORD);
    await converged('app-read');
    expect(await has('app_reader', 'public.orders', 'UPDATE')).toBe(true);
  });

  it(
    'killing PostgreSQL mid-run: the provider reports it, recovers by itself, and nothing is half-applied',
    async () => {
      await admin.end();
      await pgServer!.kill();
      await edit('app-read', (g) => {
        (g.spec['forProvider'] as { tables: unknown[] }).tables = [
          { schema: 'public', objects: ['orders', 'customers'], privileges: ['SELECT', 'UPDATE', 'DELETE'] },
        ];
      });
      await eventually(
        'Synced=False while the server is down',
        async () => {
          const g = await grants.get(NS, 'app-read');
          const synced = condition(g, 'Synced');
          return synced?.status === 'False' && /cannot connect|observe/.test(synced.message ?? '')
            ? true
            : undefined;
        },
        WAIT,
      );
      await pgServer!.start();
      admin = await pgServer!.connect('app');
      // Recovery waits for the next retry, which exponential backoff may have put up to its cap away
      // (5 minutes, ±20 %): the longer the server was down (a loaded machine restarts it slowly),
      // the later. Nothing else brings it back: that is the point of this test.
      await converged('app-read', 7 * 60_000);
      // All or nothing: both tables got DELETE in one transaction.
      expect(await has('app_reader', 'public.orders', 'DELETE')).toBe(true);
      expect(await has('app_reader', 'public.customers', 'DELETE')).toBe(true);
    },
    10 * 60_000,
  );

  it('crossplane.io/paused stops reconciling until it is removed', async () => {
    await edit('app-read', (g) => {
      (g.metadata as { annotations?: Record<string, string> }).annotations = {
        'crossplane.io/paused': 'true',
      };
      (g.spec['forProvider'] as { tables: unknown[] }).tables = [
        {
          schema: 'public',
          objects: ['orders', 'customers'],
          privileges: ['SELECT', 'UPDATE', 'DELETE', 'TRUNCATE'],
        },
      ];
    });
    await eventually(
      'ReconcilePaused',
      async () =>
        condition(await grants.get(NS, 'app-read'), 'Synced')?.reason === 'ReconcilePaused'
          ? true
          : undefined,
      WAIT,
    );
    expect(await has('app_reader', 'public.orders', 'TRUNCATE')).toBe(false);
    await edit('app-read', (g) => {
      (g.metadata as { annotations?: Record<string, string> }).annotations = {};
    });
    await converged('app-read');
    expect(await has('app_reader', 'public.orders', 'TRUNCATE')).toBe(true);
  });

  it('deleting the Grant revokes what it granted and removes the finalizer', async () => {
    await grants.delete(NS, 'app-read');
    await eventually(
      'Grant gone',
      async () => ((await grants.get(NS, 'app-read')) === undefined ? true : undefined),
      WAIT,
    );
    for (const privilege of ['SELECT', 'UPDATE', 'DELETE', 'TRUNCATE']) {
      expect(await has('app_reader', 'public.orders', privilege)).toBe(false);
    }
  });

  it('deletionPolicy Orphan leaves the privileges in place', async () => {
    await grants.create(
      NS,
      grantDoc(
        'orphan',
        {
          database: 'app',
          grantee: 'app_orphan',
          tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT'] }],
        },
        { deletionPolicy: 'Orphan' },
      ),
    );
    await converged('orphan');
    await grants.delete(NS, 'orphan');
    await eventually(
      'Grant gone',
      async () => ((await grants.get(NS, 'orphan')) === undefined ? true : undefined),
      WAIT,
    );
    expect(await has('app_orphan', 'public.orders', 'SELECT')).toBe(true);
  });

  const providerConfig = (name: string, secret = 'app-owner') =>
    grants.createProviderConfig(NS, {
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'ProviderConfig',
      metadata: { name, namespace: NS },
      spec: { connectionSecretRef: { name: secret }, sslmode: 'disable' },
    });
  const readOrders = (name: string, grantee: string, config: string, extra: object = {}) =>
    grants.create(
      NS,
      grantDoc(
        name,
        {
          database: 'app',
          grantee,
          tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT'] }],
        },
        { providerConfigRef: { kind: 'ProviderConfig', name: config }, ...extra },
      ),
    );
  const gone = (what: string, names: { grant?: string; config?: string }) =>
    eventually(
      `${what} gone`,
      async () => {
        const grant = names.grant ? await grants.get(NS, names.grant) : undefined;
        const config = names.config ? await grants.getProviderConfig(NS, names.config) : undefined;
        return grant === undefined && config === undefined ? true : undefined;
      },
      WAIT,
    );
  const inUse = (name: string) =>
    eventually(
      `ProviderConfig ${name} marked in use`,
      async () =>
        (await grants.getProviderConfig(NS, name))?.metadata.finalizers?.includes('in-use.crossplane.io')
          ? true
          : undefined,
      WAIT,
    );

  it('a ProviderConfig in use is not deleted before its Grants: it keeps serving them, then goes with the last', async () => {
    await providerConfig('gc-db');
    await readOrders('gc-read', 'app_gc', 'gc-db');
    await converged('gc-read');
    await inUse('gc-db');

    // Deleted first, as garbage collection may: it waits, terminating, while a Grant needs it.
    await grants.deleteProviderConfig(NS, 'gc-db');
    const terminating = await eventually(
      'gc-db terminating',
      async () => {
        const pc = await grants.getProviderConfig(NS, 'gc-db');
        if (!pc) throw new Error('ProviderConfig gc-db vanished while Grant gc-read still needs it');
        return pc.metadata.deletionTimestamp ? pc : undefined;
      },
      WAIT,
    );
    expect(terminating.metadata.finalizers).toContain('in-use.crossplane.io');
    // It still serves its Grant: an edit is applied through it.
    await edit('gc-read', (g) => {
      (g.spec['forProvider'] as { tables: unknown[] }).tables = [
        { schema: 'public', objects: ['orders'], privileges: ['SELECT', 'INSERT'] },
      ];
    });
    await converged('gc-read');
    expect(await has('app_gc', 'public.orders', 'INSERT')).toBe(true);
    expect(await grants.getProviderConfig(NS, 'gc-db')).toBeDefined();

    await grants.delete(NS, 'gc-read');
    await gone('Grant gc-read and ProviderConfig gc-db', { grant: 'gc-read', config: 'gc-db' });
    expect(await has('app_gc', 'public.orders', 'SELECT')).toBe(false);
    expect(await has('app_gc', 'public.orders', 'INSERT')).toBe(false);
  });

  it('deleting a ProviderConfig and its Grant at once (as garbage collection does) revokes and completes', async () => {
    await providerConfig('gc-both');
    await readOrders('gc-both', 'app_gc_both', 'gc-both');
    await converged('gc-both');
    await inUse('gc-both');
    await Promise.all([grants.deleteProviderConfig(NS, 'gc-both'), grants.delete(NS, 'gc-both')]);
    await gone('Grant and ProviderConfig gc-both', { grant: 'gc-both', config: 'gc-both' });
    expect(await has('app_gc_both', 'public.orders', 'SELECT')).toBe(false);
  });

  it('with deletionPolicy Orphan, deleting both at once completes and keeps the privileges', async () => {
    await providerConfig('gc-orphan');
    await readOrders('gc-orphan', 'app_gc_orphan', 'gc-orphan', { deletionPolicy: 'Orphan' });
    await converged('gc-orphan');
    await inUse('gc-orphan');
    await Promise.all([grants.deleteProviderConfig(NS, 'gc-orphan'), grants.delete(NS, 'gc-orphan')]);
    await gone('Grant and ProviderConfig gc-orphan', { grant: 'gc-orphan', config: 'gc-orphan' });
    expect(await has('app_gc_orphan', 'public.orders', 'SELECT')).toBe(true);
  });

  it('a deleting Grant that cannot revoke yet is Ready=False (Deleting), and finishes once it can', async () => {
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'gc-owner' },
        stringData: {
          username: 'app_owner',
          password: OWNER_PASSWORD,
          host: '127.0.0.1',
          port: String(pgServer!.port),
        },
      },
    });
    await providerConfig('gc-stuck', 'gc-owner');
    await readOrders('gc-stuck', 'app_gc_stuck', 'gc-stuck');
    await converged('gc-stuck');
    const setStuckPassword = (password: string) =>
      core.patchNamespacedSecret(
        { name: 'gc-owner', namespace: NS, body: { stringData: { password } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    await setStuckPassword(WRONG_PASSWORD);
    await grants.delete(NS, 'gc-stuck');
    const stuck = await eventually(
      'gc-stuck Ready=False/Deleting',
      async () => {
        const g = await grants.get(NS, 'gc-stuck');
        return condition(g, 'Ready')?.reason === 'Deleting' && condition(g, 'Synced')?.status === 'False'
          ? g
          : undefined;
      },
      WAIT,
    );
    expect(condition(stuck, 'Ready')?.status).toBe('False');
    expect(condition(stuck, 'Synced')?.message).toMatch(/password authentication failed/);
    expect(await has('app_gc_stuck', 'public.orders', 'SELECT')).toBe(true);
    await setStuckPassword(OWNER_PASSWORD);
    await gone('Grant gc-stuck', { grant: 'gc-stuck' });
    expect(await has('app_gc_stuck', 'public.orders', 'SELECT')).toBe(false);
    await grants.deleteProviderConfig(NS, 'gc-stuck');
    await gone('ProviderConfig gc-stuck', { config: 'gc-stuck' });
  });

  it('a ProviderConfig mapping connection fields to any key of its Secret never gets a value shown', async () => {
    // What a tenant allowed to write ProviderConfigs and Grants, but not to read Secrets, would try:
    // point host, port, user, sslmode (and the CA) at keys holding other secrets, then read what the
    // provider writes back. Every condition, event, status and log line must name keys only.
    const STRIPE = `sk_live_${randomBytes(12).toString('hex')}`;
    const LONG = `tok_${randomBytes(48).toString('hex')}`; // > 63 bytes: PostgreSQL echoes a prefix
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'billing' },
        stringData: {
          username: 'app_owner',
          password: OWNER_PASSWORD,
          host: '127.0.0.1',
          port: String(pgServer!.port),
          'stripe-key': STRIPE,
          'long-token': LONG,
        },
      },
    });
    const hostile: Record<string, object> = {
      'h-user': { keys: { user: 'stripe-key' }, sslmode: 'disable' },
      'h-user-password': { keys: { user: 'password' }, sslmode: 'disable' },
      'h-user-long': { keys: { user: 'long-token' }, sslmode: 'disable' },
      'h-host': { keys: { host: 'stripe-key' }, sslmode: 'disable' },
      'h-port': { keys: { port: 'stripe-key' }, sslmode: 'disable' },
      'h-sslmode': { keys: { sslmode: 'password' } },
      'h-ca': { caSecretRef: { name: 'billing', key: 'stripe-key' }, sslmode: 'verify-full' },
      'h-all': {
        keys: {
          host: 'password',
          port: 'stripe-key',
          user: 'long-token',
          sslmode: 'password',
          password: 'stripe-key',
        },
      },
    };
    for (const [name, spec] of Object.entries(hostile)) {
      await grants.createProviderConfig(NS, {
        apiVersion: 'grants.pgplane.io/v1alpha1',
        kind: 'ProviderConfig',
        metadata: { name, namespace: NS },
        spec: { connectionSecretRef: { name: 'billing' }, ...spec },
      });
      await grants.create(
        NS,
        grantDoc(
          name,
          {
            database: 'app',
            grantee: 'app_auditor',
            tables: [{ schema: 'public', objects: ['orders'], privileges: ['SELECT'] }],
          },
          // Nothing can be revoked through these: deleting them must not wait on the database.
          { providerConfigRef: { kind: 'ProviderConfig', name }, deletionPolicy: 'Orphan' },
        ),
      );
    }
    const failed = await eventually(
      'every hostile Grant Synced=False',
      async () => {
        const all = await Promise.all(Object.keys(hostile).map((name) => grants.get(NS, name)));
        return all.every((g) => condition(g, 'Synced')?.status === 'False') ? all : undefined;
      },
      WAIT,
    );
    const message = (name: string) =>
      condition(
        failed.find((g) => g?.metadata.name === name),
        'Synced',
      )?.message;
    // The messages still say what is wrong, by key.
    expect(message('h-user')).toMatch(
      /^cannot connect to <stripe-key>@<host>:<port>\/app .*Secret "team\/billing": password authentication failed/,
    );
    expect(message('h-host')).toMatch(
      /^cannot connect to <username>@<stripe-key>:<port>\/app .*: the host name does not resolve/,
    );
    expect(message('h-port')).toBe(
      'Secret "team/billing" (from ProviderConfig "team/h-port") key "stripe-key" is not a port number (1-65535)',
    );
    expect(message('h-sslmode')).toMatch(/key "password" does not hold an sslmode/);

    // Everything the provider wrote to the API server, and everything it logged.
    const coreEvents = await core.listNamespacedEvent({ namespace: NS });
    const events = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    const written = JSON.stringify([
      await grants.list(NS),
      await grants.listProviderConfigs(NS),
      coreEvents.items,
      events.items,
    ]);
    expect(written).toContain('<stripe-key>');
    const metrics = await (await fetch(`http://127.0.0.1:${provider!.metricsPort}/metrics`)).text();
    const everything = [written, provider!.output(), metrics].join('\n');
    for (const value of [STRIPE, LONG, LONG.slice(0, 63), OWNER_PASSWORD, pgServer!.password]) {
      // Never print the value in a failure: say which one leaked.
      const leaked = everything.toLowerCase().includes(value.toLowerCase());
      expect(
        leaked,
        `a Secret value (${value === STRIPE ? 'stripe-key' : value === OWNER_PASSWORD ? 'password' : 'long-token or superuser password'}) was written`,
      ).toBe(false);
    }

    for (const name of Object.keys(hostile)) {
      await grants.delete(NS, name);
      await grants.deleteProviderConfig(NS, name);
    }
    await eventually(
      'hostile Grants and ProviderConfigs gone',
      async () => {
        const left = [...(await grants.list(NS)), ...(await grants.listProviderConfigs(NS))].filter((o) =>
          o.metadata.name.startsWith('h-'),
        );
        return left.length === 0 ? true : undefined;
      },
      WAIT,
    );
  });

  it('serves /healthz, /readyz and Prometheus metrics, and never logs a password', async () => {
    const base = `http://127.0.0.1:${provider!.metricsPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('pgplane_provider_reconcile_duration_seconds_bucket');
    expect(metrics).toMatch(/pgplane_provider_statements_applied_total [1-9]/);
    expect(metrics).toMatch(/pgplane_provider_drift_privileges_total\{kind="missing"\} [1-9]/);
    // Pools are labelled by Secret and keys, never by the values they connect with.
    expect(metrics).toMatch(
      /pgplane_provider_pool_connections\{pool="team\/[a-z-]+ <username>@<host>:<port>\/app",state="total"\}/,
    );
    expect(metrics).not.toMatch(/pool="[^"]*app_owner/);
    expect(metrics).toContain('pgplane_provider_leader 1');
    // What the provider asked of the API server: finalizer and status patches, watches, Events.
    expect(metrics).toMatch(/pgplane_provider_kube_requests_total\{method="PATCH",code="200"\} [1-9]/);
    expect(metrics).toMatch(/pgplane_provider_kube_requests_total\{method="WATCH",code="200"\} [1-9]/);
    expect(metrics).toMatch(/pgplane_provider_kube_requests_total\{method="POST",code="201"\} [1-9]/);
    // ...all of it, watches included, over one HTTP/2 connection for the whole run.
    expect(metrics).toMatch(/^pgplane_provider_kube_connections_total\{protocol="h2"\} 1$/m);
    expect(metrics).not.toContain('protocol="http/1.1"');
    const logs = provider!.output();
    expect(logs).toContain('"msg":"became leader"');
    for (const secret of [OWNER_PASSWORD, WRONG_PASSWORD, pgServer!.password])
      expect(logs).not.toContain(secret);
    const events = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    expect(JSON.stringify(events.items)).not.toContain(OWNER_PASSWORD);
    expect(JSON.stringify(events.items)).not.toContain(WRONG_PASSWORD);
  });
});
