import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { inspect, isDeepStrictEqual } from 'node:util';
import { DataCloneError, InvalidArgumentError, WeftError, isWeftError } from '../../src/errors.js';
import {
  ERR_CAUSE,
  ERR_CLASS,
  ERR_CODE,
  ERR_ERRORS,
  ERR_OWN_NAME,
  ERR_PROPS,
  ERR_STACK,
  HANDLE_SHARED_STACK,
  MAX_DEPTH,
  MAX_ERROR_NESTING,
  TAG_ARRAY,
  TAG_ARRAY_BUFFER,
  TAG_BIGINT,
  TAG_BOXED,
  TAG_DATE,
  TAG_ERROR,
  TAG_F64,
  TAG_FALSE,
  TAG_GRAPH,
  TAG_HANDLE,
  TAG_INT32,
  TAG_MAP,
  TAG_NULL,
  TAG_OBJECT,
  TAG_REF,
  TAG_REGEXP,
  TAG_SET,
  TAG_SPARSE_ARRAY,
  TAG_STRING,
  TAG_STRING16,
  TAG_TRUE,
  TAG_UNDEFINED,
  TAG_VIEW,
  VIEW_BUFFER,
  VIEW_DATAVIEW,
  VIEW_FLOAT64,
  VIEWS,
  WIRE_VERSION,
  WireReader,
  WireWriter,
} from '../../src/internal/wire.js';
import { SharedStack } from '../../src/shared/stack.js';

