/**
 * What par's copy of a non-shared source costs (issue 13, item 4). Run by hand, not in CI:
 *
 *   node --import=tsx bench/par/copy-cost.ts [n...]            (default 1e7 1e8)
 *   NAPI_RS_NATIVE_LIBRARY_PATH=old.node node --import=tsx bench/par/copy-cost.ts
 *                                       (the same over another build of the binding, e.g. the
 *                                        one before the copy, where every source was zero-copy)
 *
 * A terminal over a typed array whose buffer is an ArrayBuffer copies the values on the calling
 * thread before running on weft's threads (but a sum/mean without stages runs on the calling
 * thread instead); over a SharedArrayBuffer it reads them in place. This runs the same pipelines
 * over the same values both ways and reports, medians of the runs:
 *   - total: from the call to the settled Promise, ms;
 *   - block: the synchronous part of the call (the event loop is blocked that long), ms;
 * and, for scale, a plain copy of the values in JavaScript (`dst.set(src)` into an array made
 * beforehand, and `src.slice()`, which also allocates).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { par } from '../../src/index.js';
import { median, parseBenchArgs } from '../harness/index.js';

const RUNS_SMALL = 9;
const RUNS_LARGE = 5;

type Case = { name: string; run: (a: Float64Array) => Promise<unknown>; maxN: number };

const CASES: Case[] = [
  { name: 'b. sum() (inline over an ArrayBuffer)', run: (a) => par(a).sum(), maxN: Infinity },
  {
    name: "b'. map(x => x * 2).sum()",
    run: (a) =>
      par(a)
        .map((x) => x * 2)
        .sum(),
    maxN: Infinity,
  },
  {
    name: 'c. map(x => Math.sqrt(x) * 2 + 1).toArray()',
    run: (a) =>
      par(a)
        .map((x) => Math.sqrt(x) * 2 + 1)
        .toArray(),
    maxN: Infinity,
  },
  {
    name: 'd. filter(x => x > 0.5).count()',
    run: (a) =>
      par(a)
        .filter((x) => x > 0.5)
        .count(),
    maxN: Infinity,
  },
  { name: 'e. sort()', run: (a) => par(a).sort(), maxN: 1e7 },
];

async function time(run: () => Promise<unknown>): Promise<{ total: number; block: number }> {
  const t0 = performance.now();
  const p = run();
  const t1 = performance.now();
  await p;
  const t2 = performance.now();
  return { total: t2 - t0, block: t1 - t0 };
}

async function main(): Promise<void> {
  const { positionals } = parseBenchArgs({
    usage: 'node --import=tsx bench/par/copy-cost.ts [n...]',
    description: "What par's copy of a non-shared source costs: the same pipelines over an ArrayBuffer and a SharedArrayBuffer.",
    positionals: [{ name: 'n', rest: true }],
    flags: {},
  });
  const sizes = positionals[0].map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error('sizes are positive integers, e.g. 1e7 1e8');
  for (const n of sizes.length > 0 ? sizes : [1e7, 1e8]) {
    const runs = n > 5e7 ? RUNS_LARGE : RUNS_SMALL;
    const plain = new Float64Array(n);
    for (let k = 0; k < n; k++) plain[k] = Math.random();
    const shared = new Float64Array(new SharedArrayBuffer(n * 8));
    shared.set(plain);
    const scratch = new Float64Array(n);
    const copies: number[] = [];
    const slices: number[] = [];
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      scratch.set(plain);
      copies.push(performance.now() - t);
      t = performance.now();
      plain.slice();
      slices.push(performance.now() - t);
    }
    console.log(
      `n = ${n.toExponential()}: JS copy of the values: set() ${median(copies).toFixed(1)} ms, slice() ${median(slices).toFixed(1)} ms`,
    );
    for (const c of CASES) {
      if (n > c.maxN) continue;
      const res = { plain: { total: [] as number[], block: [] as number[] }, shared: { total: [] as number[], block: [] as number[] } };
      await c.run(plain);
      await c.run(shared);
      for (let r = 0; r < runs; r++) {
        // Interleaved, the order alternating, so that drifts of the machine hit both alike.
        for (const which of r % 2 === 0 ? (['plain', 'shared'] as const) : (['shared', 'plain'] as const)) {
          await sleep(30);
          const t = await time(() => c.run(which === 'plain' ? plain : shared));
          res[which].total.push(t.total);
          res[which].block.push(t.block);
        }
      }
      const f = (xs: number[]): string => median(xs).toFixed(1).padStart(7);
      console.log(
        `  ${c.name.padEnd(44)} ArrayBuffer total ${f(res.plain.total)} block ${f(res.plain.block)} | ` +
          `SharedArrayBuffer total ${f(res.shared.total)} block ${f(res.shared.block)} ms`,
      );
    }
  }
}

void main();
