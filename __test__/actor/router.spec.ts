import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import test from 'ava';
import fc from 'fast-check';
import { ActorSystem, Pool, Router, isWeftError, type ActorRef, type RouterOptions } from '../../src/index.js';
import { Dispatcher, Routee } from '../fixtures/router-actors.js';

const MODULE = join(__dirname, '..', 'fixtures', 'router-actors.ts');

// One pool and system for the tests that do not break workers.
const pool = new Pool({ module: MODULE, threads: 2 });
const system = new ActorSystem({ pool });
test.after.always(async () => {
  await system.shutdown();
  await pool.close();
});

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type T = { is(a: unknown, b: unknown, m?: string): void; fail(m: string): void };

function throwsCode(t: T, f: () => unknown, code: string, message?: RegExp): void {
  try {
    f();
  } catch (err) {
    t.is((err as { code?: string }).code, code, (err as Error).message);
    if (message !== undefined && !message.test((err as Error).message))
      t.fail(`message ${(err as Error).message} does not match ${message}`);
    return;
  }
  t.fail(`expected a throw with ${code}`);
}

async function rejectsWith(t: T, p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    t.is((err as { code?: string }).code, code, (err as Error).message);
    return;
  }
  t.fail(`expected a rejection with ${code}`);
}

const seenOf = (refs: readonly ActorRef<typeof Routee>[]): Promise<number[][]> => Promise.all(refs.map((r) => r.ask({ type: 'seen' })));
const onOf = (ref: ActorRef): 'main' | number | undefined => system.stats().actors.find((a) => a.id === ref.id)?.on;

test('round-robin (the default): routee i gets messages i, i+n, i+2n... in order; tell and ask share the turn', async (t) => {
  const router = system.router(Routee, 'rr', { size: 3 });
  t.is(router.routing, 'round-robin');
  t.is(router.size, 3);
  for (let n = 0; n < 30; n++) router.tell({ type: 'work', n });
  t.deepEqual(
    await seenOf(router.routees),
    [0, 1, 2].map((i) => Array.from({ length: 10 }, (_, k) => i + 3 * k)),
  );
  // The next turn is routee 0's, then 1, 2, 0 for the asks.
  const ids = await Promise.all([0, 1, 2, 3].map(() => router.ask({ type: 'who' })));
  t.deepEqual(
    ids,
    [0, 1, 2, 0].map((i) => router.routees[i]!.id),
  );
  t.is(router.select({ type: 'who' }), router.routees[1]!);
  await router.stop();
});

test('spread over the pool: routee i on worker i % threads by default (size: one per worker); on: main or a worker index', async (t) => {
  const spread = system.router(Routee, 's', { size: 4 });
  t.deepEqual(spread.routees.map(onOf), [0, 1, 0, 1]);
  const where = await Promise.all(spread.routees.map((r) => r.ask({ type: 'where' })));
  t.is(where[0], where[2]);
  t.is(where[1], where[3]);
  t.not(where[0], where[1]);
  t.false(where.includes(threadId));

  const byDefault = system.router(Routee, 'd');
  t.is(byDefault.size, 2, 'one routee per worker');
  t.deepEqual(byDefault.routees.map(onOf), [0, 1]);

  const main = system.router(Routee, 'm', { size: 2, on: 'main' });
  t.deepEqual(main.routees.map(onOf), ['main', 'main']);
  t.deepEqual(await Promise.all(main.routees.map((r) => r.ask({ type: 'where' }))), [threadId, threadId]);
  const one = system.router(Routee, 'w1', { size: 3, on: 1 });
  t.deepEqual(one.routees.map(onOf), [1, 1, 1]);
  await Promise.all([spread.stop(), byDefault.stop(), main.stop(), one.stop()]);

  // Without a pool, routees run on the main thread, and size is required.
  const local = new ActorSystem();
  try {
    throwsCode(t, () => local.router(Routee, 'x'), 'WEFT_INVALID_ARG', /size is required/);
    const r = local.router(Routee, 'x', { size: 2 });
    t.is(await r.ask({ type: 'where' }), threadId);
  } finally {
    await local.shutdown();
  }
});

