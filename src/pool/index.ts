/**
 * The pool's face: what the package exports of it. weft's other capabilities use this, plus
 * `internals.ts` (what actors may use of a pool) and `extension.ts` (how something living on a
 * worker plugs into its loop).
 */
export { Pool, currentPool } from './pool.js';
export { taskSignal } from './context.js';
export type { TaskRunner } from './runner.js';
export type {
  PoolOptions,
  RunOptions,
  MapOptions,
  PoolStats,
  WorkerStats,
  Percentiles,
  PoolProxy,
  TaskName,
  TaskArgs,
  TaskResult,
  TaskModule,
  TransferListItem,
} from './types.js';
