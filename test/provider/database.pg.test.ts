// The Database client against real PostgreSQL 15, 14 and 18, through a real PoolRegistry and a
// ProviderConfig held in memory: what a user sees in the catalog after each sync, for hostile
// names, owner and limit changes, drift made by hand, an encoding the server cannot change,
// ownership marks and adoption, and deletion (refused, with the data kept, while a session is
// connected). Each test makes its own databases and roles, and everything is dropped afterwards.
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseObservation } from '../../src/api/database.js';
import { providerConfigSpecSchema } from '../../src/api/provider-config.js';
import { DatabaseClient } from '../../src/provider/database/client.js';
import type { ManagedObject, Observed } from '../../src/provider/managed/reconciler.js';
import { ADOPT_ANNOTATION, ownershipComment } from '../../src/provider/managed/ownership.js';
import { PoolRegistry } from '../../src/provider/pools.js';
import type { ConfigStore } from '../../src/provider/session.js';
import { ident } from '../../src/shared/sql-ident.js';
import { SERVERS, uniqueName, useServer, type ServerHandle } from '../support/postgres.js';

const NAMESPACE = 'team';
const APP = `pgplane-database-test-${process.pid}`;

type DatabaseObject = ManagedObject<DatabaseObservation>;

/** One ProviderConfig "pg" whose Secret connects as `user` (the server's own password on embedded servers). */
function configStore(server: ServerHandle, user: () => string): ConfigStore {
  return {
    source: async (ref, namespace) => ({
      kind: ref.kind,
      name: ref.name,
      namespace,
      spec: providerConfigSpecSchema.parse({
        connectionSecretRef: { name: 'pg' },
        host: server.config.host,
        port: server.config.port,
        sslmode: 'disable',
      }),
    }),
    markInUse: async () => undefined,
    readSecret: async (ref) =>
      ref.name === 'pg'
        ? {
            data: { username: user(), password: server.config.password ?? 'unused-with-trust' },
            version: '1',
          }
        : undefined,
  };
}

interface ObjectOptions {
  readonly objectName?: string;
  readonly uid?: string;
  readonly adopt?: boolean;
  readonly deletionPolicy?: 'Delete' | 'Orphan';
}

function databaseObject(forProvider: Record<string, unknown>, options: ObjectOptions = {}): DatabaseObject {
  return {
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Database',
    metadata: {
      name: options.objectName ?? `db-${randomBytes(4).toString('hex')}`,
      namespace: NAMESPACE,
      uid: options.uid ?? randomUUID(),
      ...(options.adopt ? { annotations: { [ADOPT_ANNOTATION]: 'true' } } : {}),
    },
    spec: {
      forProvider,
      providerConfigRef: { kind: 'ProviderConfig', name: 'pg' },
      ...(options.deletionPolicy ? { deletionPolicy: options.deletionPolicy } : {}),
    },
  };
}

/** The object with a new forProvider, as after `kubectl apply` of an edit (same uid, same status). */
const edited = (object: DatabaseObject, forProvider: Record<string, unknown>): DatabaseObject => ({
  ...object,
  spec: { ...(object.spec as Record<string, unknown>), forProvider },
});

interface Catalog {
  owner: string;
  encoding: string;
  lc_collate: string;
  lc_ctype: string;
  connection_limit: number;
  comment: string | null;
}

