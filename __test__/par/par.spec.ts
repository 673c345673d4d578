import test from 'ava';
import { par, Par, ParCompileError, WeftError, isWeftError, type NumericArray } from '../../src/index.js';
import { native } from '../../src/native.js';
import { OP_NAMES } from '../../src/par/ops.js';
import { INLINE_MAX } from '../../src/par/pipeline.js';

const BIG = INLINE_MAX * 3 + 17; // runs on weft's threads, over several chunks

/** A closure from source text (so positions in multi-line sources can be tested). */
function closure<F>(src: string): F {
  return new Function(`return (${src});`)() as F;
}

function same(t: { true(v: boolean, m?: string): void }, got: ArrayLike<number>, want: ArrayLike<number>): void {
  t.true(got.length === want.length, `length ${got.length} vs ${want.length}`);
  for (let k = 0; k < want.length; k++) {
    if (!Object.is(got[k], want[k])) {
      t.true(false, `index ${k}: ${String(got[k])} vs ${String(want[k])}`);
      return;
    }
  }
}

test('the op table agrees with weft-core', (t) => {
  t.deepEqual(native.parOpNames(), [...OP_NAMES]);
  t.true(native.parThreads() >= 1);
});

test('the article pipeline equals the JS loop', async (t) => {
  const got = await par
    .range(0, 1_000_000)
    .map((x) => x * 2)
    .filter((x) => x % 3 === 0)
    .sum();
  let want = 0;
  for (let x = 0; x < 1_000_000; x++) {
    const y = x * 2;
    if (y % 3 === 0) want += y;
  }
  t.is(got, want);
});

test('every terminal on a small array', async (t) => {
  const p = par(new Float64Array([3, -1, 4, 1, -5, 9, 2, 6]));
  t.is(await p.sum(), 19);
  t.is(await p.count(), 8);
  t.is(await p.mean(), 19 / 8);
  t.is(await p.min(), -5);
  t.is(await p.max(), 9);
  t.is(
    await p.reduce((a, x) => a * 10 + x, 0),
    [3, -1, 4, 1, -5, 9, 2, 6].reduce((a, x) => a * 10 + x, 0),
  );
  t.true(await p.some((x) => x > 8));
  t.false(await p.some((x) => x > 9));
  t.true(await p.every((x, i) => i < 8 && x > -6));
  t.false(await p.every((x) => x > -5));
  same(t, await p.toArray(), [3, -1, 4, 1, -5, 9, 2, 6]);
  same(t, await p.sort(), [-5, -1, 1, 2, 3, 4, 6, 9]);
  same(t, await p.sort({ descending: true }), [9, 6, 4, 3, 2, 1, -1, -5]);
});

test('every terminal on the threaded path', async (t) => {
  const values = Float64Array.from({ length: BIG }, (_, k) => ((k * 7919) % 1000) - 500);
  const js = [...values];
  const p = par(values);
  t.is(
    await p.sum(),
    js.reduce((a, b) => a + b, 0),
  );
  t.is(await p.count(), BIG);
  t.is(await p.min(), -500);
  t.is(await p.max(), 499);
  t.is(await p.reduce((a, x) => Math.max(a, x), -Infinity), 499);
  t.true(await p.some((x, i, { n, last }) => i === n - 1 && x === last, { n: BIG, last: js[BIG - 1] as number }));
  t.true(await p.every((x) => x >= -500));
  same(
    t,
    await p.map((x, i) => x * i).toArray(),
    js.map((x, i) => x * i),
  );
  same(t, await p.sort(), Float64Array.from(js).sort());
});

test('empty sources', async (t) => {
  for (const p of [par(new Float64Array(0)), par([]), par.range(5, 5), par.range(0, 10).filter(() => false)]) {
    t.is(await p.sum(), 0);
    t.is(await p.count(), 0);
    t.true(Number.isNaN(await p.mean()));
    t.is(await p.min(), undefined);
    t.is(await p.max(), undefined);
    t.is(await p.reduce((a, x) => a + x, 42), 42);
    t.false(await p.some(() => true));
    t.true(await p.every(() => false));
    t.is((await p.toArray()).length, 0);
    t.is((await p.sort()).length, 0);
    t.is((await p.toArray({ type: Int8Array })).constructor, Int8Array);
  }
});

