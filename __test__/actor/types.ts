// Type tests for actors (not run: `npm run typecheck` compiles this file). Every
// `@ts-expect-error` line must be an error, and every positive line must compile.
import {
  type ActorSystem,
  defineActor,
  type ActorMessage,
  type ActorRef,
  type ArgOf,
  type ReplyOf,
  type HandlersOf,
} from '../../src/index.js';
import { Counter, Pinger } from '../fixtures/actors.js';

/** Exact type equality (fails on `any`). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

declare const system: ActorSystem;

export async function actorTypes(): Promise<void> {
  const c = system.spawn(Counter, 1, { on: 'main' });
  c.tell({ type: 'add', by: 2 });
  const n: number = await c.ask({ type: 'get' });
  const log: number[] = await c.ask({ type: 'log' });
  const slow: number = await c.ask({ type: 'slowAdd', by: 1, ms: 1 }, { timeout: 10 });
  void [n, log, slow];
  assertType<Equals<Awaited<ReturnType<typeof c.ask<'get'>>>, number>>(true);
  assertType<Equals<ArgOf<typeof Counter>, number>>(true);
  assertType<Equals<ReplyOf<HandlersOf<typeof Counter>, 'slowAdd'>, number>>(true);

  // @ts-expect-error: unknown message type
  c.tell({ type: 'sub', by: 2 });
  // @ts-expect-error: missing payload field
  c.tell({ type: 'add' });
  // @ts-expect-error: wrong payload type
  c.tell({ type: 'add', by: '2' });
  // @ts-expect-error: the reply of 'get' is a number
  const wrong: string = await c.ask({ type: 'get' });
  void wrong;
  // @ts-expect-error: the spawn argument of Counter is a number
  system.spawn(Counter, 'one');
  // @ts-expect-error: unknown placement
  system.spawn(Counter, 1, { on: 'gpu' });
  // @ts-expect-error: unknown overflow policy
  system.spawn(Counter, 1, { mailbox: { capacity: 1, overflow: 'block' } });

  // An untyped ref takes any { type } message and asks resolve to unknown.
  const untyped: ActorRef = c;
  untyped.tell({ type: 'anything', x: 1 });
  const u: unknown = await untyped.ask({ type: 'get' });
  void u;
  // @ts-expect-error: messages need a type
  untyped.tell({ by: 1 });

  // Refs carry their definition's types through messages.
  const p: ActorRef<typeof Pinger> = system.spawn(Pinger, undefined);
  // @ts-expect-error: a Counter ref is not a Pinger ref
  const notPinger: ActorRef<typeof Pinger> = c;
  void [p, notPinger];

  const msg: ActorMessage<typeof Counter> = { type: 'add', by: 1 };
  void msg;

  // Handler parameters are typed from init's state.
  defineActor({
    init: (name: string) => ({ name, hits: 0 }),
    handlers: {
      hit: (state) => {
        state.hits++;
        // @ts-expect-error: the state has no `misses`
        state.misses++;
        return state.hits;
      },
      rename: (state, m: { to: string }, ctx) => {
        state.name = m.to;
        ctx.schedule('again', 10, { type: 'hit' });
      },
    },
  });
}
