/**
 * `WireReader`: bytes to values (the layout is described in index.ts). Any bytes give a value or a
 * WeftError WEFT_INVALID_ARG: lengths and counts are checked against the bytes left before
 * anything is allocated, nesting is limited to MAX_DEPTH, and the version byte must be this one.
 */
import { Buffer } from 'node:buffer';
import { BUILTIN_ERROR_NAMES, ERROR_CLASSES, WEFT_ERROR_CLASSES, classFor } from './error-classes.js';
import * as format from './format.js';
import * as strings from './strings.js';

// Local bindings for the hot paths (an imported binding can compile to a getter call).
const { WIRE_VERSION, TAG_UNDEFINED, TAG_NULL, TAG_FALSE, TAG_TRUE, TAG_INT32, TAG_F64, TAG_STRING } = format;
const { TAG_STRING16, TAG_BIGINT, TAG_VIEW, TAG_ERROR, TAG_REF, TAG_ARRAY, TAG_OBJECT, TAG_HANDLE } = format;
const { TAG_SPARSE_ARRAY, TAG_MAP, TAG_SET, TAG_DATE, TAG_REGEXP, TAG_BOXED, TAG_ARRAY_BUFFER, TAG_GRAPH } = format;
const { ERR_STACK, ERR_CODE, ERR_CAUSE, ERR_ERRORS, ERR_PROPS, ERR_CLASS, ERR_OWN_NAME, AB_RESIZABLE } = format;
const { VALUES_U32_COUNT, MAX_DEPTH, VIEW_BUFFER, VIEWS, VIEW_ELEMENT_SIZE, handleCodecOf } = format;
// Explicitly typed, so that control flow knows they do not return.
const corrupt: typeof format.corrupt = format.corrupt;
const unsupportedVersion: typeof format.unsupportedVersion = format.unsupportedVersion;
const tooDeep: typeof format.tooDeep = format.tooDeep;
const { SHORT_STRING, fromCharCode, asciiShort, utf8Slice, ucs2Slice } = strings;

/** Object keys of up to this many ASCII bytes are cached by the reader. */
const MAX_CACHED_KEY = 32;
const KEY_CACHE_SIZE = 1024;
/** Objects of more properties than this are made as dictionaries (see #bigObject). */
const MAX_FAST_OBJECT = 32;
/** Sparse arrays longer than this are made without a backing store of holes (see #sparseArray). */
const MAX_FILLED_LENGTH = 1024;

/**
 * A Buffer (or another Uint8Array subclass) as a plain Uint8Array over the same bytes, so that
 * `slice` copies (Buffer's `slice` is `subarray`).
 */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function define(o: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable, configurable: true });
}

/** Reads what a `WireWriter` wrote, from a Uint8Array (any byteOffset). */
export class WireReader {
  /** Replaces the registered handle codecs for this reader (see `HandleProfile`), when set. */
  handles: format.HandleProfile | undefined = undefined;
  #u8: Uint8Array;
  #ab: ArrayBufferLike;
  #base: number;
  /** Over #ab from #base, made when first needed (most small values need none). */
  #dv: DataView | undefined = undefined;
  #buf: Buffer | undefined = undefined;
  #pos = 0;
  #end: number;
  /** The objects of the GRAPH value being read, in order (REF i); undefined outside one. */
  #objs: object[] | undefined = undefined;
  /**
   * Containers (ARRAY, SPARSE_ARRAY, OBJECT, MAP, SET, ERROR) open around the value being read
   * (MAX_DEPTH). Set to 0 by `value()`/`values()` for each top-level value, so a decode that threw
   * leaves nothing behind (a HandleCodec's `read` must therefore not call `value()`).
   */
  #depth = 0;
  /** Recently decoded object keys, by a hash of their bytes. */
  #keys: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

  constructor(bytes: Uint8Array) {
    bytes = plainBytes(bytes);
    this.#u8 = bytes;
    this.#ab = bytes.buffer;
    this.#base = bytes.byteOffset;
    this.#end = bytes.length;
  }