const SOURCES: ReadonlyArray<[string, (n: number) => NumericArray | number[]]> = [
  ['Float64Array', (n) => Float64Array.from({ length: n }, (_, k) => k * 1.5 - 7)],
  ['Float32Array', (n) => Float32Array.from({ length: n }, (_, k) => k * 0.1 - 3)],
  ['Int8Array', (n) => Int8Array.from({ length: n }, (_, k) => k)],
  ['Uint8Array', (n) => Uint8Array.from({ length: n }, (_, k) => k * 7)],
  ['Uint8ClampedArray', (n) => Uint8ClampedArray.from({ length: n }, (_, k) => k % 300)],
  ['Int16Array', (n) => Int16Array.from({ length: n }, (_, k) => k * 1000)],
  ['Uint16Array', (n) => Uint16Array.from({ length: n }, (_, k) => k * 1000)],
  ['Int32Array', (n) => Int32Array.from({ length: n }, (_, k) => k * 1_000_003)],
  ['Uint32Array', (n) => Uint32Array.from({ length: n }, (_, k) => k * 3_000_017)],
  ['number[]', (n) => Array.from({ length: n }, (_, k) => k / 3)],
];

for (const [name, make] of SOURCES) {
  test(`source ${name} reads its elements as numbers`, async (t) => {
    for (const n of [0, 1, 100, BIG]) {
      const src = make(n);
      const js = Array.from(src as ArrayLike<number>);
      const p = par(src).map((x, i) => x * 2 - i);
      same(
        t,
        await p.toArray(),
        js.map((x, i) => x * 2 - i),
      );
      t.is(
        await par(src).sum(),
        js.reduce((a, b) => a + b, 0),
      );
      t.is(
        await par(src)
          .filter((x) => x % 2 === 1)
          .count(),
        js.filter((x) => x % 2 === 1).length,
      );
    }
  });
}

test('Buffer and views with an offset are read in place', async (t) => {
  const buf = Buffer.from([1, 2, 3, 250]);
  t.is(await par(buf).sum(), 256);
  const backing = new Float64Array([100, 1, 2, 3, 100]);
  t.is(await par(backing.subarray(1, 4)).sum(), 6);
});

test('ranges: steps, negative and fractional, empty', async (t) => {
  const arange = (start: number, end: number, step: number): number[] => {
    const n = Math.max(0, Math.ceil((end - start) / step));
    return Array.from({ length: n }, (_, k) => start + k * step);
  };
  const cases: Array<[number, number, number?]> = [
    [0, 10],
    [0, 10, 3],
    [10, 0, -1],
    [10, 0, -3],
    [0, 1, 0.1],
    [-1.5, 2.25, 0.25],
    [5, 0],
    [0, 5, -1],
    [3, 3.5],
    [0, BIG, 1],
    [1e15, 1e15 + 50, 7],
  ];
  for (const [s, e, step] of cases) {
    const want = arange(s, e, step ?? 1);
    same(t, await par.range(s, e, step).toArray(), want);
    same(
      t,
      await par
        .range(s, e, step)
        .map((_x, i) => i)
        .toArray(),
      want.map((_, i) => i),
    );
  }
  for (const bad of [
    () => par.range(0, 10, 0),
    () => par.range(0, Infinity),
    () => par.range(NaN, 1),
    () => par.range(-1e300, 1e300, 1e-300),
  ]) {
    t.throws(bad, { code: 'WEFT_INVALID_ARG' });
  }
});

test('bad sources are rejected at the call', (t) => {
  for (const bad of [new DataView(new ArrayBuffer(8)), 'abc', null, {}, [1, 'x']]) {
    t.throws(() => par(bad as never), { code: 'WEFT_INVALID_ARG' });
  }
});

