// The planner: declared policy × observed snapshot × previous record → the minimal, ordered list
// of GRANT/REVOKE statements, the drift, and the new record. Pure: no I/O, deterministic output.
import { COLUMN_PRIVILEGES } from '../api/grant.js';
import type { AclPair, Snapshot } from './observe.js';
import { recordEntry, type GrantRecord } from './record.js';
import { routineKey, type Policy, type SchemaRule, type WildcardKind } from './spec.js';
import { objectTypeRank, type ObjectType } from './kinds.js';
import { granteeSql, ident, qualified, routineSignature } from './sql.js';

export type { ObjectType } from './kinds.js';

export interface Statement {
  readonly action: 'GRANT' | 'REVOKE';
  readonly objectType: ObjectType;
  /** The Grant this statement serves. */
  readonly grant: string;
  readonly grantee: string;
  readonly privileges: readonly string[];
  /** Readable identities of the objects, e.g. TABLE "public"."orders". */
  readonly objects: readonly string[];
  readonly sql: string;
}

export interface ObjectDrift {
  readonly grant: string;
  readonly object: string;
  /** Declared but not present. */
  readonly missing: readonly string[];
  /** Present, not declared, and either in a declared scope or granted by pgplane before. */
  readonly extra: readonly string[];
}

export interface Plan {
  readonly database: string;
  readonly statements: readonly Statement[];
  readonly drift: readonly ObjectDrift[];
  /** The record each Grant should carry after this plan is applied, by Grant name. */
  readonly records: Readonly<Record<string, GrantRecord>>;
  /** Things the plan could not honour (unknown objects, privileges the server lacks...). */
  readonly problems: readonly string[];
}

/** Per-object working state while planning one grantee. */
interface ObjectState {
  readonly key: string;
  readonly type: ObjectType;
  readonly schema: string | undefined;
  /** SQL after ON (or, for columns, the table), memberships: the role. */
  readonly target: string;
  readonly want: Set<string>;
  readonly have: Set<string>;
  /** Privileges the spec leaves alone (membership options left unset). */
  readonly ignore: Set<string>;
  /** Privileges explicitly declared absent (membership options set to false): revoked in any mode. */
  readonly forbid: Set<string>;
  inScope: boolean;
  /** For columns: the table and column, so grants can be grouped per table. */
  readonly column?: { readonly table: string; readonly name: string; readonly tableKey: string };
  /** For default privileges: FOR ROLE, IN SCHEMA and ON what. */
  readonly defaults?: { readonly creator: string; readonly schema: string; readonly on: string };
}

const RELKINDS: Record<'TABLE' | 'SEQUENCE', readonly string[]> = {
  TABLE: ['r', 'v', 'm', 'p', 'f'],
  SEQUENCE: ['S'],
};
const DEFAULT_OBJTYPE: Record<WildcardKind, { objtype: string; on: string }> = {
  TABLE: { objtype: 'r', on: 'TABLES' },
  SEQUENCE: { objtype: 'S', on: 'SEQUENCES' },
  FUNCTION: { objtype: 'f', on: 'FUNCTIONS' },
};
const ROUTINE_TYPE: Record<string, ObjectType> = {
  f: 'FUNCTION',
  w: 'FUNCTION',
  p: 'PROCEDURE',
  a: 'ROUTINE',
};
const MEMBERSHIP_OPTIONS = ['ADMIN', 'INHERIT', 'SET'] as const;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortedSet = (values: Iterable<string>): string[] => [...values].sort(byString);

function aclFor(acl: readonly AclPair[], grantee: string): Set<string> {
  const out = new Set<string>();
  for (const [who, privilege] of acl) if (who === grantee) out.add(privilege);
  return out;
}

function serverLabel(snapshot: Snapshot): string {
  const major = Math.floor(snapshot.serverVersionNum / 10000);
  return `PostgreSQL ${major}`;
}

class PolicyPlanner {
  readonly objects = new Map<string, ObjectState>();
  readonly problems: string[] = [];
  private readonly recorded: Set<string>;

  constructor(
    private readonly policy: Policy,
    private readonly snapshot: Snapshot,
    previous: GrantRecord | undefined,
  ) {
    this.recorded = new Set(previous && previous.grantee === policy.grantee ? previous.grants : []);
  }

  private problem(message: string): void {
    this.problems.push(`Grant "${this.policy.name}": ${message}`);
  }

