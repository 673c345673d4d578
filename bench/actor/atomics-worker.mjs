// The Atomics.wait/notify floor of the actor benchmark's case c: two bare node:worker_threads
// workers, no library, and no MessagePort on the hot path. They bounce a counter through a
// SharedArrayBuffer, `workerData.sab`, seen as an Int32Array of two cells that the main thread
// sets to [PING, PONG] = [-1, 0] before it starts the workers:
//
//   PING (0)   the counter c that A sends to B
//   PONG (1)   B's reply, c + 1
//
// Each side stores its value, Atomics.notify()s the other and blocks in Atomics.wait() until the
// other's value arrives: two thread wakes per round trip, no spinning. The counter never goes back
// (every value differs from the one before it, so a wait "while the cell still holds the old
// value" cannot miss a notify; an Int32 overflows after 2^31 round trips, far beyond one child's
// run), and a run reports how far it moved. Plain ESM so that it runs without tsx.
//
//   workerData { role: 'b', sab }   from its start: wait for a ping c, reply c + 1, forever; exits
//                                   once PING holds STOP (-2), which the main thread stores on close
//   workerData { role: 'a', sab }   { id, n } from the main thread: n round trips (this thread
//                                   blocked meanwhile), then reply { id, c } with c = how far the
//                                   counter moved (n when every reply was the ping + 1)
import { parentPort, workerData } from 'node:worker_threads';

const PING = 0;
const PONG = 1;
const STOP = -2;

const cells = new Int32Array(workerData.sab);

if (workerData.role === 'b') {
  let seen = -1;
  for (;;) {
    while (Atomics.load(cells, PING) === seen) Atomics.wait(cells, PING, seen);
    const c = Atomics.load(cells, PING);
    if (c === STOP) break;
    seen = c;
    Atomics.store(cells, PONG, c + 1);
    Atomics.notify(cells, PONG, 1);
  }
} else if (workerData.role === 'a') {
  parentPort.on('message', ({ id, n }) => {
    // B's last reply: the counter this run starts from.
    const base = Atomics.load(cells, PONG);
    let c = base;
    for (let i = 0; i < n; i++) {
      Atomics.store(cells, PING, c);
      Atomics.notify(cells, PING, 1);
      while (Atomics.load(cells, PONG) === c) Atomics.wait(cells, PONG, c);
      c = Atomics.load(cells, PONG);
    }
    parentPort.postMessage({ id, c: c - base });
  });
} else {
  throw new Error(`atomics-worker: unknown role ${String(workerData.role)}`);
}
