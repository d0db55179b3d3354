// The SCRAM check the control-plane suite relies on to show that a rotated password is the one
// PostgreSQL accepts, proven against the real PostgreSQL 15 it reads: a right password is
// accepted, a wrong one, a prefix of the right one and a role without a password are refused.
import { describe, expect, it } from 'vitest';
import { serverAccepts, setPassword } from './scram.js';
import { uniqueName, useServer } from './postgres.js';

describe('serverAccepts on PostgreSQL 15 (local)', () => {
  const server = useServer({ major: 15, source: 'local' });

  it('accepts the password set and refuses any other, for a hostile role name and password', async () => {
    const role = await server.createRole(`Role "x"; DROP ROLE postgres; -- ${uniqueName('r')}`);
    const password = `it's a \\ "pass" word; --`;
    const admin = await server.connect('postgres');
    await setPassword(admin, role, password);
    const { rows } = await admin.query<{ rolpassword: string }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [role],
    );
    expect(rows[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$/);
    expect(await serverAccepts(role, password)).toBe(true);
    expect(await serverAccepts(role, 'wrong')).toBe(false);
    expect(await serverAccepts(role, password.slice(0, -1))).toBe(false);

    await setPassword(admin, role, 'the next one');
    expect(await serverAccepts(role, 'the next one')).toBe(true);
    expect(await serverAccepts(role, password)).toBe(false);
  });

  it('refuses every password for a role that has none, or does not exist', async () => {
    const role = await server.createRole();
    expect(await serverAccepts(role, '')).toBe(false);
    expect(await serverAccepts(uniqueName('absent'), 'anything')).toBe(false);
  });
});
