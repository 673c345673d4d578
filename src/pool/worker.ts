/**
 * The entry script of a pool worker thread.
 *
 * It loads the task module, attaches to the native scheduler, and runs a pump: take a batch
 * (parking in native code when it has nothing in flight, waiting in its event loop when async
 * tasks are running), run each task, send the results back in one call per batch.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, WeftError } from '../errors.js';
import { isThenable } from '../internal/promise.js';
import { WireReader, WireWriter } from '../internal/wire.js';
import { setWorkerContext } from './context.js';
import { ensureTypeScriptLoader } from './module.js';
import { NativePoolClass } from './native-pool.js';
import {
  MAIN_ORIGIN,
  FLAG_FAILED,
  FLAG_LOCAL,
  KIND_ABORT,
  KIND_COMPLETION,
  KIND_SIGNAL,
  KIND_TASK,
  PROGRESS_ABORTS,
  PROGRESS_STARTED,
  STATUS_OK,
  TASK_ARGS_ON_PORT,
  TASK_MAP,
  type WorkerInit,
  abortEntry,
  now,
  unknownTaskError,
  writeError,
} from './protocol.js';
import { MAP_SPREAD, mapArityError } from './runner.js';
import { Submitter } from './submitter.js';
import { ActorHost, hostFor, hostsOfThisThread, setHostAttacher } from '../actor/host.js';
import { NativeTransport } from '../actor/transport.js';
import { native } from '../native.js';

const init = workerData as WorkerInit;
const pool = NativePoolClass.attach(init.poolId, init.token);
const progress = new Int32Array(init.progress);
const slot = init.slot;
/**
 * Park at most this long in native code before giving the event loop a turn. Parked workers are
 * also woken at once by close/destroy and when the main thread exits, so this only bounds how
 * often an idle worker wakes up (idle CPU) and how late its own timers can run.
 */
const PARK_MS = 1000;
/** Aim each batch at about this much work, so long tasks stay stealable. */
const BATCH_TARGET_MS = 0.5;

type TaskFn = (...args: unknown[]) => unknown;
let fns: Array<TaskFn | undefined> = [];
let exportNames: string[] = [];
let moduleExports: Record<string, unknown> = {};

let inFlight = 0; // async tasks started here and not yet settled
let pumping = false;
/**
 * Moving average of this worker's task run times (ms). It starts high, so the first takes are
 * one task each: until the worker has seen how long tasks take, a large batch could swallow
 * long tasks that another worker should have stolen. Tiny tasks bring it down within a few
 * dozen tasks, and batches grow to 256.
 */
let avgTaskMs = 1;
let origin = 0;
let submitter: Submitter;
let lastWork = now();
let lastYield = now();

const out = new WireWriter(64 * 1024);
let outCount = 0;
let lastFlush = 0;
const reader = new WireReader(new Uint8Array(0));
const scanner = new WireReader(new Uint8Array(0));
const giveBack = new WireWriter(1024);
/** A batch that has run this long hands its unstarted tasks back (so they can be stolen). */
const GIVE_BACK_MS = 2;
/** Completions are reported at least this often while a batch runs. */
const FLUSH_MS = 1;
/** Return to the event loop at least this often while busy (lets finalizers and timers run). */
const YIELD_MS = 5;
/**
 * Signals of running tasks that asked for one, by handout number (`seq`: unique among the tasks
 * handed to this worker incarnation, unlike a task id, which its submitter reuses).
 */
const controllers = new Map<number, AbortController>();

const label = { pool: init.poolName, module: init.module };

/** The task function of a name id, or the error for a name the module does not export. */
function fnFor(nameId: number): TaskFn | InvalidArgumentError {
  const fn = fns[nameId];
  if (fn !== undefined) return fn;
  const name = pool.nameOf(nameId) ?? `#${nameId}`;
  const value = moduleExports[name];
  if (typeof value !== 'function') return unknownTaskError(label, name, exportNames);
  fns[nameId] = value as TaskFn;
  return value as TaskFn;
}

