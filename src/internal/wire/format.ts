/**
 * The wire format's numbers (see index.ts for the layout they make up), its limits, the view
 * kinds, and the registry of handle codecs. Everything here is part of the format: a number, once
 * released, never changes meaning and is never reused.
 */
import { DataCloneError, WeftError } from '../../errors.js';
import type { WireReader } from './reader.js';
import type { WireWriter } from './writer.js';

/**
 * The format version: the first byte of every `value()` and of every `values()` list. A reader
 * refuses any other version (`unsupportedVersion`). Bump it on any change that an older reader
 * would misread; a new tag that older readers refuse as unknown needs no bump.
 */
export const WIRE_VERSION = 1;

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
/** `u32 i`: the i-th object of this value again (a shared or cyclic reference; GRAPH values only). */
export const TAG_REF = 11;
/** Before version 1: the i-th error (now any object: TAG_REF, the same number). */
export const TAG_ERROR_REF = TAG_REF;
/** Retired (a SharedStack before version 1; now a HANDLE): never written, refused as unknown. */
export const TAG_SHARED_STACK = 12;
export const TAG_ARRAY = 13;
export const TAG_OBJECT = 14;
/** Retired (a v8.serialize payload before version 1): never written, refused as unknown. */
export const TAG_V8 = 15;
export const TAG_HANDLE = 16;
export const TAG_SPARSE_ARRAY = 17;
export const TAG_MAP = 18;
export const TAG_SET = 19;
export const TAG_DATE = 20;
export const TAG_REGEXP = 21;
export const TAG_BOXED = 22;
export const TAG_ARRAY_BUFFER = 23;
/** Only right after the version byte: the value that follows numbers its objects (TAG_REF). */
export const TAG_GRAPH = 24;

/**
 * The key under which a `move()` marker (the Pool's, which defines the marker) holds its value: written in a value, a
 * marker is its value (copied; only a whole task argument or result is transferred). Registered,
 * so that another copy of weft recognizes it.
 */
export const MOVED = Symbol.for('weft.pool.moved');

/** HANDLE sub-tags: which registered codec reads the handle's body. */
export const HANDLE_ACTOR_REF = 1;
export const HANDLE_SHARED_STACK = 2;
/** An actor on another machine (weftjs/cluster): node and actor, by name or by id. */
export const HANDLE_REMOTE_REF = 3;
export const HANDLE_SHARED_QUEUE = 4;
export const HANDLE_SHARED_MAP = 5;

/** VIEW kinds (the same numbering as the SharedStack codec's view tags). */
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
/** Other own enumerable properties: `u32 n`, n × (tagged string key, value). */
export const ERR_PROPS = 16;
/** The class chain follows (an instance of a subclass of a built-in error class). */
export const ERR_CLASS = 32;
/** `name` is an own enumerable property (set in a constructor or as a class field). */
export const ERR_OWN_NAME = 64;

/** ARRAY_BUFFER flags. */
export const AB_RESIZABLE = 1;

/** `values()` counts below this are one byte; this byte means a u32 count follows. */
export const VALUES_U32_COUNT = 255;

/**
 * Errors nested in errors (a `cause`, `code`, AggregateError `errors` item or other property that
 * is itself an error, at any depth inside it) are written this many levels deep at most: below
 * that, the nested error is left out (an `errors` item becomes undefined), as parts that cannot be
 * cloned are. Cause chains of real errors are a handful of levels.
 */
export const MAX_ERROR_NESTING = 128;
/**
 * The reader refuses (WEFT_INVALID_ARG) values nested deeper than this, and the writer refuses
 * (WEFT_DATA_CLONE) to write them: ARRAY, SPARSE_ARRAY, OBJECT, MAP, SET and ERROR each count one
 * level. Without a limit, hostile bytes (20,000 × ARRAY of 1) overflow the stack. 512 uses about a
 * quarter of the main thread's stack at its worst (errors: ~1,800 levels fit in Node 20's default
 * ~984 KB stack); structured clone's own limit is the stack (thousands of levels).
 */
export const MAX_DEPTH = 512;