test('toArray types convert as typed-array stores do', async (t) => {
  const v = [1.5, -1.5, 300, -0, NaN, 2.5, 4294967297, Infinity, -129];
  const p = par(v);
  for (const C of [
    Float64Array,
    Float32Array,
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
  ]) {
    const got = await p.toArray({ type: C });
    t.is(got.constructor, C);
    same(t, got, C.from(v));
    const big = await par
      .range(0, BIG)
      .map((x) => x * 1.5 - 1000)
      .toArray({ type: C });
    same(t, big, C.from(Array.from({ length: BIG }, (_, k) => k * 1.5 - 1000)));
  }
  await t.throwsAsync(p.toArray({ type: Array as never }), { code: 'WEFT_INVALID_ARG' });
});

test('toArray({ into }) writes in place', async (t) => {
  const into = new Float64Array(20).fill(-1);
  const got = await par
    .range(0, 30)
    .filter((x) => x % 2 === 0)
    .toArray({ into });
  t.is(got.buffer, into.buffer);
  t.is(got.length, 15);
  same(
    t,
    into.subarray(0, 15),
    Array.from({ length: 15 }, (_, k) => 2 * k),
  );
  t.is(into[15], -1);
  // Exactly filled: the array itself.
  const exact = new Int32Array(10);
  t.is(
    await par
      .range(0, 10)
      .map((x) => -x)
      .toArray({ into: exact }),
    exact,
  );
  same(
    t,
    exact,
    Int32Array.from({ length: 10 }, (_, k) => -k),
  );
  // Too small: rejected, nothing written.
  const small = new Float64Array(3);
  await t.throwsAsync(par.range(0, 10).toArray({ into: small }), { code: 'WEFT_INVALID_ARG' });
  same(t, small, [0, 0, 0]);
  await t.throwsAsync(
    par
      .range(0, BIG)
      .filter((x) => x > 5)
      .toArray({ into: new Float64Array(10) }),
    {
      code: 'WEFT_INVALID_ARG',
    },
  );
  // In place over the source, small and threaded.
  for (const n of [100, BIG]) {
    const a = Float64Array.from({ length: n }, (_, k) => k);
    const r = await par(a)
      .map((x) => x * x)
      .toArray({ into: a });
    t.is(r, a);
    t.is(a[n - 1], (n - 1) * (n - 1));
    const b = Float64Array.from({ length: n }, (_, k) => k);
    const kept = await par(b)
      .filter((x) => x % 3 === 0)
      .toArray({ into: b });
    t.is(kept.length, Math.ceil(n / 3));
    t.is(kept[kept.length - 1], 3 * (kept.length - 1));
  }
  // Another type converts.
  const bytes = new Uint8ClampedArray(4);
  same(t, await par([-5, 0.5, 1.5, 300]).toArray({ into: bytes }), [0, 0, 2, 255]);
  await t.throwsAsync(par([1]).toArray({ into: [0] as never }), { code: 'WEFT_INVALID_ARG' });
});

test('sort: ascending, descending, NaN last, -0 before +0, converted first', async (t) => {
  const v = [3, NaN, -0, 0, -Infinity, 2, NaN, -7, Infinity, 0, -0];
  same(t, await par(v).sort(), Float64Array.from(v).sort());
  const desc = await par(v).sort({ descending: true });
  same(t, desc, [Infinity, 3, 2, 0, 0, -0, -0, -7, -Infinity, NaN, NaN]);
  same(t, await par([200, 100, -1]).sort({ type: Int8Array }), [-56, -1, 100]);
  same(t, await par([200, 100, -1]).sort({ type: Uint8Array, descending: true }), [255, 200, 100]);
  const big = Float64Array.from({ length: BIG }, (_, k) => ((k * 104729) % 10007) - 5000);
  same(t, await par(big).sort(), Float64Array.from(big).sort());
  same(t, await par(big).sort({ descending: true }), Float64Array.from(big).sort().reverse());
});

test('min, max, sum follow JS on NaN, -0 and infinities', async (t) => {
  t.true(Object.is(await par([0, -0]).min(), -0));
  t.true(Object.is(await par([-0, 0]).max(), 0));
  t.true(Object.is(await par([-0, -0]).max(), -0));
  t.true(Number.isNaN(await par([1, NaN, 2]).min()));
  t.true(Number.isNaN(await par([Infinity, -Infinity]).sum()));
  t.is(await par([Infinity, 1]).sum(), Infinity);
  t.true(Object.is(await par([-0, -0]).sum(), 0));
  // More accurate than the loop: the exact sum, rounded once.
  t.is(await par([1e100, 1, -1e100]).sum(), 1);
  t.is(await par([Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE]).sum(), Number.MAX_VALUE);
  t.is(await par([0.1, 0.2, 0.3]).sum(), 0.6);
});

