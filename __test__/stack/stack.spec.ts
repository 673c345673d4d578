import test from 'ava';
import { SharedStack, type SharedStackHandle } from '../../src/index.js';

test('LIFO push/pop/peek/size', (t) => {
  const s = new SharedStack<number>();
  t.is(s.pop(), undefined);
  t.is(s.peek(), undefined);
  t.is(s.size, 0);
  s.push(1);
  s.push(2);
  s.push(3);
  t.is(s.size, 3);
  t.is(s.peek(), 3);
  t.is(s.size, 3);
  t.deepEqual([s.pop(), s.pop(), s.pop(), s.pop()], [3, 2, 1, undefined]);
  t.is(s.size, 0);
});

test('numbers keep their exact bits: NaN, -0, infinities, subnormals', (t) => {
  const s = new SharedStack<number>();
  const values = [NaN, -0, 0, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, 0.1 + 0.2];
  for (const v of values) s.push(v);
  const out = s.popMany(values.length).reverse();
  t.is(out.length, values.length);
  values.forEach((v, i) => t.true(Object.is(out[i], v), `index ${i}: ${String(out[i])} vs ${v}`));
});

test('primitives of every kind round-trip', (t) => {
  const s = new SharedStack();
  const values = ['', 'héllo 🌍', 'a\0b', '\ud800', true, false, null, 0n, -(2n ** 200n) + 7n, 2n ** 64n, 42];
  for (const v of values) s.push(v);
  t.deepEqual(s.popMany(100).reverse(), values);
});

