// The Database's external client: connect through its ProviderConfig to the config's
// defaultDatabase (CREATE/ALTER/DROP DATABASE act on another database than the session's), observe
// the database, check the ownership mark, plan, apply (CREATE DATABASE alone, as PostgreSQL
// requires, the rest in one transaction) and observe again; on deletion, drop it only if it is
// this Database's. The lifecycle around it is managed/reconciler.ts.
import {
  DATABASE_KIND,
  parseDatabase,
  type DatabaseObservation,
  type DatabaseParameters,
} from '../../api/database.js';
import type { Queryable } from '../../grants/observe.js';
import { ident } from '../../shared/sql-ident.js';
import { errorMessage, oneLine, ReconcileFailure } from '../managed/messages.js';
import { parsedSpec } from '../managed/parse.js';
import { ADOPT_ANNOTATION, claim, ownerOf, parseOwnership } from '../managed/ownership.js';
import type {
  ExternalClient,
  ExternalRequest,
  ManagedObject,
  Note,
  Observed,
  Parsed,
  SyncRequest,
  Wording,
} from '../managed/reconciler.js';
import {
  runAlone,
  runInTransaction,
  StatementError,
  type DdlStatement,
  type StatementLimits,
} from '../managed/statements.js';
import { openSession, type Scrub, type SessionDeps } from '../session.js';
import { observeDatabase, type DatabaseFacts } from './observe.js';
import { DEFAULT_TEMPLATE, planDatabase, type DatabasePlan } from './plan.js';

export interface DatabaseClientDeps extends SessionDeps {
  readonly now: () => Date;
  /** statement_timeout and lock_timeout for every statement; CREATE DATABASE copies a template. */
  readonly limits?: StatementLimits | undefined;
}

type DatabaseObject = ManagedObject<DatabaseObservation>;

/** "object in use by other sessions": a DROP DATABASE (or a CREATE from a template) with sessions connected. */
const OBJECT_IN_USE = '55006';

const quoted = (name: string): string => `"${name}"`;

const wording: Wording<DatabaseParameters> = {
  creating: 'database not created yet',
  deleting: (p) =>
    `dropping database ${quoted(p.name)} before the Database goes (deletionPolicy Delete); PostgreSQL refuses while sessions are connected to it; to keep it and its data instead, set spec.deletionPolicy: Orphan`,
  orphaned: (p) => `database ${quoted(p.name)} and its data left in place (deletionPolicy Orphan)`,
  notDeleted: (problem) => ({ reason: 'NotDropped', note: `nothing dropped: ${problem}` }),
};

/** A Database's external client: observe, create or alter, and drop one database through its ProviderConfig. */
export class DatabaseClient implements ExternalClient<DatabaseParameters, DatabaseObservation> {
  readonly wording = wording;

  constructor(private readonly deps: DatabaseClientDeps) {}

  parse(object: DatabaseObject, key: string): Parsed<DatabaseParameters> {
    return parsedSpec(parseDatabase, object, key);
  }

  forget(key: string): void {
    this.deps.dependencies?.(key, undefined);
  }

  async sync({
    key,
    object,
    spec,
    apply,
  }: SyncRequest<DatabaseParameters, DatabaseObservation>): Promise<Observed<DatabaseObservation>> {
    const owner = ownerOf(DATABASE_KIND, object.metadata);
    const previous = object.status?.atProvider;
    const session = await openSession(this.deps, key, object);
    const plan = (facts: DatabaseFacts, recordedTemplate: string | undefined): DatabasePlan =>
      planDatabase({
        spec,
        facts,
        owner,
        adopt: object.metadata.annotations?.[ADOPT_ANNOTATION] === 'true',
        observeOnly: !apply,
        recordedTemplate,
        show: session.scrub,
      });

    return session.withClient(session.connection.defaultDatabase, async (client) => {
      const before = await this.observe(client, spec, session.scrub);
      // A database that is gone takes its recorded template with it.
      const recorded = before.database ? previous?.template : undefined;
      const planned = plan(before, recorded);
      if (!apply || planned.problem || (!planned.create && planned.statements.length === 0))
        return this.report(spec, before, planned, previous, recorded, undefined, session.scrub);

      let template = recorded;
      let applied: Note;
      if (planned.create) {
        await this.create(client, spec, planned.create, planned.statements, session.scrub);
        template = spec.template ?? DEFAULT_TEMPLATE;
        applied = { reason: 'DatabaseCreated', note: createdNote(spec) };
      } else {
        await this.update(client, spec, planned.statements, session.scrub);
        applied = {
          reason: 'DatabaseUpdated',
          note: `updated database ${quoted(spec.name)}: ${planned.changes.join('; ')}`,
        };
      }
      const after = await this.observe(client, spec, session.scrub);
      return this.report(spec, after, plan(after, template), previous, template, applied, session.scrub);
    });
  }