test('captures: numbers and booleans, passed after the closure', async (t) => {
  const k = 3;
  const flip = true;
  same(
    t,
    await par([1, 2, 3])
      .map((x, i, { k }) => x * k + i, { k })
      .toArray(),
    [3, 7, 11],
  );
  same(
    t,
    await par([1, 2, 3])
      .map((x, _i, { k: scale, flip }) => (flip ? -x : x) * scale, { k, flip })
      .toArray(),
    [-3, -6, -9],
  );
  t.is(
    await par([1, 2, 3])
      .filter((x, _i, { lo }) => x > lo, { lo: 1 })
      .count(),
    2,
  );
  t.is(await par([1, 2, 3]).reduce((a, x, { w }) => a + x * w, 0, { w: 10 }), 60);
  t.true(await par([1, 2, 3]).some((x, _i, { v }) => x === v, { v: 2 }));
  t.true(await par([1, 2, 3]).every((x, _i, { v }) => x <= v, { v: 3 }));
  // The same closure with other values.
  const scale = (x: number, _i: number, { s }: { s: number }): number => x * s;
  same(t, await par([1, 2]).map(scale, { s: 2 }).toArray(), [2, 4]);
  same(t, await par([1, 2]).map(scale, { s: -1 }).toArray(), [-1, -2]);
  // Missing or wrong captures.
  t.throws(() => par([1]).map(closure('(x, i, { k }) => x * k')), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => par([1]).map((x, _i, { k }) => x * k, { j: 1 } as never), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => par([1]).map((x, _i, { k }) => x * k, { k: 'a' } as never), { code: 'WEFT_INVALID_ARG' });
});

test('booleans are booleans where JavaScript tells them apart', async (t) => {
  same(
    t,
    await par([1, 2, 3])
      .map((x) => x > 1)
      .toArray(),
    [0, 1, 1],
  );
  t.is(
    await par([1, 2, 3])
      .map((x) => x > 1)
      .sum(),
    2,
  );
  same(
    t,
    await par([1, 2])
      .map((x) => x > 1)
      .map((b) => b === true)
      .toArray(),
    [0, 1],
  );
  same(
    t,
    await par([1, 2])
      .map((x) => x > 1)
      .map((b) => (b as unknown) === 1)
      .toArray(),
    [0, 0],
  );
  same(
    t,
    await par([1, 2])
      .map((x) => x > 1)
      // biome-ignore lint/suspicious/noDoubleEquals: loose equality of a boolean and a number is what is tested
      .map((b) => (b as unknown) == 1)
      .toArray(),
    [0, 1],
  );
  same(
    t,
    await par([1, 2])
      .map((x) => Number.isInteger(x > 1))
      .toArray(),
    [0, 0],
  );
  same(
    t,
    await par([1, 2])
      .map((x) => -(x > 1))
      .toArray(),
    [-0, -1],
  );
  same(
    t,
    await par([0, 2])
      .map((x) => x && x > 1)
      .toArray(),
    [0, 1],
  );
  const e = t.throws(() => par([1]).map((x) => (x > 0 ? x : false) === 1), { instanceOf: ParCompileError });
  t.regex(e.message, /may be a boolean or a number/);
  t.throws(
    () =>
      par([1])
        .map((x) => (x > 0 ? x : false))
        .map((v) => Number.isNaN(v as number)),
    {
      instanceOf: ParCompileError,
    },
  );
  await t.throwsAsync(par([1]).reduce(closure('(a, x) => a > x'), 0), { instanceOf: ParCompileError });
});

