// The Role's external client: connect through its ProviderConfig to the server's default
// database, read the password Secret, observe the role, claim it (ownership marks), plan, apply
// in one bounded transaction, observe again, and say all of it in a Role's words. The lifecycle
// around it (finalizer, policies, conditions, status) is managed/reconciler.ts. No password or
// verifier leaves this module: statements that carry one are shown without it, and the server's
// text is scrubbed of both.
import { parseRole, ROLE_KIND, type RoleObservation, type RoleParameters } from '../../api/role.js';
import { ident } from '../../shared/sql-ident.js';
import type { ApplyClient } from '../../grants/index.js';
import { redact } from '../disclosure.js';
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
import { errorMessage, oneLine, ReconcileFailure } from '../managed/messages.js';
import { parsedSpec } from '../managed/parse.js';
import { ADOPT_ANNOTATION, claim, ownerOf } from '../managed/ownership.js';
import { runInTransaction, StatementError, type StatementLimits } from '../managed/statements.js';
import { openSession, type Scrub, type SessionDeps } from '../session.js';
import { dependentDatabases, observeRole, type RoleSnapshot } from './observe.js';
import { planRole, type PasswordInput, type RolePlan } from './plan.js';
import { scramVerifier } from './scram-verifier.js';

export interface RoleClientDeps extends SessionDeps {
  readonly now: () => Date;
  readonly limits?: StatementLimits | undefined;
}

type RoleObject = ManagedObject<RoleObservation>;

const what = (p: RoleParameters): string => `role "${p.name}"`;

const wording: Wording<RoleParameters> = {
  creating: 'role not created yet',
  deleting: (p) =>
    `dropping ${what(p)} before the Role goes (deletionPolicy Delete); to leave it in place instead, set spec.deletionPolicy: Orphan`,
  orphaned: (p) => `${what(p)} left in place (orphaned)`,
  notDeleted: (problem) => ({ reason: 'NotDropped', note: `nothing dropped: ${problem}` }),
};

/** The atProvider of what the server holds now. */
function observation(
  snapshot: RoleSnapshot,
  password: RoleObservation['password'],
  drift: readonly string[],
): RoleObservation {
  const role = snapshot.role;
  if (!role) return { exists: false, ...(drift.length > 0 ? { drift: [...drift] } : {}) };
  return {
    exists: true,
    login: role.login,
    inherit: role.inherit,
    createdb: role.createdb,
    createrole: role.createrole,
    connectionLimit: role.connectionLimit,
    ...(role.validUntil !== null ? { validUntil: role.validUntil } : {}),
    inRoles: [...role.inRoles],
    ...(password ? { password } : {}),
    ...(drift.length > 0 ? { drift: [...drift] } : {}),
  };
}

/** The Normal event of an apply: what changed, in the plan's words (none of which holds a secret). */
function appliedNote(spec: RoleParameters, plan: RolePlan): Note {
  const secret = plan.passwordSet ? ` from Secret "${plan.passwordSet.secret}"` : '';
  if (plan.creates)
    return {
      reason: 'RoleCreated',
      note: `created ${what(spec)}${plan.passwordSet ? ` and set its password${secret}` : ''} (${plan.statements.length} statement(s))`,
    };
  if (plan.passwordSet && plan.statements.length === 1)
    return {
      reason: 'PasswordSet',
      note: `set the password of ${what(spec)}${secret} (resourceVersion ${plan.passwordSet.version})`,
    };
  return {
    reason: 'RoleUpdated',
    note: oneLine(`updated ${what(spec)} (${plan.statements.length} statement(s)): ${plan.drift.join('; ')}`),
  };
}

export class RoleClient implements ExternalClient<RoleParameters, RoleObservation> {
  readonly wording = wording;

  constructor(private readonly deps: RoleClientDeps) {}

  parse(object: RoleObject, key: string): Parsed<RoleParameters> {
    return parsedSpec(parseRole, object, key);
  }

  forget(key: string): void {
    this.deps.dependencies?.(key, undefined);
  }

