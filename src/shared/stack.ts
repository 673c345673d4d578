/**
 * `SharedStack<T>`: a lock-free stack shared by every thread of the process.
 *
 * The stack lives in Rust (weft-core's Treiber stack with epoch-based reclamation). Any worker
 * thread attaches to it with `SharedStack.from(stack.handle)`; the memory is freed once no
 * thread holds a `SharedStack` for it any more.
 */
import { inspect } from 'node:util';
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { native } from '../native.js';
import { type EncodedValue, type NativeValue, SCRATCH, type Storable, decode, decodeScratch, encode, encodeWire } from './codec.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { HANDLE_SHARED_STACK, registerHandleCodec, type WireReader, type WireWriter } from '../internal/wire.js';

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

/** Whether `v` is a native stack object (false for a Proxy whose traps throw). */
function isNativeStack(v: unknown): boolean {
  try {
    return v instanceof native.NativeStack;
  } catch {
    return false;
  }
}

/** The largest process token (a u32, made by weft-core's registry). */
const MAX_TOKEN = 0xffff_ffff;

/**
 * Whether `value` is a well-formed handle. Reads its fields once, each under a guard: a getter or a
 * Proxy trap that throws makes it a bad argument (`WEFT_INVALID_ARG`, the thrown error as cause).
 */
function readHandle(value: unknown): { id: number; process: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let kind: unknown;
  let id: unknown;
  let process: unknown;
  try {
    const h = value as Record<string, unknown>;
    kind = h.kind;
    id = h.id;
    process = h.process;
  } catch (err) {
    throw new InvalidArgumentError(`SharedStack.from: reading the handle threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
  const ok =
    kind === 'weft:SharedStack' &&
    typeof id === 'number' &&
    Number.isSafeInteger(id) &&
    id > 0 &&
    typeof process === 'number' &&
    Number.isInteger(process) &&
    process >= 0 &&
    process <= MAX_TOKEN;
  return ok ? { id: id as number, process: process as number } : undefined;
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
    if (attachTo !== undefined && !isNativeStack(attachTo)) {
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
    const h = readHandle(handle);
    if (h === undefined) throw new InvalidArgumentError(`SharedStack.from expects a handle from stack.handle, got ${describe(handle)}`);
    try {
      return new SharedStack<T>(native.NativeStack.attach(h.id, h.process));
    } catch (err) {
      throw fromNative(err);
    }
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
    if (typeof value === 'number') this.#fast.pushNumber(value);
    else if (typeof value === 'string' && value.isWellFormed()) this.#fast.pushString(value);
    else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
      const w = encodeWire(value);
      this.#fast.pushWire(w.buffer, w.length);
    } else this.#native.push(encode(value));
  }

  /**
   * Pushes all values as one atomic step: they appear together, the last one on top. If any
   * value cannot be cloned, nothing is pushed. Returns how many were pushed.
   */
  pushMany(values: Iterable<T>): number {
    let encoded: EncodedValue[] | undefined;
    let numbers: Float64Array | undefined;
    try {
      if (values === null || typeof values !== 'object' || typeof (values as Partial<Iterable<T>>)[Symbol.iterator] !== 'function') {
        throw new InvalidArgumentError(`pushMany expects an array or another iterable object, got ${describe(values)}`);
      }
      const items: readonly unknown[] = Array.isArray(values) ? (values as readonly unknown[]) : Array.from(values);
      const n = items.length;
      if (n === 0) return 0;
      let allNumbers = true;
      for (let i = 0; i < n && allNumbers; i++) allNumbers = typeof items[i] === 'number';
      if (allNumbers) numbers = Float64Array.from(items as readonly number[]);
      else {
        // By index: the hole of a sparse array is undefined, refused by encode (map would skip it).
        encoded = new Array<EncodedValue>(n);
        for (let i = 0; i < n; i++) encoded[i] = encode(items[i]);
      }
    } catch (err) {
      if (err instanceof WeftError) throw err;
      // An iterator, getter or Proxy trap of the caller's values threw.
      throw new InvalidArgumentError(`pushMany: reading the values threw: ${thrownMessage(err)}`, {
        cause: err,
      });
    }
    return numbers !== undefined ? this.#native.pushNumbers(numbers) : this.#native.pushMany(encoded!);
  }

  /** Removes and returns the top value, or `undefined` if the stack is empty. */
  pop(): T | undefined {
    const v = this.#fast.pop(SCRATCH);
    if (typeof v !== 'object' || v === null) return v as T | undefined;
    return (v === SCRATCH ? decodeScratch() : decode(v as NativeValue)) as T | undefined;
  }

  /** Removes and returns up to `max` values, top first. */
  popMany(max: number): T[] {
    if (!Number.isInteger(max) || max < 0) {
      throw new InvalidArgumentError(`popMany expects a non-negative integer, got ${describe(max)}`);
    }
    const out = this.#native.popMany(Math.min(max, 0xffff_ffff)) as NativeValue[];
    return out.map(decode) as T[];
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

// A SharedStack anywhere in a task argument, a message or a stack value crosses as its handle and
// arrives attached (`SharedStack.from`): a stack that no longer exists is WEFT_STALE_HANDLE there.
registerHandleCodec({
  subTag: HANDLE_SHARED_STACK,
  proto: SharedStack.prototype,
  write(w: WireWriter, v: object): void {
    const h = (v as SharedStack).handle;
    w.f64(h.id);
    w.u32(h.process);
  },
  read(r: WireReader): unknown {
    const id = r.f64();
    const process = r.u32();
    return SharedStack.from({ kind: 'weft:SharedStack', id, process } as SharedStackHandle);
  },
  skip(r: WireReader): void {
    r.skip(12);
  },
});
