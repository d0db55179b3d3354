// A stand-in for dist/cli/function-worker.js that speaks the worker pool's protocol
// (src/function/server/worker-pool.ts), for test/function/worker-pool.test.ts. The first byte
// of a request says what to do: e = echo, c = crash the thread, h = never answer, l = log a line
// and echo. FAKE_WORKER_FAIL_LOAD=1 in the environment makes it fail while loading.
import { parentPort } from 'node:worker_threads';

if (process.env.FAKE_WORKER_FAIL_LOAD === '1') throw new Error('fake worker: cannot load');

parentPort.on('message', ({ id, request }) => {
  const echo = () =>
    parentPort.postMessage({
      kind: 'done',
      id,
      outcome: { ok: true, bytes: request, fatal: false, tag: 'echo' },
    });
  switch (String.fromCharCode(request[0])) {
    case 'c':
      process.exit(3);
      break;
    case 'h':
      break;
    case 'l':
      parentPort.postMessage({ kind: 'log', line: `{"msg":"from the worker","id":${id}}\n` });
      echo();
      break;
    default:
      echo();
  }
});
parentPort.postMessage({ kind: 'ready' });