  /** Expands ALL from the server's own list and rejects what this server does not know. */
  private expand(declared: readonly string[], all: readonly string[], what: string): Set<string> {
    const out = new Set<string>();
    for (const privilege of declared) {
      if (privilege === 'ALL') for (const p of all) out.add(p);
      else if (all.includes(privilege)) out.add(privilege);
      else
        this.problem(
          `${privilege} is not a ${what} privilege on ${serverLabel(this.snapshot)} (it knows ${all.join(', ')}); it was left out`,
        );
    }
    return out;
  }

  private state(
    init: Omit<ObjectState, 'want' | 'have' | 'ignore' | 'forbid' | 'inScope'> & { have: Set<string> },
  ): ObjectState {
    let s = this.objects.get(init.key);
    if (!s) {
      s = { ...init, want: new Set(), ignore: new Set(), forbid: new Set(), inScope: false };
      this.objects.set(init.key, s);
    }
    return s;
  }

  run(): void {
    const { policy, snapshot } = this;
    if (policy.grantee !== 'PUBLIC' && !snapshot.roles.includes(policy.grantee)) {
      this.problem(
        `grantee role "${policy.grantee}" does not exist in database "${snapshot.database}"'s cluster; nothing was planned for it`,
      );
      return;
    }
    this.planDatabase();
    this.planSchemas();
    this.planRelations('TABLE');
    this.planRelations('SEQUENCE');
    this.planRoutines();
    this.planDefaults();
    this.planColumns();
    this.planMemberships();
  }

  private planDatabase(): void {
    const { policy, snapshot } = this;
    if (snapshot.databaseOwner === policy.grantee) return;
    const key = `DATABASE ${ident(snapshot.database)}`;
    const have = aclFor(snapshot.databaseAcl, policy.grantee);
    if (policy.databasePrivileges === undefined && have.size === 0) return;
    const s = this.state({ key, type: 'DATABASE', schema: undefined, target: key, have });
    if (policy.databasePrivileges !== undefined) {
      s.inScope = true;
      for (const p of this.expand(policy.databasePrivileges, snapshot.allPrivileges.database, 'database'))
        s.want.add(p);
    }
  }

  private planSchemas(): void {
    const { policy, snapshot } = this;
    for (const schema of snapshot.schemas) {
      if (schema.owner === policy.grantee) continue;
      const declared = policy.schemas.get(schema.name);
      const have = aclFor(schema.acl, policy.grantee);
      if (declared === undefined && have.size === 0) continue;
      const key = `SCHEMA ${ident(schema.name)}`;
      const s = this.state({ key, type: 'SCHEMA', schema: schema.name, target: key, have });
      if (declared !== undefined) {
        s.inScope = true;
        for (const p of this.expand(declared, snapshot.allPrivileges.schema, 'schema')) s.want.add(p);
      }
    }
    const observed = new Set(snapshot.schemas.map((s) => s.name));
    for (const name of policy.schemas.keys())
      if (!observed.has(name)) this.problem(`schema "${name}" does not exist`);
  }

  private checkSchemas(rules: ReadonlyMap<string, SchemaRule>, what: string): void {
    const observed = new Set(this.snapshot.schemas.map((s) => s.name));
    for (const schema of rules.keys())
      if (!observed.has(schema)) this.problem(`schema "${schema}" (named by ${what}) does not exist`);
  }

  /** Declared privileges for one object under a schema's rule: specific entry first, then the wildcard. */
  private declaredFor(
    rule: SchemaRule | undefined,
    key: string,
    name: string,
    extensionMember: boolean,
  ): readonly string[] | undefined {
    if (!rule) return undefined;
    const specific = rule.specific.get(key);
    if (specific) return specific.privileges;
    if (rule.wildcard && !rule.wildcard.except.has(name) && !extensionMember) return rule.wildcard.privileges;
    return undefined;
  }

