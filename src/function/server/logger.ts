// The function's log stream: JSON lines through pino, the same shape from the gRPC thread and from
// the worker threads (which hand their lines to the gRPC thread to write).
import { pino, type Logger } from 'pino';

export function functionLogger(debug: boolean, write: (line: string) => void): Logger {
  return pino(
    {
      level: debug ? 'debug' : 'info',
      base: { component: 'pgplane-function' },
      // Defence in depth: request bodies are never logged, and credentials would not be written if one were.
      redact: { paths: ['password', '*.password', '*.data', '*.stringData'], censor: '[redacted]' },
    },
    { write },
  );
}
