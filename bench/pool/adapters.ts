/**
 * One adapter per library of the pool benchmark: each makes a pool of THREADS worker threads
 * running the library's task file from ./tasks/ and exposes "call task `name` with one argument".
 *
 * Every pool runs with the library's defaults apart from the thread count (fixed at 2, started
 * eagerly where the library has a minimum): no tuning of queues, atomics or strategies. The one
 * exception is case f, poolifier's own benchmark, where each pool is set up as that benchmark
 * sets it up (`Setup`): for poolifier that means its tasks queue.
 *
 * Libraries are imported dynamically so that a child process loads only the one it measures
 * (and so that the weft adapter can fail, recorded as `{ error }`, while the Pool does not exist).
 */
import { join } from 'node:path';
import { packageVersion } from '../harness/index.js';

// The package is CommonJS, so tsx runs this file as CommonJS: __dirname is this folder.
const here = __dirname;
/** The repository's root. */
export { ROOT as root } from '../harness/index.js';
export const THREADS = 2;

export const LIBS = ['weft', 'piscina', 'tinypool', 'poolifier', 'workerpool'] as const;
export type Lib = (typeof LIBS)[number];
export const PEERS = LIBS.filter((l) => l !== 'weft');

/** Tasks every library's task file exports (see ./tasks/work.mjs). */
export type TaskName = 'inc' | 'incChunk' | 'fibWork' | 'fibSeq' | 'factorialTask';

/**
 * How a pool is constructed. 'defaults': the library's defaults apart from the thread count
 * (cases a-e). 'poolifier-bench': the options of poolifier's published benchmark against other
 * pools (github.com/poolifier/benchmark, fixed-*.mjs), case f. They differ only for poolifier,
 * `enableTasksQueue: true` (its benchmark also names `workerChoiceStrategy: LEAST_USED`, which is
 * the default); piscina's and tinypool's `idleTimeout: 60000` and the ThreadWorker's
 * `maxInactiveTime` do nothing when the minimum number of threads is the maximum, and
 * workerpool's options there are the ones used here.
 */
export type Setup = 'defaults' | 'poolifier-bench';

/** The part of weft's Pool API the benchmark uses (typed here: the Pool is not exported yet). */
export interface WeftPoolLike {
  run(task: string, ...args: unknown[]): Promise<unknown>;
  map(task: string, items: readonly unknown[], options?: { chunkSize?: number }): Promise<unknown[]>;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export interface Adapter {
  readonly lib: Lib;
  readonly version: string;
  /** How the pool was constructed, for the JSON. */
  readonly setup: string;
  /** One call of task `name` with one argument. */
  run(name: TaskName, arg: unknown): PromiseLike<unknown>;
  /** Graceful shutdown. */
  close(): Promise<void>;
  /** weft only: the pool itself, for `map` and the nested task. */
  readonly weft?: WeftPoolLike;
}

export function taskFile(lib: Lib): string {
  return join(here, 'tasks', `${lib}.mjs`);
}

/** The installed version of a library (weft: this repository's package.json). */
export function versionOf(lib: Lib): string {
  return packageVersion(lib === 'weft' ? 'weftjs' : lib);
}

// Module specifiers in variables: typed `any` imports keep `npm run typecheck` independent of
// whether dist/ (weft) exists, and of each peer's module format (tinypool is ESM only).
const dynImport = (spec: string): Promise<unknown> => import(spec);

async function weftAdapter(): Promise<Adapter> {
  const mod = (await dynImport('weftjs')) as {
    Pool?: new (options: { module: string; threads: number }) => WeftPoolLike;
  };
  if (typeof mod.Pool !== 'function') {
    throw new Error('weft has no Pool export (dist/ is built from a src/ without the Pool; run npm run build:ts once it lands)');
  }
  const pool = new mod.Pool({ module: taskFile('weft'), threads: THREADS });
  return {
    lib: 'weft',
    version: versionOf('weft'),
    setup: `new Pool({ module: tasks/weft.mjs, threads: ${THREADS} })`,
    run: (name, arg) => pool.run(name, arg),
    close: () => pool.close(),
    weft: pool,
  };
}

async function piscinaAdapter(): Promise<Adapter> {
  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: taskFile('piscina'), minThreads: THREADS, maxThreads: THREADS });
  return {
    lib: 'piscina',
    version: versionOf('piscina'),
    setup: `new Piscina({ filename: tasks/piscina.mjs, minThreads: ${THREADS}, maxThreads: ${THREADS} })`,
    run: (name, arg) => pool.run(arg, { name }),
    close: () => pool.destroy(),
  };
}

