// Every manifest rendered from every example validates against the upstream CRD schemas in
// ../shared/crds (served versions only, unknown fields are failures), and core kinds against the
// Kubernetes schema. The shipped APIs validate against Crossplane's own CRDs.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { generatedApiFiles } from '../../src/api/definitions.js';
import { providerCrdFiles } from '../../src/api/provider-config.js';
import { render } from '../../src/render/render.js';
import { isObject, type JsonObject } from '../../src/shared/json.js';
import { isCoreKind, validateCoreKind } from '../support/core-kinds.js';
import { exampleCases } from '../support/examples.js';
import { SchemaRegistry, upstreamRegistry } from '../support/upstream-crds.js';

const upstream = upstreamRegistry();
// pgplane's own provider kinds (Grant, ProviderConfig) validate against the CRDs generated for them.
for (const crd of Object.values(providerCrdFiles())) upstream.addCrd(crd);
const cases = exampleCases();

function validate(registry: SchemaRegistry, manifest: JsonObject): string[] {
  return isCoreKind(manifest) ? validateCoreKind(manifest) : registry.validate(manifest);
}

function yamlObjects(path: string): JsonObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter(isObject);
}

describe('rendered manifests conform to the upstream CRDs', () => {
  const rendered = cases
    .map((example) => ({ example, result: render(example.request) }))
    .filter(({ result }) => !result.fatal);

  it('covers every kind pgplane composes', () => {
    const kinds = new Set(
      rendered.flatMap(({ result }) =>
        result.objects.slice(1).map((o) => `${String(o.apiVersion)}/${String(o.kind)}`),
      ),
    );
    expect([...kinds].sort()).toEqual([
      'apiextensions.crossplane.io/v1alpha1/Usage',
      'barmancloud.cnpg.io/v1/ObjectStore',
      'external-secrets.io/v1/ExternalSecret',
      'external-secrets.io/v1/SecretStore',
      'generators.external-secrets.io/v1alpha1/Password',
      'grants.pgplane.io/v1alpha1/Database',
      'grants.pgplane.io/v1alpha1/Grant',
      'grants.pgplane.io/v1alpha1/ProviderConfig',
      'grants.pgplane.io/v1alpha1/Role',
      'monitoring.coreos.com/v1/PodMonitor',
      'monitoring.coreos.com/v1/PrometheusRule',
      'networking.k8s.io/v1/NetworkPolicy',
      'postgresql.cnpg.io/v1/Cluster',
      'postgresql.cnpg.io/v1/Database',
      'postgresql.cnpg.io/v1/DatabaseRole',
      'postgresql.cnpg.io/v1/Pooler',
      'postgresql.cnpg.io/v1/ScheduledBackup',
      'protection.crossplane.io/v1beta1/Usage',
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
      'v1/Secret',
      'v1/ServiceAccount',
    ]);
  });

  it.each(rendered.map(({ example, result }) => [example.id, result.objects.slice(1)] as const))(
    '%s',
    (_id, manifests) => {
      for (const manifest of manifests) {
        expect({ kind: manifest.kind, problems: validate(upstream, manifest) }).toEqual({
          kind: manifest.kind,
          problems: [],
        });
      }
    },
  );

  it('rejects a manifest with an unknown field (the check can fail)', () => {
    const cluster = rendered[0]!.result.objects[1]!;
    const broken = { ...cluster, spec: { ...(cluster.spec as JsonObject), instanceCount: 3 } };
    expect(upstream.validate(broken).join('\n')).toContain('instanceCount');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, date: {} };
    expect(validateCoreKind(secret).join('\n')).toContain('date');
  });
});

describe('the shipped APIs', () => {
  it('XRDs, Compositions and the Function validate against the Crossplane CRDs', () => {
    const files = [
      'apis/namespaced/definition.yaml',
      'apis/legacy/definition.yaml',
      'apis/namespaced/composition.yaml',
      'apis/legacy/composition.yaml',
      'apis/namespaced/database-definition.yaml',
      'apis/namespaced/composition-database.yaml',
      'apis/legacy/database-definition.yaml',
      'apis/legacy/composition-database.yaml',
      'examples/functions.yaml',
    ];
    for (const file of files) {
      for (const manifest of yamlObjects(file)) {
        expect({ file, problems: upstream.validate(manifest) }).toEqual({ file, problems: [] });
      }
    }
  });

  it('every example XR and claim validates against the generated XRD schema', () => {
    const ours = new SchemaRegistry();
    const files = generatedApiFiles();
    ours.addCrd(files['apis/namespaced/definition.yaml']!);
    ours.addCrd(files['apis/namespaced/database-definition.yaml']!);
    ours.addCrd(files['apis/legacy/database-definition.yaml']!);
    const legacy = files['apis/legacy/definition.yaml']!;
    ours.addCrd(legacy);
    // The claim kind shares the XR's schema.
    ours.addCrd({
      ...legacy,
      spec: { ...(legacy.spec as JsonObject), names: { kind: 'PostgresInstanceClaim' } },
    });
    for (const example of cases.filter((c) => !c.scenario.startsWith('invalid'))) {
      const xr = example.request.xr;
      const spec = { ...(xr.spec as JsonObject) };
      // Crossplane adds these fields to the CRD it generates from the XRD.
      delete spec.claimRef;
      delete spec.crossplane;
      expect({ file: example.xrFile, problems: ours.validate({ ...xr, spec }) }).toEqual({
        file: example.xrFile,
        problems: [],
      });
    }
  });
});
