// `pgplane grants plan|apply`: the grants engine outside Kubernetes. Reads Grant documents
// (multi-document YAML, several files), groups them per database, opens one connection per
// database, and prints the statements and drift (plan) or applies them (apply).
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { GRANT_API_VERSION, GRANT_KIND, parseGrant, type GrantDocument } from '../api/grant.js';
import { grantRecordSchema } from '../api/grant-record.js';
import { ApplyError, reconcile, type GrantRecord, type ReconcileResult } from '../grants/index.js';
import { z } from 'zod';
import { readDocuments } from '../shared/yaml-files.js';
import { boundedMessage, type CliIo } from '../shared/io.js';

const USAGE = `usage: pgplane grants <plan|apply> -f FILE [-f FILE ...] --database-url URL [--database-url URL ...]
  -f, --file FILE          Grant documents (YAML, several per file allowed; a folder reads its
                           .yaml/.yml/.json files); repeatable. A file with no Grant is an error
  --database-url URL       postgresql:// URL; repeatable. Each Grant goes to the URL whose database
                           matches its spec.forProvider.database, else to the first URL with the
                           database name replaced
  --mode MODE              override every Grant's mode: additive | authoritative
  --state FILE             JSON file holding what pgplane granted (read, and written by apply);
                           without it, additive mode never revokes anything
  --output text|json       default text
  --statement-timeout MS   default 30000
  --lock-timeout MS        default 5000
`;

const stateSchema = z.record(z.string(), z.record(z.string(), grantRecordSchema));
type State = z.infer<typeof stateSchema>;

interface LoadedGrant {
  readonly name: string;
  readonly document: GrantDocument;
}

/** Where a database lives, without credentials: what the output may show. */
function describeTarget(url: URL): string {
  return `${url.hostname || 'localhost'}:${url.port || '5432'}/${decodeURIComponent(url.pathname.slice(1))}`;
}