function roundTrip(v: unknown, w = new WireWriter(16)): unknown {
  w.reset();
  w.value(v);
  const r = new WireReader(w.view());
  const out = r.value();
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after ${inspect(v)}`);
  return out;
}

/** The tag of `v`'s encoding (after the version byte; after GRAPH for a GRAPH value). */
function tagOf(v: unknown): number {
  const b = encoded(v);
  return b[1] === TAG_GRAPH ? b[2]! : b[1]!;
}

/** Whether `v` is written as a GRAPH value (with an identity table) rather than a plain one. */
function isGraph(v: unknown): boolean {
  return encoded(v)[1] === TAG_GRAPH;
}

function encoded(v: unknown): Uint8Array {
  const w = new WireWriter();
  w.value(v);
  const b = w.view();
  if (b[0] !== WIRE_VERSION) throw new Error(`version byte ${b[0]}`);
  return b;
}

/** Hand-made value bytes, after the version byte. */
function versioned(bytes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = WIRE_VERSION;
  out.set(bytes as ArrayLike<number>, 1);
  return out;
}

/** Deep equality that tells -0 from 0, holes from undefined, and checks prototypes. */
/**
 * Deep strict equality, except that two invalid Dates are equal (Node 20's isDeepStrictEqual
 * compares their getTime(), NaN, and says they differ).
 */
function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b) || isDeepStrictEqual(withoutInvalidDates(a), withoutInvalidDates(b));
}

const INVALID_DATE = Symbol.for('invalid date');
function withoutInvalidDates(v: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (seen.has(v)) return seen.get(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? INVALID_DATE : v;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof RegExp || v instanceof Error) return v;
  if (v instanceof Map) {
    const m = new Map<unknown, unknown>();
    seen.set(v, m);
    for (const [k, x] of v) m.set(withoutInvalidDates(k, seen), withoutInvalidDates(x, seen));
    return m;
  }
  if (v instanceof Set) {
    const s = new Set<unknown>();
    seen.set(v, s);
    for (const x of v) s.add(withoutInvalidDates(x, seen));
    return s;
  }
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    seen.set(v, out);
    for (let i = 0; i < v.length; i++) if (i in v) out[i] = withoutInvalidDates(v[i], seen);
    return out;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return v;
  const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
  seen.set(v, out);
  for (const k of Object.keys(v)) out[k] = withoutInvalidDates((v as Record<string, unknown>)[k], seen);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixed-width fields and the reader's cursor

test('fixed-width fields are little-endian and read back', (t) => {
  const w = new WireWriter(4);
  w.u8(0xab);
  w.u16(0x1234);
  w.u32(0xdeadbeef);
  w.i32(-2);
  w.f32(1.5);
  w.f64(-0);
  w.bytes(new Uint8Array([7, 8, 9]));
  const bytes = w.view();
  t.is(w.length, 1 + 2 + 4 + 4 + 4 + 8 + 3);
  t.deepEqual([...bytes.subarray(0, 7)], [0xab, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde]);
  const r = new WireReader(bytes);
  t.is(r.u8(), 0xab);
  t.is(r.u16(), 0x1234);
  t.is(r.u32(), 0xdeadbeef);
  t.is(r.i32(), -2);
  t.is(r.f32(), 1.5);
  t.true(Object.is(r.f64(), -0));
  t.deepEqual([...r.bytes(3)], [7, 8, 9]);
  t.is(r.remaining, 0);
  t.throws(() => r.u8(), { instanceOf: WeftError });
  t.throws(() => r.u32(), { instanceOf: WeftError });
});

test('the reader works on a Uint8Array with a non-zero byteOffset; offset, skip, remaining', (t) => {
  const w = new WireWriter();
  w.u32(1);
  w.value('two');
  w.u32(3);
  const src = w.view();
  const big = new Uint8Array(src.length + 13);
  big.set(src, 7);
  const r = new WireReader(big.subarray(7, 7 + src.length));
  t.is(r.u32(), 1);
  const at = r.offset;
  t.is(r.value(), 'two');
  t.is(r.u32(), 3);
  r.offset = at;
  r.skip(1 + 1 + 4 + 3); // version, tag, length, 'two'
  t.is(r.u32(), 3);
  t.is(r.remaining, 0);
  t.throws(() => r.skip(1), { instanceOf: WeftError });
  t.throws(() => {
    r.offset = -1;
  });
});

test('string(): u32 byte length + UTF-8, short ASCII and long and non-ASCII; lone surrogates become U+FFFD', (t) => {
  const w = new WireWriter(8);
  const strings = ['', 'a', 'hello world', 'x'.repeat(24), 'y'.repeat(25), 'z'.repeat(5000), 'héllo', '日本語 🌍', 'é'.repeat(300)];
  for (const s of strings) w.string(s);
  w.string('a\uD800b');
  const r = new WireReader(w.view());
  for (const s of strings) t.is(r.string(), s);
  t.is(r.string(), 'a\uFFFDb');
  t.is(r.remaining, 0);
  // the length prefix is the UTF-8 byte length
  const w2 = new WireWriter();
  w2.string('é');
  t.deepEqual([...w2.view()], [2, 0, 0, 0, 0xc3, 0xa9]);
});

// ---------------------------------------------------------------------------------------------
// Tagged values

test('undefined, null, booleans', (t) => {
  t.is(tagOf(undefined), TAG_UNDEFINED);
  t.is(tagOf(null), TAG_NULL);
  t.is(tagOf(true), TAG_TRUE);
  t.is(tagOf(false), TAG_FALSE);
  for (const v of [undefined, null, true, false]) t.is(roundTrip(v), v);
});

test('int32 numbers take 5 bytes; -0 and everything else is an f64 with every bit', (t) => {
  for (const v of [0, 1, -1, 42, 2 ** 31 - 1, -(2 ** 31)]) {
    const w = new WireWriter();
    w.value(v);
    t.is(w.length, 1 + 5);
    t.is(w.view()[1], TAG_INT32);
    t.is(roundTrip(v), v);
  }
  const doubles = [-0, 2 ** 31, -(2 ** 31) - 1, 0.5, Math.PI, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 2 ** 53 + 2];
  for (const v of doubles) {
    const w = new WireWriter();
    w.value(v);
    t.is(w.length, 1 + 9);
    t.is(w.view()[1], TAG_F64);
    t.true(Object.is(roundTrip(v), v), String(v));
  }
});

test('tagged strings: ASCII as STRING, others as lossless UTF-16 (lone surrogates kept)', (t) => {
  const ascii = ['', 'a', 'hello world', 'k'.repeat(24), 'k'.repeat(25), 'q'.repeat(100_000)];
  for (const s of ascii) {
    t.is(tagOf(s), TAG_STRING);
    t.is(roundTrip(s), s);
  }
  const other = ['é', 'héllo wörld', '日本語', '🌍', 'a\uD800', '\uDC00z', `${'x'.repeat(30)}\uD83D`, 'é'.repeat(5000), '\u0080', '\uFFFF'];
  for (const s of other) {
    t.is(tagOf(s), TAG_STRING16);
    t.is(roundTrip(s), s);
  }
});

test('bigints of any size and sign', (t) => {
  const values = [
    0n,
    1n,
    -1n,
    255n,
    2n ** 63n,
    2n ** 64n - 1n,
    -(2n ** 64n) + 1n,
    2n ** 64n,
    -(2n ** 200n) + 7n,
    3n ** 5000n,
    -(7n ** 999n),
  ];
  for (const v of values) {
    t.is(tagOf(v), TAG_BIGINT);
    t.is(roundTrip(v), v);
  }
  // Wide ones of every byte length up to 1 KB (odd and even hex digit counts), and their layout:
  // sign, length, then the magnitude least significant byte first.
  const wide = fc.bigInt({ min: -(2n ** 8200n), max: 2n ** 8200n });
  fc.assert(fc.property(wide, (v) => roundTrip(v) === v));
  const w = new WireWriter();
  w.value(-(2n ** 72n) - 0x0102n);
  const b = w.buffer.subarray(0, w.length);
  t.deepEqual([...b.subarray(b.length - 16)], [TAG_BIGINT, 1, 10, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 1]);
});

test('typed arrays of every kind, DataView and Buffer: a copy of the bytes, the same kind, their own ArrayBuffer', (t) => {
  const backing = new ArrayBuffer(64);
  new Uint8Array(backing).forEach((_, i, a) => (a[i] = i));
  const views: ArrayBufferView[] = [
    new Uint8Array([1, 2, 255]),
    new Int8Array([-1, 5]),
    new Uint8ClampedArray([0, 255]),
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
    new Float64Array(backing, 16, 2),
    new Uint8Array(0),
  ];
  for (const v of views) {
    t.is(tagOf(v), TAG_VIEW);
    const out = roundTrip(v) as ArrayBufferView;
    t.is(out.constructor, v.constructor, v.constructor.name);
    t.is(out.byteOffset, 0);
    t.is(out.buffer.byteLength, v.byteLength);
    t.not(out.buffer, v.buffer);
    t.deepEqual(Buffer.from(out.buffer, out.byteOffset, out.byteLength), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  }
  t.true(Buffer.isBuffer(roundTrip(Buffer.from('x'))));
  const w = new WireWriter();
  w.value(new DataView(backing, 0, 2));
  w.value(Buffer.alloc(1));
  w.value(new Float64Array(1));
  const b = w.view();
  // version, tag, kind, u32 length, bytes
  t.is(b[2], VIEW_DATAVIEW);
  t.is(b[9 + 2], VIEW_BUFFER);
  t.is(b[9 + 8 + 2], VIEW_FLOAT64);
});

test('a reader over a Buffer (as the native layer hands batches) decodes copies too', (t) => {
  const w = new WireWriter();
  const values: unknown[] = [
    new Int16Array([1, -2, 3]),
    Buffer.from('buf'),
    new Float64Array([0.5]),
    'x'.repeat(100),
    'é'.repeat(40),
    { a: new Uint8Array([9]) },
  ];
  for (const v of values) w.value(v);
  // at an odd offset inside a larger Buffer, as Buffer's allocation pool would give
  const big = Buffer.alloc(w.length + 3);
  big.set(w.view(), 1);
  const bytes = big.subarray(1, 1 + w.length);
  const r = new WireReader(bytes);
  const out = values.map(() => r.value());
  t.is(r.remaining, 0);
  t.true(same(out, values));
  for (const o of [out[0], out[1], out[2]] as ArrayBufferView[]) {
    t.is(o.byteOffset, 0);
    t.is(o.buffer.byteLength, o.byteLength);
  }
  bytes.fill(0);
  t.true(same(out, values));
  // reset onto another Buffer
  r.reset(Buffer.from(w.view()));
  t.true(same(r.value(), values[0]));
});

test('decoded values do not alias the batch buffer (GRAPH values included)', (t) => {
  const w = new WireWriter();
  w.value({ when: new Date(0), bytes: new Float64Array([1, 2]) });
  w.value(new Uint8Array([1, 2, 3]));
  const bytes = w.view();
  const r = new WireReader(bytes);
  const a = r.value() as { bytes: Float64Array };
  const b = r.value() as Uint8Array;
  bytes.fill(0xff);
  t.deepEqual(a.bytes, new Float64Array([1, 2]));
  t.deepEqual(b, new Uint8Array([1, 2, 3]));
  t.not(a.bytes.buffer, bytes.buffer);
});

test('views nested in values get their own ArrayBuffer, like structuredClone', (t) => {
  const value = {
    odd: new Uint8Array([1, 2, 3]), // leaves what follows unaligned in the serialization
    f64: new Float64Array([1.5, -0]),
    i16: new Int16Array([-7]),
    dv: new DataView(new ArrayBuffer(6), 2, 3),
    buf: Buffer.from('nested'),
  };
  const out = roundTrip(value) as Record<string, ArrayBufferView>;
  for (const [k, v] of Object.entries(value)) {
    const o = out[k]!;
    t.is(o.constructor, v.constructor, k);
    t.is(o.byteOffset, 0, k);
    t.is(o.buffer.byteLength, v.byteLength, k);
    t.deepEqual(Buffer.from(o.buffer, o.byteOffset, o.byteLength), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  }
  // a nested Buffer stays a Buffer (structuredClone makes a Uint8Array)
  t.true(Buffer.isBuffer(out.buf));
  t.false(isGraph(value), 'views in a plain object: a plain value');
});

test('plain arrays and objects of primitives use ARRAY/OBJECT without GRAPH; everything else is native too, as GRAPH', (t) => {
  t.is(tagOf([1, 2.5, 'x', null, undefined, true, 3n]), TAG_ARRAY);
  t.is(tagOf({ id: 1, name: 'n', tags: ['a', 'b'], nested: { deep: [[]] } }), TAG_OBJECT);
  t.is(tagOf(Object.create(null)), TAG_OBJECT);
  for (const v of [[1, 2], { a: [{ b: 1 }] }, { a: new Uint8Array(2) }, Object.create(null)]) t.false(isGraph(v), inspect(v));
  const graph: Array<[unknown, number]> = [
    [new Map([[1, 'a']]), TAG_MAP],
    [new Set([1, 2]), TAG_SET],
    [new Date(5), TAG_DATE],
    [new Date(NaN), TAG_DATE],
    [/re/gi, TAG_REGEXP],
    [/(?<y>\d{4})/dmsuy, TAG_REGEXP],
    [[1, , 3], TAG_SPARSE_ARRAY], // a hole
    [new Array(5), TAG_SPARSE_ARRAY],
    [Object.assign([1, 2], { extra: true }), TAG_SPARSE_ARRAY],
    ['abc'.match(/b/), TAG_SPARSE_ARRAY],
    [
      new (class Point {
        x = 1;
      })(),
      TAG_OBJECT,
    ],
    [new (class MyArray extends Array<number> {})(), TAG_ARRAY],
    [new Number(3), TAG_BOXED],
    [new Number(-0), TAG_BOXED],
    [new String('ab'), TAG_BOXED],
    [new Boolean(false), TAG_BOXED],
    [Object(10n ** 30n), TAG_BOXED],
    [new ArrayBuffer(3), TAG_ARRAY_BUFFER],
    [new Error('e'), TAG_ERROR],
    [{ m: new Map([['k', new Float64Array([1])]]) }, TAG_OBJECT],
  ];
  for (const [v, tag] of graph) {
    t.true(isGraph(v), inspect(v));
    t.is(tagOf(v), tag, inspect(v));
    if (!(v instanceof Error)) t.true(same(roundTrip(v), structuredClone(v)), inspect(v));
  }
  // shared and cyclic references keep their shape
  const shared = [1];
  const o = roundTrip({ a: shared, b: shared }) as { a: number[]; b: number[] };
  t.is(o.a, o.b);
  const cyclic: Record<string, unknown> = { n: 1 };
  cyclic.self = cyclic;
  const c = roundTrip(cyclic) as Record<string, unknown>;
  t.is(c.self, c);
  // many containers and many elements: GRAPH, still right
  const wide = Array.from({ length: 100 }, (_, i) => ({ i }));
  t.true(isGraph(wide));
  t.deepEqual(roundTrip(wide), wide);
  const long = Array.from({ length: 5000 }, (_, i) => i * 1.5);
  t.true(isGraph(long));
  t.deepEqual(roundTrip(long), long);
  const keys = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]));
  const gotKeys = roundTrip(keys) as Record<string, number>;
  t.deepEqual(gotKeys, keys);
  t.is(Object.getPrototypeOf(gotKeys), Object.prototype);
});

test('GRAPH values: identity across Map keys and values, Sets, errors, views and boxed values; cycles through every container', (t) => {
  const key = { k: 1 };
  const view = new Uint8Array([1, 2]);
  const date = new Date(7);
  const boxed = new String('s');
  const m = new Map<unknown, unknown>([
    [key, key],
    ['v', view],
    ['d', date],
  ]);
  const s = new Set<unknown>([key, m]);
  m.set('self', m);
  m.set('set', s);
  const err = new Error('e', { cause: m }) as Error & { again?: unknown };
  const value = { m, s, view, view2: view, date, date2: date, boxed, boxed2: boxed, err, list: [err, key] };
  err.again = value;
  const out = roundTrip(value) as typeof value;
  const om = out.m as Map<unknown, unknown>;
  const okey = [...om.keys()][0] as object;
  t.deepEqual(okey, { k: 1 });
  t.is(om.get(okey), okey);
  t.is(om.get('self'), om);
  t.is(om.get('set'), out.s);
  t.true(out.s.has(okey) && out.s.has(om));
  t.is(om.get('v'), out.view);
  t.is(out.view, out.view2);
  t.is(out.date, out.date2);
  t.is(om.get('d'), out.date);
  t.is(out.boxed, out.boxed2);
  t.is(out.err.cause, om);
  t.is(out.list[0], out.err);
  t.is(out.list[1] as unknown, okey);
  t.is((out.err as Error & { again?: unknown }).again, out);
  // a sparse array that contains itself, and an object with many keys in a cycle
  const sparse: unknown[] = [];
  sparse[3] = sparse;
  const big: Record<string, unknown> = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
  big.self = big;
  const [os, ob] = roundTrip([sparse, big]) as [unknown[], Record<string, unknown>];
  t.is(os.length, 4);
  t.false(0 in os);
  t.is(os[3], os);
  t.is(ob.self, ob);
  t.is(ob.k99, 99);
});

test('sparse arrays: holes, huge lengths, other properties, a "__proto__" property', (t) => {
  const huge: unknown[] = [];
  huge.length = 2 ** 32 - 1;
  huge[5] = 'five';
  huge[2 ** 32 - 2] = 'last';
  const out = roundTrip(huge) as unknown[];
  t.is(out.length, 2 ** 32 - 1);
  t.deepEqual(Object.keys(out), ['5', String(2 ** 32 - 2)]);
  t.is(out[2 ** 32 - 2], 'last');
  const props = Object.assign([1, , 3], { extra: { deep: true }, '-1': 'minus', '01': 'not an index' });
  Object.defineProperty(props, '__proto__', { value: 'own', enumerable: true, writable: true, configurable: true });
  const p = roundTrip(props) as unknown[] & Record<string, unknown>;
  t.is(Object.getPrototypeOf(p), Array.prototype);
  t.deepEqual(Object.keys(p), Object.keys(props));
  // biome-ignore lint/suspicious/noProto: an own property named __proto__ is what is tested
  t.is(p.__proto__ as unknown, 'own');
  t.true(same(p, props));
  // A big dense array with one hole
  const holey = Array.from({ length: 3000 }, (_, i) => i);
  delete holey[1500];
  const h = roundTrip(holey) as number[];
  t.is(h.length, 3000);
  t.false(1500 in h);
  t.is(h[2999], 2999);
});

test('resizable ArrayBuffers stay resizable; ArrayBuffers and their bytes', (t) => {
  const ab = new (ArrayBuffer as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4, { maxByteLength: 64 });
  new Uint8Array(ab).set([1, 2, 3, 4]);
  const out = roundTrip({ ab, again: ab }) as { ab: ArrayBuffer & { resizable: boolean; maxByteLength: number }; again: ArrayBuffer };
  t.true(out.ab.resizable);
  t.is(out.ab.maxByteLength, 64);
  t.deepEqual([...new Uint8Array(out.ab)], [1, 2, 3, 4]);
  t.is(out.again, out.ab);
  const fixed = roundTrip(new Uint8Array([9, 8]).buffer) as ArrayBuffer & { resizable?: boolean };
  t.false(fixed.resizable === true);
  t.deepEqual([...new Uint8Array(fixed)], [9, 8]);
});

test('what the wire format cannot carry, though structured clone copies it, is WEFT_DATA_CLONE', async (t) => {
  const { BlockList, SocketAddress } = await import('node:net');
  const { createSecretKey, webcrypto } = await import('node:crypto');
  const { createHistogram } = await import('node:perf_hooks');
  const { MessageChannel } = await import('node:worker_threads');
  const { port1, port2 } = new MessageChannel();
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object } }).WebAssembly;
  const cryptoKey = await webcrypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
  let deep: unknown = 1;
  for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep];
  const cases: Array<[string, unknown, RegExp]> = [
    ['Blob', new Blob(['x']), /a Blob could not be cloned/],
    ['BlockList', new BlockList(), /a BlockList could not be cloned/],
    ['SocketAddress', new SocketAddress({ address: '127.0.0.1' }), /a SocketAddress could not be cloned/],
    ['KeyObject', createSecretKey(Buffer.from('k')), /KeyObject could not be cloned/],
    ['CryptoKey', cryptoKey, /CryptoKey could not be cloned/],
    ['histogram', createHistogram(), /could not be cloned: Node copies it/],
    ['MessagePort', port1, /a MessagePort could not be cloned/],
    ['WebAssembly.Module', new wasm.Module(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0])), /WebAssembly.Module could not be cloned/],
    ['SharedArrayBuffer', new SharedArrayBuffer(4), /SharedArrayBuffer/],
    [`arrays nested ${MAX_DEPTH + 1} deep`, deep, /nested more than 512 levels deep/],
    // What structured clone refuses as well
    ['Promise', Promise.resolve(1), /a Promise could not be cloned/],
    ['WeakRef', new WeakRef({}), /a WeakRef could not be cloned/],
    ['WeakSet', new WeakSet(), /a WeakSet could not be cloned/],
    ['generator', (function* gen() {})(), /a generator could not be cloned/],
    ['array iterator', [1][Symbol.iterator](), /an iterator could not be cloned/],
    ['map iterator', new Map().keys(), /an iterator could not be cloned/],
    ['Intl.NumberFormat', new Intl.NumberFormat(), /an Intl.NumberFormat could not be cloned/],
    ['Symbol object', Object(Symbol('s')), /a Symbol object could not be cloned/],
    ['Proxy of an array', new Proxy([1], {}), /a Proxy could not be cloned/],
    ['Proxy of an error', new Proxy(new Error('e'), {}), /a Proxy could not be cloned/],
    ['a function in a Map', new Map([[1, () => 1]]), /a function \(anonymous\) could not be cloned/],
  ];
  for (const [what, v, message] of cases) {
    for (const value of [v, { nested: [v] }, new Map([['k', v]])]) {
      const err = t.throws(() => new WireWriter().value(value), { instanceOf: DataCloneError, message }, what);
      t.true(isWeftError(err, 'WEFT_DATA_CLONE'), what);
    }
  }
  port1.close();
  port2.close();
  // One level less than the limit goes.
  let ok: unknown = 1;
  for (let i = 0; i < MAX_DEPTH; i++) ok = [ok];
  t.deepEqual(roundTrip(ok), ok);
});

test('the codec uses no v8.serialize: no wire module imports node:v8', (t) => {
  const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  const dir = join(__dirname, '..', '..', 'src', 'internal', 'wire');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  t.true(files.length >= 5);
  for (const f of files) t.notRegex(readFileSync(join(dir, f), 'utf8'), /node:v8|from 'v8'/, f);
});

test('a __proto__ key is an own property, not the prototype', (t) => {
  const o = JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}') as Record<string, unknown>;
  const out = roundTrip(o) as Record<string, unknown>;
  t.is(Object.getPrototypeOf(out), Object.prototype);
  t.deepEqual(Object.keys(out), ['__proto__', 'a']);
  t.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: 1 });
  t.is((out as { polluted?: unknown }).polluted, undefined);
});

test('object keys (cached on read) stay right across many objects', (t) => {
  const w = new WireWriter();
  const objs = Array.from({ length: 3000 }, (_, i) => ({ [`k${i % 1500}`]: i, id: i, ['ключ']: 1, ['x'.repeat(40)]: 2 }));
  for (const o of objs) w.value(o);
  const r = new WireReader(w.view());
  for (const o of objs) t.deepEqual(r.value(), o);
});

// ---------------------------------------------------------------------------------------------
// values(), growth, records

test('values(): a count and tagged values; more than 254 take a u32 count', (t) => {
  for (const list of [
    [],
    [1],
    [1, 'a', null, { x: [1] }],
    Array.from({ length: 254 }, (_, i) => i),
    Array.from({ length: 1000 }, (_, i) => `v${i}`),
  ]) {
    const w = new WireWriter(8);
    w.values(list);
    const r = new WireReader(w.view());
    t.deepEqual(r.values(), list);
    t.is(r.remaining, 0);
  }
  const w = new WireWriter();
  w.values([7]);
  t.deepEqual([...w.view()], [WIRE_VERSION, 1, TAG_INT32, 7, 0, 0, 0]);
});

test('growth across many records, from a tiny buffer; reset keeps the memory', (t) => {
  const w = new WireWriter(16);
  const expected: unknown[][] = [];
  for (let i = 0; i < 20_000; i++) {
    const args = [i, i + 0.5, `s${i}`, i % 7 === 0 ? new Float64Array(i % 50) : { i }, i % 2 === 0];
    expected.push(args);
    const at = w.beginRecord();
    w.u32(i);
    w.values(args);
    w.endRecord(at);
  }
  const r = new WireReader(w.view());
  let n = 0;
  while (r.remaining > 0) {
    const len = r.u32();
    const start = r.offset;
    t.is(r.u32(), n);
    const got = r.values();
    if (!same(got, expected[n])) t.fail(`record ${n}: ${inspect(got)}`);
    t.is(r.offset, start + len);
    n++;
  }
  t.is(n, expected.length);
  const before = w.view().buffer;
  w.reset();
  t.is(w.length, 0);
  w.value('again');
  t.is(w.view().buffer, before);
});

test('record framing: the length slot holds the byte length of the body; records can be skipped', (t) => {
  const w = new WireWriter();
  const a = w.beginRecord();
  w.value('first');
  w.value([1, 2, 3]);
  w.endRecord(a);
  const b = w.beginRecord();
  const inner = w.beginRecord();
  w.u8(9);
  w.endRecord(inner);
  w.endRecord(b);
  const c = w.beginRecord();
  w.endRecord(c);
  const r = new WireReader(w.view());
  const len1 = r.u32();
  // each value: the version byte, then the tagged value
  t.is(len1, 1 + (1 + 4 + 5) + 1 + (1 + 4 + 3 * 5));
  r.skip(len1);
  t.is(r.u32(), 4 + 1);
  t.is(r.u32(), 1);
  t.is(r.u8(), 9);
  t.is(r.u32(), 0);
  t.is(r.remaining, 0);
});

test('rollback(at) truncates to an earlier offset', (t) => {
  const w = new WireWriter();
  w.u32(1);
  const at = w.beginRecord();
  w.value('dropped');
  w.rollback(at);
  t.is(w.length, 4);
  t.throws(() => w.rollback(5), { instanceOf: RangeError });
});

// ---------------------------------------------------------------------------------------------
// DataCloneError and rollback

test('what cannot be cloned throws WEFT_DATA_CLONE naming it, and leaves the writer as it was', (t) => {
  const w = new WireWriter(16);
  w.value('kept');
  w.values([1, 2]);
  const before = Buffer.from(w.view());
  function namedTask(): void {}
  const bad: [unknown, RegExp][] = [
    [namedTask, /function \(namedTask\)/],
    [Symbol('sym'), /symbol \(Symbol\(sym\)\)/],
    [{ a: 1, b: 'x'.repeat(10_000), f: namedTask }, /could not be cloned/],
    [[1, 2, () => 3], /could not be cloned/],
    [new Map([[1, Symbol('s')]]), /could not be cloned/],
    [new Proxy({}, {}), /could not be cloned/],
    [new SharedArrayBuffer(8), /could not be cloned/],
    [{ a: { b: { c: [new WeakMap()] } } }, /could not be cloned/],
  ];
  for (const [v, message] of bad) {
    const err = t.throws(() => w.value(v), { instanceOf: DataCloneError, message }, inspect(v));
    t.true(isWeftError(err, 'WEFT_DATA_CLONE'));
    t.is(w.length, before.length);
    t.throws(() => w.values([1, 'big'.repeat(1000), v]), { instanceOf: DataCloneError });
    t.is(w.length, before.length);
  }
  t.deepEqual(Buffer.from(w.view()), before);
  // the writer still works, and what was written before reads back
  w.value(7);
  const r = new WireReader(w.view());
  t.is(r.value(), 'kept');
  t.deepEqual(r.values(), [1, 2]);
  t.is(r.value(), 7);
});

test('SharedArrayBuffers and views over one are refused (a copy would silently end the sharing)', (t) => {
  const w = new WireWriter();
  w.value(1);
  const sab = new SharedArrayBuffer(16);
  for (const v of [sab, new Int32Array(sab), new DataView(sab), { nested: new Uint8Array(sab, 4, 4) }, [new Float64Array(sab)]]) {
    t.throws(() => w.value(v), { instanceOf: DataCloneError, message: /SharedArrayBuffer/ }, inspect(v));
    t.is(w.length, 1 + 5);
  }
});

test('a getter that throws is a DataCloneError with the cause', (t) => {
  const w = new WireWriter();
  const boom = new Error('boom');
  const v = {
    get x(): number {
      throw boom;
    },
  };
  const err = t.throws(() => w.value(v), { instanceOf: DataCloneError });
  t.is(err?.cause, boom);
  t.is(w.length, 0);
});

// ---------------------------------------------------------------------------------------------
// SharedStack

test('SharedStack round trip: the decoded stack is the same stack', (t) => {
  const s = new SharedStack<number | string>();
  const w = new WireWriter();
  w.value(s);
  w.values(['x', s]);
  t.deepEqual([...w.view().subarray(0, 3)], [WIRE_VERSION, TAG_HANDLE, HANDLE_SHARED_STACK]);
  const r = new WireReader(w.view());
  const a = r.value() as SharedStack<number | string>;
  const [x, b] = r.values() as [string, SharedStack<number | string>];
  t.true(a instanceof SharedStack);
  t.not(a, s);
  t.is(x, 'x');
  s.push(1);
  t.is(a.pop(), 1);
  a.push('from decoded');
  t.is(b.pop(), 'from decoded');
  b.push(3);
  t.is(s.pop(), 3);
  t.is(s.size, 0);
});

test('a SharedStack nested anywhere (object, array, Map, Set, error cause) arrives as a working SharedStack', (t) => {
  const s = new SharedStack<string>();
  const value = { plain: { list: [1, s] }, map: new Map([['s', s]]), set: new Set([s]), err: new Error('e', { cause: s }), again: s };
  t.false(isGraph({ plain: { list: [1, s] } }), 'a handle in a plain value keeps it plain');
  const out = roundTrip(value) as typeof value;
  const found = [out.plain.list[1], out.map.get('s'), [...out.set][0], out.err.cause, out.again] as SharedStack<string>[];
  for (const x of found) t.true(x instanceof SharedStack);
  found[0]!.push('a');
  found[3]!.push('b');
  t.deepEqual(s.popMany(5), ['b', 'a']);
  // A stack that no longer exists: the handle decodes to WEFT_STALE_HANDLE, not a plain object.
  const w = new WireWriter();
  w.value({ stack: s });
  const bytes = w.view().slice();
  const dv = new DataView(bytes.buffer);
  // version, OBJECT, u32 1, key "stack" (tag, u32, 5 bytes), HANDLE, sub-tag, f64 id, u32 process
  const idAt = 1 + 1 + 4 + 1 + 4 + 5 + 2;
  t.is(dv.getFloat64(idAt, true), s.handle.id);
  dv.setFloat64(idAt, 2 ** 40, true);
  const err = t.throws(() => new WireReader(bytes).value());
  t.true(isWeftError(err, 'WEFT_STALE_HANDLE') || isWeftError(err, 'WEFT_INVALID_ARG'), inspect(err));
});

// ---------------------------------------------------------------------------------------------
// Errors

test('errors come back as the matching built-in class with message and stack', (t) => {
  const classes = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
  for (const C of classes) {
    const e = new C(`a ${C.name}`);
    t.is(tagOf(e), TAG_ERROR);
    const out = roundTrip(e) as Error;
    t.is(out.constructor, C);
    t.true(out instanceof C);
    t.is(out.name, C.name);
    t.is(out.message, e.message);
    t.is(out.stack, e.stack);
    t.deepEqual(Object.keys(out), []);
  }
});

test('error code, cause (recursively), custom props and custom names', (t) => {
  class HttpError extends Error {
    override name = 'HttpError';
    status = 503;
  }
  const root = new RangeError('root');
  const mid = new TypeError('mid', { cause: root });
  const e = new HttpError('top', { cause: mid }) as HttpError & { code?: string; meta?: unknown };
  e.code = 'E_HTTP';
  e.meta = { when: new Date(1), tags: new Set(['a']) };
  const w = new WireWriter();
  w.value(e);
  // version, GRAPH, ERROR, flags
  t.is(w.view()[3], ERR_CLASS | ERR_OWN_NAME | ERR_STACK | ERR_CODE | ERR_CAUSE | ERR_PROPS);
  const out = roundTrip(e) as Error & { code?: string; status?: number; meta?: unknown; cause?: Error & { cause?: Error } };
  t.true(out instanceof Error);
  // A class of the same name, made on this side, extending Error (HttpError is not loaded here).
  t.is(out.constructor.name, 'HttpError');
  t.is(Object.getPrototypeOf(out.constructor), Error);
  t.is(out.name, 'HttpError');
  t.is(out.message, 'top');
  t.is(out.stack, e.stack);
  t.is(out.code, 'E_HTTP');
  t.is(out.status, 503);
  t.deepEqual(out.meta, { when: new Date(1), tags: new Set(['a']) });
  t.true(out.cause instanceof TypeError);
  t.is(out.cause?.message, 'mid');
  t.true(out.cause?.cause instanceof RangeError);
  t.is(out.cause?.cause?.message, 'root');
  t.is(out.cause?.cause?.stack, root.stack);
  // a non-error cause, and a cause that is explicitly undefined
  t.deepEqual((roundTrip(new Error('x', { cause: { n: [1] } })) as Error).cause, { n: [1] });
  const u = roundTrip(new Error('x', { cause: undefined })) as Error;
  t.true(Object.hasOwn(u, 'cause'));
  t.is(u.cause, undefined);
  t.false(Object.hasOwn(roundTrip(new Error('x')) as Error, 'cause'));
});

test('AggregateError keeps .errors (errors inside recursively)', (t) => {
  const inner = new TypeError('inner');
  const agg = new AggregateError([inner, 'not an error', new AggregateError([new Error('deep')], 'nested')], 'many');
  const w = new WireWriter();
  w.value(agg);
  t.true(((w.view()[3] ?? 0) & ERR_ERRORS) !== 0);
  const out = roundTrip(agg) as AggregateError;
  t.true(out instanceof AggregateError);
  t.is(out.message, 'many');
  t.is(out.errors.length, 3);
  t.true(out.errors[0] instanceof TypeError);
  t.is((out.errors[0] as Error).stack, inner.stack);
  t.is(out.errors[1], 'not an error');
  t.true(out.errors[2] instanceof AggregateError);
  t.is((out.errors[2] as AggregateError).errors[0].message, 'deep');
  t.false(Object.keys(out).includes('errors'));
});

test('weft errors come back as weft errors with their code; cyclic and shared causes keep their identity', (t) => {
  const de = roundTrip(new DataCloneError('nope')) as Error & { code?: string };
  t.true(de instanceof DataCloneError);
  t.true(isWeftError(de, 'WEFT_DATA_CLONE'));
  t.is(de.name, 'DataCloneError');
  t.is(de.message, 'nope');
  const ia = roundTrip(new InvalidArgumentError('bad')) as InvalidArgumentError;
  t.true(ia instanceof InvalidArgumentError);
  t.true(isWeftError(ia, 'WEFT_INVALID_ARG'));
  const we = roundTrip(new WeftError('WEFT_ABORTED', 'stop', { cause: new Error('why') })) as WeftError;
  t.true(isWeftError(we, 'WEFT_ABORTED'));
  t.is((we.cause as Error).message, 'why');
  t.deepEqual(Object.keys(we).sort(), ['code', 'name']);
  // without a code it is only named like one
  const named = roundTrip(Object.assign(new Error('n'), { name: 'WeftError' })) as Error;
  t.false(named instanceof WeftError);
  t.is(named.name, 'WeftError');
  const e = new Error('loop') as Error & { cause?: unknown; other?: unknown };
  e.cause = e;
  const out = roundTrip(e) as Error & { cause?: unknown };
  t.is(out.cause, out);
  const shared = new Error('shared');
  const agg = roundTrip(new AggregateError([shared, shared], 'two')) as AggregateError;
  t.is(agg.errors[0], agg.errors[1]);
});

test('parts of an error that cannot be cloned are left out, the error still goes', (t) => {
  const e = new Error('with junk', { cause: () => 1 }) as Error & { fn?: unknown; ok?: number; code?: unknown };
  e.fn = () => 2;
  e.ok = 1;
  e.code = Symbol('c');
  const out = roundTrip(e) as Error & { fn?: unknown; ok?: number; code?: unknown };
  t.is(out.message, 'with junk');
  t.is(out.ok, 1);
  t.false('fn' in out);
  t.false('code' in out);
  t.false(Object.hasOwn(out, 'cause'));
});

test('an error without a stack, non-string names and messages', (t) => {
  const e = new Error('m');
  delete (e as { stack?: string }).stack;
  const out = roundTrip(e) as Error;
  t.is(out.stack, undefined);
  t.is(out.message, 'm');
  const odd = roundTrip(Object.assign(new Error('é \uD800'), { name: 'Ünïcode' })) as Error;
  t.is(odd.name, 'Ünïcode');
  t.is(odd.message, 'é \uD800');
});

// ---------------------------------------------------------------------------------------------
// Hostile bytes (issue 13): a value or WEFT_INVALID_ARG, never another exception

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function taggedAscii(s: string): number[] {
  return [TAG_STRING, ...u32le(s.length), ...Buffer.from(s, 'latin1')];
}

/** `unit` n times, then `tail`. */
function repeated(unit: readonly number[], n: number, tail: readonly number[] = [TAG_UNDEFINED]): Uint8Array {
  const out = new Uint8Array(unit.length * n + tail.length);
  for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
  out.set(tail, unit.length * n);
  return out;
}

/** One level down a nested value: an array's first element, an error's first item, cause or code, `.a`. */
function inner(v: unknown): unknown {
  if (Array.isArray(v)) return v[0];
  if (v instanceof AggregateError) return v.errors[0];
  if (v instanceof Error) return (v as { cause?: unknown }).cause ?? (v as { code?: unknown }).code ?? (v as { a?: unknown }).a;
  if (v instanceof Map) return [...v.values()][0];
  if (v instanceof Set) return [...v][0];
  return (v as { a?: unknown }).a;
}

/** How many containers (arrays, objects, maps, sets, errors) are nested along `inner`. */
function depthOf(v: unknown): number {
  let n = 0;
  for (; typeof v === 'object' && v !== null; v = inner(v)) n++;
  return n;
}

/** Asserts that `f` throws the codec's corrupt-record error (a WeftError, WEFT_INVALID_ARG). */
function corruptRecord(t: ExecutionContext, f: () => unknown, what: string): WeftError {
  let thrown: unknown;
  try {
    f();
  } catch (err) {
    thrown = err;
  }
  t.true(thrown instanceof WeftError, `${what}: threw ${inspect(thrown)}`);
  const e = thrown as WeftError;
  t.is(e.code, 'WEFT_INVALID_ARG', what);
  t.regex(e.message, /^wire: corrupt record/, what);
  return e;
}

test('the version byte: other versions are refused with a coded error that says so', (t) => {
  for (const version of [0, 2, 7, 255]) {
    for (const read of [(r: WireReader) => r.value(), (r: WireReader) => r.values()]) {
      const err = t.throws(() => read(new WireReader(Uint8Array.from([version, 0, TAG_NULL]))), { instanceOf: WeftError });
      t.is(err?.code, 'WEFT_INVALID_ARG');
      t.regex(err?.message ?? '', new RegExp(`^wire: unsupported format version ${version} \\(this weft reads version ${WIRE_VERSION}\\)`));
    }
  }
  // Every value and every values() list starts with it.
  const w = new WireWriter();
  for (const v of [1, 'a', [1], new Map(), new Error('e')]) {
    w.reset();
    w.value(v);
    t.is(w.view()[0], WIRE_VERSION);
    w.reset();
    w.values([v, v]);
    t.is(w.view()[0], WIRE_VERSION);
  }
});

test('hostile bytes in the native tags (REF, GRAPH, SPARSE_ARRAY, MAP, SET, REGEXP, BOXED, ARRAY_BUFFER, HANDLE, error properties) are WEFT_INVALID_ARG', (t) => {
  const cases: Array<[string, number[]]> = [
    ['nothing', []],
    ['retired tag 12 (SharedStack before version 1)', [12, 0, 0, 0, 0]],
    ['retired tag 15 (V8 before version 1)', [15, 1, 0, 0, 0, 0]],
    ['GRAPH inside a value', [TAG_ARRAY, ...u32le(1), TAG_GRAPH, TAG_NULL]],
    ['GRAPH twice', [TAG_GRAPH, TAG_GRAPH, TAG_NULL]],
    ['REF outside a GRAPH value', [TAG_ARRAY, ...u32le(1), TAG_REF, ...u32le(0)]],
    ['REF to an object not read yet', [TAG_GRAPH, TAG_ARRAY, ...u32le(1), TAG_REF, ...u32le(1)]],
    ['REF 2^32-1', [TAG_GRAPH, TAG_REF, ...u32le(0xffffffff)]],
    ['a sparse array index past its length', [TAG_SPARSE_ARRAY, ...u32le(2), ...u32le(1), TAG_INT32, ...u32le(2), TAG_NULL]],
    ['a negative sparse array index', [TAG_SPARSE_ARRAY, ...u32le(2), ...u32le(1), TAG_INT32, ...u32le(0xffffffff), TAG_NULL]],
    ['a fractional sparse array index', [TAG_SPARSE_ARRAY, ...u32le(2), ...u32le(1), TAG_F64, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, TAG_NULL]],
    ['a sparse array "length" key', [TAG_SPARSE_ARRAY, ...u32le(2), ...u32le(1), ...taggedAscii('length'), TAG_INT32, ...u32le(9)]],
    ['a sparse array key that is an object', [TAG_SPARSE_ARRAY, ...u32le(2), ...u32le(1), TAG_OBJECT, ...u32le(0), TAG_NULL]],
    ['a sparse array of 2^32-1 entries', [TAG_SPARSE_ARRAY, ...u32le(5), ...u32le(0xffffffff), TAG_NULL]],
    ['a map of 2^32-1 entries', [TAG_MAP, ...u32le(0xffffffff), TAG_NULL, TAG_NULL]],
    ['a set of 2^32-1 values', [TAG_SET, ...u32le(0xffffffff), TAG_NULL]],
    ['a RegExp that does not compile', [TAG_REGEXP, ...taggedAscii('('), ...taggedAscii('')]],
    ['a RegExp with a flag twice', [TAG_REGEXP, ...taggedAscii('x'), ...taggedAscii('gg')]],
    ['a RegExp whose flags are not a string', [TAG_REGEXP, ...taggedAscii('x'), TAG_NULL]],
    ['a boxed object', [TAG_BOXED, TAG_OBJECT, ...u32le(0)]],
    ['a boxed undefined', [TAG_BOXED, TAG_UNDEFINED]],
    ['ArrayBuffer flags 2', [TAG_ARRAY_BUFFER, 2, ...u32le(0)]],
    ['a resizable ArrayBuffer of 4 bytes, at most 2', [TAG_ARRAY_BUFFER, 1, ...u32le(4), ...u32le(2), 1, 2, 3, 4]],
    ['an ArrayBuffer past the end', [TAG_ARRAY_BUFFER, 0, ...u32le(0xffffffff), 1]],
    ['a DATE cut short', [TAG_DATE, 0, 0, 0]],
    ['a handle of an unknown sub-tag', [TAG_HANDLE, 200, 1, 2, 3, 4]],
    ['error properties of 2^32-1', [TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(0xffffffff), TAG_NULL]],
    [
      'an error property key that is not a string',
      [TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(1), TAG_NULL, TAG_NULL, 0, 0, 0, 0, 0],
    ],
  ];
  for (const [what, bytes] of cases) {
    corruptRecord(t, () => new WireReader(versioned(bytes)).value(), what);
    corruptRecord(t, () => new WireReader(Uint8Array.from([WIRE_VERSION, 1, ...bytes])).values(), `values(): ${what}`);
  }
  const re = corruptRecord(t, () => new WireReader(versioned([TAG_REGEXP, ...taggedAscii('('), ...taggedAscii('')])).value(), 'bad RegExp');
  t.true(re.cause instanceof SyntaxError);
  t.regex(corruptRecord(t, () => new WireReader(versioned([TAG_HANDLE, 200])).value(), 'sub-tag').message, /sub-tag 200/);
  // What is valid: a REF to the array being read (a cycle), an invalid Date, a huge sparse length.
  const cycle = new WireReader(versioned([TAG_GRAPH, TAG_ARRAY, ...u32le(1), TAG_REF, ...u32le(0)])).value() as unknown[];
  t.is(cycle[0], cycle);
  t.true(Number.isNaN((new WireReader(versioned([TAG_DATE, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f])).value() as Date).getTime()));
  const sparse = new WireReader(versioned([TAG_SPARSE_ARRAY, ...u32le(0xffffffff), ...u32le(0)])).value() as unknown[];
  t.is(sparse.length, 0xffffffff);
});

test('hostile lengths and counts in every length field of version 1 are refused before anything is allocated', (t) => {
  const lengths = [0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x10000000, 4097];
  const body = [1, 2, 3, 4, 5, 6, 7, 8];
  const fields: Array<[string, (n: number) => number[]]> = [
    ['STRING length', (n) => [TAG_STRING, ...u32le(n), ...body]],
    ['STRING16 length', (n) => [TAG_STRING16, ...u32le(n), ...body]],
    ['BIGINT length', (n) => [TAG_BIGINT, 0, ...u32le(n), ...body]],
    ...VIEWS.map((C, kind): [string, (n: number) => number[]] => [
      `VIEW (${C.name}) length`,
      (n) => [TAG_VIEW, kind, ...u32le(n), ...body],
    ]),
    ['ARRAY count', (n) => [TAG_ARRAY, ...u32le(n), ...body]],
    ['OBJECT count', (n) => [TAG_OBJECT, ...u32le(n), ...taggedAscii('k'), ...body]],
    ['SPARSE_ARRAY length', (n) => [TAG_SPARSE_ARRAY, ...u32le(n), ...u32le(1), TAG_INT32, ...u32le(0), TAG_NULL]],
    ['SPARSE_ARRAY count', (n) => [TAG_SPARSE_ARRAY, ...u32le(10), ...u32le(n), ...body]],
    ['MAP count', (n) => [TAG_MAP, ...u32le(n), ...body]],
    ['SET count', (n) => [TAG_SET, ...u32le(n), ...body]],
    ['REGEXP source length', (n) => [TAG_REGEXP, TAG_STRING, ...u32le(n), ...body]],
    ['ARRAY_BUFFER length', (n) => [TAG_ARRAY_BUFFER, 0, ...u32le(n), ...body]],
    ['resizable ARRAY_BUFFER length', (n) => [TAG_ARRAY_BUFFER, 1, ...u32le(n), ...u32le(0xffffffff), ...body]],
    ['resizable ARRAY_BUFFER maximum', (n) => [TAG_ARRAY_BUFFER, 1, ...u32le(0), ...u32le(n)]],
    ['REF index', (n) => [TAG_GRAPH, TAG_ARRAY, ...u32le(1), TAG_REF, ...u32le(n)]],
    ['ERROR errors count', (n) => [TAG_ERROR, ERR_ERRORS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(n), ...body]],
    ['ERROR properties count', (n) => [TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(n), ...body]],
    [
      'ERROR property key length',
      (n) => [TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(1), TAG_STRING, ...u32le(n), ...body],
    ],
  ];
  const before = process.memoryUsage();
  for (const [field, make] of fields) {
    for (const n of lengths) {
      const bytes = versioned(make(n));
      for (const read of [
        (b: Uint8Array) => new WireReader(b).value(),
        (b: Uint8Array) => new WireReader(Uint8Array.from([WIRE_VERSION, 1, ...b.subarray(1)])).values(),
      ]) {
        try {
          read(bytes);
        } catch (err) {
          t.true(isWeftError(err), `${field} ${n}: ${inspect(err)}`);
        }
      }
    }
  }
  const after = process.memoryUsage();
  t.true(after.arrayBuffers - before.arrayBuffers < 64 * 2 ** 20, `ArrayBuffer memory grew by ${after.arrayBuffers - before.arrayBuffers}`);
  t.true(after.rss - before.rss < 256 * 2 ** 20, `RSS grew by ${after.rss - before.rss}`);
});

test('hostile VIEW lengths (not whole elements) and kinds are WEFT_INVALID_ARG; views at any alignment decode', (t) => {
  corruptRecord(t, () => new WireReader(versioned([TAG_VIEW, VIEW_FLOAT64, 3, 0, 0, 0, 1, 2, 3])).value(), 'Float64Array of 3 bytes');
  VIEWS.forEach((View, kind) => {
    const size = (View as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 16]) {
      const bytes = versioned([TAG_VIEW, kind, ...u32le(n), ...new Uint8Array(n).fill(7)]);
      if (n % size === 0) {
        const v = new WireReader(bytes).value() as ArrayBufferView;
        t.is(v.constructor, View);
        t.is(v.byteLength, n);
      } else {
        corruptRecord(t, () => new WireReader(bytes).value(), `${View.name} of ${n} bytes`);
      }
    }
  });
  for (const kind of [VIEW_BUFFER + 1, 200, 255]) {
    corruptRecord(t, () => new WireReader(versioned([TAG_VIEW, kind, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])).value(), `view kind ${kind}`);
  }
  // What the writer can produce at any position of a batch, read from a buffer at any byteOffset:
  // the elements are copied out, so their alignment in the batch does not matter.
  const f64 = new Float64Array([Math.PI, -0, NaN]);
  const dv = new DataView(new Uint8Array([9, 1, 2, 3, 4, 5, 6, 7]).buffer, 3, 5);
  for (let pad = 0; pad < 8; pad++) {
    const w = new WireWriter(16);
    for (let i = 0; i < pad; i++) w.u8(i);
    w.value(f64);
    w.value(new BigInt64Array([-1n, 2n ** 62n]));
    w.value(dv);
    w.value(new Map([[1, new Float64Array([1.5])]])); // a view inside a GRAPH value
    for (let skew = 0; skew < 3; skew++) {
      const big = Buffer.alloc(w.length + skew);
      big.set(w.view(), skew);
      const r = new WireReader(big.subarray(skew));
      r.skip(pad);
      t.true(same(r.value(), f64));
      t.deepEqual(r.value(), new BigInt64Array([-1n, 2n ** 62n]));
      t.deepEqual([...new Uint8Array((r.value() as DataView).buffer)], [3, 4, 5, 6, 7]);
      t.deepEqual(r.value(), new Map([[1, new Float64Array([1.5])]]));
      t.is(r.remaining, 0);
    }
  }
});

test(`values nested more than MAX_DEPTH (${MAX_DEPTH}) deep are WEFT_INVALID_ARG, not a stack overflow`, (t) => {
  const units: Array<[string, number[]]> = [
    ['arrays', [TAG_ARRAY, ...u32le(1)]],
    ['objects', [TAG_OBJECT, ...u32le(1), ...taggedAscii('a')]],
    ['error causes', [TAG_ERROR, ERR_CAUSE, ...taggedAscii('Error'), ...taggedAscii('')]],
    ['error codes', [TAG_ERROR, ERR_CODE, ...taggedAscii('Error'), ...taggedAscii('')]],
    ['AggregateError errors', [TAG_ERROR, ERR_ERRORS, ...taggedAscii('AggregateError'), ...taggedAscii(''), ...u32le(1)]],
    ['error properties', [TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii(''), ...u32le(1), ...taggedAscii('a')]],
    ['sparse arrays', [TAG_SPARSE_ARRAY, ...u32le(1), ...u32le(1), TAG_INT32, ...u32le(0)]],
    ['map values', [TAG_MAP, ...u32le(1), TAG_NULL]],
    ['sets', [TAG_SET, ...u32le(1)]],
  ];
  const r = new WireReader(new Uint8Array(0));
  for (const [what, unit] of units) {
    for (const depth of [MAX_DEPTH + 1, 20_000, 200_000]) {
      corruptRecord(t, () => new WireReader(versioned(repeated(unit, depth))).value(), `${what} nested ${depth} deep`);
      corruptRecord(
        t,
        () => new WireReader(Uint8Array.from([WIRE_VERSION, 1, ...repeated(unit, depth)])).values(),
        `values(): ${what} nested ${depth} deep`,
      );
    }
    // Exactly MAX_DEPTH decodes, with the same reader after its failures (the depth starts over).
    r.reset(versioned(repeated(unit, MAX_DEPTH + 1)));
    corruptRecord(t, () => r.value(), `${what} nested ${MAX_DEPTH + 1} deep, reused reader`);
    r.reset(versioned(repeated(unit, MAX_DEPTH)));
    t.is(depthOf(r.value()), MAX_DEPTH, what);
  }
  // A wide value is not a deep one.
  const wide = Array.from({ length: 3 * MAX_DEPTH }, (_, i) => [i]);
  const w = new WireWriter();
  w.values(wide);
  t.deepEqual(new WireReader(w.view()).values(), wide);
});

test(`the writer emits nothing deeper than the reader takes: errors nest ${MAX_ERROR_NESTING} deep at most, the deepest values round-trip`, (t) => {
  // A cause chain far deeper than the limit: the first MAX_ERROR_NESTING errors go, the
  // innermost of them without its cause (left out, as parts that cannot be cloned are).
  let chain: Error = new Error('e1000', { cause: 'end' });
  for (let i = 999; i >= 1; i--) chain = new Error(`e${i}`, { cause: chain });
  const out = roundTrip(chain) as Error;
  t.is(depthOf(out), MAX_ERROR_NESTING);
  let innermost = out;
  while (innermost.cause instanceof Error) innermost = innermost.cause;
  t.is(innermost.message, `e${MAX_ERROR_NESTING}`);
  t.false(Object.hasOwn(innermost, 'cause'));
  // The deepest native value: MAX_ERROR_NESTING errors (by cause, code and errors in turn), the
  // innermost holding a plain value of MAX_PLAIN_CONTAINERS (32) nested arrays.
  let plain: unknown = 'leaf';
  for (let i = 0; i < 32; i++) plain = [plain];
  let deepest: Error = new Error('inner', { cause: plain });
  for (let i = 1; i < MAX_ERROR_NESTING; i++) {
    deepest =
      i % 3 === 0
        ? new AggregateError([deepest], `a${i}`)
        : i % 3 === 1
          ? new Error(`c${i}`, { cause: deepest })
          : Object.assign(new Error(`k${i}`), { code: deepest });
  }
  const w = new WireWriter();
  w.value(deepest);
  const got = new WireReader(w.view()).value();
  t.deepEqual(got, deepest);
  t.is(depthOf(got), MAX_ERROR_NESTING + 32);
  t.true(depthOf(got) <= MAX_DEPTH);
  let x: unknown = got;
  for (let i = 1; i < MAX_ERROR_NESTING; i++) x = inner(x);
  t.is((x as Error).message, 'inner');
  t.deepEqual((x as Error).cause, plain);
  // One level more: the extra error is left out (an AggregateError's item becomes undefined).
  const over = roundTrip(new AggregateError([deepest], 'over')) as AggregateError;
  t.is(depthOf(over), MAX_ERROR_NESTING);
  x = over;
  for (let i = 1; i < MAX_ERROR_NESTING; i++) x = inner(x);
  t.is((x as Error).message, 'c1');
  t.false(Object.hasOwn(x as Error, 'cause'));
  // Plain values as deep as the reader takes come back; one level more is refused when written.
  let deep: unknown = 1;
  for (let i = 0; i < MAX_DEPTH; i++) deep = i % 2 ? [deep] : new Map([[i, deep]]);
  t.true(same(roundTrip(deep), deep));
  t.throws(() => new WireWriter().value([deep]), { instanceOf: DataCloneError, message: /nested more than 512 levels deep/ });
  // An error whose cause is too deep still goes, without that cause.
  const e = roundTrip(new Error('top', { cause: [deep] })) as Error;
  t.is(e.message, 'top');
  t.false(Object.hasOwn(e, 'cause'));
});

test('moving past the end of the bytes (offset, skip, peekU16) is WEFT_INVALID_ARG, as a corrupt record', (t) => {
  const r = new WireReader(Uint8Array.from([2, 0, 0, 0, WIRE_VERSION, 0]));
  t.is(r.u32(), 2);
  t.deepEqual(r.values(), []);
  // A record length read from the bytes says the record ends at 8: Pool#drain and the actor hosts
  // then skip to it.
  corruptRecord(
    t,
    () => {
      r.offset = 8;
    },
    'offset past the end',
  );
  t.is(r.offset, 6);
  for (const bad of [-1, 7, NaN, Infinity, 2 ** 32]) {
    corruptRecord(
      t,
      () => {
        r.offset = bad;
      },
      `offset ${bad}`,
    );
  }
  r.offset = 0;
  corruptRecord(t, () => r.skip(7), 'skip past the end');
  corruptRecord(t, () => r.peekU16(5), 'peekU16 past the end');
  t.is(r.peekU16(4), WIRE_VERSION);
  r.offset = 6;
  t.is(r.remaining, 0);
  // A values() count larger than the bytes left.
  corruptRecord(
    t,
    () => new WireReader(Uint8Array.from([WIRE_VERSION, 255, 0xff, 0xff, 0xff, 0xff, 0])).values(),
    'values() count of 2^32-1',
  );
});

// ---------------------------------------------------------------------------------------------
// Properties: decode(encode(v)) is what structuredClone(v) gives

const anything = fc.anything({
  maxDepth: 3,
  maxKeys: 5,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withBoxedValues: true,
  withObjectString: true,
  stringUnit: 'binary',
  key: fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('__proto__', 'length', '0', 'constructor')),
});

const edgy = fc.oneof(
  fc.double(),
  fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1),
  fc.bigInt(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.array(fc.oneof(fc.double(), fc.integer(), fc.string({ unit: 'binary' }), fc.constant(undefined)), { maxLength: 8 }),
  fc.dictionary(fc.string({ unit: 'binary' }), fc.oneof(fc.double(), fc.string(), fc.bigInt(), fc.boolean()), { maxKeys: 5 }),
);

function check(v: unknown): boolean {
  const got = roundTrip(v);
  const want = structuredClone(v);
  if (!same(got, want)) throw new Error(`got ${inspect(got, { depth: 5 })}, want ${inspect(want, { depth: 5 })}`);
  return true;
}

test('property: value() round-trips like structuredClone (fc.anything)', (t) => {
  fc.assert(fc.property(anything, check), { numRuns: 2000 });
  t.pass();
});

test('property: value() round-trips edge numbers, strings with lone surrogates, plain containers', (t) => {
  fc.assert(fc.property(edgy, check), { numRuns: 3000 });
  t.pass();
});

test('property: many values() records in one growing buffer read back in order', (t) => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.oneof(anything, edgy), { maxLength: 4 }), { maxLength: 30 }), (records) => {
      const w = new WireWriter(16);
      for (const rec of records) {
        const at = w.beginRecord();
        w.values(rec);
        w.endRecord(at);
      }
      const r = new WireReader(w.view());
      for (const rec of records) {
        const len = r.u32();
        const end = r.offset + len;
        const got = r.values();
        if (r.offset !== end) return false;
        if (!same(got, structuredClone(rec))) return false;
      }
      return r.remaining === 0;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('property: a failed value() in the middle of a batch changes nothing', (t) => {
  fc.assert(
    fc.property(fc.array(edgy, { maxLength: 5 }), fc.array(edgy, { maxLength: 5 }), (before, after) => {
      const w = new WireWriter(16);
      for (const v of before) w.value(v);
      const len = w.length;
      try {
        w.value({ ok: before, bad: () => 0 });
        return false;
      } catch (err) {
        if (!(err instanceof DataCloneError) || w.length !== len) return false;
      }
      for (const v of after) w.value(v);
      const r = new WireReader(w.view());
      return [...before, ...after].every((v) => same(r.value(), structuredClone(v))) && r.remaining === 0;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
