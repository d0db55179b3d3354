// Planning, phase 1 of 3 (desired → diff → statements): for one grantee, every object the policy
// declares or the grantee holds a privilege on, with what is wanted and what is there. Each
// privilege kind contributes its objects; nothing here compares or renders SQL.
import { COLUMN_PRIVILEGES } from '../api/grant.js';
import type { GrantObject, RoutineType } from './objects.js';
import { objectKey } from './objects.js';
import type { AclPair, Snapshot } from './observe.js';
import { routineKey, WILDCARD_SECTIONS, type Policy, type SchemaRule, type WildcardKind } from './policy.js';

/** Per-object working state while planning one grantee. */
export interface ObjectState {
  /** objectKey(object): the readable identity, unique per grantee. */
  readonly key: string;
  readonly object: GrantObject;
  readonly want: Set<string>;
  readonly have: Set<string>;
  /** Privileges the spec leaves alone (membership options left unset). */
  readonly ignore: Set<string>;
  /** Privileges explicitly declared absent (membership options set to false): revoked in any mode. */
  readonly forbid: Set<string>;
  /** In a scope the policy declares: authoritative mode revokes what is not wanted. */
  inScope: boolean;
}

const RELKINDS: Record<'TABLE' | 'SEQUENCE', readonly string[]> = {
  TABLE: ['r', 'v', 'm', 'p', 'f'],
  SEQUENCE: ['S'],
};
const DEFAULT_OBJTYPE: Record<WildcardKind, { objtype: string; on: 'TABLES' | 'SEQUENCES' | 'FUNCTIONS' }> = {
  TABLE: { objtype: 'r', on: 'TABLES' },
  SEQUENCE: { objtype: 'S', on: 'SEQUENCES' },
  FUNCTION: { objtype: 'f', on: 'FUNCTIONS' },
};
const ROUTINE_TYPE: Record<string, RoutineType> = {
  f: 'FUNCTION',
  w: 'FUNCTION',
  p: 'PROCEDURE',
  a: 'ROUTINE',
};
const MEMBERSHIP_OPTIONS = ['ADMIN', 'INHERIT', 'SET'] as const;

function aclFor(acl: readonly AclPair[], grantee: string): Set<string> {
  const out = new Set<string>();
  for (const [who, privilege] of acl) if (who === grantee) out.add(privilege);
  return out;
}

function serverLabel(snapshot: Snapshot): string {
  const major = Math.floor(snapshot.serverVersionNum / 10000);
  return `PostgreSQL ${major}`;
}

/** What a kind's planner gets: the policy, the snapshot, and the shared object table. */
export class DesiredState {
  readonly objects = new Map<string, ObjectState>();
  readonly problems: string[] = [];

  constructor(
    readonly policy: Policy,
    readonly snapshot: Snapshot,
  ) {}

  problem(message: string): void {
    this.problems.push(`Grant "${this.policy.name}": ${message}`);
  }

