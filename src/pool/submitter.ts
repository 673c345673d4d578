/**
 * Submits tasks to the native scheduler in batches and settles their promises when results come
 * back. Both the main thread (its `Pool`) and each worker (`currentPool()`, for fork-join) own
 * one. Tasks are encoded into one buffer and handed to Rust in one call per batch: at the end of
 * the current microtask checkpoint, or as soon as `FLUSH_AT` tasks are buffered.
 */
import type { TransferListItem } from 'node:worker_threads';
import { DataCloneError, InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { WireReader, WireWriter } from '../internal/wire.js';
import type { NativePool } from './native-pool.js';
import { TASK_ARGS_ON_PORT, TASK_MAP, readResult } from './protocol.js';

const FLUSH_AT = 1024;

interface Pending {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
  /** Removes the abort listener, if any. */
  cleanup?: () => void;
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
  readonly #pending = new Map<number, Pending>();
  readonly #writer = new WireWriter(64 * 1024);
  #buffered = 0;
  #scheduled = false;
  #nextId = 1;
  readonly #flushBound = (): void => this.flush();

  constructor(
    native: NativePool,
    origin: number,
    private readonly hooks: {
      /** Called when the number of pending tasks goes from 0 to 1 and back. */
      busy?: (busy: boolean) => void;
      /** A task running on worker `slot` was aborted with terminateOnAbort. */
      terminate?: (slot: number) => void;
      /** Sends transfer-list arguments to a worker (main thread only). */
      port?: PortSender;
      /** Throws if the pool cannot take tasks now (closed, failed). */
      check?: () => void;
      maxQueue?: number;
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

  nameId(name: string): number {
    let id = this.#names.get(name);
    if (id === undefined) {
      id = this.#native.intern(name);
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
      const signal = opts?.signal;
      if (signal?.aborted) throw abortError(signal);
      const id = this.#nextId;
      this.#nextId = (this.#nextId + 1) >>> 0 || 1;
      const nameId = this.nameId(name);
      const w = this.#writer;
      const at = w.beginRecord();
      w.u32(id);
      const transfer = opts?.transfer;
      if (transfer !== undefined && transfer.length > 0) {
        if (this.hooks.port === undefined) throw new InvalidArgumentError('transfer is only supported from the main thread');
        const slot = this.hooks.port(id, args, transfer);
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
          w.rollback(at);
          throw err instanceof WeftError ? err : new DataCloneError(String(err), { cause: err });
        }
      }
      w.endRecord(at);
      const promise = new Promise<unknown>((resolve, reject) => {
        const entry: Pending = { resolve, reject };
        if (signal !== undefined) {
          const onAbort = (): void => this.#abort(id, signal, opts?.terminateOnAbort === true);
          signal.addEventListener('abort', onAbort, { once: true });
          entry.cleanup = () => signal.removeEventListener('abort', onAbort);
        }
        if (this.#pending.size === 0) this.hooks.busy?.(true);
        this.#pending.set(id, entry);
      });
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
    const bytes = this.#writer.view();
    const count = this.#buffered;
    this.#buffered = 0;
    try {
      this.#native.submit(this.#origin, bytes);
      this.#writer.reset();
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
    const [ok, value] = readResult(reader);
    this.#settle(id, ok, value);
  }

  /** Settles a task with a known outcome. */
  settle(id: number, ok: boolean, value: unknown): void {
    this.#settle(id, ok, value);
  }

  #settle(id: number, ok: boolean, value: unknown): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) {
      // Aborted earlier while it was already running or done: forget the cancellation.
      this.#native.uncancel(id);
      return;
    }
    this.#pending.delete(id);
    entry.cleanup?.();
    if (ok) entry.resolve(value);
    else entry.reject(value);
    if (this.#pending.size === 0) this.hooks.busy?.(false);
  }

  /** Rejects every pending task (destroy, fatal errors). */
  rejectAll(reason: () => unknown): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, false, reason());
  }

  has(id: number): boolean {
    return this.#pending.has(id);
  }

  #abort(id: number, signal: AbortSignal, terminate: boolean): void {
    if (!this.#pending.has(id)) return;
    this.flush();
    const where = this.#native.cancel(id);
    this.#settle(id, false, abortError(signal));
    if (where >= 0 && terminate) this.hooks.terminate?.(where);
  }
}

function abortError(signal: AbortSignal): WeftError {
  const reason: unknown = signal.reason;
  const detail = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  return new WeftError('WEFT_ABORTED', `task aborted${detail ? `: ${detail}` : ''}`, { cause: reason });
}

export { TASK_MAP };
