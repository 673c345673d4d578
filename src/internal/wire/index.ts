/**
 * The wire codec: weft's one value codec. Task arguments and results, actor messages and
 * SharedStack values cross threads as its bytes; nothing else (no `v8.serialize`) is involved, so
 * the same bytes can cross processes and machines.
 *
 * Files: format.ts (the numbers, limits, view kinds, the handle registry), writer.ts, reader.ts,
 * strings.ts (fast string paths), error-classes.ts (errors rebuilt on this side), refused.ts
 * (objects that cannot be written), bytes.ts (the byte buffer under the writer). Benchmarks:
 * bench/wire (index.ts against v8.serialize and structuredClone; paired.ts before/after), with
 * figures in bench/wire/README.md.
 *
 * Rust reads only the framing (records are `u32 byteLength` + body, see `beginRecord`); what is
 * inside a record is written by `WireWriter` and read back by `WireReader`. Little-endian
 * everywhere; no alignment.
 *
 * ## Version
 *
 * `value()` is `u8 version` + a tagged value; `values()` is `u8 version`, a count (`u8`; 255
 * means a `u32` count follows) and that many tagged values. The version is WIRE_VERSION (1); a
 * reader refuses any other with WEFT_INVALID_ARG ("wire: unsupported format version n"). Why per
 * value (and per list): the value is the unit this codec owns. Batches and records are framed by
 * the Rust core and the pool and actor protocols, whose layouts are not this codec's to change,
 * and a value is what travels on its own (a SharedStack value, a message, a result), and what a
 * later transport between machines will carry inside frames of its own. It costs one byte per
 * value or list (a `values()` list of task arguments pays it once); the check is one compare.
 *
 * ## Tagged values
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
 *                    (u32 n + n × (tagged string key, value))
 *   11 REF           u32 i: the i-th object of this GRAPH value again (shared or cyclic)
 *   12 (retired: SharedStack before version 1)
 *   13 ARRAY         u32 n, n values: a dense array without other own enumerable properties
 *   14 OBJECT        u32 n, n × (tagged string key, value): own enumerable string-keyed properties
 *                    (plain objects, and instances of classes, as structured clone sends them)
 *   15 (retired: a v8.serialize payload before version 1)
 *   16 HANDLE        u8 sub-tag (HANDLE_*), then what that registered codec writes: an ActorRef
 *                    (registered by ActorRef's module), a SharedStack, SharedQueue or SharedMap
 *                    (by theirs, src/shared/handle.ts: f64 id, u32 process token), anywhere
 *   17 SPARSE_ARRAY  u32 length, u32 n, n × (key, value): an array with holes or other
 *                    properties; a key is a number (an index below length) or a tagged string
 *   18 MAP           u32 n, n × (key, value)
 *   19 SET           u32 n, n values
 *   20 DATE          f64 time value (NaN: an invalid Date)
 *   21 REGEXP        source, flags as tagged strings (lastIndex is not kept)
 *   22 BOXED         a tagged number, string, boolean or bigint: `Object(it)`
 *   23 ARRAY_BUFFER  u8 flags (AB_RESIZABLE), u32 n, [u32 maxByteLength], n bytes
 *   24 GRAPH         only right after the version byte: in the value that follows, each ARRAY,
 *                    SPARSE_ARRAY, OBJECT, MAP, SET, DATE, REGEXP, BOXED, ARRAY_BUFFER, VIEW and
 *                    ERROR is numbered in the order of its tag (from 0), and REF i stands for the
 *                    object numbered i. Handles are not numbered.
 *
 * The writer writes plain values (plain arrays and objects of primitives, views and handles, no
 * shared references, at most 32 containers and 1,024 elements) without GRAPH: no identity table
 * on either side, the hot path. Anything else is a GRAPH value (see writer.ts).
 *
 * Decoding any bytes returns a value or throws WeftError WEFT_INVALID_ARG ("wire: corrupt record
 * (...)", or the version error): lengths and counts are checked against the bytes left before
 * anything is allocated (a sparse array's length allocates nothing), a VIEW must be whole
 * elements, nesting is limited to MAX_DEPTH, a REF must name an object already read, a RegExp
 * must compile, and moving `offset` past the end is refused too
 * (__test__/adversarial/wire-fuzz.spec.ts). `string()` (untagged) is `u32` byte length + UTF-8:
 * lone surrogates become U+FFFD there, while a tagged string is lossless (STRING16).
 *
 * ## What comes back
 *
 * What `structuredClone` would give, except that:
 * - a view comes back over an ArrayBuffer of its own, holding its bytes only (two views over one
 *   buffer come back over two buffers; a length-tracking view has a fixed length), and a Buffer
 *   comes back as a Buffer;
 * - an Error comes back as its built-in class (or weft's WeftError, DataCloneError,
 *   InvalidArgumentError when it has a `code`) with its `name`, stack, `code`, `cause`,
 *   AggregateError `errors` and other own enumerable properties; parts that cannot be cloned are
 *   left out instead of failing the error, and so are errors nested more than MAX_ERROR_NESTING
 *   deep in an error. An instance of a subclass (`class MyError extends Error`) comes back as an
 *   instance of a class of the same name made on this side, which extends the same built-in (or
 *   weft) class: the original class is not loaded here, so `instanceof MyError` cannot hold, but
 *   the names, `instanceof Error` / `TypeError` / `WeftError` do;
 * - an ActorRef or a shared structure (SharedStack, SharedQueue, SharedMap), anywhere in the value,
 *   comes back as a working one (handles);
 * - these throw DataCloneError (WEFT_DATA_CLONE), besides functions, symbols and what structured
 *   clone refuses too (Proxy, Promise, WeakMap/WeakSet/WeakRef, iterators, generators, Intl
 *   objects...): SharedArrayBuffers and views over one (bytes cannot carry shared memory, and a
 *   silent copy would end the sharing: send those through postMessage); WebAssembly.Module;
 *   Node's platform objects that structured clone copies through Node's own hooks (Blob, File,
 *   BlockList, SocketAddress, KeyObject, CryptoKey, X509Certificate, histograms); view kinds the
 *   format has no number for (Float16Array); values nested more than MAX_DEPTH (512) levels deep.
 *
 * Choices (figures in bench/wire/README.md):
 *
 * - Plain arrays and objects: no identity table (a scan of at most 32 containers finds a repeat);
 *   the extra-array-property check (`Object.keys(array)`) is the biggest single cost of a small
 *   array and is kept for fidelity (a big array pays ~10-80 ns per element for it).
 * - Strings: a manual loop for ASCII strings of up to 24 chars (encode ~1-3 ns/char; decode by
 *   `String.fromCharCode`, 8 bytes a call), else Buffer's native `utf8Write` and `utf8Slice`
 *   (cheaper than TextEncoder/TextDecoder). Non-ASCII strings go as UTF-16 (`ucs2Write`/
 *   `ucs2Slice`): cheaper than UTF-8 both ways for them, and lossless for lone surrogates.
 * - Views decode with `Uint8Array.prototype.slice` (one exactly-sized copy).
 */
export * from './format.js';
export { WireWriter } from './writer.js';
export { WireReader } from './reader.js';