test('random: every routee gets messages, roughly uniformly', async (t) => {
  const router = system.router(Routee, 'rnd', { size: 4, routing: 'random', on: 'main' });
  const N = 4000;
  for (let n = 0; n < N; n++) router.tell({ type: 'work', n });
  const counts = (await seenOf(router.routees)).map((s) => s.length);
  t.is(
    counts.reduce((a, b) => a + b),
    N,
  );
  // Expected 1000 each, standard deviation about 27: 850..1150 is more than 5 of them.
  for (const c of counts) t.true(c > 850 && c < 1150, `counts ${counts.join(', ')}`);
  // Not round-robin in disguise: the first 40 picks are not in turn.
  const picks = Array.from({ length: 40 }, () => router.routees.indexOf(router.select({ type: 'who' })));
  t.false(
    picks.every((p, i) => p === (picks[0]! + i) % 4),
    picks.join(','),
  );
  await router.stop();
});

test.serial(
  'least-mailbox: messages go to the idle routee while the others are held with messages queued (routees on workers)',
  async (t) => {
    // Routees 0 and 1 on worker 0 and 1, routee 2 on worker 0.
    const router = system.router(Routee, 'lm', { size: 3, routing: 'least-mailbox' });
    const [a, b, idle] = router.routees as [ActorRef<typeof Routee>, ActorRef<typeof Routee>, ActorRef<typeof Routee>];
    // Started (workers boot lazily), so that each takes its hold at once.
    await Promise.all(router.routees.map((r) => r.ask({ type: 'who' })));
    a.tell({ type: 'hold', ms: 400 });
    b.tell({ type: 'hold', ms: 400 });
    // Once their hosts took the holds, what comes next waits in their mailboxes.
    await delay(60);
    for (let n = 0; n < 5; n++) {
      a.tell({ type: 'work', n: -1 });
      b.tell({ type: 'work', n: -1 });
    }
    await delay(30);
    // Loads (2 × queued + busy): a and b 11, idle 0. A burst of 12 counts itself (its batch leaves
    // at the end of the turn): idle takes the first 6 (loads 0..10), then the three alternate.
    for (let n = 0; n < 12; n++) router.tell({ type: 'work', n });
    const first = await idle.ask({ type: 'seen' });
    t.deepEqual(first.slice(0, 5), [0, 1, 2, 3, 4], `idle got ${first.join(',')}`);
    t.true(first.length >= 5 && first.length <= 8, `idle got ${first.join(',')}`);
    // It handled them: the least loaded again.
    t.is(router.select({ type: 'who' }), idle);
    await delay(450);
    const [seenA, seenB] = await seenOf([a, b]);
    t.true(seenA!.filter((n) => n >= 0).length >= 2 && seenB!.filter((n) => n >= 0).length >= 2, `a ${seenA}, b ${seenB}`);
    t.is(first.length + seenA!.filter((n) => n >= 0).length + seenB!.filter((n) => n >= 0).length, 12);
    // All idle again: a burst spreads evenly (ties are taken in turn, the burst itself counts).
    const before = (await seenOf(router.routees)).map((s) => s.length);
    for (let n = 100; n < 130; n++) router.tell({ type: 'work', n });
    const after = (await seenOf(router.routees)).map((s) => s.length);
    t.deepEqual(
      after.map((c, i) => c - before[i]!),
      [10, 10, 10],
    );
    await router.stop();
  },
);