function writeCompletion(taskOrigin: number, id: number, ok: boolean, value: unknown, runMs: number, local: boolean): void {
  const at = out.beginRecord();
  out.u32(taskOrigin);
  out.u32(id);
  const flagAt = out.length;
  out.u8((ok ? 0 : FLAG_FAILED) | (local ? FLAG_LOCAL : 0));
  out.f32(runMs);
  if (ok) {
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
  outCount++;
}

function flushCompletions(): void {
  lastFlush = now();
  if (outCount === 0) return;
  outCount = 0;
  pool.complete(slot, out.view());
  out.reset();
}

/** Handout numbers of aborted main-thread tasks not started yet (see `abortedBeforeStart`). */
const abortedSeqs = new Set<number>();
let abortsSeen = 0;

/** Whether handout number `a` comes before `b` (they wrap at 32 bits). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * The main thread writes the handout numbers of aborted tasks that were handed to this worker
 * into a ring in `progress` (its layout: protocol.ts), so a task waiting in the
 * current batch is skipped without a round trip to the scheduler. Tasks start in handout order,
 * so an entry before `seq` is for a task that started (or was handed back) already: dropped.
 */
function abortedBeforeStart(seq: number): boolean {
  const written = Atomics.load(progress, PROGRESS_ABORTS);
  while (abortsSeen !== written) {
    const entry = progress[abortEntry(abortsSeen)]!;
    if (!before(entry, seq | 0)) abortedSeqs.add(entry);
    abortsSeen = (abortsSeen + 1) | 0;
  }
  if (abortedSeqs.size === 0) return false;
  const hit = abortedSeqs.delete(seq | 0);
  for (const entry of abortedSeqs) if (before(entry, seq | 0)) abortedSeqs.delete(entry);
  return hit;
}

/** Runs the task at the reader's position. */
function runTask(r: WireReader, end: number): void {
  const taskOrigin = r.u32();
  const id = r.u32();
  const seq = r.u32();
  const nameId = r.u16();
  const flags = r.u8();
  // Tasks numbered below this have been started: what a crash fails rather than re-runs.
  progress[PROGRESS_STARTED] = seq + 1;
  if (taskOrigin === MAIN_ORIGIN && abortedBeforeStart(seq)) {
    r.offset = end;
    finish(taskOrigin, id, false, new WeftError('WEFT_ABORTED', 'task aborted'), 0, false);
    return;
  }
  const local = taskOrigin === origin;
  let args: unknown[];
  try {
    if (flags & TASK_ARGS_ON_PORT) {
      args = portArgs(id);
    } else {
      args = r.values();
    }
  } catch (err) {
    r.offset = end;
    finish(taskOrigin, id, false, err, 0, local);
    return;
  }
  r.offset = end;
  const fn = fnFor(nameId);
  if (fn instanceof InvalidArgumentError) {
    finish(taskOrigin, id, false, fn, 0, local);
    return;
  }
  const key = seq;
  currentKey = key;
  const t0 = now();
  let result: unknown;
  try {
    result = flags & TASK_MAP ? runMap(fn, args[0], args[1] === MAP_SPREAD) : fn(...args);
  } catch (err) {
    currentKey = undefined;
    controllers.delete(key);
    finish(taskOrigin, id, false, err, now() - t0, local);
    return;
  }
  currentKey = undefined;
  if (isThenable(result)) {
    learn(nameId, now() - t0);
    inFlight++;
    result.then(
      (v) => settleAsync(taskOrigin, id, key, true, v, t0, local),
      (e: unknown) => settleAsync(taskOrigin, id, key, false, e, t0, local),
    );
    return;
  }
  const ms = now() - t0;
  avgTaskMs = avgTaskMs * 0.7 + ms * 0.3;
  learn(nameId, ms);
  finish(taskOrigin, id, true, result, ms, local);
  controllers.delete(key);
}

function settleAsync(taskOrigin: number, id: number, key: number, ok: boolean, value: unknown, t0: number, local: boolean): void {
  inFlight--;
  controllers.delete(key);
  finish(taskOrigin, id, ok, value, now() - t0, local);
  schedulePump();
}

/** Reports a task's outcome; a task this worker spawned itself is settled here directly. */
function finish(taskOrigin: number, id: number, ok: boolean, value: unknown, ms: number, local: boolean): void {
  if (local) submitter.settle(id, ok, value);
  writeCompletion(taskOrigin, id, ok, value, ms, local);
}

function runMap(fn: TaskFn, items: unknown, spread: boolean): unknown {
  const arity = mapArityError(fn, spread);
  if (arity !== undefined) throw arity;
  const list = items as ArrayLike<unknown>;
  const n = list.length;
  const results: unknown[] = new Array(n);
  let numeric = true;
  let async = false;
  for (let i = 0; i < n; i++) {
    const v = spread ? fn(...(list[i] as unknown[])) : fn(list[i]);
    results[i] = v;
    if (typeof v !== 'number') {
      numeric = false;
      if (isThenable(v)) async = true;
    }
  }
  if (async) return Promise.all(results);
  return numeric ? Float64Array.from(results as number[]) : results;
}

/** The handout number of the task whose synchronous part is running now. */
let currentKey: number | undefined;

/** Arguments that came with a transfer list through this worker's side port, by task id. */
const portInbox = new Map<number, unknown[]>();
function portArgs(id: number): unknown[] {
  for (let m; (m = receiveMessageOnPort(init.port)); ) {
    const msg = m.message as { id: number; args: unknown[] };
    portInbox.set(msg.id, msg.args);
  }
  const args = portInbox.get(id);
  if (args === undefined) {
    throw new WeftError('WEFT_WORKER_EXIT', 'the transferred arguments of this task were lost with the worker they were sent to');
  }
  portInbox.delete(id);
  return args;
}

/** The abort signal of the task running now (see `taskSignal`). */
export function currentSignal(): AbortSignal | undefined {
  const key = currentKey;
  if (key === undefined) return undefined;
  let c = controllers.get(key);
  if (c === undefined) {
    c = new AbortController();
    controllers.set(key, c);
  }
  return c.signal;
}

/**
 * Expected run time of each task name (ms, a moving average; -1: never run here). A task that is
 * new or known to be slow is run only after the batch's finished results are reported and its
 * unstarted tasks are handed back (stealable), so a long task never holds up short ones.
 */
let expectedMs = new Float64Array(16).fill(-1);

function expectedFor(nameId: number): number {
  return nameId < expectedMs.length ? expectedMs[nameId]! : -1;
}

function learn(nameId: number, ms: number): void {
  if (nameId >= expectedMs.length) {
    const grown = new Float64Array(Math.max(nameId + 1, expectedMs.length * 2)).fill(-1);
    grown.set(expectedMs);
    expectedMs = grown;
  }
  const prev = expectedMs[nameId]!;
  expectedMs[nameId] = prev < 0 ? ms : prev * 0.7 + ms * 0.3;
}

/** Hands back every task record after `from` in the batch; returns how many. */
function giveBackRest(buf: Uint8Array, from: number): number {
  const scan = scanner;
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
    pool.giveBack(slot, giveBack.view());
    giveBack.reset();
  }
  return n;
}

