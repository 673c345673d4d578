import test from 'ava';
import { once } from 'node:events';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SharedMap, type SharedMapHandle, SharedQueue, SharedStack, isWeftError } from '../../src/index.js';
import { runCode } from '../helpers.js';

const WORKER = join(__dirname, '..', 'fixtures', 'map-worker.mjs');

test('get/set/has/delete/size/clear, keys compared like a Map (SameValueZero)', (t) => {
  const m = new SharedMap<string | number | bigint, unknown & {}>();
  t.is(m.get('a'), undefined);
  t.is(m.set('a', 1), m);
  m.set(-0, 'zero');
  m.set(NaN, 'nan');
  m.set('1', 'string one');
  m.set(1, 'number one');
  m.set(1n, 'bigint one');
  m.set(2n ** 70n, 'big');
  t.is(m.get(0), 'zero');
  t.is(m.get(NaN), 'nan');
  t.is(m.get('1'), 'string one');
  t.is(m.get(1), 'number one');
  t.is(m.get(1n), 'bigint one');
  t.is(m.get(2n ** 70n), 'big');
  t.is(m.size, 7);
  t.true(m.has('a'));
  t.true(m.delete('a'));
  t.false(m.delete('a'));
  t.false(m.has('a'));
  t.is(m.size, 6);
  m.clear();
  t.is(m.size, 0);
  for (const bad of [undefined, null, {}, Symbol('s'), true]) t.throws(() => m.set(bad as never, 1), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => m.get({} as never), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => m.set('\ud800', 1), { code: 'WEFT_INVALID_ARG' });
  m.set('\ufffd', 'replacement char');
  t.throws(() => m.get('\ud800'), { code: 'WEFT_INVALID_ARG' }, 'a lone surrogate never reads another key');
});

test('values of every kind round-trip; a shared structure inside a value arrives working', (t) => {
  const m = new SharedMap<string>();
  const values: (NonNullable<unknown> | null)[] = [
    -0,
    NaN,
    'héllo 🌍',
    '\ud800',
    false,
    null,
    -(2n ** 90n),
    new Int16Array([-2, 3]),
    Buffer.from('b'),
    { a: [1, { b: new Map([[1, new Set(['x'])]]) }], d: new Date(7) },
  ];
  values.forEach((v, i) => m.set(`v${i}`, v));
  values.forEach((v, i) => t.deepEqual(m.get(`v${i}`), v));
  const queue = new SharedQueue<number>();
  const stack = new SharedStack<number>();
  m.set('structures', { queue, stack, self: m });
  const got = m.get('structures') as { queue: SharedQueue<number>; stack: SharedStack<number>; self: SharedMap<string> };
  got.queue.push(1);
  got.stack.push(2);
  got.self.set('via copy', true);
  t.is(queue.pop(), 1);
  t.is(stack.pop(), 2);
  t.is(m.get('via copy'), true);
});

test('increment, compareAndSet (SameValueZero / encoded bytes), getOrInsert', (t) => {
  const m = new SharedMap<string, unknown & {}>();
  t.is(m.increment('n'), 1);
  t.is(m.increment('n', 2.5), 3.5);
  t.is(m.increment('n', -3.5), 0);
  m.set('s', 'text');
  t.throws(() => m.increment('s'), { code: 'WEFT_INVALID_ARG' });
  t.is(m.get('s'), 'text');
  t.true(m.compareAndSet('c', undefined, NaN));
  t.false(m.compareAndSet('c', undefined, 1));
  t.true(m.compareAndSet('c', NaN, -0));
  t.true(m.compareAndSet('c', 0, { a: 1, b: [2] }));
  t.false(m.compareAndSet('c', { b: [2], a: 1 }, 'x'), 'another property order encodes differently');
  t.true(m.compareAndSet('c', { a: 1, b: [2] }, new Uint8Array([1, 2])));
  t.false(m.compareAndSet('c', new Int8Array([1, 2]), 'x'), 'another view kind');
  t.true(m.compareAndSet('c', new Uint8Array([1, 2]), 5n));
  t.true(m.compareAndSet('c', 5n, 'done'));
  t.is(m.get('c'), 'done');
  t.is(m.stats().casFailures, 3);
  t.deepEqual(m.getOrInsert('g', { first: true }), { first: true });
  t.deepEqual(m.getOrInsert('g', { first: false }), { first: true });
});

