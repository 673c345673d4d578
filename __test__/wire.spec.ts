import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { inspect, isDeepStrictEqual } from 'node:util';
import { DataCloneError, InvalidArgumentError, WeftError, isWeftError } from '../src/errors.js';
import {
  ERR_CAUSE,
  ERR_CLASS,
  ERR_CODE,
  ERR_ERRORS,
  ERR_OWN_NAME,
  ERR_PROPS,
  ERR_STACK,
  MAX_DEPTH,
  MAX_ERROR_NESTING,
  TAG_ARRAY,
  TAG_BIGINT,
  TAG_ERROR,
  TAG_F64,
  TAG_FALSE,
  TAG_INT32,
  TAG_NULL,
  TAG_OBJECT,
  TAG_SHARED_STACK,
  TAG_STRING,
  TAG_STRING16,
  TAG_TRUE,
  TAG_UNDEFINED,
  TAG_V8,
  TAG_VIEW,
  VIEW_BUFFER,
  VIEW_DATAVIEW,
  VIEW_FLOAT64,
  VIEWS,
  WireReader,
  WireWriter,
} from '../src/internal/wire.js';
import { serialize } from 'node:v8';
import { SharedStack } from '../src/shared/stack.js';

function roundTrip(v: unknown, w = new WireWriter(16)): unknown {
  w.reset();
  w.value(v);
  const r = new WireReader(w.view());
  const out = r.value();
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after ${inspect(v)}`);
  return out;
}

function tagOf(v: unknown): number {
  const w = new WireWriter();
  w.value(v);
  return w.view()[0]!;
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
  r.skip(1 + 4 + 3);
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
    t.is(w.length, 5);
    t.is(w.view()[0], TAG_INT32);
    t.is(roundTrip(v), v);
  }
  const doubles = [-0, 2 ** 31, -(2 ** 31) - 1, 0.5, Math.PI, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 2 ** 53 + 2];
  for (const v of doubles) {
    const w = new WireWriter();
    w.value(v);
    t.is(w.length, 9);
    t.is(w.view()[0], TAG_F64);
    t.true(Object.is(roundTrip(v), v), String(v));
  }
});

test('tagged strings: ASCII as STRING, others as lossless UTF-16 (lone surrogates kept)', (t) => {
  const ascii = ['', 'a', 'hello world', 'k'.repeat(24), 'k'.repeat(25), 'q'.repeat(100_000)];
  for (const s of ascii) {
    t.is(tagOf(s), TAG_STRING);
    t.is(roundTrip(s), s);
  }
  const other = ['é', 'héllo wörld', '日本語', '🌍', 'a\uD800', '\uDC00z', 'x'.repeat(30) + '\uD83D', 'é'.repeat(5000), '\u0080', '\uFFFF'];
  for (const s of other) {
    t.is(tagOf(s), TAG_STRING16);
    t.is(roundTrip(s), s);
  }
});

test('bigints of any size and sign', (t) => {
  const values = [0n, 1n, -1n, 255n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 64n) + 1n, 2n ** 64n, -(2n ** 200n) + 7n, 3n ** 5000n, -(7n ** 999n)];
  for (const v of values) {
    t.is(tagOf(v), TAG_BIGINT);
    t.is(roundTrip(v), v);
  }
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
  t.is(b[1], VIEW_DATAVIEW);
  // tag, kind, u32 length, bytes
  t.is(b[8 + 1], VIEW_BUFFER);
  t.is(b[8 + 7 + 1], VIEW_FLOAT64);
});

test('a reader over a Buffer (as the native layer hands batches) decodes copies too', (t) => {
  const w = new WireWriter();
  const values: unknown[] = [new Int16Array([1, -2, 3]), Buffer.from('buf'), new Float64Array([0.5]), 'x'.repeat(100), 'é'.repeat(40), { a: new Uint8Array([9]) }];
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

test('decoded values do not alias the batch buffer (v8 path included)', (t) => {
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

test('views nested in v8-serialized values get their own ArrayBuffer, like structuredClone', (t) => {
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
  // a nested Buffer stays a Buffer (v8.serialize's choice; structuredClone makes a Uint8Array)
  t.true(Buffer.isBuffer(out.buf));
});

test('plain arrays and objects of primitives use ARRAY/OBJECT; everything else goes through v8.serialize', (t) => {
  t.is(tagOf([1, 2.5, 'x', null, undefined, true, 3n]), TAG_ARRAY);
  t.is(tagOf({ id: 1, name: 'n', tags: ['a', 'b'], nested: { deep: [[]] } }), TAG_OBJECT);
  t.is(tagOf(Object.create(null)), TAG_OBJECT);
  const viaV8: unknown[] = [
    new Map([[1, 'a']]),
    new Set([1, 2]),
    new Date(5),
    /re/gi,
    [1, , 3], // a hole
    { a: new Uint8Array(2) },
    Object.assign([1, 2], { extra: true }),
    'abc'.match(/b/),
    new (class Point {
      x = 1;
    })(),
    new Number(3),
  ];
  for (const v of viaV8) {
    t.is(tagOf(v), TAG_V8, inspect(v));
    t.true(same(roundTrip(v), structuredClone(v)), inspect(v));
  }
  // shared and cyclic references keep their shape (v8.serialize keeps identity)
  const shared = [1];
  const o = roundTrip({ a: shared, b: shared }) as { a: number[]; b: number[] };
  t.is(o.a, o.b);
  const cyclic: Record<string, unknown> = { n: 1 };
  cyclic.self = cyclic;
  const c = roundTrip(cyclic) as Record<string, unknown>;
  t.is(c.self, c);
  // many containers: still right
  const wide = Array.from({ length: 100 }, (_, i) => ({ i }));
  t.deepEqual(roundTrip(wide), wide);
  const long = Array.from({ length: 5000 }, (_, i) => i * 1.5);
  t.deepEqual(roundTrip(long), long);
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
  for (const list of [[], [1], [1, 'a', null, { x: [1] }], Array.from({ length: 254 }, (_, i) => i), Array.from({ length: 1000 }, (_, i) => `v${i}`)]) {
    const w = new WireWriter(8);
    w.values(list);
    const r = new WireReader(w.view());
    t.deepEqual(r.values(), list);
    t.is(r.remaining, 0);
  }
  const w = new WireWriter();
  w.values([7]);
  t.deepEqual([...w.view()], [1, TAG_INT32, 7, 0, 0, 0]);
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
  t.is(len1, 1 + 4 + 5 + (1 + 4 + 3 * 5));
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
    t.is(w.length, 5);
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
  t.is(w.view()[0], TAG_SHARED_STACK);
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
  t.is(w.view()[1], ERR_CLASS | ERR_OWN_NAME | ERR_STACK | ERR_CODE | ERR_CAUSE | ERR_PROPS);
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
  t.true(((w.view()[1] ?? 0) & ERR_ERRORS) !== 0);
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
  if (v instanceof Error) return (v as { cause?: unknown }).cause ?? (v as { code?: unknown }).code;
  return (v as { a?: unknown }).a;
}

/** How many arrays, objects and errors are nested along `inner`. */
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

test('hostile V8 payloads (TAG_V8, ERR_PROPS) are WEFT_INVALID_ARG with the V8 error as cause', (t) => {
  const v8Value = (payload: Uint8Array | number[]): Uint8Array => Uint8Array.from([TAG_V8, ...u32le(payload.length), ...payload]);
  const withHost = serialize(new Map([[1, new Float64Array([1])]]));
  const host = withHost.indexOf(0x5c); // '\\': a host object (Node writes: type index, byte length, bytes)
  t.true(host > 0);
  const badType = Uint8Array.from(withHost);
  badType[host + 1] = 99; // no such view type: a TypeError inside Node's hook
  const withLength = (n: number): Uint8Array => Uint8Array.from([...withHost.subarray(0, host + 2), n, 1, 2, 3, 0x3a, 0x02]);
  const regexp = Uint8Array.from(serialize(/x/g));
  regexp[regexp.indexOf(0x78)] = 0x28; // /(/g: SyntaxError
  // [what, bytes, the class of the cause: what V8 or Node's hook threw; none for our own checks]
  const cases: Array<[string, Uint8Array, string | undefined]> = [
    ['not a V8 header', v8Value([1, 2, 3]), 'Error'],
    ['cut short', v8Value(withHost.subarray(0, withHost.length - 1)), 'Error'],
    ['a view longer than the payload', v8Value(withLength(200)), 'Error'],
    ['an unknown host view type', v8Value(badType), 'TypeError'],
    // Node's hook would make an empty Float64Array of it, dropping the 3 bytes.
    ['a Float64Array of 3 bytes', v8Value(withLength(3)), undefined],
    ['a bad RegExp', v8Value(regexp), 'SyntaxError'],
    // 20,000 nested arrays ('A', length 1), then undefined, then the arrays' ends.
    [
      'arrays nested 20,000 deep',
      v8Value([0xff, 0x0f, ...repeated([0x41, 0x01], 20_000, [0x5f]), ...repeated([0x24, 0x00, 0x01], 20_000, [])]),
      'RangeError',
    ],
  ];
  for (const [what, bytes, causeClass] of cases) {
    const e = corruptRecord(t, () => new WireReader(bytes).value(), what);
    t.is((e.cause as Error | undefined)?.constructor.name, causeClass, what);
    // The same bytes as an error's other properties.
    const payload = bytes.subarray(5);
    const props = Uint8Array.from([TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(payload.length), ...payload]);
    corruptRecord(t, () => new WireReader(props).value(), `${what}, as error properties`);
  }
  // Error properties must be an object: null would fail Object.keys.
  const nul = serialize(null);
  const propsNull = Uint8Array.from([TAG_ERROR, ERR_PROPS, ...taggedAscii('Error'), ...taggedAscii('m'), ...u32le(nul.length), ...nul]);
  corruptRecord(t, () => new WireReader(propsNull).value(), 'error properties that are null');
  // The reader goes on with the next value.
  t.deepEqual(roundTrip(new Map([[1, new Float64Array([1])]])), new Map([[1, new Float64Array([1])]]));
});

test('hostile VIEW lengths (not whole elements) and kinds are WEFT_INVALID_ARG; views at any alignment decode', (t) => {
  corruptRecord(t, () => new WireReader(Uint8Array.from([TAG_VIEW, VIEW_FLOAT64, 3, 0, 0, 0, 1, 2, 3])).value(), 'Float64Array of 3 bytes');
  VIEWS.forEach((View, kind) => {
    const size = (View as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 16]) {
      const bytes = Uint8Array.from([TAG_VIEW, kind, ...u32le(n), ...new Uint8Array(n).fill(7)]);
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
    corruptRecord(t, () => new WireReader(Uint8Array.from([TAG_VIEW, kind, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])).value(), `view kind ${kind}`);
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
    w.value(new Map([[1, new Float64Array([1.5])]])); // V8 path: Node's hook copies misaligned views
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
  ];
  const r = new WireReader(new Uint8Array(0));
  for (const [what, unit] of units) {
    for (const depth of [MAX_DEPTH + 1, 20_000, 200_000]) {
      corruptRecord(t, () => new WireReader(repeated(unit, depth)).value(), `${what} nested ${depth} deep`);
      corruptRecord(t, () => new WireReader(Uint8Array.from([1, ...repeated(unit, depth)])).values(), `values(): ${what} nested ${depth} deep`);
    }
    // Exactly MAX_DEPTH decodes, with the same reader after its failures (the depth starts over).
    r.reset(repeated(unit, MAX_DEPTH + 1));
    corruptRecord(t, () => r.value(), `${what} nested ${MAX_DEPTH + 1} deep, reused reader`);
    r.reset(repeated(unit, MAX_DEPTH));
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
  t.false(w.view().includes(TAG_V8), 'written natively, no V8 fallback');
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
  // Deep plain values go through V8 as one leaf and come back (as deep as v8.serialize goes).
  let v8Deep: unknown = 1;
  for (let i = 0; i < 2000; i++) v8Deep = [v8Deep];
  t.deepEqual(roundTrip(v8Deep), v8Deep);
});

test('moving past the end of the bytes (offset, skip, peekU16) is WEFT_INVALID_ARG, as a corrupt record', (t) => {
  const r = new WireReader(Uint8Array.from([4, 0, 0, 0, 0]));
  t.is(r.u32(), 4);
  t.deepEqual(r.values(), []);
  // A record length read from the bytes says the record ends at 8: Pool#drain and the actor hosts
  // then skip to it.
  corruptRecord(t, () => {
    r.offset = 8;
  }, 'offset past the end');
  t.is(r.offset, 5);
  for (const bad of [-1, 6, NaN, Infinity, 2 ** 32]) {
    corruptRecord(t, () => {
      r.offset = bad;
    }, `offset ${bad}`);
  }
  r.offset = 0;
  corruptRecord(t, () => r.skip(6), 'skip past the end');
  corruptRecord(t, () => r.peekU16(4), 'peekU16 past the end');
  t.is(r.peekU16(3), 0);
  r.offset = 5;
  t.is(r.remaining, 0);
  // A values() count larger than the bytes left.
  corruptRecord(t, () => new WireReader(Uint8Array.from([255, 0xff, 0xff, 0xff, 0xff, 0])).values(), 'values() count of 2^32-1');
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
