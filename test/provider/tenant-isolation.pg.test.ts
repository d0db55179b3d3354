// Two services' databases on one server, end to end from the claim. The function renders each
// PostgresDatabase; every grants.pgplane.io object it composes (Role, Database, ProviderConfig,
// Grant) is reconciled by the provider's own clients against real PostgreSQL, as the provider
// would, with passwords from Secrets. On a shared instance CloudNativePG's part (its DatabaseRoles
// and Database, retained on deletion) is played by the superuser, as CNPG's operator would do it.
// Then each tenant's roles try the other's database, each owner tries DDL in both, and removing one
// claim (its objects deleted as their deletion policies say) leaves the other exactly as it was.
//
// A registered server is tried from PostgreSQL 15: before 15 schema public belongs to the bootstrap
// superuser, and a Database on a registered server does not hand it to the owner (README, "What it
// does not do yet"). A shared instance is tried on 14, 15 and 18.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../src/grants/index.js';
import { connectionSource, type ProviderConfigKind } from '../../src/provider/connection.js';
import { DatabaseClient } from '../../src/provider/database/client.js';
import { GrantClient } from '../../src/provider/grant/client.js';
import type { ExternalClient, ManagedObject } from '../../src/provider/managed/reconciler.js';
import { PoolRegistry } from '../../src/provider/pools.js';
import { RoleClient } from '../../src/provider/role/client.js';
import type { ConfigStore, StoredSecret } from '../../src/provider/session.js';
import { render } from '../../src/render/render.js';
import { literal } from '../../src/grants/sql.js';
import { getPath, getString, type JsonObject } from '../../src/shared/json.js';
import { ident } from '../../src/shared/sql-ident.js';
import { exampleCases } from '../support/examples.js';
import { SERVERS, uniqueName, useServer } from '../support/postgres.js';

const DENIED = '42501';
const PLATFORM_NS = 'platform-databases';
const CNPG = 'postgresql.cnpg.io/v1';

interface Backend {
  readonly name: string;
  readonly example: string;
  /** The two claims' namespaces: a shared instance's tenants live in its namespace. */
  readonly namespaces: readonly [string, string];
  readonly ref: JsonObject;
}

const SHARED_INSTANCE: Backend = {
  name: 'a shared instance',
  example: 'database-on-instance/xr',
  namespaces: ['databases', 'databases'],
  ref: { instanceRef: { name: 'shared' } },
};
const REGISTERED_SERVER: Backend = {
  name: 'a registered server',
  example: 'database-on-server/xr',
  namespaces: ['team-a', 'team-b'],
  ref: { server: { name: 'rds-main' } },
};
const SCENARIOS = SERVERS.flatMap((target) => [
  { target, backend: SHARED_INSTANCE },
  ...(target.major >= 15 ? [{ target, backend: REGISTERED_SERVER }] : []),
]);

interface Tenant {
  readonly namespace: string;
  readonly claim: string;
  readonly database: string;
  readonly owner: string;
  readonly runtime: string;
  readonly readOnly: string;
  readonly objects: JsonObject[];
}

type Client = ExternalClient<unknown, unknown>;

/** The grants.pgplane.io objects in the order the provider converges them: roles, then databases, then privileges. */
const ORDER = ['Role', 'Database', 'Grant'];