  /**
   * Starts over on other bytes (saves allocating a reader per batch): the first `length` of them
   * (at most all), so that a reused buffer needs no view per value.
   */
  reset(bytes: Uint8Array, length = bytes.length): void {
    // Bytes from a socket come as a Buffer: it serves the string decoders as it is.
    const buf = Object.getPrototypeOf(bytes) === Buffer.prototype ? (bytes as Buffer) : undefined;
    bytes = plainBytes(bytes);
    const ab = bytes.buffer;
    const base = bytes.byteOffset;
    if (ab !== this.#ab || base !== this.#base) {
      this.#ab = ab;
      this.#base = base;
      this.#dv = undefined;
      this.#buf = buf;
    } else if (buf !== undefined) {
      this.#buf = buf;
    } else if (this.#buf !== undefined && this.#buf.length < bytes.length) {
      this.#buf = undefined;
    }
    this.#u8 = bytes;
    this.#end = length >= 0 && length <= bytes.length ? length : bytes.length;
    this.#pos = 0;
  }

  get offset(): number {
    return this.#pos;
  }

  /** Moves to `v` (a record's end, read from the bytes): out of range is a corrupt record. */
  set offset(v: number) {
    if (!(v >= 0 && v <= this.#end)) corrupt(`offset ${v} out of range 0..${this.#end}`);
    this.#pos = v;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  skip(n: number): void {
    this.offset = this.#pos + n;
  }

  #need(n: number): number {
    const p = this.#pos;
    if (p + n > this.#end) corrupt(`needs ${n} bytes at ${p}, ${this.#end - p} left`);
    this.#pos = p + n;
    return p;
  }

  /**
   * A DataView over the rest of the ArrayBuffer from the bytes' start, so that `reset` can keep
   * it for other bytes of the same buffer (a WireWriter's `view()` after each batch); reads are
   * bounded by #end.
   */
  #dataView(): DataView {
    return (this.#dv ??= new DataView(this.#ab, this.#base));
  }

  /** The little-endian u32 at `p` (in bounds), without a DataView. */
  #u32At(p: number): number {
    const u8 = this.#u8;
    return (u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16)) + u8[p + 3]! * 0x1000000;
  }

  #buffer(): Buffer {
    return (this.#buf ??= Buffer.from(this.#u8.buffer, this.#u8.byteOffset, this.#u8.byteLength));
  }

