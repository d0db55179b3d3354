// The collector every composer fills: desired objects with their readiness, requirements, and one
// condition per concern aggregated over its objects; and the shapes the handler turns into a
// RunFunctionResponse. Shared by the PostgresInstance and PostgresDatabase compositions.
import { getString, type JsonObject } from '../../shared/json.js';
import { findCondition } from '../observe/conditions.js';
import type { FieldError } from '../xr/errors.js';
import { toJsonObject, type KubernetesObject } from './kubernetes-object.js';
import type { TenantPlan } from './plan.js';

export interface Observed {
  /** Observed composed resources, by their key in the composition. */
  resources: Readonly<Record<string, JsonObject>>;
  /** Objects Crossplane fetched for us (existing credentials Secrets), by requirement key. */
  required: Readonly<Record<string, JsonObject>>;
  /** Every object of each answered requirement: the whole list of a list requirement. */
  requiredLists?: Readonly<Record<string, readonly JsonObject[]>>;
  /**
   * Requirement keys Crossplane has answered, found or not. A key it has not answered yet (the
   * first call) is not an object that is missing.
   */
  answered?: ReadonlySet<string>;
  /** The XR's observed status: what this function returned before, as Crossplane wrote it. */
  compositeStatus?: JsonObject;
  /** The XR's creationTimestamp. */
  compositeCreated?: string;
  /** The time of the request, read by the handler: compose never reads a clock. */
  now?: Date;
}

export interface ComposedResource {
  resource: JsonObject;
  ready: boolean;
}

/**
 * An object, or a list, the function asks Crossplane for: by name, or every object with these labels
 * (an empty set: all of the kind). No namespace: a cluster-scoped object, or a list across every
 * namespace.
 */
export interface ResourceRequirement {
  apiVersion: string;
  kind: string;
  matchName?: string;
  matchLabels?: Readonly<Record<string, string>>;
  namespace?: string;
}

export interface XrCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Composition {
  resources: Record<string, ComposedResource>;
  requirements: Record<string, ResourceRequirement>;
  /** Legacy XRs only: Crossplane writes these to the claim's connection Secret. */
  connectionDetails?: Record<string, string>;
  status: JsonObject;
  conditions: XrCondition[];
  warnings: string[];
  /**
   * Why nothing may be composed (a password the platform's policy refuses, a restore that cannot
   * happen). The handler answers with these as one FATAL result instead of the resources.
   */
  refusals: Refusal[];
  /**
   * Spec fields the observed state refuses (a version lower than the one running, an upgrade with
   * no backup): the handler answers with one FATAL InvalidSpec result, so nothing changes.
   */
  specErrors: FieldError[];
  /** Everything composed is ready: Crossplane may cache the answer longer. */
  ready: boolean;
}

/** Why a composition refuses to compose anything; each is also the FATAL result's reason. */
export type RefusalReason =
  'WeakPassword' | 'RestoreRefused' | 'CredentialsConflict' | 'NameConflict' | 'BackendRefused';

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

export const CONDITION_TYPES = {
  restore: 'Restored',
  cluster: 'ClusterReady',
  credentials: 'CredentialsReady',
  rotation: 'PasswordRotated',
  passwordPolicy: 'PasswordPolicy',
  connection: 'ConnectionSecretReady',
  grants: 'GrantsReady',
  majorVersion: 'MajorVersion',
} as const;

/** The conditions only a PostgresDatabase reports. */
export const DATABASE_CONDITION_TYPES = {
  /** The shared instance or registered server accepts this database, and it does not collide. */
  backend: 'BackendReady',
  /** The database and its roles exist on the backend. */
  database: 'DatabaseReady',
} as const;

/** Collects what the builders produce, with one condition per concern aggregated over its objects. */
export class CompositionBuilder {
  readonly resources: Record<string, ComposedResource> = {};
  readonly requirements: Record<string, ResourceRequirement> = {};
  readonly warnings: string[] = [];
  readonly refusals: Refusal[] = [];
  private readonly problems = new Map<string, string[]>();
  /** The reason a condition gives while it is False, where "Unavailable" would mislead. */
  private readonly pendingReasons = new Map<string, string>();
  /** What a ready condition says instead of "Available: ready" (e.g. that a Secret was adopted). */
  private readonly notes = new Map<string, { reason: string; messages: string[] }>();

  constructor(private readonly observed: Observed) {}

  observedResource(key: string): JsonObject | undefined {
    return this.observed.resources[key];
  }

  requiredResource(key: string): JsonObject | undefined {
    return this.observed.required[key];
  }

  /** Every object Crossplane answered a (list) requirement with; empty until it has answered. */
  requiredList(key: string): readonly JsonObject[] {
    return this.observed.requiredLists?.[key] ?? [];
  }

  /** Crossplane answered this requirement (with or without an object). */
  answered(key: string): boolean {
    return this.observed.answered?.has(key) ?? this.observed.required[key] !== undefined;
  }

  get compositeStatus(): JsonObject | undefined {
    return this.observed.compositeStatus;
  }

  get compositeCreated(): string | undefined {
    return this.observed.compositeCreated;
  }

  get now(): Date | undefined {
    return this.observed.now;
  }

  add(key: string, resource: KubernetesObject | JsonObject, ready: boolean): void {
    this.resources[key] = { resource: toJsonObject(resource), ready };
  }

  /** Auxiliary objects without a readiness signal of their own are ready once they exist. */
  addWhenObserved(key: string, resource: KubernetesObject | JsonObject | undefined): void {
    if (resource) this.add(key, resource, this.observedResource(key) !== undefined);
  }

  track(concern: string, problem?: string): void {
    const list = this.problems.get(concern) ?? [];
    if (problem) list.push(problem);
    this.problems.set(concern, list);
  }

  pendingReason(concern: string, reason: string): void {
    this.pendingReasons.set(concern, reason);
  }

  note(concern: string, reason: string, message: string): void {
    const note = this.notes.get(concern) ?? { reason, messages: [] };
    note.messages.push(message);
    this.notes.set(concern, note);
  }

  conditions(): XrCondition[] {
    return [...this.problems.entries()].map(([type, problems]): XrCondition => {
      const note = this.notes.get(type);
      if (problems.length > 0) {
        const also = note ? `; ${note.messages.join('; ')}` : '';
        const reason = this.pendingReasons.get(type) ?? 'Unavailable';
        return { type, status: 'False', reason, message: `${problems.join('; ')}${also}` };
      }
      return note
        ? { type, status: 'True', reason: note.reason, message: `ready; ${note.messages.join('; ')}` }
        : { type, status: 'True', reason: 'Available', message: 'ready' };
    });
  }
}

/** Why a Grant is not ready yet, with the provider's own message when it has one. */
export function grantProblem(plan: TenantPlan, grant: JsonObject, observed: JsonObject | undefined): string {
  const name = `Grant ${plan.namespace}/${getString(grant, 'metadata', 'name') ?? ''}`;
  if (observed === undefined) return `${name} has not been created yet`;
  const synced = findCondition(observed, 'Synced');
  return `${name} is not ready${synced?.status === 'False' && synced.message ? `: ${synced.message}` : ''}`;
}
