/**
 * `Pool`: CPU-bound JavaScript on worker threads, scheduled by weft-core's work-stealing
 * scheduler.
 */
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { WireReader, WireWriter } from '../internal/wire.js';
import { getWorkerContext } from './context.js';
import { type PoolEventMap, type PoolEventName, PoolEvents } from './events.js';
import { loadFailureHint, resolveTaskModule, type TaskModuleLocation } from './module.js';
import { type NativePool, NativePoolClass } from './native-pool.js';
import { registerPoolInternals } from './internals.js';
import { type ResolvedPoolOptions, resolvePoolOptions } from './options.js';
import {
  MAIN_ORIGIN,
  PROGRESS_STARTED,
  WORKER_INIT_KIND,
  userExports,
  type WorkerInit,
  newProgress,
  workerExitError,
  writeAbort,
  writeError,
} from './protocol.js';
import { TaskRunner, checkPoolOptions } from './runner.js';
import { Submitter } from './submitter.js';
import type { PoolOptions, PoolStats, TaskModule, TransferListItem } from './types.js';

// What the actor system uses of a pool lives in internals.ts; re-exported for its importers.
export { poolInternals, type PoolInternals } from './internals.js';

interface Slot {
  index: number;
  worker: Worker;
  port: MessagePort;
  progress: Int32Array;
  ready: boolean;
  /** Set when weft itself ends the worker (close, destroy). */
  retiring: boolean;
  /** Set when the worker left after its idle timeout. */
  idle: boolean;
  lastError: unknown;
}

let poolCount = 0;

/**
 * Pools whose workers may be parked in native code. When the process exits, Node stops every
 * worker thread and waits for it; waking the parked ones makes that immediate.
 */
const livePools = new Set<WeakRef<NativePool>>();
let exitHookInstalled = false;
function wakeAllOnExit(native: NativePool): WeakRef<NativePool> {
  const ref = new WeakRef(native);
  livePools.add(ref);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const r of livePools) r.deref()?.close();
    });
  }
  return ref;
}

/**
 * The entry of a worker thread: src/worker/main.ts, which composes the pool's worker loop with
 * what else lives on a worker (the actor hosts). The pool names it by path and imports none of it.
 * Compiled (dist/worker/main.js) it is a file, so that Node runs the process's `--import`/`--require`
 * preloads in it as in the main thread. Under tsx (weft's own tests and benches run the
 * TypeScript sources) it is an eval that loads tsx's CommonJS hook first, since `--import`
 * preloads do not run in eval workers; a TypeScript task module gets tsx's ESM hooks in the worker
 * as it would in production (see ensureTypeScriptLoader in module.ts).
 */
function workerEntry(): { file: string; eval: boolean } {
  const file = join(__dirname, '..', 'worker', __filename.endsWith('.ts') ? 'main.ts' : 'main.js');
  if (file.endsWith('.ts')) return { file: `require("tsx/cjs"); require(${JSON.stringify(file)});`, eval: true };
  return { file, eval: false };
}

/**
 * A pool of worker threads that run the named exports of one module.
 *
 * ```ts
 * const pool = new Pool<typeof import('./tasks.js')>({ module: new URL('./tasks.js', import.meta.url) });
 * const n = await pool.run('fib', 30);
 * ```
 *
 * `module` names the task module: a file URL (`new URL('./tasks.js', import.meta.url)`, relative
 * to the file that names it) or a path (relative paths are relative to `process.cwd()`). If that
 * file does not exist, its TypeScript/JavaScript sibling is loaded instead (`.js` ↔ `.ts`,
 * `.mjs` ↔ `.mts`, `.cjs` ↔ `.cts`), so the same `./tasks.js` works under tsx, under Node's type
 * stripping and once compiled; {@link Pool.module} says which file it was. A TypeScript module
 * needs a process that can load TypeScript (tsx, or Node's type stripping: 22.6+ with
 * `--experimental-strip-types`, by default from 22.18/23.6); otherwise, and when neither file
 * exists, the constructor throws `WEFT_INVALID_ARG`.
 */
