// The provider's Role and Database end to end: a real kube-apiserver + etcd (test/tools/kube), the
// provider as a real process, and PostgreSQL 18 with SCRAM auth. The provider connects as a
// platform role with CREATEROLE and CREATEDB, not a superuser, as it would on RDS or Cloud SQL.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { installKubeTools, startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver.js';
import {
  condition,
  eventually,
  grantsApi,
  installProviderCrds,
  isConverged,
  managedApi,
  startKillablePostgres,
  startProvider,
  type Condition,
  type KillablePostgres,
  type ProviderProcess,
} from '../provider/support/e2e.js';

const NS = 'team';
const WAIT = 90_000;
// Passwords are random per run and never printed: a test failure shows their names only.
const ADMIN_PASSWORD = randomBytes(18).toString('base64url');
const FIRST_PASSWORD = randomBytes(18).toString('base64url');
const SECOND_PASSWORD = randomBytes(18).toString('base64url');

interface View {
  metadata: { name: string; namespace: string; generation?: number; finalizers?: string[]; uid?: string };
  spec: { forProvider: Record<string, unknown>; deletionPolicy?: string; managementPolicies?: string[] };
  status?: { conditions?: Condition[]; observedGeneration?: number; atProvider?: Record<string, unknown> };
}

describe('Role and Database against a real API server and PostgreSQL', () => {
  let cluster: KubeApiServer | undefined;
  let kc: KubeConfig;
  let server: KillablePostgres | undefined;
  let provider: ProviderProcess | undefined;
  let admin: pg.Client;
  let core: CoreV1Api;
  let roles: ReturnType<typeof managedApi<View>>;
  let databases: ReturnType<typeof managedApi<View>>;

  const providerConfigRef = { kind: 'ProviderConfig', name: 'server' };
  const roleDoc = (name: string, forProvider: object, extra: object = {}) => ({
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Role',
    metadata: { name, namespace: NS },
    spec: { forProvider, providerConfigRef, ...extra },
  });
  const databaseDoc = (name: string, forProvider: object, extra: object = {}) => ({
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Database',
    metadata: { name, namespace: NS },
    spec: { forProvider, providerConfigRef, ...extra },
  });
  const converged = (api: typeof roles, name: string) =>
    eventually(
      `${name} Synced=True and Ready=True`,
      async () => {
        const o = await api.get(NS, name);
        if (o && condition(o, 'Synced')?.status === 'False') throw new Error(condition(o, 'Synced')?.message);
        return isConverged(o) ? o : undefined;
      },
      WAIT,
    );
  const gone = (api: typeof roles, name: string) =>
    eventually(`${name} to be deleted`, async () => ((await api.get(NS, name)) ? undefined : true), WAIT);
  const canLogIn = async (user: string, password: string, database = 'postgres'): Promise<boolean> => {
    const client = new pg.Client({ host: '127.0.0.1', port: server!.port, user, password, database });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      // 28P01: password authentication failed. Anything else is a broken test, not a refusal.
      if ((error as { code?: string }).code === '28P01') return false;
      throw error;
    }
  };
  const roleRow = async (name: string) =>
    (
      await admin.query<{ rolcanlogin: boolean; rolconnlimit: number; rolcreatedb: boolean }>(
        'SELECT rolcanlogin, rolconnlimit, rolcreatedb FROM pg_roles WHERE rolname = $1',
        [name],
      )
    ).rows[0];
  const databaseRow = async (name: string) =>
    (
      await admin.query<{ owner: string; encoding: string; datcollate: string; datconnlimit: number }>(
        `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding, datcollate, datconnlimit
           FROM pg_database WHERE datname = $1`,
        [name],
      )
    ).rows[0];
  const setPassword = (password: string) =>
    core.patchNamespacedSecret(
      { name: 'orders-app-password', namespace: NS, body: { stringData: { password } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  /** Everything the provider wrote where a person or a log shipper could read it. */
  const everythingWritten = async (): Promise<string> => {
    const events = await core.listNamespacedEvent({ namespace: NS });
    return JSON.stringify([await roles.list(NS), await databases.list(NS), events.items, provider!.output()]);
  };

  beforeAll(async () => {
    const binDir = await installKubeTools();
    cluster = await startKubeApiServer({ binDir });
    kc = cluster.kubeConfig();
    await installProviderCrds(kc);
    core = kc.makeApiClient(CoreV1Api);
    roles = managedApi<View>(kc, 'roles');
    databases = managedApi<View>(kc, 'databases');
    await core.createNamespace({ body: { metadata: { name: NS } } });

    server = await startKillablePostgres();
    admin = await server.connect();
    await admin.query(`CREATE ROLE platform_admin LOGIN CREATEROLE CREATEDB PASSWORD '${ADMIN_PASSWORD}'`);
    // A role the platform made by hand: no Role may take it over unasked.
    await admin.query('CREATE ROLE billing_app LOGIN');

    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: 'platform-admin' },
        type: 'kubernetes.io/basic-auth',
        stringData: {
          username: 'platform_admin',
          password: ADMIN_PASSWORD,
          host: '127.0.0.1',
          port: String(server.port),
        },
      },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'orders-app-password' }, stringData: { password: FIRST_PASSWORD } },
    });
    await grantsApi(kc).createProviderConfig(NS, {
      apiVersion: 'grants.pgplane.io/v1alpha1',
      kind: 'ProviderConfig',
      metadata: { name: 'server', namespace: NS },
      spec: { connectionSecretRef: { name: 'platform-admin' }, sslmode: 'disable' },
    });
    provider = await startProvider(cluster.kubeconfigPath, ['--poll', '3s', '--debug']);
  }, 45 * 60_000);

  afterAll(async () => {
    if (provider) expect(await provider.stop()).toBe(0);
    await admin?.end().catch(() => undefined);
    await server?.stop();
    await cluster?.stop();
  }, 120_000);

  it('a Role creates a login role whose password comes from the Secret', async () => {
    await roles.create(
      NS,
      roleDoc('orders-app', {
        name: 'orders_app',
        login: true,
        connectionLimit: 20,
        passwordSecretRef: { name: 'orders-app-password' },
      }),
    );
    const role = await converged(roles, 'orders-app');
    expect(role.metadata.finalizers).toContain('grants.pgplane.io/finalizer');
    expect(await roleRow('orders_app')).toEqual({ rolcanlogin: true, rolconnlimit: 20, rolcreatedb: false });
    expect(await canLogIn('orders_app', FIRST_PASSWORD)).toBe(true);
    expect(role.status?.atProvider?.['password']).toMatchObject({
      secret: 'team/orders-app-password',
      key: 'password',
    });
  });

  it('a Database creates the database with its owner, encoding and locale', async () => {
    await databases.create(
      NS,
      databaseDoc('orders', {
        name: 'orders',
        owner: 'orders_app',
        encoding: 'UTF8',
        locale: 'C',
        template: 'template0',
      }),
    );
    const database = await converged(databases, 'orders');
    expect(database.spec.deletionPolicy).toBe('Orphan');
    expect(await databaseRow('orders')).toEqual({
      owner: 'orders_app',
      encoding: 'UTF8',
      datcollate: 'C',
      datconnlimit: -1,
    });
    // The owner works in it: DDL as the role the Role made, with the password from the Secret.
    const owner = new pg.Client({
      host: '127.0.0.1',
      port: server!.port,
      user: 'orders_app',
      password: FIRST_PASSWORD,
      database: 'orders',
    });
    await owner.connect();
    await owner.query('CREATE TABLE items (id int)');
    await owner.end();
  });

  it('changing the Secret rotates the password: the new one logs in, the old one is refused', async () => {
    const before = (await roles.get(NS, 'orders-app'))?.status?.atProvider?.['password'] as {
      version: string;
    };
    await setPassword(SECOND_PASSWORD);
    await eventually(
      'the new password to work',
      async () => ((await canLogIn('orders_app', SECOND_PASSWORD)) ? true : undefined),
      WAIT,
    );
    expect(await canLogIn('orders_app', FIRST_PASSWORD)).toBe(false);
    const after = await converged(roles, 'orders-app');
    expect((after.status?.atProvider?.['password'] as { version: string }).version).not.toBe(before.version);
    // The role was altered, not re-created: its table in "orders" is still its own.
    expect((await databaseRow('orders'))?.owner).toBe('orders_app');
  });

  it('drift made by hand is put back on the next poll', async () => {
    await admin.query('ALTER ROLE orders_app CONNECTION LIMIT 3 CREATEDB');
    await admin.query('ALTER DATABASE orders CONNECTION LIMIT 7');
    await eventually(
      'the role and the database to be restored',
      async () => {
        const role = await roleRow('orders_app');
        const database = await databaseRow('orders');
        return role?.rolconnlimit === 20 && !role.rolcreatedb && database?.datconnlimit === -1
          ? true
          : undefined;
      },
      WAIT,
    );
  });

  it('what CREATE DATABASE fixed cannot be edited: the API server refuses a new encoding', async () => {
    await expect(
      databases.patch(NS, 'orders', { spec: { forProvider: { encoding: 'LATIN1' } } }),
    ).rejects.toMatchObject({ code: 422 });
    expect((await databaseRow('orders'))?.encoding).toBe('UTF8');
  });

  it('a role the platform made by hand is not taken over', async () => {
    await roles.create(NS, roleDoc('billing', { name: 'billing_app', login: true }));
    const refused = await eventually(
      'the Role to be refused',
      async () => {
        const o = await roles.get(NS, 'billing');
        return condition(o, 'Synced')?.status === 'False' ? condition(o, 'Synced') : undefined;
      },
      WAIT,
    );
    expect(refused?.message).toMatch(/billing_app.*already exists.*grants\.pgplane\.io\/adopt/);
    await roles.delete(NS, 'billing');
    await gone(roles, 'billing');
    // Deleting the refused Role dropped nothing.
    expect(await roleRow('billing_app')).toBeDefined();
  });

  it('deleting a Database orphans it by default; deletionPolicy Delete drops it', async () => {
    await databases.delete(NS, 'orders');
    await gone(databases, 'orders');
    expect(await databaseRow('orders')).toBeDefined();

    await databases.create(NS, databaseDoc('scratch', { name: 'scratch' }, { deletionPolicy: 'Delete' }));
    await converged(databases, 'scratch');
    expect(await databaseRow('scratch')).toBeDefined();
    await databases.delete(NS, 'scratch');
    await gone(databases, 'scratch');
    expect(await databaseRow('scratch')).toBeUndefined();
  });

  it('deleting a Role drops it (Delete, the default) or leaves it (Orphan)', async () => {
    await roles.create(NS, roleDoc('temp', { name: 'temp_role' }));
    await roles.create(NS, roleDoc('kept', { name: 'kept_role' }, { deletionPolicy: 'Orphan' }));
    await converged(roles, 'temp');
    await converged(roles, 'kept');
    await roles.delete(NS, 'temp');
    await roles.delete(NS, 'kept');
    await gone(roles, 'temp');
    await gone(roles, 'kept');
    expect(await roleRow('temp_role')).toBeUndefined();
    expect(await roleRow('kept_role')).toBeDefined();
  });

  it('no password appears in status, events or the provider log', async () => {
    const written = await everythingWritten();
    for (const secret of [ADMIN_PASSWORD, FIRST_PASSWORD, SECOND_PASSWORD])
      expect(written).not.toContain(secret);
    expect(written).not.toMatch(/SCRAM-SHA-256\$/);
  });
});
