/**
 * `WorkerLoop`: the runtime of one pool worker thread.
 *
 * It loads the task module, attaches to the native scheduler, and runs a pump: take a batch
 * (parking in native code when it has nothing in flight, waiting in its event loop when async
 * tasks are running), run each task, send the results back in one call per batch. What else lives
 * on the worker (the actor hosts) plugs in as a `WorkerExtension`; the loop imports none of it.
 */
import { parentPort } from 'node:worker_threads';
import { InvalidArgumentError } from '../../errors.js';
import { isThenable } from '../../internal/promise.js';
import { WireReader, WireWriter } from '../../internal/wire.js';
import { setWorkerContext } from '../context.js';
import type { WorkerExtension } from '../extension.js';
import { type NativePool, NativePoolClass } from '../native-pool.js';
import {
  FLAG_FAILED,
  FLAG_LOCAL,
  KIND_ABORT,
  KIND_COMPLETION,
  KIND_SIGNAL,
  KIND_TASK,
  MAIN_ORIGIN,
  PROGRESS_STARTED,
  STATUS_OK,
  STATUS_ON_PORT,
  TASK_ARGS_ON_PORT,
  TASK_MAP,
  type TaskModuleLabel,
  type WorkerInit,
  now,
  writeError,
  TASK_PAYLOAD_AT,
  TAKE_CAPPED,
} from '../protocol.js';
import { isMoved, movedParts, unwrapMoved } from '../move.js';
import { MAP_SPREAD } from '../runner.js';
import { Submitter } from '../submitter.js';
import { TaskAborts, abortedError } from './aborts.js';
import { FLUSH_MS, GIVE_BACK_MS, Pacing } from './pacing.js';
import { PortInbox, TaskTable, loadTaskModule, runMap } from './tasks.js';

/**
 * Park at most this long in native code before giving the event loop a turn. Parked workers are
 * also woken at once by close/destroy and when the main thread exits, so this only bounds how
 * often an idle worker wakes up (idle CPU) and how late its own timers can run.
 */
const PARK_MS = 1000;
/** How long a worker whose extensions are busy (actors awaiting something) parks before it turns its event loop. */
const BUSY_PARK_MS = 1;
/** Return to the event loop at least this often while busy (lets finalizers and timers run). */
const YIELD_MS = 5;

export class WorkerLoop {
  readonly #init: WorkerInit;
  readonly #extensions: readonly WorkerExtension[];
  readonly #pool: NativePool;
  readonly #slot: number;
  /** Shared with the main thread: see the progress layout in ../protocol.ts. */
  readonly #progress: Int32Array;
  readonly #label: TaskModuleLabel;
  readonly #aborts: TaskAborts;
  readonly #pacing = new Pacing();
  readonly #ports: PortInbox;
  /** Set once the task module is loaded (start). */
  #tasks: TaskTable | undefined;
  #submitter: Submitter | undefined;
  /** This incarnation's origin: tasks it submitted itself (fork-join) carry it. */
  #origin = 0;

  /** Async tasks started here and not yet settled. */
  #inFlight = 0;
  /** Those of them that came from the queue (the main thread's): what `concurrentTasksPerWorker` caps. */
  #queuedInFlight = 0;
  /** Whether the last task from the queue was async: then takes ask for no more than the cap leaves. */
  #lastQueuedAsync = false;
  #pumping = false;
  #pumpScheduled = false;
  #lastWork = now();
  #lastYield = now();

  /** Completions of this batch, reported in one call. */
  readonly #out = new WireWriter(64 * 1024);
  #outCount = 0;
  #lastFlush = 0;
  readonly #reader = new WireReader(new Uint8Array(0));
  readonly #scanner = new WireReader(new Uint8Array(0));
  readonly #giveBack = new WireWriter(1024);

