/**
 * Constants and small helpers shared by the main thread and the pool's workers. The record
 * layouts are documented in crate/core/src/pool/frame.rs; payloads use the wire codec (src/internal/wire/).
 *
 *   task payload:   u16 name id | u8 flags | values (the arguments)
 *   result payload: u8 status   | value
 *
 * Also what the main thread hands a worker it starts (`WorkerInit`), and the layout of the
 * progress words the two share.
 */
import type { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError, WeftError } from '../errors.js';
import { nearestName } from '../internal/options.js';
import type { WireReader, WireWriter } from '../internal/wire.js';
import { native } from '../native.js';

// The numbers weft-core reads too come from it (crate/binding/src/constants.rs); the others
// (task flags, result status, the progress layout) only TypeScript reads, on both threads.

export const MAIN_ORIGIN = native.POOL_MAIN_ORIGIN;

export const KIND_TASK = native.POOL_KIND_TASK;
/** `take`'s wait for a worker at its `concurrentTasksPerWorker` cap: forked tasks and mail only. */
export const TAKE_CAPPED = native.POOL_TAKE_CAPPED;
export const KIND_COMPLETION = native.POOL_KIND_COMPLETION;
export const KIND_ABORT = native.POOL_KIND_ABORT;
/** A wake-up for a worker extension (the actor hosts): u32 system id, u32 process token. */
export const KIND_SIGNAL = native.POOL_KIND_SIGNAL;

/** Where a task take record's payload (its u16 name id first) starts in the record's body. */
export const TASK_PAYLOAD_AT = native.POOL_TASK_PAYLOAD_AT;

export const FLAG_FAILED = native.POOL_FLAG_FAILED;
export const FLAG_LOCAL = native.POOL_FLAG_LOCAL;

/** Task flags (TypeScript only: in the task payload, which weft-core does not read). */
export const TASK_ARGS_ON_PORT = 1; // arguments travel through the worker's side port (transfer)
export const TASK_MAP = 2; // a map chunk: args = [items]; the task runs once per item

export const STATUS_OK = 0;
export const STATUS_ERROR = 1;
/** The result went through the worker's side port, with a transfer list (`move()`). */
export const STATUS_ON_PORT = 2;

/** What `Pool` passes to each worker thread it starts (its `workerData`). */
export interface WorkerInit {
  poolId: number;
  token: number;
  slot: number;
  /** The file URL of the task module. */
  module: string;
  /** For a TypeScript module in a process that runs tsx: tsx's `esm/api` entry (see module.ts). */
  tsx?: string;
  /** The `.js` URL that only a TypeScript resolver maps to `module` (see module.ts). */
  tsxProbe?: string;
  poolName: string;
  threads: number;
  /** Exit after this many idle milliseconds (0: never). */
  idleTimeout: number;
  /** Async tasks from the queue it runs at once (`concurrentTasksPerWorker`); forked tasks are not counted against it. */
  concurrency: number;
  /** The progress words (`newProgress`), shared with the main thread. */
  progress: SharedArrayBuffer;
  /** The worker's side of the port that carries arguments with a transfer list (and `move()` results back). */
  port: MessagePort;
  /** Marks weft's own `workerData` (see `isWorkerThread` in context.ts). */
  kind: typeof WORKER_INIT_KIND;
  /** The pool's `workerData` option (what `workerData` from weftjs gives in the worker). */
  userData: unknown;
}

/** The `kind` of a pool worker's `workerData`. */
export const WORKER_INIT_KIND = 'weft:pool-worker';

/*
 * Progress words: an Int32Array over a SharedArrayBuffer, one per worker incarnation.
 *
 *   [PROGRESS_STARTED]  written by the worker: 1 + the handout number (seq) of the last task it
 *                       started; what a crash fails rather than re-runs.
 *   [PROGRESS_ABORTS]   written by the main thread: how many aborts it wrote to the ring.
 *   [PROGRESS_RING ..]  ABORT_RING entries: the handout numbers of aborted tasks handed to this
 *                       worker, entry n at `abortEntry(n)`.
 *
 * The main thread stores the entry, then the count (Atomics.store); the worker loads the count
 * (Atomics.load), then the entries before it. A worker more than ABORT_RING entries behind misses
 * the oldest: those tasks are not skipped (their callers' promises have rejected already).
 */
