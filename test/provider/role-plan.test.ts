// The Role's plan, pure: what DDL a spec and an observed role lead to, how differences are worded,
// when the password is set, and what is refused. No server: the SQL itself is proven in role.pg.test.ts.
import { describe, expect, it } from 'vitest';
import { roleParameters, type RoleParameters } from '../../src/api/role.js';
import { ownershipComment, type Owner } from '../../src/provider/managed/ownership.js';
import type { ObservedRole, RoleSnapshot } from '../../src/provider/role/observe.js';
import { planRole, type PasswordInput, type PlanInput } from '../../src/provider/role/plan.js';

const owner: Owner = {
  kind: 'Role',
  namespace: 'team',
  name: 'app',
  uid: '0a1b2c3d-0000-4000-8000-000000000001',
};
const VERIFIER = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';

const spec = (overrides: Partial<Record<keyof RoleParameters, unknown>> = {}): RoleParameters =>
  roleParameters.parse({ name: 'app', ...overrides });

const existing = (overrides: Partial<ObservedRole> = {}): ObservedRole => ({
  login: false,
  inherit: true,
  createdb: false,
  createrole: false,
  connectionLimit: -1,
  validUntil: 'infinity',
  privileged: [],
  comment: ownershipComment(owner),
  inRoles: [],
  grantors: {},
  ...overrides,
});

const snapshot = (
  role: ObservedRole | undefined,
  targets: string[] = [],
  version = 150004,
): RoleSnapshot => ({
  role,
  targets: targets.map((name) => ({ name, privileged: [] })),
  version,
});

const password = (overrides: Partial<PasswordInput> = {}): PasswordInput => ({
  namespace: 'team',
  name: 'app-password',
  key: 'password',
  secret: { data: { password: 'correct horse' }, version: '7' },
  previous: undefined,
  ...overrides,
});

function plan(o: Partial<PlanInput> & { spec: RoleParameters; observed: RoleSnapshot }) {
  return planRole({ owner, adopt: false, verifier: () => VERIFIER, ...o });
}

const sqlOf = (p: ReturnType<typeof planRole>): string[] => p.statements.map((s) => s.sql);

describe('planRole: a missing role', () => {
  it('is created with every attribute, marked, granted its memberships and given its password', () => {
    const p = plan({
      spec: spec({
        login: true,
        connectionLimit: 5,
        validUntil: '2027-06-30T00:00:00Z',
        inRoles: ['readers'],
      }),
      observed: snapshot(undefined, ['readers']),
      password: password(),
    });
    expect(sqlOf(p)).toEqual([
      `CREATE ROLE "app" WITH LOGIN INHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT 5 VALID UNTIL '2027-06-30T00:00:00Z'`,
      // Before 16 the provider's role makes itself a member, so it may hand databases to the role.
      'GRANT "app" TO CURRENT_USER',
      `COMMENT ON ROLE "app" IS '${ownershipComment(owner)}'`,
      'GRANT "readers" TO "app"',
      `ALTER ROLE "app" PASSWORD '${VERIFIER}'`,
    ]);
    expect(p.creates).toBe(true);
    expect(p.drift).toEqual(['role "app" does not exist']);
    expect(p.passwordSet).toEqual({ secret: 'team/app-password', key: 'password', version: '7' });
    expect(p.problem).toBeUndefined();
  });

  it('from PostgreSQL 16 is granted to its creator through createrole_self_grant, for this transaction', () => {
    const p = plan({ spec: spec(), observed: snapshot(undefined, [], 160002) });
    expect(sqlOf(p).slice(0, 2)).toEqual([
      "SET LOCAL createrole_self_grant = 'set, inherit'",
      'CREATE ROLE "app" WITH NOLOGIN INHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT -1 VALID UNTIL \'infinity\'',
    ]);
    expect(sqlOf(p)).not.toContain('GRANT "app" TO CURRENT_USER');
  });

  it('never expires when validUntil is unset, and a group role gets NOLOGIN', () => {
    const p = plan({ spec: spec(), observed: snapshot(undefined) });
    expect(sqlOf(p)[0]).toBe(
      `CREATE ROLE "app" WITH NOLOGIN INHERIT NOCREATEDB NOCREATEROLE CONNECTION LIMIT -1 VALID UNTIL 'infinity'`,
    );
  });

  it('quotes a hostile name everywhere', () => {
    const name = `a "b"; DROP ROLE x; --`;
    const p = plan({ spec: spec({ name, inRoles: [`it's`] }), observed: snapshot(undefined, [`it's`]) });
    expect(sqlOf(p)[0]).toMatch(/^CREATE ROLE "a ""b""; DROP ROLE x; --" WITH /);
    expect(sqlOf(p)).toContain(`GRANT "it's" TO "a ""b""; DROP ROLE x; --"`);
  });
});

