/**
 * The statistics terminals of `par`: `argmin`/`argmax`, `quantile`/`median`, `histogram` and
 * `groupBy(key).count/sum/mean/min/max`, on the calling thread and on weft's threads, against
 * plain JavaScript; bad input is a clear error at the call (WEFT_INVALID_ARG or a
 * ParCompileError), and an abort cancels them like every terminal.
 */
import test from 'ava';
import { type Groups, type Histogram, isWeftError, ParCompileError, par } from '../../src/index.js';
import { rejection } from '../helpers.js';

/** Deterministic values in [-50, 50) with a few exact duplicates (mulberry32). */
function values(n: number, seed = 1): Float64Array {
  let a = seed >>> 0;
  const r = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float64Array.from({ length: n }, (_, k) => (k % 97 === 0 ? 7 : r() * 100 - 50));
}

const SIZES = [1_000, 300_000]; // the calling thread, and weft's threads

function quantileOf(v: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(v).sort();
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const t = h - lo;
  const a = s[lo] as number;
  return t === 0 ? a : a + ((s[lo + 1] as number) - a) * t;
}

test('argmin and argmax give the source index of the first extreme value', async (t) => {
  for (const n of SIZES) {
    const v = values(n);
    v[n - 3] = -60;
    v[n >> 1] = 60;
    v[n - 1] = 60; // a later tie: the first one wins
    t.is(await par(v).argmin(), n - 3);
    t.is(await par(v).argmax(), n >> 1);
    // After a filter, still the source's index.
    const pos = await par(v)
      .filter((x) => x > 0)
      .argmin();
    let want = -1;
    v.forEach((x, i) => {
      if (x > 0 && (want < 0 || x < (v[want] as number))) want = i;
    });
    t.is(pos, want);
    const withNaN = Float64Array.from(v);
    withNaN[17] = NaN;
    t.is(await par(withNaN).argmax(), 17, 'a NaN is the extreme, as Math.max has it');
  }
  t.is(await par.range(10, 0, -1).argmin(), 9);
  t.is(await par([0, -0, 0]).argmin(), 1, '-0 is below +0');
  t.is(await par(new Float64Array(0)).argmax(), undefined);
  t.is(
    await par([1, 2])
      .filter((x) => x > 5)
      .argmin(),
    undefined,
  );
});

test('quantile and median are exact, interpolated as numpy and d3 do', async (t) => {
  for (const n of SIZES) {
    const v = values(n, n);
    for (const q of [0, 0.001, 0.25, 0.5, 0.9, 1]) t.is(await par(v).quantile(q), quantileOf(v, q), `q ${q} of ${n}`);
    t.is(await par(v).median(), quantileOf(v, 0.5));
    const kept = v.filter((x) => Math.abs(x) < 10);
    t.is(
      await par(v)
        .filter((x) => Math.abs(x) < 10)
        .median(),
      quantileOf(kept, 0.5),
    );
  }
  t.is(await par([3, 1, 4, 2]).median(), 2.5);
  t.is(await par(Int8Array.of(5, -3, 9)).median(), 5);
  t.true(Number.isNaN(await par([1, NaN, 3]).median()));
  t.is(await par([]).median(), undefined);
  for (const bad of [-0.1, 1.5, NaN, '0.5' as unknown as number]) {
    const err = await rejection(t, par([1, 2]).quantile(bad));
    t.true(isWeftError(err, 'WEFT_INVALID_ARG'), String(err));
  }
});

function histogramOf(v: ArrayLike<number>, bins: number, lo: number, hi: number): Histogram {
  const width = (hi - lo) / bins;
  const edges = Float64Array.from({ length: bins + 1 }, (_, k) => (k === bins ? hi : lo + k * width));
  const counts = new Float64Array(bins);
  for (let j = 0; j < v.length; j++) {
    const x = v[j] as number;
    if (!(x >= lo && x <= hi)) continue;
    let k = Math.min(bins - 1, Math.floor((x - lo) / width));
    while (k > 0 && x < (edges[k] as number)) k--;
    while (k + 1 < bins && x >= (edges[k + 1] as number)) k++;
    counts[k] = (counts[k] as number) + 1;
  }
  return { counts, edges };
}