export const PROGRESS_STARTED = 0;
export const PROGRESS_ABORTS = 1;
export const PROGRESS_RING = 2;
/** Entries in the abort ring (a power of two). */
export const ABORT_RING = 64;

/** The index of abort number `n` in the progress words (n counts at 32 bits and wraps). */
export function abortEntry(n: number): number {
  return PROGRESS_RING + (n & (ABORT_RING - 1));
}

/** Fresh progress words for a worker incarnation (all zero). */
export function newProgress(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * (PROGRESS_RING + ABORT_RING));
}

/** Main thread: tells a worker that the task it was handed as `seq` was aborted. */
export function writeAbort(progress: Int32Array, seq: number): void {
  const n = Atomics.load(progress, PROGRESS_ABORTS);
  progress[abortEntry(n)] = seq;
  Atomics.store(progress, PROGRESS_ABORTS, (n + 1) | 0);
}

/** The id of a task name (ids start at 0 and are given per pool, below 2^16). */
export type NameId = number;

/** Where a task name was looked up, for error messages: the pool's name and its module's URL. */
export interface TaskModuleLabel {
  pool: string;
  module: string;
}

/** At most this many exports are listed in an unknown-task message. */
const LISTED_EXPORTS = 40;

/** `WEFT_INVALID_ARG` for a task name the module does not export, with the nearest one. */
/**
 * The reserved task name of a call into another module (`runWith({ module })`): its arguments are
 * the module's file URL, tsx's entry and the TypeScript probe (see module.ts; `null` when not
 * needed), the task name, then the call's own. Every worker registers it with its exports.
 */
export const MODULE_CALL = '\0weft:module-call';

/** The task module's exports as the user knows them (without {@link MODULE_CALL}). */
export function userExports(exports: readonly string[]): string[] {
  return exports.filter((n) => n !== MODULE_CALL);
}

export function unknownTaskError(label: TaskModuleLabel, name: string, given: readonly string[]): InvalidArgumentError {
  const exports = userExports(given);
  const near = nearestName(name, exports);
  const listed =
    exports.length === 0
      ? '(none)'
      : exports.length > LISTED_EXPORTS
        ? `${exports.slice(0, LISTED_EXPORTS).join(', ')} and ${exports.length - LISTED_EXPORTS} more`
        : exports.join(', ');
  return new InvalidArgumentError(
    `${label.pool}: the task module has no export named ${JSON.stringify(name)}` +
      `${near !== undefined ? ` (did you mean ${JSON.stringify(near)}?)` : ''} ` +
      `(${label.module}); its function exports are: ${listed}`,
  );
}

/** `WEFT_INVALID_ARG` for a name refused because too many came before the module was known. */
export function tooManyTaskNamesError(label: TaskModuleLabel, name: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${label.pool}: task ${JSON.stringify(name)} refused: too many distinct task names were used before a worker ` +
      `loaded the task module (${label.module}), so they could not be checked against its exports`,
  );
}

/** Why a worker thread ended, for WEFT_WORKER_EXIT messages. */
export function workerExitError(poolName: string, slot: number, detail: string): WeftError {
  return new WeftError('WEFT_WORKER_EXIT', `${poolName}: worker ${slot} exited while running this task (${detail})`);
}

/** Writes a failed result (status + error value); falls back to a plain error if unclonable. */
export function writeError(w: WireWriter, err: unknown): void {
  w.u8(STATUS_ERROR);
  try {
    w.value(err);
  } catch {
    const e = new Error(err instanceof Error ? err.message : String(err));
    if (err instanceof Error) {
      e.name = err.name;
      if (err.stack !== undefined) e.stack = err.stack;
    }
    w.value(e);
  }
}

/**
 * Reads a result: returns [ok, value]. A result sent through the side port (STATUS_ON_PORT) is
 * asked of `fromPort`, which throws if it was lost.
 */
export function readResult(r: WireReader, id: number, fromPort?: (id: number) => unknown): [boolean, unknown] {
  const status = r.u8();
  if (status === STATUS_ON_PORT) {
    if (fromPort === undefined) throw new WeftError('WEFT_WORKER_EXIT', 'a result sent through a side port reached a thread without one');
    return [true, fromPort(id)];
  }
  return [status === STATUS_OK, r.value()];
}

/** Milliseconds since an arbitrary origin, as a cheap clock for run times. */
export const now: () => number = () => performance.now();