test.serial('least-mailbox: main-thread routees count their JavaScript queue and a running async handler', async (t) => {
  const router = system.router(Routee, 'lmm', { size: 3, routing: 'least-mailbox', on: 'main' });
  const [a, b, c] = router.routees as [ActorRef<typeof Routee>, ActorRef<typeof Routee>, ActorRef<typeof Routee>];
  a.tell({ type: 'hold', ms: 200 });
  b.tell({ type: 'hold', ms: 200 });
  await delay(20);
  // a: busy, empty queue; b: busy with 2 queued; c: idle.
  b.tell({ type: 'work', n: -1 });
  b.tell({ type: 'work', n: -1 });
  t.is(router.select({ type: 'who' }), c);
  c.tell({ type: 'hold', ms: 200 });
  c.tell({ type: 'work', n: -1 });
  await delay(5);
  // c now: busy with 1 queued; a: busy with none: a wins.
  t.is(router.select({ type: 'who' }), a);
  await delay(250);
  await router.stop();
});

test('least-mailbox in a group skips routees that have stopped, and says so when none runs', async (t) => {
  const refs = [0, 1, 2].map(() => system.spawn(Routee, 'g', { on: 0 }));
  const router = Router.of(refs, { routing: 'least-mailbox' });
  await system.stop(refs[0]!);
  await system.stop(refs[2]!);
  for (let i = 0; i < 5; i++) t.is(router.select({ type: 'who' }), refs[1]!);
  await system.stop(refs[1]!);
  throwsCode(t, () => router.tell({ type: 'who' }), 'WEFT_ACTOR_STOPPED', /none of its routees is running/);
  t.is(router.prune(), 3);
  throwsCode(t, () => router.tell({ type: 'who' }), 'WEFT_ACTOR_STOPPED', /group is empty/);
});

const keyOf = (m: { type: string; key?: string }): string => m.key ?? m.type;

test('consistent-hash: the same key always goes to the same routee (asked through the router on workers)', async (t) => {
  const router = system.router(Routee, 'ch', { size: 4, routing: 'consistent-hash', key: (m) => (m.type === 'keyed' ? m.key : m.type) });
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
  const first = await Promise.all(keys.map((key) => router.ask({ type: 'keyed', key })));
  const again = await Promise.all(keys.map((key) => router.ask({ type: 'keyed', key })));
  t.deepEqual(again, first);
  t.deepEqual(
    first,
    keys.map((key) => router.select({ type: 'keyed', key }).id),
  );
  // Every routee got some keys, and each key went to exactly one routee, in order.
  const got = await Promise.all(router.routees.map((r) => r.ask({ type: 'keys' })));
  for (const g of got) t.true(g.length > 10, `a routee got ${g.length} of 200 keys`);
  const owner = new Map<string, number>();
  got.forEach((g, i) => {
    for (const k of g) {
      t.true(owner.get(k) === undefined || owner.get(k) === i, `key ${k} went to two routees`);
      owner.set(k, i);
    }
  });
  t.is(owner.size, 200);
  // Numbers are keys too (as their decimal text).
  const numeric = Router.of(router.routees, { routing: 'consistent-hash', key: () => 42 });
  const byText = Router.of(router.routees, { routing: 'consistent-hash', key: () => '42' });
  t.is(numeric.select({ type: 'who' }), byText.select({ type: 'who' }));
  await router.stop();
});

test('consistent-hash (property): removing a routee moves only its keys; adding one moves keys only to it; about 1/n move', async (t) => {
  const refs = Array.from({ length: 8 }, () => system.spawn(Routee, 'p', { on: 'main' }));
  const options: RouterOptions<typeof Routee> = { routing: 'consistent-hash', key: keyOf };
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 8 }),
      fc.nat(),
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 200 }),
      (n, which, keys) => {
        const group = refs.slice(0, n);
        const router = Router.of(group, options);
        const pick = (): number[] => keys.map((key) => router.select({ type: 'keyed', key }).id);
        const before = pick();
        t.deepEqual(pick(), before, 'stable while the group is unchanged');
        const gone = group[which % n]!;
        router.remove(gone);
        const after = pick();
        for (let i = 0; i < keys.length; i++) {
          if (before[i] !== gone.id && after[i] !== before[i]) return false;
          if (after[i] === gone.id) return false;
        }
        // Adding it back restores every key.
        router.add(gone);
        return pick().every((id, i) => id === before[i]);
      },
    ),
    { numRuns: 100 },
  );
  for (const n of [2, 4, 8]) {
    const router = Router.of(refs.slice(0, n), options);
    const keys = Array.from({ length: 8000 }, (_, i) => `k${i}`);
    const before = keys.map((key) => router.select({ type: 'keyed', key }).id);
    router.remove(refs[n - 1]!);
    const moved = keys.filter((key, i) => router.select({ type: 'keyed', key }).id !== before[i]).length / keys.length;
    t.true(moved > 0.7 / n && moved < 1.35 / n, `n = ${n}: ${(moved * 100).toFixed(1)}% moved`);
  }
  await Promise.all(refs.map((r) => system.stop(r)));
});

