/**
 * `ByteWriter`: the growable little-endian byte buffer under `WireWriter` (writer.ts), with its
 * fixed-width writes, record framing, and the tagged values that need no object walk (numbers,
 * strings, bigints, views). Fields and helpers are protected (`_name`) for the subclass.
 */
import { Buffer } from 'node:buffer';
import { types } from 'node:util';
import { DataCloneError } from '../../errors.js';
import * as format from './format.js';
import * as strings from './strings.js';

// Local bindings for the hot paths (an imported binding can compile to a getter call).
const { TAG_INT32, TAG_F64, TAG_STRING, TAG_STRING16, TAG_BIGINT, TAG_VIEW } = format;
const { SHORT_STRING, utf8Write, ucs2Write } = strings;

function sharedViewError(view: ArrayBufferView): DataCloneError {
  return new DataCloneError(
    `a ${view.constructor.name} over a SharedArrayBuffer cannot be sent as bytes: it would arrive as a copy, no longer shared`,
  );
}

/**
 * A growable little-endian byte buffer. Its memory is kept across `reset()`; `view()` is valid
 * until the next write (which may move the bytes to a larger buffer).
 */
export class ByteWriter {
  protected _ab: ArrayBuffer;
  protected _u8: Uint8Array;
  protected _dv: DataView;
  protected _buf: Buffer;
  protected _cap: number;
  protected _pos = 0;

  constructor(initialCapacity = 4096) {
    this._cap = Math.max(16, initialCapacity | 0);
    this._ab = new ArrayBuffer(this._cap);
    this._u8 = new Uint8Array(this._ab);
    this._dv = new DataView(this._ab);
    this._buf = Buffer.from(this._ab);
  }

  /** Bytes written so far. */
  get length(): number {
    return this._pos;
  }

  /**
   * The whole buffer, of which the first `length` bytes are written (no allocation, unlike
   * `view()`); valid until the next write.
   */
  get buffer(): Uint8Array {
    return this._u8;
  }

  /** The bytes written so far (a view, no copy). */
  view(): Uint8Array {
    return new Uint8Array(this._ab, 0, this._pos);
  }

  /** A copy of what was written, in an ArrayBuffer of its own (`view().slice()` without the view). */
  copy(): Uint8Array {
    return this._u8.slice(0, this._pos);
  }

  /** Empties the buffer, keeping its memory. */
  reset(): void {
    this._pos = 0;
  }

  /** Drops everything written from offset `at` on (an earlier `length` or `beginRecord()`). */
  rollback(at: number): void {
    if (!(at >= 0 && at <= this._pos)) throw new RangeError(`wire: rollback to ${at}, length is ${this._pos}`);
    this._pos = at;
  }

  protected _grow(need: number): void {
    let cap = this._cap * 2;
    while (cap < this._pos + need) cap *= 2;
    const ab = new ArrayBuffer(cap);
    const u8 = new Uint8Array(ab);
    u8.set(this._u8.subarray(0, this._pos));
    this._ab = ab;
    this._u8 = u8;
    this._dv = new DataView(ab);
    this._buf = Buffer.from(ab);
    this._cap = cap;
  }

  u8(v: number): void {
    if (this._pos + 1 > this._cap) this._grow(1);
    this._u8[this._pos++] = v;
  }

  u16(v: number): void {
    if (this._pos + 2 > this._cap) this._grow(2);
    this._dv.setUint16(this._pos, v, true);
    this._pos += 2;
  }

  u32(v: number): void {
    if (this._pos + 4 > this._cap) this._grow(4);
    this._dv.setUint32(this._pos, v, true);
    this._pos += 4;
  }

  i32(v: number): void {
    if (this._pos + 4 > this._cap) this._grow(4);
    this._dv.setInt32(this._pos, v, true);
    this._pos += 4;
  }

  f32(v: number): void {
    if (this._pos + 4 > this._cap) this._grow(4);
    this._dv.setFloat32(this._pos, v, true);
    this._pos += 4;
  }

  f64(v: number): void {
    if (this._pos + 8 > this._cap) this._grow(8);
    this._dv.setFloat64(this._pos, v, true);
    this._pos += 8;
  }

  /** Overwrites the u32 at `at` (an offset already written). */
  patchU32(at: number, v: number): void {
    this._dv.setUint32(at, v, true);
  }

