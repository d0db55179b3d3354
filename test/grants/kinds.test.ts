// The privilege kinds as data: every section of a Grant has a kind, and deleting an authoritative
// Grant revokes in every section it declared.
import { describe, expect, it } from 'vitest';
import { grantParameters } from '../../src/api/grant.js';
import { OBJECT_KINDS, OBJECT_TYPE_ORDER, SECTIONS } from '../../src/grants/kinds.js';
import { parseSnapshot } from '../../src/grants/observe.js';
import { planGrants } from '../../src/grants/plan.js';
import { revocationParameters } from '../../src/grants/revocation.js';
import { normalisePolicy } from '../../src/grants/spec.js';

const everySection = grantParameters.parse({
  database: 'app',
  grantee: 'reader',
  mode: 'authoritative',
  databasePrivileges: ['CONNECT'],
  schemas: [{ name: 's', privileges: ['USAGE'] }],
  tables: [{ schema: 's', objects: ['*'], privileges: ['SELECT'] }],
  sequences: [{ schema: 's', objects: ['q'], privileges: ['USAGE'] }],
  functions: [{ schema: 's', objects: [{ name: 'f', arguments: [] }], privileges: ['EXECUTE'] }],
  columns: [{ schema: 's', table: 'a', columns: ['x'], privileges: ['SELECT'] }],
  memberships: [{ role: 'team' }],
});

/** The grantee holds what everySection declares, as after an apply. */
const granted = parseSnapshot({
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
  schemas: [['s', 'owner', [['reader', 'USAGE']]]],
  relations: [
    ['s', 'a', 'r', 'owner', false, [['reader', 'SELECT']]],
    ['s', 'q', 'S', 'owner', false, [['reader', 'USAGE']]],
  ],
  routines: [['s', 'f', [], 'f', 'owner', false, [['reader', 'EXECUTE']]]],
  columns: [['s', 'a', 'x', [['reader', 'SELECT']]]],
  defaults: [['owner', 's', 'r', [['reader', 'SELECT']]]],
  memberships: [['reader', 'team', { admin_option: false, inherit_option: true, set_option: true }]],
});

describe('privilege kinds', () => {
  it('cover every section of the Grant schema', () => {
    const sections = Object.keys(grantParameters.shape).filter(
      (k) => !['database', 'grantee', 'mode'].includes(k),
    );
    expect([...SECTIONS].sort()).toEqual(sections.sort());
  });

  it('are all planned, and each object type they address has its place in the statement order', () => {
    expect(new Set(OBJECT_KINDS.flatMap((k) => k.sections))).toEqual(new Set(SECTIONS));
    expect([...OBJECT_KINDS.flatMap((k) => k.objectTypes)].sort()).toEqual([...OBJECT_TYPE_ORDER].sort());
  });

  it('deleting an authoritative Grant keeps every declared section, with nothing declared', () => {
    const revocation = revocationParameters(everySection);
    for (const section of SECTIONS) {
      expect(revocation[section], section).toBeDefined();
      const entries = revocation[section] as readonly unknown[];
      for (const entry of entries) expect(entry).toMatchObject({ privileges: [] });
    }
  });

  it('deleting an authoritative Grant revokes every kind of object it granted', () => {
    const plan = planGrants([normalisePolicy('g', revocationParameters(everySection))], granted);
    expect(plan.problems).toEqual([]);
    expect(plan.statements.every((s) => s.action === 'REVOKE')).toBe(true);
    expect(new Set(plan.statements.map((s) => s.objectType))).toEqual(
      new Set(OBJECT_TYPE_ORDER.filter((t) => t !== 'PROCEDURE' && t !== 'ROUTINE')),
    );
  });

  it('deleting an additive Grant revokes only from its record', () => {
    expect(revocationParameters({ ...everySection, mode: 'additive' })).toEqual({
      database: 'app',
      grantee: 'reader',
      mode: 'additive',
    });
  });
});
