// The worker side of worker-pool.ts: runs RunFunction calls handed over by the gRPC thread and
// sends back the encoded response, which is transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { runFunction } from '../handler.js';
import { serveRunFunction } from './call.js';
import { requestClock } from './clock.js';
import { functionLogger } from './logger.js';
import {
  asBuffer,
  exclusiveBytes,
  type CallMessage,
  type FunctionWorkerData,
  type WorkerMessage,
} from './worker-pool.js';

export function serveCallsFromPool(): void {
  const port = parentPort;
  if (!port) throw new Error('the RunFunction worker must run as a worker thread of pgplane serve function');
  const { debug } = workerData as FunctionWorkerData;
  const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  const logger = functionLogger(debug, (line) => post({ kind: 'log', line }));
  const now = requestClock();

  port.on('message', ({ id, request }: CallMessage) => {
    const outcome = serveRunFunction(asBuffer(request), (req, log) => runFunction(req, log, now()), logger);
    if (!outcome.ok) {
      post({ kind: 'done', id, outcome });
      return;
    }
    const bytes = exclusiveBytes(outcome.bytes);
    post({ kind: 'done', id, outcome: { ...outcome, bytes } }, [bytes.buffer]);
  });
  post({ kind: 'ready' });
}
