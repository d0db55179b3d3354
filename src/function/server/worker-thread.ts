// The worker side of worker-pool.ts: runs RunFunction calls handed over by the gRPC thread and
// sends back the encoded response, which is transferred, not copied.
import { parentPort, workerData } from 'node:worker_threads';
import { runFunction } from '../handler.js';
import { serveRunFunction } from './call.js';
import { functionLogger } from './logger.js';
import type { CallMessage, FunctionWorkerData, WorkerMessage } from './worker-pool.js';

export function serveCallsFromPool(): void {
  const port = parentPort;
  if (!port) throw new Error('the RunFunction worker must run as a worker thread of pgplane serve function');
  const { debug } = workerData as FunctionWorkerData;
  const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void =>
    port.postMessage(message, transfer);
  const logger = functionLogger(debug, (line) => post({ kind: 'log', line }));

  port.on('message', ({ id, request }: CallMessage) => {
    const outcome = serveRunFunction(
      Buffer.from(request.buffer, request.byteOffset, request.byteLength),
      runFunction,
      logger,
    );
    if (!outcome.ok) {
      post({ kind: 'done', id, outcome });
      return;
    }
    const bytes = ownArrayBuffer(outcome.bytes);
    post({ kind: 'done', id, outcome: { ...outcome, bytes } }, [bytes.buffer]);
  });
  post({ kind: 'ready' });
}

/** The bytes in an ArrayBuffer of their own (small Buffers share Node's pool), ready to transfer. */
function ownArrayBuffer(bytes: Buffer): Buffer<ArrayBuffer> {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  )
    return bytes as Buffer<ArrayBuffer>;
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(own);
  return own;
}
