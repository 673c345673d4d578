/**
 * What a task can ask about where it runs: `currentPool()` (the pool it runs on, for fork-join)
 * and `taskSignal()` (its abort signal). The context lives on `globalThis` under a registered
 * symbol, so it is found even when the task module loaded its own copy of weft.
 */
import { WeftError } from '../errors.js';
import type { Submitter } from './submitter.js';

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
