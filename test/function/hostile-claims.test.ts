// Thousands of hostile claims per run, generated from the PostgresInstance schema itself (the XRD's
// openAPIV3Schema) with adversarial values: reserved names, names chosen to collide, prototype
// keys, maximal and over-long lists, template syntax, odd Unicode. Whatever the claim, the function
// answers with either one FATAL result naming a field and nothing composed, or a composed set that
// holds every tenancy invariant below. The invariants are stated here, independently of the
// function's own checks, so a gap in those checks fails this test.
import { Severity, type RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toOpenApiSchema } from '../../src/api/openapi.js';
import { postgresDatabaseSpecSchema } from '../../src/api/postgres-database.js';
import { postgresInstanceSpecSchema } from '../../src/api/postgres-instance.js';
import { inputFrom } from '../../src/cli/render.js';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest, render } from '../../src/render/render.js';
import { getObject, getString, isObject, type JsonObject } from '../../src/shared/json.js';
import { readObjects, readSingleObject } from '../../src/shared/yaml-files.js';

const NAMESPACE = 'team-a';

// --- The platforms the claims are sent to -------------------------------------------------------

const standard = inputFrom(readSingleObject('apis/namespaced/composition.yaml'));
const production = inputFrom(readSingleObject('apis/namespaced/composition-production.yaml'));
/** A platform that offers claims more than the shipped ones, so the permissive paths are exercised too. */
const generous: JsonObject = {
  ...standard,
  roleManagement: 'DatabaseRole',
  backup: { destinationPathTemplate: 's3://backups/{namespace}/{name}' },
  claims: {
    secretStores: [
      { kind: 'SecretStore', remoteKeys: true },
      { kind: 'ClusterSecretStore', name: 'team-a-vault', remoteKeys: true },
    ],
    parameters: ['work_mem', 'statement_timeout', 'timezone'],
    limits: { schemas: 8, access: 4 },
  },
};
const platforms = [standard, production, generous];

// --- Adversarial values --------------------------------------------------------------------------

/** Chosen so that generated claims often collide with each other's and pgplane's derived names. */
const namePool = [
  'billing',
  'billing-db',
  'billing-db-owner',
  'billing-connection',
  'billing-connection-owner',
  'billing-connection-readonly',
  'billing-credentials',
  'billing-owner-credentials',
  'billing-runtime-credentials',
  'app',
  'app_',
  '_app',
  'app__x',
  'readonly',
  'owner',
  'runtime',
  'billing_rw',
  'billing_ro',
  'billing_owner',
  'Billing_RW',
];
const reserved = [
  'postgres',
  'template0',
  'template1',
  'public',
  'PUBLIC',
  'pg_catalog',
  'PG_CATALOG',
  'pg_toast',
  'information_schema',
  'streaming_replica',
  'cnpg_pooler_pgbouncer',
  'pg_monitor',
  'none',
  'current_user',
  'kube-system',
  'default',
];
const prototypeKeys = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const templateSyntax = [
  '{{ .password }}',
  '{{',
  '}}',
  'a{{ .Values }}b',
  '{{ index . "x" }}',
  '${HOME}',
  '%s',
];
const oddUnicode = [
  'ß',
  'İ',
  'ǅ',
  'é',
  'e\u0301',
  '\u200b',
  '\u202e',
  '🐘',
  '\uFEFF',
  'a\u0000b',
  'a\nb',
  'a\r\nb',
  '\t',
];
const lengths = [0, 1, 50, 51, 63, 64, 181, 182, 253, 254].map((n) => 'a'.repeat(n));
const other = [
  '*',
  ' ',
  '-',
  '.',
  '..',
  'a.b',
  'a/b',
  'A',
  '1',
  '-a',
  'a-',
  "O'Brien",
  'x"; DROP ROLE postgres;--',
];
const parameterNames = [
  'work_mem',
  'statement_timeout',
  'timezone',
  'search_path',
  'shared_preload_libraries',
  'session_preload_libraries',
  'ssl_ciphers',
  'wal_level',
  'password_encryption',
  'log_min_duration_statement',
  'pg_stat_statements.max',
];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...namePool) },
  { weight: 3, arbitrary: fc.constantFrom(...reserved) },
  { weight: 2, arbitrary: fc.constantFrom(...prototypeKeys) },
  { weight: 2, arbitrary: fc.constantFrom(...templateSyntax) },
  { weight: 2, arbitrary: fc.constantFrom(...oddUnicode) },
  { weight: 1, arbitrary: fc.constantFrom(...lengths) },
  { weight: 2, arbitrary: fc.constantFrom(...other) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
);

