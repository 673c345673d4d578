// The behaviours users of Akka and OTP reach for: replies answered later (ctx.replyLater), state
// machines as handler sets (ctx.become), a stash, receive timeouts, timers cancelled on restart and
// stop, and `processed` counted exactly. Each runs on the main thread and on a pool worker.
import { join } from 'node:path';
import test from 'ava';
import { ActorRef, ActorSystem, Pool, type Placement } from '../../src/index.js';
import { Connection, Idle, Later, Notes, Tally, Turnstile } from '../fixtures/behaviour-actors.js';

const MODULE = join(__dirname, '..', 'fixtures', 'behaviour-actors.ts');
const pool = new Pool({ module: MODULE, threads: 2 });
const system = new ActorSystem({ pool });
test.after.always(async () => {
  await system.shutdown();
  await pool.close();
});

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PLACES: readonly Placement[] = ['main', 0];
const where = (on: Placement): string => (on === 'main' ? 'main thread' : `worker ${on}`);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

async function until(check: () => Promise<boolean> | boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await delay(5);
  }
  return check();
}

for (const on of PLACES) {
  test(`replyLater on the ${where(on)}: answered from a timer and from another message's handler, once`, async (t) => {
    const a = system.spawn(Later, undefined, { on });
    // Typed: ReplyOf unwraps Deferred<number>.
    const doubled: number = await a.ask({ type: 'slow', v: 21, ms: 20 });
    t.is(doubled, 42);
    // @ts-expect-error the reply of `slow` is a number (Deferred<number>), not a string
    const wrong: string = await a.ask({ type: 'slow', v: 1, ms: 1 });
    t.is(typeof wrong, 'number');
    // Held asks, answered by a later message, in the order they came; the mailbox goes on meanwhile.
    const held = [a.ask({ type: 'hold', v: 1 }), a.ask({ type: 'hold', v: 2 }), a.ask({ type: 'hold', v: 3 })];
    a.tell({ type: 'hold', v: 4 }); // a tell: the handle is not awaited
    t.is(await a.ask({ type: 'release' }), 4);
    t.deepEqual(await Promise.all(held), [0, 1, 2]);
    const { results, awaited } = await a.ask({ type: 'results' });
    // Each handle: the first resolve answers (true), the second does not (false), then settled.
    t.deepEqual(results, [true, false, true, true, false, true, true, false, true, true, false, true]);
    t.deepEqual(awaited, [true, true, true, false]);
    // Async handler taking the handle after an await.
    const late: string = await a.ask({ type: 'asyncLater', v: 5 });
    t.is(late, 'late 5');
    // Rejecting a held reply rejects the ask with that error.
    const rejected = a.ask({ type: 'hold', v: 9 });
    a.tell({ type: 'rejectHeld', message: 'no answer for you' });
    const err = await t.throwsAsync(rejected);
    t.is(err.message, 'no answer for you');
    await system.stop(a);
  });

  test(`replyLater on the ${where(on)}: unanswered asks time out; the actor stopping rejects them at once; a failure rejects with it`, async (t) => {
    const a = system.spawn(Later, undefined, { on });
    t.is(await codeOf(a.ask({ type: 'hold', v: 1 }, { timeout: 100 })), 'WEFT_ASK_TIMEOUT');
    const err = await t.throwsAsync(a.ask({ type: 'takeThenThrow', message: 'broke before answering' }));
    t.is(err.message, 'broke before answering');
    // The failure restarted it (default strategy): a new handle, then a stop while it is pending.
    const pending = a.ask({ type: 'hold', v: 2 }, { timeout: 10_000 });
    await delay(20);
    const started = Date.now();
    await system.stop(a);
    t.is(await codeOf(pending), 'WEFT_ACTOR_STOPPED');
    t.true(Date.now() - started < 5000, 'rejected when the actor stopped, not at the timeout');
  });
}

test('replyLater from a callback after a synchronous handler returned throws WEFT_INVALID_ARG', async (t) => {
  const notes = system.spawn(Notes, undefined, { on: 'main' });
  for (const on of PLACES) {
    const a = system.spawn(Later, undefined, { on });
    t.is(await a.ask({ type: 'outside', report: notes as ActorRef }), 'returned');
  }
  t.true(await until(async () => (await notes.ask({ type: 'notes' })).length === 2));
  t.deepEqual(await notes.ask({ type: 'notes' }), ['WEFT_INVALID_ARG', 'WEFT_INVALID_ARG']);
});

