// RunFunction: parse → validate → plan → compose → response. The only module that knows the
// protobuf shapes; everything it calls works on plain objects.
import {
  Ready,
  Resource,
  Severity,
  Status,
  Target,
  type Condition,
  type ResourceSelector,
  type Result,
  type RunFunctionRequest,
  type RunFunctionResponse,
  type State,
} from '@crossplane-org/function-sdk-typescript';
import type { Logger } from 'pino';
import { getObject, getString, isObject, type JsonObject } from '../shared/json.js';
import {
  CONDITION_TYPES,
  DATABASE_CONDITION_TYPES,
  type Composition,
  type Observed,
  type RefusalReason,
  type ResourceRequirement,
} from './compose/composition-builder.js';
import { composeInstance } from './compose/instance.js';
import { checkInvariants } from './compose/invariants.js';
import { planInstance } from './compose/plan.js';
import { parseDuration } from '../shared/duration.js';
import { formatErrors } from './xr/errors.js';
import { describeXr, type XrIdentity } from './xr/identity.js';
import { runDatabase } from './postgres-database/index.js';
import type { FunctionInput } from '../api/function-input.js';
import { parseInput } from './xr/input.js';
import { validateXr } from './xr/validate.js';

const SPEC_VALID_CONDITION = 'SpecValid';
const DEFAULT_READY_TTL = '60s';
const DEFAULT_NOT_READY_TTL = '15s';

/**
 * `now` is the time of the request: the one clock reading, at the edge (the server calls this
 * with the default), so composing stays pure and tests and renders can fix it.
 */
export function runFunction(
  req: RunFunctionRequest,
  logger?: Logger,
  now: Date = new Date(),
): RunFunctionResponse {
  const input = parseInput(req.input);
  if (!input.ok) {
    return fatalResponse(
      req,
      formatErrors("the pgplane function Input in this XR's Composition", input.errors),
    );
  }

  if (input.input.serves === 'PostgresDatabase') return databaseResponse(req, input.input, logger, now);

  const validated = validateXr(req.observed?.composite?.resource, input.input);
  if (!validated.ok)
    return fatalResponse(req, formatErrors(describeXr(validated.identity), validated.errors));

  const plan = planInstance(validated.identity, validated.spec, input.input, validated.credentials);
  const composition = composeInstance(plan, observedState(req, now));
  return composedResponse(req, input.input, validated.identity, composition, validated.warnings, logger);
}

/** The Composition serves PostgresDatabases (its Input says so; the XR's kind is never read). */
function databaseResponse(
  req: RunFunctionRequest,
  input: FunctionInput,
  logger: Logger | undefined,
  now: Date,
): RunFunctionResponse {
  const outcome = runDatabase(req.observed?.composite?.resource, input, observedState(req, now));
  const xr = describeXr(outcome.identity);
  switch (outcome.kind) {
    case 'invalid':
      return fatalResponse(req, formatErrors(xr, outcome.errors));
    case 'refused':
      return fatalResponse(req, `${xr} is refused: ${outcome.messages.join('; ')}`, outcome.reason);
    case 'composed':
      return composedResponse(req, input, outcome.identity, outcome.composition, [], logger);
  }
}

/** A composed set, refused, checked against the invariants, or answered. */
function composedResponse(
  req: RunFunctionRequest,
  input: FunctionInput,
  identity: XrIdentity,
  composition: Composition,
  warnings: readonly string[],
  logger: Logger | undefined,
): RunFunctionResponse {
  if (composition.specErrors.length > 0)
    return fatalResponse(req, formatErrors(describeXr(identity), composition.specErrors));
  if (composition.refusals.length > 0) {
    return fatalResponse(
      req,
      `${describeXr(identity)} is refused: ${composition.refusals.map((r) => r.message).join('; ')}`,
      composition.refusals[0]!.reason,
    );
  }
  // The last line of defence: a composed set that breaks an invariant (two writers of one Secret,
  // an object outside the XR's namespace, a name Kubernetes refuses) is never sent, not even in part.
  const broken = checkInvariants(identity.namespace, composition);
  if (broken.length > 0) {
    logger?.error({ xr: describeXr(identity), broken }, 'composed set breaks an invariant');
    return fatalResponse(
      req,
      `${describeXr(identity)} cannot be composed: pgplane would compose ${broken.join('; ')}. This is a pgplane bug: please report it with the claim`,
      'InternalError',
    );
  }
  logger?.debug(
    {
      xr: describeXr(identity),
      resources: Object.keys(composition.resources),
      ready: composition.ready,
    },
    'composed',
  );
  const ttl = composition.ready
    ? (input.ttl?.ready ?? DEFAULT_READY_TTL)
    : (input.ttl?.notReady ?? DEFAULT_NOT_READY_TTL);
  return successResponse(req, composition, [...warnings, ...composition.warnings], ttl);
}