  private planRelations(kind: 'TABLE' | 'SEQUENCE'): void {
    const { policy, snapshot } = this;
    const rules = policy.rules[kind];
    const all = kind === 'TABLE' ? snapshot.allPrivileges.table : snapshot.allPrivileges.sequence;
    const seen = new Set<string>();
    for (const rel of snapshot.relations) {
      if (!RELKINDS[kind].includes(rel.relkind) || rel.owner === policy.grantee) continue;
      const rule = rules.get(rel.schema);
      const declared = this.declaredFor(rule, rel.name, rel.name, rel.extensionMember);
      if (rule?.specific.has(rel.name)) seen.add(JSON.stringify([rel.schema, rel.name]));
      const have = aclFor(rel.acl, policy.grantee);
      if (declared === undefined && have.size === 0) continue;
      const key = `${kind} ${qualified(rel.schema, rel.name)}`;
      const s = this.state({ key, type: kind, schema: rel.schema, target: key, have });
      s.inScope = rule !== undefined;
      if (declared) for (const p of this.expand(declared, all, kind.toLowerCase())) s.want.add(p);
    }
    this.checkSchemas(rules, `${kind.toLowerCase()}s`);
    for (const [schema, rule] of rules) {
      for (const name of rule.specific.keys()) {
        if (!seen.has(JSON.stringify([schema, name])))
          this.problem(`${kind.toLowerCase()} "${schema}"."${name}" does not exist`);
      }
    }
  }

  private planRoutines(): void {
    const { policy, snapshot } = this;
    const rules = policy.rules.FUNCTION;
    const seen = new Set<string>();
    for (const fn of snapshot.routines) {
      if (fn.owner === policy.grantee) continue;
      const rule = rules.get(fn.schema);
      const matchKey = routineKey(fn.name, fn.argTypes);
      if (rule?.specific.has(matchKey)) seen.add(JSON.stringify([fn.schema, matchKey]));
      const declared = this.declaredFor(rule, matchKey, fn.name, fn.extensionMember);
      const have = aclFor(fn.acl, policy.grantee);
      if (declared === undefined && have.size === 0) continue;
      const type = ROUTINE_TYPE[fn.prokind] ?? 'ROUTINE';
      const key = `${type} ${routineSignature(fn.schema, fn.name, fn.argTypes)}`;
      const s = this.state({ key, type, schema: fn.schema, target: key, have });
      s.inScope = rule !== undefined;
      if (declared)
        for (const p of this.expand(declared, snapshot.allPrivileges.function, 'function')) s.want.add(p);
    }
    this.checkSchemas(rules, 'functions');
    for (const [schema, rule] of rules) {
      for (const key of rule.specific.keys()) {
        if (!seen.has(JSON.stringify([schema, key])))
          this.problem(`function or procedure "${schema}".${key} does not exist`);
      }
    }
  }

  private planDefaults(): void {
    const { policy, snapshot } = this;
    const owners = new Map(snapshot.schemas.map((s) => [s.name, s.owner]));
    for (const kind of ['TABLE', 'SEQUENCE', 'FUNCTION'] as const) {
      const { objtype, on } = DEFAULT_OBJTYPE[kind];
      const rules = policy.rules[kind];
      const all =
        kind === 'TABLE'
          ? snapshot.allPrivileges.table
          : kind === 'SEQUENCE'
            ? snapshot.allPrivileges.sequence
            : snapshot.allPrivileges.function;
      const stateFor = (creator: string, schema: string, have: Set<string>) => {
        const key = `DEFAULT PRIVILEGES FOR ROLE ${ident(creator)} IN SCHEMA ${ident(schema)} ON ${on}`;
        return this.state({
          key,
          type: 'DEFAULT',
          schema,
          target: key,
          have,
          defaults: { creator, schema, on },
        });
      };
      for (const d of snapshot.defaults) {
        if (d.objtype !== objtype) continue;
        const have = aclFor(d.acl, policy.grantee);
        if (have.size === 0) continue;
        stateFor(d.creator, d.schema, have).inScope = rules.has(d.schema);
      }
      for (const [schema, rule] of rules) {
        if (!rule.wildcard || !owners.has(schema)) continue;
        const creators = rule.wildcard.creators ?? [owners.get(schema)!];
        const privileges = this.expand(rule.wildcard.privileges, all, kind.toLowerCase());
        for (const creator of creators) {
          if (creator === policy.grantee) continue;
          if (!snapshot.roles.includes(creator) && creator !== owners.get(schema)) {
            this.problem(`role "${creator}" (defaultPrivilegesFor in schema "${schema}") does not exist`);
            continue;
          }
          const have = new Set<string>();
          const observed = snapshot.defaults.find(
            (d) => d.creator === creator && d.schema === schema && d.objtype === objtype,
          );
          if (observed) for (const p of aclFor(observed.acl, policy.grantee)) have.add(p);
          const s = stateFor(creator, schema, have);
          s.inScope = true;
          for (const p of privileges) s.want.add(p);
        }
      }
    }
  }

