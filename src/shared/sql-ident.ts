// The one identifier quoting function, shared by the grants engine (src/grants/sql.ts re-exports
// it) and the composition function's bootstrap SQL, so no layer quotes a name by hand.

/**
 * Always-quoted identifier (quote_ident semantics, minus the "leave it bare when safe" shortcut):
 * quoting every name means mixed case, keywords, dots and spaces can never change meaning.
 */
export function ident(name: string): string {
  if (name.includes('\u0000')) throw new Error('identifier contains a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}
