/**
 * weft's actors for the actor benchmark. Loaded on the main thread by run-case.ts (through tsx)
 * and on the pool's workers through ./actors.cjs, the pool's task module (see there).
 *
 * Coded against the actor API spec (`defineActor({ init, handlers })`, messages `{ type, ... }`
 * naming the handler, a handler's return value is the ask's reply, refs may travel inside
 * messages). `defineActor` is looked up on a namespace import so that this module loads, and
 * type-checks, while weft does not export it yet; until then the definitions are plain objects.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import * as weft from '../../src/index.js';

/** The part of an actor ref the handlers use (the spec's `ActorRef`). */
export interface RefLike {
  tell(msg: Message): void | Promise<void>;
  ask(msg: Message, options?: { timeout?: number }): Promise<unknown>;
}

/** A message: `type` names the handler. */
export interface Message {
  type: string;
  [field: string]: unknown;
}

export interface ActorDef<S, I> {
  /** A stable identity across threads (weft's default is a hash of the functions' source). */
  name?: string;
  init: (arg: I) => S;
  /** `msg: never`: any message type is accepted (parameters are contravariant). */
  handlers: Record<string, (state: S, msg: never, ctx: unknown) => unknown>;
}

type DefineActor = <S, I>(def: ActorDef<S, I>) => ActorDef<S, I>;
const defineActor: DefineActor = (weft as unknown as { defineActor?: DefineActor }).defineActor ?? ((def) => def);

/** A type alias, not an interface: it must fit `Message`'s index signature. */
export type AddMsg = { type: 'add'; by: number };
export interface Totals {
  count: number;
  sum: number;
}

/** Cases a, b, d: counts and sums `add`s; `get` replies the totals, `echo` its `v`. */
export const Counter = defineActor({
  name: 'weft-bench.Counter',
  init: (_: null): Totals => ({ count: 0, sum: 0 }),
  handlers: {
    add: (s: Totals, m: AddMsg) => {
      s.count++;
      s.sum += m.by;
    },
    get: (s: Totals): Totals => ({ count: s.count, sum: s.sum }),
    echo: (_s: Totals, m: { v: number }) => m.v,
  },
});

/** Case c, actor B (worker 1): replies to `ping` with the counter plus one. */
export const Ponger = defineActor({
  name: 'weft-bench.Ponger',
  init: (_: null) => null,
  handlers: {
    ping: (_s: null, m: { c: number }) => m.c + 1,
    /** The thread it runs on (checked: A and B on two different workers). */
    where: () => threadId,
  },
});

/**
 * Case c, actor A (worker 0): `start` bounces the counter off `peer` (B) `n` times, one ask of B
 * per round trip, and replies the final counter (n) when done.
 */
export const Pinger = defineActor({
  name: 'weft-bench.Pinger',
  init: (_: null) => null,
  handlers: {
    start: async (_s: null, m: { peer: RefLike; n: number }) => {
      let c = 0;
      for (let i = 0; i < m.n; i++) c = (await m.peer.ask({ type: 'ping', c })) as number;
      return c;
    },
    where: () => threadId,
  },
});

/** Case e: the channel on which the blocked handler says it is blocked and waits to be released. */
export const GATE_CHANNEL = 'weft-bench-actor-gate';

export interface BlockerState {
  count: number;
  /** `count` when the block was released: 0 unless messages got past the blocked handler. */
  atRelease: number;
}

/**
 * Case e: `block` does not return until the main thread posts 'release' on GATE_CHANNEL (it posts
 * 'blocked' once it waits), so every message told meanwhile stays queued in the mailbox.
 */
export const Blocker = defineActor({
  name: 'weft-bench.Blocker',
  init: (_: null): BlockerState => ({ count: 0, atRelease: -1 }),
  handlers: {
    block: (s: BlockerState) =>
      new Promise<void>((resolve) => {
        const gate = new BroadcastChannel(GATE_CHANNEL);
        gate.onmessage = (ev: unknown) => {
          if ((ev as { data?: unknown }).data !== 'release') return;
          s.atRelease = s.count;
          gate.close();
          resolve();
        };
        gate.postMessage('blocked');
      }),
    add: (s: BlockerState) => {
      s.count++;
    },
    get: (s: BlockerState): BlockerState => ({ count: s.count, atRelease: s.atRelease }),
  },
});
