// Password rotation for generated credentials, decided per role from what Crossplane observed.
// Stateless: where a role stands is read back from the objects pgplane composed.
//
// A role whose password was never rotated has its credentials Secret generated in place. A
// rotation token names a slot: a second generated Secret, "<credentials Secret>-<hash of the
// token>". Once External Secrets has generated it, the role's credentials ExternalSecret and its
// connection ExternalSecret both switch to copying the slot (one spec change each, which External
// Secrets syncs at once), CloudNativePG applies the new password (cnpg.io/reload), and the slot
// the role used before is dropped. The slot a credentials ExternalSecret copies is recorded on it
// (PASSWORD_SLOT_ANNOTATION), so the next call knows where the role stands.
import { createHash } from 'node:crypto';
import { getNumber, getString, type JsonObject } from '../../shared/json.js';
import { findCondition } from '../observe/conditions.js';
import type { RolePlan } from './plan.js';

export const PASSWORD_SLOT_ANNOTATION = 'pgplane.io/password-slot';
export const ROTATION_TOKEN_ANNOTATION = 'pgplane.io/rotation-token';

export type RotationPhase = 'Generating' | 'Switching' | 'Waiting' | 'Rotated';

export interface RoleRotation {
  /** The slot the credentials Secret copies; undefined: generated in place (never rotated). */
  source: string | undefined;
  /** The slot Secrets to generate: the one in use and, while a rotation runs, the new one. */
  slots: { name: string; token: string }[];
  /** Only where rotation is in use (a token, or a password rotated before). */
  phase?: RotationPhase;
  /** The token the password in use was generated for. */
  token?: string;
  /** When External Secrets generated the password in use. */
  rotatedAt?: string;
  /** What a person waits for, while a rotation is not done. */
  waitingFor?: string;
}

function slotName(role: RolePlan, token: string): string {
  const hash = createHash('sha256').update(token).digest('hex').slice(0, 8);
  return `${role.credentialsSecretName}-${hash}`;
}

interface ObservedRotation {
  /** The role's credentials ExternalSecret, as Crossplane observed it. */
  credentials: JsonObject | undefined;
  /** A slot ExternalSecret this XR composed, by its name. */
  slot: (name: string) => JsonObject | undefined;
}

const isReady = (object: JsonObject | undefined): boolean =>
  findCondition(object, 'Ready')?.status === 'True';

/**
 * Ready for the spec it has now: External Secrets records the generation it synced as the start of
 * status.syncedResourceVersion ("<generation>-<hash of labels and annotations>"), so a Ready left
 * over from before a switch does not count. (Without a generation to compare, Ready is all there is.)
 */
function isSynced(object: JsonObject | undefined): boolean {
  if (!isReady(object)) return false;
  const generation = getNumber(object, 'metadata', 'generation');
  if (generation === undefined) return true;
  return getString(object, 'status', 'syncedResourceVersion')?.startsWith(`${generation}-`) ?? false;
}

export function planRotation(
  role: RolePlan,
  token: string | undefined,
  observed: ObservedRotation,
): RoleRotation {
  const current = getString(observed.credentials, 'metadata', 'annotations', PASSWORD_SLOT_ANNOTATION);
  const currentToken = getString(observed.credentials, 'metadata', 'annotations', ROTATION_TOKEN_ANNOTATION);
  const inUse = current && currentToken ? [{ name: current, token: currentToken }] : [];
  const rotatedAt = current ? getString(observed.slot(current), 'status', 'refreshTime') : undefined;
  const steady = (slot: { name: string; token: string } | undefined): RoleRotation => ({
    source: slot?.name,
    slots: slot ? [slot] : [],
    ...(slot
      ? {
          phase: isSynced(observed.credentials) ? ('Rotated' as const) : ('Switching' as const),
          token: slot.token,
        }
      : {}),
    ...(rotatedAt ? { rotatedAt } : {}),
  });

  // A fresh instance generates straight into the token's slot: nothing to rotate from.
  if (token !== undefined && observed.credentials === undefined) {
    return { ...steady({ name: slotName(role, token), token }), phase: 'Generating' };
  }
  // No token (or the one in use): nothing asked. Removing a token never rolls a password back.
  const wanted = token === undefined ? undefined : { name: slotName(role, token), token };
  if (wanted === undefined || wanted.name === current) return steady(inUse[0]);

  const base = {
    source: current,
    ...(currentToken ? { token: currentToken } : {}),
    ...(rotatedAt ? { rotatedAt } : {}),
  };
  // Never two at once: the credentials Secret must have caught up with the last change first.
  if (!isSynced(observed.credentials)) {
    return {
      ...base,
      slots: inUse,
      phase: 'Waiting',
      waitingFor: `waiting for the previous password change of role ${role.name} to finish before rotation "${wanted.token}" starts`,
    };
  }
  if (!isReady(observed.slot(wanted.name))) {
    return {
      ...base,
      slots: [...inUse, wanted],
      phase: 'Generating',
      waitingFor: `waiting for the new password of role ${role.name} (rotation "${wanted.token}") to be generated`,
    };
  }
  return {
    source: wanted.name,
    slots: [...inUse, wanted],
    phase: 'Switching',
    token: wanted.token,
    waitingFor: `waiting for the credentials and connection Secrets of role ${role.name} to switch to the new password (rotation "${wanted.token}")`,
  };
}
