// Inputs for the golden plan comparison: specs × snapshots × previous records drawn by fast-check
// from a small universe (two schemas, a few relations, routines, roles), so collisions between
// declared, observed and recorded privileges are frequent. Seeded: the same cases every time.
import fc from 'fast-check';
import type { GrantParameters } from '../../../src/api/grant.js';
import { parseSnapshot, type Snapshot } from '../../../src/grants/observe.js';
import type { GrantRecord } from '../../../src/grants/record.js';

export interface GoldenInput {
  readonly grants: readonly { readonly name: string; readonly parameters: GrantParameters }[];
  readonly snapshot: Snapshot;
  readonly previous: Readonly<Record<string, GrantRecord | undefined>>;
}

const SCHEMAS = ['s', 't'];
const RELATIONS = ['a', 'b', 'c'];
const ROLES = ['reader', 'owner', 'team', 'other'];
const GRANTEES = ['reader', 'team', 'PUBLIC'];
const TABLE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN'];
const SEQUENCE = ['USAGE', 'SELECT', 'UPDATE'];
const DATABASE = ['CONNECT', 'TEMPORARY', 'CREATE'];
const SCHEMA = ['USAGE', 'CREATE'];
const COLUMN = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];
const ROUTINES: readonly (readonly [string, readonly string[], string])[] = [
  ['f', ['integer'], 'f'],
  ['f', [], 'f'],
  ['p', [], 'p'],
  ['agg', ['integer'], 'a'],
];

const sub = (values: readonly string[]) => fc.subarray([...values]);
const some = (values: readonly string[]) => fc.subarray([...values], { minLength: 1 });
const privileges = (values: readonly string[]) =>
  fc.oneof({ weight: 4, arbitrary: some(values) }, { weight: 1, arbitrary: fc.constant(['ALL']) });