function observedState(req: RunFunctionRequest, now: Date): Observed {
  const resources: Record<string, JsonObject> = {};
  for (const [key, observed] of Object.entries(req.observed?.resources ?? {})) {
    if (isObject(observed.resource)) resources[key] = observed.resource;
  }
  // Crossplane v2 answers `requirements.resources` in requiredResources; v1.x in extraResources.
  const required: Record<string, JsonObject> = {};
  const requiredLists: Record<string, JsonObject[]> = {};
  const answered = new Set<string>();
  for (const answers of [req.extraResources, req.requiredResources]) {
    for (const [key, found] of Object.entries(answers ?? {})) {
      answered.add(key);
      const items = found.items.map((item) => item.resource).filter(isObject);
      // A requirement by name has at most one object; a list requirement (by labels) keeps them all.
      if (items[0]) required[key] = items[0];
      requiredLists[key] = items;
    }
  }
  const composite = req.observed?.composite?.resource;
  const compositeStatus = getObject(composite, 'status');
  const compositeCreated = getString(composite, 'metadata', 'creationTimestamp');
  return {
    resources,
    required,
    requiredLists,
    answered,
    now,
    ...(compositeStatus ? { compositeStatus } : {}),
    ...(compositeCreated ? { compositeCreated } : {}),
  };
}

function baseResponse(req: RunFunctionRequest, ttl: string): RunFunctionResponse & { desired: State } {
  return {
    meta: { tag: req.meta?.tag ?? '', ttl: parseDuration(ttl) },
    // Keep what earlier pipeline steps desired; add ours beside it.
    desired: { composite: req.desired?.composite, resources: { ...req.desired?.resources } },
    results: [],
    context: req.context,
    requirements: undefined,
    conditions: [],
  };
}

type FatalReason = 'InvalidSpec' | 'InternalError' | RefusalReason;

/** The condition a FATAL result also sets: what is wrong, the spec or a password; a pgplane bug is neither. */
const FATAL_CONDITIONS: Readonly<Record<FatalReason, string | undefined>> = {
  InvalidSpec: SPEC_VALID_CONDITION,
  WeakPassword: CONDITION_TYPES.passwordPolicy,
  RestoreRefused: CONDITION_TYPES.restore,
  CredentialsConflict: CONDITION_TYPES.credentials,
  NameConflict: DATABASE_CONDITION_TYPES.backend,
  BackendRefused: DATABASE_CONDITION_TYPES.backend,
  InternalError: undefined,
};

/**
 * A FATAL result: Crossplane applies nothing when a step is fatal, so no composed resource is
 * dropped or half-updated.
 */
function fatalResponse(
  req: RunFunctionRequest,
  message: string,
  reason: FatalReason = 'InvalidSpec',
): RunFunctionResponse {
  const rsp = baseResponse(req, DEFAULT_NOT_READY_TTL);
  rsp.results.push({
    severity: Severity.SEVERITY_FATAL,
    message,
    reason,
    target: Target.TARGET_COMPOSITE_AND_CLAIM,
  });
  const condition = FATAL_CONDITIONS[reason];
  if (condition) {
    rsp.conditions.push({
      type: condition,
      status: Status.STATUS_CONDITION_FALSE,
      reason,
      message,
      target: Target.TARGET_COMPOSITE_AND_CLAIM,
    });
  }
  return rsp;
}

function successResponse(
  req: RunFunctionRequest,
  composition: Composition,
  warnings: string[],
  ttl: string,
): RunFunctionResponse {
  const rsp = baseResponse(req, ttl);
  for (const [key, composed] of Object.entries(composition.resources)) {
    rsp.desired.resources[key] = Resource.fromPartial({
      resource: composed.resource,
      ready: composed.ready ? Ready.READY_TRUE : Ready.READY_FALSE,
    });
  }

  const composite = req.desired?.composite;
  const desiredXr = getObject(composite?.resource) ?? {};
  rsp.desired.composite = Resource.fromPartial({
    ...composite,
    resource: { ...desiredXr, status: { ...getObject(desiredXr, 'status'), ...composition.status } },
    connectionDetails: {
      ...composite?.connectionDetails,
      ...Object.fromEntries(
        Object.entries(composition.connectionDetails ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'utf8'),
        ]),
      ),
    },
  });

  const selectors = Object.fromEntries(
    Object.entries(composition.requirements).map(([key, r]) => [key, selector(r)]),
  );
  if (Object.keys(selectors).length > 0) {
    rsp.requirements = { extraResources: selectors, resources: selectors, schemas: {} };
  }

  rsp.results.push(...warnings.map(warningResult));
  rsp.conditions.push(
    {
      type: SPEC_VALID_CONDITION,
      status: Status.STATUS_CONDITION_TRUE,
      reason: 'Valid',
      target: Target.TARGET_COMPOSITE_AND_CLAIM,
    },
    ...composition.conditions.map((c): Condition => ({
      type: c.type,
      status: c.status === 'True' ? Status.STATUS_CONDITION_TRUE : Status.STATUS_CONDITION_FALSE,
      reason: c.reason,
      message: c.message,
      target: Target.TARGET_COMPOSITE_AND_CLAIM,
    })),
  );
  return rsp;
}

/** A requirement as Crossplane's ResourceSelector: by name, or a list by labels (all, when none). */
function selector(r: ResourceRequirement): ResourceSelector {
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    ...(r.matchName !== undefined ? { matchName: r.matchName } : {}),
    ...(r.matchLabels !== undefined ? { matchLabels: { labels: { ...r.matchLabels } } } : {}),
    ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
  };
}

function warningResult(message: string): Result {
  return {
    severity: Severity.SEVERITY_WARNING,
    message,
    reason: 'Attention',
    target: Target.TARGET_COMPOSITE_AND_CLAIM,
  };
}