// --- Claims generated from the schema ----------------------------------------------------------

type Schema = JsonObject;

const everyValue = [
  ...namePool,
  ...reserved,
  ...prototypeKeys,
  ...templateSyntax,
  ...oddUnicode,
  ...lengths,
  ...other,
  ...parameterNames,
];

/**
 * Strings of a pattern are mostly ones the pattern accepts but that are hostile in meaning
 * (reserved, colliding, prototype keys, maximal length), so claims get past the schema and reach
 * the platform's and pgplane's own checks; the rest are hostile in form.
 */
function stringFor(schema: Schema): fc.Arbitrary<unknown> {
  if (typeof schema.pattern === 'string') {
    const pattern = new RegExp(schema.pattern);
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
    const fitting = everyValue.filter((v) => pattern.test(v) && v.length <= max + 1);
    if (fitting.length > 0)
      return fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...fitting) },
        { weight: 1, arbitrary: hostileString },
      );
  }
  if (Array.isArray(schema.enum)) {
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...(schema.enum as unknown[])) },
      { weight: 1, arbitrary: hostileString },
    );
  }
  return hostileString;
}

function integerFor(schema: Schema): fc.Arbitrary<unknown> {
  const min = typeof schema.minimum === 'number' ? schema.minimum : -5;
  const max = typeof schema.maximum === 'number' ? schema.maximum : 100_000;
  return fc.oneof(
    fc.constantFrom(min, max, min - 1, max + 1, 0, -1, 0.5),
    fc.integer({ min: Math.max(min, -10), max: Math.min(max, 1000) }),
  );
}

function arrayFor(schema: Schema, depth: number): fc.Arbitrary<unknown[]> {
  const item = arbitraryFor(isObject(schema.items) ? schema.items : {}, depth + 1);
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : 8;
  // Nested lists stay short: maximal lists inside maximal lists multiply (32 × 32 × 256 names).
  if (depth > 2) return fc.array(item, { maxLength: Math.min(3, max + 1) });
  // Mostly short lists; sometimes exactly the bound, or one past it (refused by the bound).
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(item, { maxLength: Math.min(4, max) }) },
    { weight: 1, arbitrary: fc.array(item, { minLength: max, maxLength: max }) },
    { weight: 1, arbitrary: fc.array(item, { minLength: max + 1, maxLength: max + 1 }) },
  );
}

function recordFor(schema: Schema, depth: number): fc.Arbitrary<JsonObject> {
  const value = arbitraryFor(
    isObject(schema.additionalProperties) ? schema.additionalProperties : {},
    depth + 1,
  );
  const key = fc.oneof(
    fc.constantFrom(...parameterNames),
    fc.constantFrom('app.kubernetes.io/name', 'app', 'a b', 'x/y/z'),
    hostileString,
  );
  return fc.dictionary(
    key.filter((k): k is string => typeof k === 'string'),
    value,
    { maxKeys: 4 },
  );
}