test('block bodies, locals and the rest of the subset', async (t) => {
  const f = (x: number, i: number): number => {
    const a = x * 2;
    let b = a + i;
    b += 1;
    b **= 2;
    let c = b % 7;
    c = c < 3 ? c : -c;
    c ||= 100;
    return Math.max(a, b, c) - Math.min(a, b, c) + (~x | (i << 3)) + (x >>> 1) + Math.PI + Number.EPSILON;
  };
  const xs = [0, 1, -2.5, 7, 1e10, -0];
  same(t, await par(xs).map(f).toArray(), xs.map(f));
  const g = (x: number): number =>
    Math.hypot(x, 3, 4) +
    Math.round(x / 3) +
    Math.sign(x) +
    Math.fround(x / 7) +
    Math.trunc(-x / 3) +
    Math.clz32(x) +
    Math.imul(x, 0x7fffffff) +
    Math.atan2(x, 2) * 0;
  same(t, await par(xs).map(g).toArray(), xs.map(g));
  // biome-ignore lint/suspicious/noGlobalIsFinite: par compiles the global isFinite too; this checks it
  const h = (x: number): boolean => Number.isFinite(x) && !Number.isNaN(x / x) && isFinite(x) && Number.isSafeInteger(x);
  same(
    t,
    await par(xs).map(h).toArray(),
    xs.map((x) => +h(x)),
  );
  same(
    t,
    await par([1, 2, 3])
      .map((x) => (x++, x))
      .toArray(),
    [2, 3, 4],
  );
  same(
    t,
    await par([1, 2, 3])
      .map((x) => x ?? 5)
      .toArray(),
    [1, 2, 3],
  );
});

/** Where `needle` starts in `fn.toString()`, as 1-based line and column. */
function positionOf(fn: (...a: never[]) => unknown, needle: string, nth = 0): { line: number; column: number } {
  const src = fn.toString();
  let at = -1;
  for (let k = 0; k <= nth; k++) at = src.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`${needle} not in ${src}`);
  const before = src.slice(0, at).split('\n');
  return { line: before.length, column: (before[before.length - 1] as string).length + 1 };
}

const UNSUPPORTED: ReadonlyArray<[string, string, string, RegExp]> = [
  ['a call to a non-Math function', '(x) => {\n  return x + parseInt(x);\n}', 'parseInt(', /call to `parseInt`/],
  ['a method call', '(x) => x.toFixed(2)', 'x.toFixed(', /call to `x.toFixed`/],
  ['Math.random', '(x) => x * Math.random()', 'Math.random(', /Math.random/],
  ['this', 'function (x) {\n  return this.k * x;\n}', 'this', /`this`/],
  ['an outer variable', '(x) => x * scale', 'scale', /outer variable `scale`/],
  ['an assignment to an outer variable', '(x) => {\n  total = total + x;\n  return x;\n}', 'total', /outer variable `total`/],
  ['an assignment to a capture', '(x, i, { k }) => (k = 2)', 'k = 2', /captured value `k`/],
  ['an assignment to a const', '(x) => {\n  const y = 1;\n  y = 2;\n  return y;\n}', 'y = 2', /constant `y`/],
  ['a for loop', '(x) => {\n  let s = 0;\n  for (let k = 0; k < x; k++) s += k;\n  return s;\n}', 'for', /`for` loop/],
  ['a while loop', '(x) => {\n  while (x > 1) x /= 2;\n  return x;\n}', 'while', /`while` loop/],
  ['an if without return on one path', '(x) => {\n  if (x > 1) return 1;\n}', '}', /does not end with `return`/],
  ['a switch', '(x) => {\n  switch (x) { default: return x; }\n}', 'switch', /`switch` statement/],
  ['a string', "(x) => x + 'a'", "'a'", /a string/],
  ['a template string', '(x) => `${x}`', '`', /template string/],
  ['an object literal', '(x) => ({ x }).x', '{ x }', /object literal/],
  ['an array literal', '(x) => [x][0]', '[x]', /array literal/],
  ['new', '(x) => new Number(x)', 'new', /`new`/],
  ['a nested function', '(x) => ((y) => y)(x)', '(y) => y', /nested function/],
  ['typeof', '(x) => typeof x', 'typeof', /`typeof`/],
  ['a BigInt', '(x) => x + 1n', '1n', /BigInt/],
  ['null', '(x) => x ?? null', 'null', /`null`/],
  ['undefined', '(x) => undefined', 'undefined', /`undefined`/],
  ['a property access', '(x) => x.length', 'x.length', /property access/],
  ['var', '(x) => {\n  var y = x;\n  return y;\n}', 'var', /`var`/],
  ['a missing return', '(x) => {\n  const y = x;\n}', '}', /does not end with `return`/],
  ['a default parameter', '(x = 1) => x', 'x = 1', /default parameter/],
  ['a rest parameter', '(...xs) => 1', '...xs', /rest parameter/],
  ['an async function', 'async (x) => x', 'async', /async/],
  ['a generator', 'function* (x) { yield x; }', 'function', /generator/],
  ['use before declaration', '(x) => {\n  const y = y + 1;\n  return y;\n}', 'y + 1', /before its declaration/],
  ['a try statement', '(x) => {\n  try { x = 1; } catch { x = 2; }\n  return x;\n}', 'try', /`try`/],
  ['the in operator', '(x) => x in Math', 'x in', /`in` operator/],
  ['a computed Math member', "(x) => Math['sin'](x)", "'sin'", /computed/],
  ['a captures parameter that is not a pattern', '(x, i, env) => x', 'env', /destructure/],
  ['a nested capture pattern', '(x, i, { k: { j } }) => x', '{ j }', /nested pattern/],
  ['void', '(x) => void x', 'void', /`void`/],
  ['await', 'async function (x) { return await x; }', 'async', /async/],
];