const acl = (privs: readonly string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...GRANTEES, 'other'), fc.constantFrom(...privs)), { maxLength: 4 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const relationEntry = (privs: readonly string[], names: readonly string[]) =>
  fc.oneof(
    fc.record({
      schema: fc.constantFrom(...SCHEMAS),
      objects: fc.constant(['*']),
      privileges: privileges(privs),
      except: opt(some(names)),
      defaultPrivilegesFor: opt(some(['owner', 'team', 'ghost'])),
    }),
    fc.record({
      schema: fc.constantFrom(...SCHEMAS),
      objects: some([...names, 'missing']),
      privileges: privileges(privs),
    }),
  );

const functionEntry = fc.oneof(
  fc.record({
    schema: fc.constantFrom(...SCHEMAS),
    objects: fc.constant(['*']),
    privileges: privileges(['EXECUTE']),
    except: opt(some(['f', 'p'])),
  }),
  fc.record({
    schema: fc.constantFrom(...SCHEMAS),
    objects: fc.subarray(
      [
        { name: 'f', arguments: ['int'] },
        { name: 'f', arguments: [] },
        { name: 'p', arguments: [] },
        { name: 'nope', arguments: ['text'] },
      ],
      { minLength: 1 },
    ),
    privileges: privileges(['EXECUTE']),
  }),
);

const parameters = (grantee: string) =>
  fc.record(
    {
      database: fc.constant('app'),
      grantee: fc.constant(grantee),
      mode: fc.constantFrom('additive', 'authoritative'),
      databasePrivileges: privileges(DATABASE),
      schemas: fc.array(
        fc.record({ name: fc.constantFrom(...SCHEMAS, 'gone'), privileges: privileges(SCHEMA) }),
        {
          maxLength: 2,
        },
      ),
      tables: fc.array(relationEntry(TABLE, RELATIONS), { maxLength: 3 }),
      sequences: fc.array(relationEntry(SEQUENCE, ['q']), { maxLength: 2 }),
      functions: fc.array(functionEntry, { maxLength: 2 }),
      columns: fc.array(
        fc.record({
          schema: fc.constantFrom(...SCHEMAS),
          table: fc.constantFrom(...RELATIONS),
          columns: some(['x', 'y']),
          privileges: privileges(COLUMN),
        }),
        { maxLength: 2 },
      ),
      memberships:
        grantee === 'PUBLIC'
          ? fc.constant([])
          : fc.array(
              fc.record({
                role: fc.constantFrom('team', 'owner', 'ghost'),
                admin: opt(fc.boolean()),
                inherit: opt(fc.boolean()),
                set: opt(fc.boolean()),
              }),
              { maxLength: 2 },
            ),
    },
    { requiredKeys: ['database', 'grantee', 'mode'] },
  ) as fc.Arbitrary<GrantParameters>;

const rawSnapshot = fc
  .record({
    serverVersionNum: fc.constantFrom(140000, 150000, 160000, 170000),
    databaseOwner: fc.constantFrom('owner', 'reader'),
    databaseAcl: acl(DATABASE),
    roles: sub(ROLES),
    schemas: fc
      .subarray(SCHEMAS, { minLength: 1 })
      .chain((names) =>
        fc.tuple(
          ...names.map((n) => fc.tuple(fc.constant(n), fc.constantFrom('owner', 'reader'), acl(SCHEMA))),
        ),
      ),
    relations: fc.array(
      fc.tuple(
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom(...RELATIONS, 'q'),
        fc.constantFrom('r', 'v', 'm', 'p', 'f', 'S'),
        fc.constantFrom('owner', 'owner', 'reader'),
        fc.boolean(),
        acl([...TABLE, 'USAGE']),
      ),
      { maxLength: 6 },
    ),
    routines: fc.array(
      fc.tuple(
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom(...ROUTINES),
        fc.constantFrom('owner', 'reader'),
        fc.boolean(),
        acl(['EXECUTE']),
      ),
      { maxLength: 4 },
    ),
    columns: fc.array(
      fc.tuple(
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom(...RELATIONS),
        fc.constantFrom('x', 'y', 'z'),
        acl(COLUMN),
      ),
      { maxLength: 4 },
    ),
    defaults: fc.array(
      fc.tuple(
        fc.constantFrom('owner', 'team'),
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom('r', 'S', 'f', 'T'),
        acl([...TABLE, 'USAGE', 'EXECUTE']),
      ),
      { maxLength: 3 },
    ),
    memberships: fc.array(
      fc.tuple(
        fc.constantFrom(...GRANTEES),
        fc.constantFrom('team', 'owner', 'other'),
        fc.record({ admin_option: fc.boolean(), inherit_option: fc.boolean(), set_option: fc.boolean() }),
      ),
      { maxLength: 3 },
    ),
  })
  .map((r) => {
    const pre16 = r.serverVersionNum < 160000;
    return {
      ...r,
      database: 'app',
      currentUser: 'postgres',
      allPrivileges: {
        database: DATABASE,
        schema: SCHEMA,
        table: r.serverVersionNum >= 170000 ? TABLE : TABLE.filter((p) => p !== 'MAINTAIN'),
        sequence: SEQUENCE,
        function: ['EXECUTE'],
      },
      routines: r.routines.map(([schema, [name, args, kind], owner, ext, a]) => [
        schema,
        name,
        args,
        kind,
        owner,
        ext,
        a,
      ]),
      memberships: r.memberships.map(([member, role, m]) =>
        pre16 ? [member, role, { admin_option: m.admin_option }] : [member, role, m],
      ),
    };
  });

/** Old-format record entries ("PRIVILEGE ON OBJECT"), as Grants in clusters carry them today. */
const OBJECT_KEYS = [
  'DATABASE "app"',
  'SCHEMA "s"',
  'SCHEMA "t"',
  'TABLE "s"."a"',
  'TABLE "s"."b"',
  'TABLE "t"."c"',
  'SEQUENCE "s"."q"',
  'FUNCTION "s"."f"(integer)',
  'PROCEDURE "s"."p"()',
  'TABLE "s"."a" COLUMN "x"',
  'DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "s" ON TABLES',
  'DEFAULT PRIVILEGES FOR ROLE "owner" IN SCHEMA "t" ON FUNCTIONS',
  'ROLE "team"',
];
const record = (grantee: string) =>
  fc.record({
    grantee: fc.constantFrom(grantee, grantee, 'other'),
    grants: fc
      .array(
        fc.tuple(
          fc.constantFrom('SELECT', 'INSERT', 'USAGE', 'EXECUTE', 'CONNECT', 'MEMBER', 'ADMIN', 'SET'),
          fc.constantFrom(...OBJECT_KEYS),
        ),
        { maxLength: 5 },
      )
      .map((es) => [...new Set(es.map(([p, k]) => `${p} ON ${k}`))].sort()),
    schemas: sub(['s', 't', 'old']),
  });

const input: fc.Arbitrary<GoldenInput> = fc
  .tuple(fc.subarray(GRANTEES, { minLength: 1, maxLength: 2 }), fc.boolean())
  .chain(([grantees, duplicate]) =>
    fc.record({
      grants: fc.tuple(
        ...grantees.map((g, i) => parameters(g).map((parameters) => ({ name: `g${i}`, parameters }))),
        ...(duplicate ? [parameters(grantees[0]!).map((parameters) => ({ name: 'dup', parameters }))] : []),
      ),
      snapshot: rawSnapshot.map(parseSnapshot),
      previous: fc
        .tuple(...grantees.map((g) => opt(record(g))))
        .map((rs) => Object.fromEntries(rs.flatMap((r, i) => (r ? [[`g${i}`, r]] : [])))),
    }),
  );

/** `count` seeded cases. */
export function generatedInputs(count: number): GoldenInput[] {
  return fc.sample(input, { numRuns: count, seed: 20261201 });
}