  readonly #schedule = (): void => this.#schedulePump();
  readonly #scheduledPump = (): void => {
    this.#pumpScheduled = false;
    void this.#pump();
  };

  /** Attaches to the pool's native scheduler; `start` loads the module and begins taking tasks. */
  constructor(init: WorkerInit, extensions: readonly WorkerExtension[] = []) {
    this.#init = init;
    this.#extensions = extensions;
    this.#pool = NativePoolClass.attach(init.poolId, init.token);
    this.#slot = init.slot;
    this.#progress = new Int32Array(init.progress);
    this.#label = { pool: init.poolName, module: init.module };
    this.#aborts = new TaskAborts(this.#progress);
    this.#ports = new PortInbox(init.port);
  }

  /**
   * Loads the task module, then tells the main thread `ready` (or `fatal`) and starts pumping.
   * Settles once the worker is running; the loop goes on in the event loop.
   */
  async start(): Promise<void> {
    const init = this.#init;
    let tasks: TaskTable;
    let names: string[];
    try {
      const module = await loadTaskModule(init);
      names = module.names;
      tasks = new TaskTable(this.#pool, this.#label, module);
    } catch (err) {
      parentPort?.postMessage({
        type: 'fatal',
        message: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
        code:
          err instanceof Error && typeof (err as Error & { code?: unknown }).code === 'string'
            ? (err as Error & { code: string }).code
            : undefined,
      });
      return;
    }
    this.#tasks = tasks;
    this.#pool.setExports(tasks.registered);
    this.#origin = this.#pool.attachWorker(this.#slot, this.#schedule);
    // Results already computed must not be lost if the worker is ended by process.exit() in a
    // task or by an uncaught error: report them on the way out.
    process.on('exit', () => {
      try {
        this.#flushCompletions();
      } catch {
        // The scheduler is gone (pool destroyed): nothing to report to.
      }
    });
    const submitter = new Submitter(this.#pool, this.#origin, { label: this.#label });
    this.#submitter = submitter;
    setWorkerContext({ submitter, threads: init.threads, signal: () => this.#aborts.signal() });
    parentPort?.on('message', (msg: { type: string }) => {
      if (msg.type === 'wake') this.#schedulePump();
    });
    parentPort?.postMessage({ type: 'ready', exports: names });
    void this.#pump();
  }

  // -------------------------------------------------------------------------------------------
  // Completions

  #writeCompletion(taskOrigin: number, id: number, ok: boolean, value: unknown, runMs: number, local: boolean): void {
    const out = this.#out;
    const at = out.beginRecord();
    out.u32(taskOrigin);
    out.u32(id);
    const flagAt = out.length;
    out.u8((ok ? 0 : FLAG_FAILED) | (local ? FLAG_LOCAL : 0));
    out.f32(runMs);
    if (ok && taskOrigin === MAIN_ORIGIN && isMoved(value)) {
      // return move(x): x goes through the side port, transferred; the record says so.
      const moved = movedParts(value);
      try {
        this.#init.port.postMessage({ id, value: moved.value }, [moved.transfer]);
        out.u8(STATUS_ON_PORT);
      } catch (err) {
        out.rollback(flagAt);
        out.u8(FLAG_FAILED);
        out.f32(runMs);
        writeError(out, err);
      }
    } else if (ok) {
      out.u8(STATUS_OK);
      try {
        out.value(value);
      } catch (err) {
        // The result cannot be cloned: report that instead, as a failure.
        out.rollback(flagAt);
        out.u8(FLAG_FAILED | (local ? FLAG_LOCAL : 0));
        out.f32(runMs);
        writeError(out, err);
      }
    } else {
      writeError(out, value);
    }
    out.endRecord(at);
    this.#outCount++;
  }

  #flushCompletions(): void {
    this.#lastFlush = now();
    if (this.#outCount === 0) return;
    this.#outCount = 0;
    this.#pool.complete(this.#slot, this.#out.view());
    this.#out.reset();
  }

  /** Reports a task's outcome; a task this worker spawned itself is settled here directly. */
  #finish(taskOrigin: number, id: number, ok: boolean, value: unknown, ms: number, local: boolean): void {
    if (local) this.#submitter!.settle(id, ok, ok ? unwrapMoved(value) : value);
    this.#writeCompletion(taskOrigin, id, ok, value, ms, local);
  }

  // -------------------------------------------------------------------------------------------
  // Running tasks

  /** Runs the task at the reader's position. */
  #runTask(r: WireReader, end: number): void {
    const taskOrigin = r.u32();
    const id = r.u32();
    const seq = r.u32();
    const nameId = r.u16();
    const flags = r.u8();
    // Tasks numbered below this have been started: what a crash fails rather than re-runs.
    this.#progress[PROGRESS_STARTED] = seq + 1;
    const aborts = this.#aborts;
    if (taskOrigin === MAIN_ORIGIN && aborts.abortedBeforeStart(seq)) {
      r.offset = end;
      this.#finish(taskOrigin, id, false, abortedError(), 0, false);
      return;
    }
    const local = taskOrigin === this.#origin;
    let args: unknown[];
    try {
      if (flags & TASK_ARGS_ON_PORT) {
        args = this.#ports.take(id);
      } else {
        args = r.values();
      }
    } catch (err) {
      r.offset = end;
      this.#finish(taskOrigin, id, false, err, 0, local);
      return;
    }
    r.offset = end;
    const fn = this.#tasks!.fnFor(nameId);
    if (fn instanceof InvalidArgumentError) {
      this.#finish(taskOrigin, id, false, fn, 0, local);
      return;
    }
    const key = seq;
    aborts.current = key;
    const t0 = now();
    let result: unknown;
    try {
      result = flags & TASK_MAP ? runMap(fn, args[0], args[1] === MAP_SPREAD) : fn(...args);
    } catch (err) {
      aborts.current = undefined;
      aborts.done(key);
      this.#finish(taskOrigin, id, false, err, now() - t0, local);
      return;
    }
    aborts.current = undefined;
    if (taskOrigin === MAIN_ORIGIN) this.#lastQueuedAsync = isThenable(result);
    if (isThenable(result)) {
      this.#pacing.learn(nameId, now() - t0);
      this.#inFlight++;
      if (taskOrigin === MAIN_ORIGIN) this.#queuedInFlight++;
      result.then(
        (v) => this.#settleAsync(taskOrigin, id, key, true, v, t0, local),
        (e: unknown) => this.#settleAsync(taskOrigin, id, key, false, e, t0, local),
      );
      return;
    }
    const ms = now() - t0;
    this.#pacing.ran(nameId, ms);
    this.#finish(taskOrigin, id, true, result, ms, local);
    aborts.done(key);
  }

  #settleAsync(taskOrigin: number, id: number, key: number, ok: boolean, value: unknown, t0: number, local: boolean): void {
    this.#inFlight--;
    if (taskOrigin === MAIN_ORIGIN) this.#queuedInFlight--;
    this.#aborts.done(key);
    this.#finish(taskOrigin, id, ok, value, now() - t0, local);
    this.#schedulePump();
  }

  /** Hands back every task record after `from` in the batch; returns how many. */
  #giveBackRest(buf: Uint8Array, from: number): number {
    const scan = this.#scanner;
    const giveBack = this.#giveBack;
    scan.reset(buf);
    scan.offset = from;
    let n = 0;
    while (scan.remaining > 0) {
      const kind = scan.u8();
      const len = scan.u32();
      const end = scan.offset + len;
      if (kind === KIND_TASK) {
        giveBack.u32(scan.u32());
        giveBack.u32(scan.u32());
        n++;
      }
      scan.offset = end;
    }
    if (n > 0) {
      this.#pool.giveBack(this.#slot, giveBack.view());
      giveBack.reset();
    }
    return n;
  }

  #handleBatch(buf: Buffer): void {
    const r = this.#reader;
    const pacing = this.#pacing;
    r.reset(buf);
    const start = now();
    let handedBack = false;
    while (r.remaining > 0) {
      const kind = r.u8();
      const len = r.u32();
      const end = r.offset + len;
      if (kind === KIND_TASK) {
        if (!handedBack) {
          // origin u32, id u32, seq u32, then the payload, which opens with the name id.
          const expected = pacing.expected(r.peekU16(TASK_PAYLOAD_AT));
          if (expected < 0 || expected > FLUSH_MS) {
            if (expected < 0 || expected > GIVE_BACK_MS) handedBack = this.#giveBackRest(buf, end) > 0;
            this.#flushCompletions();
          }
          this.#runTask(r, end);
          // At the cap (concurrentTasksPerWorker), or the batch has run long: the rest goes back
          // to be stolen (what this worker's own tasks forked, it takes again while capped).
          if (this.#queuedInFlight >= this.#init.concurrency || now() - start > GIVE_BACK_MS) {
            handedBack = this.#giveBackRest(buf, end) > 0;
          }
          // Long batches report what is done so far instead of holding it to the end.
          if (this.#outCount > 0 && now() - this.#lastFlush > FLUSH_MS) this.#flushCompletions();
        }
      } else if (kind === KIND_COMPLETION) {
        const id = r.u32();
        if (len === 4) this.#submitter!.dropped(id);
        else this.#submitter!.settleFrom(id, r);
      } else if (kind === KIND_SIGNAL) {
        this.#signal(r.u32(), r.u32());
      } else if (kind === KIND_ABORT) {
        // origin u32, id u32, seq u32. The task was handed to this worker before this take, so it
        // has started (or was handed back): only a signal it asked for can still see the abort
        // (taskSignal() works only before the task's first await).
        r.offset += 8;
        this.#aborts.abort(r.u32());
      }
      r.offset = end;
    }
  }

  /** A wake-up for something living on this worker: the first extension that owns it takes it. */
  #signal(a: number, b: number): void {
    try {
      for (const e of this.#extensions) if (e.onSignal(a, b)) return;
      process.emitWarning(`weft: a pool signal (${a}, ${b}) that no worker extension takes`);
    } catch (err) {
      process.emitWarning(`weft: a worker extension failed on signal (${a}, ${b}): ${String(err)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // What the extensions need before the worker parks

  #wantsEventLoop(): boolean {
    for (const e of this.#extensions) if (e.wantsEventLoop()) return true;
    return false;
  }

  #extensionsBusy(): boolean {
    for (const e of this.#extensions) if (e.busy()) return true;
    return false;
  }

  #keptByExtension(): boolean {
    for (const e of this.#extensions) if (e.keepsWorker()) return true;
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // The pump

  #schedulePump(): void {
    if (this.#pumping || this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(this.#scheduledPump);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    const pool = this.#pool;
    const submitter = this.#submitter!;
    const init = this.#init;
    try {
      for (;;) {
        submitter.flush();
        this.#flushCompletions();
        // What extensions' continuations wrote since the last batch (actor messages) goes out first.
        for (const e of this.#extensions) e.beforeTake();
        const park = this.#inFlight === 0 && submitter.pending === 0 && !this.#wantsEventLoop();
        // At the cap, take only what running tasks forked (and be woken for mail only).
        const room = init.concurrency - this.#queuedInFlight;
        const batch = this.#lastQueuedAsync ? Math.max(1, Math.min(room, this.#pacing.batchSize())) : this.#pacing.batchSize();
        // Async work of an extension may wait for another worker (its answer comes through take,
        // fastest when parked here, after the spin) or for timers and I/O (which need the event
        // loop): park, but only briefly, then give the loop a turn.
        const wait = park ? (this.#extensionsBusy() ? BUSY_PARK_MS : PARK_MS) : room <= 0 ? TAKE_CAPPED : -1;
        const buf = pool.take(this.#slot, batch, wait);
        if (buf === null) {
          // Parked long enough (give the event loop a turn) or registered for a wake-up.
          if (park) {
            this.#lastYield = now();
            if (init.idleTimeout > 0 && now() - this.#lastWork >= init.idleTimeout && !this.#keptByExtension()) {
              // Idle for long enough: leave. The pool starts a worker again when work comes.
              parentPort?.postMessage({ type: 'idle' });
              return;
            }
            setImmediate(this.#schedule);
          }
          return;
        }
        this.#lastWork = now();
        if (buf.length === 0) {
          // Closed and drained.
          this.#flushCompletions();
          parentPort?.postMessage({ type: 'closed' });
          return;
        }
        this.#handleBatch(buf);
        if (now() - this.#lastYield > YIELD_MS) {
          // A full turn of the event loop now and then while busy: timers, I/O callbacks and
          // finalizers run only there. Report the results first, so the turn delays no caller.
          this.#lastYield = now();
          submitter.flush();
          this.#flushCompletions();
          setImmediate(this.#schedule);
          return;
        }
        // Let async continuations (awaits on child tasks, resolved promises) run before the next batch.
        await undefined;
      }
    } finally {
      this.#pumping = false;
    }
  }
}