test('typed arrays, DataView and Buffer come back as the same kind with the same bytes', (t) => {
  const s = new SharedStack<ArrayBufferView>();
  const backing = new ArrayBuffer(64);
  const views: ArrayBufferView[] = [
    new Uint8Array([1, 2, 255]),
    new Int8Array([-1, 5]),
    new Uint8ClampedArray([0, 300 as number]),
    new Int16Array([-32768, 7]),
    new Uint16Array([65535]),
    new Int32Array([-5, 1 << 30]),
    new Uint32Array([4294967295]),
    new Float32Array([1.5, NaN]),
    new Float64Array([Math.PI, -0]),
    new BigInt64Array([-(2n ** 63n)]),
    new BigUint64Array([2n ** 64n - 1n]),
    new DataView(backing, 8, 16),
    Buffer.from('buffer bytes'),
    new Float64Array(backing, 16, 2), // a view with an offset into a larger buffer
  ];
  for (const v of views) s.push(v);
  const out = s.popMany(views.length).reverse();
  out.forEach((o, i) => {
    const v = views[i]!;
    t.is(o.constructor, v.constructor, `kind of ${v.constructor.name}`);
    t.is(o.byteLength, v.byteLength);
    t.deepEqual(Buffer.from(o.buffer, o.byteOffset, o.byteLength), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  });
  t.true(Buffer.isBuffer(out[12]));
});

test('values are copies: mutating what was pushed or popped changes nothing stored', (t) => {
  const s = new SharedStack<{ n: number; a: number[] } | Uint8Array>();
  const obj = { n: 1, a: [1, 2] };
  const bytes = new Uint8Array([1, 2, 3]);
  s.push(obj);
  s.push(bytes);
  obj.n = 99;
  bytes[0] = 99;
  const peeked = s.peek() as Uint8Array;
  peeked[1] = 77;
  t.deepEqual(s.pop(), new Uint8Array([1, 2, 3]));
  t.deepEqual(s.pop(), { n: 1, a: [1, 2] });
});

test('structured-cloneable objects round-trip (Map, Set, Date, RegExp, Error, nesting, cycles)', (t) => {
  const s = new SharedStack();
  const cyclic: { self?: unknown; name: string } = { name: 'loop' };
  cyclic.self = cyclic;
  const err = new RangeError('out of range');
  const value = {
    map: new Map<unknown, unknown>([
      [1, 'a'],
      ['k', { deep: [1, 2, { x: null }] }],
    ]),
    set: new Set([1, 'two', 3n]),
    date: new Date(1_700_000_000_000),
    re: /a+b/gi,
    nested: { typed: new Float64Array([1, 2]), buf: Buffer.from('x') },
    arr: [undefined, null, -0, NaN],
  };
  s.push(value);
  s.push(cyclic);
  s.push(err);
  const e = s.pop() as Error;
  t.true(e instanceof Error);
  t.is(e.message, 'out of range');
  const c = s.pop() as typeof cyclic;
  t.is(c.self, c);
  t.deepEqual(s.pop(), value);
});

test('pushMany is all-or-nothing and keeps order; popMany takes from the top', (t) => {
  const s = new SharedStack<number | string>();
  t.is(s.pushMany([]), 0);
  t.is(s.pushMany([1, 2, 3]), 3);
  t.is(s.pushMany(new Set(['a', 4, 'b'])), 3);
  t.is(s.size, 6);
  t.deepEqual(s.popMany(4), ['b', 4, 'a', 3]);
  t.deepEqual(s.popMany(10), [2, 1]);
  t.deepEqual(s.popMany(0), []);
  t.deepEqual(s.popMany(5), []);
});

test('clear empties the stack and reports how many values it removed', (t) => {
  const s = new SharedStack<string>();
  s.pushMany(['a', 'b', 'c']);
  t.is(s.clear(), 3);
  t.is(s.size, 0);
  t.is(s.pop(), undefined);
  t.is(s.clear(), 0);
});

test('handle is a plain, frozen, serializable value; from() attaches to the same stack', (t) => {
  const s = new SharedStack<number>();
  const h: SharedStackHandle<number> = s.handle;
  t.true(Object.isFrozen(h));
  t.is(h.kind, 'weft:SharedStack');
  const copy = structuredClone(h);
  t.deepEqual(JSON.parse(JSON.stringify(h)), { ...h });
  const other = SharedStack.from(copy);
  other.push(7);
  t.is(s.pop(), 7);
  t.is(s.handle, h, 'the handle object is stable');
  t.is(other.handle.id, h.id);
});

test('inspect shows the id and size', (t) => {
  const s = new SharedStack<number>();
  s.push(1);
  t.regex(require('node:util').inspect(s), /^SharedStack \{ id: \d+, size: 1 \}$/);
  t.is(Object.prototype.toString.call(s), '[object SharedStack]');
});

test('a SharedStack inside a stored value (on another stack, or on itself) comes back as a working SharedStack', (t) => {
  const jobs = new SharedStack<string>();
  const registry = new SharedStack<{ name: string; stack: SharedStack<string>; all: Map<string, SharedStack<string>> }>();
  registry.push({ name: 'jobs', stack: jobs, all: new Map([['jobs', jobs]]) });
  const entry = registry.pop()!;
  t.true(entry.stack instanceof SharedStack);
  t.true(entry.all.get('jobs') instanceof SharedStack);
  entry.stack.push('from the popped handle');
  t.is(jobs.pop(), 'from the popped handle');
  // A stack holding itself.
  const self = new SharedStack();
  self.push([self, 1]);
  const [again, one] = self.pop() as [SharedStack, number];
  t.is(one, 1);
  again.push('x');
  t.is(self.pop(), 'x');
});

test('Map, Set, Date, RegExp, sparse arrays, boxed values, errors with properties and shared references are stored natively', (t) => {
  const s = new SharedStack();
  const shared = { n: 1 };
  const err = Object.assign(new TypeError('bad', { cause: shared }), { status: 400, when: new Date(3) });
  const value = {
    map: new Map<unknown, unknown>([[shared, new Set([1n, 'two'])]]),
    date: new Date(1_700_000_000_000),
    re: /a+b/giu,
    sparse: [1, , 3],
    boxed: [new Number(1), new String('s'), new Boolean(true)],
    a: shared,
    b: shared,
    err,
  };
  s.push(value);
  const out = s.pop() as typeof value;
  t.deepEqual(out.map, value.map);
  t.deepEqual(out.date, value.date);
  t.deepEqual(out.re, value.re);
  t.false(1 in out.sparse);
  t.is(out.sparse.length, 3);
  t.deepEqual(out.boxed, value.boxed);
  t.is(out.a, out.b);
  t.is([...out.map.keys()][0], out.a);
  t.true(out.err instanceof TypeError);
  t.is((out.err as TypeError & { status?: number }).status, 400);
  t.deepEqual((out.err as TypeError & { when?: Date }).when, new Date(3));
  t.is(out.err.cause, out.a);
});

test('encoded values round-trip on both sides of the fast pop scratch size (16 KiB), mixed with every other kind', (t) => {
  const s = new SharedStack();
  // Objects whose encodings straddle the scratch buffer: a string of length L encodes in about
  // L + 16 bytes here, so these cover well under, just under, at, just over and well over 16 KiB.
  const lengths = [0, 1, 100, 16_300, 16_350, 16_360, 16_364, 16_366, 16_370, 16_384, 16_400, 40_000, 300_000];
  const values: NonNullable<unknown>[] = [];
  for (const n of lengths) {
    values.push({ s: 'x'.repeat(n), n }, n, [n, 'é'.repeat(n >> 4)], new Uint8Array(n & 255));
  }
  // Push and pop one at a time (the fast paths), in an order that mixes big and small values.
  for (const v of values) s.push(v);
  const popped: unknown[] = [];
  for (let v = s.pop(); v !== undefined; v = s.pop()) popped.push(v);
  t.deepEqual(popped.reverse(), values);
  // And a big value popped right after a small one and the other way round (the scratch's
  // length header must not leak from one pop into the next).
  s.push({ big: 'y'.repeat(50_000) });
  s.push({ small: 1 });
  t.deepEqual(s.pop(), { small: 1 });
  t.deepEqual(s.pop(), { big: 'y'.repeat(50_000) });
  s.push({ small: 2 });
  s.push({ big: 'z'.repeat(50_000) });
  t.deepEqual(s.pop(), { big: 'z'.repeat(50_000) });
  t.deepEqual(s.pop(), { small: 2 });
  t.is(s.size, 0);
});

test('an object that cannot be cloned pushes nothing and leaves the encoder ready for the next value', (t) => {
  const s = new SharedStack();
  s.push({ keep: 1 });
  t.throws(() => s.push({ f: () => 1 } as never), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => s.push([1, Symbol('x')] as never), { code: 'WEFT_DATA_CLONE' });
  t.is(s.size, 1);
  s.push({ next: [1, 2, 3] });
  t.deepEqual(s.popMany(2), [{ next: [1, 2, 3] }, { keep: 1 }]);
});
