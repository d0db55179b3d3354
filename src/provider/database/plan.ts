// What to do to bring one database in line with its Database: CREATE DATABASE when it is missing
// (then the ownership mark and the owner), ALTER DATABASE for the owner and the connection limit, and a refusal
// naming the field, the server's value and the spec's for what CREATE DATABASE fixes for ever
// (encoding, locale, template), which no statement can change. Pure: the client observes and applies.
import type { DatabaseParameters } from '../../api/database.js';
import { literal } from '../../grants/sql.js';
import { ident } from '../../shared/sql-ident.js';
import { claim, ownershipComment, type Owner } from '../managed/ownership.js';
import type { DdlStatement } from '../managed/statements.js';
import type { DatabaseFacts, ObservedDatabase } from './observe.js';

/** CREATE DATABASE ... LOCALE_PROVIDER exists from PostgreSQL 15. */
const LOCALE_PROVIDER_SINCE = 150_000;
/** What CREATE DATABASE copies when no TEMPLATE is given. */
export const DEFAULT_TEMPLATE = 'template1';

export interface DatabasePlanInput {
  readonly spec: DatabaseParameters;
  readonly facts: DatabaseFacts;
  /** The Database the ownership mark names. */
  readonly owner: Owner;
  /** The grants.pgplane.io/adopt annotation: take over an existing unmarked database. */
  readonly adopt: boolean;
  /** Observe-only changes nothing, so it needs no claim on the database. */
  readonly observeOnly: boolean;
  /** atProvider.template: what this provider created the database from, when it did. */
  readonly recordedTemplate?: string | undefined;
  /** Shows a name the server reported (the owner may be the ProviderConfig's Secret-held user). */
  readonly show?: ((text: string) => string) | undefined;
}

export interface DatabasePlan {
  /** CREATE DATABASE, to run alone (never inside a transaction block). */
  readonly create?: DdlStatement | undefined;
  /** What runs in one transaction after create (or alone, on an existing database). */
  readonly statements: readonly DdlStatement[];
  /** What the statements change, in words, for the event. */
  readonly changes: readonly string[];
  /** How the server differs from the spec, in words; empty when it matches. */
  readonly drift: readonly string[];
  /** What the spec asks that cannot be done: Synced=False with this. Nothing is applied then. */
  readonly problem?: string | undefined;
}

const quoted = (name: string): string => `"${name}"`;
const limitWords = (limit: number): string => (limit === -1 ? '-1 (no limit)' : String(limit));

/** LC_COLLATE and LC_CTYPE as the spec asks them: lcCollate/lcCtype override locale. */
function requestedLocale(spec: DatabaseParameters): { lcCollate?: string; lcCtype?: string } {
  const lcCollate = spec.lcCollate ?? spec.locale;
  const lcCtype = spec.lcCtype ?? spec.locale;
  return { ...(lcCollate !== undefined ? { lcCollate } : {}), ...(lcCtype !== undefined ? { lcCtype } : {}) };
}

/**
 * Whether two libc locale names name one locale. The C library normalises the codeset part
 * (en_US.UTF-8 and en_US.utf8 are one locale) and treats POSIX as C; the rest must match exactly.
 */