  async delete({
    key,
    object,
    spec,
  }: ExternalRequest<DatabaseParameters, DatabaseObservation>): Promise<Note> {
    const owner = ownerOf(DATABASE_KIND, object.metadata);
    const session = await openSession(this.deps, key, object);
    return session.withClient(session.connection.defaultDatabase, async (client) => {
      const { database } = await this.observe(client, { ...spec, encoding: undefined }, session.scrub);
      if (!database)
        return { reason: 'DatabaseDropped', note: `database ${quoted(spec.name)} was already gone` };
      // Only the mark counts here: an adopt annotation asks to manage a database, not to drop one never marked.
      if (!claim(`database ${quoted(spec.name)}`, database.comment, owner, false).ours) {
        const mark = parseOwnership(database.comment);
        const whose = mark
          ? `it is managed by ${mark.kind} ${mark.namespace}/${mark.name}`
          : 'no Database has marked it as its own (this one did not create or adopt it)';
        return { reason: 'NotDropped', note: `database ${quoted(spec.name)} left in place: ${whose}` };
      }
      await this.drop(client, spec.name, session.scrub);
      return {
        reason: 'DatabaseDropped',
        note: `dropped database ${quoted(spec.name)} (deletionPolicy Delete)`,
      };
    });
  }

  private async observe(client: Queryable, spec: DatabaseParameters, scrub: Scrub): Promise<DatabaseFacts> {
    try {
      return await observeDatabase(client, spec.name, spec.encoding);
    } catch (error) {
      throw new ReconcileFailure(
        oneLine(`cannot observe database ${quoted(spec.name)}: ${scrub(errorMessage(error))}`),
      );
    }
  }

  /**
   * CREATE DATABASE, then the mark and the owner in one transaction; a database that cannot be
   * finished so is dropped again (still empty, and still the session's own, so it can be).
   */
  private async create(
    client: Queryable,
    spec: DatabaseParameters,
    create: DdlStatement,
    then: readonly DdlStatement[],
    scrub: Scrub,
  ): Promise<void> {
    const limits = this.deps.limits;
    try {
      await runAlone(client, create, limits);
    } catch (error) {
      const template = spec.template ?? DEFAULT_TEMPLATE;
      const busy =
        error instanceof StatementError && error.sqlstate === OBJECT_IN_USE
          ? `; CREATE DATABASE copies template ${quoted(template)} only while no other session is connected to it`
          : '';
      throw failure(`cannot create database ${quoted(spec.name)}`, error, scrub, busy);
    }
    try {
      await runInTransaction(client, then, limits);
    } catch (error) {
      const undone = await runAlone(client, dropStatement(spec.name), limits).then(
        () => 'dropped it again (it was still empty), so nothing changed',
        (dropError: unknown) =>
          `and could not drop it again (${describe(dropError, scrub)}): drop the empty database by hand, or this Database will refuse it as not its own`,
      );
      throw new ReconcileFailure(
        oneLine(
          `created database ${quoted(spec.name)} but could not mark it as this Database's${spec.owner !== undefined ? ` and hand it to owner ${quoted(spec.owner)}` : ''}: ${describe(error, scrub)}; ${undone}`,
        ),
      );
    }
  }

