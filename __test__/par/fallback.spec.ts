import test from 'ava';
import fc from 'fast-check';
import { par, ParCompileError, isWeftError, type NumericArray } from '../../src/index.js';
import { lastJson, runChild } from '../helpers.js';

// A closure the compiler rejects (a `for` loop) and its meaning, for the reference.
const triple = (x: number): number => {
  let s = 0;
  for (let k = 0; k < 3; k++) s += x;
  return s;
};

function sameValues(t: { true(v: boolean, m?: string): void }, got: ArrayLike<number>, want: ArrayLike<number>): void {
  t.true(got.length === want.length, `length ${got.length} vs ${want.length}`);
  for (let k = 0; k < want.length; k++) {
    if (!Object.is(got[k], want[k])) {
      t.true(false, `index ${k}: ${String(got[k])} vs ${String(want[k])}`);
      return;
    }
  }
}

test('without fallback an unsupported closure throws ParCompileError at the call', (t) => {
  const err = t.throws(() => par(new Float64Array(4)).map(triple));
  t.true(err instanceof ParCompileError);
  t.is((err as ParCompileError).code, 'WEFT_PAR_COMPILE');
});

test("fallback: 'pool' runs unsupported closures as JavaScript: every terminal equals the JS reference", async (t) => {
  const sources: NumericArray[] = [
    Float64Array.from({ length: 70_001 }, (_, i) => ((i * 7919) % 1000) / 8 - 60),
    Int32Array.from({ length: 30_000 }, (_, i) => ((i * 31) % 2001) - 1000),
    Uint8Array.from({ length: 5_000 }, (_, i) => (i * 13) % 256),
  ];
  for (const src of sources) {
    const values = Array.from(src as ArrayLike<number>);
    const ref = values.map((x) => triple(x)).filter((x, i) => i % 3 !== 0 && x > -100);
    const p = par(src, { fallback: 'pool' })
      .map((x) => {
        let s = 0;
        for (let k = 0; k < 3; k++) s += x;
        return s;
      })
      .filter((x, i) => i % 3 !== 0 && x > -100);
    t.is(await p.count(), ref.length);
    t.is(
      await p.sum(),
      ref.reduce((a, b) => a + b, 0),
    ); // integers and eighths: exact either way
    t.is(await p.min(), Math.min(...ref));
    t.is(await p.max(), Math.max(...ref));
    sameValues(t, await p.toArray(), ref);
    sameValues(t, await p.sort(), Float64Array.from(ref).sort());
    t.is(await p.some((x) => x > 1e9), false);
    t.is(await p.some((x, _i, { v }) => x === v, { v: ref[ref.length - 1]! }), true);
    t.is(await p.every((x) => x > -100), true);
    t.is(
      await p.every((x) => {
        for (;;) return x < 300;
      }),
      ref.every((x) => x < 300),
    );
    t.is(
      await p.reduce((acc, x) => acc + x, 0),
      ref.reduce((a, b) => a + b, 0),
    );
  }
});

test("fallback: 'pool' on a range, with captures and the source index", async (t) => {
  const got = await par
    .range(5, 40_005, 2, { fallback: 'pool' })
    .map(
      (x, i, { k }) => {
        let s = 0;
        for (let j = 0; j < k; j++) s += x + i;
        return s;
      },
      { k: 2 },
    )
    .toArray();
  const want = Float64Array.from({ length: 20_000 }, (_, i) => 2 * (5 + 2 * i + i));
  sameValues(t, got, want);
});

test('the fallback agrees with JavaScript on random arrays (fast-check)', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.double({ noNaN: false }), { maxLength: 3000 }), fc.integer({ min: -3, max: 3 }), async (xs, c) => {
      const src = Float64Array.from(xs);
      const p = par(src, { fallback: 'pool' })
        .map(
          (x, i, { c }) => {
            let y = x;
            for (let k = 0; k < 1; k++) y = y * c + i;
            return y;
          },
          { c },
        )
        .filter((x) => x === x);
      const ref = xs.map((x, i) => x * c + i).filter((x) => x === x);
      const got = await p.toArray();
      return got.length === ref.length && ref.every((v, k) => Object.is(v, got[k]));
    }),
    { numRuns: 40 },
  );
  t.pass();
});

test('a fallback closure that throws rejects with its own error', async (t) => {
  const err = await t.throwsAsync(
    par(new Float64Array(10_000), { fallback: 'pool' })
      .map((x, i) => {
        for (;;) {
          if (i === 7777) throw new RangeError('seven sevens');
          return x;
        }
      })
      .sum(),
  );
  t.is(err?.name, 'RangeError');
  t.is(err?.message, 'seven sevens');
});

test('a fallback closure sees only its parameters and captures', async (t) => {
  const outer = 3;
  const err = await t.throwsAsync(
    par(new Float64Array(100), { fallback: 'pool' })
      .map((x) => {
        for (;;) return x * outer;
      })
      .sum(),
  );
  t.is(err?.name, 'ReferenceError');
});

test('a fallback map must return a number or a boolean', async (t) => {
  const err = await t.throwsAsync(
    par(new Float64Array(100), { fallback: 'pool' })
      .map((x) => {
        for (;;) return `${x}` as unknown as number;
      })
      .sum(),
  );
  t.true(isWeftError(err) || (err as { code?: string }).code === 'WEFT_INVALID_ARG');
  t.is((err as { code?: string }).code, 'WEFT_INVALID_ARG');
});

test('bad par options are a clear error', (t) => {
  const err = t.throws(() => par(new Float64Array(1), { fallback: 'maybe' as 'pool' }));
  t.is((err as { code?: string }).code, 'WEFT_INVALID_ARG');
  const err2 = t.throws(() => par.range(0, 1, 1, { fallback: 'never' as 'pool' }));
  t.is((err2 as { code?: string }).code, 'WEFT_INVALID_ARG');
});

test('the fallback pool does not keep the process alive', (t) => {
  const r = runChild('par-fallback-exit.ts');
  t.is(r.status, 0, r.stderr);
  const out = lastJson<{ sum: number; ms: number }>(r);
  t.is(out.sum, 2 * ((50_000 * 49_999) / 2));
});