  private planColumns(): void {
    const { policy, snapshot } = this;
    const relOwner = new Map(snapshot.relations.map((r) => [JSON.stringify([r.schema, r.name]), r.owner]));
    const columnScope = new Set([...policy.rules.TABLE.keys(), ...policy.columns.map((c) => c.schema)]);
    const declared = new Map(policy.columns.map((c) => [JSON.stringify([c.schema, c.table, c.column]), c]));
    const seen = new Set<string>();
    for (const col of snapshot.columns) {
      if (relOwner.get(JSON.stringify([col.schema, col.table])) === policy.grantee) continue;
      const id = JSON.stringify([col.schema, col.table, col.column]);
      const rule = declared.get(id);
      if (rule) seen.add(id);
      const have = aclFor(col.acl, policy.grantee);
      if (!rule && have.size === 0) continue;
      const tableKey = `TABLE ${qualified(col.schema, col.table)}`;
      const key = `${tableKey} COLUMN ${ident(col.column)}`;
      const s = this.state({
        key,
        type: 'COLUMN',
        schema: col.schema,
        target: tableKey,
        have,
        column: { table: col.table, name: col.column, tableKey },
      });
      s.inScope = columnScope.has(col.schema);
      if (rule) for (const p of this.expand(rule.privileges, COLUMN_PRIVILEGES, 'column')) s.want.add(p);
    }
    for (const [id, rule] of declared) {
      if (!seen.has(id))
        this.problem(`column "${rule.schema}"."${rule.table}"."${rule.column}" does not exist`);
    }
  }

  private planMemberships(): void {
    const { policy, snapshot } = this;
    const has16Options = snapshot.serverVersionNum >= 160000;
    const observed = new Map<string, Set<string>>();
    for (const m of snapshot.memberships) {
      if (m.member !== policy.grantee) continue;
      const have = observed.get(m.role) ?? new Set<string>(['MEMBER']);
      if (m.admin) have.add('ADMIN');
      if (m.inherit) have.add('INHERIT');
      if (m.set) have.add('SET');
      observed.set(m.role, have);
    }
    const stateFor = (role: string) => {
      const key = `ROLE ${ident(role)}`;
      return this.state({
        key,
        type: 'MEMBERSHIP',
        schema: undefined,
        target: key,
        have: observed.get(role) ?? new Set(),
      });
    };
    for (const role of observed.keys()) stateFor(role).inScope = policy.memberships !== undefined;
    for (const rule of policy.memberships?.values() ?? []) {
      if (!snapshot.roles.includes(rule.role)) {
        this.problem(`role "${rule.role}" (memberships) does not exist`);
        continue;
      }
      const s = stateFor(rule.role);
      s.inScope = true;
      s.want.add('MEMBER');
      for (const option of MEMBERSHIP_OPTIONS) {
        const value = option === 'ADMIN' ? rule.admin : option === 'INHERIT' ? rule.inherit : rule.set;
        if (option !== 'ADMIN' && !has16Options) {
          // Before 16 every membership inherits according to the member's rolinherit, and SET is implied.
          if (value === false)
            this.problem(
              `memberships "${rule.role}": ${option} FALSE needs PostgreSQL 16 or later (server is ${serverLabel(snapshot)})`,
            );
          s.ignore.add(option);
          continue;
        }
        if (value === undefined) s.ignore.add(option);
        else if (value) s.want.add(option);
        else s.forbid.add(option);
      }
    }
  }

