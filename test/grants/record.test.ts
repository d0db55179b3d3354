// The record key format kept in Grant status and the CLI state file: version 2 is pinned here
// byte for byte (a change breaks every record in every cluster), and version-1 records, which
// existing Grants carry, still say what pgplane granted.
import { describe, expect, it } from 'vitest';
import { grantParameters } from '../../src/api/grant.js';
import type { GrantObject } from '../../src/grants/objects.js';
import { parseSnapshot } from '../../src/grants/observe.js';
import { planGrants } from '../../src/grants/plan.js';
import { describeRecordKey, parseRecordKey, recordKey } from '../../src/grants/record.js';
import { normalisePolicy } from '../../src/grants/spec.js';

/** One object of every type, its version-2 key, and the version-1 text earlier releases wrote. */
const PINNED: readonly [string, GrantObject, string, string][] = [
  [
    'CONNECT',
    { type: 'DATABASE', database: 'app' },
    '[2,"DATABASE","CONNECT","app"]',
    'CONNECT ON DATABASE "app"',
  ],
  [
    'USAGE',
    { type: 'SCHEMA', schema: 'my "s"' },
    '[2,"SCHEMA","USAGE","my \\"s\\""]',
    'USAGE ON SCHEMA "my ""s"""',
  ],
  [
    'SELECT',
    { type: 'TABLE', schema: 's', name: 'a.b' },
    '[2,"TABLE","SELECT","s","a.b"]',
    'SELECT ON TABLE "s"."a.b"',
  ],
  [
    'USAGE',
    { type: 'SEQUENCE', schema: 's', name: 'q' },
    '[2,"SEQUENCE","USAGE","s","q"]',
    'USAGE ON SEQUENCE "s"."q"',
  ],
  [
    'EXECUTE',
    { type: 'FUNCTION', schema: 's', name: 'f', argTypes: ['integer', 'character varying[]'] },
    '[2,"FUNCTION","EXECUTE","s","f","integer","character varying[]"]',
    'EXECUTE ON FUNCTION "s"."f"(integer, character varying[])',
  ],
  [
    'EXECUTE',
    { type: 'PROCEDURE', schema: 's', name: 'p', argTypes: [] },
    '[2,"PROCEDURE","EXECUTE","s","p"]',
    'EXECUTE ON PROCEDURE "s"."p"()',
  ],
  [
    'SELECT',
    { type: 'COLUMN', schema: 's', table: 'a', column: 'x' },
    '[2,"COLUMN","SELECT","s","a","x"]',
    'SELECT ON TABLE "s"."a" COLUMN "x"',
  ],
  [
    'SELECT',
    { type: 'DEFAULT', creator: 'owner', schema: 's', on: 'TABLES' },
    '[2,"DEFAULT","SELECT","owner","s","TABLES"]',
    'SELECT ON DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "s" ON TABLES',
  ],
  ['ADMIN', { type: 'MEMBERSHIP', role: 'team' }, '[2,"MEMBERSHIP","ADMIN","team"]', 'ADMIN ON ROLE "team"'],
];

describe('record keys', () => {
  it.each(PINNED)('%s on %j is written as %s and reads back', (privilege, object, key, v1) => {
    expect(recordKey(privilege, object)).toBe(key);
    expect(parseRecordKey(key)).toEqual({ privilege, object });
    expect(describeRecordKey(key)).toBe(v1);
  });

  it('leaves version-1 text and malformed keys unparsed (they are matched as text)', () => {
    for (const key of [
      'SELECT ON TABLE "s"."a"',
      '[1,"TABLE","SELECT","s","a"]',
      '[2,"TABLE","SELECT","s"]',
      '[2,',
      '[2,"NOPE","X","a"]',
    ])
      expect(parseRecordKey(key), key).toBeUndefined();
  });
});

describe('records written by earlier versions', () => {
  // The grantee holds, on every object type, a privilege it no longer declares.
  const snapshot = parseSnapshot({
    serverVersionNum: 160000,
    database: 'app',
    currentUser: 'postgres',
    databaseOwner: 'owner',
    databaseAcl: [['reader', 'CONNECT']],
    allPrivileges: {
      database: ['CONNECT', 'CREATE', 'TEMPORARY'],
      schema: ['CREATE', 'USAGE'],
      table: ['SELECT'],
      sequence: ['SELECT', 'UPDATE', 'USAGE'],
      function: ['EXECUTE'],
    },
    roles: ['reader', 'owner', 'team'],
    schemas: [
      ['my "s"', 'owner', [['reader', 'USAGE']]],
      ['s', 'owner', []],
    ],
    relations: [
      ['s', 'a.b', 'r', 'owner', false, [['reader', 'SELECT']]],
      ['s', 'q', 'S', 'owner', false, [['reader', 'USAGE']]],
    ],
    routines: [
      ['s', 'f', ['integer', 'character varying[]'], 'f', 'owner', false, [['reader', 'EXECUTE']]],
      ['s', 'p', [], 'p', 'owner', false, [['reader', 'EXECUTE']]],
    ],
    columns: [['s', 'a', 'x', [['reader', 'SELECT']]]],
    defaults: [['owner', 's', 'r', [['reader', 'SELECT']]]],
    memberships: [['reader', 'team', { admin_option: true, inherit_option: true, set_option: true }]],
  });
  const additive = normalisePolicy('g', grantParameters.parse({ database: 'app', grantee: 'reader' }));
  const record = (grants: string[]) => ({ g: { grantee: 'reader', grants, schemas: ['s', 'my "s"'] } });

  it('an additive Grant revokes what a version-1 record lists, exactly as for version 2', () => {
    const v1 = planGrants([additive], snapshot, record(PINNED.map(([, , , text]) => text)));
    const v2 = planGrants([additive], snapshot, record(PINNED.map(([, , key]) => key)));
    expect(v1.statements.map((s) => s.sql)).toEqual([
      'REVOKE ADMIN OPTION FOR "team" FROM "reader"',
      'ALTER DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "s" REVOKE SELECT ON TABLES FROM "reader"',
      'REVOKE SELECT ("x") ON TABLE "s"."a" FROM "reader"',
      'REVOKE EXECUTE ON PROCEDURE "s"."p"() FROM "reader"',
      'REVOKE EXECUTE ON FUNCTION "s"."f"(integer, character varying[]) FROM "reader"',
      'REVOKE USAGE ON SEQUENCE "s"."q" FROM "reader"',
      'REVOKE SELECT ON TABLE "s"."a.b" FROM "reader"',
      'REVOKE USAGE ON SCHEMA "my ""s""" FROM "reader"',
      'REVOKE CONNECT ON DATABASE "app" FROM "reader"',
    ]);
    expect(v2.statements).toEqual(v1.statements);
  });

  it('a version-1 entry still declared is carried into the new record as version 2', () => {
    const declared = normalisePolicy(
      'g',
      grantParameters.parse({ database: 'app', grantee: 'reader', databasePrivileges: ['CONNECT'] }),
    );
    const plan = planGrants([declared], snapshot, record(['CONNECT ON DATABASE "app"']));
    expect(plan.statements).toEqual([]);
    expect(plan.records.g?.grants).toEqual(['[2,"DATABASE","CONNECT","app"]']);
  });
});
