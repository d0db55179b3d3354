// Names that break naive string-built SQL: quotes, spaces, dots, mixed case, unicode, 63-byte
// names and SQL fragments. They must be granted exactly, and never run as SQL.
import { describe, expect, it } from 'vitest';
import { ident } from '../../src/grants/sql.js';
import { SERVERS, uniqueName, useServer } from '../support/postgres.js';
import { params, Reconciler, tryAs } from './fixtures.js';

const HOSTILE = {
  schema: 'My "Schema". x',
  table: `t'; DROP TABLE victim; --`,
  view: 'View.With.Dots',
  column: 'Cölumn "quoted"',
  sequence: 'séq ünïcode',
  fn: 'fn"); DROP TABLE victim; --',
  // 63 bytes exactly: 31 two-byte letters and one ASCII letter.
  long: `${'é'.repeat(31)}x`,
};

describe.each(SERVERS)('hostile names on PostgreSQL $major ($source)', (target) => {
  const server = useServer(target);

  it('grants on hostile identifiers to a hostile role and executes none of them', async () => {
    expect(Buffer.byteLength(HOSTILE.long)).toBe(63);
    const grantee = await server.createRole(`Role "x"; DROP TABLE victim; -- ${uniqueName('r')}`);
    const database = await server.createDatabase(`db "${uniqueName('d')}" ; --`);
    const admin = await server.connect(database);
    const s = ident(HOSTILE.schema);
    await admin.query(`
      CREATE TABLE public.victim (id int);
      CREATE SCHEMA ${s};
      CREATE TABLE ${s}.${ident(HOSTILE.table)} (${ident(HOSTILE.column)} int, other int);
      CREATE VIEW ${s}.${ident(HOSTILE.view)} AS SELECT 1 AS one;
      CREATE TABLE ${s}.${ident(HOSTILE.long)} (id int);
      CREATE SEQUENCE ${s}.${ident(HOSTILE.sequence)};
      CREATE TYPE ${s}."Mood ""x""" AS ENUM ('ok');
      CREATE FUNCTION ${s}.${ident(HOSTILE.fn)}(a ${s}."Mood ""x"""[], b character varying) RETURNS int LANGUAGE sql AS 'SELECT 1';
      REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} FROM PUBLIC;
    `);
    const spec = params(
      { database, grantee },
      {
        databasePrivileges: ['CONNECT'],
        schemas: [{ name: HOSTILE.schema, privileges: ['USAGE'] }],
        tables: [
          { schema: HOSTILE.schema, objects: [HOSTILE.view, HOSTILE.long], privileges: ['SELECT'] },
          { schema: HOSTILE.schema, objects: [HOSTILE.table], privileges: ['INSERT'] },
        ],
        sequences: [{ schema: HOSTILE.schema, objects: [HOSTILE.sequence], privileges: ['USAGE'] }],
        functions: [
          {
            schema: HOSTILE.schema,
            objects: [{ name: HOSTILE.fn, arguments: [`${s}."Mood ""x"""[]`, 'varchar'] }],
            privileges: ['EXECUTE'],
          },
        ],
        columns: [
          { schema: HOSTILE.schema, table: HOSTILE.table, columns: [HOSTILE.column], privileges: ['SELECT'] },
        ],
      },
    );
    // The argument type is printed by format_type() relative to the search_path; declare it as printed.
    const printed = await admin.query<{ t: string }>(
      `SELECT format_type(typarray, NULL) AS t FROM pg_type WHERE typname = 'Mood "x"'`,
    );
    spec.functions![0]!.objects[0] = { name: HOSTILE.fn, arguments: [printed.rows[0]!.t, 'varchar'] };

    const reconciler = new Reconciler(admin);
    const first = await reconciler.run(spec);
    expect(first.applied).toBe(true);
    expect((await reconciler.run(spec)).plan.statements).toEqual([]);

    const as = (sql: string) => tryAs(server, grantee, database, sql);
    expect(await as(`SELECT * FROM ${s}.${ident(HOSTILE.view)}`)).toBe('ok');
    expect(await as(`SELECT * FROM ${s}.${ident(HOSTILE.long)}`)).toBe('ok');
    expect(await as(`INSERT INTO ${s}.${ident(HOSTILE.table)} (other) VALUES (1)`)).toBe('ok');
    expect(await as(`SELECT ${ident(HOSTILE.column)} FROM ${s}.${ident(HOSTILE.table)}`)).toBe('ok');
    expect(await as(`SELECT other FROM ${s}.${ident(HOSTILE.table)}`)).toBe('42501');
    expect(
      await as(
        `SELECT nextval('${s.replaceAll("'", "''")}.${ident(HOSTILE.sequence).replaceAll("'", "''")}')`,
      ),
    ).toBe('ok');
    expect(await as(`SELECT ${s}.${ident(HOSTILE.fn)}(ARRAY['ok']::${printed.rows[0]!.t}, 'v')`)).toBe('ok');
    // Nothing was executed as SQL: the victim and the roles are still there.
    expect((await admin.query(`SELECT to_regclass('public.victim') IS NOT NULL AS present`)).rows[0]).toEqual(
      { present: true },
    );
  });
});