  /** The privileges to grant and revoke per object, following the mode. */
  diff(): {
    grants: Map<ObjectState, string[]>;
    revokes: Map<ObjectState, string[]>;
    drift: ObjectDrift[];
    record: GrantRecord;
  } {
    const grants = new Map<ObjectState, string[]>();
    const revokes = new Map<ObjectState, string[]>();
    const drift: ObjectDrift[] = [];
    const recordGrants = new Set<string>();
    const recordSchemas = new Set<string>();
    const authoritative = this.policy.mode === 'authoritative';
    const states = [...this.objects.values()].sort((a, b) => byString(a.key, b.key));
    for (const s of states) {
      const missing = sortedSet([...s.want].filter((p) => !s.have.has(p)));
      const extraAll = sortedSet([...s.have].filter((p) => !s.want.has(p) && !s.ignore.has(p)));
      const revoke = extraAll.filter(
        (p) => s.forbid.has(p) || (authoritative && s.inScope) || this.recorded.has(recordEntry(p, s.key)),
      );
      const extra = extraAll.filter((p) => s.inScope || revoke.includes(p));
      if (missing.length > 0) grants.set(s, missing);
      if (revoke.length > 0) revokes.set(s, revoke);
      if (missing.length > 0 || extra.length > 0)
        drift.push({ grant: this.policy.name, object: s.key, missing, extra });
      for (const p of s.want) {
        const entry = recordEntry(p, s.key);
        if (missing.includes(p) || this.recorded.has(entry)) {
          recordGrants.add(entry);
          if (s.schema !== undefined) recordSchemas.add(s.schema);
        }
      }
    }
    // REVOKE on a table also drops that privilege from each of its columns: re-grant declared column
    // privileges on any table losing the same privilege (column grants run after table revokes).
    for (const [table, lost] of revokes) {
      if (table.type !== 'TABLE') continue;
      for (const s of states) {
        if (s.column?.tableKey !== table.key) continue;
        const regrant = [...s.want].filter((p) => lost.includes(p));
        if (regrant.length > 0) grants.set(s, sortedSet(new Set([...(grants.get(s) ?? []), ...regrant])));
      }
    }
    return {
      grants,
      revokes,
      drift,
      record: {
        grantee: this.policy.grantee,
        grants: sortedSet(recordGrants),
        schemas: sortedSet(recordSchemas),
      },
    };
  }
}

// ---- statements ----

/** Objects per GRANT/REVOKE: big enough that 10,000 tables take a handful of statements, small enough to read. */
export const OBJECTS_PER_STATEMENT = 500;

interface Pending {
  readonly action: 'GRANT' | 'REVOKE';
  readonly state: ObjectState;
  readonly privileges: readonly string[];
}

function membershipStatements(
  grant: string,
  grantee: string,
  p: Pending,
  has16Options: boolean,
): Statement[] {
  const role = p.state.target.slice('ROLE '.length);
  const who = granteeSql(grantee);
  const base = {
    objectType: 'MEMBERSHIP' as const,
    grant,
    grantee,
    objects: [p.state.key],
    privileges: p.privileges,
  };
  if (p.action === 'REVOKE') {
    if (p.privileges.includes('MEMBER'))
      return [{ ...base, action: 'REVOKE', sql: `REVOKE ${role} FROM ${who}` }];
    return p.privileges.map((option) => ({
      ...base,
      privileges: [option],
      action: 'REVOKE' as const,
      sql: `REVOKE ${option} OPTION FOR ${role} FROM ${who}`,
    }));
  }
  const options = p.privileges.filter((x) => x !== 'MEMBER');
  if (p.privileges.includes('MEMBER') && has16Options) {
    // A new membership states every managed option, so INHERIT/SET FALSE do not fall back to defaults.
    for (const option of p.state.forbid) options.push(`${option}:FALSE`);
  }
  const withClause = has16Options
    ? options
        .map((o) => (o.endsWith(':FALSE') ? `${o.slice(0, -':FALSE'.length)} FALSE` : `${o} TRUE`))
        .sort(byString)
        .join(', ')
    : options.includes('ADMIN')
      ? 'ADMIN OPTION'
      : '';
  return [
    { ...base, action: 'GRANT', sql: `GRANT ${role} TO ${who}${withClause ? ` WITH ${withClause}` : ''}` },
  ];
}

