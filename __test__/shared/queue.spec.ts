import test from 'ava';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Pool, SharedQueue, type SharedQueueHandle, SharedStack, isWeftError } from '../../src/index.js';
import { native } from '../../src/native.js';
import { rejection, runCode } from '../helpers.js';

const WORKER = join(__dirname, '..', 'fixtures', 'queue-worker.mjs');
const TASKS = join(__dirname, '..', 'fixtures', 'queue-tasks.mjs');

test('FIFO push/pop/tryPop, size, pushMany/popMany', (t) => {
  const q = new SharedQueue<number | string>();
  t.is(q.pop(), undefined);
  t.is(q.tryPop(), undefined);
  q.push(1);
  q.push('two');
  t.is(q.pushMany([3, 4, 5]), 3);
  t.is(q.pushMany(['six', 7]), 2);
  t.is(q.pushMany([]), 0);
  t.is(q.size, 7);
  t.is(q.capacity, undefined);
  t.is(q.pop(), 1);
  t.deepEqual(q.popMany(3), ['two', 3, 4]);
  t.deepEqual(q.popMany(100), [5, 'six', 7]);
  t.deepEqual(q.popMany(10), []);
  t.is(q.size, 0);
  // popMany of numbers only comes back as a plain array too.
  q.pushMany([NaN, -0, 1.5]);
  const nums = q.popMany(3);
  t.true(Array.isArray(nums));
  t.true(Number.isNaN(nums[0]) && Object.is(nums[1], -0) && nums[2] === 1.5);
});

test('bounded: tryPush is false and push throws WEFT_QUEUE_FULL when full; pushMany takes what fits', (t) => {
  const q = new SharedQueue<number>({ capacity: 3 });
  t.is(q.capacity, 3);
  t.true(q.tryPush(1));
  t.is(q.pushMany([2, 3, 4, 5]), 2);
  t.false(q.tryPush(9));
  t.false(q.tryPush({ big: 'object' } as never));
  const e = t.throws(() => q.push(10));
  t.true(isWeftError(e, 'WEFT_QUEUE_FULL'));
  t.deepEqual(q.popMany(10), [1, 2, 3]);
  t.is(q.stats().full, 3);
  t.throws(() => new SharedQueue({ capacity: 0 }), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => new SharedQueue({ capacity: 1.5 }), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => new SharedQueue({ capasity: 2 } as never), { code: 'WEFT_INVALID_ARG' });
});

test('values of every kind round-trip, and a shared structure inside a value arrives working', (t) => {
  const q = new SharedQueue();
  const inner = new SharedQueue<string>();
  const stack = new SharedStack<number>();
  const values = [
    0,
    -0,
    'héllo 🌍',
    '\ud800',
    true,
    null,
    2n ** 100n,
    new Float32Array([1.5, NaN]),
    Buffer.from('bytes'),
    { a: [1, { b: new Map([[1, new Set(['x'])]]) }], d: new Date(7) },
  ];
  for (const v of values) q.push(v);
  q.push({ inner, stack });
  for (const v of values) t.deepEqual(q.pop(), v);
  const got = q.pop() as { inner: SharedQueue<string>; stack: SharedStack<number> };
  t.true(got.inner instanceof SharedQueue);
  t.is(got.inner.handle.id, inner.handle.id);
  got.inner.push('through the copy');
  t.is(inner.pop(), 'through the copy');
  got.stack.push(5);
  t.is(stack.pop(), 5);
});

test('values that cannot be cloned reject with WEFT_DATA_CLONE and leave the queue unchanged', async (t) => {
  const q = new SharedQueue<NonNullable<unknown> | null>({ capacity: 4 });
  q.push('kept');
  t.throws(() => q.push(() => 1), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => q.push({ f: Symbol('s') }), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => q.pushMany([1, 2, () => 3]), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => q.push(undefined as never), { code: 'WEFT_INVALID_ARG' });
  const e = await rejection(t, q.pushAsync({ f: () => 1 }));
  t.true(isWeftError(e, 'WEFT_DATA_CLONE'));
  t.is(q.size, 1);
  t.deepEqual(q.popMany(10), ['kept']);
});

test('popAsync resolves when a value is pushed later; pushAsync when room appears', async (t) => {
  const q = new SharedQueue<number>({ capacity: 2 });
  const a = q.popAsync();
  const b = q.popAsync();
  q.push(1);
  q.push(2);
  t.is(await a, 1);
  t.is(await b, 2);
  // A full queue: pushAsync waits for a pop.
  q.push(3);
  q.push(4);
  let pushed = false;
  const p = q.pushAsync(5).then(() => {
    pushed = true;
  });
  await new Promise((r) => setImmediate(r));
  t.false(pushed);
  t.is(q.pop(), 3);
  await p;
  t.true(pushed);
  t.deepEqual(q.popMany(5), [4, 5]);
});