describe.each(SERVERS)('PostgreSQL $major', (target) => {
  const server = useServer(target);
  let pools: PoolRegistry;
  let provider: DatabaseClient;
  let admin: pg.Client;
  /** Every database a test may have made through the client, dropped (FORCE) after the suite. */
  const made = new Set<string>();

  const newName = (prefix = 'pgplane_db'): string => {
    const name = uniqueName(prefix);
    made.add(name);
    return name;
  };

  function clientAs(user: () => string): DatabaseClient {
    return new DatabaseClient({
      configs: configStore(server, user),
      databases: pools,
      now: () => new Date(),
      limits: { statementTimeoutMs: 30_000, lockTimeoutMs: 5_000 },
    });
  }

  /** One sync as the reconciler runs it: parse, sync, and keep atProvider as status. */
  async function sync(
    object: DatabaseObject,
    apply = true,
    client: DatabaseClient = provider,
  ): Promise<Observed<DatabaseObservation>> {
    const key = `${NAMESPACE}/${object.metadata.name}`;
    const parsed = client.parse(object, key);
    if ('invalid' in parsed) throw new Error(parsed.invalid);
    const observed = await client.sync({ key, object, spec: parsed.spec, apply });
    object.status = { atProvider: observed.atProvider };
    return observed;
  }

  async function remove(object: DatabaseObject) {
    const key = `${NAMESPACE}/${object.metadata.name}`;
    const parsed = provider.parse(object, key);
    if ('invalid' in parsed) throw new Error(parsed.invalid);
    return provider.delete({ key, object, spec: parsed.spec });
  }

  async function catalog(name: string): Promise<Catalog | undefined> {
    const { rows } = await admin.query<Catalog>(
      `SELECT pg_get_userbyid(datdba)::text AS owner, pg_encoding_to_char(encoding) AS encoding,
         datcollate::text AS lc_collate, datctype::text AS lc_ctype, datconnlimit AS connection_limit,
         shobj_description(oid, 'pg_database') AS comment
       FROM pg_database WHERE datname = $1`,
      [name],
    );
    return rows[0];
  }

  const ownerMark = (object: DatabaseObject): string =>
    ownershipComment({
      kind: 'Database',
      namespace: NAMESPACE,
      name: object.metadata.name,
      uid: object.metadata.uid!,
    });

  beforeAll(async () => {
    pools = new PoolRegistry({ max: 2, maxConnections: 4, applicationName: APP });
    provider = clientAs(() => server.config.user);
    admin = await server.connect('postgres');
  });

  afterAll(async () => {
    for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    await pools.closeAll();
  });

  it('creates a database with its owner, encoding UTF8, locale C, template template0 and a connection limit', async () => {
    const owner = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
    const name = newName();
    const object = databaseObject({
      name,
      owner,
      encoding: 'UTF8',
      locale: 'C',
      template: 'template0',
      connectionLimit: 7,
    });

    const created = await sync(object);
    expect(created.problem).toBeUndefined();
    expect(created.applied?.reason).toBe('DatabaseCreated');
    expect(created.applied?.note).toContain(
      `created database "${name}" (owner "${owner}", encoding UTF8, locale C`,
    );
    expect(created.drift).toBeUndefined();
    expect(created.atProvider).toMatchObject({
      exists: true,
      owner,
      encoding: 'UTF8',
      lcCollate: 'C',
      lcCtype: 'C',
      localeProvider: 'libc',
      connectionLimit: 7,
      template: 'template0',
    });
    expect(await catalog(name)).toEqual({
      owner,
      encoding: 'UTF8',
      lc_collate: 'C',
      lc_ctype: 'C',
      connection_limit: 7,
      comment: ownerMark(object),
    });

    const again = await sync(object);
    expect(again.applied).toBeUndefined();
    expect(again.drift).toBeUndefined();
    expect(again.atProvider.template).toBe('template0');
  });

  it.each([
    ['double quotes', (tag: string) => `it"s "quoted" ${tag}`],
    ['spaces', (tag: string) => `with  spaces ${tag}`],
    ['an injection attempt', (tag: string) => `"; DROP DATABASE x; -- ${tag}`],
    ['a single quote and unicode', (tag: string) => `l'ünïcødé 数据库 ${tag}`],
    // 6 + 1 + 28 × 2 bytes: the longest name PostgreSQL keeps whole.
    ['63 bytes', (tag: string) => `${tag}_${'é'.repeat(28)}`],
  ])('creates, observes and drops a database whose name has %s, exactly as named', async (_what, named) => {
    const tag = randomBytes(3).toString('hex');
    const name = named(tag);
    expect(Buffer.byteLength(name, 'utf8')).toBeLessThanOrEqual(63);
    made.add(name);
    const owner = await server.createRole(`o"wn'er ${tag} ü`, 'NOLOGIN');
    const object = databaseObject({ name, owner, connectionLimit: 3 }, { deletionPolicy: 'Delete' });

    expect((await sync(object)).applied?.reason).toBe('DatabaseCreated');
    expect(await catalog(name)).toMatchObject({ owner, connection_limit: 3, comment: ownerMark(object) });
    expect((await sync(object)).applied).toBeUndefined();

    expect((await remove(object)).reason).toBe('DatabaseDropped');
    expect(await catalog(name)).toBeUndefined();
  });

  it('applies a new owner and connection limit, reports drift made by hand under Observe-only, and corrects it otherwise', async () => {
    const first = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
    const second = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
    const name = newName();
    const object = databaseObject({ name, owner: first, connectionLimit: 5 });
    await sync(object);

    const changed = edited(object, { name, owner: second, connectionLimit: 10 });
    const updated = await sync(changed);
    expect(updated.applied).toEqual({
      reason: 'DatabaseUpdated',
      note: `updated database "${name}": owner "${first}" → "${second}"; connection limit 5 → 10`,
    });
    expect(updated.drift).toBeUndefined();
    expect(await catalog(name)).toMatchObject({ owner: second, connection_limit: 10 });

    await admin.query(`ALTER DATABASE ${ident(name)} CONNECTION LIMIT 3`);
    const observed = await sync(changed, false);
    expect(observed.applied).toBeUndefined();
    expect(observed.drift?.observed).toBe('connection limit is 3, spec says 10');
    expect(observed.drift?.changed).toBe(true);
    expect(observed.atProvider.drift).toEqual(['connection limit is 3, spec says 10']);
    expect((await catalog(name))?.connection_limit).toBe(3);
    // Seen once: the same drift again is not news.
    expect((await sync(changed, false)).drift?.changed).toBe(false);

    const corrected = await sync(changed);
    expect(corrected.applied?.note).toBe(`updated database "${name}": connection limit 3 → 10`);
    expect(corrected.drift).toBeUndefined();
    expect(corrected.atProvider.drift).toBeUndefined();
    expect((await catalog(name))?.connection_limit).toBe(10);
  });

  it('refuses another encoding with the server’s and the spec’s values, and changes nothing', async () => {
    const owner = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
    const name = newName();
    const object = databaseObject({
      name,
      owner,
      encoding: 'UTF8',
      locale: 'C',
      template: 'template0',
      connectionLimit: 4,
    });
    await sync(object);
    const before = await catalog(name);

    const refused = await sync(
      edited(object, {
        name,
        owner,
        encoding: 'SQL_ASCII',
        locale: 'C',
        template: 'template0',
        connectionLimit: 9,
      }),
    );
    expect(refused.applied).toBeUndefined();
    expect(refused.problem).toContain(
      `encoding is fixed when a database is created: database "${name}" has encoding UTF8, spec.forProvider.encoding says SQL_ASCII; nothing was changed. For a database with encoding SQL_ASCII, create a new Database`,
    );
    expect(refused.drift?.afterApply).toContain('encoding is UTF8, spec says SQL_ASCII');
    expect(await catalog(name)).toEqual(before);
  });

  it('refuses an existing database no Database marked, adopts it on request, and refuses it to a second Database, naming the first', async () => {
    const owner = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
    const name = await server.createDatabase(uniqueName('pgplane_byhand'));
    const forProvider = { name, owner, connectionLimit: 6 };

    const refused = await sync(databaseObject(forProvider));
    expect(refused.applied).toBeUndefined();
    expect(refused.problem).toBe(
      `database "${name}" already exists and no Database manages it; to take it over, annotate this Database with ${ADOPT_ANNOTATION}: "true"`,
    );
    expect(await catalog(name)).toMatchObject({ connection_limit: -1, comment: null });

    const adopter = databaseObject(forProvider, { objectName: 'adopter', adopt: true });
    const adopted = await sync(adopter);
    expect(adopted.problem).toBeUndefined();
    expect(adopted.applied?.note).toContain(`marked as managed by Database ${NAMESPACE}/adopter`);
    expect(await catalog(name)).toMatchObject({ owner, connection_limit: 6, comment: ownerMark(adopter) });
    // Not created here: the template it came from is unknown, so none is recorded.
    expect(adopted.atProvider.template).toBeUndefined();

    const second = await sync(databaseObject({ ...forProvider, connectionLimit: 1 }, { adopt: true }));
    expect(second.problem).toContain(
      `database "${name}" is managed by Database ${NAMESPACE}/adopter, not by this Database`,
    );
    expect(await catalog(name)).toMatchObject({ connection_limit: 6, comment: ownerMark(adopter) });
  });

  it('drops a database it created but could not hand to its owner, so nothing is half-applied', async () => {
    const role = await server.createRole(uniqueName('pgplane_prov'), 'LOGIN CREATEDB');
    const stranger = await server.createRole(uniqueName('pgplane_stranger'), 'NOLOGIN');
    const name = newName();
    const object = databaseObject({ name, owner: stranger });

    await expect(
      sync(
        object,
        true,
        clientAs(() => role),
      ),
    ).rejects.toThrow(
      new RegExp(
        `^created database "${name}" but could not mark it as this Database's and hand it to owner "${stranger}": statement 2 of 2: ALTER DATABASE "${name}" OWNER TO "${stranger}" failed: .*; dropped it again \\(it was still empty\\), so nothing changed$`,
      ),
    );
    expect(await catalog(name)).toBeUndefined();
  });

  it('creates a database for an owner a non-superuser provider may act as', async () => {
    const role = await server.createRole(uniqueName('pgplane_prov'), 'LOGIN CREATEDB');
    const owner = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
    // PostgreSQL 16+: SET without INHERIT lets the provider create for the owner, not act with its
    // privileges; it can mark the database only while it still owns it (before OWNER TO).
    await admin.query(
      `GRANT ${ident(owner)} TO ${ident(role)}${server.major >= 16 ? ' WITH INHERIT FALSE, SET TRUE' : ''}`,
    );
    const name = newName();
    const object = databaseObject({ name, owner, connectionLimit: 2 });

    const created = await sync(
      object,
      true,
      clientAs(() => role),
    );
    expect(created.problem).toBeUndefined();
    expect(created.applied?.reason).toBe('DatabaseCreated');
    expect(await catalog(name)).toMatchObject({ owner, connection_limit: 2, comment: ownerMark(object) });
  });

  it.runIf(target.major >= 15)(
    'reports an ICU database as ICU, refuses libc locales for it, and manages it without them',
    async () => {
      const owner = await server.createRole(uniqueName('pgplane_owner'), 'NOLOGIN');
      const name = newName();
      await admin.query(
        `CREATE DATABASE ${ident(name)} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'und'`,
      );

      const withLocale = await sync(databaseObject({ name, owner, locale: 'C' }, { adopt: true }));
      expect(withLocale.problem).toContain(
        `database "${name}" uses the icu locale provider (locale und), fixed when it was created; spec.forProvider.locale names a libc locale`,
      );
      expect(withLocale.atProvider).toMatchObject({ localeProvider: 'icu', providerLocale: 'und' });
      expect((await catalog(name))?.comment).toBeNull();

      const without = await sync(databaseObject({ name, owner }, { adopt: true }));
      expect(without.problem).toBeUndefined();
      expect(await catalog(name)).toMatchObject({ owner });
    },
  );

  it('drops its database on delete, and leaves one it does not own in place', async () => {
    const name = newName();
    const object = databaseObject({ name }, { deletionPolicy: 'Delete' });
    await sync(object);
    expect(await catalog(name)).toBeDefined();
    expect(await remove(object)).toEqual({
      reason: 'DatabaseDropped',
      note: `dropped database "${name}" (deletionPolicy Delete)`,
    });
    expect(await catalog(name)).toBeUndefined();

    const byHand = await server.createDatabase(uniqueName('pgplane_byhand'));
    const notOurs = await remove(databaseObject({ name: byHand }, { deletionPolicy: 'Delete' }));
    expect(notOurs.reason).toBe('NotDropped');
    expect(notOurs.note).toContain(
      `database "${byHand}" left in place: no Database has marked it as its own`,
    );
    expect(await catalog(byHand)).toBeDefined();
  });

  it('refuses to drop while a session is connected, says so, and keeps the data', async () => {
    const name = newName();
    const object = databaseObject({ name }, { deletionPolicy: 'Delete' });
    await sync(object);
    const session = await server.connect(name);
    await session.query('CREATE TABLE kept (v text)');
    await session.query("INSERT INTO kept VALUES ('still here')");

    await expect(remove(object)).rejects.toThrow(
      `cannot drop database "${name}": 1 session(s) are connected to it, and PostgreSQL drops a database only when no session is; nothing was dropped and its data is kept`,
    );
    const { rows } = await session.query<{ v: string }>('SELECT v FROM kept');
    expect(rows).toEqual([{ v: 'still here' }]);

    await session.end();
    expect((await remove(object)).reason).toBe('DatabaseDropped');
    expect(await catalog(name)).toBeUndefined();
  });
});