test('typed: a router takes only its definition’s messages and replies with its handlers’ types', async (t) => {
  const router = system.router(Routee, 'typed', { size: 2, on: 'main' });
  const id: number = await router.ask({ type: 'who' });
  const seen: number[] = await router.ask({ type: 'seen' });
  t.true(router.routees.some((r) => r.id === id));
  t.true(Array.isArray(seen));
  // @ts-expect-error: Routee has no handler 'nope' (refused at run time too: the routees know their definition)
  throwsCode(t, () => router.tell({ type: 'nope' }), 'WEFT_INVALID_ARG');
  // @ts-expect-error: nor 'nope2'
  throwsCode(t, () => router.broadcast({ type: 'nope2' }), 'WEFT_INVALID_ARG');
  if (id < 0) {
    // Type-only lines (not run).
    // @ts-expect-error: n must be a number
    router.tell({ type: 'work', n: '1' });
    // @ts-expect-error: the reply of 'who' is a number
    const wrong: string = await router.ask({ type: 'who' });
    void wrong;
    // @ts-expect-error: the key function gets the definition's messages (they have no `nope` field)
    Router.of(router.routees, { routing: 'consistent-hash', key: (m) => m.nope });
    // A typed router does not widen to the untyped one implicitly (its routees do).
    // @ts-expect-error: Router is invariant in its definition
    const notWidened: Router = router;
    void notWidened;
    const untyped: Router = Router.of(router.routees as readonly ActorRef[]);
    untyped.tell({ type: 'anything' });
  }
  await router.stop();
});

test('broadcast tells every routee; routees is a frozen snapshot', async (t) => {
  const router = system.router(Routee, 'b', { size: 3 });
  router.broadcast({ type: 'work', n: 7 });
  router.broadcast({ type: 'work', n: 8 });
  t.deepEqual(await seenOf(router.routees), [
    [7, 8],
    [7, 8],
    [7, 8],
  ]);
  const snap = router.routees;
  t.true(Object.isFrozen(snap));
  t.true(router.remove(snap[0]!));
  t.is(snap.length, 3);
  t.is(router.routees.length, 2);
  t.false(router.remove(snap[0]!));
  t.true(router.add(snap[0]!));
  t.false(router.add(snap[0]!));
  t.is(router.routees[2], snap[0]);
  await router.stop();
  t.deepEqual(await system.watch(snap[0]!), { reason: 'stopped' }, 'stop() stops every routee it spawned');
});

test('broadcast tries every routee: one full mailbox throws after the others got the message', async (t) => {
  const router = system.router(Routee, 'full', { size: 3, on: 'main', mailbox: { capacity: 1, overflow: 'reject' } });
  const [a, b, c] = router.routees as [ActorRef<typeof Routee>, ActorRef<typeof Routee>, ActorRef<typeof Routee>];
  b.tell({ type: 'hold', ms: 50 });
  await delay(5);
  b.tell({ type: 'work', n: -1 }); // b is busy, its mailbox full
  throwsCode(t, () => router.broadcast({ type: 'work', n: 1 }), 'WEFT_MAILBOX_FULL');
  await delay(5); // a and c handle it (their mailboxes hold one message)
  t.deepEqual(await a.ask({ type: 'seen' }), [1]);
  t.deepEqual(await c.ask({ type: 'seen' }), [1]);
  await delay(60);
  t.deepEqual(await b.ask({ type: 'seen' }), [-1]);
  await router.stop();
});

