/**
 * weft's actors for the Savina subset, written after Savina's Akka versions
 * (https://github.com/shamsimam/savina, src/main/scala/edu/rice/habanero/benchmarks/<bench>/
 * *AkkaActorBenchmark.scala). Loaded on the main thread by ./adapters.ts (through tsx) and on the
 * pool's workers through ./actors.cjs, the pool's task module (see there and bench/actor/actors.cjs).
 *
 * Where Savina's main program waits for the actor system to terminate, the main thread here asks
 * the first actor (`start`, `expect`) and that actor answers once the iteration is over
 * (`ctx.replyLater()`), so that the same actors serve the warm-up and the timed iteration.
 */
import { threadId } from 'node:worker_threads';
import { defineActor, type ActorRef, type Deferred } from '../../../src/index.js';
import { performComputation, THETA } from './params.js';

// ---------------------------------------------------------------------------------------------
// pingpong: PingActor and PongActor. Each message carries its sender, as Savina's
// SendPingMessage(self) / SendPongMessage(self); the pong goes to the ping's sender.

interface PingState {
  left: number;
  pongs: number;
  pong: ActorRef | undefined;
  done: Deferred<number> | undefined;
}

export const Ping = defineActor({
  name: 'weft-savina.Ping',
  init: (_: null): PingState => ({ left: 0, pongs: 0, pong: undefined, done: undefined }),
  handlers: {
    /** Savina's StartMessage: the first ping; replies the number of pongs once `n` have come back. */
    start: (s: PingState, m: { n: number; pong: ActorRef }, ctx) => {
      s.left = m.n;
      s.pongs = 0;
      s.pong = m.pong;
      s.done = ctx.replyLater<number>();
      m.pong.tell({ type: 'ping', sender: ctx.self as ActorRef });
      s.left--;
      return s.done;
    },
    pong: (s: PingState, _m: { sender: ActorRef }, ctx) => {
      s.pongs++;
      if (s.left > 0) {
        s.pong!.tell({ type: 'ping', sender: ctx.self as ActorRef });
        s.left--;
      } else s.done!.resolve(s.pongs);
    },
    where: () => threadId,
  },
});

export const Pong = defineActor({
  name: 'weft-savina.Pong',
  init: (_: null) => ({ pings: 0 }),
  handlers: {
    ping: (s: { pings: number }, m: { sender: ActorRef }, ctx) => {
      s.pings++;
      m.sender.tell({ type: 'pong', sender: ctx.self as ActorRef });
    },
    /** The pings handled since the last call (the check after an iteration). */
    pings: (s: { pings: number }) => {
      const n = s.pings;
      s.pings = 0;
      return n;
    },
    where: () => threadId,
  },
});

// ---------------------------------------------------------------------------------------------
// count: CountingActor. The producer is the main thread: N tells of one message object, then an
// ask (Savina's RetrieveMessage(sender) and ResultMessage(count)).

export const Counter = defineActor({
  name: 'weft-savina.Counter',
  init: (_: null) => ({ count: 0 }),
  handlers: {
    increment: (s: { count: number }) => {
      s.count++;
    },
    /** The count, then 0 again (the next iteration counts from 0). */
    retrieve: (s: { count: number }) => {
      const c = s.count;
      s.count = 0;
      return c;
    },
    where: () => threadId,
  },
});

// ---------------------------------------------------------------------------------------------
// threadring: ThreadRingActor. Savina sends PingMessage(R) to actor 0; each actor passes
// PingMessage(left - 1) to the next while left > 0. The token also counts its hops (checked: R).
// Savina's last actor then sends an ExitMessage round the ring; here it tells the first actor
// `done`, which answers the main thread's `start` ask.

interface RingState {
  next: ActorRef | undefined;
  head: ActorRef | undefined;
  received: number;
  done: Deferred<number> | undefined;
}

function passToken(s: RingState, left: number, hops: number): void {
  s.received++;
  if (left > 0) s.next!.tell({ type: 'ping', left: left - 1, hops: hops + 1 });
  else s.head!.tell({ type: 'done', hops });
}

export const RingMember = defineActor({
  name: 'weft-savina.RingMember',
  init: (_: number): RingState => ({ next: undefined, head: undefined, received: 0, done: undefined }),
  handlers: {
    /** Savina's DataMessage(next), with the first actor's ref for the end. */
    link: (s: RingState, m: { next: ActorRef; head: ActorRef }) => {
      s.next = m.next;
      s.head = m.head;
    },
    /** To actor 0 from the main thread: Savina's PingMessage(R); replies the hops once the token is spent. */
    start: (s: RingState, m: { r: number }, ctx) => {
      s.done = ctx.replyLater<number>();
      passToken(s, m.r, 0);
      return s.done;
    },
    ping: (s: RingState, m: { left: number; hops: number }) => passToken(s, m.left, m.hops),
    done: (s: RingState, m: { hops: number }) => {
      s.done!.resolve(m.hops);
    },
    /** The tokens it received since the last call. */
    received: (s: RingState) => {
      const n = s.received;
      s.received = 0;
      return n;
    },
    where: () => threadId,
  },
});

// ---------------------------------------------------------------------------------------------
// fjthrput: ThroughputActor. Each message: ThroughputConfig.performComputation(37.2), summed so
// that the work cannot be left out. `expect` (asked before the messages are sent) answers once
// `n` messages have been handled.

interface ThroughputState {
  theta: number;
  processed: number;
  target: number;
  acc: number;
  done: Deferred<{ processed: number; acc: number }> | undefined;
}

export const ThroughputActor = defineActor({
  name: 'weft-savina.ThroughputActor',
  init: (_: null): ThroughputState => ({ theta: THETA, processed: 0, target: -1, acc: 0, done: undefined }),
  handlers: {
    expect: (s: ThroughputState, m: { n: number }, ctx) => {
      s.processed = 0;
      s.acc = 0;
      s.target = m.n;
      s.done = ctx.replyLater<{ processed: number; acc: number }>();
      return s.done;
    },
    msg: (s: ThroughputState) => {
      s.processed++;
      s.acc += performComputation(s.theta);
      if (s.processed === s.target) s.done!.resolve({ processed: s.processed, acc: s.acc });
    },
    /** The messages handled since the last `expect` (the check after an iteration: exactly n). */
    processed: (s: ThroughputState) => s.processed,
    where: () => threadId,
  },
});
