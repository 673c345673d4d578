/**
 * piscina's constructor options, mapped onto weft's `new Pool(options)`. Each piscina 4/5 option
 * is one of:
 *
 * - honoured: `filename`, `name`, `minThreads`, `maxThreads`, `idleTimeout`, `maxQueue`,
 *   `concurrentTasksPerWorker`, `resourceLimits`, `env`, `argv`, `execArgv`, `workerData`,
 *   `trackUnmanagedFds` (passed to the Pool), `closeTimeout` (kept by the Piscina face);
 * - accepted but ignored, with its value checked: `atomics`, `useAtomics`, `recordTiming`,
 *   `workerHistogram`, `stricterFIFO` (see IGNORED for why);
 * - refused with `WEFT_INVALID_ARG`: `taskQueue`, `loadBalancer`, and `niceIncrement` other than 0
 *   (see REFUSED).
 *
 * Any other name throws `WEFT_INVALID_ARG` naming the nearest valid one (weft's rule for every
 * option bag). docs/piscina.md has the same list as a table.
 */
import type { ResourceLimits } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../internal/describe.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import type { PoolOptions } from '../pool/index.js';
import { MAX_THREADS, defaultThreads } from '../pool/options.js';

/** piscina's `atomics` values. */
export type PiscinaAtomics = 'sync' | 'async' | 'disabled';

/** The options of `new Piscina(options)` (piscina 4 and 5). */
export interface PiscinaOptions {
  /**
   * The task module: an absolute path or `file:` URL (a relative path is taken from
   * `process.cwd()`). May be null or left out when every `run` names its own `filename`.
   */
  filename?: string | URL | null;
  /** The export a task runs unless `run` names another. Default `'default'` (the default export, or `module.exports`). */
  name?: string | null;
  /** Workers that stay while idle. Default: half the CPUs this process may use (at least 1). */
  minThreads?: number;
  /** The most workers (at most 255). Default: 1.5 times the CPUs this process may use. */
  maxThreads?: number;
  /**
   * Milliseconds a worker beyond `minThreads` stays idle before it exits. Default 0: as soon as
   * it is idle. `Infinity`: never.
   */
  idleTimeout?: number;
  /**
   * The most tasks waiting for a worker: a number (0: none may wait, a task is refused when
   * every worker is busy), `'auto'` (`maxThreads` squared) or `Infinity` (the default).
   */
  maxQueue?: number | 'auto';
  /** Async tasks one worker runs at once. Default 1. */
  concurrentTasksPerWorker?: number;
  /** Each worker's V8 heap limits (`worker_threads` ResourceLimits). */
  resourceLimits?: ResourceLimits;
  /** The workers' `process.env`: an object, or `SHARE_ENV` from `node:worker_threads`. */
  env?: PoolOptions['env'];
  /** Appended to `process.argv` in each worker (each item turned into a string). */
  argv?: readonly unknown[];
  /** Node flags for the workers (after the loader flags this process runs with, which weft keeps). */
  execArgv?: readonly string[];
  /** A value cloned into every worker: `workerData` from `weftjs/piscina` there. */
  workerData?: unknown;
  /** Close the files a worker opened with `fs.open` when it exits. Default true. */
  trackUnmanagedFds?: boolean;
  /** Milliseconds `close()` waits for the tasks to finish before it destroys the pool. Default 30000. */
  closeTimeout?: number;
  /** Accepted and ignored: weft's workers do not use piscina's Atomics handshake (see docs/piscina.md). */
  atomics?: PiscinaAtomics;
  /** piscina 3's name of `atomics`: accepted and ignored. */
  useAtomics?: boolean;
  /** Accepted and ignored: weft always records run and wait times (in native code). */
  recordTiming?: boolean;
  /** Accepted and ignored: weft keeps per-worker counts (`piscina.pool.stats()`), not per-worker histograms. */
  workerHistogram?: boolean;
  /** Accepted and ignored: tasks from the main thread already start in submission order. */
  stricterFIFO?: boolean;
  /** Only 0 (the default) is accepted: weft does not change its threads' priority. */
  niceIncrement?: number;
  /** Refused (`WEFT_INVALID_ARG`): the queue is weft's scheduler, in Rust. */
  taskQueue?: never;
  /** Refused (`WEFT_INVALID_ARG`): workers take their tasks themselves (work stealing). */
  loadBalancer?: never;
}

/** `piscina.options`: the options in use, with the defaults filled in (as piscina's `options`). */
export interface PiscinaFilledOptions {
  /** The task module's path (a `file:` URL given is turned into its path), or null. */
  readonly filename: string | null;
  readonly name: string;
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly idleTimeout: number;
  /** `'auto'` resolved to `maxThreads` squared; `Infinity` when unbounded. */
  readonly maxQueue: number;
  readonly concurrentTasksPerWorker: number;
  readonly atomics: PiscinaAtomics;
  readonly niceIncrement: number;
  readonly trackUnmanagedFds: boolean;
  readonly closeTimeout: number;
  readonly recordTiming: boolean;
  readonly stricterFIFO: boolean;
  readonly workerHistogram: boolean;
  readonly resourceLimits?: ResourceLimits;
  readonly env?: PoolOptions['env'];
  readonly argv?: readonly string[];
  readonly execArgv?: readonly string[];
  readonly workerData?: unknown;
}