export type ViewConstructor = new (buffer: ArrayBuffer) => ArrayBufferView;
/**
 * VIEWS[kind] rebuilds a view of that kind (Buffer, kind VIEW_BUFFER, is handled apart). The order
 * is part of both this format and the SharedStack encoding (its view tags): never reorder.
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
export const VIEW_ELEMENT_SIZE: readonly number[] = [
  ...VIEWS.map((C) => (C as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1),
  1, // VIEW_BUFFER
];
export const VIEW_KIND_BY_PROTO = new Map<object, number>(VIEWS.map((C, kind) => [C.prototype as object, kind]));
VIEW_KIND_BY_PROTO.set(Buffer.prototype, VIEW_BUFFER);

/** The VIEW_* kind of a typed array, DataView or Buffer; -1 for a kind weft does not know (Float16Array). */
export function viewKindOf(v: ArrayBufferView): number {
  if (Buffer.isBuffer(v)) return VIEW_BUFFER;
  for (let i = VIEWS.length - 1; i >= 0; i--) if (v instanceof VIEWS[i]!) return i;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Handle codecs

/**
 * A class whose instances cross threads as a small handle (actor refs, shared stacks): its module
 * registers it under its sub-tag (HANDLE_*), and the codec writes `TAG_HANDLE`, the sub-tag and
 * what `write` writes, anywhere in a value. A registry, so that this codec depends on none of the
 * modules that use it. A thread decodes a handle only once the module of its class is loaded
 * there (otherwise: WEFT_INVALID_ARG, "no handle codec for sub-tag n").
 */
export interface HandleCodec {
  readonly subTag: number;
  readonly proto: object;
  write(w: WireWriter, v: object): void;
  /** Reads what `write` wrote, with the reader's fixed-width reads (not `value()`/`values()`). */
  read(r: WireReader): unknown;
  /**
   * Reads past what `write` wrote without making the handle (optional): lets a reader that refused
   * a handle in untrusted bytes read the rest of the value, to say where in it the handle was.
   */
  skip?(r: WireReader): void;
}

/**
 * How handles cross where the registered codecs must not be used as they are: between machines
 * (weftjs/cluster), where a local ActorRef becomes an address on the network, a SharedStack cannot
 * go at all, and a peer's bytes must never produce a handle to this process's structures. Set on
 * a writer or reader (`handles`), it replaces the registered codecs for that writer or reader:
 * `write` writes the whole handle (`w.handleHeader(subTag)` and its body) or throws
 * `DataCloneError`; `read` gets the sub-tag just read and returns the value or throws.
 */
export interface HandleProfile {
  write(w: WireWriter, v: object, codec: HandleCodec): void;
  read(r: WireReader, subTag: number): unknown;
}

/** By sub-tag. */
const codecs: (HandleCodec | undefined)[] = [];
/** The registered codecs' prototypes, and the codecs in the same order (searched by prototype). */
const protos: object[] = [];
const byProto: HandleCodec[] = [];

/** Registers (or replaces) the codec of `codec.subTag`. */
export function registerHandleCodec(codec: HandleCodec): void {
  const { subTag } = codec;
  if (!(Number.isInteger(subTag) && subTag >= 0 && subTag <= 255)) throw new RangeError(`wire: handle sub-tag ${subTag} is not a u8`);
  const old = codecs[subTag];
  if (old !== undefined) {
    const i = byProto.indexOf(old);
    protos.splice(i, 1);
    byProto.splice(i, 1);
  }
  codecs[subTag] = codec;
  protos.push(codec.proto);
  byProto.push(codec);
}

/** The codec for instances of `proto` (exactly that prototype), if one is registered. */
export function handleCodecFor(proto: unknown): HandleCodec | undefined {
  for (let i = 0; i < protos.length; i++) if (protos[i] === proto) return byProto[i];
  return undefined;
}

/** The codec registered under `subTag`. */
export function handleCodecOf(subTag: number): HandleCodec | undefined {
  return codecs[subTag];
}

// ---------------------------------------------------------------------------------------------
// Errors of the codec

/**
 * Malformed input: every way decoding can fail ends here, as a WeftError with code
 * WEFT_INVALID_ARG, whatever the bytes.
 */
export function corrupt(what: string, cause?: unknown): never {
  throw new WeftError('WEFT_INVALID_ARG', `wire: corrupt record (${what})`, cause === undefined ? undefined : { cause });
}

/** Bytes of another format version (a newer weft, or bytes that are not wire bytes). */
export function unsupportedVersion(version: number): never {
  throw new WeftError(
    'WEFT_INVALID_ARG',
    `wire: unsupported format version ${version} (this weft reads version ${WIRE_VERSION}): the bytes come from another version of weft, or are not wire bytes`,
  );
}

export function tooDeep(): never {
  corrupt(`nested more than ${MAX_DEPTH} deep`);
}

/** What `v` is, for messages. */
export function describeValue(v: unknown): string {
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'})`;
  if (typeof v === 'symbol') return `a symbol (${v.toString()})`;
  return typeof v;
}

/** Anything the writer threw, as the DataCloneError (WEFT_DATA_CLONE) the caller gets. */
export function toCloneError(err: unknown): DataCloneError {
  if (err instanceof DataCloneError) return err;
  const what = err instanceof Error ? err.message : String(err);
  return new DataCloneError(`value cannot be cloned to another thread: ${what}`, { cause: err });
}
