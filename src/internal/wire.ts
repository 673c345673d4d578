/**
 * The pool's wire codec: task arguments and results as bytes, many records to one buffer.
 *
 * Rust reads only the framing (records are `u32 byteLength` + body, see `beginRecord`); what is
 * inside a record is written by `WireWriter` and read back by `WireReader`. Little-endian
 * everywhere; no alignment.
 *
 * A tagged value (`value()`) is a `u8` tag, then:
 *
 *   0  UNDEFINED, 1 NULL, 2 FALSE, 3 TRUE    nothing
 *   4  INT32         i32                 numbers that are int32 and not -0
 *   5  F64           f64                 every other number (-0, ±Infinity, NaN kept)
 *   6  STRING        u32 n, n bytes      UTF-8 (the writer puts only ASCII strings here)
 *   7  STRING16      u32 n, n bytes      UTF-16LE code units: lossless, lone surrogates kept
 *   8  BIGINT        u8 sign (1: negative), u32 n, n magnitude bytes (least significant first)
 *   9  VIEW          u8 kind (VIEW_*), u32 n, n bytes (a copy of the view's bytes)
 *   10 ERROR         u8 flags (ERR_*), name, message as tagged strings, then as flagged: class
 *                    (u8 n, n tagged strings: the constructor names from the error's own class up
 *                    to the built-in error class it extends), stack (tagged string), code (value),
 *                    cause (value), errors (u32 count + values), other own enumerable properties
 *                    (u32 n + v8.serialize of an object)
 *   11 ERROR_REF     u32 i: the i-th ERROR of this top-level value again (cycles, shared errors)
 *   12 SHARED_STACK  f64 id, f64 process token: a SharedStack (top-level values only)
 *   13 ARRAY         u32 count, count values: a plain dense array of primitives/plain containers
 *   14 OBJECT        u32 count, count × (tagged string key, value): a plain object, likewise
 *   15 V8            u32 n, n bytes of v8.serialize: anything else structured-cloneable
 *   16 HANDLE        what the registered HandleCodec writes (an actor ref: see src/actor/ref.ts)
 *
 * `values()` is a count (`u8`; 255 means a `u32` count follows) and that many tagged values.
 *
 * Decoding any bytes returns a value or throws WeftError WEFT_INVALID_ARG ("wire: corrupt record
 * (...)"): lengths and counts are checked against the bytes left before anything is allocated,
 * a VIEW must be whole elements, nesting is limited to MAX_DEPTH, V8 payloads that V8 cannot read
 * are refused with V8's error as `cause`, and moving `offset` past the end is refused too
 * (__test__/adversarial/wire-fuzz.spec.ts).
 * `string()` (untagged) is `u32` byte length + UTF-8: lone surrogates become U+FFFD there, while
 * a tagged string is lossless (STRING16).
 *
 * Decoded values are what `structuredClone` would give, except that:
 * - a Buffer comes back as a Buffer (top-level: VIEW_BUFFER; nested: v8.serialize's choice);
 * - SharedArrayBuffers, and views over one, throw DataCloneError (bytes cannot carry shared
 *   memory, and a silent copy would end the sharing): send those through postMessage;
 * - an Error comes back as its built-in class (or weft's WeftError, DataCloneError,
 *   InvalidArgumentError when it has a `code`) with its `name`, stack, `code`, `cause`,
 *   AggregateError `errors` and other own enumerable properties; parts that cannot be cloned are
 *   left out instead of failing the error. An instance of a subclass (`class MyError extends
 *   Error`) comes back as an instance of a class of the same name (`err.constructor.name`) made
 *   on this side, which extends the same built-in (or weft) class: the original class is not
 *   loaded here, so `instanceof MyError` cannot hold, but the names, `instanceof Error` /
 *   `TypeError` / `WeftError` do;
 * - a SharedStack at top level (`value(stack)`, or an element of `values()`) comes back attached
 *   (`SharedStack.from(handle)`); nested deeper it is an ordinary object and comes back as `{}`
 *   (send `stack.handle` there instead).
 *
 * Measured with `node --import=tsx bench/wire/index.ts` (Node 20.20.2, 2-core AMD EPYC VM that
 * was shared with other jobs, load average ~3: treat as ±30%). ns per value for encode + decode,
 * median of 5 runs. "wire": 100 values through one buffer (the pool's case); "1/buf": one value
 * per buffer, i.e. with `view()` + `WireReader.reset()` per value.
 *
 *   case                                   wire   1/buf   v8.serialize+deserialize   structuredClone
 *   small int (42)                           10      52                       2083               192
 *   double (Math.PI)                         16      77                       2756               414
 *   short string "hello world"               76     123                       1935               262
 *   [1, 2.5, 3]                             189     245                       3191               796
 *   {id, name, tags: [3 strings]}           813     760                       5680              2060
 *   Float64Array(128), 1 KiB                748     970                       4883              2050
 *   task record: frame + u32 + values([x])   45       -                       3834              1647
 *
 * Choices (same machine):
 *
 * - Plain arrays and objects of primitives: custom ARRAY/OBJECT beats v8.serialize by 8-20×
 *   (above; v8.serialize costs ~2 µs even for `[1, 2.5, 3]`: a Serializer and a Buffer per call,
 *   and Node's JS host-object hooks). Anything a plain container cannot express exactly (holes,
 *   extra array properties, shared or cyclic references, proxies, other objects inside, more
 *   than MAX_PLAIN_CONTAINERS containers or MAX_PLAIN_ITEMS elements) sends the whole value
 *   through v8.serialize instead. The extra-array-property check (`Object.keys(array)`) is the
 *   biggest single cost of a small array (~65-150 ns for 3 elements) and is kept for fidelity.
 * - Strings: a manual loop for ASCII strings of up to 24 chars (encode ~1-3 ns/char; decode by
 *   `String.fromCharCode`, 8 bytes a call: 34 ns for 12 chars against 61 ns for `latin1Slice`),
 *   else Buffer's native `utf8Write` (63 ns at 5 chars, 98 ns at 1000, against 91 / 114 ns for
 *   `TextEncoder.encodeInto`, which also needs a `subarray`) and `utf8Slice` (TextDecoder: 105-
 *   160 ns). Non-ASCII strings go as UTF-16 (`ucs2Write`/`ucs2Slice`): "héllo wörld" takes
 *   56 + 60 ns that way against 76 + 88 ns as UTF-8, 200 × "é" 62 + 92 ns against 231 + 1668 ns;
 *   and UTF-16 keeps lone surrogates, so tagged strings are lossless (as with structuredClone).
 * - Views decode with `Uint8Array.prototype.slice` (one exactly-sized copy); v8-serialized
 *   values decode with a Deserializer that copies nested views out of the batch buffer.
 */
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { types } from 'node:util';
import { DataCloneError, InvalidArgumentError, WeftError } from '../errors.js';
import { SharedStack, type SharedStackHandle } from '../shared/stack.js';

