// Runs the function in-process on plain objects, the way `crossplane render` would call it over
// gRPC: no cluster, no Docker. Used by the CLI and the tests.
import {
  Severity,
  type RunFunctionRequest,
  type RunFunctionResponse,
} from '@crossplane-org/function-sdk-typescript';
import { getString, isObject, type JsonObject } from '../shared/json.js';
import { runFunction } from '../function/handler.js';

/** The annotation Crossplane puts on composed resources; `crossplane render` reads it from observed files too. */
const COMPOSITION_RESOURCE_NAME = 'crossplane.io/composition-resource-name';

export interface RenderRequest {
  xr: JsonObject;
  input?: JsonObject;
  /** Observed composed resources, each annotated with its composition resource name. */
  observed?: JsonObject[];
  /** Objects Crossplane may hand the function when it asks for them (e.g. an existing Secret). */
  required?: JsonObject[];
  /** The time the function is called at (schedules are judged by it). Default: the clock. */
  now?: Date;
}

export interface RenderResult {
  response: RunFunctionResponse;
  /** The desired XR (with status) followed by the desired composed resources, annotated. */
  objects: JsonObject[];
  fatal?: string;
}

/** Builds the RunFunctionRequest Crossplane would send. Exported for the gRPC tests and benchmarks. */
export function buildRequest(
  request: RenderRequest,
  required: Record<string, JsonObject[]> = {},
): RunFunctionRequest {
  const observed: Record<
    string,
    { resource: JsonObject; connectionDetails: Record<string, Buffer>; ready: number }
  > = {};
  for (const resource of request.observed ?? []) {
    const key = getString(resource, 'metadata', 'annotations', COMPOSITION_RESOURCE_NAME);
    if (key) observed[key] = { resource, connectionDetails: {}, ready: 0 };
  }
  const requiredResources = Object.fromEntries(
    Object.entries(required).map(([key, items]) => [
      key,
      { items: items.map((resource) => ({ resource, connectionDetails: {}, ready: 0 })) },
    ]),
  );
  return {
    meta: { tag: '', capabilities: [] },
    observed: { composite: { resource: request.xr, connectionDetails: {}, ready: 0 }, resources: observed },
    desired: { composite: undefined, resources: {} },
    input: request.input,
    context: undefined,
    extraResources: requiredResources,
    credentials: {},
    requiredResources,
    requiredSchemas: {},
  };
}

/**
 * Calls the function until its requirements are stable, answering them from `required`, as
 * Crossplane does (it re-runs a function whose requirements changed).
 */
export function render(request: RenderRequest): RenderResult {
  let answered: Record<string, JsonObject[]> = {};
  let response = runFunction(buildRequest(request, answered), undefined, request.now);
  for (let round = 0; round < 5; round++) {
    // Crossplane stops at a fatal result: its (absent) requirements are not asked again.
    if (response.results.some((r) => r.severity === Severity.SEVERITY_FATAL)) break;
    const wanted = { ...response.requirements?.extraResources, ...response.requirements?.resources };
    const next: Record<string, JsonObject[]> = {};
    for (const [key, selector] of Object.entries(wanted)) {
      next[key] = (request.required ?? []).filter((object) => matchesSelector(object, selector));
    }
    if (JSON.stringify(next) === JSON.stringify(answered)) break;
    answered = next;
    response = runFunction(buildRequest(request, answered), undefined, request.now);
  }

  const fatal = response.results.find((r) => r.severity === Severity.SEVERITY_FATAL);
  return {
    response,
    objects: desiredObjects(request.xr, response),
    ...(fatal ? { fatal: fatal.message } : {}),
  };
}

type Selector = NonNullable<RunFunctionResponse['requirements']>['resources'][string];

/**
 * What Crossplane answers a requirement with: the object of that name, or every object carrying the
 * labels (all of the kind for none); in the namespace, when the selector names one.
 */
function matchesSelector(object: JsonObject, selector: Selector): boolean {
  if (object.apiVersion !== selector.apiVersion || object.kind !== selector.kind) return false;
  if (selector.namespace !== undefined && getString(object, 'metadata', 'namespace') !== selector.namespace)
    return false;
  if (selector.matchName !== undefined) return getString(object, 'metadata', 'name') === selector.matchName;
  const labels = selector.matchLabels?.labels ?? {};
  return Object.entries(labels).every(([k, v]) => getString(object, 'metadata', 'labels', k) === v);
}

function desiredObjects(xr: JsonObject, response: RunFunctionResponse): JsonObject[] {
  const metadata = isObject(xr.metadata) ? xr.metadata : {};
  const desiredXr = response.desired?.composite?.resource;
  const composite: JsonObject = {
    apiVersion: xr.apiVersion,
    kind: xr.kind,
    metadata: { name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) },
    ...(isObject(desiredXr) && isObject(desiredXr.status) ? { status: desiredXr.status } : {}),
  };
  const composed = Object.entries(response.desired?.resources ?? {}).map(([key, value]): JsonObject => {
    const resource: JsonObject = isObject(value.resource) ? value.resource : {};
    const resourceMetadata = isObject(resource.metadata) ? resource.metadata : {};
    const annotations = isObject(resourceMetadata.annotations) ? resourceMetadata.annotations : {};
    return {
      ...resource,
      metadata: { ...resourceMetadata, annotations: { ...annotations, [COMPOSITION_RESOURCE_NAME]: key } },
    };
  });
  return [composite, ...composed];
}