export function sameLocale(a: string, b: string): boolean {
  const normal = (locale: string): string => {
    if (locale === 'POSIX') return 'C';
    const match = /^([^.@]*)(?:\.([^@]*))?(@.*)?$/.exec(locale);
    if (!match) return locale;
    const [, language = '', codeset, modifier = ''] = match;
    const code = codeset === undefined ? '' : `.${codeset.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
    return `${language}${code}${modifier}`;
  };
  return normal(a) === normal(b);
}

/**
 * The CREATE DATABASE for the spec: every name an identifier, every setting a literal. Without
 * OWNER: the session's role owns the new database until the transaction after it has marked it and
 * handed it to spec.owner, so if that transaction fails the session may still drop it again (a
 * non-superuser may create a database for a role it cannot act as, PostgreSQL 16+ SET without
 * INHERIT, and then neither comment on it nor drop it).
 */
function createStatement(spec: DatabaseParameters, serverVersion: number): DdlStatement {
  const options: string[] = [];
  if (spec.template !== undefined) options.push(`TEMPLATE ${ident(spec.template)}`);
  if (spec.encoding !== undefined) options.push(`ENCODING ${literal(spec.encoding)}`);
  const locale = requestedLocale(spec);
  if (locale.lcCollate !== undefined || locale.lcCtype !== undefined) {
    // The spec's locale fields are libc locales: say so, or an ICU template would make them ICU's.
    if (serverVersion >= LOCALE_PROVIDER_SINCE) options.push('LOCALE_PROVIDER libc');
    // PostgreSQL refuses LOCALE together with LC_COLLATE or LC_CTYPE.
    if (spec.lcCollate === undefined && spec.lcCtype === undefined && spec.locale !== undefined)
      options.push(`LOCALE ${literal(spec.locale)}`);
    else {
      if (locale.lcCollate !== undefined) options.push(`LC_COLLATE ${literal(locale.lcCollate)}`);
      if (locale.lcCtype !== undefined) options.push(`LC_CTYPE ${literal(locale.lcCtype)}`);
    }
  }
  options.push(`CONNECTION LIMIT ${spec.connectionLimit}`);
  return { sql: `CREATE DATABASE ${ident(spec.name)} WITH ${options.join(' ')}` };
}

function markStatement(name: string, owner: Owner): DdlStatement {
  return { sql: `COMMENT ON DATABASE ${ident(name)} IS ${literal(ownershipComment(owner))}` };
}

/** ALTER DATABASE ... OWNER TO the spec's owner. */
function ownerTo(name: string, owner: string): DdlStatement {
  return { sql: `ALTER DATABASE ${ident(name)} OWNER TO ${ident(owner)}` };
}

/** A setting CREATE DATABASE fixes, found different on the server: why, and how to get the new value. */
function fixedAtCreation(field: string, name: string, server: string, spec: string): string {
  return `${field} is fixed when a database is created: database ${quoted(name)} has ${field} ${server}, spec.forProvider.${field} says ${spec}; nothing was changed. For a database with ${field} ${spec}, create a new Database (with another name) and move the data into it; or set ${field} back to ${server}`;
}

interface Differences {
  readonly drift: string[];
  readonly problems: string[];
}

/** Encoding, locale and (when recorded) template: compared, never applied. */
function immutables(input: DatabasePlanInput, db: ObservedDatabase): Differences {
  const { spec, facts } = input;
  const drift: string[] = [];
  const problems: string[] = [];
  if (spec.encoding !== undefined && facts.requestedEncoding && facts.requestedEncoding !== db.encoding) {
    drift.push(`encoding is ${db.encoding}, spec says ${spec.encoding}`);
    problems.push(fixedAtCreation('encoding', db.name, db.encoding, spec.encoding));
  }
  const locale = requestedLocale(spec);
  if ((locale.lcCollate !== undefined || locale.lcCtype !== undefined) && db.localeProvider !== 'libc') {
    const fields = (['locale', 'lcCollate', 'lcCtype'] as const).filter((f) => spec[f] !== undefined);
    drift.push(`locale provider is ${db.localeProvider}, spec asks libc locales`);
    problems.push(
      `database ${quoted(db.name)} uses the ${db.localeProvider} locale provider${db.providerLocale ? ` (locale ${db.providerLocale})` : ''}, fixed when it was created; spec.forProvider.${fields.join('/')} ${fields.length === 1 ? 'names a libc locale' : 'name libc locales'}, which this database does not collate by: remove ${fields.join(' and ')} from the spec to manage it as it is, or create a new Database (with another name) for a libc locale`,
    );
  } else {
    const checks = [
      ['lcCollate', locale.lcCollate, db.lcCollate],
      ['lcCtype', locale.lcCtype, db.lcCtype],
    ] as const;
    for (const [field, wanted, server] of checks) {
      if (wanted === undefined || sameLocale(wanted, server)) continue;
      // A locale the spec gives as `locale` is reported under that name.
      const named = spec[field] === undefined ? 'locale' : field;
      drift.push(`${field} is ${server}, spec says ${wanted}`);
      problems.push(fixedAtCreation(named, db.name, server, wanted));
    }
  }
  const template = spec.template ?? DEFAULT_TEMPLATE;
  if (input.recordedTemplate !== undefined && input.recordedTemplate !== template) {
    drift.push(`created from template ${input.recordedTemplate}, spec says ${template}`);
    problems.push(
      `template is used only when a database is created: database ${quoted(db.name)} was created from ${input.recordedTemplate}, spec.forProvider.template says ${template}; nothing was changed. For a database made from ${template}, create a new Database (with another name); or set template back to ${input.recordedTemplate}`,
    );
  }
  return { drift, problems: [...new Set(problems)] };
}

/** Plans one database: see the file comment. */
export function planDatabase(input: DatabasePlanInput): DatabasePlan {
  const { spec, facts, owner } = input;
  const show = input.show ?? ((text: string) => text);
  const name = spec.name;
  if (facts.requestedEncoding === '' && spec.encoding !== undefined) {
    return {
      statements: [],
      changes: [],
      drift: [],
      problem: `spec.forProvider.encoding ${spec.encoding} is not an encoding this PostgreSQL server knows; use one of its names, e.g. UTF8, LATIN1 or SQL_ASCII`,
    };
  }

  const db = facts.database;
  if (!db) {
    return {
      create: createStatement(spec, facts.serverVersion),
      statements: [
        markStatement(name, owner),
        ...(spec.owner !== undefined ? [ownerTo(name, spec.owner)] : []),
      ],
      changes: [`created database ${quoted(name)}`],
      drift: [`database ${quoted(name)} does not exist`],
    };
  }

  const problems: string[] = [];
  const claimed = claim(`database ${quoted(name)}`, db.comment, owner, input.adopt);
  if (!claimed.ours && !input.observeOnly) problems.push(claimed.problem);
  if (db.invalid)
    problems.push(
      `database ${quoted(name)} is invalid: a DROP DATABASE of it was interrupted, and PostgreSQL allows nothing but DROP DATABASE on it; drop it by hand and this Database creates it again`,
    );

  const fixed = immutables(input, db);
  problems.push(...fixed.problems);
  const drift = [...fixed.drift];
  const statements: DdlStatement[] = [];
  const changes: string[] = [];

  if (claimed.ours && claimed.remark) {
    // First, while this session may still comment on it (after OWNER TO it may not own it).
    statements.push(markStatement(name, owner));
    changes.push(`marked as managed by ${owner.kind} ${owner.namespace}/${owner.name}`);
  }
  // Without spec.owner the owner is not managed: an adopted database keeps the owner it has.
  if (spec.owner !== undefined && db.owner !== spec.owner) {
    const wanted = quoted(spec.owner);
    drift.push(`owner is ${quoted(show(db.owner))}, spec says ${wanted}`);
    changes.push(`owner ${quoted(show(db.owner))} → ${wanted}`);
    statements.push(ownerTo(name, spec.owner));
  }
  if (db.connectionLimit !== spec.connectionLimit && !db.invalid) {
    drift.push(
      `connection limit is ${limitWords(db.connectionLimit)}, spec says ${limitWords(spec.connectionLimit)}`,
    );
    changes.push(`connection limit ${db.connectionLimit} → ${spec.connectionLimit}`);
    statements.push({ sql: `ALTER DATABASE ${ident(name)} CONNECTION LIMIT ${spec.connectionLimit}` });
  }

  if (problems.length > 0) return { statements: [], changes: [], drift, problem: problems.join('; ') };
  return { statements, changes, drift };
}
