// One PostgresDatabase, from the observed XR to what the handler answers: validate, wait for the
// backend and the other claims on it, refuse what may not be, plan, compose. Pure: the handler
// turns the outcome into a RunFunctionResponse.
import type { FunctionInput } from '../../api/function-input.js';
import {
  CompositionBuilder,
  DATABASE_CONDITION_TYPES,
  type Composition,
  type Observed,
  type RefusalReason,
} from '../compose/composition-builder.js';
import type { FieldError } from '../xr/errors.js';
import type { XrIdentity } from '../xr/identity.js';
import { backendRequirements, REQUIRED, resolveBackend } from './backend.js';
import { composeDatabase } from './compose.js';
import { nameConflicts } from './isolation.js';
import { planDatabase } from './plan.js';
import { validateDatabase } from './validate.js';

export type DatabaseOutcome =
  | { kind: 'invalid'; identity: XrIdentity; errors: FieldError[] }
  | { kind: 'refused'; identity: XrIdentity; reason: RefusalReason; messages: string[] }
  | { kind: 'composed'; identity: XrIdentity; composition: Composition };

export function runDatabase(xr: unknown, input: FunctionInput, observed: Observed): DatabaseOutcome {
  const validated = validateDatabase(xr, input);
  if (!validated.ok) return { kind: 'invalid', identity: validated.identity, errors: validated.errors };
  const { identity, spec, credentials, names } = validated;
  const out = new CompositionBuilder(observed);
  Object.assign(out.requirements, backendRequirements(identity, spec, input));

  const backend = resolveBackend(identity, spec, input, {
    answered: (key) => out.answered(key),
    object: (key) => out.requiredResource(key),
  });
  if (backend.kind === 'refused')
    return { kind: 'refused', identity, reason: 'BackendRefused', messages: [backend.message] };
  // Until Crossplane has answered, nothing is known about the backend: compose nothing, so no
  // role or database is created on a server that may refuse it, or under a name another holds.
  if (backend.kind === 'waiting')
    return { kind: 'composed', identity, composition: waiting(out, backend.message) };

  const conflicts = nameConflicts(
    { identity, ...(observed.compositeCreated ? { created: observed.compositeCreated } : {}), spec, names },
    backend.backend,
    out.requiredList(REQUIRED.databases),
  );
  if (conflicts.length > 0) return { kind: 'refused', identity, reason: 'NameConflict', messages: conflicts };

  const plan = planDatabase(identity, spec, input, credentials, names, backend.backend);
  return { kind: 'composed', identity, composition: composeDatabase(plan, out) };
}

function waiting(out: CompositionBuilder, message: string): Composition {
  return {
    resources: {},
    requirements: out.requirements,
    status: {},
    conditions: [{ type: DATABASE_CONDITION_TYPES.backend, status: 'False', reason: 'Waiting', message }],
    warnings: [],
    refusals: [],
    specErrors: [],
    ready: false,
  };
}
