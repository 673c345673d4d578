// The MessagePort floor of the Savina subset: a bare node:worker_threads worker, no actor library.
// An "actor" is a message handler on a MessagePort (FIFO, one message at a time): the worker's
// parentPort (count), one end of a MessageChannel (pingpong), or a MessagePort of its own (each
// member of threadring and fjthrput, its mailbox). Requests from the main thread carry an `id`,
// echoed in the reply { id, value }. Plain ESM so that it runs without tsx.
//
//   pingpong   { type: 'pp-role', role: 'ping' | 'pong', port }   the channel between the two workers
//              { type: 'pp-start', id, n }   (ping) n pings, each answered by a pong; replies the pongs
//              { type: 'pp-pings', id }      (pong) the pings handled since the last call
//   count      { type: 'increment' } ... then { type: 'retrieve', id }: the count (then 0 again)
//   threadring { type: 'ring-member', i, inbox }  member i's mailbox;  { type: 'ring-next', i, next }: the
//              port to member i + 1;  { type: 'ring-start', id, r }: member 0 gets the token (r hops
//              left); the member that spends it posts { type: 'ring-done', hops } to the main thread;
//              { type: 'ring-received', id }: tokens received by this worker's members since the last call
//   fjthrput   { type: 'fj-member', i, inbox }; on the inbox: { type: 'expect', n }, then n × { type: 'msg' }
//              (each: sin(theta)², Savina's performComputation(37.2)); once every member of this worker
//              has handled its n, { type: 'fj-done', members: [{ i, processed, acc }] } to the main thread;
//              { type: 'fj-processed', id }: [{ i, processed }]
import { parentPort, threadId } from 'node:worker_threads';

const THETA = 37.2;

function performComputation(theta) {
  const sint = Math.sin(theta);
  const res = sint * sint;
  if (res <= 0) throw new Error(`performComputation: unrealistic res value ${res}`);
  return res;
}

const reply = (id, value) => parentPort.postMessage({ id, value });

// pingpong
let ppPort;
let left = 0;
let pongs = 0;
let pings = 0;
let ppId = 0;

function onPingSide(m) {
  if (m.type !== 'pong') throw new Error(`port-worker ping: unexpected ${m.type}`);
  pongs++;
  if (left > 0) {
    ppPort.postMessage({ type: 'ping' });
    left--;
  } else reply(ppId, pongs);
}

function onPongSide(m) {
  if (m.type !== 'ping') throw new Error(`port-worker pong: unexpected ${m.type}`);
  pings++;
  ppPort.postMessage({ type: 'pong' });
}

// count
let count = 0;

// threadring: this worker's members, by index
const ringNext = new Map();
const ringReceived = new Map();

function passToken(i, left, hops) {
  ringReceived.set(i, ringReceived.get(i) + 1);
  if (left > 0) ringNext.get(i).postMessage({ type: 'ping', left: left - 1, hops: hops + 1 });
  else parentPort.postMessage({ type: 'ring-done', hops });
}

// fjthrput: this worker's members
const fj = new Map();
let fjPending = 0;

function fjMember(i, inbox) {
  const s = { i, theta: THETA, processed: 0, target: -1, acc: 0 };
  fj.set(i, s);
  inbox.on('message', (m) => {
    if (m.type === 'msg') {
      s.processed++;
      s.acc += performComputation(s.theta);
      if (s.processed === s.target && --fjPending === 0) {
        parentPort.postMessage({ type: 'fj-done', members: [...fj.values()].map((x) => ({ i: x.i, processed: x.processed, acc: x.acc })) });
      }
    } else if (m.type === 'expect') {
      // The first expect of an iteration: every member of this worker takes part.
      if (fjPending <= 0) fjPending = fj.size;
      s.processed = 0;
      s.acc = 0;
      s.target = m.n;
    } else throw new Error(`port-worker fj: unexpected ${m.type}`);
  });
}

parentPort.on('message', (m) => {
  switch (m.type) {
    case 'increment':
      count++;
      break;
    case 'retrieve':
      reply(m.id, count);
      count = 0;
      break;
    case 'pp-role':
      ppPort = m.port;
      ppPort.on('message', m.role === 'ping' ? onPingSide : onPongSide);
      break;
    case 'pp-start':
      ppId = m.id;
      left = m.n;
      pongs = 0;
      ppPort.postMessage({ type: 'ping' });
      left--;
      break;
    case 'pp-pings':
      reply(m.id, pings);
      pings = 0;
      break;
    case 'ring-member': {
      const i = m.i;
      ringReceived.set(i, 0);
      m.inbox.on('message', (t) => passToken(i, t.left, t.hops));
      break;
    }
    case 'ring-next':
      ringNext.set(m.i, m.next);
      break;
    case 'ring-start':
      passToken(0, m.r, 0);
      break;
    case 'ring-received': {
      let n = 0;
      for (const [i, k] of ringReceived) {
        n += k;
        ringReceived.set(i, 0);
      }
      reply(m.id, n);
      break;
    }
    case 'fj-member':
      fjMember(m.i, m.inbox);
      break;
    case 'fj-processed':
      reply(
        m.id,
        [...fj.values()].map((x) => ({ i: x.i, processed: x.processed })),
      );
      break;
    case 'where':
      reply(m.id, threadId);
      break;
    default:
      throw new Error(`port-worker: unknown message type ${String(m.type)}`);
  }
});
