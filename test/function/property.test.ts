// Thousands of random and near-valid specs: every one ends in a response (a rendered set or one
// FATAL result naming a field), never an exception.
import { Severity } from '@crossplane-org/function-sdk-typescript';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { buildRequest } from '../../src/render/render.js';
import type { JsonObject } from '../../src/shared/json.js';

const validSpec = {
  size: 'medium',
  version: '16',
  storageGB: 20,
  databaseName: 'app',
  databaseOwner: 'app_owner',
  connectionSecretName: 'app-db',
  credentialsSecretName: 'app-owner',
};

const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.constantFrom(
    '',
    ' ',
    '1abc',
    'a'.repeat(64),
    'Robert"); DROP TABLE x;--',
    'postgres',
    'pg_monitor',
    '17',
    'huge',
    -1,
    0,
    1e9,
  ),
);

const fieldNames = fc.constantFrom(
  ...Object.keys(validSpec),
  'instances',
  'walStorageGB',
  'storageClass',
  'hibernate',
  'credentials',
  'unknownField',
);

/** A valid spec with a few fields replaced by random values or removed. */
const nearValidSpec = fc
  .array(fc.tuple(fieldNames, fc.option(anyValue, { nil: undefined })), { maxLength: 4 })
  .map((changes) => {
    const replaced = new Map(changes);
    return Object.fromEntries(
      [...new Set([...Object.keys(validSpec), ...replaced.keys()])]
        .map((field): [string, unknown] => [
          field,
          replaced.has(field) ? replaced.get(field) : validSpec[field as keyof typeof validSpec],
        ])
        .filter(([, value]) => value !== undefined),
    );
  });

const xrOf = (spec: unknown, metadata: unknown = { name: 'fuzz', namespace: 'ns' }) => ({
  apiVersion: 'example.org/v1',
  kind: 'Anything',
  metadata,
  spec,
});

function checkResponse(xr: unknown, input?: unknown): void {
  const response = runFunction(
    buildRequest({ xr: xr as JsonObject, ...(input !== undefined ? { input: input as JsonObject } : {}) }),
  );
  const fatal = response.results.filter((r) => r.severity === Severity.SEVERITY_FATAL);
  if (fatal.length > 0) {
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.message).toMatch(/is invalid: (spec|metadata|input)[.\w[\]() ]*/);
    expect(Object.keys(response.desired?.resources ?? {})).toEqual([]);
  } else {
    expect(Object.keys(response.desired?.resources ?? {})).toContain('cluster');
  }
}

describe('the function never throws', () => {
  it('on near-valid specs', () => {
    fc.assert(
      fc.property(nearValidSpec, (spec) => checkResponse(xrOf(spec))),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary JSON as spec, metadata or Input', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.jsonValue(),
        fc.option(fc.jsonValue(), { nil: undefined }),
        (spec, metadata, input) => checkResponse(xrOf(spec, metadata), input),
      ),
      { numRuns: 2000 },
    );
  });

  it('names the field for each kind of mistake', () => {
    const cases: [JsonObject, string][] = [
      [{ ...validSpec, version: 16 }, 'spec.version must be a string, got the number 16: quote it'],
      [{ ...validSpec, version: '13' }, 'spec.version is "13"; allowed: "14", "15", "16", "17", "18"'],
      [
        { ...validSpec, size: 'huge' },
        'spec.size is "huge", which this platform does not offer; available sizes: small, medium, large',
      ],
      [{ ...validSpec, databaseOwner: 'postgres' }, 'spec.databaseOwner "postgres" is a reserved role name'],
      [{ ...validSpec, databaseOwner: 'pg_app' }, 'spec.databaseOwner "pg_app" starts with "pg_"'],
      [{ ...validSpec, databaseName: 'a'.repeat(64) }, 'spec.databaseName'],
      [{ ...validSpec, storageGB: 0.5 }, 'spec.storageGB must be an integer'],
      [
        { ...validSpec, databaseName: undefined },
        'spec.databaseName is required. Example: databaseName: agent_executor_db_prod',
      ],
    ];
    for (const [spec, expected] of cases) {
      const response = runFunction(
        buildRequest({ xr: xrOf(JSON.parse(JSON.stringify(spec)) as JsonObject) }),
      );
      expect(response.results[0]?.message).toContain(expected);
      expect(response.results[0]?.message).toContain('Anything ns/fuzz is invalid');
    }
  });
});