for (const on of PLACES) {
  test(`become on the ${where(on)}: a turnstile's states as handler sets; unhandled in a state; restart goes back`, async (t) => {
    const s = system.spawn(Turnstile, undefined, { on });
    t.is(await s.ask({ type: 'push' }), 'locked: insert a coin');
    t.is(await s.ask({ type: 'coin' }), 'unlocked');
    // Unlocked: `coin` is not in the current set: its ask fails, naming the behaviour.
    const err = await t.throwsAsync(s.ask({ type: 'coin' }));
    t.is((err as { code?: string }).code, 'WEFT_INVALID_ARG');
    t.regex(err.message, /current behaviour/);
    t.is(await s.ask({ type: 'push' }), 'passed'); // unbecome(): locked again
    t.is(await s.ask({ type: 'push' }), 'locked: insert a coin');
    t.deepEqual(await s.ask({ type: 'state' }), { coins: 1, passed: 1 });
    t.regex(await s.ask({ type: 'becomeUnknown' }), /"fly" is not a message type/);
    // A restart goes back to the definition's handlers.
    t.is(await s.ask({ type: 'coin' }), 'unlocked');
    await t.throwsAsync(s.ask({ type: 'fail' })); // unlocked has no `fail`: unhandled, no restart
    t.is(await s.ask({ type: 'push' }), 'passed');
    t.is(await s.ask({ type: 'coin' }), 'unlocked');
    s.tell({ type: 'coin' }); // unhandled while unlocked: a dead letter, not a failure
    t.is(await s.ask({ type: 'push' }), 'passed');
    await t.throwsAsync(s.ask({ type: 'fail' }), { message: 'turnstile broke' }); // locked: restarts
    t.is(await s.ask({ type: 'push' }), 'locked: insert a coin');
    t.deepEqual(await s.ask({ type: 'state' }), { coins: 0, passed: 0 });
    await system.stop(s);
  });

  test(`stash on the ${where(on)}: queries wait until connected, then run in order before newer messages`, async (t) => {
    const c = system.spawn(Connection, undefined, { on });
    const early = [1, 2, 3].map((i) => c.ask({ type: 'query', q: `q${i}` }));
    const asyncEarly = c.ask({ type: 'asyncStash', q: 'a1' });
    t.is(await c.ask({ type: 'stashed' }), 4);
    t.is(await c.ask({ type: 'connect' }), 4);
    const after = c.ask({ type: 'query', q: 'q4' });
    t.deepEqual(await Promise.all(early), ['result of q1', 'result of q2', 'result of q3']);
    t.is(await asyncEarly, 'async a1');
    t.is(await after, 'result of q4');
    t.deepEqual(await c.ask({ type: 'log' }), ['q1', 'q2', 'q3', 'q4']);
    // A restart unstashes: what was stashed runs again (now connected? no: state starts over).
    c.tell({ type: 'disconnect' });
    const waiting = c.ask({ type: 'query', q: 'q5' });
    t.is(await c.ask({ type: 'stashed' }), 1);
    await t.throwsAsync(c.ask({ type: 'fail' }), { message: 'connection broke' });
    // Restarted: init again (not connected): q5 is stashed again, then connect answers it.
    t.is(await c.ask({ type: 'stashed' }), 1);
    c.tell({ type: 'connect' });
    t.is(await waiting, 'result of q5');
    // Stopping with stashed asks: they reject WEFT_ACTOR_STOPPED.
    c.tell({ type: 'disconnect' });
    const lost = c.ask({ type: 'query', q: 'q6' });
    t.is(await c.ask({ type: 'stashed' }), 1);
    await system.stop(c);
    t.is(await codeOf(lost), 'WEFT_ACTOR_STOPPED');
  });
}

test('a bounded mailbox bounds the stash: stashing past its capacity fails the handler with WEFT_MAILBOX_FULL', async (t) => {
  const c = system.spawn(Connection, undefined, { on: 'main', mailbox: { capacity: 2 }, supervision: { strategy: 'resume' } });
  const first = [c.ask({ type: 'query', q: 'a' }), c.ask({ type: 'query', q: 'b' })];
  await delay(10); // handled (stashed): the mailbox has room again
  t.is(await c.ask({ type: 'stashed' }), 2);
  t.is(await codeOf(c.ask({ type: 'query', q: 'c' })), 'WEFT_MAILBOX_FULL');
  t.is(await c.ask({ type: 'stashed' }), 2);
  t.is(await c.ask({ type: 'connect' }), 2);
  t.deepEqual(await Promise.all(first), ['result of a', 'result of b']);
  await system.stop(c);
});

