// The planner without a database: hand-built snapshots in, statements, drift and records out.
import { describe, expect, it } from 'vitest';
import { grantParameters, parseGrant, GrantValidationError } from '../../src/api/grant.js';
import { parseSnapshot, type Snapshot } from '../../src/grants/observe.js';
import { planGrants } from '../../src/grants/plan.js';
import { normalisePolicy, snapshotScope } from '../../src/grants/spec.js';
import { ident, normaliseType, routineSignature } from '../../src/grants/sql.js';

const TABLE_ALL_15 = ['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'];

function snapshot(overrides: Partial<Record<string, unknown>> = {}): Snapshot {
  return parseSnapshot({
    serverVersionNum: 150000,
    database: 'app',
    currentUser: 'postgres',
    databaseOwner: 'owner',
    databaseAcl: [],
    allPrivileges: {
      database: ['CONNECT', 'CREATE', 'TEMPORARY'],
      schema: ['CREATE', 'USAGE'],
      table: TABLE_ALL_15,
      sequence: ['SELECT', 'UPDATE', 'USAGE'],
      function: ['EXECUTE'],
    },
    roles: ['reader', 'owner', 'team'],
    schemas: [['s', 'owner', []]],
    relations: [
      ['s', 'a', 'r', 'owner', false, []],
      ['s', 'b', 'v', 'owner', false, [['reader', 'SELECT']]],
      ['s', 'ext', 'r', 'owner', true, []],
    ],
    routines: [],
    columns: [],
    defaults: [],
    memberships: [],
    ...overrides,
  });
}

const policy = (p: Record<string, unknown>) =>
  normalisePolicy('g', grantParameters.parse({ database: 'app', grantee: 'reader', ...p }));
const sqls = (plan: ReturnType<typeof planGrants>) => plan.statements.map((s) => s.sql);

describe('planGrants', () => {
  it('backfills a wildcard over existing relations (not extension members) and sets default privileges for the schema owner', () => {
    const plan = planGrants(
      [policy({ tables: [{ schema: 's', objects: ['*'], privileges: ['SELECT'] }] })],
      snapshot(),
    );
    expect(sqls(plan)).toEqual([
      'GRANT SELECT ON TABLE "s"."a" TO "reader"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "s" GRANT SELECT ON TABLES TO "reader"',
    ]);
    expect(plan.problems).toEqual([]);
  });

  it('expands ALL from the snapshot, so MAINTAIN appears only where the server has it', () => {
    const p = policy({ tables: [{ schema: 's', objects: ['a'], privileges: ['ALL'] }] });
    expect(planGrants([p], snapshot()).statements[0]!.privileges).toEqual(TABLE_ALL_15);
    const on17 = snapshot({
      serverVersionNum: 170000,
      allPrivileges: { ...snapshot().allPrivileges, table: [...TABLE_ALL_15, 'MAINTAIN'] },
    });
    expect(planGrants([p], on17).statements[0]!.privileges).toContain('MAINTAIN');
  });

  it('reports privileges the server lacks and objects that do not exist instead of failing at apply', () => {
    const plan = planGrants(
      [policy({ tables: [{ schema: 's', objects: ['a', 'missing'], privileges: ['MAINTAIN'] }] })],
      snapshot(),
    );
    expect(plan.statements).toEqual([]);
    expect(plan.problems).toEqual([
      'Grant "g": MAINTAIN is not a table privilege on PostgreSQL 15 (it knows DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE); it was left out',
      'Grant "g": table "s"."missing" does not exist',
    ]);
  });

  it('additive revokes only what its record says it granted; authoritative revokes every undeclared privilege in scope', () => {
    const s = snapshot({
      relations: [
        [
          's',
          'a',
          'r',
          'owner',
          false,
          [
            ['reader', 'SELECT'],
            ['reader', 'INSERT'],
            ['reader', 'DELETE'],
          ],
        ],
      ],
    });
    const declared = { tables: [{ schema: 's', objects: ['a'], privileges: ['SELECT'] }] };
    const previous = {
      g: {
        grantee: 'reader',
        grants: ['INSERT ON TABLE "s"."a"', 'SELECT ON TABLE "s"."a"'],
        schemas: ['s'],
      },
    };
    const additive = planGrants([policy({ ...declared, mode: 'additive' })], s, previous);
    expect(sqls(additive)).toEqual(['REVOKE INSERT ON TABLE "s"."a" FROM "reader"']);
    expect(additive.drift).toEqual([
      { grant: 'g', object: 'TABLE "s"."a"', missing: [], extra: ['DELETE', 'INSERT'] },
    ]);
    // The previous record is in the version-1 text format; the new one is written as version 2.
    expect(additive.records.g).toEqual({
      grantee: 'reader',
      grants: ['[2,"TABLE","SELECT","s","a"]'],
      schemas: ['s'],
    });
    const authoritative = planGrants([policy({ ...declared, mode: 'authoritative' })], s, previous);
    expect(sqls(authoritative)).toEqual(['REVOKE DELETE, INSERT ON TABLE "s"."a" FROM "reader"']);
  });

  it('grants before it revokes, and re-grants column privileges a table REVOKE would take along', () => {
    const s = snapshot({
      relations: [
        ['s', 'a', 'r', 'owner', false, [['reader', 'SELECT']]],
        ['s', 'b', 'r', 'owner', false, []],
      ],
      columns: [['s', 'a', 'c', [['reader', 'SELECT']]]],
    });
    const plan = planGrants(
      [
        policy({
          mode: 'authoritative',
          tables: [{ schema: 's', objects: ['b'], privileges: ['SELECT'] }],
          columns: [{ schema: 's', table: 'a', columns: ['c'], privileges: ['SELECT'] }],
        }),
      ],
      s,
    );
    expect(sqls(plan)).toEqual([
      'GRANT SELECT ON TABLE "s"."b" TO "reader"',
      'REVOKE SELECT ON TABLE "s"."a" FROM "reader"',
      'GRANT SELECT ("c") ON TABLE "s"."a" TO "reader"',
    ]);
  });

  it('never touches objects the grantee owns', () => {
    const s = snapshot({
      relations: [
        [
          's',
          'mine',
          'r',
          'reader',
          false,
          [
            ['reader', 'SELECT'],
            ['reader', 'DELETE'],
          ],
        ],
      ],
    });
    expect(
      planGrants(
        [
          policy({
            mode: 'authoritative',
            tables: [{ schema: 's', objects: ['*'], privileges: ['SELECT'] }],
          }),
        ],
        s,
      ).statements.map((x) => x.objectType),
    ).toEqual(['DEFAULT']);
  });

  it('refuses INHERIT FALSE before PostgreSQL 16 and writes full option lists on 16+', () => {
    const p = policy({ memberships: [{ role: 'team', inherit: false }] });
    expect(planGrants([p], snapshot()).problems).toEqual([
      'Grant "g": memberships "team": INHERIT FALSE needs PostgreSQL 16 or later (server is PostgreSQL 15)',
    ]);
    expect(sqls(planGrants([p], snapshot({ serverVersionNum: 160000 })))).toEqual([
      'GRANT "team" TO "reader" WITH INHERIT FALSE',
    ]);
  });

  it('merges two Grants for the same grantee into a problem, not a fight', () => {
    const a = policy({ tables: [{ schema: 's', objects: ['a'], privileges: ['SELECT'] }] });
    const b = normalisePolicy('h', grantParameters.parse({ database: 'app', grantee: 'reader' }));
    expect(planGrants([a, b], snapshot()).problems).toEqual([
      expect.stringContaining('grantee "reader" already has Grant "g"'),
    ]);
  });

  it('is deterministic: the same inputs give the same statements in the same order', () => {
    const p = policy({
      tables: [{ schema: 's', objects: ['*'], privileges: ['ALL'] }],
      schemas: [{ name: 's', privileges: ['USAGE'] }],
      databasePrivileges: ['CONNECT'],
    });
    expect(planGrants([p], snapshot())).toEqual(planGrants([p], snapshot()));
    expect(planGrants([p], snapshot()).statements.map((s) => s.objectType)).toEqual([
      'DATABASE',
      'SCHEMA',
      'TABLE',
      'TABLE',
      'DEFAULT',
    ]);
  });

  it('covers the record schemas in the snapshot scope, so dropped sections are still revoked', () => {
    expect(
      snapshotScope([policy({})], [{ grantee: 'reader', grants: [], schemas: ['old'] }]).schemas,
    ).toEqual(['old']);
  });
});

