/**
 * What `Pool` (on the main thread) and `currentPool()` (inside a task) have in common: typed
 * `run`, `runWith`, `map` and `proxy`, all on top of a `Submitter`.
 */
import { types } from 'node:util';
import { InvalidArgumentError, WeftError } from '../errors.js';
import { checkOptionNames, checkOptions } from '../internal/options.js';
import type { Submitter } from './submitter.js';
import { MODULE_CALL, TASK_MAP } from './protocol.js';
import { resolveTaskModule, type TaskModuleLocation } from './module.js';
import {
  MAP_OPTIONS,
  type MapOptions,
  POOL_OPTIONS,
  type PoolProxy,
  RUN_OPTIONS,
  type RunOptions,
  type TaskArgs,
  type TaskModule,
  type TaskName,
  type TaskResult,
} from './types.js';
import { describe, thrownMessage } from '../internal/describe.js';

const POOL_OPTION_SET: ReadonlySet<string> = new Set(POOL_OPTIONS);
const RUN_OPTION_SET: ReadonlySet<string> = new Set(RUN_OPTIONS);
const MAP_OPTION_SET: ReadonlySet<string> = new Set(MAP_OPTIONS);
/** The names `proxy()` leaves to Object.prototype (`toString`, `hasOwnProperty`, `__proto__`...). */
const OBJECT_MEMBERS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));
/** Names `proxy()` answers with undefined: a thenable or a JSON-able proxy would surprise. */
const NOT_TASKS: ReadonlySet<string> = new Set(['then', 'toJSON']);

/** Throws `WEFT_INVALID_ARG` for an unknown name in `new Pool(options)` (with the nearest valid one). */
export function checkPoolOptions<T extends object>(options: T): T {
  return checkOptionNames(options, POOL_OPTION_SET, 'Pool options');
}

