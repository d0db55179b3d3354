// What it takes to make a role on the server what its Role says: the DDL, the differences in
// words, and what the spec asks that cannot be honoured. Pure: the observed role, the password
// (already read from its Secret) and the verifier function come in; nothing is read or run here.
import type { RoleObservation, RoleParameters } from '../../api/role.js';
import { literal } from '../../grants/sql.js';
import { ident } from '../../shared/sql-ident.js';
import { claim, ownershipComment, type Owner } from '../managed/ownership.js';
import type { DdlStatement } from '../managed/statements.js';
import type { RoleSnapshot } from './observe.js';
import { passwordProblem } from './scram-verifier.js';

/** Where the spec's password comes from, and what its Secret held when read. */
export interface PasswordInput {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  /** Undefined when the Secret does not exist. */
  readonly secret: { readonly data: Readonly<Record<string, string>>; readonly version: string } | undefined;
  /** What status last recorded as set (atProvider.password). */
  readonly previous: RoleObservation['password'] | undefined;
}

export interface PlanInput {
  readonly spec: RoleParameters;
  readonly observed: RoleSnapshot;
  readonly owner: Owner;
  /** The object's grants.pgplane.io/adopt annotation. */
  readonly adopt: boolean;
  /** Observe-only: nothing will be applied, so nothing needs to be claimed or refused for changing. */
  readonly observeOnly?: boolean | undefined;
  /** Set when the spec has passwordSecretRef. */
  readonly password?: PasswordInput | undefined;
  /** Computes the SCRAM verifier (random salt): injected so the plan stays pure. */
  readonly verifier: (password: string) => string;
}

/** The password the plan sets, as status records it (without the time). */
interface PasswordRecord {
  readonly secret: string;
  readonly key: string;
  readonly version: string;
}

export interface RolePlan {
  readonly statements: DdlStatement[];
  /** How the server differs from the spec, one difference each, for events and conditions. */
  readonly drift: string[];
  /** What cannot be honoured (Synced=False); the rest of the plan still applies. */
  readonly problem?: string | undefined;
  /** The plan creates the role. */
  readonly creates: boolean;
  /** The plan sets the password from this Secret version. */
  readonly passwordSet?: PasswordRecord | undefined;
  /** Values the statements carry that no message may show (the verifier). */
  readonly secrets: string[];
}

const ATTRIBUTES = [
  ['login', 'LOGIN'],
  ['inherit', 'INHERIT'],
  ['createdb', 'CREATEDB'],
  ['createrole', 'CREATEROLE'],
] as const;

/** From PostgreSQL 16, one membership may be granted by several grantors, each revoked apart. */
const PG16 = 160000;

const flag = (keyword: string, on: boolean): string => (on ? keyword : `NO${keyword}`);

/** "infinity", "-infinity" or milliseconds since the epoch: how two VALID UNTIL values compare. */
function instant(value: string | null | undefined): string {
  if (value === null || value === undefined || value === 'infinity') return 'infinity';
  if (value === '-infinity') return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : String(ms);
}

const shownValidUntil = (value: string | null): string => value ?? 'unset (never expires)';

/** The attribute keywords of CREATE/ALTER ROLE that differ, and each difference in words. */
function attributeChanges(
  spec: RoleParameters,
  role: RoleSnapshot['role'],
): { keywords: string[]; drift: string[] } {
  const keywords: string[] = [];
  const drift: string[] = [];
  for (const [field, keyword] of ATTRIBUTES) {
    if (role?.[field] === spec[field]) continue;
    keywords.push(flag(keyword, spec[field]));
    if (role) drift.push(`${field} is ${role[field]} on the server, the spec says ${spec[field]}`);
  }
  if (role?.connectionLimit !== spec.connectionLimit) {
    keywords.push(`CONNECTION LIMIT ${spec.connectionLimit}`);
    if (role)
      drift.push(
        `connectionLimit is ${role.connectionLimit} on the server, the spec says ${spec.connectionLimit}`,
      );
  }
  const validUntil = spec.validUntil ?? 'infinity';
  if (!role || instant(role.validUntil) !== instant(validUntil)) {
    keywords.push(`VALID UNTIL ${literal(validUntil)}`);
    if (role)
      drift.push(
        `validUntil is ${shownValidUntil(role.validUntil)} on the server, the spec says ${spec.validUntil ?? 'unset (never expires)'}`,
      );
  }
  return { keywords, drift };
}

