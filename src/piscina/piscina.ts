/**
 * `Piscina`: piscina's API (4 and 5) on weft's work-stealing `Pool`.
 *
 * What differs from piscina, and why, is in docs/piscina.md; in short: errors are `WeftError`s
 * with a `code` (an abort rejects with an error named `AbortError` whose code is `WEFT_ABORTED`),
 * options that cannot apply to weft's scheduler are refused, and the histograms cannot be reset.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { InvalidArgumentError, WeftError, type WeftErrorCode, isWeftError } from '../errors.js';
import { describe } from '../internal/describe.js';
import { checkOptions, optionNames } from '../internal/options.js';
import { Pool, type RunOptions, type TransferListItem, isWorkerThread, workerData } from '../pool/index.js';
import { type PiscinaHistogram, type PiscinaHistogramSummary, summarize } from './histogram.js';
import { move, takeTransferable, transferableSymbol, valueSymbol } from './move.js';
import { type PiscinaFilledOptions, type PiscinaOptions, resolvePiscinaOptions } from './options.js';

/** An `AbortSignal`, or piscina's other accepted abort sources: an EventTarget or EventEmitter that emits `'abort'`. */
export type PiscinaAbortSignal =
  | AbortSignal
  | {
      addEventListener(type: 'abort', listener: () => void, options?: { once: boolean }): void;
      removeEventListener(type: 'abort', listener: () => void): void;
      readonly aborted?: boolean;
      readonly reason?: unknown;
    }
  | {
      once(event: 'abort', listener: () => void): unknown;
      off(event: 'abort', listener: () => void): unknown;
    };

/** The options of `piscina.run(task, options)`. */
export interface PiscinaRunOptions {
  /** Objects to transfer to the worker with the task instead of copying them (ArrayBuffers, MessagePorts...). */
  transferList?: readonly TransferListItem[] | undefined;
  /** Another task module for this task (path or `file:` URL); required when the constructor had none. */
  filename?: string | URL | null | undefined;
  /** Aborting removes the task from the queue, or stops the worker running it; it rejects with an `AbortError`. */
  signal?: PiscinaAbortSignal | null | undefined;
  /** The export to run, instead of the constructor's `name`. */
  name?: string | null | undefined;
}

/** The options of `piscina.close(options)`. */
export interface PiscinaCloseOptions {
  /** Reject the tasks that have not started (with an `AbortError`) instead of running them. Default false. */
  force?: boolean | undefined;
}

const RUN_OPTIONS = optionNames<PiscinaRunOptions>()(['transferList', 'filename', 'signal', 'name']);
const RUN_OPTION_SET: ReadonlySet<string> = new Set(RUN_OPTIONS);
const CLOSE_OPTION_SET: ReadonlySet<string> = new Set(optionNames<PiscinaCloseOptions>()(['force']));

/** The messages weft's own worker loop sends its parent; anything else a worker posts is a `'message'` event. */
const WEFT_MESSAGES: ReadonlySet<unknown> = new Set(['ready', 'idle', 'fatal', 'closed']);

/** The task module of a Piscina without `filename` (found as its `.ts` sibling when running from source). */
const NO_TASKS = join(__dirname, 'no-tasks.js');

// The package's version (piscina's `version` is its own).
const { version } = require('../../package.json') as { version: string };

/**
 * What a task rejects with when it was aborted (by its `signal`: code `WEFT_ABORTED`) or dropped
 * by `close({ force: true })` (code `WEFT_CLOSED`): a `WeftError` named `AbortError`, as piscina's,
 * with the abort's reason as `cause`.
 */
export class AbortError extends WeftError {
  override name = 'AbortError';
  constructor(code: WeftErrorCode, reason: unknown) {
    super(code, 'The task has been aborted', { cause: reason });
  }
}

/** A task submitted and not settled, in submission order (for `close({ force: true })`). */
interface Pending {
  reject: (err: unknown) => void;
  cleanup: (() => void) | undefined;
}

/** An AbortSignal for `signal`, and what removes the listener that feeds it. */
function abortSignalOf(signal: object): { signal: AbortSignal; cleanup?: () => void } {
  if (signal instanceof AbortSignal) return { signal };
  const s = signal as Partial<Record<string, unknown>>;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort((s as { reason?: unknown }).reason);
  if (typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function') {
    if (s.aborted) {
      onAbort();
      return { signal: controller.signal };
    }
    const target = signal as Extract<PiscinaAbortSignal, { addEventListener: unknown }>;
    target.addEventListener('abort', onAbort, { once: true });
    return { signal: controller.signal, cleanup: () => target.removeEventListener('abort', onAbort) };
  }
  if (typeof s.once === 'function' && typeof s.off === 'function') {
    const emitter = signal as Extract<PiscinaAbortSignal, { once: unknown }>;
    emitter.once('abort', onAbort);
    return { signal: controller.signal, cleanup: () => emitter.off('abort', onAbort) };
  }
  throw new InvalidArgumentError(
    `Piscina run options: signal must be an AbortSignal, or an EventTarget or EventEmitter that emits 'abort', got ${describe(signal)}`,
  );
}

