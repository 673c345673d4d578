/**
 * String helpers of the wire codec: Buffer's native UTF-8/UTF-16 methods (cheaper than `write`/
 * `toString` dispatch or TextEncoder/TextDecoder, see index.ts) and a JS-only decoder for short
 * ASCII strings.
 */

/** Strings of up to this many chars (bytes, when decoding) take the manual, JS-only path. */
export const SHORT_STRING = 24;

export const fromCharCode = String.fromCharCode;

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

export function utf8Write(buf: Buffer, s: string, offset: number): number {
  return HAS_FAST_BUFFER
    ? (buf as FastBuffer).utf8Write(s, offset, buf.length - offset)
    : buf.write(s, offset, buf.length - offset, 'utf8');
}
export function ucs2Write(buf: Buffer, s: string, offset: number): number {
  return HAS_FAST_BUFFER
    ? (buf as FastBuffer).ucs2Write(s, offset, buf.length - offset)
    : buf.write(s, offset, buf.length - offset, 'utf16le');
}
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  return HAS_FAST_BUFFER ? (buf as FastBuffer).utf8Slice(start, end) : buf.toString('utf8', start, end);
}
export function ucs2Slice(buf: Buffer, start: number, end: number): string {
  return HAS_FAST_BUFFER ? (buf as FastBuffer).ucs2Slice(start, end) : buf.toString('utf16le', start, end);
}

/** ASCII bytes to a string, 8 chars per `fromCharCode` call; undefined if not all ASCII. */
export function asciiShort(u8: Uint8Array, p: number, n: number): string | undefined {
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
