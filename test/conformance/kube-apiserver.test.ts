// Smoke test of the end-to-end Kubernetes harness: a real etcd + kube-apiserver built from Go
// modules (test/tools/kube), a namespace, a throwaway namespaced CRD, one object of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  CustomObjectsApi,
  VersionApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import {
  applyCrds,
  installKubeTools,
  startKubeApiServer,
  type KubeApiServer,
} from '../support/kube-apiserver.js';

const group = 'smoke.pgplane.io';
const version = 'v1alpha1';
const plural = 'widgets';

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string' } },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string };
  spec: { size: number; color?: string };
}

describe('kube-apiserver harness', () => {
  let cluster: KubeApiServer | undefined;
  let kc: KubeConfig;

  beforeAll(async () => {
    // A no-op when the binaries are cached; a cold build of kube-apiserver takes 5-20 minutes.
    const binDir = await installKubeTools();
    cluster = await startKubeApiServer({ binDir });
    kc = cluster.kubeConfig();
  }, 45 * 60_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('serves the pinned Kubernetes version over TLS with the admin token', async () => {
    const info = await kc.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(cluster!.versions.kubernetes);
    expect(cluster!.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates a namespace, installs a CRD and round-trips an object of it', async () => {
    const namespace = 'smoke';
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });

    const [established] = await applyCrds(kc, [widgetCrd]);
    expect(established?.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');

    const objects = kc.makeApiClient(CustomObjectsApi);
    const widget: Widget = {
      apiVersion: `${group}/${version}`,
      kind: 'Widget',
      metadata: { name: 'first' },
      spec: { size: 3, color: 'teal' },
    };
    await objects.createNamespacedCustomObject({ group, version, namespace, plural, body: widget });

    const read = (await objects.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name: 'first',
    })) as Widget;
    expect(read.metadata.namespace).toBe(namespace);
    expect(read.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(read.spec).toEqual({ size: 3, color: 'teal' });

    // The schema is enforced: the server validates, not a stub.
    await expect(
      objects.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: { ...widget, metadata: { name: 'bad' }, spec: { size: 0 } },
      }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it('authenticates service-account tokens and enforces RBAC on them', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({
      namespace: 'default',
      body: { metadata: { name: 'nobody' } },
    });
    const { status } = await core.createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace: 'default',
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    expect(status?.token).toBeTruthy();

    const asNobody = new KubeConfig();
    asNobody.loadFromOptions({
      clusters: [{ name: 'test', server: cluster!.server, caFile: cluster!.caCertPath }],
      users: [{ name: 'nobody', token: status!.token }],
      contexts: [{ name: 'test', cluster: 'test', user: 'nobody' }],
      currentContext: 'test',
    });
    const denied = await asNobody
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: 'default' })
      .catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ApiException);
    expect((denied as ApiException<string>).code).toBe(403);
    expect(String((denied as ApiException<string>).body)).toContain('system:serviceaccount:default:nobody');
  });
});
