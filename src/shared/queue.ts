/**
 * `SharedQueue<T>`: a lock-free FIFO queue shared by every thread of the process.
 *
 * The queue lives in Rust (weft-core's `Queue`: crossbeam's `SegQueue`, or `ArrayQueue` when
 * bounded). Any thread attaches with `SharedQueue.from(queue.handle)` (or gets one attached in a
 * task argument, a message or a shared structure's value). Values are stored as `SharedStack`
 * stores them (src/shared/codec.ts).
 *
 * The async side is woken from Rust: a thread that waits (`popAsync`, `pushAsync`, `for await`)
 * arms its wake-up in the queue, and the push (or pop, or `close`) on any thread that makes news
 * calls it once, into this thread's event loop. No polling, no timer. The woken thread then pops
 * (or pushes) itself: a wake-up carries no item, so an item is never handed to a thread that has
 * gone away; every waiting thread is woken and the first to pop takes it.
 */
import { inspect } from 'node:util';
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { AbortWatch, isAbortSignal } from '../internal/abort-watch.js';
import { describe } from '../internal/describe.js';
import { checkOptions, optionNames } from '../internal/options.js';
import { HANDLE_SHARED_QUEUE } from '../internal/wire.js';
import { native } from '../native.js';
import {
  type EncodedValue,
  type NativeValue,
  type Storable,
  decodeBatch,
  encode,
  encodeBatch,
  maxCount,
  putValue,
  SCRATCH,
  decodeOut,
} from './codec.js';
import { attachNative, type HandleFields, isNativeOf, readHandle, registerSharedHandle } from './handle.js';

type NativeQueue = InstanceType<typeof native.NativeQueue>;
type FastOps = ReturnType<NativeQueue['fastOps']>;

declare const queueValueType: unique symbol;

/**
 * A plain, serializable reference to a shared queue: send it to another thread and attach there
 * with `SharedQueue.from(handle)`. It does not keep the queue alive by itself.
 */
export interface SharedQueueHandle<T extends Storable = Storable> extends HandleFields<'weft:SharedQueue'> {
  /** Carries `T` through the type system; absent at run time. */
  readonly [queueValueType]?: T;
}

/** Options of `popAsync` and `pushAsync`. */
export interface SharedQueueWaitOptions {
  /**
   * Gives up waiting when it aborts: the promise rejects with `WEFT_ABORTED` (its `cause` the
   * signal's reason), and nothing was popped (or pushed). An already aborted signal rejects at once.
   */
  signal?: AbortSignal;
}

export interface SharedQueueOptions {
  /** At most this many values (an integer from 1 to 2^32 - 1); default: unbounded. */
  capacity?: number;
}

/** A queue's statistics (`queue.stats()`, and `weftjs/metrics`). */
export interface SharedQueueStats {
  /** Values queued now. */
  size: number;
  /** Its bound (`undefined`: unbounded). */
  capacity: number | undefined;
  /** Thread-objects waiting for a value now (each with one or more `popAsync` pending). */
  waitingPop: number;
  /** Thread-objects waiting for room now (`pushAsync` on a full bounded queue). */
  waitingPush: number;
  /** Pushes refused because the queue was full (since it was made; every thread). */
  full: number;
  /** Wake-ups sent to waiting threads (since it was made; every thread). */
  wakes: number;
  closed: boolean;
}

interface PendingPop<T> {
  resolve(value: T | undefined): void;
  reject(err: unknown): void;
  /** Stops watching its AbortSignal, if it has one. */
  unwatch: (() => void) | undefined;
}

interface PendingPush {
  readonly value: EncodedValue;
  resolve(): void;
  reject(err: unknown): void;
  unwatch: (() => void) | undefined;
}

const WAIT_OPTIONS = optionNames<SharedQueueWaitOptions>()(['signal']);