export class Pool<M = TaskModule> extends TaskRunner<M> {
  readonly name: string;
  /**
   * The file URL of the task module the workers load: the file `module` named, or its
   * TypeScript/JavaScript sibling when that file does not exist.
   */
  readonly module: string;
  readonly #native: NativePool;
  readonly #submitter: Submitter;
  readonly #threads: number;
  readonly #location: TaskModuleLocation;
  readonly #options: ResolvedPoolOptions;
  readonly #slots: Array<Slot | undefined>;
  /** Slots with a worker now. */
  #live = 0;
  readonly #events: PoolEvents;
  readonly #created = performance.now();
  /** Results that workers sent through their side ports (`move()`), by task id. */
  readonly #portResults = new Map<number, unknown>();
  readonly #keepAlive: NodeJS.Timeout;
  #closed = false;
  #closing: Promise<void> | undefined;
  #failure: WeftError | undefined;
  #waitScheduled = false;
  #exports: string[] = [];
  #roundRobin = 0;
  #idleWaiters: Array<() => void> = [];
  #exitRef: WeakRef<NativePool> | undefined;
  readonly #reader = new WireReader(new Uint8Array(0));
  readonly #lostListeners = new Set<(slot: number) => void>();

  constructor(given: PoolOptions) {
    super();
    if (given === null || typeof given !== 'object') throw new InvalidArgumentError('Pool expects an options object');
    const checked = checkPoolOptions(given);
    const options = resolvePoolOptions(checked);
    const threads = options.maxThreads;
    const { maxQueue } = options;
    try {
      this.#location = resolveTaskModule(checked.module);
    } catch (err) {
      if (err instanceof WeftError) throw err;
      // A module URL Node refuses (a file URL with a host), or a Proxy whose traps throw.
      throw new InvalidArgumentError(`module: ${thrownMessage(err)}`, { cause: err });
    }
    this.module = this.#location.url;
    this.#options = options;
    this.#threads = threads;
    this.#events = new PoolEvents(threads * this.#options.concurrency);
    this.name = options.name ?? `weft-pool-${++poolCount}`;
    try {
      this.#native = new NativePoolClass(threads, maxQueue ?? 0);
    } catch (err) {
      throw fromNative(err);
    }
    // Keeps the process alive while tasks are pending, and only then.
    this.#keepAlive = setInterval(() => {}, 1 << 30);
    this.#keepAlive.unref();
    this.#submitter = new Submitter(this.#native, MAIN_ORIGIN, {
      busy: (busy) => {
        if (busy) this.#keepAlive.ref();
        else {
          this.#keepAlive.unref();
          this.#events.load(0);
          for (const w of this.#idleWaiters.splice(0)) w();
        }
      },
      aborted: (slot, seq, terminate) => {
        const s = this.#slots[slot];
        if (s === undefined) return;
        if (terminate) {
          void s.worker.terminate();
          return;
        }
        // Tell the worker at once, in case the task is still waiting in its current batch: by
        // its number among the tasks handed to that worker, which no other task shares.
        writeAbort(s.progress, seq);
      },
      port: (id, args, transfer) => this.#sendOnPort(id, args, transfer),
      check: () => this.#check(),
      beforeFlush: () => this.#grow(),
      afterFlush: () => {
        this.#events.load(this.#submitter.pending);
        this.#scheduleWait();
      },
      portResult: (id) => this.#portResult(id),
      ...(maxQueue !== undefined ? { maxQueue } : {}),
      label: { pool: this.name, module: this.#location.url },
    });
    this.#native.setMainNotify(() => this.#drain());
    this.#exitRef = wakeAllOnExit(this.#native);
    this.#slots = Array.from({ length: threads }, () => undefined);
    const initial = options.initialThreads;
    for (let i = 0; i < initial && this.#failure === undefined; i++) this.#spawn(i);
    if (this.#failure !== undefined) throw this.#failure;
    registerPoolInternals(this, {
      native: this.#native,
      threads,
      onWorkerLost: (listener) => {
        this.#lostListeners.add(listener);
        return () => this.#lostListeners.delete(listener);
      },
      isLive: (slot) => {
        const s = this.#slots[slot];
        return s !== undefined && !s.retiring;
      },
      ensureWorkers: () => this.#ensureWorkers(),
    });
  }

  protected get submitter(): Submitter {
    return this.#submitter;
  }

  protected get threads(): number {
    return this.#threads;
  }

  /** The function exports of the task module (known once a worker has loaded it). */
  get tasks(): readonly string[] {
    if (this.#exports.length === 0) this.#exports = userExports(this.#native.exports());
    return this.#exports;
  }

  /** Starts a worker in every empty slot (actors place work on any slot). */
  #ensureWorkers(): void {
    if (this.#live === this.#threads || this.#closed) return;
    for (let i = 0; i < this.#threads; i++) if (this.#slots[i] === undefined) this.#spawn(i);
  }

  /**
   * Before a batch is handed over: starts workers while more tasks are pending than workers
   * run, up to `maxThreads` (at least `minThreads` run; none after an idle exit until work comes).
   */
  #grow(): void {
    const live = this.#live;
    if (live === this.#threads || this.#closed) return;
    const want = Math.min(this.#threads, Math.max(this.#submitter.pending, this.#options.minThreads, 1));
    for (let i = 0, n = live; i < this.#threads && n < want && this.#failure === undefined; i++) {
      if (this.#slots[i] === undefined) {
        this.#spawn(i);
        n++;
      }
    }
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new WeftError('WEFT_CLOSED', `${this.name} is closed`);
  }

  #spawn(index: number): void {
    const progress = newProgress();
    const { port1, port2 } = new MessageChannel();
    const init: WorkerInit = {
      poolId: this.#native.id,
      token: this.#native.token,
      slot: index,
      module: this.#location.url,
      ...(this.#location.tsx !== undefined ? { tsx: this.#location.tsx } : {}),
      ...(this.#location.probe !== undefined ? { tsxProbe: this.#location.probe } : {}),
      poolName: this.name,
      threads: this.#threads,
      // The first minThreads slots stay however long they idle.
      idleTimeout: index < this.#options.minThreads ? 0 : this.#options.idleTimeout,
      concurrency: this.#options.concurrency,
      progress,
      port: port2,
      kind: WORKER_INIT_KIND,
      userData: this.#options.workerData,
    };
    const entry = workerEntry();
    let worker: Worker;
    try {
      worker = new Worker(entry.file, {
        ...this.#options.worker,
        eval: entry.eval,
        workerData: init,
        transferList: [port2],
        name: `${this.name}#${index}`,
      });
    } catch (err) {
      // Node could not start the thread (ERR_WORKER_INIT_FAILED: out of memory or threads, a
      // stack size the system refuses): the pool cannot run anything.
      port1.close();
      port2.close();
      const code = err instanceof Error ? (err as Error & { code?: string }).code : undefined;
      const detail = err instanceof Error ? `${code ?? err.name}: ${err.message}` : describe(err);
      this.#fail(
        code === 'ERR_WORKER_INVALID_EXEC_ARGV'
          ? new InvalidArgumentError(`${this.name}: execArgv has flags a worker thread cannot take (${detail})`, { cause: err })
          : new WeftError('WEFT_WORKER_EXIT', `${this.name}: cannot start a worker thread (${detail})`, { cause: err }),
      );
      return;
    }
    const slot: Slot = {
      index,
      worker,
      port: port1,
      progress: new Int32Array(progress),
      ready: false,
      retiring: false,
      idle: false,
      lastError: undefined,
    };
    this.#slots[index] = slot;
    this.#live++;
    worker.on('message', (msg: { type: string; exports?: string[]; message?: string; stack?: string; code?: string }) => {
      if (msg.type === 'idle') {
        slot.idle = true;
        void worker.terminate();
      } else if (msg.type === 'ready') {
        slot.ready = true;
        this.#exports = msg.exports ?? [];
      } else if (msg.type === 'fatal') {
        const hint = loadFailureHint(this.#location, msg.code, msg.message ?? '');
        const err = new InvalidArgumentError(
          `${this.name}: cannot load the task module ${this.#describeModule()}: ${msg.message ?? ''}${hint !== undefined ? ` (${hint})` : ''}`,
        );
        if (msg.stack !== undefined) err.stack = `${err.name}: ${err.message}\n--- in the worker ---\n${msg.stack}`;
        this.#fail(err);
      }
    });
    worker.on('error', (err) => {
      slot.lastError = err;
      this.#events.emit('error', err);
    });
    worker.on('exit', (code) => this.#onExit(slot, code));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    port1.unref();
    this.#events.emit('workerCreate', worker);
  }

  #onExit(slot: Slot, code: number): void {
    if (this.#slots[slot.index] === slot) {
      this.#slots[slot.index] = undefined;
      this.#live--;
    }
    // Results it sent through its port (move()) and not yet taken are still settled.
    this.#receivePortResults(slot.port);
    slot.port.close();
    this.#events.emit('workerDestroy', slot.worker);
    if (slot.retiring) return;
    if (slot.idle) {
      // Left on its idle timeout: nothing was running there. Start it again if work came in
      // meanwhile; otherwise the next submission does.
      const lost = this.#native.workerRetired(slot.index, slot.progress[PROGRESS_STARTED] ?? 0, new Uint8Array(0));
      for (const id of lost) this.#submitter.settle(id, false, workerExitError(this.name, slot.index, 'idle exit'));
      if (!this.#closed && (this.#native.queued > 0 || this.#submitter.pending > 0)) this.#spawn(slot.index);
      return;
    }
    const detail =
      slot.lastError instanceof Error
        ? `${(slot.lastError as Error & { code?: string }).code ?? slot.lastError.name}: ${slot.lastError.message}`
        : `exit code ${code}`;
    const error = (): WeftError => workerExitError(this.name, slot.index, detail);
    const exitResult = new WireWriter(256);
    writeError(exitResult, error());
    let lost: number[] = [];
    try {
      lost = this.#native.workerLost(slot.index, slot.progress[PROGRESS_STARTED] ?? 0, exitResult.view());
    } catch (err) {
      lost = [];
      slot.lastError = fromNative(err);
    }
    for (const id of lost) this.#submitter.settle(id, false, error());
    if (!slot.ready && this.#failure === undefined) {
      this.#fail(
        new WeftError(
          'WEFT_WORKER_EXIT',
          `${this.name}: a worker exited while loading the task module ${this.#describeModule()} (${detail})`,
        ),
      );
    }
    if (this.#failure === undefined && !this.#closed) this.#spawn(slot.index);
    for (const listener of this.#lostListeners) {
      try {
        listener(slot.index);
      } catch (err) {
        process.emitWarning(`weft: a worker-exit listener threw: ${String(err)}`);
      }
    }
  }

  /** The task module's URL, and the name it was found for when that was its sibling. */
  #describeModule(): string {
    const l = this.#location;
    return l.sibling ? `${l.url} (found for ${l.named}, which does not exist)` : l.url;
  }

  /** The task module cannot be loaded: reject everything now and later; stop respawning. */
  #fail(error: WeftError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#native.close();
    for (const id of this.#native.drainQueued()) this.#submitter.settle(id, false, error);
    this.#submitter.rejectAll(() => error);
    for (const s of this.#slots) {
      if (s !== undefined) {
        s.retiring = true;
        void s.worker.terminate();
      }
    }
  }

  /** Moves what a worker sent through its side port (move() results) into #portResults. */
  #receivePortResults(port: MessagePort): void {
    for (let m: { message: unknown } | undefined; (m = receiveMessageOnPort(port)); ) {
      const msg = m.message as { id: number; value: unknown };
      this.#portResults.set(msg.id, msg.value);
    }
  }

  /** The result of task `id` that came through a worker's side port (its completion says so). */
  #portResult(id: number): unknown {
    if (!this.#portResults.has(id)) for (const s of this.#slots) if (s !== undefined) this.#receivePortResults(s.port);
    if (!this.#portResults.has(id)) {
      throw new WeftError('WEFT_WORKER_EXIT', `${this.name}: the moved result of this task was lost with the worker that sent it`);
    }
    const value = this.#portResults.get(id);
    this.#portResults.delete(id);
    return value;
  }

  #sendOnPort(id: number, args: unknown[], transfer: readonly TransferListItem[]): number {
    for (let tries = 0; tries < this.#threads; tries++) {
      const i = this.#roundRobin++ % this.#threads;
      const s = this.#slots[i];
      if (s !== undefined && !s.retiring) {
        s.port.postMessage({ id, args }, transfer as TransferListItem[]);
        return i;
      }
    }
    throw new WeftError('WEFT_CLOSED', `${this.name} has no live worker to send the task to`);
  }

  /**
   * Waits for the results of the tasks in flight once the thread is otherwise idle (a
   * setImmediate turn: the microtasks and I/O callbacks ready now run first): `#drain(true)`
   * spins for them a while in native code, bounded and adaptive, rather than sleep until the
   * event loop is woken (tens of microseconds on a virtual machine), as the actor hosts do.
   */
  #scheduleWait(): void {
    if (this.#waitScheduled || this.#submitter.pending === 0) return;
    this.#waitScheduled = true;
    setImmediate(this.#waitTurn);
  }

  readonly #waitTurn = (): void => {
    this.#waitScheduled = false;
    if (this.#submitter.pending > 0 && this.#failure === undefined) this.#drain(true);
  };

  /**
   * Settles every completion waiting for the main thread (one call per batch); with `wait`, if
   * none is there yet, waits for them a while first (see `#scheduleWait`).
   */
  #drain(wait = false): void {
    const buf = this.#native.drainMain(wait);
    if (buf === null) return; // a wait that found nothing: a wake-up announces the results
    const r = this.#reader;
    r.reset(buf);
    while (r.remaining > 0) {
      const len = r.u32();
      const end = r.offset + len;
      const id = r.u32();
      try {
        if (len === 4) this.#submitter.dropped(id);
        else this.#submitter.settleFrom(id, r);
      } catch (err) {
        // A result that cannot be decoded fails its own task, nothing else.
        this.#submitter.settle(id, false, err);
      }
      r.offset = end;
    }
    this.#scheduleWait();
  }

  /** Adds a listener (see {@link PoolEventMap}: workerCreate, workerDestroy, error, drain, needsDrain). */
  on<E extends PoolEventName>(event: E, listener: PoolEventMap[E]): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Adds a listener called once. */
  once<E extends PoolEventName>(event: E, listener: PoolEventMap[E]): this {
    this.#events.once(event, listener);
    return this;
  }

  /** Removes a listener. */
  off<E extends PoolEventName>(event: E, listener: PoolEventMap[E]): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Whether as many tasks are pending as the pool has threads (a producer may wait for `'drain'`). */
  get needsDrain(): boolean {
    return this.#events.needsDrain;
  }

  /** Tasks submitted from this thread and not settled yet (queued or running). */
  get pending(): number {
    return this.#submitter.pending;
  }

  /** Settles once no task submitted from this thread is pending (at once when none is). */
  drained(): Promise<void> {
    this.#submitter.flush();
    if (this.#submitter.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The worker threads running now. */
  get workers(): Worker[] {
    const out: Worker[] = [];
    for (const s of this.#slots) if (s !== undefined && !s.retiring) out.push(s.worker);
    return out;
  }

  /** Counters, histograms and per-worker figures. */
  stats(): PoolStats {
    const s = this.#native.stats();
    return {
      name: this.name,
      threads: s.threads,
      liveThreads: this.#live,
      duration: performance.now() - this.#created,
      queued: s.queued + this.#submitter.buffered,
      running: s.running,
      completed: s.completed,
      failed: s.failed,
      stolen: s.stolen,
      waitTime: s.wait,
      runTime: s.run,
      utilization: s.utilization,
      workers: s.workers.map((w) => ({
        index: w.index,
        threadId: this.#slots[w.index]?.worker.threadId ?? -1,
        completed: w.completed,
        failed: w.failed,
        stolen: w.stolen,
        running: w.running,
        restarts: w.restarts,
      })),
    };
  }

  /** Stops taking tasks, lets every submitted task finish, then ends the workers. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#submitter.flush();
      if (this.#submitter.pending > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
      await this.#stopWorkers();
    })();
    return this.#closing;
  }

  /** Stops at once: everything pending rejects with `WEFT_CLOSED`, the workers are terminated. */
  async destroy(): Promise<void> {
    this.#closed = true;
    const error = (): WeftError => new WeftError('WEFT_CLOSED', `${this.name} was destroyed`);
    this.#submitter.flush();
    this.#native.close();
    for (const id of this.#native.drainQueued()) this.#submitter.settle(id, false, error());
    this.#submitter.rejectAll(error);
    await this.#stopWorkers();
  }

  async #stopWorkers(): Promise<void> {
    this.#native.close();
    if (this.#exitRef !== undefined) livePools.delete(this.#exitRef);
    clearInterval(this.#keepAlive);
    await Promise.all(
      this.#slots.map((s) => {
        if (s === undefined) return undefined;
        s.retiring = true;
        return s.worker.terminate();
      }),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Inside a pool task: the pool it runs on, to run child tasks (fork-join). Child tasks go on
 * this worker's own deque, idle workers steal them, and awaiting them never blocks the worker.
 * Outside a task it throws `WEFT_INVALID_ARG`.
 */
export function currentPool<M = TaskModule>(): TaskRunner<M> {
  const ctx = getWorkerContext();
  if (ctx === undefined) {
    throw new WeftError('WEFT_INVALID_ARG', 'currentPool() is only available inside a pool task (on a pool worker thread)');
  }
  return new WorkerView<M>(ctx.submitter, ctx.threads);
}

const views = new WeakMap<Submitter, WorkerView<unknown>>();

class WorkerView<M> extends TaskRunner<M> {
  readonly #submitter: Submitter;
  readonly #threads: number;
  constructor(submitter: Submitter, threads: number) {
    super();
    this.#submitter = submitter;
    this.#threads = threads;
    const cached = views.get(submitter);
    // biome-ignore lint/correctness/noConstructorReturn: one view per submitter: a second construction returns the first
    if (cached !== undefined) return cached as WorkerView<M>;
    views.set(submitter, this as WorkerView<unknown>);
  }
  protected get submitter(): Submitter {
    return this.#submitter;
  }
  protected get threads(): number {
    return this.#threads;
  }
}
