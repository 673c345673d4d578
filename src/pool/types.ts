/**
 * The public types of the work-stealing `Pool`.
 */
import type { ResourceLimits, SHARE_ENV, Worker } from 'node:worker_threads';
import { optionNames } from '../internal/options.js';

/**
 * What a transfer list may carry (ArrayBuffers, MessagePorts, FileHandles, web streams...): the
 * item type of `Worker#postMessage`'s transfer list, taken from the user's own `@types/node`.
 * Not imported by name: `@types/node` renamed `TransferListItem` to `Transferable` (early 20.x
 * releases have only the old name, 26 only the new one), so naming either breaks some consumers'
 * type-check with `skipLibCheck: false`; `Worker#postMessage` has the same shape in all of them.
 */
export type TransferListItem = NonNullable<Parameters<Worker['postMessage']>[1]>[number];

/** A task module's exports: every exported function is a task. */
export type TaskModule = Record<string, unknown>;

/** Whether `M` is the untyped default (any string keys): then any task name is accepted. */
type Untyped<M> = string extends keyof M ? true : false;

/** The names of the exports of `M` that are functions (the task names). */
export type TaskName<M> =
  Untyped<M> extends true
    ? string
    : {
        [K in keyof M]: M[K] extends (...args: never[]) => unknown ? K : never;
      }[keyof M] &
        string;

/** The argument list of task `K` of module `M`. */
export type TaskArgs<M, K extends TaskName<M>> =
  Untyped<M> extends true ? unknown[] : K extends keyof M ? (M[K] extends (...args: infer A) => unknown ? A : never) : never;

/** What a call of task `K` resolves to (the awaited return type). */
export type TaskResult<M, K extends TaskName<M>> =
  Untyped<M> extends true ? unknown : K extends keyof M ? (M[K] extends (...args: never[]) => infer R ? Awaited<R> : never) : never;

/** `pool.proxy<M>()`: one async method per task. */
export type PoolProxy<M> = {
  readonly [K in TaskName<M>]: (...args: TaskArgs<M, K>) => Promise<TaskResult<M, K>>;
};

export interface PoolOptions {
  /** Path, file URL or URL string of an ESM or CommonJS module whose named exports are the tasks. */
  module: string | URL;
  /**
   * Worker threads, a fixed number (the same as `minThreads` = `maxThreads` = `threads`). Default:
   * the process's thread budget, `threadBudget().threads`: `WEFT_THREADS` when set, else the CPUs
   * this process may use (its affinity mask and cgroup CPU quota counted). Not together with
   * `minThreads` or `maxThreads`.
   */
  threads?: number;
  /**
   * The most worker threads (1 to 255). Default: the thread budget (see `threads`). The pool starts
   * `minThreads` of them and adds one whenever more tasks are waiting than workers are running, up
   * to this many.
   */
  maxThreads?: number;
  /**
   * Workers kept running while idle: `idleTimeout` does not end them. Default: 0 with
   * `idleTimeout`, else `maxThreads` (every worker starts with the pool and stays). The pool
   * starts `max(minThreads, 1)` workers.
   */
  minThreads?: number;
  /** At most this many tasks waiting (not yet running); more reject with `WEFT_QUEUE_FULL`. Default: unbounded. */
  maxQueue?: number;
  /**
   * Milliseconds a worker beyond `minThreads` may sit idle before it exits (it is started again on
   * demand). Default: never.
   */
  idleTimeout?: number;
  /** Per-worker V8 heap limits (`worker_threads` ResourceLimits). A worker that exceeds them is replaced. */
  resourceLimits?: ResourceLimits;
  /** A name for the pool's threads (shown in stats and errors). */
  name?: string;
  /**
   * The workers' `process.env`: an object (copied into each worker), or `SHARE_ENV` from
   * `node:worker_threads` (one environment shared with this thread). Default: a copy of this
   * thread's `process.env` when each worker starts.
   */
  env?: Readonly<Record<string, string | undefined>> | typeof SHARE_ENV;
  /** Appended to `process.argv` in each worker. */
  argv?: readonly string[];
  /**
   * Node flags for the workers, after the preload and loader flags this process runs with
   * (`--import`, `--require`, `--loader`, `--experimental-strip-types`...), which are kept so
   * that TypeScript task modules still load. Default: this process's `execArgv`.
   */
  execArgv?: readonly string[];
  /**
   * A value cloned into every worker, read there with `workerData` from weftjs (not the
   * `workerData` of `node:worker_threads`, which is weft's own).
   */
  workerData?: unknown;
  /** Close the files and sockets a worker opened (`fs.open`...) when it exits. Node's default: true. */
  trackUnmanagedFds?: boolean;
  /**
   * Async tasks one worker runs at once (1 to 1024; default 1): a worker whose tasks are all
   * awaiting something takes no new task from the queue until one settles. Tasks forked by running
   * tasks (fork-join, `currentPool()`) are not limited by it, so a parent awaiting its children
   * never waits for a free place.
   */
  concurrentTasksPerWorker?: number;
}

