/**
 * Submits tasks to the native scheduler in batches and settles their promises when results come
 * back. Both the main thread (its `Pool`) and each worker (`currentPool()`, for fork-join) own
 * one. Tasks are encoded into one buffer and handed to Rust in one call per batch: at the end of
 * the current microtask checkpoint, or as soon as `FLUSH_AT` tasks are buffered.
 */
import { DataCloneError, InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { AbortWatch } from '../internal/abort-watch.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { WireReader, WireWriter } from '../internal/wire.js';
import type { NativePool } from './native-pool.js';
import { TASK_ARGS_ON_PORT, TASK_MAP, type TaskModuleLabel, readResult, tooManyTaskNamesError, unknownTaskError } from './protocol.js';
import { takeMoved } from './move.js';
import type { TransferListItem } from './types.js';

const FLUSH_AT = 1024;

type Settle = (value: unknown) => void;

/**
 * Task ids: the low 24 bits index the pending table, the high 8 bits are a generation. An id is
 * in use from `add` until the scheduler's one completion record for it comes back, even when its
 * promise settled earlier (an abort rejects at once): only then is its entry free for another
 * task. So a completion always belongs to the task that holds its id, whatever the id's width;
 * the generation only makes a stray record easier to spot.
 */
const INDEX_BITS = 24;
const INDEX_MASK = (1 << INDEX_BITS) - 1;

/** One executor for every promise: no closure allocated per task. */
let capturedResolve: Settle | undefined;
let capturedReject: Settle | undefined;
function capture(resolve: Settle, reject: Settle): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * The pending tasks of one submitter, in parallel arrays indexed by slot (cheaper than a Map
 * for hundreds of thousands of short-lived entries, and no per-task object). An entry whose
 * promise settled before its completion came back (an aborted task) keeps its id, with no
 * resolve/reject, until `release`: it no longer counts in `size`.
 */
class PendingTable {
  ids = new Uint32Array(1024);
  resolves: Array<Settle | undefined> = [];
  rejects: Array<Settle | undefined> = [];
  cleanups: Array<(() => void) | undefined> = [];
  free: number[] = [];
  generations = new Uint8Array(1024);
  size = 0;
  #top = 0; // slots ever used

  add(resolve: Settle, reject: Settle): number {
    let index = this.free.pop();
    if (index === undefined) {
      index = this.#top++;
      if (index > INDEX_MASK) throw new WeftError('WEFT_QUEUE_FULL', `more than ${INDEX_MASK + 1} tasks pending from one thread`);
      if (index >= this.ids.length) this.#grow();
    }
    const generation = (this.generations[index]! + 1) & 0xff;
    this.generations[index] = generation;
    const id = ((generation << INDEX_BITS) | index) >>> 0 || 1 << INDEX_BITS; // never 0
    this.ids[index] = id;
    this.resolves[index] = resolve;
    this.rejects[index] = reject;
    this.size++;
    return id;
  }

  /** The slot of a pending id, or -1. */
  find(id: number): number {
    const index = id & INDEX_MASK;
    return index < this.#top && this.ids[index] === id ? index : -1;
  }

  /** The task settled: its entry is free for another task. */
  remove(index: number): void {
    this.settleEarly(index);
    this.release(index);
  }

  /** Its promise settled (aborted) but its id stays in use until `release`. */
  settleEarly(index: number): void {
    this.resolves[index] = undefined;
    this.rejects[index] = undefined;
    this.cleanups[index] = undefined;
    this.size--;
  }

  /** Whether the entry's promise settled already (its completion has not come back yet). */
  settledEarly(index: number): boolean {
    return this.resolves[index] === undefined;
  }

  release(index: number): void {
    this.ids[index] = 0;
    this.free.push(index);
  }

  pendingIds(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#top; i++) if (this.ids[i] !== 0) out.push(this.ids[i]!);
    return out;
  }

  #grow(): void {
    const ids = new Uint32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.ids = ids;
    const gens = new Uint8Array(this.generations.length * 2);
    gens.set(this.generations);
    this.generations = gens;
  }
}

export interface SubmitOptions {
  signal?: AbortSignal | undefined;
  terminateOnAbort?: boolean | undefined;
  transfer?: readonly TransferListItem[] | undefined;
}

/** Sends arguments with a transfer list through a worker's side port; returns the worker slot. */
export type PortSender = (id: number, args: unknown[], transfer: readonly TransferListItem[]) => number;