function buildStatements(
  grant: string,
  grantee: string,
  pending: readonly Pending[],
  has16Options: boolean,
): Statement[] {
  const out: Statement[] = [];
  const who = granteeSql(grantee);
  const verb = (action: 'GRANT' | 'REVOKE') => (action === 'GRANT' ? 'TO' : 'FROM');
  // Group objects that receive the same privileges: one statement for many objects.
  const groups = new Map<string, Pending[]>();
  for (const p of pending) {
    const groupKey =
      p.state.type === 'COLUMN'
        ? JSON.stringify([p.action, p.state.type, p.state.column!.tableKey, p.privileges])
        : p.state.type === 'DEFAULT' || p.state.type === 'MEMBERSHIP'
          ? JSON.stringify([p.action, p.state.type, p.state.key, p.privileges])
          : JSON.stringify([p.action, p.state.type, p.privileges]);
    const list = groups.get(groupKey) ?? [];
    list.push(p);
    groups.set(groupKey, list);
  }
  for (const list of groups.values()) {
    const first = list[0]!;
    const { action, privileges, state } = first;
    const privilegeSql = privileges.join(', ');
    if (state.type === 'MEMBERSHIP') {
      out.push(...membershipStatements(grant, grantee, first, has16Options));
    } else if (state.type === 'DEFAULT') {
      const d = state.defaults!;
      out.push({
        action,
        objectType: 'DEFAULT',
        grant,
        grantee,
        privileges,
        objects: [state.key],
        sql: `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(d.creator)} IN SCHEMA ${ident(d.schema)} ${action} ${privilegeSql} ON ${d.on} ${verb(action)} ${who}`,
      });
    } else if (state.type === 'COLUMN') {
      const columns = list.map((p) => ident(p.state.column!.name)).sort(byString);
      out.push({
        action,
        objectType: 'COLUMN',
        grant,
        grantee,
        privileges,
        objects: list.map((p) => p.state.key).sort(byString),
        sql: `${action} ${privileges.map((p) => `${p} (${columns.join(', ')})`).join(', ')} ON ${state.column!.tableKey} ${verb(action)} ${who}`,
      });
    } else {
      const keys = list.map((p) => p.state.key).sort(byString);
      for (let i = 0; i < keys.length; i += OBJECTS_PER_STATEMENT) {
        const chunk = keys.slice(i, i + OBJECTS_PER_STATEMENT);
        // Keys read "TYPE identity"; statements list identities after one "ON TYPE".
        const identities = chunk.map((k) => k.slice(state.type.length + 1));
        out.push({
          action,
          objectType: state.type,
          grant,
          grantee,
          privileges,
          objects: chunk,
          sql: `${action} ${privilegeSql} ON ${state.type} ${identities.join(', ')} ${verb(action)} ${who}`,
        });
      }
    }
  }
  return out;
}

/** Phase of a statement: grants first, then revokes (reverse type order), then column grants (see diff()). */
function phase(s: Statement): number {
  if (s.action === 'REVOKE') return 1;
  return s.objectType === 'COLUMN' ? 2 : 0;
}

function compareStatements(a: Statement, b: Statement): number {
  return (
    phase(a) - phase(b) ||
    (a.action === 'REVOKE'
      ? objectTypeRank(b.objectType) - objectTypeRank(a.objectType)
      : objectTypeRank(a.objectType) - objectTypeRank(b.objectType)) ||
    byString(a.grantee, b.grantee) ||
    byString(a.sql, b.sql)
  );
}

/**
 * Plans every Grant of one database against its snapshot. `previous` holds each Grant's record
 * from the last apply (by Grant name); the returned records replace them once the plan is applied.
 */
export function planGrants(
  policies: readonly Policy[],
  snapshot: Snapshot,
  previous: Readonly<Record<string, GrantRecord | undefined>> = {},
): Plan {
  const statements: Statement[] = [];
  const drift: ObjectDrift[] = [];
  const records: Record<string, GrantRecord> = {};
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const has16Options = snapshot.serverVersionNum >= 160000;
  for (const policy of [...policies].sort((a, b) => byString(a.name, b.name))) {
    const other = seen.get(policy.grantee);
    if (other !== undefined) {
      problems.push(
        `Grant "${policy.name}": grantee "${policy.grantee}" already has Grant "${other}" in database "${snapshot.database}"; one Grant is the whole policy of one grantee, merge them`,
      );
      continue;
    }
    seen.set(policy.grantee, policy.name);
    const planner = new PolicyPlanner(policy, snapshot, previous[policy.name]);
    planner.run();
    problems.push(...planner.problems);
    const { grants, revokes, drift: d, record } = planner.diff();
    const pending: Pending[] = [
      ...[...grants].map(([state, privileges]) => ({ action: 'GRANT' as const, state, privileges })),
      ...[...revokes].map(([state, privileges]) => ({ action: 'REVOKE' as const, state, privileges })),
    ];
    statements.push(...buildStatements(policy.name, policy.grantee, pending, has16Options));
    drift.push(...d);
    records[policy.name] = record;
  }
  statements.sort(compareStatements);
  return { database: snapshot.database, statements, drift, records, problems };
}