test('histogram counts equal-width bins, the last one closed', async (t) => {
  for (const n of SIZES) {
    const v = values(n);
    t.deepEqual(await par(v).histogram(10, { min: -50, max: 50 }), histogramOf(v, 10, -50, 50));
    t.deepEqual(await par(v).histogram(7, { min: -3, max: 11.5 }), histogramOf(v, 7, -3, 11.5));
    // The values' own range by default.
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
    t.deepEqual(await par(v).histogram(33), histogramOf(v, 33, lo, hi));
  }
  const h = await par([0, 0.5, 1, 1, NaN, 2]).histogram(2, { min: 0, max: 1 });
  t.deepEqual(Array.from(h.counts), [1, 3], 'max falls in the last bin; NaN and values outside are not counted');
  t.deepEqual(Array.from(h.edges), [0, 0.5, 1]);
  t.deepEqual(Array.from((await par([4, 4]).histogram(2)).edges), [3.5, 4, 4.5], 'equal values: widened by 0.5');
  for (const [bins, options] of [
    [0, undefined],
    [2.5, undefined],
    [2 ** 25, undefined],
    [3, { min: 1 }],
    [3, { min: 1, max: 1 }],
    [3, { min: 0, max: Infinity }],
    [3, { min: 0, max: 1, nope: 1 }],
  ] as const) {
    const err = await rejection(t, par([1, 2]).histogram(bins, options as never));
    t.true(isWeftError(err, 'WEFT_INVALID_ARG'), `${bins} ${JSON.stringify(options)}: ${String(err)}`);
  }
  const inf = await rejection(t, par([1, Infinity]).histogram(4));
  t.true(isWeftError(inf, 'WEFT_INVALID_ARG') && /give min and max/.test(inf.message), String(inf));
});

function groupsOf(v: ArrayLike<number>, key: (x: number, i: number) => number, agg: (m: number[]) => number): Groups {
  const members = new Map<number, number[]>();
  for (let i = 0; i < v.length; i++) {
    const k = key(v[i] as number, i);
    const m = members.get(k) ?? [];
    m.push(v[i] as number);
    members.set(k, m);
  }
  const keys = [...members.keys()].sort((a, b) => a - b);
  return { keys: Int32Array.from(keys), values: Float64Array.from(keys, (k) => agg(members.get(k) as number[])) };
}

test('groupBy aggregates per key: count, sum, mean, min and max', async (t) => {
  for (const n of SIZES) {
    // Integers: the sums are exact in a plain loop too.
    const ints = Float64Array.from(values(n), (x) => Math.round(x * 100));
    const key = (x: number): number => Math.abs(x) % 100;
    const g = par(ints).groupBy((x) => Math.abs(x) % 100, { keys: 100 });
    const sum = (m: number[]): number => m.reduce((a, b) => a + b, 0);
    t.deepEqual(
      await g.count(),
      groupsOf(ints, key, (m) => m.length),
    );
    t.deepEqual(await g.sum(), groupsOf(ints, key, sum));
    t.deepEqual(
      await g.mean(),
      groupsOf(ints, key, (m) => sum(m) / m.length),
    );
    t.deepEqual(
      await g.min(),
      groupsOf(ints, key, (m) => Math.min(...m)),
    );
    t.deepEqual(
      await g.max(),
      groupsOf(ints, key, (m) => Math.max(...m)),
    );
  }
  // A boolean key: two groups, `keys` optional.
  const v = values(50_000);
  const byBool = await par(v)
    .groupBy((x) => x > 0)
    .count();
  t.deepEqual(Array.from(byBool.keys), [0, 1]);
  t.is((byBool.values[0] as number) + (byBool.values[1] as number), v.length);
  t.is(byBool.values[1], v.filter((x) => x > 0).length);
  // Captures and the index, after a stage.
  const byIndex = await par(v)
    .map((x) => x * 2)
    .groupBy((_x, i, { m }) => i % m, { m: 3 }, { keys: 3 })
    .count();
  t.deepEqual(Array.from(byIndex.values), [16_667, 16_667, 16_666]);
  // Only groups with values appear.
  const sparse = await par([1, 2, 3])
    .groupBy((x) => x * 10, { keys: 1000 })
    .sum();
  t.deepEqual(sparse, { keys: Int32Array.of(10, 20, 30), values: Float64Array.of(1, 2, 3) });
});