/** Every option name piscina 4/5 documents (and piscina 3's `useAtomics`). */
export const PISCINA_OPTIONS = optionNames<PiscinaOptions>()([
  'filename',
  'name',
  'minThreads',
  'maxThreads',
  'idleTimeout',
  'maxQueue',
  'concurrentTasksPerWorker',
  'resourceLimits',
  'env',
  'argv',
  'execArgv',
  'workerData',
  'trackUnmanagedFds',
  'closeTimeout',
  'atomics',
  'useAtomics',
  'recordTiming',
  'workerHistogram',
  'stricterFIFO',
  'niceIncrement',
  'taskQueue',
  'loadBalancer',
]);
const PISCINA_OPTION_SET: ReadonlySet<string> = new Set(PISCINA_OPTIONS);

/** Options accepted and ignored, and why (each value is still checked). */
export const IGNORED: Readonly<Record<string, string>> = {
  atomics:
    "weft's workers wait for tasks in native code and keep their event loop running between tasks, so there is no Atomics handshake to switch",
  useAtomics: "piscina 3's name of atomics, ignored for the same reason",
  recordTiming: 'weft records run and wait times in native code, always',
  workerHistogram: 'weft keeps per-worker counts (pool.stats().workers), not per-worker histograms',
  stricterFIFO: 'tasks submitted from the main thread start in submission order already',
};

/** Options refused, and why. */
export const REFUSED: Readonly<Record<string, string>> = {
  taskQueue: "the task queue is weft's lock-free scheduler (in Rust); a JavaScript queue object cannot order it",
  loadBalancer: 'weft has no balancer to replace: idle workers take and steal tasks themselves (work stealing)',
  niceIncrement: "weft does not change its threads' priority (only 0, the default, is accepted)",
};

/** What `new Piscina(options)` needs: the Pool's options and the filled-in options. */
export interface ResolvedPiscinaOptions {
  /** The task module to load, or undefined when every run names its own. */
  module: string | URL | undefined;
  /** The Pool's options, but `module`. */
  pool: Omit<PoolOptions, 'module'>;
  filled: PiscinaFilledOptions;
}

const DEFAULT_CLOSE_TIMEOUT = 30_000;

function fail(message: string): never {
  throw new InvalidArgumentError(`Piscina options: ${message}`);
}

function checkBoolean(name: string, v: unknown): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') fail(`${name} must be a boolean, got ${describe(v)}`);
  return v;
}

