/**
 * The pool's face: what the package exports of it. weft's other capabilities use this, plus
 * `internals.ts` (what actors may use of a pool) and `extension.ts` (how something living on a
 * worker plugs into its loop).
 */
export { Pool, currentPool } from './pool.js';
export { taskSignal, isWorkerThread, workerData } from './context.js';
export { move, type Movable } from './move.js';
export type { PoolEventMap, PoolEventName } from './events.js';
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
