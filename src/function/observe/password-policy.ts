// The platform's password policy, for the passwords pgplane can see (existing-Secret mode; in
// secret-store mode the value never reaches pgplane). Pure. Answers with the rules a password
// breaks, never with anything derived from the password: not its length, not a hint.
import type { PasswordPolicy } from '../../api/function-input.js';

const DEFAULT_POLICY: PasswordPolicy = { minLength: 16, onViolation: 'Warn' };

/**
 * Defaults people leave in place: vendor and tutorial passwords, keyboard walks. Compared without
 * case. Short on purpose: the length rule catches most weak passwords; this catches long-enough
 * ones anyone would try first.
 */
const WELL_KNOWN = new Set([
  'password',
  'password123',
  'password1234',
  'postgres',
  'postgrespassword',
  'postgres123',
  'admin',
  'administrator',
  'changeme',
  'changemechangeme',
  'secret',
  'letmein',
  'welcome',
  'qwerty',
  'qwertyuiop',
  'qwertyuiopasdfgh',
  '1234567890123456',
  '0123456789abcdef',
  'tuxpass',
  'example',
  'default',
]);

/** The rules `password` breaks, in words a person can act on; empty when it passes. */
export function passwordPolicyViolations(
  password: string,
  role: string,
  policy: PasswordPolicy | undefined,
): string[] {
  const { minLength } = policy ?? DEFAULT_POLICY;
  const violations: string[] = [];
  if ([...password].length < minLength) violations.push(`it is shorter than ${minLength} characters`);
  if (password.toLowerCase() === role.toLowerCase()) violations.push("it is the role's own name");
  if (WELL_KNOWN.has(password.toLowerCase())) violations.push('it is a well-known default password');
  return violations;
}

export function refusesWeakPasswords(policy: PasswordPolicy | undefined): boolean {
  return (policy ?? DEFAULT_POLICY).onViolation === 'Refuse';
}