function objectFor(schema: Schema, depth: number): fc.Arbitrary<JsonObject> {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, child] of Object.entries(properties)) {
    if (isObject(child)) fields[name] = arbitraryFor(child, depth + 1);
  }
  const optional = Object.keys(fields).filter((name) => !required.has(name));
  return fc
    .tuple(
      fc.record(fields, { requiredKeys: [...required].filter((name) => name in fields) }),
      fc.subarray(optional, { maxLength: Math.min(optional.length, depth === 0 ? 6 : 3) }),
      fc.option(fc.tuple(fc.constantFrom(...prototypeKeys), hostileString), { freq: 8 }),
    )
    .map(([all, kept, extra]) => {
      const out: JsonObject = {};
      for (const [name, value] of Object.entries(all)) {
        if (required.has(name) || kept.includes(name)) out[name] = value;
      }
      // A prototype key as an own property, as JSON.parse or a YAML parser would produce it.
      if (extra)
        Object.defineProperty(out, extra[0], {
          value: extra[1],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    });
}

function arbitraryFor(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && schema.type === undefined) {
    // The union of "*" and a routine reference.
    return fc.oneof(
      fc.constant('*'),
      fc.record({ name: hostileString, arguments: fc.array(hostileString, { maxLength: 3 }) }),
    );
  }
  switch (schema.type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return integerFor(schema);
    case 'boolean':
      return fc.boolean();
    case 'array':
      return arrayFor(schema, depth);
    case 'object':
      return schema.properties ? objectFor(schema, depth) : recordFor(schema, depth);
    default:
      return fc.constant(undefined);
  }
}

const specSchema = toOpenApiSchema(postgresInstanceSpecSchema);

/** A valid-looking base that hostile fields replace, so many claims get past the schema. */
const base = { version: '16', storageGB: 10, databaseName: 'billing', databaseOwner: 'billing_owner' };
const hostileSpec = fc.oneof(
  {
    weight: 3,
    arbitrary: (arbitraryFor(specSchema) as fc.Arbitrary<JsonObject>).map((spec) => ({ ...base, ...spec })),
  },
  { weight: 1, arbitrary: arbitraryFor(specSchema) },
);
const hostileMetadata = fc.record({
  name: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('billing', 'app', 'billing-db') },
    { weight: 1, arbitrary: hostileString },
  ),
  namespace: fc.oneof(
    { weight: 8, arbitrary: fc.constant(NAMESPACE) },
    { weight: 1, arbitrary: hostileString },
  ),
});

// --- The invariants -----------------------------------------------------------------------------

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const PLACEHOLDERS = ['{{ .password | urlquery | replace "+" "%20" }}', '{{ .password }}'];
const RESERVED_SCHEMA = (schema: string) =>
  /^pg_/i.test(schema) || schema.toLowerCase() === 'information_schema';

interface Store {
  name: string;
  kind: string;
}

/** The stores a platform offers claims, and whether a claim may choose keys in each. */
function offeredStore(input: JsonObject, store: Store): { remoteKeys: boolean } | undefined {
  const own = getObject(input, 'credentials', 'secretStoreRef');
  const offers = ((getObject(input, 'claims')?.secretStores as JsonObject[] | undefined) ?? []).filter(
    (offer) => offer.kind === store.kind && (offer.name === undefined || offer.name === store.name),
  );
  const isOwn = own?.name === store.name && (own?.kind ?? 'ClusterSecretStore') === store.kind;
  if (!isOwn && offers.length === 0) return undefined;
  return { remoteKeys: offers.some((offer) => offer.remoteKeys === true) };
}

function composedObjects(response: RunFunctionResponse): JsonObject[] {
  return Object.values(response.desired?.resources ?? {})
    .map((r) => r.resource)
    .filter(isObject);
}