  /** Expands ALL from the server's own list and rejects what this server does not know. */
  expand(declared: readonly string[], all: readonly string[], what: string): Set<string> {
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

  /** The state of one object, created on first mention with what the grantee holds. */
  state(object: GrantObject, have: Set<string>): ObjectState {
    const key = objectKey(object);
    let s = this.objects.get(key);
    if (!s) {
      s = { key, object, have, want: new Set(), ignore: new Set(), forbid: new Set(), inScope: false };
      this.objects.set(key, s);
    }
    return s;
  }

  checkSchemas(rules: ReadonlyMap<string, SchemaRule>, what: string): void {
    const observed = new Set(this.snapshot.schemas.map((s) => s.name));
    for (const schema of rules.keys())
      if (!observed.has(schema)) this.problem(`schema "${schema}" (named by ${what}) does not exist`);
  }

  /** Declared privileges for one object under a schema's rule: specific entry first, then the wildcard. */
  declaredFor(
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
}

// ---- one planner per privilege kind ----

export function desiredDatabase(d: DesiredState): void {
  const { policy, snapshot } = d;
  if (snapshot.databaseOwner === policy.grantee) return;
  const have = aclFor(snapshot.databaseAcl, policy.grantee);
  if (policy.databasePrivileges === undefined && have.size === 0) return;
  const s = d.state({ type: 'DATABASE', database: snapshot.database }, have);
  if (policy.databasePrivileges !== undefined) {
    s.inScope = true;
    for (const p of d.expand(policy.databasePrivileges, snapshot.allPrivileges.database, 'database'))
      s.want.add(p);
  }
}

export function desiredSchemas(d: DesiredState): void {
  const { policy, snapshot } = d;
  for (const schema of snapshot.schemas) {
    if (schema.owner === policy.grantee) continue;
    const declared = policy.schemas.get(schema.name);
    const have = aclFor(schema.acl, policy.grantee);
    if (declared === undefined && have.size === 0) continue;
    const s = d.state({ type: 'SCHEMA', schema: schema.name }, have);
    if (declared !== undefined) {
      s.inScope = true;
      for (const p of d.expand(declared, snapshot.allPrivileges.schema, 'schema')) s.want.add(p);
    }
  }
  const observed = new Set(snapshot.schemas.map((s) => s.name));
  for (const name of policy.schemas.keys())
    if (!observed.has(name)) d.problem(`schema "${name}" does not exist`);
}

export function desiredRelations(kind: 'TABLE' | 'SEQUENCE'): (d: DesiredState) => void {
  return (d) => {
    const { policy, snapshot } = d;
    const rules = policy[WILDCARD_SECTIONS[kind]];
    const all = kind === 'TABLE' ? snapshot.allPrivileges.table : snapshot.allPrivileges.sequence;
    const seen = new Set<string>();
    for (const rel of snapshot.relations) {
      if (!RELKINDS[kind].includes(rel.relkind) || rel.owner === policy.grantee) continue;
      const rule = rules.get(rel.schema);
      const declared = d.declaredFor(rule, rel.name, rel.name, rel.extensionMember);
      if (rule?.specific.has(rel.name)) seen.add(JSON.stringify([rel.schema, rel.name]));
      const have = aclFor(rel.acl, policy.grantee);
      if (declared === undefined && have.size === 0) continue;
      const s = d.state({ type: kind, schema: rel.schema, name: rel.name }, have);
      s.inScope = rule !== undefined;
      if (declared) for (const p of d.expand(declared, all, kind.toLowerCase())) s.want.add(p);
    }
    d.checkSchemas(rules, `${kind.toLowerCase()}s`);
    for (const [schema, rule] of rules) {
      for (const name of rule.specific.keys()) {
        if (!seen.has(JSON.stringify([schema, name])))
          d.problem(`${kind.toLowerCase()} "${schema}"."${name}" does not exist`);
      }
    }
  };
}

export function desiredRoutines(d: DesiredState): void {
  const { policy, snapshot } = d;
  const rules = policy.functions;
  const seen = new Set<string>();
  for (const fn of snapshot.routines) {
    if (fn.owner === policy.grantee) continue;
    const rule = rules.get(fn.schema);
    const matchKey = routineKey(fn.name, fn.argTypes);
    if (rule?.specific.has(matchKey)) seen.add(JSON.stringify([fn.schema, matchKey]));
    const declared = d.declaredFor(rule, matchKey, fn.name, fn.extensionMember);
    const have = aclFor(fn.acl, policy.grantee);
    if (declared === undefined && have.size === 0) continue;
    const type = ROUTINE_TYPE[fn.prokind] ?? 'ROUTINE';
    const s = d.state({ type, schema: fn.schema, name: fn.name, argTypes: fn.argTypes }, have);
    s.inScope = rule !== undefined;
    if (declared)
      for (const p of d.expand(declared, snapshot.allPrivileges.function, 'function')) s.want.add(p);
  }
  d.checkSchemas(rules, 'functions');
  for (const [schema, rule] of rules) {
    for (const key of rule.specific.keys()) {
      if (!seen.has(JSON.stringify([schema, key])))
        d.problem(`function or procedure "${schema}".${key} does not exist`);
    }
  }
}

export function desiredDefaults(d: DesiredState): void {
  const { policy, snapshot } = d;
  const owners = new Map(snapshot.schemas.map((s) => [s.name, s.owner]));
  for (const kind of ['TABLE', 'SEQUENCE', 'FUNCTION'] as const) {
    const { objtype, on } = DEFAULT_OBJTYPE[kind];
    const rules = policy[WILDCARD_SECTIONS[kind]];
    const all =
      kind === 'TABLE'
        ? snapshot.allPrivileges.table
        : kind === 'SEQUENCE'
          ? snapshot.allPrivileges.sequence
          : snapshot.allPrivileges.function;
    const stateFor = (creator: string, schema: string, have: Set<string>) =>
      d.state({ type: 'DEFAULT', creator, schema, on }, have);
    for (const observed of snapshot.defaults) {
      if (observed.objtype !== objtype) continue;
      const have = aclFor(observed.acl, policy.grantee);
      if (have.size === 0) continue;
      stateFor(observed.creator, observed.schema, have).inScope = rules.has(observed.schema);
    }
    for (const [schema, rule] of rules) {
      if (!rule.wildcard || !owners.has(schema)) continue;
      const creators = rule.wildcard.creators ?? [owners.get(schema)!];
      const privileges = d.expand(rule.wildcard.privileges, all, kind.toLowerCase());
      for (const creator of creators) {
        if (creator === policy.grantee) continue;
        if (!snapshot.roles.includes(creator) && creator !== owners.get(schema)) {
          d.problem(`role "${creator}" (defaultPrivilegesFor in schema "${schema}") does not exist`);
          continue;
        }
        const have = new Set<string>();
        const observed = snapshot.defaults.find(
          (x) => x.creator === creator && x.schema === schema && x.objtype === objtype,
        );
        if (observed) for (const p of aclFor(observed.acl, policy.grantee)) have.add(p);
        const s = stateFor(creator, schema, have);
        s.inScope = true;
        for (const p of privileges) s.want.add(p);
      }
    }
  }
}

export function desiredColumns(d: DesiredState): void {
  const { policy, snapshot } = d;
  const relOwner = new Map(snapshot.relations.map((r) => [JSON.stringify([r.schema, r.name]), r.owner]));
  const columnScope = new Set([...policy.tables.keys(), ...policy.columns.map((c) => c.schema)]);
  const declared = new Map(policy.columns.map((c) => [JSON.stringify([c.schema, c.table, c.column]), c]));
  const seen = new Set<string>();
  for (const col of snapshot.columns) {
    if (relOwner.get(JSON.stringify([col.schema, col.table])) === policy.grantee) continue;
    const id = JSON.stringify([col.schema, col.table, col.column]);
    const rule = declared.get(id);
    if (rule) seen.add(id);
    const have = aclFor(col.acl, policy.grantee);
    if (!rule && have.size === 0) continue;
    const s = d.state({ type: 'COLUMN', schema: col.schema, table: col.table, column: col.column }, have);
    s.inScope = columnScope.has(col.schema);
    if (rule) for (const p of d.expand(rule.privileges, COLUMN_PRIVILEGES, 'column')) s.want.add(p);
  }
  for (const [id, rule] of declared) {
    if (!seen.has(id)) d.problem(`column "${rule.schema}"."${rule.table}"."${rule.column}" does not exist`);
  }
}

export function desiredMemberships(d: DesiredState): void {
  const { policy, snapshot } = d;
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
  const stateFor = (role: string) => d.state({ type: 'MEMBERSHIP', role }, observed.get(role) ?? new Set());
  for (const role of observed.keys()) stateFor(role).inScope = policy.memberships !== undefined;
  for (const rule of policy.memberships?.values() ?? []) {
    if (!snapshot.roles.includes(rule.role)) {
      d.problem(`role "${rule.role}" (memberships) does not exist`);
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
          d.problem(
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