test('values that cannot be cloned throw WEFT_DATA_CLONE and leave the map unchanged', (t) => {
  const m = new SharedMap<string, unknown & {}>();
  m.set('k', 'kept');
  t.throws(() => m.set('k', () => 1), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => m.set('k', { f: Symbol('x') }), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => m.compareAndSet('k', 'kept', () => 1), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => m.getOrInsert('new', () => 1), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => m.set('k', undefined as never), { code: 'WEFT_INVALID_ARG' });
  t.is(m.get('k'), 'kept');
  t.false(m.has('new'));
  t.is(m.size, 1);
});

test('capacity evicts; ttl expires entries (map-wide and per entry); ttl needs an expiring map', async (t) => {
  const bounded = new SharedMap<number, number>({ capacity: 50 });
  for (let i = 0; i < 5000; i++) bounded.set(i, i);
  t.true(bounded.size <= 50, `size ${bounded.size}`);
  t.true(bounded.stats().evictions > 0);
  t.is(bounded.capacity, 50);

  const expiring = new SharedMap<string, string>({ ttl: 60_000 });
  expiring.set('short', 'x', { ttl: 30 });
  expiring.set('long', 'y');
  t.is(expiring.get('short'), 'x');
  await new Promise((r) => setTimeout(r, 120));
  t.is(expiring.get('short'), undefined);
  t.is(expiring.get('long'), 'y');
  t.is(expiring.size, 1);

  const plain = new SharedMap<string, string>();
  t.throws(() => plain.set('a', 'b', { ttl: 10 }), { code: 'WEFT_INVALID_ARG', message: /ttl/ });
  t.throws(() => new SharedMap({ capacity: 0 }), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => new SharedMap({ ttl: -1 }), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => new SharedMap({ size: 1 } as never), { code: 'WEFT_INVALID_ARG' });
});

test('entries() is a snapshot', (t) => {
  const m = new SharedMap<string, number>();
  m.set('a', 1).set('b', 2);
  const it = m.entries();
  m.set('c', 3);
  m.delete('a');
  t.deepEqual(
    [...it].sort(([x], [y]) => x.localeCompare(y)),
    [
      ['a', 1],
      ['b', 2],
    ],
  );
  t.deepEqual([...m.keys()].sort(), ['b', 'c']);
  t.deepEqual([...m.values()].sort(), [2, 3]);
  t.deepEqual(
    new Map([...new Map(m)].sort(([x], [y]) => x.localeCompare(y))),
    new Map([
      ['b', 2],
      ['c', 3],
    ]),
  );
});

test('several workers: increments add up exactly, CAS loops lose nothing, getOrInsert has one winner', async (t) => {
  const WORKERS = 4;
  const COUNT = 20_000;
  const m = new SharedMap<string, unknown & {}>();
  const workers = Array.from({ length: WORKERS }, () => new Worker(WORKER, { workerData: { handle: m.handle, count: COUNT, keys: 8 } }));
  const exits = workers.map((w) => once(w, 'exit'));
  const results = await Promise.all(
    workers.map((w) => once(w, 'message').then(([r]) => r as { threadId: number; winner: number; retries: number })),
  );
  let total = 0;
  for (let k = 0; k < 8; k++) total += m.get(`k${k}`) as number;
  t.is(total, WORKERS * COUNT);
  t.is(m.get('cas'), WORKERS * COUNT);
  const winners = new Set(results.map((r) => r.winner));
  t.is(winners.size, 1, 'every worker saw the same first value');
  t.true(results.some((r) => r.threadId === [...winners][0]));
  for (const r of results) t.deepEqual(m.get(`worker:${r.threadId}`), { threadId: r.threadId, tags: ['done'] });
  t.log(`CAS retries: ${results.map((r) => r.retries).join(', ')}; stats ${inspect(m.stats())}`);
  await Promise.all(exits);
});