test('popAsync and pushAsync with an AbortSignal: an abort ends the wait with WEFT_ABORTED and takes or adds nothing', async (t) => {
  const q = new SharedQueue<number>({ capacity: 1 });
  // An aborted wait pops nothing: the value pushed after it goes to the next consumer.
  const ac = new AbortController();
  const a = q.popAsync({ signal: ac.signal });
  const b = q.popAsync();
  ac.abort(new Error('no longer needed'));
  const err = await rejection(t, a);
  t.true(isWeftError(err, 'WEFT_ABORTED'));
  t.is((err as Error & { cause?: Error }).cause?.message, 'no longer needed');
  q.push(1);
  t.is(await b, 1);
  t.is(q.size, 0);

  // One signal for many waits: every wait ends, and no listener is left behind.
  const many = new AbortController();
  const waits = Array.from({ length: 20 }, () => q.popAsync({ signal: many.signal }));
  many.abort();
  for (const w of waits) t.true(isWeftError(await rejection(t, w), 'WEFT_ABORTED'));
  q.push(2);
  t.is(q.pop(), 2, 'no aborted wait took the value');

  // An aborted pushAsync adds nothing; the waits behind it still go in order.
  q.push(3);
  const pc = new AbortController();
  const p1 = q.pushAsync(4, { signal: pc.signal });
  const p2 = q.pushAsync(5);
  pc.abort();
  t.true(isWeftError(await rejection(t, p1), 'WEFT_ABORTED'));
  t.is(q.pop(), 3);
  await p2;
  t.deepEqual(q.popMany(5), [5]);

  // A signal aborted already rejects at once, even when a value is there.
  q.push(6);
  t.true(isWeftError(await rejection(t, q.popAsync({ signal: AbortSignal.abort() })), 'WEFT_ABORTED'));
  t.true(isWeftError(await rejection(t, q.pushAsync(7, { signal: AbortSignal.abort() })), 'WEFT_ABORTED'));
  t.is(q.pop(), 6);
  t.is(q.size, 0);

  // A wait that settled first is not touched by a later abort.
  const late = new AbortController();
  const c = q.popAsync({ signal: late.signal });
  q.push(8);
  t.is(await c, 8);
  late.abort();
  t.is(q.stats().waitingPop, 0);

  // Bad options are a clear error.
  t.true(isWeftError(await rejection(t, q.popAsync({ signal: 'soon' } as never)), 'WEFT_INVALID_ARG'));
  t.true(isWeftError(await rejection(t, q.pushAsync(1, { sigal: undefined } as never)), 'WEFT_INVALID_ARG'));
  t.is(q.size, 0);
});

test('child process: an aborted popAsync no longer keeps the process alive', (t) => {
  const r = runCode(`
    const { SharedQueue } = require('.');
    const q = new SharedQueue();
    const ac = new AbortController();
    q.popAsync({ signal: ac.signal }).catch((e) => console.log(e.code));
    setTimeout(() => ac.abort(), 50);
  `);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'WEFT_ABORTED');
});

test('close: pushes throw WEFT_CLOSED, pending pushAsync rejects, consumers drain then end', async (t) => {
  const q = new SharedQueue<number>({ capacity: 2 });
  q.pushMany([1, 2]);
  const pending = q.pushAsync(3);
  q.close();
  t.true(q.closed);
  t.true(isWeftError(await rejection(t, pending), 'WEFT_CLOSED'));
  t.throws(() => q.push(4), { code: 'WEFT_CLOSED' });
  t.throws(() => q.pushMany([4]), { code: 'WEFT_CLOSED' });
  const seen: number[] = [];
  for await (const v of q) seen.push(v);
  t.deepEqual(seen, [1, 2]);
  t.is(await q.popAsync(), undefined);
  q.close(); // idempotent

  // A consumer already waiting ends when another thread-object closes the queue.
  const r = new SharedQueue<number>();
  const waiting = r.popAsync();
  SharedQueue.from(r.handle).close();
  t.is(await waiting, undefined);
});