// A local binding for the hot path (an imported binding can compile to a getter call); set on
// first use, as the modules import each other.
let SharedStackClass: typeof SharedStack | undefined;

// ---------------------------------------------------------------------------------------------
// Format constants

export const TAG_UNDEFINED = 0;
export const TAG_NULL = 1;
export const TAG_FALSE = 2;
export const TAG_TRUE = 3;
export const TAG_INT32 = 4;
export const TAG_F64 = 5;
export const TAG_STRING = 6;
export const TAG_STRING16 = 7;
export const TAG_BIGINT = 8;
export const TAG_VIEW = 9;
export const TAG_ERROR = 10;
export const TAG_ERROR_REF = 11;
export const TAG_SHARED_STACK = 12;
export const TAG_ARRAY = 13;
export const TAG_OBJECT = 14;
export const TAG_V8 = 15;
export const TAG_HANDLE = 16;

/**
 * A class whose instances cross threads as a small handle (actor refs): its module registers it,
 * and the codec writes `TAG_HANDLE` + what `write` writes, anywhere in a value (top level or
 * nested in plain arrays and objects). Kept as a hook so that this codec does not depend on the
 * modules that use it.
 */
export interface HandleCodec {
  readonly proto: object;
  write(w: WireWriter, v: object): void;
  /** Reads what `write` wrote, with the reader's fixed-width reads (not `value()`/`values()`). */
  read(r: WireReader): unknown;
}
let handleCodec: HandleCodec | undefined;
export function registerHandleCodec(codec: HandleCodec): void {
  handleCodec = codec;
}

/** VIEW kinds (the same numbering as the SharedStack codec). */
export const VIEW_UINT8 = 0;
export const VIEW_INT8 = 1;
export const VIEW_UINT8_CLAMPED = 2;
export const VIEW_INT16 = 3;
export const VIEW_UINT16 = 4;
export const VIEW_INT32 = 5;
export const VIEW_UINT32 = 6;
export const VIEW_FLOAT32 = 7;
export const VIEW_FLOAT64 = 8;
export const VIEW_BIGINT64 = 9;
export const VIEW_BIGUINT64 = 10;
export const VIEW_DATAVIEW = 11;
export const VIEW_BUFFER = 12;

/** ERROR flags: which optional parts follow. */
export const ERR_STACK = 1;
export const ERR_CODE = 2;
export const ERR_CAUSE = 4;
export const ERR_ERRORS = 8;
export const ERR_PROPS = 16;
/** The class chain follows (an instance of a subclass of a built-in error class). */
export const ERR_CLASS = 32;
/** `name` is an own enumerable property (set in a constructor or as a class field). */
export const ERR_OWN_NAME = 64;

/** `values()` counts below this are one byte; this byte means a u32 count follows. */
export const VALUES_U32_COUNT = 255;

/** Strings of up to this many chars (bytes, when decoding) take the manual, JS-only path. */
const SHORT_STRING = 24;
/** A plain value with more containers than this goes through v8.serialize. */
const MAX_PLAIN_CONTAINERS = 32;
/**
 * A plain value with more elements and properties than this (all containers together) goes
 * through v8.serialize: the check for extra array properties (`Object.keys`) costs ~10 ns per
 * element, and past this size v8.serialize's fixed cost no longer dominates.
 */
const MAX_PLAIN_ITEMS = 1024;
/**
 * Errors nested in errors (a `cause`, `code` or AggregateError `errors` item that is itself an
 * error) are written this many levels deep at most: below that, the nested error is left out
 * (an `errors` item becomes undefined), as parts that cannot be cloned are. Cause chains of real
 * errors are a handful of levels; this bounds what the reader must accept (`MAX_DEPTH`).
 */
export const MAX_ERROR_NESTING = 128;
/**
 * The reader refuses (WEFT_INVALID_ARG) values nested deeper than this: ARRAY, OBJECT and ERROR
 * each count one level (a V8 payload is one leaf: V8's deserializer bounds its own recursion,
 * and its failures are refused the same way). Without a limit, hostile bytes (20,000 × ARRAY of
 * 1) overflow the stack. The writer emits at most MAX_ERROR_NESTING levels of errors, and below
 * the innermost error a plain value of at most MAX_PLAIN_CONTAINERS levels (a plain container
 * cannot hold an error: such a value goes through v8.serialize as one leaf), so at most
 * 128 + 32 = 160 levels: 512 leaves a margin of 3×, and uses about a quarter of the main thread's
 * stack at its worst (errors, ~1,800 levels fit in Node 20's default ~984 KB stack).
 */
export const MAX_DEPTH = 512;
/** Object keys of up to this many ASCII bytes are cached by the reader. */
const MAX_CACHED_KEY = 32;
const KEY_CACHE_SIZE = 1024;

export type ViewConstructor = new (buffer: ArrayBuffer) => ArrayBufferView;
/**
 * VIEWS[kind] rebuilds a view of that kind (Buffer, kind VIEW_BUFFER, is handled apart). The order
 * is part of both this format and the SharedStack encoding (src/shared/codec.ts): never reorder.
 */
