/**
 * How JavaScript values are encoded for the native shared structures.
 *
 * Primitives (number, string, boolean, null, bigint) cross as themselves (a string with a lone
 * surrogate, which UTF-8 cannot hold, in the wire format). Typed arrays, DataViews
 * and Buffers cross as their bytes, boxed with a tag naming the view to rebuild (the wire format's
 * VIEW kinds). Every other value crosses in weft's wire format (src/internal/wire/, the pool's and
 * actors' codec: one codec for every value), boxed with tag -1: plain objects and arrays, Map,
 * Set, Date, RegExp, errors, cycles and the rest of what structured clone takes, and a
 * shared structure (`SharedStack`, `SharedQueue`, `SharedMap`) or `ActorRef` anywhere inside as a
 * handle (it comes back working). Functions,
 * symbols and other non-cloneable values are refused with `WEFT_DATA_CLONE` before anything is
 * stored.
 *
 * (Tag -1 used to hold a bare `v8.serialize` encoding of every object. Besides costing 8-20× the
 * wire format for plain objects, Node 24's `v8.deserialize` leaves native memory behind that RSS
 * does not give back: a million object push/pop pairs grew RSS by 300 MB there.)
 */
import { DataCloneError, InvalidArgumentError, WeftError } from '../errors.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { native } from '../native.js';
import { VIEWS, VIEW_BUFFER, WireReader, WireWriter, viewKindOf } from '../internal/wire.js';

/** Anything weft can store: `undefined` is excluded because `pop()` uses it to mean "empty". */
export type Storable = NonNullable<unknown> | null;

/** A value as the native layer takes it in. */
export type EncodedValue = number | string | boolean | null | bigint | [number, Uint8Array];
/** A value as the native layer hands it out (`undefined`: nothing there). */
export type NativeValue = number | string | boolean | null | bigint | undefined | [number, ArrayBuffer];

/** Opaque bytes to the native side (its `Value::Cloned`): here, the wire format. */
const WIRE_TAG = -1;

/** One writer and one reader for every stack value (encoding and decoding never nest), made on first use. */
let writer: WireWriter | undefined;
let reader: WireReader | undefined;

/**
 * The native fast `pop(scratch)` copies an encoded value into `SCRATCH` instead of allocating an
 * ArrayBuffer for it: its length in the first `SCRATCH_HEADER` bytes (u32, little endian), its
 * bytes after them. A value that does not fit comes back boxed, as from the other calls.
 */
export const SCRATCH_HEADER = native.STACK_SCRATCH_HEADER;
export const SCRATCH = new Uint8Array(16 * 1024);
const scratchLength = new DataView(SCRATCH.buffer);
const scratchBody = new Uint8Array(SCRATCH.buffer, SCRATCH_HEADER);

/** The view kind (the same numbering as the pool's wire format), or WIRE_TAG for a kind this
 * encoding does not know (e.g. Float16Array): that one goes through the wire format. */
function viewTag(view: ArrayBufferView): number {
  if (Buffer.isBuffer(view)) return VIEW_BUFFER;
  const kind = viewKindOf(view);
  return kind >= 0 && kind < VIEWS.length ? kind : WIRE_TAG;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  try {
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  } catch (err) {
    // Its buffer was detached (transferred) or shrunk under the view.
    throw new DataCloneError(`a ${view.constructor.name} whose buffer was detached cannot be stored`, { cause: err });
  }
}

/** Encodes one value, or throws (`WEFT_DATA_CLONE`, `WEFT_INVALID_ARG`) without side effects. */
export function encode(value: unknown): EncodedValue {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return value;
    case 'string':
      // The native side holds strings as UTF-8, which has no lone surrogates: such a string (as
      // structured clone keeps it) goes in the wire format, as UTF-16.
      return value.isWellFormed() ? value : [WIRE_TAG, encodeWire(value).view().slice()];
    case 'undefined':
      throw new InvalidArgumentError('undefined cannot be stored: pop() and peek() return undefined to mean "empty"; store null instead');
    case 'function':
    case 'symbol':
      throw new DataCloneError(`a ${typeof value} cannot be cloned to another thread`);
    default:
      break;
  }
  if (value === null) return null;
  if (ArrayBuffer.isView(value)) {
    const tag = viewTag(value);
    if (tag !== WIRE_TAG) return [tag, bytesOf(value)];
  }
  // WEFT_DATA_CLONE (nothing written) for what cannot be cloned. A copy of the bytes: the writer's
  // memory is reused, and pushMany encodes every value before the one native call.
  return [WIRE_TAG, encodeWire(value).view().slice()];
}

/**
 * Writes `value` (an object other than a typed array, DataView or Buffer) in the wire format into
 * the shared writer and returns it: its first `length` bytes of `bytes` are the encoding, valid
 * until the next encode. Throws like `encode`.
 */
