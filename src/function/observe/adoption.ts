// Who writes a role's credentials Secret when pgplane would compose it (secret-store and generated
// modes): pgplane, or the team that wrote it (or an ExternalSecret for it) before the claim. Pure:
// decided from what Crossplane observed for this XR and the two objects it fetched by name.
//
// The order matters and is stateless:
// 1. An object this XR composed (observed under the role's key) stays pgplane's: its own Secret
//    existing never flips it to adoption.
// 2. An ExternalSecret or Secret of that name made by nobody else is the team's: pgplane uses it as
//    the existing-Secret mode does and composes nothing for it.
// 3. One that another composite resource, another pgplane instance or another controller made is
//    neither: adopting it would hand this claim another team's password, composing over it would
//    make two writers. The claim must pick another name.
import { getPath, getString, isObject, type JsonObject } from '../../shared/json.js';

/** The label Crossplane puts on every object it composes, naming the composite resource. */
const COMPOSITE_LABEL = 'crossplane.io/composite';
/** pgplane's own labels on the Secrets its ExternalSecrets template (connection Secrets). */
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const INSTANCE_LABEL = 'pgplane.io/instance';

export type CredentialsOwnership =
  | { writer: 'pgplane' }
  | { writer: 'team'; via: 'ExternalSecret' | 'Secret' }
  | { writer: 'other'; problem: string };

export interface OwnershipEvidence {
  /** metadata.name of the XR: the value of crossplane.io/composite on what it composed. */
  compositeName: string;
  /** pgplane's instance name (pgplane.io/instance on what it templates). */
  instance: string;
  namespace: string;
  secretName: string;
  /** The object this XR composed for the role's credentials, if Crossplane observed one. */
  composed: JsonObject | undefined;
  /** The ExternalSecret named secretName in the namespace, if one exists. */
  externalSecret: JsonObject | undefined;
  /** The Secret named secretName in the namespace, if one exists. */
  secret: JsonObject | undefined;
}

export function credentialsOwnership(evidence: OwnershipEvidence): CredentialsOwnership {
  if (evidence.composed) return { writer: 'pgplane' };
  const { externalSecret, secret } = evidence;
  if (externalSecret && writesSecret(externalSecret, evidence.secretName)) {
    const verdict = judge(
      externalSecret,
      `ExternalSecret ${evidence.namespace}/${evidence.secretName}`,
      evidence,
    );
    return verdict === 'team' ? { writer: 'team', via: 'ExternalSecret' } : verdict;
  }
  if (secret) {
    const verdict = judge(secret, `Secret ${evidence.namespace}/${evidence.secretName}`, evidence);
    if (verdict !== 'team') return verdict;
    const controller = controllerOf(secret);
    // ESO's own owner reference: fine only for an ExternalSecret of the same name, which was judged
    // above; one of another name could be anyone's, and pgplane does not read it.
    if (controller && !(controller.kind === 'ExternalSecret' && controller.name === evidence.secretName)) {
      return other(
        evidence,
        `Secret ${evidence.namespace}/${evidence.secretName} is controlled by ${controller.kind} ${controller.name}`,
      );
    }
    // Its ExternalSecret is gone and garbage collection is about to delete it: nothing is there.
    if (controller) return { writer: 'pgplane' };
    return { writer: 'team', via: 'Secret' };
  }
  return { writer: 'pgplane' };
}

function judge(
  object: JsonObject,
  what: string,
  evidence: OwnershipEvidence,
): 'team' | { writer: 'pgplane' } | { writer: 'other'; problem: string } {
  const composite = getString(object, 'metadata', 'labels', COMPOSITE_LABEL);
  // Ours, though Crossplane's observed list has not caught up yet: keep composing it.
  if (composite === evidence.compositeName) return { writer: 'pgplane' };
  if (composite !== undefined)
    return other(evidence, `${what} is composed by another composite resource (${composite})`);
  if (getString(object, 'metadata', 'labels', MANAGED_BY_LABEL) === 'pgplane') {
    const instance = getString(object, 'metadata', 'labels', INSTANCE_LABEL) ?? 'unknown';
    if (instance !== evidence.instance)
      return other(evidence, `${what} belongs to PostgresInstance ${instance}`);
  }
  const controller = controllerOf(object);
  if (controller && object.kind !== 'Secret') {
    return other(evidence, `${what} is controlled by ${controller.kind} ${controller.name}`);
  }
  return 'team';
}

function other(evidence: OwnershipEvidence, reason: string): { writer: 'other'; problem: string } {
  return {
    writer: 'other',
    problem: `${reason}, not by this claim's team, so pgplane neither uses it nor writes over it; name a Secret of your own in spec.credentialsSecretName (or spec.access[].role), or remove the one in the way`,
  };
}

/** An ExternalSecret writes the Secret named in spec.target.name, or its own name without one. */
function writesSecret(externalSecret: JsonObject, secretName: string): boolean {
  const target = getString(externalSecret, 'spec', 'target', 'name');
  return (target ?? getString(externalSecret, 'metadata', 'name')) === secretName;
}

function controllerOf(object: JsonObject): { kind: string; name: string } | undefined {
  const references = getPath(object, 'metadata', 'ownerReferences');
  if (!Array.isArray(references)) return undefined;
  for (const reference of references) {
    if (isObject(reference) && reference.controller === true) {
      return {
        kind: getString(reference, 'kind') ?? 'unknown',
        name: getString(reference, 'name') ?? 'unknown',
      };
    }
  }
  return undefined;
}