describe('planRole: attribute drift', () => {
  it.each([
    ['login', { login: true }, 'LOGIN', 'login is false on the server, the spec says true'],
    ['inherit', { inherit: false }, 'NOINHERIT', 'inherit is true on the server, the spec says false'],
    ['createdb', { createdb: true }, 'CREATEDB', 'createdb is false on the server, the spec says true'],
    [
      'createrole',
      { createrole: true },
      'CREATEROLE',
      'createrole is false on the server, the spec says true',
    ],
    [
      'connectionLimit',
      { connectionLimit: 3 },
      'CONNECTION LIMIT 3',
      'connectionLimit is -1 on the server, the spec says 3',
    ],
    [
      'validUntil',
      { validUntil: '2027-06-30T00:00:00Z' },
      `VALID UNTIL '2027-06-30T00:00:00Z'`,
      'validUntil is infinity on the server, the spec says 2027-06-30T00:00:00Z',
    ],
  ])('%s: one ALTER ROLE and the difference in words', (_field, change, keyword, words) => {
    const p = plan({ spec: spec(change), observed: snapshot(existing()) });
    expect(sqlOf(p)).toEqual([`ALTER ROLE "app" WITH ${keyword}`]);
    expect(p.drift).toEqual([words]);
  });

  it('puts every differing attribute in one ALTER ROLE', () => {
    const p = plan({
      spec: spec({ login: true, connectionLimit: 2 }),
      observed: snapshot(existing({ createdb: true })),
    });
    expect(sqlOf(p)).toEqual(['ALTER ROLE "app" WITH LOGIN NOCREATEDB CONNECTION LIMIT 2']);
    expect(p.drift).toHaveLength(3);
  });

  it('plans nothing for a role as specified', () => {
    const p = plan({ spec: spec(), observed: snapshot(existing()) });
    expect(p.statements).toEqual([]);
    expect(p.drift).toEqual([]);
  });

  it('compares validUntil as instants: another offset or microseconds of the same instant match', () => {
    const observed = snapshot(existing({ validUntil: '2027-06-29T22:00:00.000000Z' }));
    expect(plan({ spec: spec({ validUntil: '2027-06-30T00:00:00+02:00' }), observed }).statements).toEqual(
      [],
    );
  });

  it('takes a never-set VALID UNTIL (null) for infinity, and sets an expiry back to infinity', () => {
    expect(plan({ spec: spec(), observed: snapshot(existing({ validUntil: null })) }).statements).toEqual([]);
    const p = plan({
      spec: spec(),
      observed: snapshot(existing({ validUntil: '2026-01-01T00:00:00.000000Z' })),
    });
    expect(sqlOf(p)).toEqual([`ALTER ROLE "app" WITH VALID UNTIL 'infinity'`]);
    expect(p.drift).toEqual([
      'validUntil is 2026-01-01T00:00:00.000000Z on the server, the spec says unset (never expires)',
    ]);
  });
});

