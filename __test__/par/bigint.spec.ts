/**
 * `par(BigInt64Array | BigUint64Array)`: exact BigInt sums (no overflow), min, max, count and
 * sort, on the calling thread and on weft's threads, in place over a SharedArrayBuffer and on a
 * copy otherwise; abortable; against plain BigInt arithmetic (fast-check).
 */
import test from 'ava';
import fc from 'fast-check';
import { isWeftError, ParBig, par } from '../../src/index.js';
import { rejection } from '../helpers.js';

const bigSum = (a: ArrayLike<bigint>): bigint => Array.prototype.reduce.call(a, (x, y) => (x as bigint) + (y as bigint), 0n) as bigint;
const sorted = <A extends BigInt64Array | BigUint64Array>(a: A, descending = false): A => {
  const s = a.slice().sort() as A;
  return (descending ? s.reverse() : s) as A;
};

/** Same type, length and values (ava's deepEqual is slow on large typed arrays). */
function same(a: BigInt64Array | BigUint64Array, b: BigInt64Array | BigUint64Array): boolean {
  return a.constructor === b.constructor && a.length === b.length && a.every((v, k) => v === b[k]);
}

async function check(t: import('ava').ExecutionContext, a: BigInt64Array | BigUint64Array): Promise<void> {
  const p = par(a);
  t.true(p instanceof ParBig);
  t.is(await p.sum(), bigSum(a));
  t.is(await p.count(), a.length);
  const values = Array.from(a);
  t.is(await p.min(), values.length === 0 ? undefined : values.reduce((x, y) => (y < x ? y : x)));
  t.is(await p.max(), values.length === 0 ? undefined : values.reduce((x, y) => (y > x ? y : x)));
  t.true(same(await p.sort(), sorted(a)), `sort of ${a.length}`);
  t.true(same(await p.sort({ descending: true }), sorted(a, true)), `descending sort of ${a.length}`);
}

test('sums never overflow; min, max, count and sort, small and large, signed and unsigned', async (t) => {
  for (const n of [0, 5, 1_000, 200_000]) {
    const signed = BigInt64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 2n ** 63n - 1n - BigInt(i) : -(2n ** 63n) + BigInt(i * 7)));
    const unsigned = BigUint64Array.from({ length: n }, (_, i) => 2n ** 64n - 1n - BigInt(i * 3));
    await check(t, signed);
    await check(t, unsigned);
  }
  // The sum of 200,000 values near 2^64 is far beyond 64 bits, exactly.
  const big = new BigUint64Array(200_000).fill(2n ** 64n - 1n);
  t.is(await par(big).sum(), 200_000n * (2n ** 64n - 1n));
});

test('over a SharedArrayBuffer the source is read in place; otherwise a copy is read', async (t) => {
  const n = 100_000;
  const shared = new BigInt64Array(new SharedArrayBuffer(n * 8)).fill(3n);
  t.is(await par(shared).sum(), 3n * BigInt(n));
  const plain = new BigInt64Array(n).fill(5n);
  const pending = par(plain).sum();
  plain.fill(0n); // after the call: the copy is what sums
  t.is(await pending, 5n * BigInt(n));
});

test('agrees with BigInt arithmetic on random arrays (fast-check)', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.bigInt64Array({ maxLength: 64 }), fc.bigUint64Array({ maxLength: 64 })),
      fc.integer({ min: 0, max: 3 }),
      async (small, repeat) => {
        // Repeated up to 20,000 values, so that some runs take weft's threads.
        const a =
          repeat === 0 || small.length === 0
            ? small
            : (small.constructor as BigInt64ArrayConstructor).from(
                { length: small.length * 5_000 * repeat },
                (_, i) => small[i % small.length] as bigint,
              );
        const p = par(a as BigInt64Array);
        if ((await p.sum()) !== bigSum(a)) return false;
        return same(await p.sort(), sorted(a as BigInt64Array));
      },
    ),
    { numRuns: 60 },
  );
  t.pass('60 random arrays agree');
});

test('an abort cancels it; bad options are clear errors', async (t) => {
  const reason = new Error('stop');
  const a = new BigInt64Array(1_000_000).fill(1n);
  for (const run of [
    () => par(a, { signal: AbortSignal.abort(reason) }).sum(),
    () => par(a, { signal: AbortSignal.abort(reason) }).sort(),
  ]) {
    const err = await rejection(t, run());
    t.true(isWeftError(err, 'WEFT_ABORTED'), String(err));
    t.is((err as Error & { cause?: unknown }).cause, reason);
  }
  const err = await rejection(t, par(a).sort({ descending: true, nope: 1 } as never));
  t.true(isWeftError(err, 'WEFT_INVALID_ARG'), String(err));
  t.throws(() => par(a, { signal: 'no' as never }), { code: 'WEFT_INVALID_ARG' } as never);
});
