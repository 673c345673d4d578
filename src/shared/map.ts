/**
 * `SharedMap<K, V>`: a concurrent map shared by every thread of the process.
 *
 * The map lives in Rust (weft-core's `ValueMap`): dashmap for a plain map, moka for a map with a
 * capacity or a TTL (TinyLFU admission, eviction, per-entry expiry). Any thread attaches with
 * `SharedMap.from(map.handle)` (or gets one attached in a task argument, a message or a shared
 * structure's value). Values are stored as `SharedStack` stores them (src/shared/codec.ts).
 */
import { inspect } from 'node:util';
import { InvalidArgumentError, fromNative } from '../errors.js';
import { describe } from '../internal/describe.js';
import { checkOptions, optionNames } from '../internal/options.js';
import { HANDLE_SHARED_MAP } from '../internal/wire.js';
import { native } from '../native.js';
import { type EncodedValue, SCRATCH, type Storable, decodeOut, encode, encodeWire } from './codec.js';
import { attachNative, type HandleFields, isNativeOf, readHandle, registerSharedHandle } from './handle.js';

type NativeMap = InstanceType<typeof native.NativeMap>;
type FastOps = ReturnType<NativeMap['fastOps']>;

/** A SharedMap key: compared as a `Map` compares keys (SameValueZero; `1`, `'1'` and `1n` are three keys). */
export type MapKey = string | number | bigint;

declare const mapTypes: unique symbol;

/**
 * A plain, serializable reference to a shared map: send it to another thread and attach there
 * with `SharedMap.from(handle)`. It does not keep the map alive by itself.
 */
export interface SharedMapHandle<K extends MapKey = MapKey, V extends Storable = Storable> extends HandleFields<'weft:SharedMap'> {
  /** Carries `K` and `V` through the type system; absent at run time. */
  readonly [mapTypes]?: [K, V];
}

export interface SharedMapOptions {
  /**
   * About this many entries at most (an integer from 1 to 2^53 - 1): past it, entries are evicted
   * (moka's TinyLFU admission and LRU eviction; a new entry that is unlikely to be read again may
   * be refused rather than evict a popular one). Default: unbounded.
   */
  capacity?: number;
  /** Every entry expires this many milliseconds after it was set (unless set with a `ttl` of its own). */
  ttl?: number;
}

/** Options of one write. */
export interface SetOptions {
  /** This entry expires this many milliseconds after it is set (a map made with `capacity` or `ttl` only). */
  ttl?: number;
}

/** A map's statistics (`map.stats()`, and `weftjs/metrics`). */
export interface SharedMapStats {
  size: number;
  capacity: number | undefined;
  /** Reads (`get`) that found their key, since the map was made, on every thread. */
  hits: number;
  /** Reads that did not. */
  misses: number;
  /** Entries evicted for room or expired (bounded or expiring maps). */
  evictions: number;
  /** `compareAndSet` calls that found another value (contention, or a stale expectation). */
  casFailures: number;
}

function checkKey(key: unknown): void {
  if (typeof key === 'string') {
    if (!key.isWellFormed()) throw new InvalidArgumentError('a SharedMap key string must be well-formed UTF-16 (no lone surrogates)');
  } else if (typeof key !== 'number' && typeof key !== 'bigint') {
    throw new InvalidArgumentError(`a SharedMap key must be a string, a number or a bigint, got ${describe(key)}`);
  }
}

function ttlOf(ttl: unknown, what: string): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
    throw new InvalidArgumentError(`${what} must be a positive, finite number of milliseconds, got ${describe(ttl)}`);
  }
  return ttl;
}

const MAP_OPTIONS = optionNames<SharedMapOptions>()(['capacity', 'ttl']);
const SET_OPTIONS = optionNames<SetOptions>()(['ttl']);

function setTtl(options: SetOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  return ttlOf(checkOptions(options, SET_OPTIONS, 'SharedMap write options').ttl, 'ttl');
}