test('a routee that stops leaves a pool router; a restarted one keeps its place; the last one leaving empties it', async (t) => {
  const router = system.router(Routee, 'st', { size: 4 });
  const [r0, r1, r2, r3] = router.routees as ActorRef<typeof Routee>[];
  // Stopped from outside.
  await system.stop(r1!);
  t.deepEqual(router.routees, [r0, r2, r3]);
  // Stopping itself (ctx.stop on its worker).
  r2!.tell({ type: 'quit' });
  await system.watch(r2!);
  t.deepEqual(router.routees, [r0, r3]);
  // A failure with the default supervision (restart): same ref, still routed to.
  await t.throwsAsync(r0!.ask({ type: 'fail' }), { message: 'routee failed' });
  t.is(await r0!.ask({ type: 'who' }), r0!.id);
  t.deepEqual(router.routees, [r0, r3]);
  const ids = await Promise.all([0, 1, 2, 3].map(() => router.ask({ type: 'who' })));
  t.deepEqual(ids.sort(), [r0!.id, r0!.id, r3!.id, r3!.id].sort());
  // A failure with supervision 'stop' ends the routee: it leaves too.
  const strict = system.router(Routee, 'strict', { size: 2, supervision: { strategy: 'stop' } });
  const [s0, s1] = strict.routees;
  await strict.ask({ type: 'fail' }).catch(() => {});
  t.deepEqual((await system.watch(s0!)).reason, 'failed');
  t.deepEqual(strict.routees, [s1]);
  await system.kill(s1!);
  t.is(strict.size, 0);
  throwsCode(t, () => strict.tell({ type: 'who' }), 'WEFT_ACTOR_STOPPED', /every routee of this router has ended/);
  await rejectsWith(t, strict.ask({ type: 'who' }), 'WEFT_ACTOR_STOPPED');
  throwsCode(t, () => strict.broadcast({ type: 'who' }), 'WEFT_ACTOR_STOPPED');
  await router.stop();
});

test('stop(): a pool router stops its routees after their queued messages; later sends throw WEFT_ACTOR_STOPPED', async (t) => {
  const router = system.router(Routee, 'stop', { size: 2 });
  const refs = router.routees;
  for (let n = 0; n < 100; n++) router.tell({ type: 'work', n });
  const watched = refs.map((r) => system.watch(r));
  const stopping = router.stop();
  t.is(router.stop(), stopping);
  t.true(router.stopped);
  throwsCode(t, () => router.tell({ type: 'work', n: 0 }), 'WEFT_ACTOR_STOPPED', /router has stopped/);
  await rejectsWith(t, router.ask({ type: 'who' }), 'WEFT_ACTOR_STOPPED');
  await stopping;
  t.deepEqual(await Promise.all(watched), [{ reason: 'stopped' }, { reason: 'stopped' }]);

  // A group router's stop leaves its routees running.
  const refs2 = [system.spawn(Routee, 'x', { on: 0 }), system.spawn(Routee, 'y', { on: 1 })];
  const group = Router.of(refs2);
  await group.stop();
  throwsCode(t, () => group.tell({ type: 'who' }), 'WEFT_ACTOR_STOPPED');
  t.is(await refs2[0]!.ask({ type: 'tag' }), 'x');
  await Promise.all(refs2.map((r) => system.stop(r)));
});

test('an empty group: tell throws and ask rejects WEFT_ACTOR_STOPPED, until a routee is added', async (t) => {
  const router = Router.of<typeof Routee>([]);
  t.is(router.size, 0);
  throwsCode(t, () => router.tell({ type: 'work', n: 1 }), 'WEFT_ACTOR_STOPPED', /group is empty/);
  await rejectsWith(t, router.ask({ type: 'who' }), 'WEFT_ACTOR_STOPPED');
  throwsCode(t, () => router.select({ type: 'who' }), 'WEFT_ACTOR_STOPPED');
  const r = system.spawn(Routee, 'e', { on: 'main' });
  router.add(r);
  t.is(await router.ask({ type: 'who' }), r.id);
  // prune drops what no longer runs.
  await system.stop(r);
  t.is(router.prune(), 1);
  t.is(router.size, 0);
});