for (const [what, src, needle, message] of UNSUPPORTED) {
  test(`compile error: ${what}`, (t) => {
    const fn = closure<(x: number) => number>(src);
    const e = t.throws(() => par([1, 2]).map(fn, { k: 1 } as never), { instanceOf: ParCompileError });
    t.is(e.code, 'WEFT_PAR_COMPILE');
    t.true(e instanceof WeftError);
    t.true(isWeftError(e, 'WEFT_PAR_COMPILE'));
    t.regex(e.message, message);
    // `}`: the closing brace of the body.
    const want = needle === '}' ? positionOf(fn, '}', fn.toString().split('}').length - 2) : positionOf(fn, needle);
    t.deepEqual({ line: e.line, column: e.column }, want, e.message);
    t.is(e.source, fn.toString());
    t.true(e.message.includes(`${want.line}:${want.column}`));
  });
}

test('compile errors surface at the stage call, and as rejections from terminals', async (t) => {
  const p = par([1, 2]);
  t.throws(() => p.filter(closure('(x) => x > limit')), { code: 'WEFT_PAR_COMPILE' });
  await t.throwsAsync(p.reduce(closure('(a, x) => a + f(x)'), 0), { code: 'WEFT_PAR_COMPILE' });
  await t.throwsAsync(p.some(closure('(x) => x.y')), { code: 'WEFT_PAR_COMPILE' });
  t.throws(() => p.map(Math.sin as never), { code: 'WEFT_PAR_COMPILE', message: /native/ });
  t.throws(() => p.map(((x: number) => x).bind(null) as never), { code: 'WEFT_PAR_COMPILE' });
  t.throws(() => p.map('x => x' as never), { code: 'WEFT_INVALID_ARG' });
});

test('a pipeline is immutable and reusable', async (t) => {
  const base = par.range(0, 10);
  const doubled = base.map((x) => x * 2);
  const odd = base.filter((x) => x % 2 === 1);
  t.is(await base.sum(), 45);
  t.is(await doubled.sum(), 90);
  t.is(await odd.sum(), 25);
  t.is(base.sourceLength, 10);
  t.true(doubled instanceof Par);
});

test('large inputs run off the main thread: the event loop keeps turning', async (t) => {
  let settled = false;
  const p = par
    .range(0, 40_000_000)
    .map((x) => Math.sqrt(x))
    .sum()
    .then((v) => {
      settled = true;
      return v;
    });
  let ticks = 0;
  while (!settled && ticks < 1_000_000) {
    await new Promise((r) => setImmediate(r));
    ticks++;
  }
  t.true(ticks > 1, `the event loop turned ${ticks} times while the pipeline ran`);
  t.true((await p) > 0);
});

