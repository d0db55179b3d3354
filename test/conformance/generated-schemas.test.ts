// The schemas pgplane generates from zod are accepted by a real kube-apiserver (structural, as
// the API server insists), and enforce what they promise: every example XR is created with strict
// field validation, the invalid ones are refused, and the Grants the function composes are valid
// objects of the provider's Grant CRD.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { generatedApiFiles } from '../../src/api/definitions.js';
import { render } from '../../src/render/render.js';
import { getPath, getString, isObject, type JsonObject } from '../../src/shared/json.js';
import { exampleCases, PLATFORM_REFUSED_SCENARIOS } from '../support/examples.js';
import {
  applyCrds,
  installKubeTools,
  startKubeApiServer,
  type KubeApiServer,
} from '../support/kube-apiserver.js';

const files = generatedApiFiles();
const cases = exampleCases();

/**
 * The CRD Crossplane derives from an XRD: the XRD's schema, plus the spec fields Crossplane owns
 * (spec.crossplane for v2 XRs, spec.claimRef and friends for legacy ones).
 */
function crdFromXrd(xrd: JsonObject, scope: 'Namespaced' | 'Cluster'): V1CustomResourceDefinition {
  const group = getString(xrd, 'spec', 'group')!;
  const names = getPath(xrd, 'spec', 'names') as { kind: string; plural: string };
  const version = (getPath(xrd, 'spec', 'versions') as JsonObject[])[0]!;
  const schema = structuredClone(getPath(version, 'schema', 'openAPIV3Schema')) as JsonObject;
  const spec = getPath(schema, 'properties', 'spec') as JsonObject;
  const crossplaneOwned = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  spec.properties = {
    ...(spec.properties as JsonObject),
    crossplane: crossplaneOwned,
    claimRef: crossplaneOwned,
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${group}` },
    spec: {
      group,
      scope,
      names: {
        kind: names.kind,
        plural: names.plural,
        singular: names.kind.toLowerCase(),
        listKind: `${names.kind}List`,
      },
      versions: [
        {
          name: getString(version, 'name')!,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: { status: {} },
        },
      ],
    },
  } as V1CustomResourceDefinition;
}

describe('generated schemas on a real kube-apiserver', () => {
  let cluster: KubeApiServer | undefined;
  let kc: KubeConfig;
  let objects: CustomObjectsApi;

  beforeAll(async () => {
    const binDir = await installKubeTools();
    cluster = await startKubeApiServer({ binDir });
    kc = cluster.kubeConfig();
    objects = kc.makeApiClient(CustomObjectsApi);
  }, 45 * 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('accepts every generated CRD as structural and establishes it', async () => {
    const crds = Object.entries(files)
      .filter(([, object]) => object.kind === 'CustomResourceDefinition')
      .map(([, object]) => object as unknown as V1CustomResourceDefinition);
    expect(crds.map((c) => c.metadata?.name).sort()).toEqual([
      'clusterproviderconfigs.grants.pgplane.io',
      'databases.grants.pgplane.io',
      'grants.grants.pgplane.io',
      'inputs.pgplane.fn.crossplane.io',
      'providerconfigs.grants.pgplane.io',
      'roles.grants.pgplane.io',
    ]);
    const established = await applyCrds(kc, crds);
    expect(established).toHaveLength(crds.length);
  });

  it('accepts the CRDs Crossplane derives from every XRD, both kinds in both forms', async () => {
    const derived = [
      crdFromXrd(files['apis/namespaced/definition.yaml']!, 'Namespaced'),
      crdFromXrd(files['apis/legacy/definition.yaml']!, 'Cluster'),
      crdFromXrd(files['apis/namespaced/database-definition.yaml']!, 'Namespaced'),
      crdFromXrd(files['apis/legacy/database-definition.yaml']!, 'Cluster'),
    ];
    expect(await applyCrds(kc, derived)).toHaveLength(4);
  });

  it('creates every valid example XR with strict field validation and refuses the invalid ones', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = new Set(
      cases.map((c) => getString(c.request.xr, 'metadata', 'namespace')).filter((n): n is string => !!n),
    );
    for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });

    for (const example of cases.filter((c) => c.xrFile.endsWith('/xr.yaml') && !c.state)) {
      const xr = example.request.xr;
      const instance = getString(xr, 'kind') === 'PostgresInstance';
      const request = {
        group: 'database.pgplane.io',
        version: 'v1alpha1',
        plural: instance ? 'postgresinstances' : 'postgresdatabases',
        namespace: getString(xr, 'metadata', 'namespace')!,
        body: xr,
        fieldValidation: 'Strict',
      };
      if (example.scenario.startsWith('invalid') && !PLATFORM_REFUSED_SCENARIOS.has(example.scenario)) {
        await expect(objects.createNamespacedCustomObject(request), example.id).rejects.toMatchObject({
          code: 422,
        });
      } else {
        const created = (await objects.createNamespacedCustomObject(request)) as JsonObject;
        // Defaults from the zod schema are applied by the API server itself.
        if (instance) {
          expect(getPath(created, 'spec', 'instances'), example.id).toBeGreaterThanOrEqual(1);
          expect(getPath(created, 'spec', 'hibernate'), example.id).toBeTypeOf('boolean');
        } else {
          // Nothing pruned: strict validation kept every field the example wrote.
          expect(getPath(created, 'spec'), example.id).toMatchObject(getPath(xr, 'spec') as JsonObject);
        }
        // Two scenarios may show one claim in different situations (the adoption examples share
        // storefront/catalog): each is checked on its own.
        await objects.deleteNamespacedCustomObject({
          group: request.group,
          version: request.version,
          plural: request.plural,
          namespace: request.namespace,
          name: getString(xr, 'metadata', 'name')!,
        });
      }
    }
  });

  it('accepts the Grants, ProviderConfigs, Roles and Databases the function composes, strictly', async () => {
    const composed = ['production/xr', 'database-on-server/xr'].flatMap((id) =>
      render(cases.find((c) => c.id === id)!.request).objects.filter(
        (o) => getString(o, 'apiVersion') === 'grants.pgplane.io/v1alpha1',
      ),
    );
    expect(new Set(composed.map((o) => o.kind))).toEqual(
      new Set(['Grant', 'ProviderConfig', 'Role', 'Database']),
    );
    const plurals: Record<string, string> = {
      Grant: 'grants',
      ProviderConfig: 'providerconfigs',
      Role: 'roles',
      Database: 'databases',
    };
    for (const object of composed) {
      const metadata = isObject(object.metadata) ? object.metadata : {};
      await objects.createNamespacedCustomObject({
        group: 'grants.pgplane.io',
        version: 'v1alpha1',
        plural: plurals[String(object.kind)]!,
        namespace: String(metadata.namespace),
        body: {
          ...object,
          metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels },
        },
        fieldValidation: 'Strict',
      });
    }
  });
});
