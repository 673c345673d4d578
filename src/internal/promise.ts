/** Promise helpers shared by the runtimes (the pool worker's task runner, the actor host). */

/** Whether `v` is a thenable: an object or function with a callable `then` (read once; a throwing getter throws). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

const RESOLVED = Promise.resolve();

/**
 * Runs `fn` in a microtask, as a reaction to a resolved promise: cheaper than `queueMicrotask`,
 * which validates its argument and wraps it in an AsyncResource. `fn` must not throw (it would
 * become an unhandled rejection).
 */
export function microtask(fn: () => void): void {
  void RESOLVED.then(fn);
}