test('several worker consumers each receive every value exactly once (popAsync, for await, popMany)', async (t) => {
  const N = 60_000;
  const q = new SharedQueue<number>();
  const modes = ['iterate', 'popAsync', 'popMany', 'iterate'];
  const workers = modes.map((mode) => new Worker(WORKER, { workerData: { handle: q.handle, mode } }));
  const results = workers.map((w) => once(w, 'message').then(([m]) => m as { threadId: number; got: number[] }));
  const exits = workers.map((w) => once(w, 'exit'));
  // Pushes in bursts with pauses, so that consumers go to sleep and are woken many times.
  let next = 0;
  while (next < N) {
    if (next % 3 === 0) q.push(next++);
    else {
      const batch = Array.from({ length: Math.min(500, N - next) }, (_, i) => next + i);
      next += q.pushMany(batch);
    }
    if (next % 5000 < 500) await new Promise((r) => setTimeout(r, 1));
  }
  q.close();
  const all = await Promise.all(results);
  const seen = new Set<number>();
  let total = 0;
  for (const { got } of all) {
    // Each consumer sees the values in increasing order (one producer, FIFO).
    for (let i = 1; i < got.length; i++) if (got[i]! <= got[i - 1]!) t.fail(`out of order: ${got[i - 1]} then ${got[i]}`);
    for (const v of got) seen.add(v);
    total += got.length;
  }
  t.is(total, N, 'as many values received as pushed');
  t.is(seen.size, N, 'no value received twice');
  t.true(
    all.every((r) => r.got.length > 0),
    `every consumer got work: ${all.map((r) => r.got.length).join(', ')}`,
  );
  t.true(q.stats().wakes > 0, 'consumers were woken from Rust');
  await Promise.all(exits);
});

test('a queue crosses into pool tasks (as an argument and nested in one): producers and consumers on workers', async (t) => {
  const pool = new Pool<typeof import('../fixtures/queue-tasks.mjs', { with: { 'resolution-mode': 'import' }})>({
    module: TASKS,
    threads: 2,
    concurrentTasksPerWorker: 4,
  });
  try {
    const q = new SharedQueue<number>();
    const consumers = [pool.run('consume', q), pool.run('consume', q)];
    const produced = await Promise.all([
      pool.run('produce', { queue: q, from: 0, count: 5000 }),
      pool.run('produce', { queue: q, from: 5000, count: 5000 }),
    ]);
    t.deepEqual(produced, [5000, 5000]);
    // Wait until both consumers have drained before closing (close only ends them).
    while (q.size > 0) await new Promise((r) => setTimeout(r, 5));
    q.close();
    const got = (await Promise.all(consumers)).flatMap((r) => r.got);
    t.is(got.length, 10_000);
    t.is(new Set(got).size, 10_000);
  } finally {
    await pool.destroy();
  }
});

test('handle: plain, frozen, typed; from() attaches; bad handles throw clear errors', (t) => {
  const q = new SharedQueue<number>();
  const h: SharedQueueHandle<number> = q.handle;
  t.true(Object.isFrozen(h));
  t.is(h.kind, 'weft:SharedQueue');
  t.deepEqual(JSON.parse(JSON.stringify(h)), { kind: h.kind, id: h.id, process: h.process });
  const other = SharedQueue.from(h);
  other.push(7);
  t.is(q.pop(), 7);
  t.throws(() => SharedQueue.from({ ...h, id: h.id + 1_000_000 }), { code: 'WEFT_STALE_HANDLE' });
  t.throws(() => SharedQueue.from({ ...h, process: (h.process + 1) % 0x7fffffff }), {
    code: 'WEFT_STALE_HANDLE',
    message: /another process/,
  });
  t.throws(() => SharedQueue.from({ ...h, kind: 'weft:SharedStack' } as never), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => SharedQueue.from(new SharedStack().handle as never), { code: 'WEFT_INVALID_ARG' });
  for (const bad of [
    null,
    5,
    'x',
    {},
    { kind: 'weft:SharedQueue', id: -1, process: 0 },
    { kind: 'weft:SharedQueue', id: 1.5, process: 0 },
  ]) {
    t.throws(() => SharedQueue.from(bad as never), { code: 'WEFT_INVALID_ARG' });
  }
  const hostile = new Proxy(
    {},
    {
      get: () => {
        throw new Error('trap');
      },
    },
  );
  t.throws(() => SharedQueue.from(hostile as never), { code: 'WEFT_INVALID_ARG', message: /trap/ });
});

test('child process: forged, stale and garbage handles throw (never crash), and the process exits cleanly', (t) => {
  const r = runCode(
    `
    const { SharedQueue } = require('.');
    const out = [];
    const tryIt = (h) => { try { SharedQueue.from(h); out.push('attached'); } catch (e) { out.push(e.code); } };
    const q = new SharedQueue();
    tryIt({ kind: 'weft:SharedQueue', id: 2 ** 40, process: q.handle.process });        // forged id
    tryIt({ kind: 'weft:SharedQueue', id: q.handle.id, process: 12345 });               // another process
    let h = new SharedQueue().handle;
    global.gc(); setTimeout(() => { global.gc(); setTimeout(() => {
      tryIt(h);                                                                          // stale
      tryIt({ kind: 'weft:SharedQueue', id: NaN, process: 0 });                          // garbage
      tryIt(Object.create(null));
      console.log(JSON.stringify(out));
    }, 20); }, 20);
  `,
    ['--expose-gc'],
  );
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout.trim()), [
    'WEFT_STALE_HANDLE',
    'WEFT_STALE_HANDLE',
    'WEFT_STALE_HANDLE',
    'WEFT_INVALID_ARG',
    'WEFT_INVALID_ARG',
  ]);
});

