// The server's response encoder must write exactly the bytes the SDK's generated encoder writes:
// compared on every example's responses (first call, and each call of the requirements loop) and
// on generated JSON with the awkward values (unicode, -0, NaN, huge numbers, undefined, deep nesting).
import {
  Ready,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
  Status,
  Target,
} from '@crossplane-org/function-sdk-typescript';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFunction } from '../../src/function/handler.js';
import { encodeRunFunctionResponse } from '../../src/function/server/encode.js';
import { internalErrorResponse } from '../../src/function/server/call.js';
import { buildRequest, render } from '../../src/render/render.js';
import { exampleCases } from '../support/examples.js';

function sdkBytes(rsp: RunFunctionResponse): Buffer {
  return Buffer.from(RunFunctionResponse.encode(rsp).finish());
}

function expectSameBytes(rsp: RunFunctionResponse): void {
  const ours = encodeRunFunctionResponse(rsp);
  const theirs = sdkBytes(rsp);
  expect(ours.length).toBe(theirs.length);
  expect(ours.equals(theirs)).toBe(true);
}

describe('encodeRunFunctionResponse writes the SDK encoder bytes', () => {
  const cases = exampleCases();

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, example) => {
    expectSameBytes(runFunction(buildRequest(example.request)));
    // The final round of the requirements loop (answers required resources, as Crossplane does).
    expectSameBytes(render(example.request).response);
  });

  it('for the FATAL answer to a handler failure, with and without the request', () => {
    const req = RunFunctionRequest.fromPartial({ meta: { tag: 'x' } });
    expectSameBytes(internalErrorResponse(req, new Error('boom')));
    expectSameBytes(internalErrorResponse(undefined, 'boom'));
  });

  it('for every field of the response', () => {
    expectSameBytes({
      meta: { tag: 'tag', ttl: { seconds: 3_000_000_000, nanos: 5 } },
      desired: {
        composite: {
          resource: { status: { a: 1 } },
          connectionDetails: {
            password: Buffer.from('s3cr3t'),
            empty: Buffer.alloc(0),
            '': Buffer.from('x'),
          },
          ready: Ready.READY_UNSPECIFIED,
        },
        resources: {
          one: { resource: { kind: 'A' }, connectionDetails: {}, ready: Ready.READY_TRUE },
          '': { resource: undefined, connectionDetails: {}, ready: Ready.READY_FALSE },
        },
      },
      results: [
        { severity: Severity.SEVERITY_WARNING, message: 'w', reason: 'R', target: Target.TARGET_COMPOSITE },
        { severity: Severity.SEVERITY_UNSPECIFIED, message: '' },
      ],
      context: { 'apiextensions.crossplane.io/environment': { x: [1, 'y', null] } },
      requirements: {
        extraResources: {
          a: { apiVersion: 'v1', kind: 'Secret', matchName: 'n', namespace: 'ns' },
          b: { apiVersion: 'v1', kind: 'Secret', matchLabels: { labels: { k: 'v', e: '' } } },
        },
        resources: { c: { apiVersion: '', kind: '', matchName: '' } },
        schemas: { d: { apiVersion: 'v1', kind: 'Pod' } },
      },
      conditions: [
        {
          type: 'T',
          status: Status.STATUS_CONDITION_TRUE,
          reason: 'R',
          message: 'm',
          target: Target.TARGET_COMPOSITE_AND_CLAIM,
        },
        { type: '', status: Status.STATUS_CONDITION_UNSPECIFIED, reason: '' },
      ],
      output: { out: true },
    });
  });

  it('for awkward JSON values', () => {
    expectSameBytes({
      meta: undefined,
      desired: {
        composite: undefined,
        resources: {
          r: {
            resource: {
              unicode: 'ünïcødé ✓ 𝄞 \u0000',
              lone: '\ud800',
              numbers: [
                0,
                -0,
                -1,
                1.5,
                2 ** 53,
                -(2 ** 60),
                Number.MAX_VALUE,
                Number.MIN_VALUE,
                NaN,
                Infinity,
              ],
              undefinedInList: [undefined, null, undefined],
              skipped: undefined,
              '': 'empty key',
              ...(JSON.parse('{"__proto__": {"dropped": "as the SDK drops it"}}') as Record<string, unknown>),
              deep: { a: { b: { c: { d: { e: [[[{}]]] } } } } },
              long: 'x'.repeat(70_000),
            },
            connectionDetails: {},
            ready: Ready.READY_TRUE,
          },
        },
      },
      results: [],
      context: undefined,
      requirements: undefined,
      conditions: [],
    });
  });

  it('for generated resources (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()),
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
        fc.string({ unit: 'binary' }),
        (resource, context, tag) => {
          expectSameBytes({
            meta: { tag, ttl: { seconds: 60, nanos: 0 } },
            desired: {
              composite: undefined,
              resources: { r: { resource, connectionDetails: {}, ready: 1 } },
            },
            results: [],
            context,
            requirements: undefined,
            conditions: [],
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects what the SDK rejects', () => {
    const rsp = (value: unknown): RunFunctionResponse => ({
      meta: undefined,
      desired: {
        composite: undefined,
        resources: { r: { resource: { value }, connectionDetails: {}, ready: 0 } },
      },
      results: [],
      context: undefined,
      requirements: undefined,
      conditions: [],
    });
    expect(() => sdkBytes(rsp(1n))).toThrow(/Unsupported/);
    expect(() => encodeRunFunctionResponse(rsp(1n))).toThrow(/Unsupported/);
    expect(() => encodeRunFunctionResponse(rsp(() => 1))).toThrow(/Unsupported/);
  });
});