  /** Raw bytes, no length. */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this._pos + n > this._cap) this._grow(n);
    this._u8.set(bytes, this._pos);
    this._pos += n;
  }

  /** u32 byte length + UTF-8 (lone surrogates become U+FFFD; `value()` keeps them). */
  string(s: string): void {
    const n = s.length;
    if (this._pos + 4 + n * 3 > this._cap) this._grow(4 + n * 3);
    const at = this._pos;
    const start = at + 4;
    let written = -1;
    if (n <= SHORT_STRING) written = this._ascii(s, start);
    if (written < 0) written = utf8Write(this._buf, s, start);
    this._dv.setUint32(at, written, true);
    this._pos = start + written;
  }

  /** Writes `s` at `p` if it is all ASCII and returns its length, else returns -1. */
  protected _ascii(s: string, p: number): number {
    const u8 = this._u8;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return -1;
      u8[p + i] = c;
    }
    return n;
  }

  /** A tagged string: STRING for ASCII, STRING16 otherwise (lossless). */
  protected _taggedString(s: string): void {
    const n = s.length;
    if (this._pos + 5 + n * 3 > this._cap) this._grow(5 + n * 3);
    const at = this._pos;
    const start = at + 5;
    let bytes: number;
    if (n <= SHORT_STRING) {
      bytes = this._ascii(s, start);
      if (bytes < 0) {
        const u8 = this._u8;
        for (let i = 0; i < n; i++) {
          const c = s.charCodeAt(i);
          u8[start + 2 * i] = c & 0xff;
          u8[start + 2 * i + 1] = c >>> 8;
        }
        this._u8[at] = TAG_STRING16;
        bytes = 2 * n;
      } else {
        this._u8[at] = TAG_STRING;
      }
    } else {
      // UTF-8 writes one byte per char only when every char is ASCII.
      bytes = utf8Write(this._buf, s, start);
      if (bytes === n) {
        this._u8[at] = TAG_STRING;
      } else {
        bytes = ucs2Write(this._buf, s, start);
        this._u8[at] = TAG_STRING16;
      }
    }
    this._dv.setUint32(at + 1, bytes, true);
    this._pos = start + bytes;
  }

  /** Reserves a u32 length slot; returns its offset for `endRecord`. */
  beginRecord(): number {
    if (this._pos + 4 > this._cap) this._grow(4);
    const at = this._pos;
    this._pos += 4;
    return at;
  }

  /** Writes into the slot at `at` the byte length of everything written after it. */
  endRecord(at: number): void {
    this._dv.setUint32(at, this._pos - at - 4, true);
  }

  protected _number(v: number): void {
    const p = this._pos;
    if (p + 9 > this._cap) this._grow(9);
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      this._u8[p] = TAG_INT32;
      this._dv.setInt32(p + 1, v, true);
      this._pos = p + 5;
    } else {
      this._u8[p] = TAG_F64;
      this._dv.setFloat64(p + 1, v, true);
      this._pos = p + 9;
    }
  }

  protected _tag(tag: number): void {
    if (this._pos + 1 > this._cap) this._grow(1);
    this._u8[this._pos++] = tag;
  }

  protected _bigint(v: bigint): void {
    const negative = v < 0n;
    const m = negative ? -v : v;
    if (m <= 0xffff_ffff_ffff_ffffn) {
      if (this._pos + 14 > this._cap) this._grow(14);
      const p = this._pos;
      this._u8[p] = TAG_BIGINT;
      this._u8[p + 1] = negative ? 1 : 0;
      this._dv.setUint32(p + 2, 8, true);
      this._dv.setBigUint64(p + 6, m, true);
      this._pos = p + 14;
      return;
    }
    // The magnitude's hex digits, most significant first, decoded by Buffer's native hex writer
    // straight into place, then put least significant first by the native in-place reverse.
    const hex = m.toString(16);
    const n = (hex.length + 1) >> 1;
    if (this._pos + 6 + n > this._cap) this._grow(6 + n);
    const p = this._pos;
    const u8 = this._u8;
    u8[p] = TAG_BIGINT;
    u8[p + 1] = negative ? 1 : 0;
    this._dv.setUint32(p + 2, n, true);
    const out = Buffer.from(u8.buffer, u8.byteOffset + p + 6, n);
    out.write(hex.length & 1 ? `0${hex}` : hex, 0, n, 'hex');
    out.reverse();
    this._pos = p + 6 + n;
  }

  protected _view(kind: number, v: ArrayBufferView): void {
    if (types.isSharedArrayBuffer(v.buffer)) throw sharedViewError(v);
    const n = v.byteLength;
    if (n > 0xffff_ffff) throw new DataCloneError(`a ${v.constructor.name} of ${n} bytes is too large to send`);
    if (this._pos + 6 + n > this._cap) this._grow(6 + n);
    const p = this._pos;
    this._u8[p] = TAG_VIEW;
    this._u8[p + 1] = kind;
    this._dv.setUint32(p + 2, n, true);
    this._u8.set(new Uint8Array(v.buffer, v.byteOffset, n), p + 6);
    this._pos = p + 6 + n;
  }
}