describe('planRole: memberships', () => {
  it('grants the missing ones and revokes the ones the spec does not list (inRoles is authoritative)', () => {
    const p = plan({
      spec: spec({ inRoles: ['readers', 'writers'] }),
      observed: snapshot(existing({ inRoles: ['admins', 'readers'] }), ['readers', 'writers']),
    });
    expect(sqlOf(p)).toEqual(['REVOKE "admins" FROM "app"', 'GRANT "writers" TO "app"']);
    expect(p.drift).toEqual([
      'a member of "admins" on the server, which the spec does not list',
      'not a member of "writers" on the server, the spec says it is',
    ]);
  });

  it('leaves memberships alone when inRoles is unset (a Grant may manage them), and revokes all with []', () => {
    const observed = snapshot(existing({ inRoles: ['admins', 'readers'] }), []);
    const unset = plan({ spec: spec({ inRoles: undefined }), observed });
    expect(sqlOf(unset)).toEqual([]);
    expect(unset.drift).toEqual([]);
    const none = plan({ spec: spec({ inRoles: [] }), observed });
    expect(sqlOf(none)).toEqual(['REVOKE "admins" FROM "app"', 'REVOKE "readers" FROM "app"']);
  });

  it('on PostgreSQL 16+ revokes a membership from each of its grantors; before 16 it is one row', () => {
    const role = existing({
      inRoles: ['admins'],
      grantors: { admins: { revocable: ['postgres', 'a "b"'], foreign: [] } },
    });
    expect(sqlOf(plan({ spec: spec({ inRoles: [] }), observed: snapshot(role, [], 160000) }))).toEqual([
      'REVOKE "admins" FROM "app" GRANTED BY "postgres"',
      'REVOKE "admins" FROM "app" GRANTED BY "a ""b"""',
    ]);
    expect(sqlOf(plan({ spec: spec({ inRoles: [] }), observed: snapshot(role, [], 150004) }))).toEqual([
      'REVOKE "admins" FROM "app"',
    ]);
  });

  it('says which grantor it cannot revoke for, and still revokes the rest', () => {
    const role = existing({
      inRoles: ['admins'],
      grantors: { admins: { revocable: ['me'], foreign: ['postgres'] } },
    });
    const p = plan({ spec: spec({ login: true, inRoles: [] }), observed: snapshot(role, [], 180001) });
    expect(sqlOf(p)).toEqual(['ALTER ROLE "app" WITH LOGIN', 'REVOKE "admins" FROM "app" GRANTED BY "me"']);
    expect(p.problem).toMatch(
      /the membership in "admins" was granted by "postgres", whose grants the provider's user cannot revoke/,
    );
  });

  it('refuses a membership in a role that does not exist, and still grants the others', () => {
    const p = plan({
      spec: spec({ inRoles: ['ghost', 'readers'] }),
      observed: snapshot(existing(), ['readers']),
    });
    expect(sqlOf(p)).toEqual(['GRANT "readers" TO "app"']);
    expect(p.problem).toBe('inRoles names role "ghost", which does not exist');
  });

  it('refuses a membership in a privileged role: a member could SET ROLE to it', () => {
    const p = plan({
      spec: spec({ inRoles: ['admin'] }),
      observed: {
        role: existing(),
        targets: [{ name: 'admin', privileged: ['SUPERUSER'] }],
        version: 180001,
      },
    });
    expect(p.statements).toEqual([]);
    expect(p.problem).toMatch(/inRoles names role "admin", which has SUPERUSER/);
  });
});