export function encodeWire(value: unknown): WireWriter {
  const w = (writer ??= new WireWriter(256));
  w.reset();
  w.value(value);
  return w;
}

/** Decodes the value the native fast `pop` left in `SCRATCH`. */
export function decodeScratch(): unknown {
  const n = scratchLength.getUint32(0, true);
  if (reader === undefined) reader = new WireReader(scratchBody);
  reader.reset(scratchBody, n);
  return reader.value();
}

/** Decodes a value handed out by the native layer. */
export function decode(value: NativeValue): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const [tag, buffer] = value;
  if (tag === WIRE_TAG) {
    const bytes = new Uint8Array(buffer);
    if (reader === undefined) reader = new WireReader(bytes);
    else reader.reset(bytes);
    return reader.value();
  }
  if (tag === VIEW_BUFFER) return Buffer.from(buffer);
  const View = VIEWS[tag];
  if (View === undefined) throw new InvalidArgumentError(`unknown value tag ${tag}`);
  return new View(buffer);
}

/**
 * The raw native calls of a structure that holds values (crate/binding/src/fast.rs): a push
 * returns `false` when the structure is full (nothing stored), else `undefined`.
 */
export interface FastValueOps {
  pushNumber(value: number): false | undefined;
  pushString(value: string): false | undefined;
  pushWire(bytes: Uint8Array, length: number): false | undefined;
  pop<S extends Uint8Array>(scratch?: S): S | NativeValue;
}

/**
 * Stores `value` through the fast calls (numbers, well-formed strings, objects in the wire
 * format) or, for the rest, `pushEncoded(encode(value))`. Returns false if the structure is full.
 * Throws (`WEFT_DATA_CLONE`, `WEFT_INVALID_ARG`, the structure's own errors) with nothing stored.
 */
export function putValue(fast: FastValueOps, pushEncoded: (value: EncodedValue) => boolean | undefined, value: unknown): boolean {
  if (typeof value === 'number') return fast.pushNumber(value) !== false;
  if (typeof value === 'string' && value.isWellFormed()) return fast.pushString(value) !== false;
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    const w = encodeWire(value);
    return fast.pushWire(w.buffer, w.length) !== false;
  }
  return pushEncoded(encode(value)) !== false;
}

/** Decodes what a fast call that was given `SCRATCH` returned (`SCRATCH` itself: a value in it). */
export function decodeOut(v: Uint8Array | NativeValue): unknown {
  if (typeof v !== 'object' || v === null) return v;
  return v === SCRATCH ? decodeScratch() : decode(v as NativeValue);
}

/**
 * Encodes a batch for one native call: all numbers as a Float64Array, else each value encoded
 * (`undefined` for an empty batch). Every value is encoded before anything is stored, so a value
 * that cannot be cloned stores nothing. `who` names the method in errors.
 */
export function encodeBatch(values: unknown, who: string): Float64Array | EncodedValue[] | undefined {
  try {
    if (values === null || typeof values !== 'object' || typeof (values as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError(`${who} expects an array or another iterable object, got ${describe(values)}`);
    }
    const items: readonly unknown[] = Array.isArray(values) ? (values as readonly unknown[]) : Array.from(values as Iterable<unknown>);
    const n = items.length;
    if (n === 0) return undefined;
    let allNumbers = true;
    for (let i = 0; i < n && allNumbers; i++) allNumbers = typeof items[i] === 'number';
    if (allNumbers) return Float64Array.from(items as readonly number[]);
    // By index: the hole of a sparse array is undefined, refused by encode (map would skip it).
    const encoded = new Array<EncodedValue>(n);
    for (let i = 0; i < n; i++) encoded[i] = encode(items[i]);
    return encoded;
  } catch (err) {
    if (err instanceof WeftError) throw err;
    // An iterator, getter or Proxy trap of the caller's values threw.
    throw new InvalidArgumentError(`${who}: reading the values threw: ${thrownMessage(err)}`, { cause: err });
  }
}

/** Decodes what a native `popMany` returned: a Float64Array (all numbers) or encoded values. */
export function decodeBatch(out: Float64Array | readonly NativeValue[]): unknown[] {
  if (out instanceof Float64Array) {
    const n = out.length;
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) values[i] = out[i]!;
    return values;
  }
  return out.map(decode);
}

/** A max count for `popMany`: a non-negative integer (clamped to a u32), else WEFT_INVALID_ARG. */
export function maxCount(max: unknown, who: string): number {
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
    throw new InvalidArgumentError(`${who} expects a non-negative integer, got ${describe(max)}`);
  }
  return Math.min(max, 0xffff_ffff);
}
