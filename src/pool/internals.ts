/**
 * What other parts of weft (the actor system) may use of a pool: not public API. The pool
 * registers its internals here when it is built; `poolInternals(pool)` finds them without the
 * caller reaching into the class.
 */
import type { NativePool } from './native-pool.js';

export interface PoolInternals {
  native: NativePool;
  threads: number;
  /** Calls `listener(slot)` after a worker died (not when weft ended it) and its tasks settled. */
  onWorkerLost(listener: (slot: number) => void): () => void;
  /** Whether worker `slot` is live now. */
  isLive(slot: number): boolean;
  /** Starts workers in empty slots (left by an idle timeout). */
  ensureWorkers(): void;
}

const internals = new WeakMap<object, PoolInternals>();

/** @internal The internals of `pool` (undefined: not a weft Pool). */
export function poolInternals(pool: object): PoolInternals | undefined {
  return internals.get(pool);
}

/** @internal Called once by each Pool's constructor. */
export function registerPoolInternals(pool: object, value: PoolInternals): void {
  internals.set(pool, value);
}
