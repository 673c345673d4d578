// Case c's hardware reference (no pool): a bare worker_threads worker that runs `calls` × fib(25)
// per message and posts the sum back. The parent (run-case.ts, `seq c`) starts two of them, gives
// each half of case c's work and times both: what two threads of this machine deliver with a
// perfect static split and no scheduling at all.
import { parentPort } from 'node:worker_threads';
import { fibWork } from './work.mjs';

parentPort.on('message', (calls) => parentPort.postMessage(fibWork(calls)));