function isCount(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** The thread counts, with piscina's defaults and its adjustments when only one bound is given. */
function threadCounts(minThreads: unknown, maxThreads: unknown): { min: number; max: number } {
  if (minThreads !== undefined && !isCount(minThreads, 0, MAX_THREADS)) {
    fail(`minThreads must be an integer from 0 to ${MAX_THREADS}, got ${describe(minThreads)}`);
  }
  if (maxThreads !== undefined && !isCount(maxThreads, 1, MAX_THREADS)) {
    fail(`maxThreads must be an integer from 1 to ${MAX_THREADS}, got ${describe(maxThreads)}`);
  }
  if (minThreads !== undefined && maxThreads !== undefined) {
    if (minThreads > maxThreads) fail(`minThreads (${minThreads}) must not exceed maxThreads (${maxThreads})`);
    return { min: minThreads, max: maxThreads };
  }
  const cpus = defaultThreads();
  if (maxThreads !== undefined) return { min: Math.min(Math.max(Math.floor(cpus / 2), 1), maxThreads), max: maxThreads };
  const max = Math.min(MAX_THREADS, Math.ceil(cpus * 1.5));
  if (minThreads !== undefined) return { min: minThreads, max: Math.max(max, minThreads) };
  return { min: Math.max(Math.floor(cpus / 2), 1), max };
}

/** `filename` as piscina's `options.filename` shows it: a path (a file URL turned into its path). */
function filenamePath(filename: string | URL): string {
  try {
    if (filename instanceof URL) return fileURLToPath(filename);
    return filename.startsWith('file:') ? fileURLToPath(filename) : filename;
  } catch (err) {
    throw new InvalidArgumentError(`Piscina options: filename ${describe(filename)} is not a file URL or a path`, { cause: err });
  }
}

/** Checks `new Piscina(options)`'s options and maps them onto the Pool's. */
export function resolvePiscinaOptions(given: PiscinaOptions | undefined): ResolvedPiscinaOptions {
  if (given === undefined) given = {};
  if (given === null || typeof given !== 'object')
    throw new InvalidArgumentError(`Piscina expects an options object, got ${describe(given)}`);
  const o = checkOptionNames(given, PISCINA_OPTION_SET, 'Piscina options');
  for (const name of Object.keys(REFUSED)) {
    const v = (o as Record<string, unknown>)[name];
    if (v === undefined || (name === 'niceIncrement' && v === 0)) continue;
    if (name === 'niceIncrement' && typeof v !== 'number') fail(`niceIncrement must be a number, got ${describe(v)}`);
    fail(`${name} is not supported: ${REFUSED[name]}`);
  }

  const { filename } = o;
  if (filename !== undefined && filename !== null && !(typeof filename === 'string' && filename.length > 0) && !(filename instanceof URL)) {
    fail(`filename must be a path or file URL string, or null, got ${describe(filename)}`);
  }
  const name = o.name ?? 'default';
  if (typeof name !== 'string' || name.length === 0) fail(`name must be a non-empty string or null, got ${describe(name)}`);
  const { min, max } = threadCounts(o.minThreads, o.maxThreads);

  const idleTimeout = o.idleTimeout ?? 0;
  if (typeof idleTimeout !== 'number' || !(idleTimeout >= 0)) {
    fail(`idleTimeout must be a number of milliseconds from 0 (the default: at once) to Infinity (never), got ${describe(idleTimeout)}`);
  }
  let maxQueue: number;
  if (o.maxQueue === undefined) maxQueue = Infinity;
  else if (o.maxQueue === 'auto') maxQueue = max * max;
  else if (o.maxQueue === Infinity || isCount(o.maxQueue, 0, Number.MAX_SAFE_INTEGER)) maxQueue = o.maxQueue;
  else fail(`maxQueue must be a non-negative integer, Infinity or 'auto', got ${describe(o.maxQueue)}`);

  const concurrentTasksPerWorker = o.concurrentTasksPerWorker ?? 1;
  if (!isCount(concurrentTasksPerWorker, 1, Number.MAX_SAFE_INTEGER)) {
    fail(`concurrentTasksPerWorker must be a positive integer, got ${describe(concurrentTasksPerWorker)}`);
  }
  const closeTimeout = o.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
  if (typeof closeTimeout !== 'number' || !(closeTimeout >= 0)) {
    fail(`closeTimeout must be a non-negative number of milliseconds, got ${describe(closeTimeout)}`);
  }
  const atomics = o.atomics ?? 'sync';
  if (atomics !== 'sync' && atomics !== 'async' && atomics !== 'disabled') {
    fail(`atomics must be 'sync', 'async' or 'disabled', got ${describe(atomics)}`);
  }
  checkBoolean('useAtomics', o.useAtomics);
  const recordTiming = checkBoolean('recordTiming', o.recordTiming) ?? true;
  const workerHistogram = checkBoolean('workerHistogram', o.workerHistogram) ?? false;
  const stricterFIFO = checkBoolean('stricterFIFO', o.stricterFIFO) ?? false;
  const trackUnmanagedFds = checkBoolean('trackUnmanagedFds', o.trackUnmanagedFds);
  let argv: string[] | undefined;
  if (o.argv !== undefined) {
    if (!Array.isArray(o.argv)) fail(`argv must be an array, got ${describe(o.argv)}`);
    // piscina (as Node's Worker) turns each item into a string.
    argv = o.argv.map((a) => String(a));
  }

  const pool: Omit<PoolOptions, 'module'> = {
    minThreads: min,
    maxThreads: max,
    // piscina's 0 is "as soon as idle"; weft's smallest idle timeout is a millisecond.
    ...(idleTimeout !== Infinity ? { idleTimeout: Math.max(idleTimeout, 1) } : {}),
    // 0 (no waiting at all) and Infinity have no Pool equivalent: the Piscina face enforces 0.
    ...(maxQueue > 0 && maxQueue !== Infinity ? { maxQueue } : {}),
    concurrentTasksPerWorker,
    ...(o.resourceLimits !== undefined ? { resourceLimits: o.resourceLimits } : {}),
    ...(o.env !== undefined ? { env: o.env } : {}),
    ...(argv !== undefined ? { argv } : {}),
    ...(o.execArgv !== undefined ? { execArgv: o.execArgv } : {}),
    ...('workerData' in o ? { workerData: o.workerData } : {}),
    ...(trackUnmanagedFds !== undefined ? { trackUnmanagedFds } : {}),
  };
  const filled: PiscinaFilledOptions = Object.freeze({
    filename: filename === undefined || filename === null ? null : filenamePath(filename),
    name,
    minThreads: min,
    maxThreads: max,
    idleTimeout,
    maxQueue,
    concurrentTasksPerWorker,
    atomics,
    niceIncrement: 0,
    trackUnmanagedFds: trackUnmanagedFds ?? true,
    closeTimeout,
    recordTiming,
    stricterFIFO,
    workerHistogram,
    ...(o.resourceLimits !== undefined ? { resourceLimits: o.resourceLimits } : {}),
    ...(o.env !== undefined ? { env: o.env } : {}),
    ...(argv !== undefined ? { argv } : {}),
    ...(o.execArgv !== undefined ? { execArgv: o.execArgv } : {}),
    ...('workerData' in o ? { workerData: o.workerData } : {}),
  });
  return { module: filename ?? undefined, pool, filled };
}
