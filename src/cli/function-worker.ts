// Entry file of the RunFunction worker threads that `pgplane serve function` starts
// (src/function/server/worker-pool.ts). It sits beside main.ts so both builds, tsc's and the
// bundle, put it at the same place relative to the program.
import { serveCallsFromPool } from '../function/server/worker-thread.js';

serveCallsFromPool();
