/**
 * `SharedStack<T>`: a lock-free stack shared by every thread of the process.
 *
 * The stack lives in Rust (weft-core's Treiber stack with epoch-based reclamation). Any worker
 * thread attaches to it with `SharedStack.from(stack.handle)`; the memory is freed once no
 * thread holds a `SharedStack` for it any more.
 */
import { inspect } from 'node:util';
import { InvalidArgumentError } from '../errors.js';
import { native } from '../native.js';
import {
  type EncodedValue,
  type NativeValue,
  type Storable,
  decode,
  decodeBatch,
  encodeBatch,
  maxCount,
  putValue,
  SCRATCH,
  decodeOut,
} from './codec.js';
import { HANDLE_SHARED_STACK } from '../internal/wire.js';
import { attachNative, isNativeOf, readHandle, registerSharedHandle } from './handle.js';

type NativeStack = InstanceType<typeof native.NativeStack>;
type FastOps = ReturnType<NativeStack['fastOps']>;

declare const stackValueType: unique symbol;

/**
 * A plain, serializable reference to a shared stack: send it to another thread (through
 * `postMessage`, `workerData`, a pool task argument or an actor message) and attach there with
 * `SharedStack.from(handle)`. It does not keep the stack alive by itself.
 */
export interface SharedStackHandle<T extends Storable = Storable> {
  readonly kind: 'weft:SharedStack';
  readonly id: number;
  /** Identifies the process (and copy of weft) that made the stack. */
  readonly process: number;
  /** Carries `T` through the type system; absent at run time. */
  readonly [stackValueType]?: T;
}

/**
 * A lock-free LIFO stack of structured-cloneable values, shared between threads.
 *
 * - numbers, strings, booleans, null and bigints are stored natively;
 * - typed arrays, DataViews and Buffers are stored as a copy of their bytes and come back as
 *   the same kind of view;
 * - any other structured-cloneable value (objects, arrays, Map, Set, Date, Error, ...) is stored
 *   in weft's wire format (src/internal/wire/), as structured clone would copy it; a SharedStack
 *   inside it (or an ActorRef) comes back as a working one.
 *
 * Values come back as copies: mutating a popped object does not change what other threads see.
 */
export class SharedStack<T extends Storable = Storable> {
  readonly #native: NativeStack;
  readonly #fast: FastOps;
  #handle: SharedStackHandle<T> | undefined;

  constructor();
  /** @internal */
  constructor(attachTo: NativeStack);
  constructor(attachTo?: NativeStack) {
    if (attachTo !== undefined && !isNativeOf(attachTo, native.NativeStack)) {
      throw new InvalidArgumentError(
        'new SharedStack() takes no arguments; to attach to a stack from another thread, use SharedStack.from(handle)',
      );
    }
    this.#native = attachTo ?? new native.NativeStack();
    this.#fast = this.#native.fastOps();
  }

  /**
   * Attaches to the stack behind `handle`, from any thread of the process that made it.
   * Throws `WEFT_STALE_HANDLE` if that stack no longer exists (or the handle is from another
   * process) and `WEFT_INVALID_ARG` if `handle` is not a stack handle.
   */
  static from<T extends Storable = Storable>(handle: SharedStackHandle<T>): SharedStack<T> {
    const h = readHandle(handle, 'weft:SharedStack', 'SharedStack.from');
    return new SharedStack<T>(attachNative((id, p) => native.NativeStack.attach(id, p), h));
  }

  /** A serializable handle to this stack (see `SharedStackHandle`). */
  get handle(): SharedStackHandle<T> {
    this.#handle ??= Object.freeze({
      kind: 'weft:SharedStack',
      id: this.#native.id,
      process: this.#native.token,
    });
    return this.#handle;
  }

  /** Pushes a value on top. Throws `WEFT_DATA_CLONE` (and pushes nothing) if it cannot be cloned. */
  push(value: T): void {
    // Numbers inline (the hottest case, one call less); the rest by kind in putValue.
    if (typeof value === 'number') this.#fast.pushNumber(value);
    else putValue(this.#fast, this.#pushEncoded, value);
  }

  readonly #pushEncoded = (value: EncodedValue): undefined => {
    this.#native.push(value);
    return undefined;
  };

  /**
   * Pushes all values as one atomic step: they appear together, the last one on top. If any
   * value cannot be cloned, nothing is pushed. Returns how many were pushed.
   */
  pushMany(values: Iterable<T>): number {
    const batch = encodeBatch(values, 'pushMany');
    if (batch === undefined) return 0;
    return batch instanceof Float64Array ? this.#native.pushNumbers(batch) : this.#native.pushMany(batch);
  }

  /** Removes and returns the top value, or `undefined` if the stack is empty. */
  pop(): T | undefined {
    const v = this.#fast.pop(SCRATCH);
    return (typeof v !== 'object' || v === null ? v : decodeOut(v)) as T | undefined;
  }

  /** Removes and returns up to `max` values, top first. */
  popMany(max: number): T[] {
    return decodeBatch(this.#native.popMany(maxCount(max, 'popMany')) as NativeValue[]) as T[];
  }

  /** Returns the top value without removing it, or `undefined` if the stack is empty. */
  peek(): T | undefined {
    return decode(this.#native.peek()) as T | undefined;
  }

  /** The number of values; exact when no other thread is pushing or popping. */
  get size(): number {
    return this.#native.size;
  }

  /** Removes every value; returns how many were removed. */
  clear(): number {
    return this.#native.clear();
  }

  get [Symbol.toStringTag](): string {
    return 'SharedStack';
  }

  [inspect.custom](): string {
    return `SharedStack { id: ${this.#native.id}, size: ${this.size} }`;
  }
}

// A SharedStack anywhere in a task argument, a message or a shared structure's value crosses as
// its handle and arrives attached (`SharedStack.from`).
registerSharedHandle(HANDLE_SHARED_STACK, 'weft:SharedStack', SharedStack.prototype, (h) => SharedStack.from(h));
