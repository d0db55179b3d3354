// The Role's external client against real PostgreSQL 15 (local, trust), 14 and 18 (embedded,
// SCRAM): RoleClient.sync and delete through a real PoolRegistry and an in-memory ConfigStore
// whose Secrets the tests change. Creation with every attribute, hostile names, rotation (the new
// password logs in, the old one is refused), no secret in anything the client returns, drift
// under Observe-only and corrected otherwise, ownership marks and adoption, and a refused DROP.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { roleParameters, type RoleObservation, type RoleParameters } from '../../src/api/role.js';
import type { ConnectionSource, ProviderConfigRef, SecretRef } from '../../src/provider/connection.js';
import type { ManagedObject, Note, Observed } from '../../src/provider/managed/reconciler.js';
import { ADOPT_ANNOTATION } from '../../src/provider/managed/ownership.js';
import { PoolRegistry } from '../../src/provider/pools.js';
import { RoleClient } from '../../src/provider/role/client.js';
import { scramVerifier } from '../../src/provider/role/scram-verifier.js';
import type { ConfigStore, StoredSecret } from '../../src/provider/session.js';
import { SERVERS, uniqueName, useServer, type ServerHandle } from '../support/postgres.js';
import { serverAccepts, setPassword } from '../support/scram.js';

const NAMESPACE = 'team';
const VERIFIER_PATTERN = /SCRAM-SHA-256\$/;

type RoleObject = ManagedObject<RoleObservation>;

/** A Kubernetes stand-in: the ProviderConfig, and Secrets whose resourceVersion moves on every write. */
class Store implements ConfigStore {
  private readonly secrets = new Map<string, StoredSecret>();
  private version = 0;

  constructor(
    private readonly server: ServerHandle,
    /** Connect as this role (same password as the superuser on embedded servers) instead of postgres. */
    private readonly user?: string,
  ) {}

  setSecret(name: string, data: Record<string, string>): void {
    this.secrets.set(`${NAMESPACE}/${name}`, { data, version: String(++this.version) });
  }

  async source(ref: ProviderConfigRef, namespace: string): Promise<ConnectionSource> {
    const { host, port } = this.server.config;
    return {
      kind: ref.kind,
      name: ref.name,
      namespace,
      spec: { host, port, sslmode: 'disable', connectionSecretRef: { name: 'pg-admin' } },
    };
  }

  async markInUse(): Promise<void> {}

  async readSecret(ref: SecretRef): Promise<StoredSecret | undefined> {
    if (ref.name === 'pg-admin') {
      const { password } = this.server.config;
      const user = this.user ?? this.server.config.user;
      // The local server trusts every login; the provider still needs a password to hold.
      return { data: { username: user, password: password ?? 'unused-under-trust' }, version: '1' };
    }
    return this.secrets.get(`${ref.namespace}/${ref.name}`);
  }
}