function checkComposedSet(xr: JsonObject, input: JsonObject, objects: JsonObject[]): void {
  const namespace = getString(xr, 'metadata', 'namespace');
  const spec = getObject(xr, 'spec') ?? {};
  const seen = new Set<string>();
  const secretWriters = new Set<string>();
  const write = (name: string) => {
    expect(secretWriters.has(name), `two objects write Secret ${name}`).toBe(false);
    secretWriters.add(name);
  };

  for (const object of objects) {
    const kind = String(object.kind);
    const name = getString(object, 'metadata', 'name') ?? '';
    const what = `${kind} ${name}`;
    expect(getString(object, 'metadata', 'namespace'), `${what} leaves the XR's namespace`).toBe(namespace);
    expect(name.length, `${what}: name too long`).toBeLessThanOrEqual(kind === 'Cluster' ? 50 : 253);
    expect(
      kind === 'Cluster' ? DNS_LABEL.test(name) : DNS_SUBDOMAIN.test(name),
      `${what}: not a valid name`,
    ).toBe(true);
    const identity = `${String(object.apiVersion)}/${kind}/${name}`;
    expect(seen.has(identity), `${what} composed twice`).toBe(false);
    seen.add(identity);
    for (const [key, value] of Object.entries(getObject(object, 'metadata', 'labels') ?? {})) {
      expect(
        typeof value === 'string' && value.length <= 63 && LABEL_VALUE.test(value),
        `${what}: label ${key}`,
      ).toBe(true);
    }

    if (kind === 'Secret') write(name);
    if (kind === 'ExternalSecret') {
      write(getString(object, 'spec', 'target', 'name') ?? name);
      for (const value of Object.values(getObject(object, 'spec', 'target', 'template', 'data') ?? {})) {
        let literal = String(value);
        for (const placeholder of PLACEHOLDERS) literal = literal.replaceAll(placeholder, '');
        expect(
          literal.includes('{{') || literal.includes('}}') || CONTROL.test(literal),
          `${what}: template text from the claim: ${String(value)}`,
        ).toBe(false);
      }
      // The claim gets only a store the platform offers, and a key of its own; or, with generated
      // credentials, a Password generator or the reader store composed beside it.
      const store = getObject(object, 'spec', 'secretStoreRef') as Store | undefined;
      const generated = ((getObject(object, 'spec')?.dataFrom as JsonObject[] | undefined) ?? []).some(
        (d) => getString(d, 'sourceRef', 'generatorRef', 'kind') === 'Password',
      );
      const composedStore =
        store?.kind === 'SecretStore' &&
        objects.some((o) => o.kind === 'SecretStore' && getString(o, 'metadata', 'name') === store.name);
      if (generated || composedStore) continue;
      const offer = store ? offeredStore(input, store) : undefined;
      expect(
        offer,
        `${what} reads a store the platform does not offer: ${JSON.stringify(store)}`,
      ).toBeDefined();
      const keys = ((getObject(object, 'spec')?.data as JsonObject[] | undefined) ?? []).map((d) =>
        getString(d, 'remoteRef', 'key'),
      );
      if (offer && !offer.remoteKeys) {
        const template = getString(input, 'credentials', 'remoteKeyTemplate') ?? '';
        const instance = getString(xr, 'metadata', 'name') ?? '';
        const expected = template.replaceAll('{namespace}', namespace ?? '').replaceAll('{name}', instance);
        for (const key of keys) expect(key, `${what}: a key the claim chose`).toBe(expected);
      }
    }
    if (kind === 'Cluster') {
      const parameters = getObject(object, 'spec', 'postgresql', 'parameters') ?? {};
      const asked = Object.keys(getObject(spec, 'parameters') ?? {});
      const allowed = getObject(input, 'claims')?.parameters as string[] | undefined;
      for (const name of asked) {
        if (allowed) expect(allowed, `parameter ${name} not offered`).toContain(name);
        expect([
          'search_path',
          'shared_preload_libraries',
          'session_preload_libraries',
          'ssl_ciphers',
        ]).not.toContain(name);
      }
      for (const value of Object.values(parameters)) expect(CONTROL.test(String(value))).toBe(false);
      // PostgreSQL would silently truncate a longer role name, so two roles could become one.
      for (const role of (getObject(object, 'spec', 'managed')?.roles as JsonObject[] | undefined) ?? []) {
        expect(
          Buffer.byteLength(String(role.name)),
          `${what}: role ${String(role.name)}`,
        ).toBeLessThanOrEqual(63);
      }
    }
    if (kind === 'DatabaseRole') {
      expect(
        Buffer.byteLength(getString(object, 'spec', 'name') ?? ''),
        `${what}: role name`,
      ).toBeLessThanOrEqual(63);
    }
    if (kind === 'Database') {
      for (const schema of (getObject(object, 'spec')?.schemas as JsonObject[] | undefined) ?? []) {
        expect(
          RESERVED_SCHEMA(String(schema.name)),
          `${what} owns system schema ${String(schema.name)}`,
        ).toBe(false);
      }
    }
    if (kind === 'Grant') {
      const forProvider = getObject(object, 'spec', 'forProvider') ?? {};
      for (const section of ['schemas', 'tables', 'sequences', 'functions', 'columns']) {
        for (const entry of (forProvider[section] as JsonObject[] | undefined) ?? []) {
          const schema = String(entry.schema ?? entry.name);
          expect(RESERVED_SCHEMA(schema), `${what} grants in system schema ${schema}`).toBe(false);
        }
      }
    }
  }
}

