/**
 * How JavaScript values are encoded for the native shared structures.
 *
 * Primitives (number, string, boolean, null, bigint) cross as themselves. Typed arrays, DataViews
 * and Buffers cross as their bytes, boxed with a tag naming the view to rebuild. Every other
 * structured-cloneable value crosses as a V8 serializer encoding (what `postMessage` uses),
 * boxed with tag -1. Functions, symbols and other non-cloneable values are refused with
 * `WEFT_DATA_CLONE` before anything is stored.
 */
import { deserialize, serialize } from 'node:v8';
import { DataCloneError, InvalidArgumentError } from '../errors.js';
import { VIEWS, VIEW_BUFFER, viewKindOf } from '../internal/wire.js';

/** Anything weft can store: `undefined` is excluded because `pop()` uses it to mean "empty". */
export type Storable = NonNullable<unknown> | null;

/** A value as the native layer takes it in. */
export type EncodedValue = number | string | boolean | null | bigint | [number, Uint8Array];
/** A value as the native layer hands it out (`undefined`: nothing there). */
export type NativeValue = number | string | boolean | null | bigint | undefined | [number, ArrayBuffer];

const CLONED_TAG = -1;

/** The view kind (the same numbering as the pool's wire format), or CLONED_TAG for a kind this
 * encoding does not know (e.g. Float16Array): that one keeps its meaning by structured clone. */
function viewTag(view: ArrayBufferView): number {
  if (Buffer.isBuffer(view)) return VIEW_BUFFER;
  const kind = viewKindOf(view);
  return kind >= 0 && kind < VIEWS.length ? kind : CLONED_TAG;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Encodes one value, or throws (`WEFT_DATA_CLONE`, `WEFT_INVALID_ARG`) without side effects. */
export function encode(value: unknown): EncodedValue {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    case 'undefined':
      throw new InvalidArgumentError(
        'undefined cannot be stored: pop() and peek() return undefined to mean "empty"; store null instead',
      );
    case 'function':
    case 'symbol':
      throw new DataCloneError(`a ${typeof value} cannot be cloned to another thread`);
    default:
      break;
  }
  if (value === null) return null;
  if (ArrayBuffer.isView(value)) {
    const tag = viewTag(value);
    if (tag !== CLONED_TAG) return [tag, bytesOf(value)];
  }
  try {
    return [CLONED_TAG, serialize(value)];
  } catch (cause) {
    const what = cause instanceof Error ? cause.message : String(cause);
    throw new DataCloneError(`value cannot be cloned to another thread: ${what}`, { cause });
  }
}

/** Decodes a value handed out by the native layer. */
export function decode(value: NativeValue): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const [tag, buffer] = value;
  if (tag === CLONED_TAG) return deserialize(new Uint8Array(buffer));
  if (tag === VIEW_BUFFER) return Buffer.from(buffer);
  const View = VIEWS[tag];
  if (View === undefined) throw new InvalidArgumentError(`unknown value tag ${tag}`);
  return new View(buffer);
}