  private async update(
    client: Queryable,
    spec: DatabaseParameters,
    statements: readonly DdlStatement[],
    scrub: Scrub,
  ): Promise<void> {
    try {
      await runInTransaction(client, statements, this.deps.limits);
    } catch (error) {
      throw failure(`cannot update database ${quoted(spec.name)}`, error, scrub);
    }
  }

  /** Plain DROP DATABASE: never FORCE, so connected sessions keep the database (and its data). */
  private async drop(client: Queryable, name: string, scrub: Scrub): Promise<void> {
    try {
      await runAlone(client, dropStatement(name), this.deps.limits);
    } catch (error) {
      if (error instanceof StatementError && error.sqlstate === OBJECT_IN_USE) {
        const sessions = await connectedSessions(client, name);
        throw new ReconcileFailure(
          `cannot drop database ${quoted(name)}: ${sessions ?? 'other'} session(s) are connected to it, and PostgreSQL drops a database only when no session is; nothing was dropped and its data is kept. Disconnect the applications using it (or set spec.deletionPolicy: Orphan to keep it); the provider tries again`,
          'DatabaseInUse',
        );
      }
      throw failure(`cannot drop database ${quoted(name)}`, error, scrub);
    }
  }

  private report(
    spec: DatabaseParameters,
    facts: DatabaseFacts,
    plan: DatabasePlan,
    previous: DatabaseObservation | undefined,
    template: string | undefined,
    applied: Note | undefined,
    scrub: Scrub,
  ): Observed<DatabaseObservation> {
    const db = facts.database;
    const atProvider: DatabaseObservation = db
      ? {
          exists: true,
          // The owner may be the ProviderConfig's role, whose name a Secret holds.
          owner: db.owner === spec.owner ? db.owner : scrub(db.owner),
          encoding: db.encoding,
          lcCollate: db.lcCollate,
          lcCtype: db.lcCtype,
          localeProvider: db.localeProvider,
          ...(db.providerLocale !== undefined ? { providerLocale: db.providerLocale } : {}),
          connectionLimit: db.connectionLimit,
          ...(template !== undefined ? { template } : {}),
        }
      : { exists: false };
    if (plan.drift.length > 0) atProvider.drift = [...plan.drift];
    const observed = plan.drift.join('; ');
    return {
      atProvider,
      applied,
      problem: plan.problem,
      drift:
        plan.drift.length === 0
          ? undefined
          : {
              observed,
              afterApply: plan.problem
                ? `differs from the spec and was not changed: ${observed}`
                : `still differs after apply: ${observed}`,
              changed: (previous?.drift ?? []).join('\n') !== plan.drift.join('\n'),
            },
    };
  }
}

const dropStatement = (name: string): DdlStatement => ({ sql: `DROP DATABASE ${ident(name)}` });

function describe(error: unknown, scrub: Scrub): string {
  return error instanceof StatementError ? error.describe(scrub) : scrub(errorMessage(error));
}

function failure(what: string, error: unknown, scrub: Scrub, hint = ''): ReconcileFailure {
  return new ReconcileFailure(oneLine(`${what}: ${describe(error, scrub)}${hint}`));
}

function createdNote(spec: DatabaseParameters): string {
  const settings = [
    spec.owner !== undefined ? `owner ${quoted(spec.owner)}` : "owned by the ProviderConfig's role",
    ...(spec.encoding !== undefined ? [`encoding ${spec.encoding}`] : []),
    ...(spec.locale !== undefined ? [`locale ${spec.locale}`] : []),
    ...(spec.lcCollate !== undefined ? [`lcCollate ${spec.lcCollate}`] : []),
    ...(spec.lcCtype !== undefined ? [`lcCtype ${spec.lcCtype}`] : []),
    `template ${spec.template ?? DEFAULT_TEMPLATE}`,
    `connection limit ${spec.connectionLimit}`,
  ];
  return `created database ${quoted(spec.name)} (${settings.join(', ')})`;
}

/** How many sessions hold the database, for the refusal; undefined when the count cannot be read. */
async function connectedSessions(client: Queryable, name: string): Promise<number | undefined> {
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
      [name],
    );
    return rows[0]?.n;
  } catch {
    return undefined;
  }
}