/** Checks one response; true when it composed a set (and not a refusal). */
function checkResponse(xr: JsonObject, input: JsonObject): boolean {
  const response = runFunction(buildRequest({ xr, input }));
  const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
  const objects = composedObjects(response);
  if (fatal.length > 0) {
    expect(fatal).toHaveLength(1);
    // A refusal names the object and at least one field, and composes nothing.
    expect(fatal[0]!.message).toMatch(/ is invalid: (spec|metadata|input)/);
    expect(fatal[0]!.reason).toBe('InvalidSpec');
    expect(objects).toEqual([]);
    return false;
  }
  // Nothing composed is right only while the function waits for what it asked Crossplane for (a
  // restore's source, a Secret the team may have written): e.g. a restore without least privilege
  // has neither a Cluster nor Grants to compose before those answers.
  if (objects.length === 0) {
    expect(
      Object.keys(response.requirements?.resources ?? {}).length,
      'composes nothing, asks nothing',
    ).toBeGreaterThan(0);
    return false;
  }
  checkComposedSet(xr, input, objects);
  return true;
}

describe('hostile claims', () => {
  it('are refused by field, or compose a set that holds every tenancy invariant', () => {
    let composedSets = 0;
    fc.assert(
      fc.property(hostileSpec, hostileMetadata, fc.constantFrom(...platforms), (spec, metadata, input) => {
        const xr = { apiVersion: 'database.pgplane.io/v1alpha1', kind: 'PostgresInstance', metadata, spec };
        // Through JSON, as a claim arrives: prototype keys become own properties.
        if (checkResponse(JSON.parse(JSON.stringify(xr)) as JsonObject, input)) composedSets += 1;
      }),
      { numRuns: 3000 },
    );
    // The generator must reach the composing path often, or the invariants would check nothing.
    expect(composedSets).toBeGreaterThan(100);
  });
});

// --- PostgresDatabase: the same hostility against one service's database on a shared backend ----