describe('planRole: password', () => {
  const set = { secret: 'team/app-password', key: 'password', version: '7', setAt: '2026-01-01T00:00:00Z' };

  it('is not set again while the Secret version is the one status recorded', () => {
    const p = plan({ spec: spec(), observed: snapshot(existing()), password: password({ previous: set }) });
    expect(p.statements).toEqual([]);
    expect(p.passwordSet).toBeUndefined();
  });

  it.each([
    ['a new Secret version', { previous: { ...set, version: '6' } }],
    ['another Secret', { previous: { ...set, secret: 'team/old' } }],
    ['another key', { previous: { ...set, key: 'old' } }],
    ['no record (adopted, or status lost)', { previous: undefined }],
  ])('is set on %s, shown without the verifier', (_case, overrides) => {
    const p = plan({ spec: spec(), observed: snapshot(existing()), password: password(overrides) });
    expect(p.statements).toEqual([
      {
        sql: `ALTER ROLE "app" PASSWORD '${VERIFIER}'`,
        shown: 'ALTER ROLE "app" PASSWORD <from Secret "team/app-password">',
      },
    ]);
    expect(p.drift).toEqual([
      'the password from Secret "team/app-password" key "password" (resourceVersion 7) is not set yet',
    ]);
    expect(p.secrets).toEqual([VERIFIER]);
  });

  it.each([
    [
      'the Secret is missing',
      { secret: undefined },
      'Secret "team/app-password" named by spec.forProvider.passwordSecretRef does not exist',
    ],
    [
      'the key is missing',
      { secret: { data: { other: 'x' }, version: '1' } },
      'Secret "team/app-password" has no key "password", or it is empty',
    ],
    [
      'the key is empty',
      { secret: { data: { password: '' }, version: '1' } },
      'Secret "team/app-password" has no key "password", or it is empty',
    ],
  ])('is refused when %s, naming the Secret and key; the rest still applies', (_case, overrides, problem) => {
    const p = plan({
      spec: spec({ login: true }),
      observed: snapshot(existing()),
      password: password(overrides),
    });
    expect(p.problem).toBe(problem);
    expect(sqlOf(p)).toEqual(['ALTER ROLE "app" WITH LOGIN']);
  });

  it('refuses a non-ASCII password without showing it', () => {
    const p = plan({
      spec: spec(),
      observed: snapshot(existing()),
      password: password({ secret: { data: { password: 'pässwörd' }, version: '1' } }),
    });
    expect(p.problem).toMatch(
      /key "password" of Secret "team\/app-password" contains characters outside ASCII/,
    );
    expect(p.problem).not.toContain('pässwörd');
    expect(p.statements).toEqual([]);
  });

  it('is left alone when the spec names no Secret', () => {
    expect(plan({ spec: spec(), observed: snapshot(existing()) }).statements).toEqual([]);
  });
});

describe('planRole: ownership', () => {
  const other = ownershipComment({ ...owner, name: 'other', uid: '0a1b2c3d-0000-4000-8000-000000000002' });

  it('refuses a role marked by another object, naming it, and changes nothing', () => {
    const p = plan({
      spec: spec({ login: true }),
      observed: snapshot(existing({ comment: other })),
      password: password(),
    });
    expect(p.statements).toEqual([]);
    expect(p.problem).toMatch(/role "app" is managed by Role team\/other, not by this Role team\/app/);
    expect(p.drift).toEqual(['role "app" is not marked as managed by this Role']);
  });

  it('refuses an unmarked role unless adopted; adopting marks it and applies the spec', () => {
    const observed = snapshot(existing({ comment: 'made by hand' }));
    expect(plan({ spec: spec(), observed }).problem).toMatch(/grants\.pgplane\.io\/adopt: "true"/);
    const p = plan({ spec: spec({ login: true }), observed, adopt: true, password: password() });
    expect(p.problem).toBeUndefined();
    expect(sqlOf(p)).toEqual([
      'ALTER ROLE "app" WITH LOGIN',
      `COMMENT ON ROLE "app" IS '${ownershipComment(owner)}'`,
      `ALTER ROLE "app" PASSWORD '${VERIFIER}'`,
    ]);
  });

  it('takes over the mark of an earlier object of the same kind, namespace and name', () => {
    const earlier = ownershipComment({ ...owner, uid: '0a1b2c3d-0000-4000-8000-000000000003' });
    const p = plan({ spec: spec(), observed: snapshot(existing({ comment: earlier })) });
    expect(sqlOf(p)).toEqual([`COMMENT ON ROLE "app" IS '${ownershipComment(owner)}'`]);
  });

  it('refuses to manage a privileged role, even when adopted', () => {
    const p = plan({
      spec: spec(),
      observed: snapshot(existing({ privileged: ['SUPERUSER'], comment: null })),
      adopt: true,
      password: password(),
    });
    expect(p.statements).toEqual([]);
    expect(p.problem).toMatch(/role "app" has SUPERUSER; a Role neither offers nor manages privileged roles/);
  });

  it('under Observe-only reports the differences of a role it does not own, refusing nothing', () => {
    const p = plan({
      spec: spec({ login: true }),
      observed: snapshot(existing({ comment: other })),
      observeOnly: true,
    });
    expect(p.problem).toBeUndefined();
    expect(p.drift).toEqual(['login is false on the server, the spec says true']);
  });
});
