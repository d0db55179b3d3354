// The existing owner credentials Secret, as Crossplane hands it to us as a required resource.
// Only this module decodes secret material, and it never puts it in a message.
import { getObject, getString } from '../../shared/json.js';

export type CredentialsSecretState =
  { found: true; password: string; username?: string; problem?: string } | { found: false; problem: string };

export function readCredentialsSecret(
  secret: unknown,
  name: string,
  namespace: string,
  owner: string,
): CredentialsSecretState {
  const example = `kubectl -n ${namespace} create secret generic ${name} --type=kubernetes.io/basic-auth --from-literal=username=${owner} --from-literal=password=...`;
  if (secret === undefined) {
    return {
      found: false,
      problem: `waiting for the credentials Secret ${namespace}/${name}; create it with: ${example}`,
    };
  }
  const data = getObject(secret, 'data') ?? {};
  const decode = (key: string): string | undefined => {
    const value = data[key];
    return typeof value === 'string'
      ? Buffer.from(value, 'base64').toString('utf8')
      : getString(secret, 'stringData', key);
  };
  const password = decode('password');
  const username = decode('username');
  if (!password) {
    return {
      found: false,
      problem: `the credentials Secret ${namespace}/${name} has no "password" key; recreate it with: ${example}`,
    };
  }
  const type = getString(secret, 'type');
  const problems: string[] = [];
  if (username !== owner) {
    problems.push(
      `its username is ${username === undefined ? 'missing' : `"${username}"`} but must equal databaseOwner "${owner}"`,
    );
  }
  if (type !== undefined && type !== 'kubernetes.io/basic-auth') {
    problems.push(`its type is ${type} but CloudNativePG expects kubernetes.io/basic-auth`);
  }
  return {
    found: true,
    password,
    ...(username !== undefined ? { username } : {}),
    ...(problems.length > 0
      ? { problem: `the credentials Secret ${namespace}/${name} is unusable: ${problems.join('; ')}` }
      : {}),
  };
}
