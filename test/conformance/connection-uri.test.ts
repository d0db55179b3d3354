// In secret-store mode External Secrets writes the connection Secret itself, from templates
// pgplane composes: the password never passes through Crossplane. So the `uri` a team's
// application reads is whatever ESO's template engine makes of those templates. This suite runs
// the composed templates through that engine (Go text/template with sprig, built from the Go module
// proxy: test/tools/eso-template) for passwords full of URI syntax, and connects with the result,
// through libpq (psql) and node-postgres, to a PostgreSQL that checks passwords (SCRAM).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inputFrom } from '../../src/cli/render.js';
import { render } from '../../src/render/render.js';
import { getObject, getString, type JsonObject } from '../../src/shared/json.js';
import { readSingleObject } from '../../src/shared/yaml-files.js';
import { startServer, type RunningServer } from '../support/postgres.js';

const PASSWORDS = [
  'with a space',
  'plus+and space ',
  'per%cent%20literal',
  'at@colon:slash/question?hash#',
  'amp&equals=semi;comma,',
  'quote\'double"back\\slash',
  'brackets[]{}<>|^`~!$*()',
  'ünïcödé-пароль-密码',
];

let esoTemplate = '';
let server: RunningServer;

beforeAll(() => {
  esoTemplate = execFileSync('test/tools/eso-template/install.sh', { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
});

beforeAll(async () => {
  server = await startServer({ major: 18, source: 'embedded' });
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

/** The connection ExternalSecret of the secret-store example, as the function composes it. */
function composedConnectionTemplates(): { templates: Record<string, string>; username: string } {
  const xr = readSingleObject('examples/minimal/xr.yaml');
  const input = inputFrom(readSingleObject('apis/namespaced/composition.yaml'));
  const result = render({ xr, input });
  const connection = result.objects.find(
    (o): o is JsonObject =>
      o.kind === 'ExternalSecret' &&
      getString(o, 'metadata', 'annotations', 'crossplane.io/composition-resource-name') === 'connection',
  );
  const data = getObject(connection, 'spec', 'target', 'template', 'data') ?? {};
  const templates = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, String(value)]));
  return { templates, username: templates.username! };
}

function renderLikeEso(templates: Record<string, string>, password: string): Record<string, string> {
  const output = execFileSync(esoTemplate, {
    input: JSON.stringify({ templates, data: { password } }),
    encoding: 'utf8',
  });
  return JSON.parse(output) as Record<string, string>;
}

/**
 * The composed URI points at the cluster's Service over TLS; here it points at the test server,
 * which has no TLS. Only host, port, database and sslmode change: user and password stay exactly
 * as rendered.
 */
function local(uri: string, endpoint: string, database: string): string {
  return uri
    .replace(`@${endpoint}:5432/${database}?`, `@127.0.0.1:${server.config.port}/postgres?`)
    .replace('sslmode=require', 'sslmode=disable');
}

async function asAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...server.config, database: 'postgres' });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe('the connection Secret ESO writes from the composed templates', () => {
  const { templates, username } = composedConnectionTemplates();

  it.each(PASSWORDS)('connects with uri through libpq and node-postgres: %j', async (password) => {
    await asAdmin((c) => c.query(`DROP ROLE IF EXISTS "${username}"`));
    await asAdmin((c) => c.query(`CREATE ROLE "${username}" LOGIN PASSWORD ${pg.escapeLiteral(password)}`));
    const rendered = renderLikeEso(templates, password);
    expect(rendered.password).toBe(password);
    const uri = local(rendered.uri!, rendered.endpoint!, rendered.database!);

    const viaLibpq = execFileSync('psql', [uri, '-tAc', 'select current_user'], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: '', PGCONNECT_TIMEOUT: '10' },
    });
    expect(viaLibpq.trim()).toBe(username);

    const client = new pg.Client({ connectionString: uri });
    await client.connect();
    try {
      expect(
        (await client.query<{ current_user: string }>('select current_user')).rows[0]?.current_user,
      ).toBe(username);
    } finally {
      await client.end();
    }
  });

  it("is needed: Go's urlquery alone turns a space into '+', which libpq takes literally", async () => {
    const password = 'with a space';
    await asAdmin((c) => c.query(`ALTER ROLE "${username}" PASSWORD ${pg.escapeLiteral(password)}`));
    const old = renderLikeEso(
      { ...templates, uri: templates.uri!.replace(' | replace "+" "%20"', '') },
      password,
    );
    expect(old.uri).toContain('with+a+space');
    const uri = local(old.uri!, old.endpoint!, old.database!);
    expect(() =>
      execFileSync('psql', [uri, '-tAc', 'select 1'], {
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
      }),
    ).toThrow(/password authentication failed/);
  });

  afterAll(async () => {
    await asAdmin((c) => c.query(`DROP ROLE IF EXISTS "${username}"`));
  });
});
