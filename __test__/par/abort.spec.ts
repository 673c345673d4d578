/**
 * `par(source, { signal })`: an abort cancels the pipeline's terminals between chunks
 * (WEFT_ABORTED, the signal's reason as `cause`), on weft's threads, on the calling thread and on
 * the fallback pool; an unaborted signal changes nothing; a bad one is a clear error at the call.
 */
import test from 'ava';
import { isWeftError, par } from '../../src/index.js';
import { rejection } from '../helpers.js';

// A closure the compiler rejects (a `for` loop): it runs on the fallback pool.
const triple = (x: number): number => {
  let s = 0;
  for (let k = 0; k < 3; k++) s += x;
  return s;
};

test('a signal aborted before the call rejects every terminal at once, small or large', async (t) => {
  const reason = new Error('the request went away');
  const signal = AbortSignal.abort(reason);
  for (const n of [100, 1_000_000]) {
    const p = par.range(0, n, 1, { signal }).map((x) => x * 2);
    for (const run of [
      () => p.sum(),
      () => p.count(),
      () => p.max(),
      () => p.toArray(),
      () => p.sort(),
      () => p.reduce((a, x) => a + x, 0),
      () => p.some((x) => x < 0),
    ]) {
      const err = await rejection(t, run());
      t.true(isWeftError(err, 'WEFT_ABORTED'), String(err));
      t.is((err as Error & { cause?: unknown }).cause, reason);
    }
  }
});

test('an abort while a terminal runs stops it between chunks', async (t) => {
  // 2^40 elements would take hours on any machine; the abort comes 50 ms in.
  const ac = new AbortController();
  const pipeline = par
    .range(0, 2 ** 40, 1, { signal: ac.signal })
    .map((x) => x * 2)
    .filter((x) => x % 3 === 0); // stages made after par() keep its signal
  const t0 = performance.now();
  const running = pipeline.sum();
  setTimeout(() => ac.abort(), 50);
  const err = await rejection(t, running);
  const took = performance.now() - t0;
  t.true(isWeftError(err, 'WEFT_ABORTED'), String(err));
  t.true(took < 5_000, `the job ended ${took.toFixed(0)} ms after it started`);
  t.log(`aborted 50 ms in; the promise settled after ${took.toFixed(0)} ms`);
  // The pipeline stays usable with another signal.
  t.is(
    await par
      .range(0, 100_000, 1, { signal: new AbortController().signal })
      .map((x) => x * 2)
      .sum(),
    9_999_900_000,
  );
});

test('an unaborted signal gives the same results as none', async (t) => {
  const src = Float64Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 1000);
  const { signal } = new AbortController();
  const a = par(src, { signal })
    .map((x) => x / 3)
    .filter((x) => x > 100);
  const b = par(src)
    .map((x) => x / 3)
    .filter((x) => x > 100);
  t.is(await a.sum(), await b.sum());
  t.deepEqual(await a.toArray(), await b.toArray());
  t.deepEqual(await a.sort({ descending: true }), await b.sort({ descending: true }));
  t.is(await a.reduce((acc, x) => acc + x, 0), await b.reduce((acc, x) => acc + x, 0));
});

test("with fallback: 'pool', an abort stops the chunks not yet given to the pool", async (t) => {
  const src = Float64Array.from({ length: 100_000 }, (_, i) => i);
  const ac = new AbortController();
  const p = par(src, { fallback: 'pool', signal: ac.signal }).map(triple);
  t.is(await p.count(), 100_000); // not aborted: runs
  ac.abort();
  t.true(isWeftError(await rejection(t, p.sum()), 'WEFT_ABORTED'));
  t.true(
    isWeftError(
      await rejection(
        t,
        p.some((x) => x < 0),
      ),
      'WEFT_ABORTED',
    ),
  );
  t.true(
    isWeftError(
      await rejection(
        t,
        p.reduce((a, x) => a + x, 0),
      ),
      'WEFT_ABORTED',
    ),
  );
});

test('a signal that is not an AbortSignal is WEFT_INVALID_ARG at the call', (t) => {
  t.throws(() => par(new Float64Array(4), { signal: 'stop' as never }), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => par.range(0, 4, 1, { signal: {} as never }), { code: 'WEFT_INVALID_ARG' });
});