function databaseOf(url: URL): string {
  return decodeURIComponent(url.pathname.replace(/^\//, ''));
}

/** The URL for `database`: an exact match, or the first URL pointed at that database. */
export function urlForDatabase(urls: readonly URL[], database: string): URL | undefined {
  const exact = urls.find((u) => databaseOf(u) === database);
  if (exact) return exact;
  const first = urls[0];
  if (!first) return undefined;
  const derived = new URL(first.href);
  derived.pathname = `/${encodeURIComponent(database)}`;
  return derived;
}

/**
 * The Grants in these files (or folders). Other kinds are skipped, so a folder of manifests can
 * be passed as is; but a file holding no Grant at all is an error naming it: applying nothing
 * and exiting 0 would look like success.
 */
export function loadGrants(paths: readonly string[]): LoadedGrant[] {
  const grants: LoadedGrant[] = [];
  const empty: { path: string; kinds: Set<string> }[] = [];
  for (const path of paths) {
    const documents = readDocuments(path);
    const found = documents.filter((d) => d.object.kind === GRANT_KIND);
    if (found.length === 0) {
      empty.push({ path, kinds: new Set(documents.map((d) => String(d.object.kind ?? '(no kind)'))) });
      continue;
    }
    for (const { file, index, object } of found) {
      const document = parseGrant(object, `${file} document ${index}`);
      const ns = document.metadata.namespace;
      grants.push({ name: ns ? `${ns}/${document.metadata.name}` : document.metadata.name, document });
    }
  }
  if (empty.length > 0) {
    const described = empty
      .map(
        ({ path, kinds }) =>
          `${path} (${kinds.size > 0 ? `found ${[...kinds].sort().join(', ')}` : 'no documents'})`,
      )
      .join('; ');
    throw new Error(
      `no Grant documents in ${described}: each -f file must hold at least one document with apiVersion: ${GRANT_API_VERSION} and kind: ${GRANT_KIND}`,
    );
  }
  return grants;
}

function formatResult(result: ReconcileResult, target: string, command: 'plan' | 'apply'): string {
  const lines: string[] = [];
  const { plan } = result;
  const count = plan.statements.length;
  const verb =
    command === 'apply'
      ? result.applied
        ? `applied ${count} statement${count === 1 ? '' : 's'}`
        : 'no changes'
      : count === 0
        ? 'no changes'
        : `${count} statement${count === 1 ? '' : 's'} to run`;
  lines.push(`database "${plan.database}" (${target}): ${verb}`);
  for (const s of plan.statements) lines.push(`  ${s.sql};`);
  if (plan.drift.length > 0) {
    lines.push('  drift:');
    for (const d of plan.drift) {
      const parts = [
        d.missing.length > 0 ? `missing ${d.missing.join(', ')}` : '',
        d.extra.length > 0 ? `extra ${d.extra.join(', ')}` : '',
      ].filter(Boolean);
      lines.push(`    [${d.grant}] ${d.object}: ${parts.join('; ')}`);
    }
  }
  for (const p of plan.problems) lines.push(`  problem: ${p}`);
  return `${lines.join('\n')}\n`;
}

/** Entry point for `pgplane grants ...`; argv starts after "grants". Returns the exit code. */
export async function grantsCommand(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'plan' && command !== 'apply') {
    io.stderr(USAGE);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  let values: {
    file?: string[];
    'database-url'?: string[];
    mode?: string;
    output?: string;
    state?: string;
    'statement-timeout'?: string;
    'lock-timeout'?: string;
  };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string', short: 'f', multiple: true },
        'database-url': { type: 'string', multiple: true },
        mode: { type: 'string' },
        output: { type: 'string', default: 'text' },
        state: { type: 'string' },
        'statement-timeout': { type: 'string' },
        'lock-timeout': { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const files = values.file ?? [];
  if (files.length === 0) {
    io.stderr(`no Grant files: pass -f grant.yaml\n${USAGE}`);
    return 2;
  }
  if (values.mode !== undefined && values.mode !== 'additive' && values.mode !== 'authoritative') {
    io.stderr(`--mode must be additive or authoritative, not "${values.mode}"\n`);
    return 2;
  }
  if (values.output !== 'text' && values.output !== 'json') {
    io.stderr(`--output must be text or json, not "${values.output}"\n`);
    return 2;
  }
  let urls: URL[];
  try {
    urls = (values['database-url'] ?? []).map((u) => new URL(u));
  } catch {
    // Never echo the URL: it may hold a password.
    io.stderr('--database-url is not a valid URL (expected postgresql://user@host:5432/database)\n');
    return 2;
  }
  if (urls.length === 0) {
    io.stderr(`no database: pass --database-url postgresql://user@host:5432/database\n`);
    return 2;
  }

  let grants: LoadedGrant[];
  let state: State = {};
  try {
    grants = loadGrants(files);
    if (values.state && existsSync(values.state))
      state = stateSchema.parse(JSON.parse(await readFile(values.state, 'utf8')));
  } catch (error) {
    // Validators quote the values they refuse: a huge one must not flood the terminal.
    io.stderr(`${boundedMessage((error as Error).message)}\n`);
    return 1;
  }
  const mode = values.mode as 'additive' | 'authoritative' | undefined;
  const byDatabase = new Map<string, LoadedGrant[]>();
  for (const g of grants) {
    const db = g.document.spec.forProvider.database;
    byDatabase.set(db, [...(byDatabase.get(db) ?? []), g]);
  }
  const options = {
    dryRun: command === 'plan',
    statementTimeoutMs: values['statement-timeout'] ? Number(values['statement-timeout']) : undefined,
    lockTimeoutMs: values['lock-timeout'] ? Number(values['lock-timeout']) : undefined,
  };

  // One connection per database, all databases at once.
  const outcomes = await Promise.all(
    [...byDatabase.keys()].sort().map(async (database) => {
      const url = urlForDatabase(urls, database)!;
      const target = describeTarget(url);
      const client = new pg.Client({ connectionString: url.href, application_name: 'pgplane-grants' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const inputs = byDatabase.get(database)!.map((g) => ({
          name: g.name,
          parameters: mode ? { ...g.document.spec.forProvider, mode } : g.document.spec.forProvider,
          previous: state[database]?.[g.name],
        }));
        const result = await reconcile(client, inputs, options);
        return { database, target, result, error: undefined };
      } catch (error) {
        const message =
          error instanceof ApplyError
            ? error.message
            : `database "${database}" (${target}): ${(error as Error).message}`;
        return { database, target, result: undefined, error: message };
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );

  let failed = false;
  const newState: State = { ...state };
  for (const o of outcomes) {
    if (o.error !== undefined || !o.result) {
      failed = true;
      continue;
    }
    if (o.result.plan.problems.length > 0) failed = true;
    if (command === 'apply')
      newState[o.database] = {
        ...(newState[o.database] ?? {}),
        ...(o.result.plan.records as Record<string, GrantRecord>),
      };
  }
  if (values.output === 'json') {
    io.stdout(
      `${JSON.stringify(
        outcomes.map((o) => ({
          database: o.database,
          target: o.target,
          error: o.error,
          applied: o.result?.applied ?? false,
          ...(o.result ? { plan: o.result.plan } : {}),
        })),
        null,
        2,
      )}\n`,
    );
  } else {
    for (const o of outcomes) {
      if (o.result) io.stdout(formatResult(o.result, o.target, command));
    }
  }
  for (const o of outcomes) if (o.error !== undefined) io.stderr(`error: ${o.error}\n`);
  if (command === 'apply' && values.state)
    await writeFile(values.state, `${JSON.stringify(newState, null, 2)}\n`);
  return failed ? 1 : 0;
}