/** Options of one call (`pool.runWith`). */
export interface RunOptions {
  /** Aborting removes a queued task (it rejects `WEFT_ABORTED`); a running task sees `signal` aborted too. */
  signal?: AbortSignal;
  /** With `signal`: terminate the worker running the task when aborted (it is replaced). */
  terminateOnAbort?: boolean;
  /** ArrayBuffers (and MessagePorts) to move to the worker instead of copying them. */
  transfer?: readonly TransferListItem[];
  /**
   * Another task module for this call (path, file URL or URL string, found as the pool's own
   * `module` is): the workers load it on first use and keep it. The task name is looked up there.
   */
  module?: string | URL;
}

export interface MapOptions extends Omit<RunOptions, 'transfer' | 'terminateOnAbort' | 'module'> {
  /** Items per task; default: chosen so each thread gets several chunks. */
  chunkSize?: number;
  /**
   * Each item is the argument list of one call (`[a, b]` calls `task(a, b)`), for tasks of
   * several parameters. Without it every item is the one argument of its call, and a task that
   * declares more than one parameter rejects with `WEFT_INVALID_ARG` (so `map('add', [[1, 2]])`
   * never calls `add([1, 2], undefined)`).
   */
  spread?: boolean;
}

/**
 * The option names each bag accepts: anything else throws `WEFT_INVALID_ARG` naming the nearest
 * valid one (src/internal/options.ts). Each list must name every key of its interface (checked at
 * compile time by `optionNames`): add new options to both.
 */
export const POOL_OPTIONS = optionNames<PoolOptions>()([
  'module',
  'threads',
  'maxThreads',
  'minThreads',
  'maxQueue',
  'idleTimeout',
  'resourceLimits',
  'name',
  'env',
  'argv',
  'execArgv',
  'workerData',
  'trackUnmanagedFds',
  'concurrentTasksPerWorker',
]);
export const RUN_OPTIONS = optionNames<RunOptions>()(['signal', 'terminateOnAbort', 'transfer', 'module']);
export const MAP_OPTIONS = optionNames<MapOptions>()(['chunkSize', 'signal', 'spread']);

/** A summary of a distribution of durations, in milliseconds (HdrHistogram, two significant digits). */
export interface Percentiles {
  count: number;
  mean: number;
  stddev: number;
  min: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface WorkerStats {
  index: number;
  threadId: number;
  completed: number;
  failed: number;
  /** Tasks this worker took from another worker's deque. */
  stolen: number;
  /** Tasks running on this worker now (several when tasks are async). */
  running: number;
  /** Workers of this slot that died and were replaced. */
  restarts: number;
}

export interface PoolStats {
  name: string;
  /** Worker slots (`maxThreads`). */
  threads: number;
  /** Workers running now (from `minThreads` up to `threads`). */
  liveThreads: number;
  /** Milliseconds since the pool was created. */
  duration: number;
  /** Tasks waiting to start. */
  queued: number;
  /** Tasks started and not yet settled. */
  running: number;
  completed: number;
  failed: number;
  /** Tasks taken from another worker's deque (work stealing). */
  stolen: number;
  /** Time from submission to start. */
  waitTime: Percentiles;
  /** Time from start to settlement. */
  runTime: Percentiles;
  /** Share of wall time the workers spent running tasks since the pool started, 0..1. */
  utilization: number;
  workers: WorkerStats[];
}
