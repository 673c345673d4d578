/**
 * `new Pool(options)`'s options, checked and resolved once: the thread counts (`threads`, or
 * `minThreads`/`maxThreads`), the queue and idle limits, and what each `new Worker` gets (`env`,
 * `argv`, `execArgv` merged with this process's loader flags, `resourceLimits`,
 * `trackUnmanagedFds`, the user's `workerData`). Every bad value is `WEFT_INVALID_ARG` naming it.
 */
import { SHARE_ENV, type ResourceLimits, type WorkerOptions } from 'node:worker_threads';
import { DataCloneError, InvalidArgumentError, WeftError } from '../errors.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { budgetThreads } from '../internal/budget.js';
import { checkOptionNames } from '../internal/options.js';
import { native } from '../native.js';
import { loaderExecArgv } from './module.js';
import type { PoolOptions } from './types.js';

/** The most worker slots a pool may have (the scheduler's limit). */
export const MAX_THREADS = native.POOL_MAX_SLOTS;

/**
 * The threads a pool sizes itself to by default: the process's thread budget (`WEFT_THREADS`, else
 * the CPUs it may use: the affinity mask and a cgroup CPU quota, as Rust counts them).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, budgetThreads()));
}

/** What the `Pool` constructor needs of its options, checked. */
export interface ResolvedPoolOptions {
  /** Worker slots. */
  maxThreads: number;
  /** Slots below this never leave on the idle timeout. */
  minThreads: number;
  /** Workers started with the pool: all of a fixed `threads`, else `max(minThreads, 1)`. */
  initialThreads: number;
  maxQueue: number | undefined;
  /** Milliseconds, 0 for never. */
  idleTimeout: number;
  name: string | undefined;
  /** The options every `new Worker` of the pool gets (besides weft's own). */
  worker: Pick<WorkerOptions, 'env' | 'argv' | 'execArgv' | 'resourceLimits' | 'trackUnmanagedFds'>;
  /** The user's `workerData` (`undefined` when not given). */
  workerData: unknown;
  /** Async tasks one worker runs at once (`concurrentTasksPerWorker`). */
  concurrency: number;
}

/** The most `concurrentTasksPerWorker`. */
export const MAX_CONCURRENT_TASKS_PER_WORKER = 1024;

function isCount(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function threadCounts(options: PoolOptions): { minThreads: number; maxThreads: number; initialThreads: number } {
  const { threads, minThreads, maxThreads, idleTimeout } = options;
  if (threads !== undefined) {
    if (minThreads !== undefined || maxThreads !== undefined) {
      throw new InvalidArgumentError('threads is a fixed number of workers: give either threads, or minThreads and/or maxThreads');
    }
    if (!isCount(threads, 1, MAX_THREADS)) {
      throw new InvalidArgumentError(`threads must be an integer from 1 to ${MAX_THREADS}, got ${describe(threads)}`);
    }
    return { minThreads: idleTimeout === undefined ? threads : 0, maxThreads: threads, initialThreads: threads };
  }
  if (maxThreads !== undefined && !isCount(maxThreads, 1, MAX_THREADS)) {
    throw new InvalidArgumentError(`maxThreads must be an integer from 1 to ${MAX_THREADS}, got ${describe(maxThreads)}`);
  }
  if (minThreads !== undefined && !isCount(minThreads, 0, MAX_THREADS)) {
    throw new InvalidArgumentError(`minThreads must be an integer from 0 to ${MAX_THREADS}, got ${describe(minThreads)}`);
  }
  const max = maxThreads ?? Math.max(defaultThreads(), minThreads ?? 1);
  if (minThreads !== undefined && minThreads > max) {
    throw new InvalidArgumentError(`minThreads (${minThreads}) must not exceed maxThreads (${max})`);
  }
  const min = minThreads ?? (idleTimeout === undefined ? max : 0);
  return { minThreads: min, maxThreads: max, initialThreads: Math.max(min, 1) };
}

function checkStrings(name: string, v: unknown): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new InvalidArgumentError(`${name} must be an array of strings, got ${describe(v)}`);
  }
  return v as readonly string[];
}

function checkEnv(v: unknown): WorkerOptions['env'] {
  if (v === undefined || v === SHARE_ENV) return v;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidArgumentError(`env must be an object of strings or SHARE_ENV (node:worker_threads), got ${describe(v)}`);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidArgumentError(`env.${key} must be a string, got ${describe(value)}`);
    env[key] = value;
  }
  return env;
}

/**
 * Checks `options` (a snapshot from `checkOptionNames`) and resolves the defaults. A bad value is
 * `WEFT_INVALID_ARG`, as is a getter or Proxy trap inside `env` or `argv` that throws; a
 * `workerData` that cannot be cloned is `WEFT_DATA_CLONE`.
 */
