/**
 * The rough edges a newcomer hits with actors: a definition the workers cannot find, messages of
 * a type the actor does not handle, failures in timer-driven messages, and what an ask caller
 * sees of a handler's error.
 */
import { join } from 'node:path';
import test from 'ava';
import { ActorRef, ActorSystem, Pool, defineActor } from '../../src/index.js';
import { EdgeCounter, EdgeForwarder, EdgeHang, EdgeScheduler, EdgeThrower, EdgeTimerBomb } from '../fixtures/actor-edges-tasks.js';

const MODULE = join(__dirname, '..', 'fixtures', 'actor-edges-tasks.ts');

// One pool; each test has its own system (dead-letter counts are per system).
const pool = new Pool({ module: MODULE, threads: 2 });
const systems: ActorSystem[] = [];
function newSystem(): ActorSystem {
  const s = new ActorSystem({ pool });
  systems.push(s);
  return s;
}
test.after.always(async () => {
  for (const s of systems) await s.shutdown();
  await pool.close();
});

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Failure {
  code?: string;
  message: string;
}

async function rejection(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    return err as Failure;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): Failure {
  try {
    fn();
  } catch (err) {
    return err as Failure;
  }
  throw new Error('expected a throw');
}

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await delay(5);
  }
  return true;
}

// Defined here only: the workers load the task module, which does not define these.
const MainOnly = defineActor({ name: 'MainOnly', init: () => 0, handlers: { get: (s) => s } });
const UnnamedMainOnly = defineActor({
  init: () => ({ hits: 0 }),
  handlers: { hitUnnamedMainOnly: (s: { hits: number }) => ++s.hits },
});

test('a definition the task module does not have: the first ask rejects WEFT_INVALID_ARG naming it, the module and where to define it', async (t) => {
  const system = newSystem();
  const failures: Array<{ actor: number; error: unknown }> = [];
  system.on('failure', (e) => failures.push(e));

  const ref = system.spawn(MainOnly, undefined, { on: 'worker', name: 'main-only' });
  ref.tell({ type: 'get' }); // before the worker has answered: a dead letter, not an error
  const err = await rejection(ref.ask({ type: 'get' }));
  t.is(err.code, 'WEFT_INVALID_ARG', err.message);
  t.regex(err.message, /"MainOnly"/, 'names the definition');
  t.regex(err.message, /"main-only"/, 'names the actor');
  t.true(err.message.includes(MODULE), `names the task module: ${err.message}`);
  t.regex(err.message, /task module/);
  t.regex(err.message, /task module \(.*\) or in a module it imports: define it there/, 'says where to define it');
  t.regex(err.message, /actor\/edges\.spec\.ts/, 'says where it is defined now');
  t.notRegex(err.message, /is not running/);

  // Once known, later uses fail at once, with the same explanation.
  const again = thrown(() => ref.tell({ type: 'get' }));
  t.is(again.code, 'WEFT_INVALID_ARG');
  t.regex(again.message, /MainOnly/);
  const ask2 = await rejection(ref.ask({ type: 'get' }));
  t.is(ask2.code, 'WEFT_INVALID_ARG');
  t.regex(ask2.message, /MainOnly/);

  const end = await system.watch(ref);
  t.is(end.reason, 'failed');
  t.is((end.error as Failure).code, 'WEFT_INVALID_ARG');
  t.true(await until(() => failures.some((f) => f.actor === ref.id)), 'a failure event');

  // An unnamed definition is named by its handlers and where it was defined.
  const u = system.spawn(UnnamedMainOnly, undefined, { on: 1 });
  const uerr = await rejection(u.ask({ type: 'hitUnnamedMainOnly' }));
  t.is(uerr.code, 'WEFT_INVALID_ARG', uerr.message);
  t.regex(uerr.message, /hitUnnamedMainOnly/);
  t.regex(uerr.message, /actor\/edges\.spec\.ts/);
  t.true(uerr.message.includes(MODULE));

  // The same definitions run on the main thread.
  const m = system.spawn(MainOnly, undefined, { on: 'main' });
  t.is(await m.ask({ type: 'get' }), 0);
});