export const VIEWS: readonly ViewConstructor[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
];
/** Bytes per element of each VIEW kind (a VIEW's length is a multiple of it), Buffer included. */
const VIEW_ELEMENT_SIZE: readonly number[] = [
  ...VIEWS.map((C) => (C as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1),
  1, // VIEW_BUFFER
];
const VIEW_KIND_BY_PROTO = new Map<object, number>(VIEWS.map((C, kind) => [C.prototype as object, kind]));
VIEW_KIND_BY_PROTO.set(Buffer.prototype, VIEW_BUFFER);

type ErrorConstructorLike = new (message?: string) => Error;
const ERROR_CLASSES = new Map<string, ErrorConstructorLike>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
]);
/** weft's own error classes, rebuilt when the error has a `code` (which then replaces this one). */
const WEFT_ERROR_CLASSES = new Map<string, (message: string) => Error>([
  ['WeftError', (message) => new WeftError('WEFT_PANIC', message)],
  ['DataCloneError', (message) => new DataCloneError(message)],
  ['InvalidArgumentError', (message) => new InvalidArgumentError(message)],
]);
/** Own properties of an error that have their own place in the format. */
const ERROR_OWN_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause']);
/** The built-in error classes, by name: where an error's class chain ends. */
const BUILTIN_ERROR_NAMES: ReadonlySet<string> = new Set([...ERROR_CLASSES.keys(), 'AggregateError']);

/**
 * The names of the classes of `err` from its own class up to the built-in error class it extends,
 * when its own class is not a built-in one (`['MyError', 'Error']`, `['ParCompileError',
 * 'WeftError', 'Error']`); undefined for instances of built-in classes and anything unusual.
 * Reads descriptors only (no getters run).
 */