  u8(): number {
    const p = this.#pos;
    if (p >= this.#end) corrupt(`needs 1 byte at ${p}`);
    this.#pos = p + 1;
    return this.#u8[p]!;
  }

  /** The next byte, without moving. */
  peekU8(): number {
    const p = this.#pos;
    if (p >= this.#end) corrupt(`needs 1 byte at ${p}`);
    return this.#u8[p]!;
  }

  /** The u16 at `ahead` bytes past the current position, without moving. */
  peekU16(ahead: number): number {
    const at = this.#pos + ahead;
    if (!(at + 2 <= this.#end)) corrupt(`needs 2 bytes at ${at}, ${this.#end - at} left`);
    return this.#dataView().getUint16(at, true);
  }

  u16(): number {
    return this.#dataView().getUint16(this.#need(2), true);
  }

  u32(): number {
    return this.#u32At(this.#need(4));
  }

  i32(): number {
    return this.#u32At(this.#need(4)) | 0;
  }

  f32(): number {
    return this.#dataView().getFloat32(this.#need(4), true);
  }

  f64(): number {
    return this.#dataView().getFloat64(this.#need(8), true);
  }

  /** The next `n` bytes, as a view into the reader's bytes (no copy). */
  bytes(n: number): Uint8Array {
    const p = this.#need(n);
    return this.#u8.subarray(p, p + n);
  }

  /** What `WireWriter.string` wrote. */
  string(): string {
    const n = this.u32();
    return this.#utf8(this.#need(n), n);
  }

  #utf8(p: number, n: number): string {
    if (n <= SHORT_STRING) {
      const s = asciiShort(this.#u8, p, n);
      if (s !== undefined) return s;
    }
    return utf8Slice(this.#buffer(), p, p + n);
  }

  #utf16(p: number, n: number): string {
    if (n & 1) corrupt('odd UTF-16 byte length');
    if (n <= 2 * SHORT_STRING) {
      const u8 = this.#u8;
      let s = '';
      for (let i = 0; i < n; i += 2) s += fromCharCode(u8[p + i]! | (u8[p + i + 1]! << 8));
      return s;
    }
    return ucs2Slice(this.#buffer(), p, p + n);
  }

  /** An object key: short ASCII keys come from a cache, so they are the same (internalized) strings. */
  #key(): string {
    const u8 = this.#u8;
    const p = this.#pos;
    if (p + 5 <= this.#end && u8[p] === TAG_STRING) {
      const n = this.#u32At(p + 1);
      if (n <= MAX_CACHED_KEY && p + 5 + n <= this.#end) {
        const q = p + 5;
        let h = n;
        for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + u8[q + i]!) | 0;
        const slot = h & (KEY_CACHE_SIZE - 1);
        const cached = this.#keys[slot];
        // biome-ignore lint/suspicious/noConfusingLabels: a labelled block leaves the comparison loop without a flag (hot path)
        found: if (cached !== undefined && cached.length === n) {
          for (let i = 0; i < n; i++) if (cached.charCodeAt(i) !== u8[q + i]) break found;
          this.#pos = q + n;
          return cached;
        }
        const s = asciiShort(u8, q, n);
        if (s !== undefined) {
          this.#keys[slot] = s;
          this.#pos = q + n;
          return s;
        }
      }
    }
    return this.#string();
  }

  /** What `WireWriter.value` wrote: the version byte and a tagged value. */
  value(): unknown {
    const p = this.#pos;
    const u8 = this.#u8;
    // The version byte and the first tag at once (the hot path); a short read or another version
    // goes the long way, for its error.
    if (p + 2 <= this.#end && u8[p] === WIRE_VERSION) {
      const tag = u8[p + 1]!;
      // Numbers, the most common values of all, without the switch.
      if (tag === TAG_INT32 && p + 6 <= this.#end) {
        this.#pos = p + 6;
        return this.#u32At(p + 2) | 0;
      }
      if (tag === TAG_F64 && p + 10 <= this.#end) {
        this.#pos = p + 10;
        return this.#dataView().getFloat64(p + 2, true);
      }
      this.#pos = p + 2;
      this.#depth = 0;
      return tag === TAG_GRAPH ? this.#graph() : this.#tagged(tag);
    }
    this.#version();
    return this.#top();
  }

  /** Reads the version byte: this version, or WEFT_INVALID_ARG. */
  #version(): void {
    const version = this.u8();
    if (version !== WIRE_VERSION) unsupportedVersion(version);
  }

  /** What `WireWriter.values` wrote. */
  values(): unknown[] {
    this.#version();
    let n = this.u8();
    if (n === VALUES_U32_COUNT) n = this.u32();
    // Each value takes at least a byte.
    if (n > this.#end - this.#pos) corrupt(`${n} values`);
    const out: unknown[] = [];
    const u8 = this.#u8;
    for (let i = 0; i < n; i++) {
      // Small integers without the switch (as in value()).
      const p = this.#pos;
      if (u8[p] === TAG_INT32 && p + 5 <= this.#end) {
        this.#pos = p + 5;
        out.push(this.#dataView().getInt32(p + 1, true));
      } else {
        out.push(this.#top());
      }
    }
    return out;
  }

  #top(): unknown {
    this.#depth = 0;
    const tag = this.u8();
    return tag === TAG_GRAPH ? this.#graph() : this.#tagged(tag);
  }

  /** A GRAPH value (its tag read). */
  #graph(): unknown {
    this.#objs = [];
    try {
      return this.#value();
    } finally {
      // Whatever happened: REF refers to nothing outside this value.
      this.#objs = undefined;
    }
  }

  /** Gives a new object the next index (REF), inside a GRAPH value. */
  #register(o: object): void {
    if (this.#objs !== undefined) this.#objs.push(o);
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) tooDeep();
  }

  #value(): unknown {
    return this.#tagged(this.u8());
  }

  /** The value of tag `tag` (already read). */
  #tagged(tag: number): unknown {
    switch (tag) {
      case TAG_INT32:
        return this.#dataView().getInt32(this.#need(4), true);
      case TAG_F64:
        return this.#dataView().getFloat64(this.#need(8), true);
      case TAG_UNDEFINED:
        return undefined;
      case TAG_NULL:
        return null;
      case TAG_FALSE:
        return false;
      case TAG_TRUE:
        return true;
      case TAG_STRING: {
        const n = this.u32();
        return this.#utf8(this.#need(n), n);
      }
      case TAG_STRING16: {
        const n = this.u32();
        return this.#utf16(this.#need(n), n);
      }
      case TAG_ARRAY: {
        const n = this.u32();
        if (n > this.#end - this.#pos) corrupt(`array of ${n}`);
        this.#enter();
        const a: unknown[] = [];
        this.#register(a);
        for (let i = 0; i < n; i++) a.push(this.#value());
        this.#depth--;
        return a;
      }
      case TAG_OBJECT:
        return this.#object();
      case TAG_BIGINT:
        return this.#bigint();
      case TAG_VIEW:
        return this.#view();
      case TAG_HANDLE: {
        const subTag = this.u8();
        if (this.handles !== undefined) return this.handles.read(this, subTag);
        const codec = handleCodecOf(subTag);
        if (codec === undefined) return corrupt(`a handle of sub-tag ${subTag}, but no handle codec for it is loaded`);
        return codec.read(this);
      }
      case TAG_REF: {
        const i = this.u32();
        const o = this.#objs?.[i];
        if (o === undefined) corrupt(`reference ${i}`);
        return o;
      }
      case TAG_ERROR:
        return this.#error();
      case TAG_MAP:
        return this.#map();
      case TAG_SET:
        return this.#set();
      case TAG_DATE: {
        const d = new Date(this.#dataView().getFloat64(this.#need(8), true));
        this.#register(d);
        return d;
      }
      case TAG_REGEXP:
        return this.#regexp();
      case TAG_SPARSE_ARRAY:
        return this.#sparseArray();
      case TAG_BOXED: {
        const p = this.#value();
        const t = typeof p;
        if (t !== 'number' && t !== 'string' && t !== 'boolean' && t !== 'bigint') corrupt(`a boxed ${t}`);
        const o = Object(p) as object;
        this.#register(o);
        return o;
      }
      case TAG_ARRAY_BUFFER:
        return this.#arrayBuffer();
      case TAG_GRAPH:
        return corrupt(`GRAPH inside a value, at ${this.#pos - 1}`);
      default:
        return corrupt(`unknown tag ${tag} at ${this.#pos - 1}`);
    }
  }

  #string(): string {
    const v = this.#value();
    if (typeof v !== 'string') corrupt('expected a string');
    return v;
  }

  #object(): Record<string, unknown> {
    const n = this.u32();
    if (n > this.#end - this.#pos) corrupt(`object of ${n}`);
    this.#enter();
    if (n > MAX_FAST_OBJECT) return this.#bigObject(n);
    const o: Record<string, unknown> = {};
    this.#register(o);
    for (let i = 0; i < n; i++) {
      const k = this.#key();
      const v = this.#value();
      if (k === '__proto__') define(o, k, v, true);
      else o[k] = v;
    }
    this.#depth--;
    return o;
  }

  /**
   * An object of many properties, which V8 would turn into a dictionary as they are added (after
   * building and dropping a hidden class per property): made a dictionary from the start (a
   * null-prototype object is one), given its prototype at the end.
   */
  #bigObject(n: number): Record<string, unknown> {
    const o = Object.create(null) as Record<string, unknown>;
    this.#register(o);
    for (let i = 0; i < n; i++) {
      const k = this.#key();
      o[k] = this.#value(); // no __proto__ setter without a prototype
    }
    Object.setPrototypeOf(o, Object.prototype);
    this.#depth--;
    return o;
  }

  #sparseArray(): unknown[] {
    const length = this.u32();
    const n = this.u32();
    // Each entry takes at least two bytes.
    if (n > (this.#end - this.#pos) / 2) corrupt(`sparse array of ${n} entries`);
    this.#enter();
    const a: unknown[] = [];
    // Setting `length` allocates that many holes; a far index makes the array a dictionary
    // instead, so a hostile length costs nothing.
    if (length <= MAX_FILLED_LENGTH) a.length = length;
    else {
      a[length - 1] = undefined;
      delete a[length - 1];
    }
    this.#register(a);
    for (let i = 0; i < n; i++) {
      const k = this.#value();
      const v = this.#value();
      if (typeof k === 'number') {
        if (!(Number.isInteger(k) && k >= 0 && k < length)) corrupt(`index ${k} of a sparse array of length ${length}`);
        a[k] = v;
      } else if (typeof k === 'string' && k !== 'length') {
        define(a, k, v, true);
      } else {
        corrupt('a sparse array key that is not an index or a property name');
      }
    }
    this.#depth--;
    return a;
  }

  #map(): Map<unknown, unknown> {
    const n = this.u32();
    if (n > (this.#end - this.#pos) / 2) corrupt(`map of ${n}`);
    this.#enter();
    const m = new Map<unknown, unknown>();
    this.#register(m);
    for (let i = 0; i < n; i++) {
      const k = this.#value();
      m.set(k, this.#value());
    }
    this.#depth--;
    return m;
  }

  #set(): Set<unknown> {
    const n = this.u32();
    if (n > this.#end - this.#pos) corrupt(`set of ${n}`);
    this.#enter();
    const s = new Set<unknown>();
    this.#register(s);
    for (let i = 0; i < n; i++) s.add(this.#value());
    this.#depth--;
    return s;
  }

  #regexp(): RegExp {
    const source = this.#string();
    const flags = this.#string();
    let re: RegExp;
    try {
      re = new RegExp(source, flags);
    } catch (err) {
      return corrupt(`a RegExp that does not compile: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    this.#register(re);
    return re;
  }

  #arrayBuffer(): ArrayBuffer {
    const flags = this.u8();
    if (flags & ~AB_RESIZABLE) corrupt(`ArrayBuffer flags ${flags}`);
    const n = this.u32();
    const max = flags & AB_RESIZABLE ? this.u32() : n;
    const p = this.#need(n);
    if (max < n) corrupt(`a resizable ArrayBuffer of ${n} bytes, at most ${max}`);
    let ab: ArrayBuffer;
    if (flags & AB_RESIZABLE) {
      try {
        ab = new (ArrayBuffer as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(n, { maxByteLength: max });
      } catch (err) {
        return corrupt(`a resizable ArrayBuffer of at most ${max} bytes`, err);
      }
      new Uint8Array(ab).set(this.#u8.subarray(p, p + n));
    } else {
      ab = this.#u8.slice(p, p + n).buffer;
    }
    this.#register(ab);
    return ab;
  }

  #bigint(): bigint {
    const negative = this.u8() === 1;
    const n = this.u32();
    const p = this.#need(n);
    let m: bigint;
    if (n === 8) {
      m = this.#dataView().getBigUint64(p, true);
    } else {
      // Most significant byte first (a reversed copy), to hex by Buffer's native encoder, parsed
      // by BigInt: linear, and native at every step.
      const be = this.#u8.slice(p, p + n).reverse();
      m = n === 0 ? 0n : BigInt(`0x${Buffer.from(be.buffer, be.byteOffset, n).toString('hex')}`);
    }
    return negative ? -m : m;
  }

  #view(): ArrayBufferView {
    const kind = this.u8();
    const n = this.u32();
    const p = this.#need(n);
    const size = VIEW_ELEMENT_SIZE[kind];
    if (size === undefined) corrupt(`unknown view kind ${kind}`);
    // The writer writes whole elements only.
    if (n % size !== 0) corrupt(`a ${kind === VIEW_BUFFER ? 'Buffer' : VIEWS[kind]!.name} of ${n} bytes`);
    // slice: one allocation of exactly n bytes, not zero-filled first (cheaper than
    // new ArrayBuffer + set, or ArrayBuffer.prototype.slice). The copy starts at offset 0 of its
    // own ArrayBuffer, so where the bytes lie in the batch (any alignment) does not matter.
    const ab = this.#u8.slice(p, p + n).buffer;
    const view = kind === VIEW_BUFFER ? Buffer.from(ab) : new VIEWS[kind]!(ab);
    this.#register(view);
    return view;
  }

  #error(): Error {
    this.#enter();
    const flags = this.u8();
    const name = this.#string();
    const message = this.#string();
    let chain: string[] | undefined;
    if (flags & ERR_CLASS) {
      const n = this.u8();
      chain = [];
      for (let i = 0; i < n; i++) chain.push(this.#string());
    }
    // The class to build: the first of the chain (or the name) that is known here.
    let base = name;
    let own = 0; // chain[0 ..< own]: classes that are not known here
    if (chain !== undefined) {
      while (
        own < chain.length - 1 &&
        !BUILTIN_ERROR_NAMES.has(chain[own]!) &&
        !(flags & ERR_CODE && WEFT_ERROR_CLASSES.has(chain[own]!))
      ) {
        own++;
      }
      base = chain[own] ?? name;
    }
    const Ctor = base === 'AggregateError' ? undefined : ERROR_CLASSES.get(base);
    const makeWeft = flags & ERR_CODE ? WEFT_ERROR_CLASSES.get(base) : undefined;
    let err: Error;
    // The stack comes from the other side: don't pay for capturing one here.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      if (base === 'AggregateError') err = new AggregateError([], message);
      else if (Ctor !== undefined) err = new Ctor(message);
      else if (makeWeft !== undefined) err = makeWeft(message);
      else err = new Error(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (chain !== undefined && own > 0) {
      Object.setPrototypeOf(err, classFor(chain.slice(0, own), err.constructor as new () => Error).prototype);
    }
    if (flags & ERR_OWN_NAME) define(err, 'name', name, true);
    else if (err.name !== name) define(err, 'name', name, false);
    this.#register(err);
    if (flags & ERR_STACK) define(err, 'stack', this.#string(), false);
    else delete (err as { stack?: string }).stack;
    if (flags & ERR_CODE) define(err, 'code', this.#value(), true);
    if (flags & ERR_CAUSE) define(err, 'cause', this.#value(), false);
    if (flags & ERR_ERRORS) {
      const n = this.u32();
      if (n > this.#end - this.#pos) corrupt(`errors of ${n}`);
      const list: unknown[] = [];
      for (let i = 0; i < n; i++) list.push(this.#value());
      define(err, 'errors', list, false);
    }
    if (flags & ERR_PROPS) {
      const n = this.u32();
      // Each property takes at least six bytes (a tagged key, a value).
      if (n > (this.#end - this.#pos) / 6) corrupt(`error properties of ${n}`);
      for (let i = 0; i < n; i++) {
        const k = this.#string();
        define(err, k, this.#value(), true);
      }
    }
    this.#depth--;
    return err;
  }
}