const databaseInput = inputFrom(readSingleObject('apis/namespaced/composition-database.yaml'));
const databaseSpecSchema = toOpenApiSchema(postgresDatabaseSpecSchema);
/** What Crossplane answers: the shared instance, the registered server (open to every namespace) and an older tenant. */
const backends: JsonObject[] = [
  ...readObjects('examples/database-on-instance/required').filter((o) => o.kind === 'PostgresInstance'),
  ...readObjects('examples/database-on-server/required')
    .filter((o) => o.kind === 'ClusterProviderConfig')
    .map((o) => ({
      ...o,
      metadata: { ...(o.metadata as JsonObject), annotations: { 'pgplane.io/allowed-namespaces': '*' } },
    })),
];
const olderTenants = (namespace: string): JsonObject[] =>
  [{ instanceRef: { name: 'shared' } }, { server: { name: 'rds-main' } }].map((ref, i) => ({
    apiVersion: 'database.pgplane.io/v1alpha1',
    kind: 'PostgresDatabase',
    metadata: { name: `older-${i}`, namespace, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { ...ref, databaseName: 'billing', databaseOwner: 'billing_owner' },
  }));
/** The names a composed set may never take: the instance's own and the older tenant's. */
const TAKEN_ROLES = [
  'platform_owner',
  'platform_rw',
  'platform_ro',
  'billing_owner',
  'billing_rw',
  'billing_ro',
];
const REFUSAL_REASONS = ['InvalidSpec', 'NameConflict', 'BackendRefused', 'CredentialsConflict'];

const hostileDatabaseSpec = fc
  .tuple(
    arbitraryFor(databaseSpecSchema) as fc.Arbitrary<JsonObject>,
    fc.constantFrom<JsonObject>({ instanceRef: { name: 'shared' } }, { server: { name: 'rds-main' } }),
    fc.boolean(),
  )
  .map(([spec, backend, keepHostileBackend]) => ({
    ...(keepHostileBackend ? {} : backend),
    ...spec,
    ...(keepHostileBackend ? {} : backend),
  }));

describe('hostile PostgresDatabase claims', () => {
  it("are refused with one FATAL result, or compose a set inside the namespace that takes no one else's names", () => {
    let composedSets = 0;
    fc.assert(
      fc.property(hostileDatabaseSpec, fc.constantFrom('databases', NAMESPACE), (spec, namespace) => {
        const xr = JSON.parse(
          JSON.stringify({
            apiVersion: 'database.pgplane.io/v1alpha1',
            kind: 'PostgresDatabase',
            metadata: { name: 'svc', namespace, creationTimestamp: '2026-12-01T00:00:00Z' },
            spec,
          }),
        ) as JsonObject;
        const backendsHere = backends.map((b) =>
          b.kind === 'PostgresInstance'
            ? { ...b, metadata: { ...(b.metadata as JsonObject), namespace } }
            : b,
        );
        const { response, objects: all } = render({
          xr,
          input: databaseInput,
          required: [...backendsHere, ...olderTenants(namespace)],
        });
        const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
        const objects = all.slice(1);
        if (fatal.length > 0) {
          expect(fatal).toHaveLength(1);
          expect(REFUSAL_REASONS).toContain(fatal[0]!.reason);
          expect(fatal[0]!.message).toMatch(/PostgresDatabase .*svc/);
          expect(objects).toEqual([]);
          return;
        }
        if (objects.length === 0) return;
        composedSets += 1;
        checkComposedSet(xr, databaseInput, objects);
        for (const object of objects) {
          const what = `${String(object.kind)} ${getString(object, 'metadata', 'name') ?? ''}`;
          const role =
            object.kind === 'Role'
              ? getString(object, 'spec', 'forProvider', 'name')
              : object.kind === 'DatabaseRole'
                ? getString(object, 'spec', 'name')
                : undefined;
          if (role !== undefined) {
            expect(TAKEN_ROLES, `${what} takes role ${role}`).not.toContain(role);
            expect(role.toLowerCase().startsWith('pg_'), `${what}: reserved ${role}`).toBe(false);
          }
          const database =
            object.kind === 'Database'
              ? (getString(object, 'spec', 'forProvider', 'name') ?? getString(object, 'spec', 'name'))
              : undefined;
          if (database !== undefined)
            expect(['billing', 'platform', 'postgres', 'template0', 'template1']).not.toContain(database);
          // The provider's objects connect only through the registered server or this database's own ProviderConfig.
          const ref = getObject(object, 'spec', 'providerConfigRef');
          if (ref && object.kind !== 'Grant')
            expect(ref, `${what} connects elsewhere`).toEqual({
              kind: 'ClusterProviderConfig',
              name: 'rds-main',
            });
          if (ref && object.kind === 'Grant')
            expect(ref, `${what} connects elsewhere`).toEqual({ kind: 'ProviderConfig', name: 'svc' });
        }
      }),
      { numRuns: 800 },
    );
    expect(composedSets).toBeGreaterThan(20);
  });
});