test('groupBy: exact sums where a loop rounds', async (t) => {
  // 1e16 + 1 + 1 - 1e16 is 2 exactly; a left-to-right loop gives 0.
  const v = [1e16, 1, 1, -1e16, 0.1, 0.2];
  const g = await par(v)
    .groupBy((_x, i) => (i < 4 ? 0 : 1), { keys: 2 })
    .sum();
  t.deepEqual(Array.from(g.values), [2, 0.30000000000000004]);
});

test('groupBy: a key outside the declared range, or not an integer, rejects the terminal', async (t) => {
  for (const n of SIZES) {
    const v = values(n);
    const err = await rejection(
      t,
      par(v)
        .groupBy((x) => Math.floor(x), { keys: 10 })
        .count(),
    );
    t.true(isWeftError(err, 'WEFT_INVALID_ARG') && /keys must be integers from 0 to 9/.test(err.message), String(err));
  }
  const frac = await rejection(
    t,
    par([1, 2, 3])
      .groupBy((x) => x / 2, { keys: 10 })
      .sum(),
  );
  t.true(isWeftError(frac, 'WEFT_INVALID_ARG') && /returned 0\.5/.test(frac.message), String(frac));
  for (const options of [undefined, {}, { keys: 0 }, { keys: 1.5 }, { keys: 2 ** 21 }, { keys: 3, other: 1 }]) {
    const err = t.throws(() => par([1]).groupBy((x) => x, options as never));
    t.true(isWeftError(err, 'WEFT_INVALID_ARG'), `${JSON.stringify(options)}: ${String(err)}`);
  }
});

test('groupBy: a key closure the compiler rejects is a ParCompileError at the call, even with the fallback pool', (t) => {
  const loop = (x: number): number => {
    let k = 0;
    while (k < x) k++;
    return k;
  };
  for (const options of [undefined, { fallback: 'pool' as const }]) {
    const err = t.throws(() => par([1, 2], options).groupBy(loop, { keys: 4 }));
    t.true(err instanceof ParCompileError, String(err));
  }
});

test('argmin and groupBy refuse stages that run on the fallback pool (they lose the source index)', async (t) => {
  const loop = (x: number): number => {
    let k = 0;
    while (k < 3) k++;
    return x + k;
  };
  const p = par([1, 2, 3], { fallback: 'pool' }).map(loop);
  t.is(await p.sum(), 15, 'the stage runs on the pool');
  for (const run of [() => p.argmin(), () => p.groupBy((x) => x > 4).count()]) {
    const err = await rejection(t, run());
    t.true(isWeftError(err, 'WEFT_INVALID_ARG') && /source index/.test(err.message), String(err));
  }
  t.is(await p.median(), 5, 'quantiles need no index');
});

test('an abort cancels the statistics terminals', async (t) => {
  const reason = new Error('gone');
  const signal = AbortSignal.abort(reason);
  const p = par.range(0, 1_000_000, 1, { signal });
  for (const run of [() => p.argmin(), () => p.median(), () => p.histogram(10), () => p.groupBy((x) => x % 2, { keys: 2 }).sum()]) {
    const err = await rejection(t, run());
    t.true(isWeftError(err, 'WEFT_ABORTED'), String(err));
    t.is((err as Error & { cause?: unknown }).cause, reason);
  }
  // While running: a median of 2^28 values stops between chunks.
  const ac = new AbortController();
  const running = par
    .range(0, 2 ** 28, 1, { signal: ac.signal })
    .map((x) => x * 3)
    .median();
  setTimeout(() => ac.abort(), 30);
  const err = await rejection(t, running);
  t.true(isWeftError(err, 'WEFT_ABORTED'), String(err));
});
