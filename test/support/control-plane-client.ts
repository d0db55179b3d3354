// A small Kubernetes REST client for the control-plane suite: any kind by apiVersion/kind
// (resolved through discovery), server-side apply, status patches, deletes. Objects go over the
// wire as the JSON they are (no typed serializer to drop fields it does not know).
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { getString, isObject, type JsonObject } from '../../src/shared/json.js';

class KubeRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
}

export class KubeClient {
  private readonly discovery = new Map<string, Map<string, ResourceInfo>>();

  constructor(
    readonly kc: KubeConfig,
    private readonly fieldManager = 'pgplane-control-plane-tests',
  ) {}

  /** One request; resolves to the parsed body, throws KubeRequestError on a status >= 300. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<JsonObject> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(path, cluster.server);
    const options: RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { 'Content-Type': contentType, Accept: 'application/json' },
    };
    await this.kc.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<JsonObject>((resolve, reject) => {
      const req = httpsRequest(options, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 500;
          if (status >= 300) {
            reject(
              new KubeRequestError(
                `${method} ${url.pathname} failed (${status}): ${text.slice(0, 2000)}`,
                status,
              ),
            );
            return;
          }
          try {
            const parsed: unknown = text === '' ? {} : JSON.parse(text);
            resolve(isObject(parsed) ? parsed : {});
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let kinds = this.discovery.get(apiVersion);
      if (!kinds || attempt > 0) {
        const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const list = await this.request('GET', base).catch((error: unknown) => {
          if (error instanceof KubeRequestError && error.status === 404) return { resources: [] };
          throw error;
        });
        kinds = new Map();
        const resources = Array.isArray(list['resources']) ? list['resources'].filter(isObject) : [];
        for (const r of resources) {
          const name = getString(r, 'name') ?? '';
          if (name.includes('/')) continue;
          kinds.set(getString(r, 'kind') ?? '', { plural: name, namespaced: r['namespaced'] === true });
        }
        this.discovery.set(apiVersion, kinds);
      }
      const info = kinds.get(kind);
      if (info) return info;
    }
    throw new KubeRequestError(`the API server does not serve ${kind} in ${apiVersion}`, 404);
  }

  /** The URL path of an object (name omitted: its collection). */
  async path(ref: Omit<ObjectRef, 'name'> & { name?: string | undefined }): Promise<string> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const ns = info.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
    return `${base}${ns}/${info.plural}${ref.name ? `/${encodeURIComponent(ref.name)}` : ''}`;
  }

  /** Server-side apply (force), as kubectl apply --server-side does. */
  async apply(object: JsonObject): Promise<JsonObject> {
    const ref = refOf(object);
    const path = await this.path(ref);
    return this.request(
      'PATCH',
      `${path}?fieldManager=${encodeURIComponent(this.fieldManager)}&force=true`,
      object,
      'application/apply-patch+yaml',
    );
  }

  async get(ref: ObjectRef): Promise<JsonObject | undefined> {
    try {
      return await this.request('GET', await this.path(ref));
    } catch (error) {
      if (error instanceof KubeRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list(ref: Omit<ObjectRef, 'name'>): Promise<JsonObject[]> {
    const body = await this.request('GET', await this.path(ref));
    return Array.isArray(body['items']) ? body['items'].filter(isObject) : [];
  }

  /** Merge-patches the status subresource. */
  async patchStatus(ref: ObjectRef, status: JsonObject): Promise<void> {
    await this.request('PATCH', `${await this.path(ref)}/status`, { status }, 'application/merge-patch+json');
  }

  async mergePatch(ref: ObjectRef, patch: JsonObject): Promise<void> {
    await this.request('PATCH', await this.path(ref), patch, 'application/merge-patch+json');
  }

  /** Deletes (background propagation); a missing object is not an error. */
  async delete(ref: ObjectRef, propagationPolicy = 'Background'): Promise<void> {
    try {
      await this.request('DELETE', await this.path(ref), { propagationPolicy });
    } catch (error) {
      if (error instanceof KubeRequestError && error.status === 404) return;
      throw error;
    }
  }
}

export function refOf(object: JsonObject): ObjectRef {
  const apiVersion = getString(object, 'apiVersion');
  const kind = getString(object, 'kind');
  const name = getString(object, 'metadata', 'name');
  if (!apiVersion || !kind || !name)
    throw new Error(`object without apiVersion/kind/metadata.name: ${JSON.stringify(object).slice(0, 200)}`);
  return { apiVersion, kind, name, namespace: getString(object, 'metadata', 'namespace') };
}

/** A condition of an object's status, if present. */
function conditionOf(object: JsonObject | undefined, type: string): JsonObject | undefined {
  const conditions = isObject(object?.['status']) ? object['status']['conditions'] : undefined;
  return Array.isArray(conditions) ? conditions.filter(isObject).find((c) => c['type'] === type) : undefined;
}

export function isConditionTrue(object: JsonObject | undefined, type: string): boolean {
  return conditionOf(object, type)?.['status'] === 'True';
}
