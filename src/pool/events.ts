/**
 * A pool's events, typed: `pool.on('workerCreate', (worker) => ...)`.
 *
 * - `workerCreate` (worker): a worker thread was started (at creation, on growth, on demand after
 *   an idle exit, or to replace one that died);
 * - `workerDestroy` (worker): a worker thread ended (idle timeout, close, destroy, crash);
 * - `error` (error): a worker failed outside any task (an uncaught error or an exit while idle);
 *   the tasks it was running reject on their own, and the pool replaces it. Emitted only when
 *   someone listens (an unhandled `'error'` event would end the process);
 * - `needsDrain`: the tasks pending reached the pool's capacity (`maxThreads` × `concurrentTasksPerWorker` tasks): more wait;
 * - `drain`: they fell below it again, and again when the last pending task settles (the pool is
 *   idle). A producer that stops on `needsDrain` resumes on `drain`.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';

/** The listeners of each pool event. */
export interface PoolEventMap {
  workerCreate: (worker: Worker) => void;
  workerDestroy: (worker: Worker) => void;
  error: (error: Error) => void;
  drain: () => void;
  needsDrain: () => void;
}

export type PoolEventName = keyof PoolEventMap;

/** The emitter behind a pool's `on`/`once`/`off`, and the drain state it reports. */
export class PoolEvents {
  readonly #emitter = new EventEmitter();
  readonly #capacity: number;
  #saturated = false;
  #last = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  on<E extends PoolEventName>(event: E, listener: PoolEventMap[E]): void {
    this.#emitter.on(event, listener);
  }

  once<E extends PoolEventName>(event: E, listener: PoolEventMap[E]): void {
    this.#emitter.once(event, listener);
  }

  off<E extends PoolEventName>(event: E, listener: PoolEventMap[E]): void {
    this.#emitter.off(event, listener);
  }

  listenerCount(event: PoolEventName): number {
    return this.#emitter.listenerCount(event);
  }

  emit<E extends PoolEventName>(event: E, ...args: Parameters<PoolEventMap[E]>): void {
    if (event === 'error' && this.#emitter.listenerCount('error') === 0) return;
    try {
      this.#emitter.emit(event, ...args);
    } catch (err) {
      // A listener's exception must not break the pool's bookkeeping around the emit.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Whether the tasks pending reached the capacity (piscina's `needsDrain`). */
  get needsDrain(): boolean {
    return this.#saturated;
  }

  /** The number of pending tasks now (after a batch was submitted or settled). */
  load(pending: number): void {
    const last = this.#last;
    this.#last = pending;
    if (pending >= this.#capacity) {
      if (!this.#saturated) {
        this.#saturated = true;
        this.emit('needsDrain');
      }
    } else if (this.#saturated) {
      this.#saturated = false;
      this.emit('drain');
    } else if (pending === 0 && last > 0) {
      this.emit('drain');
    }
  }
}
