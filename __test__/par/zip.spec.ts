/**
 * `par.zip(a, b, ...)`: rows of several columns; filters keep the columns aligned; closures of
 * several parameters; bad input is a clear error at the call.
 */
import test from 'ava';
import fc from 'fast-check';
import { isWeftError, ParCompileError, par } from '../../src/index.js';
import { rejection } from '../helpers.js';

const SIZES = [1_000, 250_001]; // the calling thread, and weft's threads

test('a dot product, a masked sum and distances equal the JS loop', async (t) => {
  for (const n of SIZES) {
    const a = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) - 500);
    const b = Int16Array.from({ length: n }, (_, i) => ((i * 104729) % 200) - 100);
    let dot = 0;
    let masked = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      dot += (a[i] as number) * (b[i] as number);
      if ((b[i] as number) > 0) {
        masked += (a[i] as number) * (b[i] as number) + i;
        count++;
      }
    }
    t.is(
      await par
        .zip(a, b)
        .map((x, y) => x * y)
        .sum(),
      dot,
    );
    t.is(
      await par
        .zip(a, b)
        .filter((_x, y) => y > 0)
        .map((x, y, i) => x * y + i)
        .sum(),
      masked,
    );
    t.is(
      await par
        .zip(a, b)
        .filter((_x, y) => y > 0)
        .count(),
      count,
    );
    const d = await par
      .zip(a, b)
      .map((x, y) => Math.hypot(x, y))
      .toArray();
    t.true(
      d.every((v, i) => v === Math.hypot(a[i] as number, b[i] as number)),
      'distances',
    );
  }
});

test('three columns of different types, arrays of numbers, captures, and the options form', async (t) => {
  t.deepEqual(
    await par
      .zip([1, 2, 3], Uint8Array.of(4, 5, 6), Float32Array.of(0.5, 1.5, 2.5))
      .map((x, y, z, _i, { k }) => x + y * z * k, { k: 2 })
      .toArray(),
    Float64Array.of(5, 17, 33),
  );
  const ac = new AbortController();
  t.is(
    await par
      .zip([[1, 2, 3, 4], Int32Array.of(1, 0, 1, 0)], { signal: ac.signal })
      .filter((_x, keep) => keep === 1)
      .map((x) => x * 10)
      .sum(),
    40,
  );
  // One column is a plain pipeline whose closures see (x, i).
  t.is(
    await par
      .zip([1, 2, 3])
      .map((x, i) => x * i)
      .sum(),
    8,
  );
});

test('filters keep the rows whole (fast-check)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 40_000 }),
      fc.integer(),
      fc.double({ min: -1, max: 1, noNaN: true }),
      async (n, seed, threshold) => {
        let s = seed >>> 0;
        const next = (): number => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return s / 2 ** 32 - 0.5;
        };
        const a = Float64Array.from({ length: n }, next);
        const b = Float32Array.from({ length: n }, next);
        const want: number[] = [];
        for (let i = 0; i < n; i++) {
          const x = a[i] as number;
          const y = b[i] as number;
          if (x * y > threshold * 0.25) want.push(x - y + i);
        }
        const got = await par
          .zip(a, b)
          .filter((x, y, _i, { t: th }) => x * y > th * 0.25, { t: threshold })
          .map((x, y, i) => x - y + i)
          .toArray();
        return got.length === want.length && want.every((v, k) => Object.is(got[k], v));
      },
    ),
    { numRuns: 40 },
  );
  t.pass('40 random zips agree');
});

test('toArray({ into }) may write over a column', async (t) => {
  const n = 100_000;
  const a = new Float64Array(new SharedArrayBuffer(n * 8)).map((_, i) => i);
  const b = new Float64Array(new SharedArrayBuffer(n * 8)).fill(2);
  const out = await par
    .zip(a, b)
    .map((x, y) => x * y)
    .toArray({ into: b });
  t.is(out, b);
  t.true(
    b.every((v, i) => v === 2 * i),
    'computed from the columns before the write',
  );
});

test('bad zips are clear errors at the call', async (t) => {
  const a = new Float64Array(10);
  for (const run of [
    () => par.zip(a, new Float64Array(9)),
    () => (par.zip as (...c: unknown[]) => unknown)(),
    () => par.zip(a, 'no' as never),
    () => par.zip(a, [1, 'x'] as never),
    () => par.zip([a, a], { fallback: 'pool' }),
    () => par.zip([a, a], { bad: 1 } as never),
  ]) {
    const err = t.throws(run as () => unknown);
    t.true(isWeftError(err, 'WEFT_INVALID_ARG'), String(err));
  }
  const extra = t.throws(() => par.zip(a, a).map(((x: number, _y: number, _i: number, _c: object, z: number) => x + z) as never));
  t.true(extra instanceof ParCompileError, String(extra));
  // A loop does not compile, and a zip never falls back to the pool.
  const loop = (x: number): number => {
    let k = 0;
    while (k < x) k++;
    return k;
  };
  t.throws(() => par.zip(a, a).map(loop), { instanceOf: ParCompileError });
  const aborted = await rejection(
    t,
    par
      .zip([a, a], { signal: AbortSignal.abort() })
      .map((x, y) => x + y)
      .sum(),
  );
  t.true(isWeftError(aborted, 'WEFT_ABORTED'), String(aborted));
});
