/**
 * What `Pool` (on the main thread) and `currentPool()` (inside a task) have in common: typed
 * `run`, `runWith`, `map` and `proxy`, all on top of a `Submitter`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Submitter } from './submitter.js';
import { TASK_MAP } from './protocol.js';
import type { MapOptions, PoolProxy, RunOptions, TaskArgs, TaskModule, TaskName, TaskResult } from './types.js';

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
    return this.submitter.submit(name, args, options) as Promise<TaskResult<M, K>>;
  }

  /**
   * Calls task `name` once per item (with the item as its only argument) and resolves with the
   * results in order. Items go to the workers in chunks (`chunkSize`), one task per chunk.
   */
  async map<K extends TaskName<M>>(name: K, items: Iterable<TaskArgs<M, K>[0]>, options: MapOptions = {}): Promise<Array<TaskResult<M, K>>> {
    const list: readonly unknown[] = Array.isArray(items) ? items : Array.from(items);
    const n = list.length;
    if (n === 0) return [];
    const { chunkSize } = options;
    if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1)) {
      throw new InvalidArgumentError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
    }
    const size = chunkSize ?? Math.max(1, Math.min(65_536, Math.ceil(n / (this.threads * 4))));
    const numeric = list.every((v) => typeof v === 'number');
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
      parts.push(this.submitter.submit(name, [chunk], options.signal ? { signal: options.signal } : undefined, TASK_MAP));
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
    this.#proxy ??= new Proxy(Object.create(null) as Record<string, unknown>, {
      get: (cache: Record<string, unknown>, name) => {
        if (typeof name !== 'string' || name === 'then') return undefined;
        let f = cache[name];
        if (f === undefined) {
          f = (...args: unknown[]) => this.submitter.submit(name, args);
          cache[name] = f;
        }
        return f;
      },
    }) as unknown as PoolProxy<M>;
    return this.#proxy as unknown as PoolProxy<P>;
  }
}