function roleObject(
  forProvider: Record<string, unknown>,
  o: { name?: string; annotations?: Record<string, string> } = {},
): RoleObject {
  return {
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Role',
    metadata: {
      name: o.name ?? `role-${randomUUID().slice(0, 8)}`,
      namespace: NAMESPACE,
      uid: randomUUID(),
      generation: 1,
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: { forProvider, providerConfigRef: { kind: 'ProviderConfig', name: 'pg' } },
  };
}

describe.each(SERVERS)('Role client on PostgreSQL $major', (target) => {
  const server = useServer(target);
  const pools = new PoolRegistry({ applicationName: 'pgplane-role-test' });
  const created = new Set<string>();
  /** Everything the client returned or threw, to search for secrets at the end. */
  const said: unknown[] = [];
  const passwords: string[] = [];
  let store: Store;
  let client: RoleClient;

  const ensure = (): void => {
    if (client) return;
    store = new Store(server);
    client = new RoleClient({
      configs: store,
      databases: pools,
      now: () => new Date('2026-12-02T05:00:00Z'),
      limits: { lockTimeoutMs: 300 },
    });
  };

  afterAll(async () => {
    await pools.closeAll();
    const admin = await server.connect('postgres');
    for (const name of created) await admin.query(`DROP ROLE IF EXISTS "${name.replaceAll('"', '""')}"`);
    await admin.end();
  });

  const specOf = (object: RoleObject): RoleParameters => {
    const parsed = client.parse(object, `${NAMESPACE}/${object.metadata.name}`);
    if ('invalid' in parsed) throw new Error(parsed.invalid);
    return parsed.spec;
  };

  /** One sync, with status kept as the lifecycle would keep it. */
  async function sync(
    object: RoleObject,
    apply = true,
    using?: RoleClient,
  ): Promise<Observed<RoleObservation>> {
    ensure();
    const spec = specOf(object);
    created.add(spec.name);
    try {
      const observed = await (using ?? client).sync({
        key: `${NAMESPACE}/${object.metadata.name}`,
        object,
        spec,
        apply,
      });
      said.push(observed);
      object.status = { atProvider: observed.atProvider };
      return observed;
    } catch (error) {
      said.push(String(error));
      throw error;
    }
  }

  async function drop(object: RoleObject): Promise<Note> {
    ensure();
    try {
      const note = await client.delete({
        key: `${NAMESPACE}/${object.metadata.name}`,
        object,
        spec: specOf(object),
      });
      said.push(note);
      return note;
    } catch (error) {
      said.push(String(error));
      throw error;
    }
  }

  async function roleRow(name: string) {
    const admin = await server.connect('postgres');
    try {
      const { rows } = await admin.query<{
        rolcanlogin: boolean;
        rolcreatedb: boolean;
        rolinherit: boolean;
        rolconnlimit: number;
        valid: string | null;
        comment: string | null;
        member_of: string[];
      }>(
        `SELECT rolcanlogin, rolcreatedb, rolinherit, rolconnlimit,
                to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS valid,
                shobj_description(oid, 'pg_authid') AS comment,
                ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                      WHERE m.member = r.oid ORDER BY 1) AS member_of
           FROM pg_roles r WHERE rolname = $1`,
        [name],
      );
      return rows[0];
    } finally {
      await admin.end();
    }
  }

  async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = await server.connect('postgres');
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  /** Whether the server lets `role` in with `password`: a real login where auth is SCRAM, the verifier where it is trust. */
  async function accepts(role: string, password: string): Promise<boolean> {
    if (target.source === 'local') return serverAccepts(role, password);
    const c = new pg.Client({ ...server.config, user: role, password, database: 'postgres' });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.end();
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === '28P01') return false;
      throw error;
    }
  }

  const newPassword = (): string => {
    const p = `pw '${randomUUID()}' \\ "x"; --`;
    passwords.push(p);
    return p;
  };

  it('computes the verifier PostgreSQL itself computes for the same salt and iterations', async () => {
    const role = await server.createRole(uniqueName('scram'), 'NOLOGIN');
    const password = newPassword();
    const stored = await admin(async (c) => {
      await setPassword(c, role, password);
      const { rows } = await c.query<{ v: string }>(
        'SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1',
        [role],
      );
      return rows[0]!.v;
    });
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
    expect(
      scramVerifier(password, { salt: Buffer.from(salt!, 'base64'), iterations: Number(iterations) }),
    ).toBe(stored);
    expect(
      scramVerifier(`${password}x`, { salt: Buffer.from(salt!, 'base64'), iterations: Number(iterations) }),
    ).not.toBe(stored);
  });

  it('creates a login role with every attribute, its memberships and its password, then holds still', async () => {
    const group = await server.createRole(uniqueName('grp'), 'NOLOGIN');
    const name = uniqueName('app');
    const password = newPassword();
    ensure();
    store.setSecret(`${name}-pw`, { password });
    const object = roleObject({
      name,
      login: true,
      createdb: true,
      connectionLimit: 3,
      validUntil: '2031-01-02T03:04:05Z',
      inRoles: [group],
      passwordSecretRef: { name: `${name}-pw` },
    });
    const first = await sync(object);
    expect(first.applied?.reason).toBe('RoleCreated');
    // One more: the provider's role becomes a member of the new role (SET LOCAL
    // createrole_self_grant from 16, a GRANT before), so it may hand databases to it.
    const statements = 5;
    expect(first.applied?.note).toBe(
      `created role "${name}" and set its password from Secret "team/${name}-pw" (${statements} statement(s))`,
    );
    expect(first.problem).toBeUndefined();
    expect(first.drift).toBeUndefined();
    expect(await roleRow(name)).toMatchObject({
      rolcanlogin: true,
      rolcreatedb: true,
      rolinherit: true,
      rolconnlimit: 3,
      valid: '2031-01-02T03:04:05Z',
      member_of: [group],
      comment: `managed by grants.pgplane.io Role team/${object.metadata.name} (uid ${object.metadata.uid})`,
    });
    expect(first.atProvider).toMatchObject({
      exists: true,
      login: true,
      createdb: true,
      connectionLimit: 3,
      validUntil: '2031-01-02T03:04:05.000000Z',
      inRoles: [group],
      password: { secret: `team/${name}-pw`, key: 'password', version: expect.any(String) },
    });
    expect(await accepts(name, password)).toBe(true);

    const second = await sync(object);
    expect(second.applied).toBeUndefined();
    expect(second.drift).toBeUndefined();
    expect(await drop(object)).toEqual({ reason: 'RoleDropped', note: `dropped role "${name}"` });
    expect(await roleRow(name)).toBeUndefined();
  });

  it('handles hostile names, touching no other role', async () => {
    const decoy = await server.createRole(uniqueName('decoy'), 'NOLOGIN');
    const group = await server.createRole(`grp "${uniqueName('q')}" it's`, 'NOLOGIN');
    const base = uniqueName('h');
    // ASCII, then two-byte characters, then one more ASCII byte if the count is odd: exactly 63 bytes.
    const umlauts = `${base}_${'ü'.repeat((62 - base.length) >> 1)}`;
    const sixtyThree = Buffer.byteLength(umlauts) === 63 ? umlauts : `${umlauts}a`;
    expect(Buffer.byteLength(sixtyThree)).toBe(63);
    const names = [
      `it's "quoted" ${base}`,
      `with spaces ${base}`,
      `"; DROP ROLE "${decoy}"; -- ${base}`.slice(0, 63),
      `ünïcødé ☃ ${base}`,
      sixtyThree,
    ];
    for (const name of names) {
      const object = roleObject({ name, login: true, inRoles: [group] });
      const result = await sync(object);
      expect(result.applied?.reason).toBe('RoleCreated');
      expect(await roleRow(name)).toMatchObject({ rolcanlogin: true, member_of: [group] });
      expect((await sync(object)).applied).toBeUndefined();
      expect((await drop(object)).reason).toBe('RoleDropped');
      expect(await roleRow(name)).toBeUndefined();
    }
    // The role the injection names, the group and the superuser are all still there.
    for (const other of [decoy, group, 'postgres']) expect(await roleRow(other)).toBeDefined();
  });

  it('rotates: a new Secret version sets the new password, the old one is refused, an unchanged one is not set again', async () => {
    const name = uniqueName('rot');
    const secret = `${name}-pw`;
    const first = newPassword();
    ensure();
    store.setSecret(secret, { password: first });
    const object = roleObject({ name, login: true, passwordSecretRef: { name: secret } });
    await sync(object);
    expect(await accepts(name, first)).toBe(true);
    const verifier = async (): Promise<string> =>
      admin(
        async (c) =>
          (await c.query<{ v: string }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [name]))
            .rows[0]!.v,
      );
    const set = await verifier();
    const version = object.status?.atProvider?.password?.version;

    // Same version: nothing is sent (the verifier, with its random salt, is the same one).
    expect((await sync(object)).applied).toBeUndefined();
    expect(await verifier()).toBe(set);

    const second = newPassword();
    store.setSecret(secret, { password: second });
    const rotated = await sync(object);
    expect(rotated.applied?.reason).toBe('PasswordSet');
    expect(rotated.atProvider.password?.version).not.toBe(version);
    expect(await verifier()).not.toBe(set);
    expect(await accepts(name, second)).toBe(true);
    expect(await accepts(name, first)).toBe(false);
    expect(await verifier()).toMatch(/^SCRAM-SHA-256\$4096:/);
    await drop(object);
  });

  it('refuses a missing Secret or key by name, and a failed password statement is shown without its verifier', async () => {
    const name = uniqueName('sec');
    const secret = `${name}-pw`;
    const object = roleObject({ name, login: true, passwordSecretRef: { name: secret, key: 'pass' } });
    const missing = await sync(object);
    expect(missing.problem).toBe(
      `Secret "team/${secret}" named by spec.forProvider.passwordSecretRef does not exist`,
    );
    expect(missing.applied?.reason).toBe('RoleCreated');
    store.setSecret(secret, { password: 'wrong key' });
    expect((await sync(object)).problem).toBe(`Secret "team/${secret}" has no key "pass", or it is empty`);

    // Another session holds the role's catalog row: the password statement times out on its lock.
    const password = newPassword();
    store.setSecret(secret, { pass: password });
    const holder = await server.connect('postgres');
    try {
      await holder.query('BEGIN');
      await holder.query(`ALTER ROLE "${name}" CONNECTION LIMIT 7`);
      const failure = await sync(object).then(
        () => undefined,
        (error: unknown) => String(error),
      );
      expect(failure).toContain(
        `cannot update role "${name}": statement 1 of 1: ALTER ROLE "${name}" PASSWORD <from Secret "team/${secret}"> failed`,
      );
      expect(failure).toMatch(/lock timeout.*55P03.*rolled back/);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await sync(object)).applied?.reason).toBe('PasswordSet');
    expect(await accepts(name, password)).toBe(true);
    await drop(object);
  });

  it('reports drift under Observe-only, changing nothing, and corrects it otherwise', async () => {
    const group = await server.createRole(uniqueName('grp'), 'NOLOGIN');
    const extra = await server.createRole(uniqueName('extra'), 'NOLOGIN');
    const name = uniqueName('drift');
    const object = roleObject({ name, login: true, inRoles: [group] });
    // Observe-only on a role that does not exist yet: said, not created.
    const absent = await sync(object, false);
    expect(absent.drift?.observed).toBe(`role "${name}" does not exist`);
    expect(absent.atProvider).toEqual({ exists: false, drift: [`role "${name}" does not exist`] });
    expect(await roleRow(name)).toBeUndefined();
    await sync(object);
    await admin((c) =>
      c.query(
        `ALTER ROLE "${name}" NOLOGIN CONNECTION LIMIT 9 VALID UNTIL '2020-01-01 00:00:00+00'; REVOKE "${group}" FROM "${name}"; GRANT "${extra}" TO "${name}"`,
      ),
    );
    // A membership another role granted (PostgreSQL 16+ keeps it apart from the superuser's).
    const grantor = await server.createRole(uniqueName('adm'), 'NOLOGIN CREATEROLE');
    const third = await server.createRole(uniqueName('third'), 'NOLOGIN');
    await admin((c) =>
      c.query(
        `GRANT "${third}" TO "${grantor}" WITH ADMIN OPTION; SET ROLE "${grantor}"; GRANT "${third}" TO "${name}"; RESET ROLE; GRANT "${third}" TO "${name}"`,
      ),
    );
    const expected = [
      'login is false on the server, the spec says true',
      'connectionLimit is 9 on the server, the spec says -1',
      'validUntil is 2020-01-01T00:00:00.000000Z on the server, the spec says unset (never expires)',
      `a member of "${extra}" on the server, which the spec does not list`,
      `a member of "${third}" on the server, which the spec does not list`,
      `not a member of "${group}" on the server, the spec says it is`,
    ];
    const observed = await sync(object, false);
    expect(observed.applied).toBeUndefined();
    expect(observed.drift?.observed).toBe(expected.join('; '));
    expect(observed.drift?.changed).toBe(true);
    expect(observed.atProvider.drift).toEqual(expected);
    expect(await roleRow(name)).toMatchObject({ rolcanlogin: false, rolconnlimit: 9 });
    expect((await roleRow(name))?.member_of).toContain(extra);
    expect((await sync(object, false)).drift?.changed).toBe(false);

    const corrected = await sync(object);
    expect(corrected.applied).toEqual({
      reason: 'RoleUpdated',
      note: expect.stringMatching(
        new RegExp(`^updated role "${name}" \\(\\d+ statement\\(s\\)\\): login is false on the server`),
      ),
    });
    expect(corrected.drift).toBeUndefined();
    expect(corrected.atProvider.drift).toBeUndefined();
    expect(await roleRow(name)).toMatchObject({ rolcanlogin: true, rolconnlimit: -1, member_of: [group] });
    expect(corrected.atProvider.validUntil).toBe('infinity');
    await drop(object);
  });

  it('refuses a role another object marked or nobody marked, naming the other; adopt takes it over', async () => {
    const name = uniqueName('own');
    const first = roleObject({ name, login: true }, { name: 'first' });
    await sync(first);
    const second = roleObject({ name, createdb: true }, { name: 'second' });
    const refused = await sync(second);
    expect(refused.problem).toMatch(
      new RegExp(`role "${name}" is managed by Role team/first, not by this Role team/second`),
    );
    expect(refused.applied).toBeUndefined();
    expect(refused.drift).toBeDefined();
    expect(await roleRow(name)).toMatchObject({ rolcreatedb: false });
    expect(await drop(second)).toEqual({
      reason: 'RoleNotDropped',
      note: expect.stringMatching(/^left in place: role ".*" is managed by Role team\/first/),
    });
    expect(await roleRow(name)).toBeDefined();

    const byHand = await server.createRole(uniqueName('hand'), 'NOLOGIN');
    const stranger = roleObject({ name: byHand, login: true });
    expect((await sync(stranger)).problem).toMatch(
      /already exists and no Role manages it; .*grants\.pgplane\.io\/adopt: "true"/,
    );
    expect((await drop(stranger)).reason).toBe('RoleNotDropped');
    expect(await roleRow(byHand)).toMatchObject({ rolcanlogin: false });

    // A privileged role is refused even when adopted, and nothing of it changes.
    const mighty = await server.createRole(uniqueName('super'), 'NOLOGIN SUPERUSER');
    const bold = roleObject({ name: mighty, login: true }, { annotations: { [ADOPT_ANNOTATION]: 'true' } });
    expect((await sync(bold)).problem).toBe(
      `role "${mighty}" has SUPERUSER; a Role neither offers nor manages privileged roles, so it changes nothing of this one`,
    );
    expect(await roleRow(mighty)).toMatchObject({ rolcanlogin: false, comment: null });

    const adopter = roleObject(
      { name: byHand, login: true },
      { annotations: { [ADOPT_ANNOTATION]: 'true' } },
    );
    const adopted = await sync(adopter);
    expect(adopted.problem).toBeUndefined();
    expect(adopted.applied?.reason).toBe('RoleUpdated');
    expect(await roleRow(byHand)).toMatchObject({
      rolcanlogin: true,
      comment: `managed by grants.pgplane.io Role team/${adopter.metadata.name} (uid ${adopter.metadata.uid})`,
    });
    await drop(first);
    await drop(adopter);
  });

  it('works as a CREATEROLE provider; on 16+ says which membership it cannot revoke and applies the rest', async () => {
    const provider = await server.createRole(uniqueName('prov'), 'LOGIN CREATEROLE');
    const limited = new RoleClient({
      configs: new Store(server, provider),
      databases: pools,
      now: () => new Date(),
    });
    const group = await server.createRole(uniqueName('grp'), 'NOLOGIN');
    const name = uniqueName('lim');
    // inRoles: [] is authoritative: the membership granted by hand below is to be revoked.
    const object = roleObject({ name, inRoles: [] });
    expect((await sync(object, true, limited)).applied?.reason).toBe('RoleCreated');
    await admin((c) => c.query(`GRANT "${group}" TO "${name}"; ALTER ROLE "${name}" CONNECTION LIMIT 4`));

    const result = await sync(object, true, limited);
    expect(result.applied?.reason).toBe('RoleUpdated');
    expect((await roleRow(name))?.rolconnlimit).toBe(-1);
    if (server.major >= 16) {
      expect(result.problem).toBe(
        `the membership in "${group}" was granted by "postgres", whose grants the provider's user cannot revoke (REVOKE ... GRANTED BY needs that role's privileges); revoke it as a superuser`,
      );
      expect(result.drift?.afterApply).toContain(`a member of "${group}" on the server`);
      expect((await roleRow(name))?.member_of).toEqual([group]);
    } else {
      expect(result.problem).toBeUndefined();
      expect((await roleRow(name))?.member_of).toEqual([]);
    }
    await admin((c) => c.query(`REVOKE "${group}" FROM "${name}"`));
    expect((await sync(object, true, limited)).problem).toBeUndefined();
    expect((await drop(object)).reason).toBe('RoleDropped');
  });

  it('does not drop a role that owns a table, and says what to do; drops it once that is gone', async () => {
    const name = uniqueName('owner');
    const object = roleObject({ name });
    await sync(object);
    const db = await server.createDatabase();
    const inDb = await server.connect(db);
    await inDb.query(`CREATE TABLE t (id int); ALTER TABLE t OWNER TO "${name}"`);
    const failure = await drop(object).then(
      () => 'dropped',
      (error: unknown) => (error as Error).message,
    );
    expect(failure).toContain(
      `cannot drop role "${name}": it still owns objects or holds privileges (in database(s) "${db}")`,
    );
    expect(failure).toContain(`REASSIGN OWNED BY "${name}" TO <another role> and DROP OWNED BY "${name}"`);
    expect(failure).toContain('spec.deletionPolicy: Orphan');
    expect(failure).toContain('2BP01');
    expect(await roleRow(name)).toBeDefined();
    await inDb.query('DROP TABLE t');
    await inDb.end();
    expect((await drop(object)).reason).toBe('RoleDropped');
    expect((await drop(object)).reason).toBe('RoleAbsent');
  });

  it('never says a password or a verifier, in anything it returned or threw', () => {
    const text = JSON.stringify(said);
    expect(said.length).toBeGreaterThan(10);
    expect(passwords.length).toBeGreaterThan(3);
    for (const password of passwords) expect(text).not.toContain(password);
    expect(text).not.toMatch(VERIFIER_PATTERN);
  });
});

// The parse contract the lifecycle relies on, without a server.
describe('RoleClient.parse', () => {
  const client = new RoleClient({
    configs: {
      source: () => Promise.reject(new Error('no config')),
      markInUse: async () => undefined,
      readSecret: async () => undefined,
    },
    databases: { withClient: () => Promise.reject(new Error('no server')) },
    now: () => new Date(),
  });

  it('returns the spec with its policies, and an invalid spec in words', () => {
    const object = roleObject({ name: 'orders_app' });
    (object.spec as { deletionPolicy?: string }).deletionPolicy = 'Orphan';
    expect(client.parse(object, 'team/x')).toEqual({
      spec: roleParameters.parse({ name: 'orders_app' }),
      managementPolicies: undefined,
      deletionPolicy: 'Orphan',
    });
    const bad = client.parse(roleObject({ name: 'pg_monitor_x', login: 'yes' }), 'team/x');
    expect(bad).toEqual({
      invalid: expect.stringMatching(/^invalid spec: .*forProvider\.name: starts with "pg_".*login/),
    });
  });
});