test('tell and ask of a type the definition does not handle, through a typed ref: WEFT_INVALID_ARG at the call site, naming the type and the handled ones', async (t) => {
  const system = newSystem();
  for (const on of ['main', 0] as const) {
    const c = system.spawn(EdgeCounter, 1, { on });
    const before = system.stats().deadLetters;
    const e1 = thrown(() => c.tell({ type: 'sub', by: 1 } as never));
    t.is(e1.code, 'WEFT_INVALID_ARG', e1.message);
    t.regex(e1.message, /"sub"/);
    t.regex(e1.message, /"add", "get"/);
    t.regex(e1.message, /EdgeCounter/);
    const e2 = await rejection(c.ask({ type: 'sub' } as never));
    t.is(e2.code, 'WEFT_INVALID_ARG', e2.message);
    t.regex(e2.message, /"sub"/);
    t.regex(e2.message, /"add", "get"/);
    const e3 = thrown(() => c.tell(42 as never));
    t.is(e3.code, 'WEFT_INVALID_ARG', e3.message);
    t.regex(e3.message, /type/);
    t.is(await c.ask({ type: 'get' }), 1, `the actor on ${on} is unaffected`);
    t.is(system.stats().deadLetters, before, 'refused at the call site: not a dead letter');
  }
  // ctx.self knows its definition too.
  const f = system.spawn(EdgeForwarder, undefined, { on: 1 });
  const r = await f.ask({ type: 'selfUnhandled' });
  t.true(r.threw);
  t.is(r.code, 'WEFT_INVALID_ARG');
  t.regex(r.message ?? '', /"nope"/);
});

test('an unhandled type through a ref that does not know the definition is a counted dead letter (and its ask rejects clearly)', async (t) => {
  const system = newSystem();
  const main = system.spawn(EdgeCounter, 0, { on: 'main' });
  const w0 = system.spawn(EdgeCounter, 0, { on: 0 });
  const fwd = system.spawn(EdgeForwarder, undefined, { on: 1 });
  let expected = system.stats().deadLetters;
  const seen = (actor: number, type: string): boolean =>
    system.deadLetters().some((d) => d.actor === actor && d.reason === 'unhandled' && (d.message as { type?: string }).type === type);

  for (const target of [main, w0]) {
    // Untyped: a ref rebuilt from its JSON form.
    const untyped = ActorRef.fromJSON(target.toJSON());
    untyped.tell({ type: 'plain-untyped', n: 1 });
    expected++;
    t.true(
      await until(() => seen(target.id, 'plain-untyped')),
      `listed as a dead letter (actor on ${target.id === main.id ? 'main' : 'worker'})`,
    );
    t.is(system.stats().deadLetters, expected);
    const err = await rejection(untyped.ask({ type: 'asked-untyped' }));
    expected++;
    t.is(err.code, 'WEFT_INVALID_ARG', err.message);
    t.regex(err.message, /"asked-untyped"/);
    t.regex(err.message, /"add", "get"/);
    t.true(await until(() => seen(target.id, 'asked-untyped')));

    // A ref that travelled to another thread (inside a message).
    t.true(await fwd.ask({ type: 'forward', target, message: { type: 'travelled' } }));
    expected++;
    t.true(await until(() => seen(target.id, 'travelled')), 'a ref that travelled: a dead letter too');
    const viaWorker = await fwd.ask({ type: 'forwardAsk', target, message: { type: 'travelled-ask' } });
    expected++;
    t.false(viaWorker.ok);
    t.is(viaWorker.code, 'WEFT_INVALID_ARG');
    t.regex(viaWorker.message ?? '', /"travelled-ask"/);
    t.true(await until(() => system.stats().deadLetters === expected), `dead letters ${system.stats().deadLetters}, expected ${expected}`);
    t.is(await target.ask({ type: 'get' }), 0, 'the actor is unaffected');
  }
});

test('ctx.schedule with a message its actor does not handle, or a callback, throws WEFT_INVALID_ARG where it is called', async (t) => {
  const system = newSystem();
  for (const on of ['main', 0] as const) {
    const s = system.spawn(EdgeScheduler, undefined, { on, supervision: { strategy: 'resume' } });
    const e1 = await rejection(s.ask({ type: 'scheduleUnknown' }));
    t.is(e1.code, 'WEFT_INVALID_ARG', e1.message);
    t.regex(e1.message, /"nope"/);
    t.regex(e1.message, /schedule/);
    const e2 = await rejection(s.ask({ type: 'scheduleCallback' }));
    t.is(e2.code, 'WEFT_INVALID_ARG', e2.message);
    t.regex(e2.message, /schedule/);
    t.is(await s.ask({ type: 'scheduleTick' }), 'scheduled');
    // A 5 ms timer; on a loaded machine it may fire much later, so poll (up to 5 s).
    let ticks = 0;
    for (const end = Date.now() + 5000; ticks === 0 && Date.now() < end; await delay(10))
      ticks = (await s.ask({ type: 'ticks' })) as number;
    t.is(ticks, 1, `the well-formed timer fired once (${on})`);
  }
});