describe.each(SCENARIOS)(
  'two PostgresDatabases on $backend.name, PostgreSQL $target.major',
  ({ target, backend }) => {
    const server = useServer(target);
    const secrets = new Map<string, StoredSecret>();
    const passwords = new Map<string, string>();
    let pools: PoolRegistry;
    let platformRole: string;
    const tenants: Tenant[] = [];
    const clients = new Map<string, Client>();
    const objectsByKey = new Map<string, JsonObject>();

    const store: ConfigStore = {
      source: async (ref, namespace) => {
        const found = [...objectsByKey.values()].find(
          (o) =>
            o.kind === ref.kind &&
            getString(o, 'metadata', 'name') === ref.name &&
            (ref.kind === 'ClusterProviderConfig' || getString(o, 'metadata', 'namespace') === namespace),
        );
        if (!found) throw new Error(`${ref.kind} ${ref.name} is not composed`);
        return connectionSource(ref.kind as ProviderConfigKind, found as never);
      },
      markInUse: async () => undefined,
      readSecret: async (ref) => secrets.get(`${ref.namespace}/${ref.name}`),
    };

    const setSecret = (namespace: string, name: string, data: Record<string, string>) =>
      secrets.set(`${namespace}/${name}`, { data, version: randomBytes(4).toString('hex') });

    /**
     * What the function composes for one claim, pointed at this test's PostgreSQL: the registered
     * server's ClusterProviderConfig names it, and a shared instance's ProviderConfig (which a
     * cluster would resolve to the instance's -rw Service) connects to it directly.
     */
    function renderTenant(namespace: string, claim: string, database: string, everyClaim: JsonObject[]) {
      const example = exampleCases().find((c) => c.id === backend.example)!;
      const xr = structuredClone(example.request.xr);
      Object.assign(xr.metadata as JsonObject, { name: claim, namespace });
      Object.assign(xr.spec as JsonObject, {
        databaseName: database,
        databaseOwner: `${database}_owner`,
        access: [],
      });
      const required = structuredClone(example.request.required ?? [])
        .filter((o) => o.kind !== 'PostgresDatabase')
        .map((o): JsonObject => {
          if (o.kind === 'PostgresInstance')
            return { ...o, spec: { ...(o.spec as JsonObject), version: String(server.major) } };
          return {
            ...o,
            metadata: {
              ...(o.metadata as JsonObject),
              annotations: { 'pgplane.io/allowed-namespaces': '*' },
            },
            spec: {
              namespace: PLATFORM_NS,
              connectionSecretRef: { name: 'server-admin' },
              host: server.config.host,
              port: server.config.port,
              sslmode: 'disable',
            },
          };
        });
      const { objects, fatal } = render({ ...example.request, xr, required: [...required, ...everyClaim] });
      expect(fatal).toBeUndefined();
      const composed = objects.filter(
        (o) => o.apiVersion === 'grants.pgplane.io/v1alpha1' || o.apiVersion === CNPG,
      );
      for (const o of composed.filter((c) => c.kind === 'ProviderConfig' && getPath(c, 'spec', 'cluster'))) {
        o.spec = {
          connectionSecretRef: getPath(o, 'spec', 'connectionSecretRef'),
          host: server.config.host,
          port: server.config.port,
          sslmode: 'disable',
        };
      }
      return { registered: required.filter((o) => o.kind === 'ClusterProviderConfig'), objects: composed };
    }

    /** What CloudNativePG does with a DatabaseRole and a Database: create them, as the superuser. */
    async function cnpgApplies(objects: readonly JsonObject[]): Promise<void> {
      const admin = await server.connect('postgres');
      try {
        for (const role of objects.filter((o) => o.kind === 'DatabaseRole')) {
          const name = getString(role, 'spec', 'name')!;
          const login = getPath(role, 'spec', 'login') === true ? 'LOGIN' : 'NOLOGIN';
          await admin.query(
            `CREATE ROLE ${ident(name)} ${login} NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal(passwords.get(name) ?? '')}`,
          );
        }
        for (const database of objects.filter((o) => o.kind === 'Database' && o.apiVersion === CNPG)) {
          const name = getString(database, 'spec', 'name')!;
          await admin.query(
            `CREATE DATABASE ${ident(name)} OWNER ${ident(getString(database, 'spec', 'owner')!)}`,
          );
          const schemas = (getPath(database, 'spec', 'schemas') as { name: string; owner: string }[]) ?? [];
          if (schemas.length === 0) continue;
          const inDatabase = await server.connect(name);
          for (const schema of schemas)
            await inDatabase.query(
              `CREATE SCHEMA IF NOT EXISTS ${ident(schema.name)}; ALTER SCHEMA ${ident(schema.name)} OWNER TO ${ident(schema.owner)}`,
            );
          await inDatabase.end();
        }
      } finally {
        await admin.end();
      }
    }

    const keyOf = (o: JsonObject) =>
      `${String(o.kind)}/${getString(o, 'metadata', 'namespace') ?? ''}/${getString(o, 'metadata', 'name')}`;

    async function converge(tenant: Tenant): Promise<void> {
      await cnpgApplies(tenant.objects.filter((o) => o.apiVersion === CNPG));
      for (const kind of ORDER) {
        for (const object of tenant.objects.filter((o) => o.kind === kind && o.apiVersion !== CNPG)) {
          const client = clients.get(kind)!;
          const key = `${getString(object, 'metadata', 'namespace')}/${getString(object, 'metadata', 'name')}`;
          const parsed = client.parse(object as unknown as ManagedObject<unknown>, key);
          if ('invalid' in parsed) throw new Error(`${keyOf(object)}: ${parsed.invalid}`);
          const observed = await client.sync({
            key,
            object: object as unknown as ManagedObject<unknown>,
            spec: parsed.spec,
            apply: true,
          });
          expect(observed.problem, keyOf(object)).toBeUndefined();
          expect(observed.drift, keyOf(object)).toBeUndefined();
          (object as { status?: unknown }).status = { atProvider: observed.atProvider };
        }
      }
    }

    /** Deletes a claim's objects as Crossplane's garbage collection and the lifecycle would: Delete runs, Orphan does not. */
    async function remove(tenant: Tenant): Promise<string[]> {
      // CloudNativePG keeps what it made: databaseRoleReclaimPolicy and databaseReclaimPolicy retain.
      const orphaned = tenant.objects.filter((o) => o.apiVersion === CNPG).map(keyOf);
      for (const kind of [...ORDER].reverse()) {
        for (const object of tenant.objects.filter((o) => o.kind === kind && o.apiVersion !== CNPG)) {
          const client = clients.get(kind)!;
          const key = `${getString(object, 'metadata', 'namespace')}/${getString(object, 'metadata', 'name')}`;
          const parsed = client.parse(object as unknown as ManagedObject<unknown>, key);
          if ('invalid' in parsed) throw new Error(parsed.invalid);
          if (parsed.deletionPolicy === 'Orphan') {
            orphaned.push(keyOf(object));
            continue;
          }
          await client.delete({
            key,
            object: object as unknown as ManagedObject<unknown>,
            spec: parsed.spec,
          });
        }
      }
      return orphaned;
    }

    /** Runs sql as a tenant role, with the password its Secret holds; 'ok' or the SQLSTATE. */
    async function as(role: string, database: string, sql: string): Promise<string> {
      const client = new pg.Client({
        host: server.config.host,
        port: server.config.port,
        user: role,
        password: passwords.get(role) ?? 'unknown',
        database,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (error) {
        return (error as { code?: string }).code ?? 'connect-failed';
      }
      try {
        await client.query(sql);
        return 'ok';
      } catch (error) {
        return (error as { code?: string }).code ?? 'error';
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      pools = new PoolRegistry({ maxConnections: 6 });
      const deps = { configs: store, databases: pools, now: () => new Date() };
      clients.set('Role', new RoleClient(deps) as Client);
      clients.set('Database', new DatabaseClient(deps) as Client);
      clients.set('Grant', new GrantClient({ ...deps, engine: reconcile }) as Client);

      // The platform's role on the server: it may create roles and databases, and is no superuser.
      platformRole = await server.createRole(uniqueName('platform'), 'LOGIN CREATEROLE CREATEDB');
      setSecret(PLATFORM_NS, 'server-admin', {
        username: platformRole,
        password: server.config.password ?? 'trust',
      });

      const names = [
        { namespace: backend.namespaces[0], claim: 'orders', database: uniqueName('orders') },
        { namespace: backend.namespaces[1], claim: 'payments', database: uniqueName('payments') },
      ];
      const claims = names.map((n, i) => ({
        apiVersion: 'database.pgplane.io/v1alpha1',
        kind: 'PostgresDatabase',
        metadata: {
          name: n.claim,
          namespace: n.namespace,
          uid: randomUUID(),
          creationTimestamp: `2026-12-0${i + 1}T09:00:00Z`,
        },
        spec: { ...backend.ref, databaseName: n.database, databaseOwner: `${n.database}_owner` },
      }));
      for (const n of names) {
        const { registered, objects } = renderTenant(n.namespace, n.claim, n.database, claims);
        for (const object of registered) objectsByKey.set(keyOf(object), object);
        for (const object of objects) {
          // What the API server would add: the identity each ownership mark names.
          (object.metadata as JsonObject).uid = randomUUID();
          objectsByKey.set(keyOf(object), object);
          // Every password comes from a Secret (External Secrets' generator, in a cluster): a Role's
          // passwordSecretRef, a DatabaseRole's passwordSecret.
          const role =
            object.kind === 'Role'
              ? {
                  name: getString(object, 'spec', 'forProvider', 'name'),
                  secret: getString(object, 'spec', 'forProvider', 'passwordSecretRef', 'name'),
                }
              : object.kind === 'DatabaseRole'
                ? {
                    name: getString(object, 'spec', 'name'),
                    secret: getString(object, 'spec', 'passwordSecret', 'name'),
                  }
                : undefined;
          if (role?.name && role.secret) {
            const password = randomBytes(18).toString('base64url');
            passwords.set(role.name, password);
            setSecret(n.namespace, role.secret, { username: role.name, password });
          }
        }
        tenants.push({
          ...n,
          owner: `${n.database}_owner`,
          runtime: `${n.database}_rw`,
          readOnly: `${n.database}_ro`,
          objects,
        });
      }
      for (const tenant of tenants) await converge(tenant);
    }, 180_000);

    afterAll(async () => {
      await pools?.closeAll();
      const admin = await server.connect('postgres');
      for (const t of tenants) {
        await admin.query(`DROP DATABASE IF EXISTS "${t.database}" WITH (FORCE)`);
        for (const role of [t.runtime, t.readOnly, t.owner])
          await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
      }
      await admin.end();
    });

    it("each tenant's roles reach their own database and are refused the other's", async () => {
      const [a, b] = tenants as [Tenant, Tenant];
      for (const [mine, theirs] of [
        [a, b],
        [b, a],
      ] as const) {
        for (const role of [mine.owner, mine.runtime, mine.readOnly]) {
          expect.soft(await as(role, mine.database, 'SELECT 1'), `${role} in its own database`).toBe('ok');
          expect
            .soft(await as(role, theirs.database, 'SELECT 1'), `${role} in ${theirs.claim}'s database`)
            .toBe(DENIED);
        }
      }
    });

    it('each owner runs DDL in its own database only, and its runtime role uses the tables', async () => {
      const [a, b] = tenants as [Tenant, Tenant];
      for (const [mine, theirs] of [
        [a, b],
        [b, a],
      ] as const) {
        expect(await as(mine.owner, mine.database, 'CREATE TABLE public.items (id int)')).toBe('ok');
        expect(await as(mine.owner, theirs.database, 'CREATE TABLE public.stolen (id int)')).toBe(DENIED);
      }
      // Default privileges follow the owner's new table: its runtime role writes, its read-only role reads.
      expect(await as(a.runtime, a.database, 'INSERT INTO public.items VALUES (1)')).toBe('ok');
      expect(await as(a.readOnly, a.database, 'SELECT * FROM public.items')).toBe('ok');
      expect(await as(a.readOnly, a.database, 'INSERT INTO public.items VALUES (2)')).toBe(DENIED);
      // No other role on the server gets in through PUBLIC.
      const stranger = await server.createRole(uniqueName('stranger'), 'LOGIN');
      passwords.set(stranger, server.config.password ?? 'trust');
      expect(await as(stranger, a.database, 'SELECT 1')).toBe(DENIED);
      expect(await as(stranger, b.database, 'SELECT 1')).toBe(DENIED);
    });

    it("removing one claim leaves the other untouched, and the removed one's data in place", async () => {
      const [a, b] = tenants as [Tenant, Tenant];
      const admin = await server.connect(b.database);
      const before = await privilegesOf(admin, b);
      await admin.end();

      const orphaned = await remove(a);
      // Its database (and so its data) stays: a Database is orphaned by default.
      expect(orphaned.filter((k) => k.startsWith(`Database/${a.namespace}/`))).toHaveLength(1);
      const adminA = await server.connect(a.database);
      expect((await adminA.query('SELECT count(*)::int AS n FROM public.items')).rows[0]).toEqual({ n: 1 });
      await adminA.end();
      // Its Grants were revoked: its runtime role no longer connects.
      expect(await as(a.runtime, a.database, 'SELECT 1')).toBe(DENIED);

      const after = await server.connect(b.database);
      expect(await privilegesOf(after, b)).toEqual(before);
      await after.end();
      expect(await as(b.runtime, b.database, 'INSERT INTO public.items VALUES (7)')).toBe('ok');
      expect(await as(b.owner, b.database, 'CREATE TABLE public.more (id int)')).toBe('ok');
    });
  },
);

/** Every privilege the tenant's roles hold in its database, and who may connect, as comparable rows. */
async function privilegesOf(client: pg.Client, tenant: Tenant): Promise<unknown[]> {
  const { rows } = await client.query(
    `SELECT r.rolname,
            has_database_privilege(r.rolname, current_database(), 'CONNECT') AS connect,
            has_database_privilege(r.rolname, current_database(), 'TEMPORARY') AS temporary,
            has_schema_privilege(r.rolname, 'public', 'USAGE') AS usage,
            (SELECT array_agg(c.relname || ':' || has_table_privilege(r.rolname, c.oid, 'SELECT')::text
                              || ':' || has_table_privilege(r.rolname, c.oid, 'INSERT')::text ORDER BY c.relname)
               FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r') AS tables
       FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`,
    [[tenant.owner, tenant.runtime, tenant.readOnly]],
  );
  return rows;
}