export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  try {
    return resolve(options);
  } catch (err) {
    if (err instanceof WeftError) throw err;
    throw new InvalidArgumentError(`Pool options: reading an option threw: ${thrownMessage(err)}`, { cause: err });
  }
}

function resolve(options: PoolOptions): ResolvedPoolOptions {
  const { maxQueue, idleTimeout, name, trackUnmanagedFds, concurrentTasksPerWorker } = options;
  const { minThreads, maxThreads, initialThreads } = threadCounts(options);
  if (maxQueue !== undefined && (!Number.isInteger(maxQueue) || maxQueue < 1)) {
    throw new InvalidArgumentError(`maxQueue must be a positive integer, got ${describe(maxQueue)}`);
  }
  if (idleTimeout !== undefined && (typeof idleTimeout !== 'number' || !(idleTimeout > 0))) {
    throw new InvalidArgumentError(`idleTimeout must be a positive number of milliseconds, got ${describe(idleTimeout)}`);
  }
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 256)) {
    throw new InvalidArgumentError(`name must be a string of 1 to 256 characters, got ${describe(name)}`);
  }
  if (trackUnmanagedFds !== undefined && typeof trackUnmanagedFds !== 'boolean') {
    throw new InvalidArgumentError(`trackUnmanagedFds must be a boolean, got ${describe(trackUnmanagedFds)}`);
  }
  if (concurrentTasksPerWorker !== undefined && !isCount(concurrentTasksPerWorker, 1, MAX_CONCURRENT_TASKS_PER_WORKER)) {
    throw new InvalidArgumentError(
      `concurrentTasksPerWorker must be an integer from 1 to ${MAX_CONCURRENT_TASKS_PER_WORKER}, got ${describe(concurrentTasksPerWorker)}`,
    );
  }
  const argv = checkStrings('argv', options.argv);
  const execArgv = checkStrings('execArgv', options.execArgv);
  const env = checkEnv(options.env);
  const worker: ResolvedPoolOptions['worker'] = {
    ...(env !== undefined ? { env } : {}),
    ...(argv !== undefined ? { argv: [...argv] } : {}),
    // Node replaces the process's flags with the list given: keep the loader flags in front.
    ...(execArgv !== undefined ? { execArgv: [...loaderExecArgv(), ...execArgv] } : {}),
    ...(options.resourceLimits !== undefined ? { resourceLimits: checkResourceLimits(options.resourceLimits) } : {}),
    ...(trackUnmanagedFds !== undefined ? { trackUnmanagedFds } : {}),
  };
  return {
    maxThreads,
    minThreads,
    initialThreads,
    maxQueue,
    idleTimeout: idleTimeout ?? 0,
    name,
    worker,
    workerData: checkWorkerData(options.workerData),
    concurrency: concurrentTasksPerWorker ?? 1,
  };
}

/** `workerData`, checked once here (Node clones it for every worker it starts). */
function checkWorkerData(v: unknown): unknown {
  if (v === undefined) return v;
  try {
    structuredClone(v);
  } catch (err) {
    throw new DataCloneError(`workerData could not be cloned for the workers: ${thrownMessage(err)}`, { cause: err });
  }
  return v;
}

/**
 * The largest `resourceLimits` weft passes to `new Worker` (MB). Beyond them V8 aborts the whole
 * process (a code range of 2^31 MB: "Fatal process OOM ... CodeRange") or Node cannot start the
 * thread: far above any real use, and refused with `WEFT_INVALID_ARG` instead.
 */
const RESOURCE_LIMITS_MAX_MB = {
  maxOldGenerationSizeMb: 1 << 20,
  maxYoungGenerationSizeMb: 1 << 16,
  codeRangeSizeMb: 1 << 12,
  stackSizeMb: 1 << 10,
} as const;

/** `resourceLimits`, checked: known names only, each a positive number up to its maximum. */
function checkResourceLimits(given: unknown): ResourceLimits {
  if (given === null || typeof given !== 'object')
    throw new InvalidArgumentError(`resourceLimits must be an object, got ${describe(given)}`);
  const limits = checkOptionNames(given as ResourceLimits, Object.keys(RESOURCE_LIMITS_MAX_MB), 'Pool options.resourceLimits');
  for (const [key, max] of Object.entries(RESOURCE_LIMITS_MAX_MB)) {
    const v: unknown = (limits as Record<string, unknown>)[key];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0) || v > max)) {
      throw new InvalidArgumentError(`resourceLimits.${key} must be a number of MB above 0 and at most ${max}, got ${describe(v)}`);
    }
  }
  return limits;
}