function handleBatch(buf: Buffer): void {
  const r = reader;
  r.reset(buf);
  const start = now();
  let handedBack = false;
  while (r.remaining > 0) {
    const kind = r.u8();
    const len = r.u32();
    const end = r.offset + len;
    if (kind === KIND_TASK) {
      if (!handedBack) {
        // origin u32, id u32, seq u32, then the name id.
        const expected = expectedFor(r.peekU16(12));
        if (expected < 0 || expected > FLUSH_MS) {
          if (expected < 0 || expected > GIVE_BACK_MS) handedBack = giveBackRest(buf, end) > 0;
          flushCompletions();
        }
        runTask(r, end);
        if (!handedBack && now() - start > GIVE_BACK_MS) handedBack = giveBackRest(buf, end) > 0;
        // Long batches report what is done so far instead of holding it to the end.
        if (outCount > 0 && now() - lastFlush > FLUSH_MS) flushCompletions();
      }
    } else if (kind === KIND_COMPLETION) {
      const id = r.u32();
      if (len === 4) submitter.dropped(id);
      else submitter.settleFrom(id, r);
    } else if (kind === KIND_SIGNAL) {
      // Messages for actors on this worker.
      const system = r.u32();
      const token = r.u32();
      try {
        hostFor(system, token).pump();
      } catch (err) {
        process.emitWarning(`weft: actor messages for system ${system} could not be handled: ${String(err)}`);
      }
    } else if (kind === KIND_ABORT) {
      // origin u32, id u32, seq u32. The task was handed to this worker before this take, so it
      // has started (or was handed back): only a signal it asked for can still see the abort
      // (taskSignal() works only before the task's first await).
      r.offset += 8;
      controllers.get(r.u32())?.abort(new WeftError('WEFT_ABORTED', 'task aborted'));
    }
    r.offset = end;
  }
}

/**
 * Actors here need the event loop (timers pending, a pump turn scheduled): wait there instead of
 * parking in native code, which would hold those back.
 */
function actorsNeedLoop(): boolean {
  for (const h of hostsOfThisThread()) if (h.moreWork || h.hasTimers) return true;
  return false;
}

/** Async actor handlers (or hooks) are pending here. */
function actorsBusy(): boolean {
  for (const h of hostsOfThisThread()) if (h.busy > 0) return true;
  return false;
}

