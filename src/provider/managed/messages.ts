// How failures become condition messages, for every managed kind: one line, bounded, saying what
// was being done. No Secret value reaches these: clients scrub the server's text first (disclosure.ts).

/** A failure with a message fit for a condition: what was being done and why it failed. */
export class ReconcileFailure extends Error {
  constructor(
    message: string,
    readonly reason: string = 'ReconcileError',
  ) {
    super(message);
    this.name = 'ReconcileFailure';
  }
}

/** One line, bounded: conditions are read in `kubectl get` and `kubectl describe`. */
export function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

export function errorMessage(error: unknown): string {
  return oneLine(error instanceof Error ? error.message : String(error));
}
