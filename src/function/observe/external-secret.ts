// What an observed ExternalSecret says about the Secret it writes.
import { findCondition } from './conditions.js';

export interface ExternalSecretState {
  ready: boolean;
  problem?: string;
}

export function readExternalSecretState(
  externalSecret: unknown,
  describe: string,
  hint = 'check that the secret store is ready and the remote key and property exist',
): ExternalSecretState {
  if (externalSecret === undefined) return { ready: false, problem: `${describe} has not been created yet` };
  const ready = findCondition(externalSecret, 'Ready');
  if (ready?.status === 'True') return { ready: true };
  if (ready?.status === 'False') {
    return {
      ready: false,
      problem: `${describe} cannot sync${ready.reason ? ` (${ready.reason})` : ''}: ${ready.message ?? 'no message'}. ${hint.charAt(0).toUpperCase()}${hint.slice(1)}`,
    };
  }
  return { ready: false, problem: `${describe} has not synced yet` };
}
