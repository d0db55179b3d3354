// The one clock the function reads: the time of each RunFunction call, handed to the pure handler.
// PGPLANE_FUNCTION_NOW (RFC 3339) fixes it, so a `crossplane render` of an instance with a
// schedule (backup.verify) is reproducible; production leaves it unset.
const FIXED_NOW_ENV = 'PGPLANE_FUNCTION_NOW';

export function requestClock(env: NodeJS.ProcessEnv = process.env): () => Date {
  const fixed = env[FIXED_NOW_ENV];
  if (fixed === undefined || fixed === '') return () => new Date();
  const time = Date.parse(fixed);
  if (Number.isNaN(time)) throw new Error(`${FIXED_NOW_ENV}=${fixed} is not an RFC 3339 time`);
  return () => new Date(time);
}
