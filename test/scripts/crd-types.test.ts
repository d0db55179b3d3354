// How scripts/crd-types.ts translates a CRD's schema into TypeScript: what the API server accepts,
// closed where it prunes, and a stop on anything it does not know how to translate.
import { describe, expect, it } from 'vitest';
import { kindModule, type KindSpec } from '../../scripts/crd-types.js';

const ORIGIN = { repository: 'example/widgets', tag: 'v1.2.3', path: 'config/crd/widgets.yaml' };
const KIND: KindSpec = { module: 'widget', crd: 'widgets.example.io.yaml', typeName: 'Widget' };

function crd(spec: Record<string, unknown>, versions: string[] = ['v1']) {
  return {
    spec: {
      group: 'example.io',
      names: { kind: 'Widget' },
      versions: versions.map((name, index) => ({
        name,
        served: true,
        storage: index === 0,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: { type: 'object', properties: spec, required: ['size'] },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      })),
    },
  };
}

const SPEC = {
  size: { type: 'integer', minimum: 1, description: 'How many.' },
  quantity: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
  mode: { type: 'string', enum: ['fast', 'safe'] },
  labels: { type: 'object', additionalProperties: { type: 'string' } },
  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  raw: { 'x-kubernetes-preserve-unknown-fields': true },
  note: { type: 'string', nullable: true },
  pruned: { type: 'object' },
  ports: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' } } } },
};

describe('CRD type translation', () => {
  it('types what the API server accepts', async () => {
    const text = await kindModule(KIND, crd(SPEC), ORIGIN);
    expect(text).toContain("apiVersion: 'example.io/v1';");
    expect(text).toContain("kind: 'Widget';");
    expect(text).toContain('metadata: ObjectMeta;');
    expect(text).toMatch(/How many\.\n\s+\*\/\n\s+size: number;/);
    expect(text).toContain('quantity?: number | string;');
    expect(text).toContain("mode?: 'fast' | 'safe';");
    expect(text).toMatch(/labels\?: \{\n\s+\[k: string\]: string;\n\s+\};/);
    expect(text).toMatch(/extra\?: \{\n\s+\[k: string\]: unknown;\n\s+\};/);
    expect(text).toContain('raw?: unknown;');
    expect(text).toContain('note?: string | null;');
    expect(text).toContain('pruned?: Record<string, never>;');
    expect(text).toMatch(/ports\?: \{\n\s+port\?: number;\n\s+\}\[\];/);
    expect(text).not.toMatch(/status\?:|phase/);
    expect(text).toContain('// From widgets.example.io.yaml, the CRD of example/widgets v1.2.3');
  });

  it('names the sub-schemas it is asked to, and refuses a name that matches nothing', async () => {
    const named = await kindModule(
      { ...KIND, names: { spec: 'WidgetSpec', 'spec.ports[]': 'Port' } },
      crd(SPEC),
      ORIGIN,
    );
    expect(named).toContain('export interface WidgetSpec {');
    expect(named).toContain('export interface Port {');
    await expect(
      kindModule({ ...KIND, names: { 'spec.port[]': 'Port' } }, crd(SPEC), ORIGIN),
    ).rejects.toThrow('widgets.example.io.yaml: no schema at spec.port[]');
  });

  it('stops at a keyword or combinator it cannot translate, naming where', async () => {
    const withRef = { ...SPEC, size: { $ref: '#/definitions/size' } };
    await expect(kindModule(KIND, crd(withRef), ORIGIN)).rejects.toThrow(
      'widgets.example.io.yaml: spec.size: unsupported keyword "$ref"',
    );
    const typedOneOf = {
      ...SPEC,
      mode: { type: 'string', oneOf: [{ type: 'string' }, { type: 'integer' }] },
    };
    await expect(kindModule(KIND, crd(typedOneOf), ORIGIN)).rejects.toThrow(
      'spec.mode: oneOf with more than',
    );
    // A validation-only combinator (one of two fields required) is fine.
    const exclusive = {
      ...SPEC,
      labels: { ...SPEC.labels, oneOf: [{ required: ['a'] }, { required: ['b'] }] },
    };
    await expect(kindModule(KIND, crd(exclusive), ORIGIN)).resolves.toContain('labels?:');
  });

  it('one type for several versions only when their schemas are identical', async () => {
    const both = await kindModule({ ...KIND, versions: ['v1', 'v2'] }, crd(SPEC, ['v1', 'v2']), ORIGIN);
    expect(both).toContain("apiVersion: 'example.io/v1' | 'example.io/v2';");
    const differing = crd(SPEC, ['v1', 'v2']);
    differing.spec.versions[1]!.schema.openAPIV3Schema.properties.spec.required = [];
    await expect(kindModule({ ...KIND, versions: ['v1', 'v2'] }, differing, ORIGIN)).rejects.toThrow(
      'versions v1 and v2 differ',
    );
    await expect(kindModule({ ...KIND, versions: ['v3'] }, crd(SPEC), ORIGIN)).rejects.toThrow(
      'version v3 is not served',
    );
  });
});