test('a group router inside an actor on a worker: round-robin and consistent-hash agree with the main thread', async (t) => {
  const routees = [0, 1, 2].map((i) => system.spawn(Routee, `g${i}`, { on: i % 2 }));
  const rr = system.spawn(Dispatcher, { routees, routing: 'round-robin' }, { on: 1 });
  t.not(await rr.ask({ type: 'where' }), threadId);
  t.is(await rr.ask({ type: 'size' }), 3);
  await rr.ask({ type: 'spread', count: 12 });
  // The dispatcher's tells left before its reply; the routees' own queues are FIFO per sender,
  // but the check asks from another sender: wait for the last one.
  let seen = await seenOf(routees);
  for (let i = 0; i < 50 && seen.flat().length < 12; i++) {
    await delay(10);
    seen = await seenOf(routees);
  }
  t.deepEqual(seen, [
    [0, 3, 6, 9],
    [1, 4, 7, 10],
    [2, 5, 8, 11],
  ]);

  const ch = system.spawn(Dispatcher, { routees, routing: 'consistent-hash' }, { on: 0 });
  const keys = Array.from({ length: 50 }, (_, i) => `order-${i}`);
  const there = await ch.ask({ type: 'picks', keys });
  const here = Router.of(routees, { routing: 'consistent-hash', key: keyOf });
  t.deepEqual(
    there,
    keys.map((key) => here.select({ type: 'keyed', key }).id),
  );
  t.deepEqual(await Promise.all(keys.slice(0, 10).map((key) => ch.ask({ type: 'keyed', key }))), there.slice(0, 10));
  await Promise.all([...routees, rr, ch].map((r) => system.stop(r as ActorRef)));
});

test('a worker that dies: its routees restart on the other worker with the same refs, and the router keeps them all', async (t) => {
  const p2 = new Pool({ module: MODULE, threads: 2 });
  const sys2 = new ActorSystem({ pool: p2 });
  try {
    const router = sys2.router(Routee, 'c', { size: 4 });
    const refs = router.routees;
    const on = (r: ActorRef): unknown => sys2.stats().actors.find((a) => a.id === r.id)?.on;
    t.deepEqual(refs.map(on), [0, 1, 0, 1]);
    for (let n = 0; n < 8; n++) router.tell({ type: 'work', n });
    const survivor = await refs[1]!.ask({ type: 'where' });
    await rejectsWith(t, refs[0]!.ask({ type: 'crash' }), 'WEFT_WORKER_EXIT');
    t.deepEqual(router.routees, refs, 'same routees, same refs');
    // The moved ones start again (state from init) on the surviving worker.
    const ids = await Promise.all([0, 1, 2, 3].map(() => router.ask({ type: 'who' })));
    t.deepEqual([...ids].sort(), refs.map((r) => r.id).sort());
    t.deepEqual(await Promise.all(refs.map((r) => r.ask({ type: 'where' }))), [survivor, survivor, survivor, survivor]);
    t.deepEqual(refs.map(on), [1, 1, 1, 1]);
    t.deepEqual(await refs[1]!.ask({ type: 'seen' }), [1, 5], 'routees on the surviving worker kept their state');
  } finally {
    await sys2.shutdown();
    await p2.close();
  }
});