/**
 * A pool of worker threads with piscina's API, run by weft's work-stealing `Pool`. Each task is
 * one call of an export of the task module (`filename`) with one argument.
 *
 * ```js
 * import Piscina from 'weftjs/piscina';
 *
 * const piscina = new Piscina({ filename: new URL('./worker.mjs', import.meta.url).href });
 * const result = await piscina.run({ a: 4, b: 6 });
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: piscina's type parameters default to any
export class Piscina<T = any, R = any> extends EventEmitter {
  /** The class itself (piscina's `Piscina.Piscina`, for `const { Piscina } = require(...)`). */
  static readonly Piscina: typeof Piscina = Piscina;
  /** Marks a value to be transferred rather than copied (see `move` in this module's face). */
  static readonly move: typeof move = move;
  /** Whether this thread is a worker of a weft pool (read when the module loads). */
  static readonly isWorkerThread: boolean = isWorkerThread;
  /** In a worker: a copy of the pool's `workerData` option; elsewhere undefined. */
  static readonly workerData: unknown = workerData;
  /** weft's version (the `weftjs` package's). */
  static readonly version: string = version;
  /** The key of a Transferable object's transfer list. */
  static readonly transferableSymbol: typeof transferableSymbol = transferableSymbol;
  /** The key of a Transferable object's value. */
  static readonly valueSymbol: typeof valueSymbol = valueSymbol;

  readonly #pool: Pool;
  readonly #options: PiscinaFilledOptions;
  readonly #hasFilename: boolean;
  readonly #created = performance.now();
  /** The tasks not settled, in submission order. */
  readonly #pending = new Set<Pending>();
  #idleWaiters: Array<() => void> = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #histogram: PiscinaHistogram | undefined;

  constructor(options: PiscinaOptions = {}) {
    super();
    const resolved = resolvePiscinaOptions(options);
    this.#options = resolved.filled;
    this.#hasFilename = resolved.module !== undefined;
    this.#pool = new Pool({ ...resolved.pool, module: resolved.module ?? NO_TASKS });
    const pool = this.#pool;
    // The workers started with the pool: announced once the caller could listen (as piscina does).
    for (const worker of pool.workers) {
      this.#watch(worker);
      queueMicrotask(() => this.emit('workerCreate', worker));
    }
    pool.on('workerCreate', (worker) => {
      this.#watch(worker);
      this.emit('workerCreate', worker);
    });
    pool.on('workerDestroy', (worker) => this.emit('workerDestroy', worker));
    pool.on('drain', () => this.emit('drain'));
    pool.on('needsDrain', () => this.emit('needsDrain'));
    // An 'error' event nobody listens to would end the process: weft reports it only to listeners.
    pool.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** What a worker posts on its `parentPort` (other than weft's own messages) is a `'message'` event. */
  #watch(worker: Worker): void {
    worker.on('message', (msg: unknown) => {
      if (typeof msg === 'object' && msg !== null && WEFT_MESSAGES.has((msg as { type?: unknown }).type)) return;
      this.emit('message', msg);
    });
  }

  /**
   * Runs the task function (the export `name` of `filename`) with `task` as its one argument;
   * resolves with its (awaited) result. Bad options reject with `WEFT_INVALID_ARG`.
   */
  run(task: T, options?: PiscinaRunOptions): Promise<R> {
    let name = this.#options.name;
    let runOptions: RunOptions | undefined;
    let abortable: AbortSignal | undefined;
    let cleanup: (() => void) | undefined;
    let value: unknown = task;
    try {
      if (this.#closed) throw new WeftError('WEFT_CLOSED', 'Piscina is closed (close() or destroy() was called)');
      let module: string | URL | undefined;
      let transfer: TransferListItem[] | undefined;
      if (options !== undefined) {
        if (options !== null && typeof options === 'object' && 'abortSignal' in options) {
          throw new InvalidArgumentError(
            'Piscina run options: unknown option "abortSignal"; the option is `signal` (piscina reads `signal` too, and ignores `abortSignal`)',
          );
        }
        const o = checkOptions(options, RUN_OPTION_SET, 'Piscina run options');
        if (o.name !== undefined && o.name !== null) {
          if (typeof o.name !== 'string' || o.name.length === 0) {
            throw new InvalidArgumentError(`Piscina run options: name must be a non-empty string, got ${describe(o.name)}`);
          }
          name = o.name;
        }
        if (o.filename !== undefined && o.filename !== null) {
          if (!(typeof o.filename === 'string' && o.filename.length > 0) && !(o.filename instanceof URL)) {
            throw new InvalidArgumentError(`Piscina run options: filename must be a path or file URL string, got ${describe(o.filename)}`);
          }
          module = o.filename;
        }
        if (o.transferList !== undefined) {
          if (!Array.isArray(o.transferList)) {
            throw new InvalidArgumentError(`Piscina run options: transferList must be an array, got ${describe(o.transferList)}`);
          }
          transfer = [...o.transferList];
        }
        if (o.signal !== undefined && o.signal !== null) {
          if (typeof o.signal !== 'object') {
            throw new InvalidArgumentError(`Piscina run options: signal must be an AbortSignal, got ${describe(o.signal)}`);
          }
          ({ signal: abortable, cleanup } = abortSignalOf(o.signal));
        }
      }
      if (module === undefined && !this.#hasFilename) {
        throw new InvalidArgumentError('Piscina: filename must be given to run() or in the constructor options');
      }
      const moved = takeTransferable(task);
      if (moved !== undefined) {
        value = moved.task;
        transfer = transfer === undefined ? moved.transfer : [...transfer, ...moved.transfer.filter((t) => !transfer!.includes(t))];
      }
      if (this.#options.maxQueue === 0 && this.#pool.pending >= this.#options.maxThreads * this.#options.concurrentTasksPerWorker) {
        throw new WeftError('WEFT_QUEUE_FULL', 'Piscina: every worker is busy and maxQueue is 0 (no task may wait)');
      }
      if (module !== undefined || transfer !== undefined || abortable !== undefined) {
        runOptions = {
          ...(module !== undefined ? { module } : {}),
          ...(transfer !== undefined ? { transfer } : {}),
          // piscina stops the worker running an aborted task.
          ...(abortable !== undefined ? { signal: abortable, terminateOnAbort: true } : {}),
        };
      }
    } catch (err) {
      cleanup?.();
      return Promise.reject(err);
    }
    const result = runOptions === undefined ? this.#pool.run(name, value) : this.#pool.runWith(runOptions, name, value);
    return this.#track(result, abortable, cleanup);
  }

  /**
   * piscina's deprecated `runTask(task, transferList?, filename?, signal?)` (piscina 3 and 4):
   * each of the optional arguments is recognised by its type.
   */
  runTask(task: T, ...rest: Array<readonly TransferListItem[] | string | PiscinaAbortSignal | null | undefined>): Promise<R> {
    const options: PiscinaRunOptions = {};
    for (const arg of rest) {
      if (arg === undefined || arg === null) continue;
      if (Array.isArray(arg)) options.transferList = arg as readonly TransferListItem[];
      else if (typeof arg === 'string') options.filename = arg;
      else options.signal = arg as PiscinaAbortSignal;
    }
    return this.run(task, options);
  }

  /** The task's promise as the caller sees it: tracked for close({ force }), aborts as AbortError. */
  #track(result: Promise<unknown>, signal: AbortSignal | undefined, cleanup: (() => void) | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry: Pending = { reject, cleanup };
      this.#pending.add(entry);
      result.then(
        (value) => {
          if (this.#settled(entry)) resolve(value as R);
        },
        (err: unknown) => {
          if (!this.#settled(entry)) return;
          reject(signal?.aborted && isWeftError(err, 'WEFT_ABORTED') ? new AbortError('WEFT_ABORTED', signal.reason) : err);
        },
      );
    });
  }

  /** Removes a settled task; false if `close({ force: true })` already rejected it. */
  #settled(entry: Pending): boolean {
    if (!this.#pending.delete(entry)) return false;
    entry.cleanup?.();
    if (this.#pending.size === 0 && this.#idleWaiters.length > 0) for (const w of this.#idleWaiters.splice(0)) w();
    return true;
  }

  /** Settles once no task is pending. */
  #idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops taking tasks, waits for the submitted ones (at most `closeTimeout` ms; then the pool is
   * destroyed and `'error'` is emitted, or the promise rejects when nobody listens), ends the
   * workers and emits `'close'`. With `force`, the tasks that have not started reject at once.
   */
  close(options?: PiscinaCloseOptions): Promise<void> {
    let force: boolean;
    try {
      const o = checkOptions(options, CLOSE_OPTION_SET, 'Piscina close options');
      if (o.force !== undefined && typeof o.force !== 'boolean') {
        throw new InvalidArgumentError(`Piscina close options: force must be a boolean, got ${describe(o.force)}`);
      }
      force = o.force ?? false;
    } catch (err) {
      return Promise.reject(err);
    }
    this.#closing ??= this.#close(force);
    return this.#closing;
  }

  async #close(force: boolean): Promise<void> {
    this.#closed = true;
    if (force) this.#dropQueued();
    const timeout = this.#options.closeTimeout;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeout);
      timer.unref();
    });
    // Without force the pool closes as weft's does (every submitted task runs); with force the
    // tasks still tracked are the ones running: the pool is destroyed once they settle.
    const done = (force ? this.#idle() : this.#pool.close()).then(() => false);
    const timedOut = await Promise.race([done, expired]);
    clearTimeout(timer);
    let error: WeftError | undefined;
    if (timedOut) {
      error = new WeftError('WEFT_CLOSED', `Piscina: close() timed out after ${timeout} ms (closeTimeout); the pool was destroyed`);
      if (this.listenerCount('error') > 0) {
        this.emit('error', error);
        error = undefined;
      }
    }
    if (force || timedOut) await this.#pool.destroy();
    this.emit('close');
    if (error !== undefined) throw error;
  }

  /**
   * `close({ force: true })`: rejects the tasks that have not started. weft does not say which
   * task a worker runs; tasks start in submission order, so the oldest `running` ones are kept.
   */
  #dropQueued(): void {
    let keep = this.#pool.stats().running;
    for (const entry of this.#pending) {
      if (keep > 0) {
        keep--;
        continue;
      }
      this.#pending.delete(entry);
      entry.cleanup?.();
      entry.reject(new AbortError('WEFT_CLOSED', 'pool is closed'));
    }
    if (this.#pending.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Stops at once: every pending task rejects with `WEFT_CLOSED` and the workers are terminated. */
  async destroy(): Promise<void> {
    this.#closed = true;
    await this.#pool.destroy();
  }

  /** `using piscina = new Piscina(...)`: closes it (without waiting). */
  [Symbol.dispose](): void {
    this.close().catch(() => {});
  }

  /** `await using piscina = new Piscina(...)`: closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The weft `Pool` underneath (for `stats()` and weft's own API). */
  get pool(): Pool {
    return this.#pool;
  }

  /** The options in use, with the defaults filled in. */
  get options(): PiscinaFilledOptions {
    return this.#options;
  }

  get maxThreads(): number {
    return this.#options.maxThreads;
  }

  get minThreads(): number {
    return this.#options.minThreads;
  }

  /** The worker threads running now. */
  get threads(): Worker[] {
    return this.#pool.workers;
  }

  /** Workers running now that have no task. */
  get idleThreads(): number {
    let n = 0;
    for (const w of this.#pool.stats().workers) if (w.threadId !== -1 && w.running === 0) n++;
    return n;
  }

  /** Tasks waiting for a worker. */
  get queueSize(): number {
    return this.#pool.stats().queued;
  }

  /** Tasks that settled (completed or failed). */
  get completed(): number {
    const s = this.#pool.stats();
    return s.completed + s.failed;
  }

  /** Milliseconds since this instance was created. */
  get duration(): number {
    return performance.now() - this.#created;
  }

  /** The share of the workers' time spent running tasks since the pool started (0..1). */
  get utilization(): number {
    return this.#pool.stats().utilization;
  }

  /** Run times of the tasks, in milliseconds (piscina 4's `runTime`). */
  get runTime(): PiscinaHistogramSummary {
    return summarize(this.#pool.stats().runTime);
  }

  /** Times tasks waited for a worker, in milliseconds (piscina 4's `waitTime`). */
  get waitTime(): PiscinaHistogramSummary {
    return summarize(this.#pool.stats().waitTime);
  }

  /** piscina 5's `histogram`: `runTime` and `waitTime`. */
  get histogram(): PiscinaHistogram {
    const pool = this.#pool;
    const noReset = (): never => {
      throw new InvalidArgumentError("Piscina: weft's histograms cover the pool's whole life and cannot be reset");
    };
    this.#histogram ??= Object.freeze({
      get runTime() {
        return summarize(pool.stats().runTime);
      },
      get waitTime() {
        return summarize(pool.stats().waitTime);
      },
      resetRunTime: noReset,
      resetWaitTime: noReset,
    });
    return this.#histogram;
  }

  /** Whether as many tasks are pending as the pool can run at once (wait for `'drain'`). */
  get needsDrain(): boolean {
    return this.#pool.needsDrain;
  }
}
