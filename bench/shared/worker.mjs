// The other thread of bench/shared/index.ts. Plain ESM importing the built package ('weftjs'
// resolves to this repository's dist/), because Node 20 does not carry tsx's loader into workers.
//
// workerData.mode:
//   'queue'      pop n numbers per round from a SharedQueue (popMany(1024), popAsync when empty)
//   'queue1'     the same with pop() one value at a time (popAsync when empty)
//   'port'       receive n numbers per round, one per message, from a MessagePort
//   'portBatch'  receive n numbers per round in arrays of 1,024 per message
//   'ring'       pop n numbers per round from a hand-written SPSC ring on a SharedArrayBuffer
//                (Atomics.load/store of the indices, Atomics.wait when empty): the floor
//   'wakeQueue'  latency: await popAsync() forever; each value is the sender's hrtime (ns, as a
//                number); reply with (now - sent) through `ctrl` ... see index.ts
//   'wakePort'   the same through a MessagePort
//   'wakeAtomics' the same through Atomics.waitAsync on a SharedArrayBuffer
//   'mapGet'     SharedMap get() for `ms` milliseconds on keys 0..keys-1; posts its op count
//   'mapServer'  a Map served on a MessagePort: [id, op, key, value] -> [id, value], one per message
//
// ctrl (Int32Array over a SharedArrayBuffer): [0] round started by main, [1] round finished here.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMap, SharedQueue } from 'weftjs';

const { mode } = workerData;
const ctrl = workerData.ctrl ? new Int32Array(workerData.ctrl) : undefined;
const sums = [];

function finishRound(round, sum, rounds) {
  sums.push(sum);
  Atomics.store(ctrl, 1, round);
  Atomics.notify(ctrl, 1);
  if (round === rounds) parentPort.postMessage({ sums });
}

/** Sleeps (blocking: nothing else runs on this thread between rounds) until `round` starts. */
function waitRound(round) {
  while (Atomics.load(ctrl, 0) < round) Atomics.wait(ctrl, 0, round - 1);
}

const hr = () => Number(process.hrtime.bigint());

if (mode === 'queue' || mode === 'queue1') {
  const { n, rounds } = workerData;
  const queue = SharedQueue.from(workerData.handle);
  parentPort.postMessage({ ready: true });
  for (let round = 1; round <= rounds; round++) {
    waitRound(round);
    let got = 0;
    let sum = 0;
    while (got < n) {
      if (mode === 'queue') {
        const batch = queue.popMany(1024);
        for (let i = 0; i < batch.length; i++) sum += batch[i];
        got += batch.length;
        if (batch.length > 0) continue;
      } else {
        const v = queue.pop();
        if (v !== undefined) {
          got++;
          sum += v;
          continue;
        }
      }
      const v = await queue.popAsync();
      got++;
      sum += v;
    }
    finishRound(round, sum, rounds);
  }
} else if (mode === 'port' || mode === 'portBatch') {
  const { n, rounds, port } = workerData;
  let round = 1;
  let got = 0;
  let sum = 0;
  port.on('message', (m) => {
    if (mode === 'port') {
      got++;
      sum += m;
    } else {
      for (let i = 0; i < m.length; i++) sum += m[i];
      got += m.length;
    }
    if (got === n) {
      finishRound(round, sum, rounds);
      round++;
      got = 0;
      sum = 0;
      if (round > rounds) port.close();
    }
  });
  parentPort.postMessage({ ready: true });
} else if (mode === 'ring') {
  const { n, rounds, ring: ringBuffer, slots } = workerData;
  const idx = new Int32Array(ringBuffer, 0, 2); // [0] head (written here), [1] tail (written by main)
  const data = new Float64Array(ringBuffer, 8, slots);
  parentPort.postMessage({ ready: true });
  let head = 0;
  for (let round = 1; round <= rounds; round++) {
    waitRound(round);
    let got = 0;
    let sum = 0;
    while (got < n) {
      const tail = Atomics.load(idx, 1);
      if (tail === head) {
        Atomics.wait(idx, 1, tail, 1);
        continue;
      }
      while (head !== tail) {
        sum += data[head % slots];
        head = (head + 1) | 0;
        got++;
      }
      Atomics.store(idx, 0, head);
    }
    finishRound(round, sum, rounds);
  }
} else if (mode === 'wakeQueue') {
  const queue = SharedQueue.from(workerData.handle);
  const replies = SharedQueue.from(workerData.replies);
  parentPort.postMessage({ ready: true });
  for (;;) {
    const sent = await queue.popAsync();
    if (sent === undefined) break;
    replies.push(hr() - sent);
  }
} else if (mode === 'wakePort') {
  const { port } = workerData;
  port.on('message', (sent) => {
    if (sent < 0) port.close();
    else port.postMessage(hr() - sent);
  });
  parentPort.postMessage({ ready: true });
} else if (mode === 'wakeAtomics') {
  const cell = new Float64Array(workerData.cell); // [0] sent time
  const seq = new Int32Array(workerData.seq); // [0] sequence, [1] replies
  const out = new Float64Array(workerData.out); // latencies
  // A pending Atomics.waitAsync does not keep a thread alive: a listener does.
  parentPort.on('message', () => {});
  parentPort.postMessage({ ready: true });
  let seen = 0;
  for (;;) {
    const r = Atomics.waitAsync(seq, 0, seen);
    if (r.async) await r.value;
    seen = Atomics.load(seq, 0);
    if (seen < 0) break;
    out[seen - 1] = hr() - cell[0];
    Atomics.store(seq, 1, seen);
    Atomics.notify(seq, 1);
  }
} else if (mode === 'mapGet') {
  const { keys, ms } = workerData;
  const map = SharedMap.from(workerData.handle);
  parentPort.postMessage({ ready: true });
  parentPort.on('message', () => {
    let ops = 0;
    let sum = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 1024; i++) sum += map.get((ops + i) % keys);
      ops += 1024;
    }
    parentPort.postMessage({ ops, sum });
  });
} else if (mode === 'mapServer') {
  // One request per message ([id, op, key, value]; op 0: get, 1: set), one reply per request
  // ([id, value]): a Map owned by this thread, served to the others, as services do today.
  const { port } = workerData;
  const map = new Map();
  port.on('message', (r) => {
    if (r[1] === 0) port.postMessage([r[0], map.get(r[2])]);
    else {
      map.set(r[2], r[3]);
      port.postMessage([r[0], true]);
    }
  });
  parentPort.postMessage({ ready: true });
} else {
  throw new Error(`unknown mode ${mode}`);
}