/** How long a worker whose actors await something parks before it turns its event loop. */
const ACTOR_BUSY_PARK_MS = 1;

function hasActors(): boolean {
  for (const h of hostsOfThisThread()) if (h.actorCount > 0) return true;
  return false;
}

setHostAttacher(
  (system, token) =>
    new ActorHost({
      system,
      process: token,
      transport: new NativeTransport(native.NativeActorSystem.attach(system, token), 1 + slot),
      native: native.NativeActorSystem.attach(system, token),
      workers: init.threads,
    }),
);

function batchSize(): number {
  return Math.max(1, Math.min(256, Math.floor(BATCH_TARGET_MS / Math.max(avgTaskMs, 1e-4))));
}

let pumpScheduled = false;
function schedulePump(): void {
  if (pumping || pumpScheduled) return;
  pumpScheduled = true;
  queueMicrotask(() => {
    pumpScheduled = false;
    void pump();
  });
}

async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    for (;;) {
      submitter.flush();
      flushCompletions();
      // Actor messages written by continuations that ran since the last batch go out first.
      for (const h of hostsOfThisThread()) h.settle();
      const park = inFlight === 0 && submitter.pending === 0 && !actorsNeedLoop();
      // An actor's async handler may wait for another actor (its reply comes through take,
      // fastest when parked here, after the spin) or for timers and I/O (which need the event
      // loop): park, but only briefly, then give the loop a turn.
      const buf = pool.take(slot, batchSize(), park ? (actorsBusy() ? ACTOR_BUSY_PARK_MS : PARK_MS) : -1);
      if (buf === null) {
        // Parked long enough (give the event loop a turn) or registered for a wake-up.
        if (park) {
          lastYield = now();
          if (init.idleTimeout > 0 && now() - lastWork >= init.idleTimeout && !hasActors()) {
            // Idle for long enough: leave. The pool starts a worker again when work comes.
            parentPort?.postMessage({ type: 'idle' });
            return;
          }
          setImmediate(schedulePump);
        }
        return;
      }
      lastWork = now();
      if (buf.length === 0) {
        // Closed and drained.
        flushCompletions();
        parentPort?.postMessage({ type: 'closed' });
        return;
      }
      handleBatch(buf);
      if (now() - lastYield > YIELD_MS) {
        // A full turn of the event loop now and then while busy: timers, I/O callbacks and
        // finalizers run only there. Report the results first, so the turn delays no caller.
        lastYield = now();
        submitter.flush();
        flushCompletions();
        setImmediate(schedulePump);
        return;
      }
      // Let async continuations (awaits on child tasks, resolved promises) run before the next batch.
      await undefined;
    }
  } finally {
    pumping = false;
  }
}

async function start(): Promise<void> {
  try {
    const url = init.module.startsWith('file:') ? init.module : pathToFileURL(init.module).href;
    await ensureTypeScriptLoader({ url, tsx: init.tsx, probe: init.tsxProbe });
    const mod = (await import(url)) as Record<string, unknown>;
    // A CommonJS module imported as ESM exposes module.exports as `default` too.
    const cjs = mod.default;
    moduleExports =
      cjs !== null && typeof cjs === 'object' && !('__esModule' in mod && Object.keys(mod).length > 1)
        ? { ...(cjs as Record<string, unknown>), ...mod }
        : { ...mod };
    exportNames = Object.keys(moduleExports).filter((k) => typeof moduleExports[k] === 'function');
  } catch (err) {
    parentPort?.postMessage({
      type: 'fatal',
      message: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
      code: err instanceof Error && typeof (err as Error & { code?: unknown }).code === 'string' ? (err as Error & { code: string }).code : undefined,
    });
    return;
  }
  pool.setExports(exportNames);
  origin = pool.attachWorker(slot, () => schedulePump());
  // Results already computed must not be lost if the worker is ended by process.exit() in a
  // task or by an uncaught error: report them on the way out.
  process.on('exit', () => {
    try {
      flushCompletions();
    } catch {
      // The scheduler is gone (pool destroyed): nothing to report to.
    }
  });
  submitter = new Submitter(pool, origin, { label });
  setWorkerContext({ submitter, threads: init.threads, signal: currentSignal });
  fns = [];
  parentPort?.on('message', (msg: { type: string }) => {
    if (msg.type === 'wake') schedulePump();
  });
  parentPort?.postMessage({ type: 'ready', exports: exportNames });
  void pump();
}

void start();
