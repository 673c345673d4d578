// weft's task module (Pool({ module })): every named export is a task. It also holds the nested
// fork-join variant of case d, which submits sub-tasks to the pool it runs on (currentPool()).
//
// `weft` resolves to this repository's dist/ through the package's self-reference, the same
// module instance the pool's worker runtime uses. A namespace import keeps this module loadable
// while `currentPool` is not yet exported.
import * as weft from 'weftjs';
import { fib } from './work.mjs';

export { inc, incChunk, fibWork, fibSeq, factorialTask } from './work.mjs';

/**
 * fib(n) as a fork-join tree down to `cutoff`: each call above the cutoff forks fib(n - 1) as a
 * task on the current pool and computes fib(n - 2) itself (rayon's `join` shape), then joins.
 * While it awaits the forked half the worker is free to run other tasks.
 */
export async function fibNested(n, cutoff) {
  if (n <= cutoff) return fib(n);
  const forked = weft.currentPool().run('fibNested', n - 1, cutoff);
  const here = await fibNested(n - 2, cutoff);
  return (await forked) + here;
}
