// Its own module so app.ts (which dispatches to serve.ts) and serve.ts share it without a cycle.

/** Files of the installed program that commands start as threads or processes. */
export interface ProgramFiles {
  /** The RunFunction worker thread's entry file (function-worker.ts, built). */
  readonly functionWorker?: URL;
}