test('many concurrent terminals all settle correctly', async (t) => {
  const src = Float64Array.from({ length: BIG }, (_, k) => k);
  const runs = Array.from({ length: 32 }, (_, j) =>
    par(src)
      .map((x, _i, { j }) => x * j, { j })
      .sum(),
  );
  const got = await Promise.all(runs);
  const base = (BIG * (BIG - 1)) / 2;
  got.forEach((v, j) => t.is(v, base * j));
});

test('a panic on weft threads becomes WEFT_PANIC and the process goes on', async (t) => {
  const code = Uint32Array.from([2, 2, 0, 0, 0]); // an empty pipeline
  const consts = new Float64Array(0);
  const PANIC = 0xffffffff;
  const e = t.throws(() => native.parRunSync(null, [0, 1, 10], null, code, consts, PANIC, 0, 0, null));
  t.is((e as Error & { code?: string }).code, 'WEFT_PANIC');
  t.regex(e.message, /par panic for test \(Inline\)/);
  const r = await native.parRun(null, [0, 1, BIG], null, code, consts, PANIC, 0, 0, null, null);
  t.true(r instanceof Error);
  t.is((r as Error & { code?: string }).code, 'WEFT_PANIC');
  t.regex((r as Error).message, /par panic for test \(Parallel\)/);
  // Malformed programs are errors too, never crashes.
  t.throws(() => native.parRunSync(null, [0, 1, 10], null, Uint32Array.from([2, 2, 0, 0, 1, 0, 5]), consts, 0, 0, 0, null), {
    code: 'WEFT_INVALID_ARG',
  });
  const bad = await native.parRun(null, [0, 1, BIG], null, Uint32Array.from([7]), consts, 0, 0, 0, null, null);
  t.is((bad as Error & { code?: string }).code, 'WEFT_INVALID_ARG');
  t.is(await par.range(0, BIG).sum(), (BIG * (BIG - 1)) / 2);
});

test('if/else and early returns compile to selects and agree with JavaScript', async (t) => {
  const values = Float64Array.from([
    ...[NaN, -0, 0, Infinity, -Infinity, 1, -1, 2.5, -7, 1e300, -1e-300],
    ...Array.from({ length: BIG }, (_, k) => ((k * 7919) % 4001) / 16 - 125),
  ]);
  const closures: Array<[string, (x: number, i: number) => number]> = [
    [
      'early return',
      (x) => {
        if (x > 1) return 1;
        return 0;
      },
    ],
    [
      'if/else chain',
      (x) => {
        if (x < -10) {
          return -1;
        } else if (x < 10) {
          const y = x * 2;
          return y + 1;
        } else {
          return x % 7;
        }
      },
    ],
    [
      'let assigned in branches, no returns',
      (x, i) => {
        let y = x;
        if (i % 2 === 0) y = y * 3;
        else {
          y = -y;
          y += 1;
        }
        if (Number.isNaN(y)) y = 0;
        return y;
      },
    ],
    [
      'nested ifs with a fall-through',
      (x) => {
        let s = 0;
        if (x > 0) {
          if (x > 50) return 50;
          s = x;
        }
        if (s === 0) return -0;
        return s / 2;
      },
    ],
    [
      'a return inside a nested block',
      (x) => {
        {
          const h = x / 2;
          if (h > 3) {
            return h;
          }
        }
        return x;
      },
    ],
  ];
  for (const [name, fn] of closures) {
    const want = Float64Array.from(values, (x, i) => fn(x, i));
    same(t, await par(values).map(fn).toArray(), want);
    const kept = Array.from(values).filter((x, i) => fn(x, i) > 0);
    t.is(
      await par(values)
        .map(fn)
        .filter((y) => y > 0)
        .count(),
      kept.length,
      name,
    );
  }
  const folded = await par(values.subarray(0, 5000)).reduce((acc, x) => {
    if (Number.isNaN(x)) return acc;
    if (x > acc) return x;
    return acc;
  }, -Infinity);
  t.is(folded, Math.max(...Array.from(values.subarray(0, 5000)).filter((x) => !Number.isNaN(x))));
});
