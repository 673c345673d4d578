/**
 * `WireWriter`: values to bytes (the layout is described in index.ts).
 *
 * Two ways to write an object value:
 * - plain (the hot path): plain arrays and objects of primitives, views and handles, with no
 *   shared or cyclic reference, at most MAX_PLAIN_CONTAINERS containers and MAX_PLAIN_ITEMS
 *   elements: written as they are, with no identity table (the containers seen are compared in a
 *   small array, to notice a repeat);
 * - GRAPH: anything else (Map, Set, Date, RegExp, errors, class instances, boxed primitives,
 *   ArrayBuffers, holes and extra array properties, shared and cyclic references, big values):
 *   every object gets an index in a Map as it is written, and a repeat is a REF to it.
 * A plain attempt that meets something it cannot write rolls back and writes the value as GRAPH.
 */
import { types } from 'node:util';
import { DataCloneError } from '../../errors.js';
import { ByteWriter } from './bytes.js';
import { ERROR_OWN_FIELDS, classChain } from './error-classes.js';
import * as format from './format.js';
import { refusal } from './refused.js';

// Local bindings for the hot paths (an imported binding can compile to a getter call).
const { WIRE_VERSION, TAG_UNDEFINED, TAG_NULL, TAG_FALSE, TAG_TRUE, TAG_INT32, TAG_F64, TAG_ERROR, TAG_REF } = format;
const { TAG_ARRAY, TAG_OBJECT, TAG_HANDLE, TAG_SPARSE_ARRAY, TAG_MAP, TAG_SET, TAG_DATE, TAG_REGEXP } = format;
const { TAG_BOXED, TAG_ARRAY_BUFFER, TAG_GRAPH, AB_RESIZABLE, VALUES_U32_COUNT, MAX_DEPTH, MAX_ERROR_NESTING, MOVED } = format;
const { ERR_STACK, ERR_CODE, ERR_CAUSE, ERR_ERRORS, ERR_PROPS, ERR_CLASS, ERR_OWN_NAME } = format;
const { VIEW_KIND_BY_PROTO, viewKindOf, handleCodecFor, describeValue, toCloneError } = format;
const { isProxy, isNativeError, isDate, isMap, isSet, isRegExp, isBoxedPrimitive, isArrayBuffer } = types;
const { isNumberObject, isStringObject, isBooleanObject, isBigIntObject } = types;
const getPrototypeOf = Object.getPrototypeOf;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;

/** A plain value with more containers (arrays, objects, views) than this is written as GRAPH. */
const MAX_PLAIN_CONTAINERS = 32;
/**
 * A plain value with more elements and properties than this (all containers together) is written
 * as GRAPH: it bounds the work a plain attempt can waste before it meets what it cannot write.
 */
const MAX_PLAIN_ITEMS = 1024;

const dateGetTime = Date.prototype.getTime;
const numberValueOf = Number.prototype.valueOf;
const stringValueOf = String.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigintValueOf = BigInt.prototype.valueOf;
function getter<T>(proto: object, name: string): ((this: T) => unknown) | undefined {
  return Object.getOwnPropertyDescriptor(proto, name)?.get as ((this: T) => unknown) | undefined;
}
const regexpSource = getter<RegExp>(RegExp.prototype, 'source')!;
/** The flags of a RegExp from its own slots (the getters of RegExp.prototype), in canonical order. */
const REGEXP_FLAGS = (
  [
    ['d', 'hasIndices'],
    ['g', 'global'],
    ['i', 'ignoreCase'],
    ['m', 'multiline'],
    ['s', 'dotAll'],
    ['u', 'unicode'],
    ['v', 'unicodeSets'],
    ['y', 'sticky'],
  ] as const
)
  .map(([flag, name]): [string, ((this: RegExp) => unknown) | undefined] => [flag, getter<RegExp>(RegExp.prototype, name)])
  .filter((f): f is [string, (this: RegExp) => unknown] => f[1] !== undefined);
const abResizable = getter<ArrayBuffer>(ArrayBuffer.prototype, 'resizable');
const abMaxByteLength = getter<ArrayBuffer>(ArrayBuffer.prototype, 'maxByteLength');

/** The index of an own array key that is an array index (`"3"` -> 3), else -1. */
function arrayIndex(key: string): number {
  const i = Number(key);
  return Number.isInteger(i) && i >= 0 && i < 0xffff_ffff && String(i) === key ? i : -1;
}

