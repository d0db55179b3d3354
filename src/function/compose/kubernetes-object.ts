// The one place a typed composed object becomes the untyped JsonObject the composition layer carries
// (and the gRPC encoder writes). Builders return the upstream kinds' types (./upstream, generated from
// the CRDs; kubernetes-models for core kinds; z.input of pgplane's own kinds), so tsc checks every
// field they write; past this point a composed object is only data.
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import { isObject, type JsonObject } from '../../shared/json.js';

/** What every typed builder returns: a Kubernetes object of a known kind. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: IObjectMeta;
}

/**
 * A typed object as a JsonObject, unchanged (no copy). An interface has no index signature, so tsc
 * cannot see that a KubernetesObject is a JsonObject; the isObject check says so at run time. An
 * object still built as a JsonObject (an observed object carried forward) passes through.
 */
export function toJsonObject(object: KubernetesObject | JsonObject): JsonObject {
  const value: unknown = object;
  if (!isObject(value)) throw new TypeError('a composed object must be a JSON object');
  return value;
}
