// `pgplane grants plan|apply` end to end: several Grant documents, several databases, one run.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantsCommand } from '../../src/cli/grants.js';
import { SERVERS, useServer, type ServerHandle } from '../support/postgres.js';
import { makeWorld } from './fixtures.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await grantsCommand(argv, {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

function grantYaml(name: string, database: string, grantee: string, extra = ''): string {
  return `apiVersion: grants.pgplane.io/v1alpha1
kind: Grant
metadata:
  name: ${name}
spec:
  forProvider:
    database: ${database}
    grantee: ${grantee}
    databasePrivileges: [CONNECT]
    schemas: [{name: app, privileges: [USAGE]}]
    tables: [{schema: app, objects: ["*"], privileges: [SELECT]}${extra}]
`;
}

describe.each(SERVERS)('pgplane grants CLI on PostgreSQL $major ($source)', (target) => {
  const server: ServerHandle = useServer(target);

  it('plans, applies, and is a no-op the second time, across two databases in one run', async () => {
    const one = await makeWorld(server);
    const two = await makeWorld(server);
    const dir = await mkdtemp(path.join(tmpdir(), 'pgplane-cli-'));
    const fileA = path.join(dir, 'a.yaml');
    const fileB = path.join(dir, 'b.yaml');
    await writeFile(
      fileA,
      `${grantYaml('one', one.database, one.grantee)}---\n${grantYaml('one-extra', one.database, two.grantee)}`,
    );
    await writeFile(
      fileB,
      grantYaml(
        'two',
        two.database,
        two.grantee,
        `, {schema: app, objects: [orders], privileges: [SELECT, INSERT]}`,
      ),
    );
    const state = path.join(dir, 'state.json');
    // One URL: the second database is reached through it with the database name replaced.
    const args = ['-f', fileA, '-f', fileB, '--database-url', server.url(one.database), '--state', state];

    const plan = await run(['plan', ...args]);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`database "${one.database}"`);
    expect(plan.stdout).toContain(`database "${two.database}"`);
    expect(plan.stdout).toContain(`GRANT INSERT, SELECT ON TABLE "app"."orders" TO "${two.grantee}";`);
    expect(plan.stdout).toContain(`[two] TABLE "app"."orders": missing INSERT, SELECT`);
    // plan changed nothing
    expect(
      (
        await one.admin.query(`SELECT has_database_privilege($1, current_database(), 'CONNECT') AS c`, [
          one.grantee,
        ])
      ).rows[0],
    ).toEqual({ c: false });

    const apply = await run(['apply', ...args]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(new RegExp(`database "${one.database}" \\(.*\\): applied \\d+ statements`));
    expect(
      (await one.admin.query(`SELECT has_table_privilege($1, 'app.orders', 'SELECT') AS c`, [one.grantee]))
        .rows[0],
    ).toEqual({ c: true });

    const again = await run(['apply', ...args]);
    expect(again.code).toBe(0);
    // Databases print in name order, whatever order the files list them in.
    expect(again.stdout.trim().split('\n')).toEqual(
      [one.database, two.database]
        .sort()
        .map((db) => expect.stringMatching(new RegExp(`^database "${db}" \\(.*\\): no changes$`))),
    );

    // The state file lets additive mode revoke what pgplane granted once the spec drops it.
    await writeFile(fileB, grantYaml('two', two.database, two.grantee));
    const narrowed = await run(['apply', ...args, '--output', 'json']);
    expect(narrowed.code).toBe(0);
    const output = JSON.parse(narrowed.stdout) as {
      database: string;
      plan: { statements: { sql: string }[] };
    }[];
    expect(output.find((o) => o.database === two.database)?.plan.statements.map((s) => s.sql)).toEqual([
      `REVOKE INSERT ON TABLE "app"."orders" FROM "${two.grantee}"`,
    ]);

    for (const text of [plan, apply, again, narrowed].flatMap((r) => [r.stdout, r.stderr])) {
      if (server.config.password) expect(text).not.toContain(server.config.password);
    }
  });

  it('rejects an invalid Grant naming the file, the field, the problem and an example', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pgplane-cli-'));
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      grantYaml('bad', 'app', 'reader').replace('privileges: [SELECT]', 'privileges: [USAGE]'),
    );
    const result = await run(['plan', '-f', file, '--database-url', server.url('postgres')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid Grant "bad"');
    expect(result.stderr).toContain('bad.yaml document 1');
    expect(result.stderr).toContain(
      'spec.forProvider.tables[0].privileges[0]: "USAGE" is not a table privilege',
    );
    expect(result.stderr).toContain('Example: tables: [{schema: public, objects: ["*"]');
  });
});