interface TinypoolLike {
  run(task: unknown, options?: { name?: string }): Promise<unknown>;
  destroy(): Promise<void>;
}

async function tinypoolAdapter(): Promise<Adapter> {
  const { Tinypool } = (await dynImport('tinypool')) as {
    Tinypool: new (options: { filename: string; minThreads: number; maxThreads: number }) => TinypoolLike;
  };
  const pool = new Tinypool({ filename: taskFile('tinypool'), minThreads: THREADS, maxThreads: THREADS });
  return {
    lib: 'tinypool',
    version: versionOf('tinypool'),
    setup: `new Tinypool({ filename: tasks/tinypool.mjs, minThreads: ${THREADS}, maxThreads: ${THREADS} })`,
    run: (name, arg) => pool.run(arg, { name }),
    close: () => pool.destroy(),
  };
}

async function poolifierAdapter(setup: Setup): Promise<Adapter> {
  const { FixedThreadPool, WorkerChoiceStrategies } = await import('poolifier');
  // Its published benchmark's options (fixed-poolifier.mjs): the tasks queue, least used.
  const bench =
    setup === 'poolifier-bench' ? ({ enableTasksQueue: true, workerChoiceStrategy: WorkerChoiceStrategies.LEAST_USED } as const) : {};
  const pool = new FixedThreadPool<unknown, unknown>(THREADS, taskFile('poolifier'), {
    errorHandler: (e: Error) => console.error('poolifier worker error:', e),
    ...bench,
  });
  return {
    lib: 'poolifier',
    version: versionOf('poolifier'),
    setup: `new FixedThreadPool(${THREADS}, tasks/poolifier.mjs (a ThreadWorker), { errorHandler${
      setup === 'poolifier-bench' ? ", enableTasksQueue: true, workerChoiceStrategy: 'LEAST_USED'" : ''
    } })`,
    run: (name, arg) => pool.execute(arg, name),
    close: () => pool.destroy(),
  };
}

interface WorkerpoolLike {
  exec(method: string, params: unknown[]): PromiseLike<unknown>;
  terminate(force?: boolean): PromiseLike<unknown>;
}

async function workerpoolAdapter(): Promise<Adapter> {
  const mod = (await dynImport('workerpool')) as {
    pool?: (script: string, options: object) => WorkerpoolLike;
    default?: { pool: (script: string, options: object) => WorkerpoolLike };
  };
  const make = mod.pool ?? mod.default?.pool;
  if (!make) throw new Error('workerpool: no pool() export');
  const pool = make(taskFile('workerpool'), { minWorkers: THREADS, maxWorkers: THREADS, workerType: 'thread' });
  return {
    lib: 'workerpool',
    version: versionOf('workerpool'),
    setup: `workerpool.pool(tasks/workerpool.mjs, { minWorkers: ${THREADS}, maxWorkers: ${THREADS}, workerType: 'thread' })`,
    run: (name, arg) => pool.exec(name, [arg]),
    close: async () => {
      await pool.terminate();
    },
  };
}

export function loadAdapter(lib: Lib, setup: Setup = 'defaults'): Promise<Adapter> {
  switch (lib) {
    case 'weft':
      return weftAdapter();
    case 'piscina':
      return piscinaAdapter();
    case 'tinypool':
      return tinypoolAdapter();
    case 'poolifier':
      return poolifierAdapter(setup);
    case 'workerpool':
      return workerpoolAdapter();
  }
}