describe('sql quoting', () => {
  it('quotes every identifier and doubles embedded quotes', () => {
    expect(ident('a"b; DROP TABLE x; --')).toBe('"a""b; DROP TABLE x; --"');
    expect(ident('Mixed.Case')).toBe('"Mixed.Case"');
    expect(() => ident('a\u0000b')).toThrow(/NUL/);
    expect(routineSignature('s', 'f', ['integer', 'character varying[]'])).toBe(
      '"s"."f"(integer, character varying[])',
    );
  });

  it('normalises argument types to the catalog spelling', () => {
    expect(
      [
        'varchar',
        'VARCHAR(20)',
        'int',
        'int4[]',
        'timestamptz',
        'character varying []',
        'public.thing',
        'integer ARRAY',
        '"My Type"',
      ].map(normaliseType),
    ).toEqual([
      'character varying',
      'character varying',
      'integer',
      'integer[]',
      'timestamp with time zone',
      'character varying[]',
      'thing',
      'integer[]',
      '"My Type"',
    ]);
  });
});

describe('Grant validation', () => {
  const doc = (forProvider: Record<string, unknown>) => ({
    apiVersion: 'grants.pgplane.io/v1alpha1',
    kind: 'Grant',
    metadata: { name: 'ro' },
    spec: { forProvider: { database: 'app', grantee: 'r', ...forProvider } },
  });

  it('names the field, the object, the problem and an example', () => {
    const error = (() => {
      try {
        parseGrant(
          doc({
            tables: [{ schema: 's', objects: ['*', 'a'], privileges: ['SELECT'] }],
            sequences: [{ schema: 's', objects: ['q'], except: ['x'], privileges: ['USAGE'] }],
          }),
          'file.yaml',
        );
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(GrantValidationError);
    expect((error as GrantValidationError).problems).toEqual([
      expect.stringMatching(
        /^spec\.forProvider\.tables\[0\]\.objects: mixes "\*" with names.*Example: tables: /,
      ),
      expect.stringMatching(
        /^spec\.forProvider\.sequences\[0\]\.except: is only meaningful with objects: \["\*"\]\. Example: sequences: /,
      ),
    ]);
    expect((error as GrantValidationError).message).toContain('invalid Grant "ro" (file.yaml)');
  });

  it('refuses names over 63 bytes and accepts any other name', () => {
    expect(() => parseGrant(doc({ grantee: 'é'.repeat(32) }))).toThrow(
      /64 bytes; PostgreSQL names are at most 63 bytes/,
    );
    expect(parseGrant(doc({ grantee: `x"; DROP ROLE y; --` })).spec.forProvider.grantee).toBe(
      `x"; DROP ROLE y; --`,
    );
  });

  it('defaults mode to additive', () => {
    expect(parseGrant(doc({})).spec.forProvider.mode).toBe('additive');
  });
});