for (const on of PLACES) {
  test(`receive timeout on the ${where(on)}: fires after silence, repeats, activity postpones it, null turns it off`, async (t) => {
    const a = system.spawn(Idle, undefined, { on });
    await a.ask({ type: 'arm', ms: 60 });
    // Activity every 20 ms for ~200 ms: no timeout.
    for (let i = 0; i < 10; i++) {
      a.tell({ type: 'ping' });
      await delay(20);
    }
    t.is(await a.ask({ type: 'count' }), 0, 'no timeout while messages keep coming');
    // Silence (asking would be activity): it fires at ~60, ~120, ~180 ms...
    await delay(300);
    const fired = await a.ask({ type: 'count' });
    // At ~60, ~120, ~180, ~240 ms: at least 2, and not more than one per 60 ms of silence.
    t.true(fired >= 2 && fired <= 300 / 60 + 1, `fires, and again after more silence: ${fired}`);
    const times = await a.ask({ type: 'timeouts' });
    const gaps = times.slice(1).map((ms, i) => ms - times[i]!);
    // Each after ~60 ms of silence, on the monotonic clock (a CI run once saw a 39 ms gap measured
    // with Date.now(), which can step; the bounds leave room for late timers on a loaded machine).
    t.true(
      gaps.every((g) => g >= 30) && times[times.length - 1]! - times[0]! >= 55 * gaps.length,
      `gaps (ms): ${gaps.map((g) => g.toFixed(0))}`,
    );
    await a.ask({ type: 'disarm' });
    const n = await a.ask({ type: 'count' });
    await delay(200);
    t.is(await a.ask({ type: 'count' }), n, 'off');
    t.deepEqual(await a.ask({ type: 'badArm' }), ['WEFT_INVALID_ARG', 'WEFT_INVALID_ARG', 'WEFT_INVALID_ARG']);
    await system.stop(a);
  });

  test(`named timers and the receive timeout are cancelled on restart and on stop (${where(on)})`, async (t) => {
    const notes = system.spawn(Notes, undefined, { on: 'main' });
    const restarted = system.spawn(Idle, undefined, { on });
    await t.throwsAsync(restarted.ask({ type: 'armThen', after: 'fail', ms: 30, report: notes as ActorRef }));
    const stopped = system.spawn(Idle, undefined, { on });
    stopped.tell({ type: 'armThen', after: 'stop', ms: 30, report: notes as ActorRef });
    t.is((await system.watch(stopped)).reason, 'stopped');
    await delay(150);
    t.deepEqual(await notes.ask({ type: 'notes' }), [], 'no timer fired after the restart or the stop');
    t.is(await restarted.ask({ type: 'count' }), 0, 'no receive timeout after the restart');
    await system.stop(restarted);
    await system.stop(notes);
  });
}

test('processed counts every handled message exactly: same thread, other threads, timers, asks; not unhandled ones', async (t) => {
  const main = system.spawn(Tally, undefined, { on: 'main' });
  const w0 = system.spawn(Tally, undefined, { on: 0 });
  const w0b = system.spawn(Tally, undefined, { on: 0 });
  const w1 = system.spawn(Tally, undefined, { on: 1 });
  const processed = (ref: ActorRef): number | undefined => system.stats().actors.find((s) => s.id === ref.id)?.processed;
  // main: 100 same-thread tells, then an ask
  for (let i = 0; i < 100; i++) main.tell({ type: 'hit' });
  t.is(await main.ask({ type: 'get' }), 100);
  t.is(processed(main), 101);
  // w0 sends 50 hits to w0b (same worker) and itself 7 timer hits; w1 sends 30 to w0b (other worker)
  await w0.ask({ type: 'spray', to: w0b as ActorRef<typeof Tally>, count: 50, timers: 7 });
  await w1.ask({ type: 'spray', to: w0b as ActorRef<typeof Tally>, count: 30, timers: 0 });
  // main sends 20 to w1 (main to worker) and 10 to itself
  await main.ask({ type: 'spray', to: w1 as ActorRef<typeof Tally>, count: 20, timers: 0 });
  await main.ask({ type: 'spray', to: main as ActorRef<typeof Tally>, count: 10, timers: 0 });
  t.true(
    await until(() => processed(w0) === 8 && processed(w0b) === 80 && processed(w1) === 21 && processed(main) === 113),
    JSON.stringify([processed(main), processed(w0), processed(w0b), processed(w1)]),
  );
  // An unhandled message (through an untyped ref): a dead letter, not counted.
  ActorRef.fromJSON(w1.toJSON()).tell({ type: 'nope' });
  t.is(await w1.ask({ type: 'get' }), 21);
  t.is(processed(w1), 22);
  await delay(50);
  // Nothing more arrived: the counts stay exact.
  t.deepEqual([processed(main), processed(w0), processed(w0b), processed(w1)], [113, 8, 80, 22]);
  await Promise.all([main, w0, w0b, w1].map((r) => system.stop(r)));
});
