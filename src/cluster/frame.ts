/**
 * The bytes of one cluster message on NATS: `u8 FRAME_VERSION`, `u8 kind`, for asks and pool calls
 * a `u32` timeout in ms (the receiver's deadline), then the payload as weft's wire codec writes it
 * (one value; a pool call: the task name and its arguments as a list). Handles go through the
 * network profile (`HandleProfile`): actor refs cross as addresses, nothing else does.
 *
 * A peer's bytes are untrusted: decoding checks the version, the kind and every length (the wire
 * reader's own checks), and refuses handles other than a remote actor address.
 */
import { DataCloneError, InvalidArgumentError } from '../errors.js';
import { HANDLE_REMOTE_REF, type HandleProfile, WireReader, WireWriter, handleCodecOf } from '../internal/wire.js';
import { pathTo } from './paths.js';

export const FRAME_VERSION = 1;
/** A tell: the message. */
export const TELL = 1;
/** An ask: the message; the reply goes to the NATS reply subject. */
export const ASK = 2;
/** A reply: the handler's (or task's) result. */
export const REPLY = 3;
/** A failed ask or call: the error. */
export const FAILURE = 4;
/** A pool call: the task name, then its arguments. */
export const CALL = 5;
/**
 * Tells to one actor sent in one turn of the sender's event loop: `u32 n`, then n × (`u32
 * length`, a TELL frame). Decoded into the list of their messages (`value`: unknown[]).
 */
export const BATCH = 6;

/**
 * Tells and asks to one actor sent in one turn, when at least one is an ask: `u32 n`, then n ×
 * (`u32 ask id` (0 for a tell), `u32 length`, a TELL or ASK frame). Read with `FrameCodec.keyed`:
 * each frame is decoded on its own, so that one bad message fails only its ask. The replies come
 * to the NATS reply subject as REPLIES frames.
 */
export const ASKS = 7;
/** Replies to the asks of an ASKS frame: `u32 n`, then n × (`u32 ask id`, `u32 length`, a REPLY or FAILURE frame). */
export const REPLIES = 8;

const KINDS = new Set([TELL, ASK, REPLY, FAILURE, CALL, BATCH]);
/** The frames an ASKS or REPLIES frame may hold. */
const KEYED: ReadonlyMap<number, ReadonlySet<number>> = new Map([
  [ASKS, new Set([TELL, ASK])],
  [REPLIES, new Set([REPLY, FAILURE])],
]);