function classChain(err: Error): string[] | undefined {
  const chain: string[] = [];
  let proto = Object.getPrototypeOf(err) as object | null;
  for (let depth = 0; proto !== null && depth < 32; depth++) {
    const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
    const name: unknown = typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
    if (typeof name === 'string' && name !== '') {
      chain.push(name);
      if (BUILTIN_ERROR_NAMES.has(name)) return chain.length > 1 ? chain : undefined;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return undefined;
}

/** Classes made for the class chains of decoded errors (see `classChain`), by chain. */
const madeClasses = new Map<string, abstract new () => Error>();
const MADE_CLASSES_MAX = 256;

/**
 * A class named `chain[0]`, extending one named `chain[1]`, ..., extending `Base`. Each class is
 * made once per chain below it, so `Deeper extends QuotaError` and a plain `QuotaError` decode
 * to classes where `instanceof` holds as it did on the other side.
 */
function classFor(chain: readonly string[], Base: abstract new (...args: never[]) => Error): abstract new () => Error {
  let parent = Base as unknown as abstract new () => Error;
  let key = Base.name;
  for (let i = chain.length - 1; i >= 0; i--) {
    const name = chain[i]!;
    key += `\0${name}`;
    let C = madeClasses.get(key);
    if (C === undefined) {
      const P = parent;
      C = { [name]: class extends P {} }[name]!;
      if (madeClasses.size < MADE_CLASSES_MAX) madeClasses.set(key, C);
    }
    parent = C;
  }
  return parent;
}

// Buffer's native string methods: not in @types/node, but present since Node 0.x and much cheaper
// than `write`/`toString` dispatch or TextEncoder/TextDecoder (see the figures above).
interface FastBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
  ucs2Write(s: string, offset: number, length: number): number;
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}
const fastProto = Buffer.prototype as Partial<FastBuffer>;
const HAS_FAST_BUFFER =
  typeof fastProto.utf8Write === 'function' &&
  typeof fastProto.ucs2Write === 'function' &&
  typeof fastProto.utf8Slice === 'function' &&
  typeof fastProto.latin1Slice === 'function' &&
  typeof fastProto.ucs2Slice === 'function';

function utf8Write(buf: Buffer, s: string, offset: number): number {
  return HAS_FAST_BUFFER
    ? (buf as FastBuffer).utf8Write(s, offset, buf.length - offset)
    : buf.write(s, offset, buf.length - offset, 'utf8');
}
function ucs2Write(buf: Buffer, s: string, offset: number): number {
  return HAS_FAST_BUFFER
    ? (buf as FastBuffer).ucs2Write(s, offset, buf.length - offset)
    : buf.write(s, offset, buf.length - offset, 'utf16le');
}
function utf8Slice(buf: Buffer, start: number, end: number): string {
  return HAS_FAST_BUFFER ? (buf as FastBuffer).utf8Slice(start, end) : buf.toString('utf8', start, end);
}
function ucs2Slice(buf: Buffer, start: number, end: number): string {
  return HAS_FAST_BUFFER ? (buf as FastBuffer).ucs2Slice(start, end) : buf.toString('utf16le', start, end);
}

const fromCharCode = String.fromCharCode;

function describe(v: unknown): string {
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'})`;
  if (typeof v === 'symbol') return `a symbol (${v.toString()})`;
  return typeof v;
}

function toCloneError(err: unknown): DataCloneError {
  if (err instanceof DataCloneError) return err;
  const what = err instanceof Error ? err.message : String(err);
  return new DataCloneError(`value cannot be cloned to another thread: ${what}`, { cause: err });
}

/**
 * Malformed input: every way decoding can fail ends here (`deserializeV8` wraps what V8 throws), as
 * a WeftError with code WEFT_INVALID_ARG, whatever the bytes.
 */
function corrupt(what: string, cause?: unknown): never {
  throw new WeftError('WEFT_INVALID_ARG', `wire: corrupt record (${what})`, cause === undefined ? undefined : { cause });
}

// ---------------------------------------------------------------------------------------------
// Writer

/**
 * A growable little-endian byte buffer. Its memory is kept across `reset()`; `view()` is valid
 * until the next write (which may move the bytes to a larger buffer).
 */
export class WireWriter {
  #ab: ArrayBuffer;
  #u8: Uint8Array;
  #dv: DataView;
  #buf: Buffer;
  #cap: number;
  #pos = 0;
  /** Containers of the plain value being written (shared/cyclic references fall back to v8). */
  #seen: (object | undefined)[] = new Array<object | undefined>(MAX_PLAIN_CONTAINERS).fill(undefined);
  #seenCount = 0;
  /** Elements and properties the plain value being written may still have. */
  #budget = 0;
  /** Errors of the top-level value being written, in the order they were written (ERROR_REF). */
  #errors: Error[] | undefined = undefined;
  /** Errors being written, one inside the other (MAX_ERROR_NESTING). */
  #errorDepth = 0;

  constructor(initialCapacity = 4096) {
    this.#cap = Math.max(16, initialCapacity | 0);
    this.#ab = new ArrayBuffer(this.#cap);
    this.#u8 = new Uint8Array(this.#ab);
    this.#dv = new DataView(this.#ab);
    this.#buf = Buffer.from(this.#ab);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** The bytes written so far (a view, no copy). */
  view(): Uint8Array {
    return new Uint8Array(this.#ab, 0, this.#pos);
  }

  /** Empties the buffer, keeping its memory. */
  reset(): void {
    this.#pos = 0;
  }

  /** Drops everything written from offset `at` on (an earlier `length` or `beginRecord()`). */
  rollback(at: number): void {
    if (!(at >= 0 && at <= this.#pos)) throw new RangeError(`wire: rollback to ${at}, length is ${this.#pos}`);
    this.#pos = at;
  }

  #grow(need: number): void {
    let cap = this.#cap * 2;
    while (cap < this.#pos + need) cap *= 2;
    const ab = new ArrayBuffer(cap);
    const u8 = new Uint8Array(ab);
    u8.set(this.#u8.subarray(0, this.#pos));
    this.#ab = ab;
    this.#u8 = u8;
    this.#dv = new DataView(ab);
    this.#buf = Buffer.from(ab);
    this.#cap = cap;
  }

  u8(v: number): void {
    if (this.#pos + 1 > this.#cap) this.#grow(1);
    this.#u8[this.#pos++] = v;
  }

  u16(v: number): void {
    if (this.#pos + 2 > this.#cap) this.#grow(2);
    this.#dv.setUint16(this.#pos, v, true);
    this.#pos += 2;
  }

  u32(v: number): void {
    if (this.#pos + 4 > this.#cap) this.#grow(4);
    this.#dv.setUint32(this.#pos, v, true);
    this.#pos += 4;
  }

  i32(v: number): void {
    if (this.#pos + 4 > this.#cap) this.#grow(4);
    this.#dv.setInt32(this.#pos, v, true);
    this.#pos += 4;
  }

  f32(v: number): void {
    if (this.#pos + 4 > this.#cap) this.#grow(4);
    this.#dv.setFloat32(this.#pos, v, true);
    this.#pos += 4;
  }

  f64(v: number): void {
    if (this.#pos + 8 > this.#cap) this.#grow(8);
    this.#dv.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }

  /** Overwrites the u32 at `at` (an offset already written). */
  patchU32(at: number, v: number): void {
    this.#dv.setUint32(at, v, true);
  }

  /** Raw bytes, no length. */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.#pos + n > this.#cap) this.#grow(n);
    this.#u8.set(bytes, this.#pos);
    this.#pos += n;
  }

  /** u32 byte length + UTF-8 (lone surrogates become U+FFFD; `value()` keeps them). */
  string(s: string): void {
    const n = s.length;
    if (this.#pos + 4 + n * 3 > this.#cap) this.#grow(4 + n * 3);
    const at = this.#pos;
    const start = at + 4;
    let written = -1;
    if (n <= SHORT_STRING) written = this.#ascii(s, start);
    if (written < 0) written = utf8Write(this.#buf, s, start);
    this.#dv.setUint32(at, written, true);
    this.#pos = start + written;
  }

  /** Writes `s` at `p` if it is all ASCII and returns its length, else returns -1. */
  #ascii(s: string, p: number): number {
    const u8 = this.#u8;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return -1;
      u8[p + i] = c;
    }
    return n;
  }

  /** A tagged string: STRING for ASCII, STRING16 otherwise (lossless). */
  #taggedString(s: string): void {
    const n = s.length;
    if (this.#pos + 5 + n * 3 > this.#cap) this.#grow(5 + n * 3);
    const at = this.#pos;
    const start = at + 5;
    let bytes: number;
    if (n <= SHORT_STRING) {
      bytes = this.#ascii(s, start);
      if (bytes < 0) {
        const u8 = this.#u8;
        for (let i = 0; i < n; i++) {
          const c = s.charCodeAt(i);
          u8[start + 2 * i] = c & 0xff;
          u8[start + 2 * i + 1] = c >>> 8;
        }
        this.#u8[at] = TAG_STRING16;
        bytes = 2 * n;
      } else {
        this.#u8[at] = TAG_STRING;
      }
    } else {
      // UTF-8 writes one byte per char only when every char is ASCII.
      bytes = utf8Write(this.#buf, s, start);
      if (bytes === n) {
        this.#u8[at] = TAG_STRING;
      } else {
        bytes = ucs2Write(this.#buf, s, start);
        this.#u8[at] = TAG_STRING16;
      }
    }
    this.#dv.setUint32(at + 1, bytes, true);
    this.#pos = start + bytes;
  }

  /** Reserves a u32 length slot; returns its offset for `endRecord`. */
  beginRecord(): number {
    if (this.#pos + 4 > this.#cap) this.#grow(4);
    const at = this.#pos;
    this.#pos += 4;
    return at;
  }

  /** Writes into the slot at `at` the byte length of everything written after it. */
  endRecord(at: number): void {
    this.#dv.setUint32(at, this.#pos - at - 4, true);
  }

  /**
   * A tagged value. Throws `DataCloneError` (`WEFT_DATA_CLONE`) if it cannot be cloned, and then
   * leaves the writer as it was before the call.
   */
  value(v: unknown): void {
    if (typeof v === 'number') {
      this.#number(v);
      return;
    }
    const start = this.#pos;
    try {
      this.#top(v);
    } catch (err) {
      this.#pos = start;
      this.#clearSeen();
      throw toCloneError(err);
    } finally {
      this.#errors = undefined;
    }
  }

  /** A count and that many tagged values; on `DataCloneError`, nothing is written. */
  values(list: readonly unknown[]): void {
    const n = list.length;
    const start = this.#pos;
    if (n < VALUES_U32_COUNT) {
      this.u8(n);
    } else {
      this.u8(VALUES_U32_COUNT);
      this.u32(n);
    }
    for (let i = 0; i < n; i++) {
      const v = list[i];
      if (typeof v === 'number') {
        this.#number(v);
        continue;
      }
      try {
        this.#top(v);
      } catch (err) {
        this.#pos = start;
        this.#clearSeen();
        throw toCloneError(err);
      } finally {
        this.#errors = undefined;
      }
    }
  }

  #number(v: number): void {
    const p = this.#pos;
    if (p + 9 > this.#cap) this.#grow(9);
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      this.#u8[p] = TAG_INT32;
      this.#dv.setInt32(p + 1, v, true);
      this.#pos = p + 5;
    } else {
      this.#u8[p] = TAG_F64;
      this.#dv.setFloat64(p + 1, v, true);
      this.#pos = p + 9;
    }
  }

  #tag(tag: number): void {
    if (this.#pos + 1 > this.#cap) this.#grow(1);
    this.#u8[this.#pos++] = tag;
  }

  /** A top-level value: SharedStack allowed. */
  #top(v: unknown): void {
    if (typeof v === 'object' && v instanceof (SharedStackClass ??= SharedStack)) {
      const h = (v as SharedStack).handle;
      this.#tag(TAG_SHARED_STACK);
      this.f64(h.id);
      this.f64(h.process);
      return;
    }
    this.#any(v);
  }

  #any(v: unknown): void {
    switch (typeof v) {
      case 'number':
        this.#number(v);
        return;
      case 'string':
        this.#taggedString(v);
        return;
      case 'boolean':
        this.#tag(v ? TAG_TRUE : TAG_FALSE);
        return;
      case 'undefined':
        this.#tag(TAG_UNDEFINED);
        return;
      case 'bigint':
        this.#bigint(v);
        return;
      case 'object':
        if (v === null) this.#tag(TAG_NULL);
        else this.#object(v);
        return;
      default:
        throw new DataCloneError(`${describe(v)} cannot be cloned to another thread`);
    }
  }

  #object(v: object): void {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto === Object.prototype || proto === Array.prototype || proto === null) {
      const start = this.#pos;
      this.#budget = MAX_PLAIN_ITEMS;
      const ok = this.#plain(v);
      this.#clearSeen();
      if (ok) return;
      this.#pos = start;
    } else if (ArrayBuffer.isView(v)) {
      const kind = VIEW_KIND_BY_PROTO.get(proto as object) ?? viewKindOf(v);
      if (kind >= 0) {
        this.#view(kind, v);
        return;
      }
    } else if (v instanceof Error || types.isNativeError(v)) {
      this.#error(v as Error);
      return;
    } else if (handleCodec !== undefined && proto === handleCodec.proto) {
      this.#tag(TAG_HANDLE);
      handleCodec.write(this, v);
      return;
    }
    this.#v8(v);
  }

  /**
   * Writes a plain array/object (ARRAY/OBJECT) if it and everything in it can be written so
   * exactly; returns false otherwise (the caller rolls back and uses v8.serialize).
   */
  #plain(v: object): boolean {
    const seen = this.#seen;
    const count = this.#seenCount;
    for (let i = 0; i < count; i++) if (seen[i] === v) return false;
    if (count >= MAX_PLAIN_CONTAINERS || types.isProxy(v)) return false;
    seen[count] = v;
    this.#seenCount = count + 1;
    if (Array.isArray(v)) {
      const a = v as unknown[];
      const n = a.length;
      if ((this.#budget -= n) < 0) return false;
      this.#tag(TAG_ARRAY);
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
    this.#tag(TAG_OBJECT);
    this.u32(n);
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      this.#taggedString(k);
      if (!this.#plainElement(o[k])) return false;
    }
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
        this.#number(e);
        return true;
      case 'string':
        this.#taggedString(e);
        return true;
      case 'boolean':
        this.#tag(e ? TAG_TRUE : TAG_FALSE);
        return true;
      case 'undefined':
        this.#tag(TAG_UNDEFINED);
        return true;
      case 'bigint':
        this.#bigint(e);
        return true;
      case 'object': {
        if (e === null) {
          this.#tag(TAG_NULL);
          return true;
        }
        const proto = Object.getPrototypeOf(e) as unknown;
        if (proto === Object.prototype || proto === Array.prototype || proto === null) return this.#plain(e);
        if (handleCodec !== undefined && proto === handleCodec.proto) {
          this.#tag(TAG_HANDLE);
          handleCodec.write(this, e);
          return true;
        }
        return false;
      }
      default:
        return false;
    }
  }

  #bigint(v: bigint): void {
    const negative = v < 0n;
    const m = negative ? -v : v;
    if (m <= 0xffff_ffff_ffff_ffffn) {
      if (this.#pos + 14 > this.#cap) this.#grow(14);
      const p = this.#pos;
      this.#u8[p] = TAG_BIGINT;
      this.#u8[p + 1] = negative ? 1 : 0;
      this.#dv.setUint32(p + 2, 8, true);
      this.#dv.setBigUint64(p + 6, m, true);
      this.#pos = p + 14;
      return;
    }
    const hex = m.toString(16);
    const n = (hex.length + 1) >> 1;
    if (this.#pos + 6 + n > this.#cap) this.#grow(6 + n);
    const p = this.#pos;
    const u8 = this.#u8;
    u8[p] = TAG_BIGINT;
    u8[p + 1] = negative ? 1 : 0;
    this.#dv.setUint32(p + 2, n, true);
    // Byte i (least significant first) is hex digits [len - 2i - 2, len - 2i).
    for (let i = 0; i < n; i++) {
      const end = hex.length - 2 * i;
      u8[p + 6 + i] = parseInt(hex.slice(Math.max(0, end - 2), end), 16);
    }
    this.#pos = p + 6 + n;
  }

  #view(kind: number, v: ArrayBufferView): void {
    if (isShared(v)) throw sharedViewError(v);
    const n = v.byteLength;
    if (n > 0xffff_ffff) throw new DataCloneError(`a ${v.constructor.name} of ${n} bytes is too large to send`);
    if (this.#pos + 6 + n > this.#cap) this.#grow(6 + n);
    const p = this.#pos;
    this.#u8[p] = TAG_VIEW;
    this.#u8[p + 1] = kind;
    this.#dv.setUint32(p + 2, n, true);
    this.#u8.set(new Uint8Array(v.buffer, v.byteOffset, n), p + 6);
    this.#pos = p + 6 + n;
  }

  #v8(v: unknown): void {
    let bytes: Buffer;
    try {
      bytes = serialize(v);
    } catch (cause) {
      const what = cause instanceof Error ? cause.message : String(cause);
      throw new DataCloneError(`value cannot be cloned to another thread: ${what}`, { cause });
    }
    this.#tag(TAG_V8);
    this.u32(bytes.length);
    this.bytes(bytes);
  }

  #error(err: Error): void {
    const errors = (this.#errors ??= []);
    const index = errors.indexOf(err);
    if (index >= 0) {
      this.#tag(TAG_ERROR_REF);
      this.u32(index);
      return;
    }
    // Too deep: thrown to the #optional writing it, which leaves it out (a top-level error is at
    // depth 0, so this never fails a whole value).
    if (this.#errorDepth >= MAX_ERROR_NESTING) throw new DataCloneError(`errors nested more than ${MAX_ERROR_NESTING} deep`);
    errors.push(err);
    this.#errorDepth++;
    try {
      this.#errorBody(err);
    } finally {
      this.#errorDepth--;
    }
  }

  #errorBody(err: Error): void {
    const e = err as Error & { code?: unknown; cause?: unknown; errors?: unknown };
    this.#tag(TAG_ERROR);
    const flagsAt = this.#pos;
    this.u8(0);
    let flags = 0;
    const name: unknown = e.name;
    const message: unknown = e.message;
    const stack: unknown = e.stack;
    this.#taggedString(typeof name === 'string' ? name : String(name));
    this.#taggedString(typeof message === 'string' ? message : String(message));
    const chain = classChain(e);
    if (chain !== undefined) {
      flags |= ERR_CLASS;
      this.u8(Math.min(chain.length, 255));
      for (const c of chain.slice(0, 255)) this.#taggedString(c);
    }
    if (Object.getOwnPropertyDescriptor(e, 'name')?.enumerable === true) flags |= ERR_OWN_NAME;
    if (typeof stack === 'string') {
      flags |= ERR_STACK;
      this.#taggedString(stack);
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
      for (const item of items) if (!this.#optional(item)) this.#tag(TAG_UNDEFINED);
    }
    const keys = Object.keys(e).filter((k) => !ERROR_OWN_FIELDS.has(k) && !(hasErrors && k === 'errors'));
    if (keys.length > 0) {
      const props: Record<string, unknown> = {};
      for (const k of keys) props[k] = (e as unknown as Record<string, unknown>)[k];
      let bytes: Buffer | undefined;
      try {
        bytes = serialize(props);
      } catch {
        // Keep the properties that can be cloned.
        const kept: Record<string, unknown> = {};
        for (const k of keys) {
          try {
            serialize(props[k]);
            kept[k] = props[k];
          } catch {
            /* left out */
          }
        }
        if (Object.keys(kept).length > 0) bytes = serialize(kept);
      }
      if (bytes !== undefined) {
        flags |= ERR_PROPS;
        this.u32(bytes.length);
        this.bytes(bytes);
      }
    }
    this.#u8[flagsAt] = flags;
  }

  /** Writes `v` if it can be cloned (returns true), else writes nothing and returns false. */
  #optional(v: unknown): boolean {
    const start = this.#pos;
    const errorCount = this.#errors?.length ?? 0;
    try {
      this.#any(v);
      return true;
    } catch {
      this.#pos = start;
      this.#clearSeen();
      if (this.#errors !== undefined) this.#errors.length = errorCount;
      return false;
    }
  }
}

/** The VIEW_* kind of a typed array, DataView or Buffer. */
export function viewKindOf(v: ArrayBufferView): number {
  if (Buffer.isBuffer(v)) return VIEW_BUFFER;
  for (let i = VIEWS.length - 1; i >= 0; i--) if (v instanceof VIEWS[i]!) return i;
  // A view kind weft does not know (e.g. Float16Array): v8.serialize keeps its meaning.
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Reader

/** Reads what a `WireWriter` wrote, from a Uint8Array (any byteOffset). */
export class WireReader {
  #u8: Uint8Array;
  #ab: ArrayBufferLike;
  #base: number;
  #dv: DataView;
  #buf: Buffer | undefined = undefined;
  #pos = 0;
  #end: number;
  /** Errors decoded so far in the current top-level value (ERROR_REF). */
  #errors: Error[] | undefined = undefined;
  /**
   * Containers (ARRAY, OBJECT, ERROR) open around the value being read (MAX_DEPTH). Set to 0 by
   * `value()`/`values()` for each top-level value, so a decode that threw leaves nothing behind
   * (a HandleCodec's `read` must therefore not call `value()`).
   */
  #depth = 0;
  /** Recently decoded object keys, by a hash of their bytes. */
  #keys: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

  constructor(bytes: Uint8Array) {
    bytes = plainBytes(bytes);
    this.#u8 = bytes;
    this.#ab = bytes.buffer;
    this.#base = bytes.byteOffset;
    // Over the rest of the ArrayBuffer, so that `reset` can keep it for other bytes of the same
    // buffer (a WireWriter's `view()` after each batch); reads are bounded by #end.
    this.#dv = new DataView(this.#ab, this.#base);
    this.#end = bytes.length;
  }

  /** Starts over on other bytes (saves allocating a reader per batch). */
  reset(bytes: Uint8Array): void {
    bytes = plainBytes(bytes);
    const ab = bytes.buffer;
    const base = bytes.byteOffset;
    if (ab !== this.#ab || base !== this.#base) {
      this.#ab = ab;
      this.#base = base;
      this.#dv = new DataView(ab, base);
      this.#buf = undefined;
    } else if (this.#buf !== undefined && this.#buf.length < bytes.length) {
      this.#buf = undefined;
    }
    this.#u8 = bytes;
    this.#end = bytes.length;
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
    return this.#dv.getUint16(at, true);
  }

  u16(): number {
    return this.#dv.getUint16(this.#need(2), true);
  }

  u32(): number {
    return this.#dv.getUint32(this.#need(4), true);
  }

  i32(): number {
    return this.#dv.getInt32(this.#need(4), true);
  }

  f32(): number {
    return this.#dv.getFloat32(this.#need(4), true);
  }

  f64(): number {
    return this.#dv.getFloat64(this.#need(8), true);
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

  /** An object key: short ASCII keys come from a cache, so they are the same (internalized) strings. */
  #key(): string {
    const u8 = this.#u8;
    const p = this.#pos;
    if (p + 5 <= this.#end && u8[p] === TAG_STRING) {
      const n = this.#dv.getUint32(p + 1, true);
      if (n <= MAX_CACHED_KEY && p + 5 + n <= this.#end) {
        const q = p + 5;
        let h = n;
        for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + u8[q + i]!) | 0;
        const slot = h & (KEY_CACHE_SIZE - 1);
        const cached = this.#keys[slot];
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

  /** A tagged value. */
  value(): unknown {
    this.#errors = undefined;
    this.#depth = 0;
    return this.#value();
  }

  /** What `WireWriter.values` wrote. */
  values(): unknown[] {
    let n = this.u8();
    if (n === VALUES_U32_COUNT) n = this.u32();
    // Each value takes at least a byte.
    if (n > this.#end - this.#pos) corrupt(`${n} values`);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      this.#errors = undefined;
      this.#depth = 0;
      out.push(this.#value());
    }
    return out;
  }

  #value(): unknown {
    const tag = this.u8();
    switch (tag) {
      case TAG_INT32:
        return this.#dv.getInt32(this.#need(4), true);
      case TAG_F64:
        return this.#dv.getFloat64(this.#need(8), true);
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
        if (++this.#depth > MAX_DEPTH) tooDeep();
        const a: unknown[] = [];
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
      case TAG_V8: {
        const n = this.u32();
        const p = this.#need(n);
        return deserializeV8(this.#u8.subarray(p, p + n), 'V8 value');
      }
      case TAG_ERROR:
        return this.#error();
      case TAG_ERROR_REF: {
        const i = this.u32();
        const e = this.#errors?.[i];
        if (e === undefined) corrupt(`error reference ${i}`);
        return e;
      }
      case TAG_HANDLE:
        if (handleCodec === undefined) return corrupt('a handle, but no handle codec is loaded');
        return handleCodec.read(this);
      case TAG_SHARED_STACK: {
        const id = this.f64();
        const process = this.f64();
        const handle = { kind: 'weft:SharedStack', id, process } as SharedStackHandle;
        return SharedStack.from(handle);
      }
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
    if (++this.#depth > MAX_DEPTH) tooDeep();
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.#key();
      const v = this.#value();
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
      else o[k] = v;
    }
    this.#depth--;
    return o;
  }

  #bigint(): bigint {
    const negative = this.u8() === 1;
    const n = this.u32();
    const p = this.#need(n);
    let m: bigint;
    if (n === 8) {
      m = this.#dv.getBigUint64(p, true);
    } else {
      let hex = '';
      for (let i = n - 1; i >= 0; i--) hex += this.#u8[p + i]!.toString(16).padStart(2, '0');
      m = n === 0 ? 0n : BigInt(`0x${hex}`);
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
    if (kind === VIEW_BUFFER) return Buffer.from(ab);
    return new VIEWS[kind]!(ab);
  }

  #error(): Error {
    if (++this.#depth > MAX_DEPTH) tooDeep();
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
      base = chain[own]!;
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
    if (flags & ERR_OWN_NAME) {
      Object.defineProperty(err, 'name', { value: name, writable: true, enumerable: true, configurable: true });
    } else if (err.name !== name) {
      Object.defineProperty(err, 'name', { value: name, writable: true, enumerable: false, configurable: true });
    }
    (this.#errors ??= []).push(err);
    const define = (key: string, value: unknown, enumerable = false): void => {
      Object.defineProperty(err, key, { value, writable: true, enumerable, configurable: true });
    };
    if (flags & ERR_STACK) define('stack', this.#string());
    else delete (err as { stack?: string }).stack;
    if (flags & ERR_CODE) define('code', this.#value(), true);
    if (flags & ERR_CAUSE) define('cause', this.#value());
    if (flags & ERR_ERRORS) {
      const n = this.u32();
      if (n > this.#end - this.#pos) corrupt(`errors of ${n}`);
      const list: unknown[] = [];
      for (let i = 0; i < n; i++) list.push(this.#value());
      define('errors', list);
    }
    if (flags & ERR_PROPS) {
      const n = this.u32();
      const p = this.#need(n);
      const props = deserializeV8(this.#u8.subarray(p, p + n), 'error properties');
      // The writer serializes a plain object.
      if (typeof props !== 'object' || props === null) corrupt('error properties that are not an object');
      for (const k of Object.keys(props)) define(k, (props as Record<string, unknown>)[k], true);
    }
    this.#depth--;
    return err;
  }
}

function isShared(view: ArrayBufferView): boolean {
  return types.isSharedArrayBuffer(view.buffer);
}

function sharedViewError(view: ArrayBufferView): DataCloneError {
  return new DataCloneError(
    `a ${view.constructor.name} over a SharedArrayBuffer cannot be sent as bytes: it would arrive as a copy, ` +
      'no longer shared',
  );
}

/**
 * `v8.serialize`, except that views over a SharedArrayBuffer are refused (Node's serializer
 * copies their bytes, silently ending the sharing that structuredClone would keep), like
 * SharedArrayBuffers themselves.
 */
class NoSharedViewsSerializer extends DefaultSerializer {
  _writeHostObject(view: NodeJS.TypedArray): void {
    if (isShared(view)) throw sharedViewError(view);
    writeHostObject.call(this, view);
  }
}
// Not in @types/node (only mentioned there): Node's own hook, which writes the view's bytes.
const writeHostObject = (
  DefaultSerializer.prototype as unknown as { _writeHostObject(this: DefaultSerializer, view: NodeJS.TypedArray): void }
)._writeHostObject;

function serialize(value: unknown): Buffer {
  const s = new NoSharedViewsSerializer();
  s.writeHeader();
  s.writeValue(value);
  return s.releaseBuffer();
}

/**
 * A Buffer (or another Uint8Array subclass) as a plain Uint8Array over the same bytes, so that
 * `slice` copies (Buffer's `slice` is `subarray`).
 */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * `v8.deserialize`, except that typed arrays, DataViews and Buffers get their own ArrayBuffer
 * (as with structuredClone): Node's deserializer makes them views into its input (the batch
 * buffer here) or into Buffer's shared allocation pool.
 */
class OwnBuffersDeserializer extends DefaultDeserializer {
  /** The byte length Node's hook read for the view being read (-1: not seen). */
  #rawLength = -1;

  _readRawBytes(length: number): number {
    this.#rawLength = length;
    return readRawBytes.call(this, length);
  }

  _readHostObject(): unknown {
    this.#rawLength = -1;
    const view = readHostObject.call(this) as ArrayBufferView;
    // Node's hook makes a typed array of `length / BYTES_PER_ELEMENT` elements, rounding a
    // length that is not a whole number of elements down (silently dropping bytes): the
    // serializer writes whole views only, so that is a corrupt payload. (Checked only when Node's
    // hook reads the bytes through `this._readRawBytes`, as Node 20's does.)
    if (this.#rawLength >= 0 && view.byteLength !== this.#rawLength) {
      corrupt(`a ${view.constructor.name} of ${this.#rawLength} bytes in a V8 value`);
    }
    const ab = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer;
    const kind = VIEW_KIND_BY_PROTO.get(Object.getPrototypeOf(view) as object);
    if (kind === VIEW_BUFFER) return Buffer.from(ab);
    const View = (kind === undefined ? view.constructor : VIEWS[kind]) as ViewConstructor;
    return new View(ab);
  }
}
const readHostObject = (DefaultDeserializer.prototype as unknown as { _readHostObject(): unknown })._readHostObject;
const readRawBytes = (DefaultDeserializer.prototype as unknown as { _readRawBytes(length: number): number })._readRawBytes;

/**
 * What `serialize` wrote, or WEFT_INVALID_ARG (`what` names the part) whatever V8's or Node's
 * deserializer throws for bytes it cannot read: Error for a bad header or a short read, a
 * TypeError from Node's host-object hook (an unknown view type), SyntaxError for a bad RegExp,
 * RangeError for nesting past the stack. The one try/catch of the decoder, on the V8 path only
 * (already ~2 µs a value there); our hook's own refusals pass through as they are.
 */
function deserializeV8(bytes: Uint8Array, what: string): unknown {
  try {
    const d = new OwnBuffersDeserializer(bytes);
    d.readHeader();
    return d.readValue();
  } catch (err) {
    if (err instanceof WeftError) throw err; // our own hook's corrupt()
    return corrupt(`${what}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

function tooDeep(): never {
  corrupt(`nested more than ${MAX_DEPTH} deep`);
}

/** ASCII bytes to a string, 8 chars per `fromCharCode` call; undefined if not all ASCII. */
function asciiShort(u8: Uint8Array, p: number, n: number): string | undefined {
  let s = '';
  let or = 0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + i;
    const a = u8[q]!;
    const b = u8[q + 1]!;
    const c = u8[q + 2]!;
    const d = u8[q + 3]!;
    const e = u8[q + 4]!;
    const f = u8[q + 5]!;
    const g = u8[q + 6]!;
    const h = u8[q + 7]!;
    or |= a | b | c | d | e | f | g | h;
    s += fromCharCode(a, b, c, d, e, f, g, h);
  }
  // The tail (0-7 chars) in one call.
  const q = p + i;
  let t: string;
  switch (n - i) {
    case 0:
      return or < 0x80 ? s : undefined;
    case 1:
      or |= u8[q]!;
      t = fromCharCode(u8[q]!);
      break;
    case 2:
      or |= u8[q]! | u8[q + 1]!;
      t = fromCharCode(u8[q]!, u8[q + 1]!);
      break;
    case 3:
      or |= u8[q]! | u8[q + 1]! | u8[q + 2]!;
      t = fromCharCode(u8[q]!, u8[q + 1]!, u8[q + 2]!);
      break;
    case 4:
      or |= u8[q]! | u8[q + 1]! | u8[q + 2]! | u8[q + 3]!;
      t = fromCharCode(u8[q]!, u8[q + 1]!, u8[q + 2]!, u8[q + 3]!);
      break;
    default:
      t = '';
      for (let j = q; j < p + n; j++) {
        or |= u8[j]!;
        t += fromCharCode(u8[j]!);
      }
  }
  if (or >= 0x80) return undefined;
  return i === 0 ? t : s + t;
}