export class Submitter {
  readonly #native: NativePool;
  readonly #origin: number;
  readonly #names = new Map<string, number>();
  readonly #pending = new PendingTable();
  /** Aborted tasks the scheduler answered `Queued` for: it holds a cancellation for each. */
  readonly #cancelledQueued = new Set<number>();
  readonly #writer = new WireWriter(64 * 1024);
  readonly #aborts = new AbortWatch<number>();
  #buffered = 0;
  #scheduled = false;
  readonly #flushBound = (): void => this.flush();

  constructor(
    native: NativePool,
    origin: number,
    private readonly hooks: {
      /** Called when the number of pending tasks goes from 0 to 1 and back. */
      busy?: (busy: boolean) => void;
      /**
       * A task handed to worker `slot` as its task number `seq` was aborted (`terminate`: with
       * terminateOnAbort).
       */
      aborted?: (slot: number, seq: number, terminate: boolean) => void;
      /** Sends transfer-list arguments to a worker (main thread only). */
      port?: PortSender;
      /** Runs before each batch is handed over (the pool restarts idle-exited workers). */
      beforeFlush?: () => void;
      /** Runs after a batch was handed over (the main thread then waits for the results). */
      afterFlush?: () => void;
      /** Throws if the pool cannot take tasks now (closed, failed). */
      check?: () => void;
      maxQueue?: number;
      /** Names the pool and its module in errors about task names. */
      label?: TaskModuleLabel;
      /** The result of task `id` that a worker sent through its side port (`move()`; main thread only). */
      portResult?: (id: number) => unknown;
    } = {},
  ) {
    this.#native = native;
    this.#origin = origin;
  }

  get pending(): number {
    return this.#pending.size;
  }

  get buffered(): number {
    return this.#buffered;
  }