/** Whether `v` is an object with a `Symbol.iterator` method (false when reading it throws: a Proxy). */
function isIterableObject(v: unknown): v is Iterable<unknown> {
  if (v === null || typeof v !== 'object') return false;
  try {
    return typeof (v as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
  } catch {
    return false;
  }
}

/** The second argument of a map chunk's task when its items are argument lists (`spread`). */
export const MAP_SPREAD = 1;

/**
 * In a worker, before a map chunk runs: the error for a task that `map` would call with fewer
 * arguments than it declares (`fn.length`, which counts the parameters before the first one with
 * a default or a rest parameter), or undefined.
 */
export function mapArityError(fn: (...args: never[]) => unknown, spread: boolean): InvalidArgumentError | undefined {
  if (spread || fn.length <= 1) return undefined;
  const name = fn.name === '' ? 'the task' : `task ${JSON.stringify(fn.name)}`;
  return new InvalidArgumentError(
    `pool.map calls ${name} with one argument per item, but it declares ${fn.length} parameters. ` +
      `Pass { spread: true } to map to give each item (an array) as the argument list ` +
      `(map(name, [[a, b], ...], { spread: true }) calls task(a, b)), or call run() per item.`,
  );
}

/** Modules named in `runWith({ module })`, found once each (the most recent few hundred kept). */
const otherModules = new Map<string, TaskModuleLocation>();
const MAX_OTHER_MODULES = 256;

function otherModule(module: string | URL): TaskModuleLocation {
  let key: string;
  try {
    // (A Proxy's traps may throw here: that is a bad argument too.)
    if (typeof module !== 'string' && (types.isProxy(module) || !(module instanceof URL))) {
      throw new InvalidArgumentError(`runWith options: module must be a path, a file URL or a URL string, got ${describe(module)}`);
    }
    key = typeof module === 'string' ? module : module.href;
  } catch (err) {
    if (err instanceof WeftError) throw err;
    throw new InvalidArgumentError(`runWith options: module: ${thrownMessage(err)}`, { cause: err });
  }
  let location = otherModules.get(key);
  if (location === undefined) {
    try {
      location = resolveTaskModule(module);
    } catch (err) {
      if (err instanceof WeftError) throw err;
      throw new InvalidArgumentError(`runWith options: module: ${thrownMessage(err)}`, { cause: err });
    }
    if (otherModules.size >= MAX_OTHER_MODULES) otherModules.clear();
    otherModules.set(key, location);
  }
  return location;
}

export abstract class TaskRunner<M = TaskModule> {
  protected abstract get submitter(): Submitter;
  protected abstract get threads(): number;
  #proxy: PoolProxy<M> | undefined;

  /** Runs task `name` with `args`; resolves with its (awaited) result. */
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>> {
    return this.submitter.submit(name, args) as Promise<TaskResult<M, K>>;
  }

  /** `run` with per-call options: an AbortSignal, a transfer list. */
  runWith<K extends TaskName<M>>(options: RunOptions, name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>> {
    let opts: RunOptions;
    try {
      opts = checkOptions(options as RunOptions | undefined, RUN_OPTION_SET, 'runWith options');
    } catch (err) {
      return Promise.reject(err);
    }
    if (opts.module !== undefined) {
      // Another module: the reserved task that loads it on the worker and calls `name` there.
      let location: TaskModuleLocation;
      try {
        location = otherModule(opts.module);
      } catch (err) {
        return Promise.reject(err);
      }
      const { module: _, ...rest } = opts;
      const call = [location.url, location.tsx ?? null, location.probe ?? null, name, ...args];
      return this.submitter.submit(MODULE_CALL, call, rest) as Promise<TaskResult<M, K>>;
    }
    return this.submitter.submit(name, args, opts) as Promise<TaskResult<M, K>>;
  }

  /**
   * Calls task `name` once per item (with the item as its only argument) and resolves with the
   * results in order. Items go to the workers in chunks (`chunkSize`), one task per chunk. A task
   * that declares more than one parameter rejects with `WEFT_INVALID_ARG`, unless `spread` is
   * set: then each item is an array, the argument list of its call.
   */
  map<K extends TaskName<M>>(
    name: K,
    items: Iterable<TaskArgs<M, K>[0]>,
    options?: MapOptions & { spread?: false },
  ): Promise<Array<TaskResult<M, K>>>;
  map<K extends TaskName<M>>(
    name: K,
    items: Iterable<TaskArgs<M, K>>,
    options: MapOptions & { spread: true },
  ): Promise<Array<TaskResult<M, K>>>;
  async map<K extends TaskName<M>>(name: K, items: Iterable<unknown>, options?: MapOptions): Promise<Array<TaskResult<M, K>>> {
    const { chunkSize, signal, spread } = checkOptions(options, MAP_OPTION_SET, 'pool.map options');
    if (!isIterableObject(items)) {
      const what = items === null ? 'null' : typeof items;
      throw new InvalidArgumentError(`pool.map(${describe(name)}, items): items must be an array or another iterable object, got ${what}`);
    }
    if (spread !== undefined && typeof spread !== 'boolean')
      throw new InvalidArgumentError(`pool.map: spread must be a boolean, got ${typeof spread}`);
    let list: readonly unknown[];
    try {
      list = Array.isArray(items) ? items : Array.from(items);
    } catch (err) {
      throw new InvalidArgumentError(`pool.map: iterating the items threw: ${thrownMessage(err)}`, {
        cause: err,
      });
    }
    const n = list.length;
    if (spread === true) {
      for (let i = 0; i < n; i++) {
        if (!Array.isArray(list[i])) {
          const v = list[i];
          throw new InvalidArgumentError(
            `pool.map with { spread: true } takes an array of arguments per item; item ${i} is ${v === null ? 'null' : typeof v}`,
          );
        }
      }
    }
    if (n === 0) return [];
    if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1)) {
      throw new InvalidArgumentError(`chunkSize must be a positive integer, got ${describe(chunkSize)}`);
    }
    const size = chunkSize ?? Math.max(1, Math.min(65_536, Math.ceil(n / (this.threads * 4))));
    const numeric = spread !== true && list.every((v) => typeof v === 'number');
    const parts: Array<Promise<unknown>> = [];
    for (let start = 0; start < n; start += size) {
      const end = Math.min(n, start + size);
      let chunk: unknown;
      if (numeric) {
        const f = new Float64Array(end - start);
        for (let i = start; i < end; i++) f[i - start] = list[i] as number;
        chunk = f;
      } else {
        chunk = list.slice(start, end);
      }
      const args = spread === true ? [chunk, MAP_SPREAD] : [chunk];
      parts.push(this.submitter.submit(name, args, signal ? { signal } : undefined, TASK_MAP));
    }
    const results = (await Promise.all(parts)) as Array<ArrayLike<unknown>>;
    const out = new Array<TaskResult<M, K>>(n);
    let i = 0;
    for (const part of results) {
      for (let j = 0; j < part.length; j++) out[i++] = part[j] as TaskResult<M, K>;
    }
    return out;
  }

  /**
   * A typed facade over the task module: `pool.proxy<typeof import('./tasks.js')>().fib(30)`.
   * (Name the module type on the `Pool` itself — `new Pool<typeof import('./tasks.js')>` — and
   * `proxy()` needs no type argument.)
   */
  proxy<P = M>(): PoolProxy<P> {
    // The target stays empty (the functions are cached beside it), so the proxy has no own
    // properties: `Object.keys`, `hasOwnProperty` and `in` see none.
    const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    this.#proxy ??= new Proxy(Object.create(null) as object, {
      get: (_target, name) => {
        // Not task names: symbols (inspection, Symbol.toPrimitive), `then` (so the proxy is not
        // taken for a promise), `toJSON` (JSON.stringify looks it up) and the members of Object.prototype (`toString`, `hasOwnProperty`,
        // ...), which behave as on a plain object: code that stringifies or inspects the proxy
        // must not submit tasks. A task with such a name runs through run().
        if (typeof name !== 'string' || NOT_TASKS.has(name)) return name === Symbol.toStringTag ? 'PoolProxy' : undefined;
        if (OBJECT_MEMBERS.has(name)) return Reflect.get(Object.prototype, name) as unknown;
        let f = cache.get(name);
        if (f === undefined) {
          f = (...args: unknown[]) => this.submitter.submit(name, args);
          cache.set(name, f);
        }
        return f;
      },
    }) as unknown as PoolProxy<M>;
    return this.#proxy as unknown as PoolProxy<P>;
  }
}