  async sync({
    key,
    object,
    spec,
    apply,
  }: SyncRequest<RoleParameters, RoleObservation>): Promise<Observed<RoleObservation>> {
    const owner = ownerOf(ROLE_KIND, object.metadata);
    const before = object.status?.atProvider;
    const session = await openSession(this.deps, key, object);
    const ref = spec.passwordSecretRef;
    const secretRef = ref && { namespace: object.metadata.namespace, name: ref.name };
    const password: PasswordInput | undefined = secretRef && {
      ...secretRef,
      key: ref.key,
      secret: await session.readSecret(secretRef),
      previous: before?.password,
    };
    // The password itself never reaches the server, so no server text can hold it; scrubbing
    // it would only tell a short password away by the word it replaced.
    const scrub = session.scrub;
    const input = {
      spec,
      owner,
      adopt: object.metadata.annotations?.[ADOPT_ANNOTATION] === 'true',
      observeOnly: !apply,
      verifier: (p: string) => scramVerifier(p),
    };

    return session.withClient(session.connection.defaultDatabase, async (client) => {
      const first = await this.observe(client, spec, scrub);
      const plan = planRole({ ...input, observed: first, password });
      if (!apply || plan.statements.length === 0) {
        return this.report(before, observation(first, before?.password, plan.drift), plan, undefined);
      }
      // The verifier does reach the server; should its text ever echo it, it goes too.
      const secretScrub: Scrub = (text) =>
        redact(
          scrub(text),
          plan.secrets.map((s) => ({ key: 'verifier', value: s })),
        );
      try {
        await runInTransaction(client, plan.statements, this.deps.limits);
      } catch (error) {
        if (error instanceof StatementError)
          throw new ReconcileFailure(
            oneLine(
              `cannot ${plan.creates ? 'create' : 'update'} ${what(spec)}: ${error.describe(secretScrub)}`,
            ),
          );
        throw error;
      }
      const recorded: RoleObservation['password'] = plan.passwordSet
        ? { ...plan.passwordSet, setAt: this.deps.now().toISOString() }
        : before?.password;
      const second = await this.observe(client, spec, scrub);
      const verified = planRole({
        ...input,
        observed: second,
        password: password ? { ...password, previous: recorded } : undefined,
      });
      return this.report(
        before,
        observation(second, recorded, verified.drift),
        verified,
        appliedNote(spec, plan),
        plan.problem,
      );
    });
  }

  private async observe(client: ApplyClient, spec: RoleParameters, scrub: Scrub): Promise<RoleSnapshot> {
    try {
      return await observeRole(client, spec.name, spec.inRoles ?? [], this.deps.limits);
    } catch (error) {
      throw new ReconcileFailure(oneLine(`cannot observe ${what(spec)}: ${scrub(errorMessage(error))}`));
    }
  }

  private report(
    before: RoleObservation | undefined,
    atProvider: RoleObservation,
    plan: RolePlan,
    applied: Note | undefined,
    earlierProblem?: string,
  ): Observed<RoleObservation> {
    const drift = plan.drift;
    const problem = plan.problem ?? earlierProblem;
    return {
      atProvider,
      applied,
      problem,
      drift:
        drift.length === 0
          ? undefined
          : {
              observed: drift.join('; '),
              afterApply: `the role still differs from the spec: ${drift.join('; ')}`,
              changed: (before?.drift ?? []).join('\n') !== drift.join('\n'),
            },
    };
  }

  async delete({ key, object, spec }: ExternalRequest<RoleParameters, RoleObservation>): Promise<Note> {
    const owner = ownerOf(ROLE_KIND, object.metadata);
    const session = await openSession(this.deps, key, object);
    return session.withClient(session.connection.defaultDatabase, async (client) => {
      const { role } = await this.observe(client, spec, session.scrub);
      if (!role) return { reason: 'RoleAbsent', note: `${what(spec)} does not exist; nothing to drop` };
      // Only a role marked as this object's is dropped: adopt takes a role over for managing, and a
      // Role that never got to mark it (refused, or deleted first) must not drop someone else's.
      const claimed = claim(what(spec), role.comment, owner, false);
      if (!claimed.ours) return { reason: 'RoleNotDropped', note: `left in place: ${claimed.problem}` };
      try {
        await runInTransaction(client, [{ sql: `DROP ROLE ${ident(spec.name)}` }], this.deps.limits);
      } catch (error) {
        if (error instanceof StatementError) throw await this.dropFailure(client, spec, error, session.scrub);
        throw error;
      }
      return { reason: 'RoleDropped', note: `dropped ${what(spec)}` };
    });
  }

  /** A refused DROP ROLE in words that say what to do about it. */
  private async dropFailure(
    client: ApplyClient,
    spec: RoleParameters,
    error: StatementError,
    scrub: Scrub,
  ): Promise<ReconcileFailure> {
    const described = error.describe(scrub);
    if (error.sqlstate !== '2BP01')
      return new ReconcileFailure(oneLine(`cannot drop ${what(spec)}: ${described}`));
    const databases = await dependentDatabases(client, spec.name, this.deps.limits).catch(() => []);
    const where =
      databases.length > 0 ? ` (in database(s) ${databases.map((d) => `"${d}"`).join(', ')})` : '';
    const role = ident(spec.name);
    return new ReconcileFailure(
      oneLine(
        `cannot drop ${what(spec)}: it still owns objects or holds privileges${where}; move or remove them first with REASSIGN OWNED BY ${role} TO <another role> and DROP OWNED BY ${role} in each of those databases, or set spec.deletionPolicy: Orphan to leave the role in place (${described})`,
      ),
    );
  }
}