  /**
   * The id of a task name. Throws `WEFT_INVALID_ARG` for a name the task module does not export
   * (once a worker has loaded it; before, the worker that gets the task rejects it).
   */
  nameId(name: string): number {
    let id = this.#names.get(name);
    if (id === undefined) {
      id = this.#native.intern(name);
      if (id < 0) {
        const label = this.hooks.label ?? { pool: 'weft pool', module: 'its task module' };
        throw id === -1 ? unknownTaskError(label, name, this.#native.exports()) : tooManyTaskNamesError(label, name);
      }
      this.#names.set(name, id);
    }
    return id;
  }

  /** Submits one task; the promise settles with its result. */
  submit(name: string, args: unknown[], opts?: SubmitOptions, flags = 0): Promise<unknown> {
    try {
      this.hooks.check?.();
      if (typeof name !== 'string') throw new InvalidArgumentError(`task name must be a string, got ${typeof name}`);
      if (this.hooks.maxQueue !== undefined && this.#native.queued + this.#buffered >= this.hooks.maxQueue) {
        throw new WeftError('WEFT_QUEUE_FULL', `the pool's queue is full (maxQueue ${this.hooks.maxQueue})`);
      }
      const checked = readSubmitOptions(opts);
      const { signal, terminateOnAbort } = checked;
      let transfer = checked.transfer;
      if (signal?.aborted) throw abortError(signal);
      const moved = args.length > 0 ? takeMoved(args, transfer) : undefined;
      if (moved !== undefined) {
        // move() markers: unwrapped, and their objects transferred (from the main thread; a
        // worker's own submissions copy them).
        args = moved.args;
        if (this.hooks.port !== undefined) transfer = moved.transfer;
      }
      const viaPort = transfer !== undefined && transfer.length > 0;
      if (viaPort && this.hooks.port === undefined) {
        throw new InvalidArgumentError('transfer is only supported from the main thread');
      }
      const nameId = this.nameId(name);
      const promise = new Promise<unknown>(capture);
      const id = this.#pending.add(capturedResolve!, capturedReject!);
      const w = this.#writer;
      const at = w.beginRecord();
      w.u32(id);
      if (viaPort) {
        let slot: number;
        try {
          slot = this.hooks.port!(id, args, transfer!);
        } catch (err) {
          w.rollback(at);
          this.#settle(id, false, cloneError(err));
          return promise;
        }
        w.i32(slot);
        w.u16(nameId);
        w.u8(flags | TASK_ARGS_ON_PORT);
      } else {
        w.i32(-1);
        w.u16(nameId);
        w.u8(flags);
        try {
          w.values(args);
        } catch (err) {
          // Not encodable as bytes (a SharedArrayBuffer, say): postMessage can still carry it,
          // through a worker's port, as a pinned task. Anything postMessage refuses fails here.
          w.rollback(at);
          w.beginRecord();
          w.u32(id);
          let slot = -1;
          let failure: unknown = err;
          if (this.hooks.port !== undefined && err instanceof DataCloneError) {
            try {
              slot = this.hooks.port(id, args, []);
            } catch (portErr) {
              failure = portErr instanceof Error && /could not be cloned/.test(portErr.message) ? err : portErr;
            }
          }
          if (slot < 0) {
            w.rollback(at);
            this.#settle(id, false, failure instanceof WeftError ? failure : new DataCloneError(String(failure), { cause: failure }));
            return promise;
          }
          w.i32(slot);
          w.u16(nameId);
          w.u8(flags | TASK_ARGS_ON_PORT);
        }
      }
      w.endRecord(at);
      if (signal !== undefined) {
        // One listener per signal however many tasks share it (see AbortWatch).
        this.#pending.cleanups[id & INDEX_MASK] = this.#aborts.watch(signal, id, () => this.#abort(id, signal, terminateOnAbort));
      }
      if (this.#pending.size === 1) this.hooks.busy?.(true);
      if (++this.#buffered >= FLUSH_AT) this.flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#flushBound);
      }
      return promise;
    } catch (err) {
      return Promise.reject(fromNative(err));
    }
  }

  /** Hands every buffered task to the scheduler. */
  flush(): void {
    this.#scheduled = false;
    if (this.#buffered === 0) return;
    this.hooks.beforeFlush?.();
    const bytes = this.#writer.view();
    const count = this.#buffered;
    this.#buffered = 0;
    try {
      this.#native.submit(this.#origin, bytes);
      this.#writer.reset();
      this.hooks.afterFlush?.();
    } catch (err) {
      // Nothing of the batch was accepted (queue full, closed): reject its tasks.
      const reader = new WireReader(bytes);
      const error = fromNative(err);
      for (let i = 0; i < count && reader.remaining > 0; i++) {
        const len = reader.u32();
        const start = reader.offset;
        const id = reader.u32();
        reader.offset = start + len;
        this.#settle(id, false, error);
      }
      this.#writer.reset();
    }
  }

  /** Settles the task whose result record starts at the reader's offset (after the id). */
  settleFrom(id: number, reader: WireReader): void {
    const index = this.#pending.find(id);
    if (index < 0) return;
    if (this.#pending.settledEarly(index)) {
      this.#releaseEarly(index, id);
      return;
    }
    let ok: boolean;
    let value: unknown;
    try {
      [ok, value] = readResult(reader, id, this.hooks.portResult);
    } catch (err) {
      [ok, value] = [false, err];
    }
    this.#settleAt(index, ok, value);
  }

  /** The scheduler's empty completion: the task was cancelled and dropped before it ran. */
  dropped(id: number): void {
    const index = this.#pending.find(id);
    if (index < 0) return;
    this.#cancelledQueued.delete(id);
    if (this.#pending.settledEarly(index)) this.#pending.release(index);
    else this.#settleAt(index, false, new WeftError('WEFT_ABORTED', 'task aborted'));
  }

  /** Settles a task with a known outcome. */
  settle(id: number, ok: boolean, value: unknown): void {
    this.#settle(id, ok, value);
  }

  #settle(id: number, ok: boolean, value: unknown): void {
    const index = this.#pending.find(id);
    if (index < 0) return;
    if (this.#pending.settledEarly(index)) this.#releaseEarly(index, id);
    else this.#settleAt(index, ok, value);
  }

  #settleAt(index: number, ok: boolean, value: unknown): void {
    const table = this.#pending;
    const settle = ok ? table.resolves[index]! : table.rejects[index]!;
    table.cleanups[index]?.();
    table.remove(index);
    settle(value);
    if (table.size === 0) this.hooks.busy?.(false);
  }

  /** The completion of a task whose promise settled early came back: its id is free again. */
  #releaseEarly(index: number, id: number): void {
    // It was not waiting when it was cancelled (it had completed, or was on its way to a worker):
    // the scheduler still holds that cancellation.
    if (this.#cancelledQueued.delete(id)) this.#native.uncancel(this.#origin, id);
    this.#pending.release(index);
  }

  /** Rejects every pending task (destroy, fatal errors). */
  rejectAll(reason: () => unknown): void {
    for (const id of this.#pending.pendingIds()) this.#settle(id, false, reason());
  }

  #abort(id: number, signal: AbortSignal, terminate: boolean): void {
    const table = this.#pending;
    if (table.find(id) < 0) return;
    this.flush();
    // The flush may have refused the batch (queue full, closed) and settled the task.
    const index = table.find(id);
    if (index < 0 || table.settledEarly(index)) return;
    const handed = this.#native.cancel(this.#origin, id);
    if (handed === null) this.#cancelledQueued.add(id);
    // Rejected now; the id stays in use until its completion comes back (see PendingTable).
    const reject = table.rejects[index]!;
    table.cleanups[index]?.();
    table.settleEarly(index);
    reject(abortError(signal));
    if (table.size === 0) this.hooks.busy?.(false);
    if (handed !== null) this.hooks.aborted?.(handed.slot, handed.seq, terminate);
  }
}

/**
 * The per-call options, read once and checked: `signal` must be an AbortSignal, `transfer` an
 * array that names each object at most once (postMessage refuses a duplicate), `terminateOnAbort`
 * a boolean. A getter that throws makes the options invalid (`WEFT_INVALID_ARG`).
 */
function readSubmitOptions(opts: SubmitOptions | undefined): {
  signal: AbortSignal | undefined;
  transfer: readonly TransferListItem[] | undefined;
  terminateOnAbort: boolean;
} {
  if (opts === undefined) return { signal: undefined, transfer: undefined, terminateOnAbort: false };
  try {
    return checkSubmitOptions(opts);
  } catch (err) {
    if (err instanceof WeftError) throw err;
    // A getter or Proxy trap of the options (or of the transfer list) threw.
    throw new InvalidArgumentError(`reading the run options threw: ${thrownMessage(err)}`, { cause: err });
  }
}

function checkSubmitOptions(opts: SubmitOptions): {
  signal: AbortSignal | undefined;
  transfer: readonly TransferListItem[] | undefined;
  terminateOnAbort: boolean;
} {
  const { signal, transfer, terminateOnAbort: terminate }: { signal?: unknown; transfer?: unknown; terminateOnAbort?: unknown } = opts;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (terminate !== undefined && typeof terminate !== 'boolean') {
    throw new InvalidArgumentError(`terminateOnAbort must be a boolean, got ${describe(terminate)}`);
  }
  if (transfer !== undefined) {
    if (!Array.isArray(transfer)) throw new InvalidArgumentError(`transfer must be an array, got ${describe(transfer)}`);
    const seen = new Set<unknown>();
    for (let i = 0; i < transfer.length; i++) {
      const item: unknown = transfer[i];
      if (typeof item !== 'object' || item === null) {
        throw new InvalidArgumentError(
          `transfer[${i}] must be an ArrayBuffer, a MessagePort or another transferable object, got ${describe(item)}`,
        );
      }
      if (seen.has(item)) throw new InvalidArgumentError(`transfer lists the same object twice (at ${transfer.indexOf(item)} and ${i})`);
      seen.add(item);
    }
  }
  return { signal, transfer: transfer as readonly TransferListItem[] | undefined, terminateOnAbort: terminate === true };
}

/**
 * What postMessage threw for a task's arguments, as a weft error. A transfer list with something
 * that cannot be transferred is `WEFT_INVALID_ARG` on every Node: Node 20 and 22 throw a TypeError
 * `ERR_INVALID_TRANSFER_OBJECT`, Node 24 a DataCloneError "Found invalid value in transferList".
 */
function cloneError(err: unknown): unknown {
  if (err instanceof Error && err.name === 'DataCloneError' && !(err instanceof WeftError) && /transferList/.test(err.message)) {
    return new InvalidArgumentError(`transfer: ${err.message}`, { cause: err });
  }
  if (err instanceof Error && err.name === 'DataCloneError' && !(err instanceof WeftError)) {
    return new DataCloneError(err.message, { cause: err });
  }
  if (err instanceof TypeError && (err as TypeError & { code?: unknown }).code === 'ERR_INVALID_TRANSFER_OBJECT') {
    return new InvalidArgumentError(`transfer: ${err.message}`, { cause: err });
  }
  return fromNative(err);
}

function abortError(signal: AbortSignal): WeftError {
  const reason: unknown = signal.reason;
  const detail = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  return new WeftError('WEFT_ABORTED', `task aborted${detail ? `: ${detail}` : ''}`, { cause: reason });
}

export { TASK_MAP };