/** The signal of `popAsync`/`pushAsync` options (checked); throws `WEFT_ABORTED` if it is aborted already. */
function waitSignal(options: SharedQueueWaitOptions | undefined, what: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const { signal } = checkOptions(options, WAIT_OPTIONS, `${what} options`);
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new InvalidArgumentError(`${what}: signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (signal?.aborted) throw aborted(signal, what);
  return signal;
}

function aborted(signal: AbortSignal, what: string): WeftError {
  return new WeftError('WEFT_ABORTED', `${what} was aborted`, { cause: signal.reason });
}

const MAX_CAPACITY = 0xffff_ffff;
const QUEUE_OPTIONS = optionNames<SharedQueueOptions>()(['capacity']);

function queueFull(capacity: number | undefined): WeftError {
  return new WeftError('WEFT_QUEUE_FULL', `the queue is full (capacity ${capacity}): use tryPush, or pushAsync to wait for room`);
}

/**
 * A lock-free MPMC FIFO queue of structured-cloneable values, shared between threads, with an
 * async side (`popAsync`, `pushAsync`, `for await`) and `close`.
 *
 * Every value pushed is popped exactly once, by one thread; the values one thread pushes come out
 * in the order it pushed them. Values come back as copies (see `SharedStack`).
 *
 * A pending `popAsync` or `pushAsync` keeps its thread (and the queue) alive until it settles:
 * `close()` settles them all.
 */
export class SharedQueue<T extends Storable = Storable> implements AsyncIterable<T> {
  readonly #native: NativeQueue;
  readonly #fast: FastOps;
  #handle: SharedQueueHandle<T> | undefined;
  #poppers: PendingPop<T>[] = [];
  #pushers: PendingPush[] = [];
  /** Whether the native wake-up is installed (once per object). */
  #waker = false;
  /** While something waits: keeps this thread alive, and this object reachable. */
  #hold: NodeJS.Timeout | undefined;
  /** One abort listener per signal however many waits share it. */
  readonly #aborts = new AbortWatch<object>();

  constructor(options?: SharedQueueOptions);
  /** @internal */
  constructor(options: undefined, attachTo: NativeQueue);
  constructor(options?: SharedQueueOptions, attachTo?: NativeQueue) {
    if (attachTo !== undefined) {
      if (!isNativeOf(attachTo, native.NativeQueue)) {
        throw new InvalidArgumentError('to attach to a queue from another thread, use SharedQueue.from(handle)');
      }
      this.#native = attachTo;
    } else {
      this.#native = new native.NativeQueue(SharedQueue.#capacity(options));
    }
    this.#fast = this.#native.fastOps();
  }

  static #capacity(options: SharedQueueOptions | undefined): number | undefined {
    const { capacity } = checkOptions(options, QUEUE_OPTIONS, 'SharedQueue options');
    if (capacity === undefined) return undefined;
    if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new InvalidArgumentError(`capacity must be an integer from 1 to ${MAX_CAPACITY}, got ${describe(capacity)}`);
    }
    return capacity;
  }

  /**
   * Attaches to the queue behind `handle`, from any thread of the process that made it. Throws
   * `WEFT_STALE_HANDLE` if that queue no longer exists (or the handle is from another process)
   * and `WEFT_INVALID_ARG` if `handle` is not a queue handle.
   */
  static from<T extends Storable = Storable>(handle: SharedQueueHandle<T>): SharedQueue<T> {
    const h = readHandle(handle, 'weft:SharedQueue', 'SharedQueue.from');
    return new SharedQueue<T>(
      undefined,
      attachNative((id, p) => native.NativeQueue.attach(id, p), h),
    );
  }

  /** A serializable handle to this queue (see `SharedQueueHandle`). */
  get handle(): SharedQueueHandle<T> {
    this.#handle ??= Object.freeze({ kind: 'weft:SharedQueue', id: this.#native.id, process: this.#native.token });
    return this.#handle;
  }

  readonly #pushEncoded = (value: EncodedValue): boolean => this.#native.push(value);

  /** Stores `value`: false if full. Throws WEFT_CLOSED, WEFT_DATA_CLONE (nothing stored). */
  #put(value: unknown): boolean {
    try {
      return putValue(this.#fast, this.#pushEncoded, value);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * Pushes a value at the back. Throws `WEFT_QUEUE_FULL` if the queue is bounded and full,
   * `WEFT_CLOSED` once it is closed, `WEFT_DATA_CLONE` if the value cannot be cloned (nothing is
   * pushed in every case).
   */
  push(value: T): void {
    if (!this.#put(value)) throw queueFull(this.capacity);
  }

  /** Pushes a value at the back; false (nothing pushed) if the queue is bounded and full. Throws like `push` otherwise. */
  tryPush(value: T): boolean {
    return this.#put(value);
  }

  /**
   * Pushes values in order, with one native call, and wakes waiting consumers once. A bounded
   * queue takes them until it is full: returns how many were pushed (the first ones). If any value
   * cannot be cloned, nothing is pushed.
   */
  pushMany(values: Iterable<T>): number {
    const batch = encodeBatch(values, 'pushMany');
    if (batch === undefined) return 0;
    try {
      return batch instanceof Float64Array ? this.#native.pushNumbers(batch) : this.#native.pushMany(batch);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Removes and returns the value at the front, or `undefined` if the queue is empty. Never waits. */
  pop(): T | undefined {
    const v = this.#fast.pop(SCRATCH);
    return (typeof v !== 'object' || v === null ? v : decodeOut(v)) as T | undefined;
  }

  /** The same as `pop()`: never waits; `undefined` if the queue is empty. */
  tryPop(): T | undefined {
    return this.pop();
  }

  /** Removes and returns up to `max` values from the front, in order, with one native call. */
  popMany(max: number): T[] {
    return decodeBatch(this.#native.popMany(maxCount(max, 'popMany')) as Float64Array | NativeValue[]) as T[];
  }

  /** The number of values; exact when no other thread is pushing or popping. */
  get size(): number {
    return this.#native.size;
  }

  /** Its bound, or `undefined` if unbounded. */
  get capacity(): number | undefined {
    return this.#native.capacity ?? undefined;
  }

  /** Whether `close()` was called (on any thread). */
  get closed(): boolean {
    return this.#native.closed;
  }

  /**
   * Closes the queue for every thread: later pushes throw `WEFT_CLOSED` (pending `pushAsync`s
   * reject with it), and consumers pop what is left, after which `popAsync` resolves `undefined`
   * and `for await` ends. Idempotent.
   */
  close(): void {
    this.#native.close();
    this.#service();
  }

  /**
   * The value at the front, as soon as there is one: resolves at once if the queue holds a
   * value, else when one is pushed (on any thread). Resolves `undefined` once the queue is closed
   * and empty. The value is popped on this thread, when this promise resolves. With
   * `options.signal`, an abort ends the wait (`WEFT_ABORTED`) and pops nothing.
   */
  popAsync(options?: SharedQueueWaitOptions): Promise<T | undefined> {
    let signal: AbortSignal | undefined;
    try {
      signal = waitSignal(options, 'popAsync');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#poppers.length === 0) {
      const v = this.pop();
      if (v !== undefined) return Promise.resolve(v);
      if (this.#native.drained()) return Promise.resolve(this.pop());
    }
    return new Promise<T | undefined>((resolve, reject) => {
      const p: PendingPop<T> = { resolve, reject, unwatch: undefined };
      this.#poppers.push(p);
      if (signal !== undefined) p.unwatch = this.#aborts.watch(signal, p, () => this.#abort(this.#poppers, p, aborted(signal, 'popAsync')));
      this.#service();
    });
  }

  /** Gives up pending pop or push `p` (still waiting): out of its list, rejected with `err`. */
  #abort<P extends PendingPop<T> | PendingPush>(list: P[], p: P, err: WeftError): void {
    const i = list.indexOf(p);
    if (i < 0) return;
    list.splice(i, 1);
    p.reject(err);
    this.#holdWhileWaiting();
  }

  /**
   * Pushes `value` as soon as there is room: resolves at once unless the queue is bounded and
   * full, else when a value is popped (on any thread). Rejects with `WEFT_CLOSED` if the queue is
   * closed first; throws `WEFT_DATA_CLONE` at once (nothing pushed) if the value cannot be
   * cloned. Pushes from one thread-object keep their order. With `options.signal`, an abort ends
   * the wait (`WEFT_ABORTED`) and the value is not pushed.
   */
  pushAsync(value: T, options?: SharedQueueWaitOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = waitSignal(options, 'pushAsync');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#pushers.length === 0) {
      try {
        if (this.#put(value)) return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let encoded: EncodedValue;
    try {
      encoded = encode(value);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      const p: PendingPush = { value: encoded, resolve, reject, unwatch: undefined };
      this.#pushers.push(p);
      if (signal !== undefined)
        p.unwatch = this.#aborts.watch(signal, p, () => this.#abort(this.#pushers, p, aborted(signal, 'pushAsync')));
      this.#service();
    });
  }

  /**
   * Pops values as they come until the queue is closed and empty. Breaking out of the loop does
   * not close the queue; several loops (on one or several threads) share the values, each value
   * going to one of them.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const v = this.pop() ?? (await this.popAsync());
      if (v === undefined) return;
      yield v;
    }
  }

  /** Counters of the queue (shared by every thread). */
  stats(): SharedQueueStats {
    const s = this.#native.stats();
    return {
      size: s.size,
      capacity: s.capacity ?? undefined,
      waitingPop: s.waitingPop,
      waitingPush: s.waitingPush,
      full: s.full,
      wakes: s.wakes,
      closed: s.closed,
    };
  }

  /**
   * Settles what can be settled of this object's pending pops and pushes, and arms the native
   * wake-up for the rest (looking once more after arming, the other half of the handshake in
   * weft-core's `queue.rs`). Runs on each wake-up, and when a wait begins.
   */
  #service(): void {
    const poppers = this.#poppers;
    while (poppers.length > 0) {
      let v: T | undefined;
      try {
        v = this.pop();
      } catch (err) {
        // Popped, but it could not be decoded here (a handle to a structure that is gone).
        const p = poppers.shift()!;
        p.unwatch?.();
        p.reject(err);
        continue;
      }
      if (v !== undefined) {
        const p = poppers.shift()!;
        p.unwatch?.();
        p.resolve(v);
        continue;
      }
      if (this.#native.drained()) {
        // Nothing more can come; one last look for a value that landed before the end.
        if (this.#native.size > 0) continue;
        for (const p of poppers.splice(0)) {
          p.unwatch?.();
          p.resolve(undefined);
        }
        break;
      }
      this.#installWaker();
      this.#native.waitForItem();
      if (this.#native.size > 0 || this.#native.drained()) continue;
      break;
    }
    const pushers = this.#pushers;
    while (pushers.length > 0) {
      const p = pushers[0]!;
      let done: boolean;
      try {
        done = this.#native.push(p.value);
      } catch (err) {
        pushers.shift();
        p.unwatch?.();
        p.reject(fromNative(err));
        continue;
      }
      if (done) {
        pushers.shift();
        p.unwatch?.();
        p.resolve();
        continue;
      }
      this.#installWaker();
      this.#native.waitForRoom();
      if (this.#native.hasRoom() || this.#native.closed) continue;
      break;
    }
    this.#holdWhileWaiting();
  }

  #installWaker(): void {
    if (this.#waker) return;
    // The callback holds this object weakly: a wake-up never keeps it alive; `#hold` does,
    // while it waits.
    const self = new WeakRef<SharedQueue<T>>(this);
    this.#native.setWaker(() => {
      const queue = self.deref();
      if (queue !== undefined) queue.#service();
    });
    this.#waker = true;
  }

  #holdWhileWaiting(): void {
    const waiting = this.#poppers.length > 0 || this.#pushers.length > 0;
    if (waiting && this.#hold === undefined) {
      // Never fires (2^30 ms); only holds the event loop and, through its closure, this object.
      this.#hold = setInterval(() => this, 1 << 30);
    } else if (!waiting && this.#hold !== undefined) {
      clearInterval(this.#hold);
      this.#hold = undefined;
      this.#native.stopWaiting();
    }
  }

  get [Symbol.toStringTag](): string {
    return 'SharedQueue';
  }

  [inspect.custom](): string {
    const cap = this.capacity;
    return `SharedQueue { id: ${this.#native.id}, size: ${this.size}${cap === undefined ? '' : `, capacity: ${cap}`}${this.closed ? ', closed' : ''} }`;
  }
}

// A SharedQueue anywhere in a task argument, a message or a shared structure's value crosses as
// its handle and arrives attached (`SharedQueue.from`).
registerSharedHandle(HANDLE_SHARED_QUEUE, 'weft:SharedQueue', SharedQueue.prototype, (h) => SharedQueue.from(h));
