// The work every library runs, in one place so that all pools (and the sequential baseline on
// the main thread) execute exactly the same functions. Plain ESM, no dependencies: it is loaded
// inside worker threads, where tsx's hooks are not available on Node 20.

/** Case a/e: the tiny task. */
export function inc(x) {
  return x + 1;
}

/** Case b (peers): `inc` over a chunk of items, results in order. */
export function incChunk(xs) {
  const out = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i] + 1;
  return out;
}

/** Plain recursive Fibonacci: the CPU load of cases c and d. */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Case c: k × fib(25). */
export const FIB_WORK_N = 25;
export function fibWork(k) {
  let sum = 0;
  for (let i = 0; i < k; i++) sum += fib(FIB_WORK_N);
  return sum;
}

/** Case d, leaf task (the tree is cut on the submitting side). */
export function fibSeq(n) {
  return fib(n);
}

/**
 * Case d: the leaves of fib(n)'s call tree cut at `cutoff` (every call with argument
 * <= cutoff is a leaf computed sequentially), left to right. fib(n) = Σ fib(leaf).
 */
export function fibLeaves(n, cutoff, out = []) {
  if (n <= cutoff) out.push(n);
  else {
    fibLeaves(n - 1, cutoff, out);
    fibLeaves(n - 2, cutoff, out);
  }
  return out;
}

/**
 * Case f: the CPU_INTENSIVE task of poolifier's published benchmark against other pools
 * (github.com/poolifier/benchmark, functions/function-to-bench.cjs): factorial(data.taskSize)
 * as a BigInt, returned with the BigInt itself, `{ factorial, ok: 1 }`. The original also
 * require()s node:crypto and node:fs and draws a random directory name (for its IO task type) on
 * every call, which the CPU task does not use; left out here (about a microsecond against the
 * factorial's hundred or more).
 */
export function factorialTask(data) {
  const n = BigInt(data.taskSize);
  let factorial = 1n;
  for (let i = 1n; i <= n; i++) factorial *= i;
  return { factorial, ok: 1 };
}