test.serial('bad options throw WEFT_INVALID_ARG, naming the nearest valid option; nothing is spawned', (t) => {
  const count = (): number => system.stats().actors.length;
  const before = count();
  const bad = (f: () => unknown, message?: RegExp): void => throwsCode(t, f, 'WEFT_INVALID_ARG', message);
  // @ts-expect-error: unknown option
  bad(() => system.router(Routee, 'x', { size: 2, rotuing: 'random' }), /did you mean routing\?/);
  // @ts-expect-error: unknown option
  bad(() => system.router(Routee, 'x', { szie: 2 }), /did you mean size\?/);
  // @ts-expect-error: unknown option
  bad(() => Router.of([], { virtualNode: 5 }), /did you mean virtualNodes\?/);
  // @ts-expect-error: not a routing
  bad(() => system.router(Routee, 'x', { routing: 'fastest' }), /unknown routing 'fastest'/);
  bad(() => system.router(Routee, 'x', { routing: 'consistent-hash' }), /needs a key function/);
  bad(() => system.router(Routee, 'x', { key: (m) => m.type }), /key is for routing 'consistent-hash'/);
  bad(() => Router.of([], { virtualNodes: 10 }), /virtualNodes is for routing 'consistent-hash'/);
  bad(() => Router.of([], { routing: 'consistent-hash', key: keyOf, virtualNodes: 0 }), /virtualNodes must be an integer/);
  for (const size of [0, -1, 1.5, Number.NaN, 1e9]) bad(() => system.router(Routee, 'x', { size }), /size must be an integer/);
  // @ts-expect-error: size is a number
  bad(() => system.router(Routee, 'x', { size: '2' }), /size must be an integer/);
  // @ts-expect-error: options are an object
  bad(() => system.router(Routee, 'x', 3), /must be an object/);
  bad(() => system.router(Routee, 'x', { size: 2, on: 7 }), /on must be/);
  // @ts-expect-error: unknown mailbox option (checked by spawn)
  bad(() => system.router(Routee, 'x', { size: 2, mailbox: { capacty: 4 } }), /did you mean capacity\?/);
  // @ts-expect-error: not a definition
  bad(() => system.router({}, 'x', { size: 2 }), /defineActor/);
  t.is(count(), before, 'no routee was left running');

  // Router.of: an array of refs of one system, each once; a key that is not a string or number.
  // @ts-expect-error: not an array
  bad(() => Router.of('refs'), /expects an array/);
  // @ts-expect-error: not refs
  bad(() => Router.of([{ id: 1 }]), /expects ActorRefs/);
  const r = system.spawn(Routee, 'x', { on: 'main' });
  bad(() => Router.of([r, r]), /twice/);
  const other = new ActorSystem();
  const foreign = other.spawn(Routee, 'f');
  bad(() => Router.of([r, foreign]), /one actor system/);
  bad(() => Router.of([r]).add(foreign), /one actor system/);
  const badKey = Router.of([r], { routing: 'consistent-hash', key: () => ({}) as unknown as string });
  bad(() => badKey.tell({ type: 'who' }), /key function must return a string or a finite number/);
  t.true(isWeftError(t.throws(() => Router.of([r], { routing: 'consistent-hash', key: () => Number.NaN }).select({ type: 'who' }))));
  void other.shutdown();
  void system.stop(r);
});

test('ask through a router rejects (never throws) on a bad key function, and passes the routee’s errors and options through', async (t) => {
  const router = system.router(Routee, 'ak', { size: 2, on: 'main', routing: 'consistent-hash', key: () => ({}) as unknown as string });
  await rejectsWith(t, router.ask({ type: 'who' }), 'WEFT_INVALID_ARG');
  const thrower = Router.of(router.routees, {
    routing: 'consistent-hash',
    key: () => {
      throw new Error('no key');
    },
  });
  await t.throwsAsync(thrower.ask({ type: 'who' }), { message: 'no key' });
  t.throws(() => thrower.tell({ type: 'who' }), { message: 'no key' });
  const rr = Router.of(router.routees);
  await rejectsWith(t, rr.ask({ type: 'hold', ms: 200 }, { timeout: 20 }), 'WEFT_ASK_TIMEOUT');
  await t.throwsAsync(rr.ask({ type: 'fail' }), { message: 'routee failed' });
  await delay(200);
  await router.stop();
});