function refused(what: string): DataCloneError {
  return new DataCloneError(`${what} could not be cloned`);
}

/** Values to bytes, on a `ByteWriter`. */
export class WireWriter extends ByteWriter {
  /** Replaces the registered handle codecs for this writer (see `HandleProfile`), when set. */
  handles: format.HandleProfile | undefined = undefined;
  /** Containers of the plain value being written (a repeat makes it a GRAPH value). */
  #seen: (object | undefined)[] = new Array<object | undefined>(MAX_PLAIN_CONTAINERS).fill(undefined);
  #seenCount = 0;
  /** Elements and properties the plain value being written may still have. */
  #budget = 0;
  /** The objects of the GRAPH value being written, in the order written (REF i), and their indices. */
  #objs: object[] = [];
  #ids: Map<object, number> | undefined = undefined;
  /** Containers open around the GRAPH value being written (MAX_DEPTH). */
  #depth = 0;
  /** Errors being written, one inside the other (MAX_ERROR_NESTING). */
  #errorDepth = 0;

  /**
   * The version byte and a tagged value. Throws `DataCloneError` (`WEFT_DATA_CLONE`) if it cannot
   * be cloned, and then leaves the writer as it was before the call.
   */
  value(v: unknown): void {
    const start = this._pos;
    if (start + 10 > this._cap) this._grow(10);
    const u8 = this._u8;
    u8[start] = WIRE_VERSION;
    if (typeof v === 'number') {
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
        u8[start + 1] = TAG_INT32;
        this._dv.setInt32(start + 2, v, true);
        this._pos = start + 6;
      } else {
        u8[start + 1] = TAG_F64;
        this._dv.setFloat64(start + 2, v, true);
        this._pos = start + 10;
      }
      return;
    }
    this._pos = start + 1;
    try {
      this.#top(v);
    } catch (err) {
      this._pos = start;
      this.#clearSeen();
      throw toCloneError(err);
    }
  }

  /** The version byte, a count and that many tagged values; on `DataCloneError`, nothing is written. */
  values(list: readonly unknown[]): void {
    const n = list.length;
    const start = this._pos;
    if (start + 6 > this._cap) this._grow(6);
    this._u8[start] = WIRE_VERSION;
    if (n < VALUES_U32_COUNT) {
      this._u8[start + 1] = n;
      this._pos = start + 2;
    } else {
      this._u8[start + 1] = VALUES_U32_COUNT;
      this._dv.setUint32(start + 2, n, true);
      this._pos = start + 6;
    }
    for (let i = 0; i < n; i++) {
      const v = list[i];
      if (typeof v === 'number') {
        this._number(v);
        continue;
      }
      try {
        this.#top(v);
      } catch (err) {
        this._pos = start;
        this.#clearSeen();
        throw toCloneError(err);
      }
    }
  }

  /** A top-level value: a plain attempt first, then GRAPH. */
  #top(v: unknown): void {
    if (typeof v !== 'object' || v === null) {
      this.#any(v);
      return;
    }
    const proto = getPrototypeOf(v) as unknown;
    if (proto === ObjectPrototype || proto === ArrayPrototype || proto === null) {
      const start = this._pos;
      this.#budget = MAX_PLAIN_ITEMS;
      const ok = this.#plain(v);
      this.#clearSeen();
      if (ok) return;
      this._pos = start;
    } else if (ArrayBuffer.isView(v)) {
      const kind = VIEW_KIND_BY_PROTO.get(proto as object);
      if (kind !== undefined) {
        this._view(kind, v);
        return;
      }
    } else {
      const codec = handleCodecFor(proto);
      if (codec !== undefined) {
        this.#handle(codec, v);
        return;
      }
    }
    this.#graph(v);
  }

  // -------------------------------------------------------------------------------------------
  // Plain values

  /**
   * Writes a plain array/object (ARRAY/OBJECT) if it and everything in it can be written so;
   * returns false otherwise (the caller rolls back and writes a GRAPH value).
   */
  #plain(v: object): boolean {
    if (!this.#see(v) || isProxy(v)) return false;
    if (Array.isArray(v)) {
      const a = v as unknown[];
      const n = a.length;
      if ((this.#budget -= n) < 0) return false;
      this._tag(TAG_ARRAY);
      this.u32(n);
      for (let i = 0; i < n; i++) {
        const e = a[i];
        if (e === undefined && !(i in a)) return false; // a hole
        if (!this.#plainElement(e)) return false;
      }
      // Own properties besides the indices (a RegExp match's `index`, ...) are cloned too.
      return Object.keys(a).length === n;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    const n = keys.length;
    if ((this.#budget -= n) < 0) return false;
    this._tag(TAG_OBJECT);
    this.u32(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      this._taggedString(k);
      if (!this.#plainElement(o[k])) return false;
    }
    return true;
  }

  /** Notes a container of the plain value; false if it was seen before or there are too many. */
  #see(v: object): boolean {
    const seen = this.#seen;
    const count = this.#seenCount;
    for (let i = 0; i < count; i++) if (seen[i] === v) return false;
    if (count >= MAX_PLAIN_CONTAINERS) return false;
    seen[count] = v;
    this.#seenCount = count + 1;
    return true;
  }

  /** Forgets the containers of the last plain value (without keeping them alive). */
  #clearSeen(): void {
    const seen = this.#seen;
    for (let i = 0; i < this.#seenCount; i++) seen[i] = undefined;
    this.#seenCount = 0;
  }

  #plainElement(e: unknown): boolean {
    switch (typeof e) {
      case 'number':
        this._number(e);
        return true;
      case 'string':
        this._taggedString(e);
        return true;
      case 'boolean':
        this._tag(e ? TAG_TRUE : TAG_FALSE);
        return true;
      case 'undefined':
        this._tag(TAG_UNDEFINED);
        return true;
      case 'bigint':
        this._bigint(e);
        return true;
      case 'object': {
        if (e === null) {
          this._tag(TAG_NULL);
          return true;
        }
        const proto = getPrototypeOf(e) as unknown;
        if (proto === ObjectPrototype || proto === ArrayPrototype || proto === null) return this.#plain(e);
        const codec = handleCodecFor(proto);
        if (codec !== undefined) {
          this.#handle(codec, e);
          return true;
        }
        if (ArrayBuffer.isView(e)) {
          const kind = VIEW_KIND_BY_PROTO.get(proto as object);
          if (kind === undefined || !this.#see(e)) return false;
          this._view(kind, e);
          return true;
        }
        return false;
      }
      default:
        return false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // GRAPH values

  #graph(v: object): void {
    this._tag(TAG_GRAPH);
    this.#ids = new Map();
    this.#objs = [];
    this.#depth = 0;
    try {
      this.#object(v);
    } finally {
      this.#ids = undefined;
      this.#objs = [];
    }
  }

  /** Any value inside a GRAPH value. */
  #any(v: unknown): void {
    switch (typeof v) {
      case 'number':
        this._number(v);
        return;
      case 'string':
        this._taggedString(v);
        return;
      case 'boolean':
        this._tag(v ? TAG_TRUE : TAG_FALSE);
        return;
      case 'undefined':
        this._tag(TAG_UNDEFINED);
        return;
      case 'bigint':
        this._bigint(v);
        return;
      case 'object':
        if (v === null) this._tag(TAG_NULL);
        else this.#object(v);
        return;
      default:
        throw refused(describeValue(v));
    }
  }

  /** Gives `v` the next object index (REF). */
  #register(v: object): void {
    this.#ids!.set(v, this.#objs.length);
    this.#objs.push(v);
  }

  /** Forgets the objects registered from index `mark` on (a part written and then rolled back). */
  #unregisterFrom(mark: number): void {
    const objs = this.#objs;
    for (let i = mark; i < objs.length; i++) this.#ids!.delete(objs[i]!);
    objs.length = mark;
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) throw new DataCloneError(`the value is nested more than ${MAX_DEPTH} levels deep`);
  }

  #object(v: object): void {
    const id = this.#ids!.get(v);
    if (id !== undefined) {
      this._tag(TAG_REF);
      this.u32(id);
      return;
    }
    if (isProxy(v)) throw refused('a Proxy');
    const proto = getPrototypeOf(v) as unknown;
    if (proto === ObjectPrototype || proto === null) {
      this.#register(v);
      this.#properties(v);
    } else if (Array.isArray(v)) {
      this.#register(v);
      this.#array(v as unknown[]);
    } else if (ArrayBuffer.isView(v)) {
      const kind = VIEW_KIND_BY_PROTO.get(proto as object) ?? viewKindOf(v);
      if (kind < 0) throw refused(`a ${v.constructor.name} (a kind of view the wire format does not have)`);
      this.#register(v);
      this._view(kind, v);
    } else if (v instanceof Error || isNativeError(v)) {
      this.#error(v as Error);
    } else if (isDate(v)) {
      this.#register(v);
      this._tag(TAG_DATE);
      this.f64(dateGetTime.call(v));
    } else if (isMap(v)) {
      this.#register(v);
      this.#map(v as Map<unknown, unknown>);
    } else if (isSet(v)) {
      this.#register(v);
      this.#set(v as Set<unknown>);
    } else if (isRegExp(v)) {
      this.#register(v);
      this._tag(TAG_REGEXP);
      this._taggedString(regexpSource.call(v as RegExp) as string);
      let flags = '';
      for (const [flag, get] of REGEXP_FLAGS) if (get.call(v as RegExp) === true) flags += flag;
      this._taggedString(flags);
    } else if (isBoxedPrimitive(v)) {
      this.#boxed(v);
    } else if (isArrayBuffer(v)) {
      this.#register(v);
      this.#arrayBuffer(v as ArrayBuffer);
    } else {
      const codec = handleCodecFor(proto);
      if (codec !== undefined) {
        this.#handle(codec, v);
        return;
      }
      if (MOVED in v) {
        // A move() marker inside a value: its value, copied.
        this.#any((v as Record<symbol, unknown>)[MOVED]);
        return;
      }
      const why = refusal(v);
      if (why !== undefined) throw new DataCloneError(why);
      // An instance of some class: its own enumerable properties, as structured clone sends it.
      this.#register(v);
      this.#properties(v);
    }
  }

  /** OBJECT: the own enumerable string-keyed properties. */
  #properties(v: object): void {
    this.#enter();
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    const n = keys.length;
    this._tag(TAG_OBJECT);
    this.u32(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      this._taggedString(k);
      this.#any(o[k]);
    }
    this.#depth--;
  }

  /** ARRAY when dense without other properties, else SPARSE_ARRAY. */
  #array(a: unknown[]): void {
    this.#enter();
    const n = a.length;
    // Present indices and other own enumerable properties.
    const keys = Object.keys(a);
    if (keys.length === n) {
      const start = this._pos;
      const mark = this.#objs.length;
      this._tag(TAG_ARRAY);
      this.u32(n);
      let i = 0;
      for (; i < n; i++) {
        const e = a[i];
        if (e === undefined && !(i in a)) break; // a hole (and as many other properties)
        this.#any(e);
      }
      if (i === n) {
        this.#depth--;
        return;
      }
      this._pos = start;
      this.#unregisterFrom(mark);
    }
    this._tag(TAG_SPARSE_ARRAY);
    this.u32(n);
    this.u32(keys.length);
    for (const k of keys) {
      const index = arrayIndex(k);
      if (index >= 0) this._number(index);
      else this._taggedString(k);
      this.#any(a[k as unknown as number]);
    }
    this.#depth--;
  }

  #map(m: Map<unknown, unknown>): void {
    this.#enter();
    this._tag(TAG_MAP);
    const at = this._pos;
    this.u32(0);
    let n = 0;
    // The entries as they are when reached (as structured clone iterates them).
    for (const [k, v] of Map.prototype.entries.call(m) as IterableIterator<[unknown, unknown]>) {
      this.#any(k);
      this.#any(v);
      n++;
    }
    this.patchU32(at, n);
    this.#depth--;
  }

  #set(s: Set<unknown>): void {
    this.#enter();
    this._tag(TAG_SET);
    const at = this._pos;
    this.u32(0);
    let n = 0;
    for (const v of Set.prototype.values.call(s) as IterableIterator<unknown>) {
      this.#any(v);
      n++;
    }
    this.patchU32(at, n);
    this.#depth--;
  }

  #boxed(v: object): void {
    let p: number | string | boolean | bigint;
    if (isNumberObject(v)) p = numberValueOf.call(v);
    else if (isStringObject(v)) p = stringValueOf.call(v);
    else if (isBooleanObject(v)) p = booleanValueOf.call(v);
    else if (isBigIntObject(v)) p = bigintValueOf.call(v);
    else throw refused('a Symbol object');
    this.#register(v);
    this._tag(TAG_BOXED);
    this.#any(p);
  }

  #arrayBuffer(ab: ArrayBuffer): void {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(ab);
    } catch (cause) {
      throw new DataCloneError('a detached ArrayBuffer could not be cloned', { cause });
    }
    const n = bytes.length;
    const resizable = abResizable?.call(ab) === true;
    if (this._pos + 10 + n > this._cap) this._grow(10 + n);
    this._tag(TAG_ARRAY_BUFFER);
    this.u8(resizable ? AB_RESIZABLE : 0);
    this.u32(n);
    if (resizable) this.u32(abMaxByteLength!.call(ab) as number);
    this.bytes(bytes);
  }

  #handle(codec: format.HandleCodec, v: object): void {
    if (this.handles !== undefined) {
      this.handles.write(this, v, codec);
      return;
    }
    this.handleHeader(codec.subTag);
    codec.write(this, v);
  }

  /** `TAG_HANDLE` and a sub-tag: the start of a handle (for a `HandleProfile`'s `write`). */
  handleHeader(subTag: number): void {
    if (this._pos + 2 > this._cap) this._grow(2);
    this._u8[this._pos] = TAG_HANDLE;
    this._u8[this._pos + 1] = subTag;
    this._pos += 2;
  }

  // -------------------------------------------------------------------------------------------
  // Errors

  #error(err: Error): void {
    // Too deep: thrown to the #optional writing it, which leaves it out (a top-level error is at
    // depth 0, so this never fails a whole value).
    if (this.#errorDepth >= MAX_ERROR_NESTING) throw new DataCloneError(`errors nested more than ${MAX_ERROR_NESTING} deep`);
    this.#enter();
    this.#register(err);
    this.#errorDepth++;
    try {
      this.#errorBody(err);
    } finally {
      this.#errorDepth--;
    }
    this.#depth--;
  }

  #errorBody(err: Error): void {
    const e = err as Error & { code?: unknown; cause?: unknown; errors?: unknown };
    this._tag(TAG_ERROR);
    const flagsAt = this._pos;
    this.u8(0);
    let flags = 0;
    const name: unknown = e.name;
    const message: unknown = e.message;
    const stack: unknown = e.stack;
    this._taggedString(typeof name === 'string' ? name : String(name));
    this._taggedString(typeof message === 'string' ? message : String(message));
    const chain = classChain(e);
    if (chain !== undefined) {
      flags |= ERR_CLASS;
      this.u8(Math.min(chain.length, 255));
      for (const c of chain.slice(0, 255)) this._taggedString(c);
    }
    if (Object.getOwnPropertyDescriptor(e, 'name')?.enumerable === true) flags |= ERR_OWN_NAME;
    if (typeof stack === 'string') {
      flags |= ERR_STACK;
      this._taggedString(stack);
    }
    // Parts that cannot be cloned are left out rather than failing the whole error: an error is
    // usually on its way to report a failure, and should get there.
    const code = e.code;
    if (code !== undefined && this.#optional(code)) flags |= ERR_CODE;
    if (Object.hasOwn(e, 'cause') && this.#optional(e.cause)) flags |= ERR_CAUSE;
    const list = e.errors;
    const hasErrors = Array.isArray(list) && (e instanceof AggregateError || name === 'AggregateError');
    if (hasErrors) {
      flags |= ERR_ERRORS;
      const items = list as unknown[];
      this.u32(items.length);
      for (const item of items) if (!this.#optional(item)) this._tag(TAG_UNDEFINED);
    }
    const keys = Object.keys(e).filter((k) => !ERROR_OWN_FIELDS.has(k) && !(hasErrors && k === 'errors'));
    if (keys.length > 0) {
      const countAt = this._pos;
      this.u32(0);
      let n = 0;
      for (const k of keys) {
        const at = this._pos;
        this._taggedString(k);
        let ok = false;
        try {
          ok = this.#optional((e as unknown as Record<string, unknown>)[k]);
        } catch {
          /* a getter that throws: left out */
        }
        if (ok) n++;
        else this._pos = at;
      }
      if (n > 0) {
        flags |= ERR_PROPS;
        this.patchU32(countAt, n);
      } else {
        this._pos = countAt;
      }
    }
    this._u8[flagsAt] = flags;
  }

  /** Writes `v` if it can be cloned (returns true), else writes nothing and returns false. */
  #optional(v: unknown): boolean {
    const start = this._pos;
    const mark = this.#objs.length;
    const depth = this.#depth;
    try {
      this.#any(v);
      return true;
    } catch {
      this._pos = start;
      this.#unregisterFrom(mark);
      this.#depth = depth;
      return false;
    }
  }
}
