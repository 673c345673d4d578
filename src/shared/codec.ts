/**
 * How JavaScript values are encoded for the native shared structures.
 *
 * Primitives (number, string, boolean, null, bigint) cross as themselves (a string with a lone
 * surrogate, which UTF-8 cannot hold, in the wire format). Typed arrays, DataViews
 * and Buffers cross as their bytes, boxed with a tag naming the view to rebuild (the wire format's
 * VIEW kinds). Every other value crosses in weft's wire format (src/internal/wire/, the pool's and
 * actors' codec: one codec for every value), boxed with tag -1: plain objects and arrays, Map,
 * Set, Date, RegExp, errors, cycles and the rest of what structured clone takes, and a
 * `SharedStack` or `ActorRef` anywhere inside as a handle (it comes back working). Functions,
 * symbols and other non-cloneable values are refused with `WEFT_DATA_CLONE` before anything is
 * stored.
 *
 * (Tag -1 used to hold a bare `v8.serialize` encoding of every object. Besides costing 8-20× the
 * wire format for plain objects, Node 24's `v8.deserialize` leaves native memory behind that RSS
 * does not give back: a million object push/pop pairs grew RSS by 300 MB there.)
 */
import { DataCloneError, InvalidArgumentError } from '../errors.js';
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
