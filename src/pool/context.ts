/**
 * What a task can ask about where it runs: `currentPool()` (the pool it runs on, for fork-join),
 * `taskSignal()` (its abort signal), `isWorkerThread` and `workerData` (the pool's `workerData`
 * option). The context lives on `globalThis` under a registered symbol, so it is found even when
 * the task module loaded its own copy of weft; the last two read the thread's own `workerData`,
 * the same in every copy.
 */
import { isMainThread, workerData as threadData } from 'node:worker_threads';
import { WeftError } from '../errors.js';
import { WORKER_INIT_KIND, type WorkerInit } from './protocol.js';
import type { Submitter } from './submitter.js';

const init: WorkerInit | undefined =
  !isMainThread && typeof threadData === 'object' && threadData !== null && (threadData as Partial<WorkerInit>).kind === WORKER_INIT_KIND
    ? (threadData as WorkerInit)
    : undefined;

/** Whether this thread is a weft pool worker (piscina's `isWorkerThread`). */
export const isWorkerThread: boolean = init !== undefined;

/**
 * In a pool worker: a copy of the pool's `workerData` option (piscina's `workerData`); elsewhere
 * `undefined`. (The `workerData` of `node:worker_threads` is weft's own start-up record there.)
 */
export const workerData: unknown = init?.userData;

export interface WorkerContext {
  submitter: Submitter;
  threads: number;
  signal: () => AbortSignal | undefined;
}

const KEY = Symbol.for('weft.pool.workerContext');

export function setWorkerContext(ctx: WorkerContext): void {
  (globalThis as Record<symbol, unknown>)[KEY] = ctx;
}

export function getWorkerContext(): WorkerContext | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as WorkerContext | undefined;
}

/**
 * The abort signal of the task that is running, for tasks that want to stop early when their
 * caller aborts. Call it in the synchronous part of the task (before its first `await`) and keep
 * the signal: the worker knows which task is running only until the task first yields.
 */
export function taskSignal(): AbortSignal {
  const signal = getWorkerContext()?.signal();
  if (signal === undefined) {
    throw new WeftError('WEFT_INVALID_ARG', 'taskSignal() must be called inside a pool task, before its first await');
  }
  return signal;
}