test('child process: a pending popAsync keeps the process alive until a worker pushes; then it exits by itself', (t) => {
  const r = runCode(`
    const { Worker } = require('node:worker_threads');
    const { SharedQueue } = require('.');
    const q = new SharedQueue();
    q.popAsync().then((v) => console.log('got', v));
    new Worker("const { workerData } = require('node:worker_threads'); const { SharedQueue } = require(process.cwd()); setTimeout(() => SharedQueue.from(workerData).push(42), 100);", { eval: true, workerData: q.handle }).unref();
  `);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'got 42');
  t.is(r.stderr, '');
});

test('child process, no leak: queues with async waits are freed, RSS stays bounded', (t) => {
  const r = runCode(
    `
    const { SharedQueue } = require('.');
    const { native } = require('./dist/native.js');
    const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
    async function round() {
      for (let i = 0; i < 5000; i++) {
        const q = new SharedQueue({ capacity: 1 });
        const p = q.popAsync();
        q.push({ i, s: 'x'.repeat(64) });
        await p;
        q.push(1);
        const w = q.pushAsync(2);
        q.pop();
        await w;
        const c = q.popAsync(); q.pop(); q.close(); await c;
      }
      global.gc();
      await new Promise((r) => setTimeout(r, 20));
      global.gc();
      return mb();
    }
    (async () => {
      const rounds = [];
      for (let k = 0; k < 9; k++) rounds.push(await round());
      await new Promise((r) => setTimeout(r, 50)); global.gc();
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify({ rounds, live: native.NativeQueue.liveCount() }));
    })();
  `,
    ['--expose-gc'],
  );
  t.is(r.status, 0, r.stderr);
  const { rounds, live } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rounds: number[]; live: number };
  t.log(rounds, live);
  t.true(live < 100, `${live} queues still alive after 45,000 were dropped`);
  // Growth past the plateau (the allocator keeps the first rounds' memory; one round can also dip
  // low when the OS takes pages back, so a plateau is the highest of its rounds). Node 24 reaches
  // its plateau later than Node 20: 100, 127, 128, 143, 153, 157, 159, 161, 158, then 158-162 up
  // to round 14 (Node 20: 91, 117, 120, then 117-120). So rounds 7-9 against rounds 4-6.
  const late = Math.max(...rounds.slice(6)) - Math.max(...rounds.slice(3, 6));
  t.true(late < 12, `RSS grew by ${late} MB from rounds 4-6 to rounds 7-9 (${rounds.join(', ')} MB)`);
});

test('child process: a queue that holds its own handle (and one of another queue) does not keep either alive', (t) => {
  const r = runCode(
    `
    const { SharedQueue, SharedStack } = require('.');
    const { native } = require('./dist/native.js');
    const before = native.NativeQueue.liveCount();
    (() => {
      const a = new SharedQueue();
      const b = new SharedQueue();
      a.push({ self: a, other: b });
      b.push([a, b, new SharedStack()]);
    })();
    global.gc();
    setTimeout(() => {
      global.gc();
      setTimeout(() => console.log(JSON.stringify({ before, after: native.NativeQueue.liveCount(), stacks: native.NativeStack.liveCount() })), 20);
    }, 20);
  `,
    ['--expose-gc'],
  );
  t.is(r.status, 0, r.stderr);
  const { before, after, stacks } = JSON.parse(r.stdout.trim()) as { before: number; after: number; stacks: number };
  t.is(after, before, 'both queues were freed');
  t.is(stacks, 0);
});

test('inspect, toStringTag, stats and liveCount', (t) => {
  const before = native.NativeQueue.liveCount();
  const q = new SharedQueue<number>({ capacity: 8 });
  q.push(1);
  t.is(native.NativeQueue.liveCount(), before + 1);
  t.is(Object.prototype.toString.call(q), '[object SharedQueue]');
  t.regex(require('node:util').inspect(q), /SharedQueue \{ id: \d+, size: 1, capacity: 8 \}/);
  t.like(q.stats(), { size: 1, capacity: 8, waitingPop: 0, waitingPush: 0, closed: false });
});
