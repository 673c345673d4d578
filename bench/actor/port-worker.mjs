// The MessagePort floor of the actor benchmark: a bare node:worker_threads worker, no actor
// library. The "actor" is this message handler on the worker's port (FIFO, one message at a
// time); replies carry the request's `id`. Plain ESM so that it runs without tsx.
//
//   { type: 'add', by }          count and sum (case a)
//   { type: 'get', id }          reply { id, count, sum }
//   { type: 'echo', id, v }      reply { id, v } (case b)
//   { type: 'connect', port }    the MessagePort to the other worker (case c)
//   { type: 'start', id, n }     bounce { type: 'ping', c } / { type: 'pong', c: c + 1 } with the
//                                other worker n times, then reply { id, c } (case c)
//   { type: 'block', sab }       reply { type: 'blocked' }, then block this thread in Atomics.wait
//                                on sab[0] until the main thread notifies it: every message posted
//                                meanwhile stays queued in this worker's port (case e)
import { parentPort } from 'node:worker_threads';

let count = 0;
let sum = 0;
/** @type {import('node:worker_threads').MessagePort | undefined} */
let peer;
let startId = 0;
let target = 0;

function onPeer(m) {
  if (m.type === 'ping') {
    peer.postMessage({ type: 'pong', c: m.c + 1 });
  } else if (m.c >= target) {
    parentPort.postMessage({ id: startId, c: m.c });
  } else {
    peer.postMessage({ type: 'ping', c: m.c });
  }
}

parentPort.on('message', (m) => {
  switch (m.type) {
    case 'add':
      count++;
      sum += m.by;
      break;
    case 'get':
      parentPort.postMessage({ id: m.id, count, sum });
      break;
    case 'echo':
      parentPort.postMessage({ id: m.id, v: m.v });
      break;
    case 'connect':
      peer = m.port;
      peer.on('message', onPeer);
      break;
    case 'start':
      startId = m.id;
      target = m.n;
      peer.postMessage({ type: 'ping', c: 0 });
      break;
    case 'block': {
      const flag = new Int32Array(m.sab);
      parentPort.postMessage({ type: 'blocked' });
      Atomics.wait(flag, 0, 0);
      break;
    }
    default:
      throw new Error(`port-worker: unknown message type ${String(m.type)}`);
  }
});
