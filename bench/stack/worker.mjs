// The consumer thread of the two-thread benchmarks in ./index.ts.
//
// Plain ESM importing the built package ('weft' resolves to this repository's dist/ through the
// package's self-reference), because Node 20 does not carry tsx's loader hooks into workers.
//
// workerData: { mode: 'stack' | 'port', n, rounds, ctrl: SharedArrayBuffer, handle?, port? }
//   ctrl (Int32Array): [0] = round the main thread has started, [1] = round this worker finished.
// Each round the worker receives exactly n values (the numbers 0..n-1 in some order), then sets
// ctrl[1] = round and wakes the main thread. At the end it posts the sum of every round, so the
// main thread can check that each value arrived exactly once.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedStack } from 'weftjs';

const { mode, n, rounds, ctrl: ctrlBuffer } = workerData;
const ctrl = new Int32Array(ctrlBuffer);
const sums = [];

function finishRound(round, sum) {
  sums.push(sum);
  Atomics.store(ctrl, 1, round);
  Atomics.notify(ctrl, 1);
  if (round === rounds) parentPort.postMessage({ sums });
}

if (mode === 'stack') {
  const stack = SharedStack.from(workerData.handle);
  parentPort.postMessage({ ready: true });
  for (let round = 1; round <= rounds; round++) {
    // Sleep until the main thread starts this round.
    while (Atomics.load(ctrl, 0) < round) Atomics.wait(ctrl, 0, round - 1);
    let got = 0;
    let sum = 0;
    // Spin: pop() returns undefined while the producer has not caught up.
    while (got < n) {
      const v = stack.pop();
      if (v !== undefined) {
        got++;
        sum += v;
      }
    }
    finishRound(round, sum);
  }
} else if (mode === 'port') {
  const { port } = workerData;
  let round = 1;
  let got = 0;
  let sum = 0;
  port.on('message', (v) => {
    got++;
    sum += v;
    if (got === n) {
      finishRound(round, sum);
      round++;
      got = 0;
      sum = 0;
      if (round > rounds) port.close();
    }
  });
  parentPort.postMessage({ ready: true });
} else {
  throw new Error(`unknown mode ${mode}`);
}