/**
 * A concurrent map from strings, numbers and bigints to structured-cloneable values, shared
 * between threads. Every operation is atomic; `increment`, `compareAndSet` and `getOrInsert` are
 * read-modify-writes that no other write to the same key interleaves with.
 *
 * `compareAndSet` compares primitives by SameValueZero (`NaN` equals `NaN`, `0` equals `-0`)
 * and other values (objects, typed arrays) by their encoded bytes: equal when they encode the same
 * (same kind, same properties in the same order, same contents), never by identity.
 */
export class SharedMap<K extends MapKey = MapKey, V extends Storable = Storable> implements Iterable<[K, V]> {
  readonly #native: NativeMap;
  readonly #fast: FastOps;
  #handle: SharedMapHandle<K, V> | undefined;

  constructor(options?: SharedMapOptions);
  /** @internal */
  constructor(options: undefined, attachTo: NativeMap);
  constructor(options?: SharedMapOptions, attachTo?: NativeMap) {
    if (attachTo !== undefined) {
      if (!isNativeOf(attachTo, native.NativeMap)) {
        throw new InvalidArgumentError('to attach to a map from another thread, use SharedMap.from(handle)');
      }
      this.#native = attachTo;
    } else {
      const { capacity, ttl } = SharedMap.#options(options);
      try {
        this.#native = new native.NativeMap(capacity, ttl);
      } catch (err) {
        throw fromNative(err);
      }
    }
    this.#fast = this.#native.fastOps();
  }

