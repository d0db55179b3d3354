// pgplane's hand-written RunFunctionResponse encoder (src/function/server/encode.ts) must write
// every field the SDK's message has: a field the SDK adds and the encoder does not know would be
// dropped silently on every call. So the field list is not written here: it is read from the SDK's
// own type declarations with the TypeScript compiler, a response with every field set (to
// non-default values, nested messages, maps and lists included) is built from it, and the two
// encoders must produce the same bytes.
import * as sdk from '@crossplane-org/function-sdk-typescript';
import { RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { encodeRunFunctionResponse } from '../../src/function/server/encode.js';

// The package exports only its ESM entry point, so its declarations are found from the repository
// root, where the tests run.
const declarations = 'node_modules/@crossplane-org/function-sdk-typescript/dist/proto/run_function.d.ts';

const program = ts.createProgram([declarations], { strict: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(declarations)!;

function declaredInterface(name: string): ts.Type {
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement) && statement.name.text === name) {
      return checker.getTypeAtLocation(statement.name);
    }
  }
  throw new Error(`${declarations} declares no interface ${name}`);
}

/** Every field path the populated value sets, for the report. */
const paths: string[] = [];

/** A google.protobuf.Struct with one of each JSON kind. */
const struct = { text: 'value', number: 2.5, flag: true, nothing: null, list: [1, 'two', { three: 3 }] };

/** A value of `type` with every field set and nothing at its default. */
function populated(type: ts.Type, path: string, depth = 0): unknown {
  if (depth > 8) throw new Error(`${path}: nesting deeper than any RunFunctionResponse field`);
  if (type.isUnion()) {
    const defined = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    if (defined.every((t) => t.flags & ts.TypeFlags.EnumLiteral)) return enumValue(defined[0]!, path);
    if (defined.length !== 1)
      throw new Error(`${path}: a union the test does not know: ${checker.typeToString(type)}`);
    return populated(defined[0]!, path, depth);
  }
  if (type.flags & ts.TypeFlags.EnumLiteral || type.flags & ts.TypeFlags.Enum) return enumValue(type, path);
  if (type.flags & ts.TypeFlags.String) return paths.push(path) && `v:${path}`;
  if (type.flags & ts.TypeFlags.Number) return paths.push(path) && 7;
  if (type.flags & ts.TypeFlags.Boolean) return paths.push(path) && true;
  if (type.flags & ts.TypeFlags.Any) return paths.push(path) && struct;
  if (type.getSymbol()?.getName() === 'Buffer') return paths.push(path) && Buffer.from(`bytes:${path}`);
  if (checker.isArrayType(type)) {
    const [item] = checker.getTypeArguments(type as ts.TypeReference);
    return [populated(item!, `${path}[]`, depth + 1)];
  }
  const index = type.getStringIndexType();
  if (index) {
    if (index.flags & ts.TypeFlags.Any) return paths.push(path) && struct;
    return { key: populated(index, `${path}{}`, depth + 1) };
  }
  const out: Record<string, unknown> = {};
  for (const property of type.getProperties()) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    if (!declaration) continue;
    out[property.getName()] = populated(
      checker.getTypeOfSymbolAtLocation(property, declaration),
      path ? `${path}.${property.getName()}` : property.getName(),
      depth + 1,
    );
  }
  return out;
}

/** The first member of the field's enum that is neither the zero default nor UNRECOGNIZED. */
function enumValue(type: ts.Type, path: string): number {
  const name = checker.typeToString(type).split('.')[0]!;
  const values = (sdk as unknown as Record<string, Record<string, unknown>>)[name];
  if (!values) throw new Error(`${path}: the SDK exports no enum ${name}`);
  const chosen = Object.values(values).find((v): v is number => typeof v === 'number' && v > 0);
  if (chosen === undefined) throw new Error(`${path}: enum ${name} has no non-zero member`);
  paths.push(path);
  return chosen;
}

/** Field paths where the decoded bytes differ from what was encoded. */
function differences(want: unknown, got: unknown, path = ''): string[] {
  if (typeof want !== 'object' || want === null || typeof got !== 'object' || got === null) {
    return JSON.stringify(want) === JSON.stringify(got) ? [] : [path || '(root)'];
  }
  if (Buffer.isBuffer(want) || want instanceof Uint8Array) {
    return Buffer.from(want).equals(Buffer.from(got as Uint8Array)) ? [] : [path];
  }
  const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
  return [...keys].flatMap((key) =>
    differences(
      (want as Record<string, unknown>)[key],
      (got as Record<string, unknown>)[key],
      `${path}.${key}`,
    ),
  );
}

describe("the response encoder covers every field of the SDK's RunFunctionResponse", () => {
  const response = RunFunctionResponse.fromPartial(
    populated(declaredInterface('RunFunctionResponse'), '') as Parameters<
      typeof RunFunctionResponse.fromPartial
    >[0],
  );

  it('reads a field list from the SDK that reaches every nested message', () => {
    // A sanity floor, not the list: the list is whatever the SDK declares.
    for (const field of [
      'meta.ttl.seconds',
      'desired.resources{}.connectionDetails{}',
      'requirements.schemas{}.kind',
      'conditions[].target',
      'output',
    ]) {
      expect(paths).toContain(field);
    }
  });

  it('writes the same bytes as the SDK for a response with every field set', () => {
    const ours = encodeRunFunctionResponse(response);
    const theirs = Buffer.from(RunFunctionResponse.encode(response).finish());
    if (!ours.equals(theirs)) {
      const dropped = differences(RunFunctionResponse.decode(theirs), RunFunctionResponse.decode(ours));
      expect(dropped, 'fields the encoder writes differently from the SDK, or not at all').toEqual([]);
    }
    expect(ours.equals(theirs)).toBe(true);
  });
});