test('an exception in a timer-driven message reaches the supervisor (stop, restart budget, resume) and the failure event, on the main thread and on workers', async (t) => {
  const system = newSystem();
  const failures: Array<{ actor: number; error: unknown }> = [];
  system.on('failure', (e) => failures.push(e));
  for (const on of ['main', 0] as const) {
    const stopped = system.spawn(EdgeTimerBomb, 10, { on, supervision: { strategy: 'stop' } });
    const end = await system.watch(stopped);
    t.is(end.reason, 'failed');
    t.is((end.error as Error).message, 'exploded in a timer');
    t.true(await until(() => failures.some((f) => f.actor === stopped.id)), `failure event (${on})`);

    // restart: onStart schedules the bomb again each time, until the budget is spent.
    const restarted = system.spawn(EdgeTimerBomb, 10, { on, supervision: { strategy: 'restart', maxRestarts: 2, withinMs: 10_000 } });
    const end2 = await system.watch(restarted);
    t.is(end2.reason, 'failed');
    t.is((end2.error as Error).message, 'exploded in a timer');
    t.true(await until(() => failures.some((f) => f.actor === restarted.id)));

    const resumed = system.spawn(EdgeTimerBomb, 10, { on, supervision: { strategy: 'resume' } });
    await delay(40);
    t.is(await resumed.ask({ type: 'get' }), 1, 'resumed: still running, started once');
    await system.stop(resumed);
  }
});

test('errors thrown by handlers reach ask callers with name, message, code, own fields, cause and stack', async (t) => {
  const system = newSystem();
  for (const on of ['main', 0] as const) {
    const th = system.spawn(EdgeThrower, undefined, { on, supervision: { strategy: 'resume' } });
    for (const kind of ['custom', 'async'] as const) {
      const err = (await rejection(th.ask({ type: 'throw', kind }))) as Error & { code?: string; extra?: unknown; cause?: Error };
      t.true(err instanceof Error, `${on} ${kind}`);
      t.is(err.name, 'EdgeCustomError');
      t.is(err.message, kind === 'custom' ? 'custom failure' : 'async custom failure');
      t.is(err.code, 'E_EDGE');
      t.deepEqual(err.extra, { n: 1 });
      t.is(err.cause?.name, 'RangeError');
      t.is(err.cause?.message, 'the root cause');
      t.regex(err.stack ?? '', /actor-edges-tasks/, 'the stack is where it was thrown');
    }
    const weft = (await rejection(th.ask({ type: 'throw', kind: 'weft' }))) as Error & { code?: string; cause?: Error };
    t.is(weft.name, 'WeftError');
    t.is(weft.code, 'WEFT_INVALID_ARG');
    t.is(weft.cause?.message, 'the root cause');
    t.is(await rejection(th.ask({ type: 'throw', kind: 'string' })), 'a thrown string' as never);
  }
});

test('an ask whose async handler is still running when the actor is killed rejects WEFT_ACTOR_STOPPED at once', async (t) => {
  const system = newSystem();
  for (const on of ['main', 0] as const) {
    const h = system.spawn(EdgeHang, undefined, { on });
    // Kill only once the handler runs (not while the message still waits in the mailbox).
    const channel = `edge-hang-${on}`;
    const bc = new BroadcastChannel(channel);
    const running = new Promise<boolean>((resolve) => {
      bc.onmessage = () => resolve(true);
      setTimeout(() => resolve(false), 5000).unref();
    });
    const pending = rejection(h.ask({ type: 'hang', channel }, { timeout: 10_000 }));
    t.true(await running, `the handler started (${on})`);
    bc.close();
    const started = Date.now();
    t.deepEqual(await system.kill(h), { reason: 'killed' });
    const err = await pending;
    t.is(err.code, 'WEFT_ACTOR_STOPPED', `${on}: ${err.message}`);
    t.regex(err.message, /"hang"/);
    t.true(Date.now() - started < 5000, 'not the ask timeout');
  }
});