  static #options(options: SharedMapOptions | undefined): { capacity: number | undefined; ttl: number | undefined } {
    const { capacity, ttl } = checkOptions(options, MAP_OPTIONS, 'SharedMap options');
    if (capacity !== undefined && (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1)) {
      throw new InvalidArgumentError(`capacity must be a positive integer, got ${describe(capacity)}`);
    }
    return { capacity, ttl: ttlOf(ttl, 'ttl') };
  }

  /**
   * Attaches to the map behind `handle`, from any thread of the process that made it. Throws
   * `WEFT_STALE_HANDLE` if that map no longer exists (or the handle is from another process) and
   * `WEFT_INVALID_ARG` if `handle` is not a map handle.
   */
  static from<K extends MapKey = MapKey, V extends Storable = Storable>(handle: SharedMapHandle<K, V>): SharedMap<K, V> {
    const h = readHandle(handle, 'weft:SharedMap', 'SharedMap.from');
    return new SharedMap<K, V>(
      undefined,
      attachNative((id, p) => native.NativeMap.attach(id, p), h),
    );
  }

  /** A serializable handle to this map (see `SharedMapHandle`). */
  get handle(): SharedMapHandle<K, V> {
    this.#handle ??= Object.freeze({ kind: 'weft:SharedMap', id: this.#native.id, process: this.#native.token });
    return this.#handle;
  }

  /** The value of `key`, or `undefined`. */
  get(key: K): V | undefined {
    if (typeof key === 'string' && !key.isWellFormed()) checkKey(key);
    let v: ReturnType<FastOps['get']>;
    try {
      v = this.#fast.get(key, SCRATCH);
    } catch (err) {
      checkKey(key);
      throw fromNative(err);
    }
    return decodeOut(v) as V | undefined;
  }

  /** Whether `key` has a value. */
  has(key: K): boolean {
    if (typeof key === 'string' && !key.isWellFormed()) checkKey(key);
    try {
      return this.#fast.has(key);
    } catch (err) {
      checkKey(key);
      throw fromNative(err);
    }
  }

  /**
   * Sets `key` to `value`. Throws `WEFT_DATA_CLONE` if the value cannot be cloned, and
   * `WEFT_INVALID_ARG` for a bad key, `undefined`, or a `ttl` on a map made without capacity and
   * ttl (nothing is stored in every case).
   */
  set(key: K, value: V, options?: SetOptions): this {
    checkKey(key);
    const ttl = setTtl(options);
    try {
      if (ttl === undefined) {
        const t = typeof value;
        if (t === 'number' || t === 'boolean' || value === null || (t === 'string' && (value as string).isWellFormed())) {
          this.#fast.set(key, value as number | string | boolean | null);
          return this;
        }
        if (t === 'object' && !ArrayBuffer.isView(value)) {
          const w = encodeWire(value);
          this.#fast.setWire(key, w.buffer, w.length);
          return this;
        }
      }
      this.#native.set(key, encode(value), ttl);
    } catch (err) {
      throw fromNative(err);
    }
    return this;
  }

  /** Removes `key`; returns whether it had a value. */
  delete(key: K): boolean {
    if (typeof key === 'string' && !key.isWellFormed()) checkKey(key);
    try {
      return this.#fast.delete(key);
    } catch (err) {
      checkKey(key);
      throw fromNative(err);
    }
  }

  /**
   * Adds `delta` (default 1) to the number at `key` as one atomic step, and returns the sum; a
   * key without a value counts as 0. Throws `WEFT_INVALID_ARG` (and changes nothing) if the value
   * there is not a number.
   */
  increment(key: K, delta = 1): number {
    checkKey(key);
    if (typeof delta !== 'number') throw new InvalidArgumentError(`increment expects a number delta, got ${describe(delta)}`);
    try {
      return this.#native.increment(key, delta);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * Sets `key` to `next` if its value is `expected` (`undefined`: if it has no value), as one
   * atomic step; returns whether it did. Primitives compare by SameValueZero, other values by
   * their encoded bytes (see the class).
   */
  compareAndSet(key: K, expected: V | undefined, next: V, options?: SetOptions): boolean {
    checkKey(key);
    const ttl = setTtl(options);
    try {
      const hasExpected = expected !== undefined;
      const e: EncodedValue = hasExpected ? encode(expected) : null;
      return this.#native.compareAndSet(key, hasExpected, e, encode(next), ttl);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** The value of `key`; if it has none, sets it to `value` first (one atomic step). Returns the value it has now. */
  getOrInsert(key: K, value: V, options?: SetOptions): V {
    checkKey(key);
    const ttl = setTtl(options);
    let out: ReturnType<NativeMap['getOrInsert']>;
    try {
      out = this.#native.getOrInsert(key, encode(value), ttl);
    } catch (err) {
      throw fromNative(err);
    }
    return decodeOut(out) as V;
  }

  /** The number of entries (for a bounded or expiring map, after its pending evictions). */
  get size(): number {
    return this.#native.size;
  }

  /** Its capacity, or `undefined` if unbounded. */
  get capacity(): number | undefined {
    return this.#native.capacity ?? undefined;
  }

  /** Removes every entry. */
  clear(): void {
    this.#native.clear();
  }

  /**
   * A snapshot of every entry, taken when `entries()` is called, in no particular order: later
   * writes do not show. Values are decoded as the iteration reaches them.
   */
  entries(): IterableIterator<[K, V]> {
    return SharedMap.#walk(this.#native.entries(), (k, v) => [k as K, decodeOut(v as never) as V]);
  }

  /** The keys of a snapshot (see `entries`). */
  keys(): IterableIterator<K> {
    return SharedMap.#walk(this.#native.entries(), (k) => k as K);
  }

  /** The values of a snapshot (see `entries`). */
  values(): IterableIterator<V> {
    return SharedMap.#walk(this.#native.entries(), (_k, v) => decodeOut(v as never) as V);
  }

  static *#walk<T>(flat: readonly unknown[], item: (k: unknown, v: unknown) => T): IterableIterator<T> {
    for (let i = 0; i < flat.length; i += 2) yield item(flat[i], flat[i + 1]);
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Counters of the map (shared by every thread). */
  stats(): SharedMapStats {
    const s = this.#native.stats();
    return {
      size: s.size,
      capacity: s.capacity ?? undefined,
      hits: s.hits,
      misses: s.misses,
      evictions: s.evictions,
      casFailures: s.casFailures,
    };
  }

  get [Symbol.toStringTag](): string {
    return 'SharedMap';
  }

  [inspect.custom](): string {
    const cap = this.capacity;
    return `SharedMap { id: ${this.#native.id}, size: ${this.size}${cap === undefined ? '' : `, capacity: ${cap}`} }`;
  }
}

// A SharedMap anywhere in a task argument, a message or a shared structure's value crosses as its
// handle and arrives attached (`SharedMap.from`).
registerSharedHandle(HANDLE_SHARED_MAP, 'weft:SharedMap', SharedMap.prototype, (h) => SharedMap.from(h));