function membershipChanges(
  input: PlanInput,
  refuse: boolean,
): { statements: DdlStatement[]; drift: string[]; problems: string[] } {
  const { spec, observed } = input;
  // Unset: memberships are someone else's to manage (a Grant's memberships), so none is revoked.
  if (spec.inRoles === undefined) return { statements: [], drift: [], problems: [] };
  const role = ident(spec.name);
  const current = new Set(observed.role?.inRoles ?? []);
  const wanted = new Set(spec.inRoles);
  const statements: DdlStatement[] = [];
  const drift: string[] = [];
  const problems: string[] = [];
  for (const name of [...current].filter((r) => !wanted.has(r)).sort()) {
    // Before 16 a membership is one row, whoever granted it (and its grantor may be long gone).
    const grantors = observed.version >= PG16 ? observed.role?.grantors[name] : undefined;
    if (!grantors || grantors.revocable.length + grantors.foreign.length === 0)
      statements.push({ sql: `REVOKE ${ident(name)} FROM ${role}` });
    for (const grantor of grantors?.revocable ?? [])
      statements.push({ sql: `REVOKE ${ident(name)} FROM ${role} GRANTED BY ${ident(grantor)}` });
    // Trying would fail the whole transaction; saying so lets the rest apply.
    if (grantors && grantors.foreign.length > 0)
      problems.push(
        `the membership in "${name}" was granted by ${grantors.foreign.map((g) => `"${g}"`).join(', ')}, whose grants the provider's user cannot revoke (REVOKE ... GRANTED BY needs that role's privileges); revoke it as a superuser`,
      );
    drift.push(`a member of "${name}" on the server, which the spec does not list`);
  }
  for (const name of spec.inRoles.filter((r) => !current.has(r))) {
    if (observed.role) drift.push(`not a member of "${name}" on the server, the spec says it is`);
    const target = observed.targets.find((t) => t.name === name);
    if (!target) {
      problems.push(`inRoles names role "${name}", which does not exist`);
    } else if (refuse && target.privileged.length > 0) {
      problems.push(
        `inRoles names role "${name}", which has ${target.privileged.join(', ')}: a member could SET ROLE to it, so a Role does not grant membership in it`,
      );
    } else {
      statements.push({ sql: `GRANT ${ident(name)} TO ${role}` });
    }
  }
  return { statements, drift, problems };
}

/** Whether and how the password is set, or why it cannot be. */
function passwordChange(
  input: PlanInput,
  creates: boolean,
): { statement?: DdlStatement; drift?: string; problem?: string; record?: PasswordRecord; secret?: string } {
  const p = input.password;
  if (!p) return {};
  const where = `Secret "${p.namespace}/${p.name}"`;
  if (!p.secret) return { problem: `${where} named by spec.forProvider.passwordSecretRef does not exist` };
  const value = p.secret.data[p.key];
  if (value === undefined || value === '')
    return { problem: `${where} has no key "${p.key}", or it is empty` };
  const problem = passwordProblem(value);
  if (problem) return { problem: `the password in key "${p.key}" of ${where} ${problem}` };
  const record: PasswordRecord = {
    secret: `${p.namespace}/${p.name}`,
    key: p.key,
    version: p.secret.version,
  };
  const previous = p.previous;
  const current =
    previous?.secret === record.secret && previous.key === record.key && previous.version === record.version;
  if (!creates && current) return {};
  const verifier = input.verifier(value);
  const role = ident(input.spec.name);
  return {
    statement: {
      sql: `ALTER ROLE ${role} PASSWORD ${literal(verifier)}`,
      shown: `ALTER ROLE ${role} PASSWORD <from ${where}>`,
    },
    drift: creates
      ? undefined
      : `the password from ${where} key "${p.key}" (resourceVersion ${record.version}) is not set yet`,
    record,
    secret: verifier,
  };
}

export function planRole(input: PlanInput): RolePlan {
  const { spec, observed, owner } = input;
  const role = observed.role;
  const name = ident(spec.name);
  const what = `role "${spec.name}"`;
  const refuse = !input.observeOnly;
  const statements: DdlStatement[] = [];
  const drift: string[] = [];
  const problems: string[] = [];

  let remark = !role;
  if (role && refuse) {
    if (role.privileged.length > 0) {
      return {
        statements: [],
        drift: [`${what} has ${role.privileged.join(', ')}, which a Role does not manage`],
        problem: `${what} has ${role.privileged.join(', ')}; a Role neither offers nor manages privileged roles, so it changes nothing of this one`,
        creates: false,
        secrets: [],
      };
    }
    const claimed = claim(what, role.comment, owner, input.adopt);
    if (!claimed.ours) {
      return {
        statements: [],
        drift: [`${what} is not marked as managed by this Role`],
        problem: claimed.problem,
        creates: false,
        secrets: [],
      };
    }
    remark = claimed.remark;
    if (remark) drift.push(`${what} is not marked as managed by this Role yet`);
  }

  if (!role) drift.push(`${what} does not exist`);
  const attributes = attributeChanges(spec, role);
  drift.push(...attributes.drift);
  if (!role) {
    // A CREATEROLE user that is not a superuser may hand a database to a role (OWNER TO), or drop
    // that database later, only as a member of that role. From PostgreSQL 16 it gets only ADMIN
    // on the roles it creates, and PostgreSQL's own setting for this case grants the new role to
    // its creator WITH SET, INHERIT (set for this transaction only); before 16 it grants the
    // membership itself.
    if (input.observed.version >= PG16)
      statements.push({ sql: "SET LOCAL createrole_self_grant = 'set, inherit'" });
    statements.push({ sql: `CREATE ROLE ${name} WITH ${attributes.keywords.join(' ')}` });
    if (input.observed.version < PG16) statements.push({ sql: `GRANT ${name} TO CURRENT_USER` });
  } else if (attributes.keywords.length > 0)
    statements.push({ sql: `ALTER ROLE ${name} WITH ${attributes.keywords.join(' ')}` });
  if (remark) statements.push({ sql: `COMMENT ON ROLE ${name} IS ${literal(ownershipComment(owner))}` });

  const memberships = membershipChanges(input, refuse);
  statements.push(...memberships.statements);
  drift.push(...memberships.drift);
  problems.push(...memberships.problems);

  const password = passwordChange(input, !role);
  if (password.statement) statements.push(password.statement);
  if (password.drift) drift.push(password.drift);
  if (password.problem) problems.push(password.problem);

  return {
    statements,
    drift,
    problem: problems.length > 0 ? problems.join('; ') : undefined,
    creates: !role,
    passwordSet: password.record,
    secrets: password.secret ? [password.secret] : [],
  };
}