/** The bytes of a BATCH frame holding `frames` (TELL frames), `size` their total length. */
export function batchFrame(frames: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(6 + 4 * frames.length + size);
  const dv = new DataView(out.buffer);
  out[0] = FRAME_VERSION;
  out[1] = BATCH;
  dv.setUint32(2, frames.length, true);
  let at = 6;
  for (const f of frames) {
    dv.setUint32(at, f.length, true);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

/** The bytes of an ASKS or REPLIES frame: `frames[i]` under `ids[i]`, `size` the frames' total length. */
export function keyedFrame(kind: number, ids: readonly number[], frames: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(BATCH_HEADER + KEYED_ENTRY_OVERHEAD * frames.length + size);
  const dv = new DataView(out.buffer);
  out[0] = FRAME_VERSION;
  out[1] = kind;
  dv.setUint32(2, frames.length, true);
  let at = BATCH_HEADER;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    dv.setUint32(at, ids[i]!, true);
    dv.setUint32(at + 4, f.length, true);
    out.set(f, at + 8);
    at += 8 + f.length;
  }
  return out;
}

/** Bytes an entry adds to an ASKS or REPLIES frame (its id and length). */
export const KEYED_ENTRY_OVERHEAD = 8;

/** One entry of an ASKS or REPLIES frame: its ask id (0: a tell) and its frame's bytes (not yet decoded). */
export interface KeyedEntry {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** Whether `bytes` is an ASKS (or REPLIES) frame: read those with `FrameCodec.keyed`. */
export function isKeyed(bytes: Uint8Array, kind: number): boolean {
  return bytes.length >= 2 && bytes[0] === FRAME_VERSION && bytes[1] === kind;
}

/** Bytes a frame adds to a batch (its length prefix). */
export const BATCH_ENTRY_OVERHEAD = 4;
/** Bytes of a batch's own header. */
export const BATCH_HEADER = 6;

export interface Frame {
  readonly kind: number;
  /** Asks and calls: ms the sender waits (0: not given). */
  readonly timeoutMs: number;
  /** TELL/ASK: the message; REPLY: the result; FAILURE: the error; CALL: `[task, ...args]`. */
  readonly value: unknown;
}

/** Whether `v` is something the network profile refuses, or that no codec writes (for the path). */
function uncrossable(v: unknown, isHandle: (v: object) => boolean): boolean {
  if (typeof v === 'function' || typeof v === 'symbol') return true;
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof SharedArrayBuffer) return true;
  if (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer) return true;
  return isHandle(v);
}

export class FrameCodec {
  readonly #w = new WireWriter();
  readonly #profile: HandleProfile;
  /** Handles the profile refuses (for the path in the error). */
  readonly #refusedHandle: (v: object) => boolean;

  constructor(profile: HandleProfile, refusedHandle: (v: object) => boolean) {
    this.#profile = profile;
    this.#w.handles = profile;
    this.#refusedHandle = refusedHandle;
  }

  /**
   * The frame's bytes (a copy of its own). Throws `DataCloneError` naming where in the value
   * (`what`: `msg`, `reply`, `args[1]`...) the part that cannot cross machines is.
   */
  encode(kind: number, value: unknown, what: string, timeoutMs = 0): Uint8Array {
    const w = this.#w;
    w.reset();
    w.u8(FRAME_VERSION);
    w.u8(kind);
    if (kind === ASK || kind === CALL) w.u32(timeoutMs);
    try {
      if (kind === CALL) w.values(value as unknown[]);
      else w.value(value);
    } catch (err) {
      throw this.#located(err, value, what);
    }
    return w.copy();
  }

  #located(err: unknown, value: unknown, what: string): unknown {
    if (!(err instanceof DataCloneError)) return err;
    const path = pathTo(value, what, (v) => uncrossable(v, this.#refusedHandle));
    if (path === undefined) return err;
    return new DataCloneError(`${err.message} (at ${path})`, { cause: err });
  }

  /**
   * Reads a frame from the network; a malformed one throws `WEFT_INVALID_ARG`, a refused handle
   * `WEFT_DATA_CLONE` saying where in the value it was (`msg.items[2]`).
   */
  decode(bytes: Uint8Array): Frame {
    try {
      return this.#decode(this.#reader, this.#inner, this.#profile, bytes);
    } catch (err) {
      throw err instanceof DataCloneError ? this.#locatedRead(err, bytes) : err;
    }
  }

  /**
   * A handle refused while reading: the bytes are read again, each refused handle skipped by its
   * codec (`HandleCodec.skip`) and read as a marker, so that the error says where in the value it
   * was. A handle no codec here can skip keeps the error as it was.
   */
  #locatedRead(err: DataCloneError, bytes: Uint8Array): DataCloneError {
    const marker = {};
    const profile = this.#profile;
    const locating: HandleProfile = {
      write: profile.write,
      read(r: WireReader, subTag: number): unknown {
        if (subTag === HANDLE_REMOTE_REF) return profile.read(r, subTag);
        const codec = handleCodecOf(subTag);
        if (codec?.skip === undefined) throw err;
        codec.skip(r);
        return marker;
      },
    };
    let f: Frame;
    try {
      f = this.#decode(new WireReader(bytes), new WireReader(bytes), locating, bytes);
    } catch {
      return err;
    }
    const [value, root] =
      f.kind === CALL
        ? [(f.value as unknown[]).slice(1), 'args']
        : f.kind === BATCH
          ? [f.value, 'tells']
          : [f.value, f.kind === REPLY ? 'reply' : f.kind === FAILURE ? 'error' : 'msg'];
    const path = pathTo(value, root, (v) => v === marker);
    return path === undefined ? err : new DataCloneError(`${err.message} (at ${path})`, { cause: err });
  }

  /**
   * The entries of an ASKS or REPLIES frame (`kind`), their frames not yet decoded (`decode` each).
   * The envelope is checked whole first: the count against the bytes, every length, every frame's
   * kind (TELL/ASK in ASKS, REPLY/FAILURE in REPLIES), ids (asks and replies not 0), nothing after.
   */
  keyed(bytes: Uint8Array, kind: number): KeyedEntry[] {
    const allowed = KEYED.get(kind);
    if (allowed === undefined || !isKeyed(bytes, kind))
      throw new InvalidArgumentError(
        `cluster: expected a frame of kind ${kind}, got ${bytes.length < 2 ? 'a short one' : `version ${bytes[0]} kind ${bytes[1]}`}`,
      );
    if (bytes.length < BATCH_HEADER) throw new InvalidArgumentError(`cluster: a frame of ${bytes.length} bytes is too short`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = dv.getUint32(2, true);
    if (n > (bytes.length - BATCH_HEADER) / (KEYED_ENTRY_OVERHEAD + 2))
      throw new InvalidArgumentError(`cluster: ${n} entries in ${bytes.length - BATCH_HEADER} bytes`);
    const out = new Array<KeyedEntry>(n);
    let at = BATCH_HEADER;
    for (let i = 0; i < n; i++) {
      if (at + KEYED_ENTRY_OVERHEAD > bytes.length) throw new InvalidArgumentError('cluster: a keyed frame cut short');
      const id = dv.getUint32(at, true);
      const len = dv.getUint32(at + 4, true);
      if (at + KEYED_ENTRY_OVERHEAD + len > bytes.length)
        throw new InvalidArgumentError(`cluster: an entry of ${len} bytes overruns its frame`);
      const inner = bytes.subarray(at + KEYED_ENTRY_OVERHEAD, at + KEYED_ENTRY_OVERHEAD + len);
      const k = len >= 2 ? inner[1]! : -1;
      if (!allowed.has(k)) throw new InvalidArgumentError(`cluster: a frame of kind ${kind} holds one of kind ${k}`);
      if ((id === 0) !== (k === TELL)) throw new InvalidArgumentError(`cluster: an entry of kind ${k} with id ${id}`);
      out[i] = { id, bytes: inner };
      at += KEYED_ENTRY_OVERHEAD + len;
    }
    if (at !== bytes.length) throw new InvalidArgumentError(`cluster: ${bytes.length - at} bytes after the entries`);
    return out;
  }

  /** One reader for frames and one for the frames inside a batch, reused (a reader per frame cost ~2 µs of a ~2.4 µs decode). */
  readonly #reader = new WireReader(new Uint8Array(0));
  readonly #inner = new WireReader(new Uint8Array(0));

  #decode(r: WireReader, inner: WireReader, profile: HandleProfile, bytes: Uint8Array): Frame {
    r.reset(bytes);
    r.handles = profile;
    if (r.remaining < 2) throw new InvalidArgumentError(`cluster: a frame of ${bytes.length} bytes is too short`);
    const version = r.u8();
    if (version !== FRAME_VERSION)
      throw new InvalidArgumentError(`cluster: frame version ${version} is not supported (this node reads ${FRAME_VERSION})`);
    const kind = r.u8();
    if (!KINDS.has(kind)) throw new InvalidArgumentError(`cluster: unknown frame kind ${kind}`);
    if (kind === BATCH) return { kind, timeoutMs: 0, value: this.#batch(bytes, r, inner, profile) };
    const timeoutMs = kind === ASK || kind === CALL ? r.u32() : 0;
    const value = kind === CALL ? r.values() : r.value();
    if (r.remaining !== 0) throw new InvalidArgumentError(`cluster: ${r.remaining} bytes after the frame's value`);
    if (kind === CALL) {
      const list = value as unknown[];
      if (list.length === 0 || typeof list[0] !== 'string') throw new InvalidArgumentError('cluster: a pool call without a task name');
    }
    return { kind, timeoutMs, value };
  }

  /** The messages of a BATCH frame (each a TELL frame, checked like any frame). */
  #batch(bytes: Uint8Array, r: WireReader, inner: WireReader, profile: HandleProfile): unknown[] {
    const n = r.u32();
    if (n > r.remaining / (BATCH_ENTRY_OVERHEAD + 2))
      throw new InvalidArgumentError(`cluster: a batch of ${n} frames in ${r.remaining} bytes`);
    const out = new Array<unknown>(n);
    let at = r.offset;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      if (at + 4 > bytes.length) throw new InvalidArgumentError('cluster: a batch cut short');
      const len = dv.getUint32(at, true);
      if (at + 4 + len > bytes.length) throw new InvalidArgumentError(`cluster: a batched frame of ${len} bytes overruns the batch`);
      // Only tells (checked before decoding: a batch inside a batch is never decoded).
      const kind = len >= 2 ? bytes[at + 5] : undefined;
      if (kind !== TELL) throw new InvalidArgumentError(`cluster: a batch holds a frame of kind ${String(kind)}`);
      out[i] = this.#decode(inner, inner, profile, bytes.subarray(at + 4, at + 4 + len)).value;
      at += 4 + len;
    }
    if (at !== bytes.length) throw new InvalidArgumentError(`cluster: ${bytes.length - at} bytes after the batch`);
    return out;
  }
}