test('handle: plain, frozen, typed; from() attaches; bad handles throw clear errors', (t) => {
  const m = new SharedMap<string, number>();
  const h: SharedMapHandle<string, number> = m.handle;
  t.true(Object.isFrozen(h));
  SharedMap.from(h).set('x', 1);
  t.is(m.get('x'), 1);
  t.throws(() => SharedMap.from({ ...h, id: h.id + 1_000_000 }), { code: 'WEFT_STALE_HANDLE' });
  t.throws(() => SharedMap.from(new SharedQueue().handle as never), { code: 'WEFT_INVALID_ARG' });
  t.regex(inspect(m), /SharedMap \{ id: \d+, size: 1 \}/);
  t.is(Object.prototype.toString.call(m), '[object SharedMap]');
});

test('child process: forged, stale and garbage handles throw (never crash); maps holding each other are freed; RSS bounded', (t) => {
  const r = runCode(
    `
    const { SharedMap } = require('.');
    const { native } = require('./dist/native.js');
    const out = [];
    const tryIt = (h) => { try { SharedMap.from(h); out.push('attached'); } catch (e) { out.push(e.code); } };
    const keep = new SharedMap();
    tryIt({ kind: 'weft:SharedMap', id: 2 ** 45, process: keep.handle.process });
    tryIt({ kind: 'weft:SharedMap', id: keep.handle.id, process: 7 });
    const stale = new SharedMap().handle;
    const before = native.NativeMap.liveCount();
    const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
    const rounds = [];
    function round(left) {
      for (let i = 0; i < 1000; i++) {
        const a = new SharedMap(); const b = new SharedMap({ capacity: 8 });
        a.set('b', b); b.set('a', { a, self: b }); a.set('n', i); a.increment('c');
      }
      global.gc();
      setTimeout(() => { global.gc(); rounds.push(mb()); if (left > 1) round(left - 1); else done(); }, 20);
    }
    function done() {
      tryIt(stale);
      tryIt({ kind: 'weft:SharedMap', id: 'x', process: 0 });
      // The last round's maps are freed by finalizers that run after a GC, a turn or two later.
      setTimeout(() => { global.gc(); setTimeout(() => {
        console.log(JSON.stringify({ out, rounds, live: native.NativeMap.liveCount(), before }));
      }, 50); }, 50);
    }
    round(8);
  `,
    ['--expose-gc'],
  );
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  const { out, rounds, live, before } = JSON.parse(r.stdout.trim()) as { out: string[]; rounds: number[]; live: number; before: number };
  t.deepEqual(out, ['WEFT_STALE_HANDLE', 'WEFT_STALE_HANDLE', 'WEFT_STALE_HANDLE', 'WEFT_INVALID_ARG']);
  t.true(live <= before, `${live} maps alive (${before} before the rounds)`);
  // Growth past the plateau (the allocator keeps the first rounds' memory; a plateau is the highest
  // of its rounds). 1,000 pairs a round: with 5,000 (a bounded map is a moka cache, heavy) RSS
  // swung by 100 MB from round to round on Node 24 (391, 292, 425, 397, 462, 424 MB); with 1,000
  // it stays within 2 MB on Node 20 and 24, while a leak of a few KB per map would add 10 MB a round.
  const late = Math.max(...rounds.slice(5)) - Math.max(...rounds.slice(2, 5));
  t.log(rounds);
  t.true(late < 8, `RSS grew by ${late} MB from rounds 3-5 to rounds 6-8 (${rounds.join(', ')} MB)`);
});

test('isWeftError on a map error', (t) => {
  const e = t.throws(() => new SharedMap<string, number>().increment('k', 'x' as never));
  t.true(isWeftError(e, 'WEFT_INVALID_ARG'));
});
