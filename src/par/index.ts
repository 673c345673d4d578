/**
 * `par`: parallel pipelines over typed arrays and ranges, compiled from plain arrow functions
 * and run fused on weft's rayon threads.
 *
 * ```ts
 * await par.range(0, 1_000_000).map((x) => x * 2).filter((x) => x % 3 === 0).sum();
 * await par(samples).map((x, i, { gain }) => x * gain, { gain: 0.5 }).max();
 * ```
 */
import { InvalidArgumentError } from '../errors.js';
import { isAbortSignal } from '../internal/abort-watch.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import { type NumericArray, Par, type ParOptions, arrayKind } from './pipeline.js';

export { Par, INLINE_MAX } from './pipeline.js';
export type {
  NumericArray,
  NumericArrayConstructor,
  ToArrayOptions,
  ToArrayIntoOptions,
  SortOptions,
  ParOptions,
  Histogram,
  HistogramOptions,
} from './pipeline.js';
export { ParGroups, type Groups, type GroupByOptions } from './groups.js';
export { ParBig, type BigIntArray, type BigSortOptions } from './big.js';
export type { ParZip, ZipColumn, ZipRow } from './zip.js';
import type { ParZip, ZipColumn, ZipRow } from './zip.js';
import { type BigIntArray, ParBig } from './big.js';
import { describe, thrownMessage } from '../internal/describe.js';
export type { Captures } from './compiler.js';
export { ParCompileError, type SourcePosition, type FileLocation } from './errors.js';

/** `par(source)` and `par.range(start, end, step)`. */
export interface ParFunction {
  /**
   * A pipeline over a `BigInt64Array` or `BigUint64Array`: exact `sum`, `min`, `max`, `count`
   * and `sort`, with BigInt results (no stages).
   */
  <A extends BigIntArray>(source: A, options?: ParOptions): ParBig<A>;
  /**
   * A pipeline over a typed array or an array of numbers (copied once into a Float64Array).
   * A terminal over a typed array whose buffer is a SharedArrayBuffer reads it in place (do not
   * write to it while the terminal is pending); over any other buffer it first copies the
   * values, on the calling thread, so that transferring or resizing the buffer meanwhile
   * cannot affect it.
   */
  (source: NumericArray | readonly number[], options?: ParOptions): Par<number>;
  /**
   * A pipeline over `start, start + step, start + 2 * step, ...` below `end` (above it for a
   * negative step), without materialising it: value `k` is `start + k * step` and there are
   * `Math.max(0, Math.ceil((end - start) / step))` values, as numpy's `arange` counts them.
   */
  range(start: number, end: number, step?: number, options?: ParOptions): Par<number>;
  /**
   * A pipeline over rows of columns of one length (typed arrays or arrays of numbers, copied
   * once into Float64Arrays): its closures take a row's columns, then the index and the
   * captures: `par.zip(a, b).map((x, y) => x * y).sum()`. Columns of different lengths are a
   * `WEFT_INVALID_ARG` error at the call. `par.zip([a, b], options)` takes the options.
   */
  zip<C extends readonly [ZipColumn, ...ZipColumn[]]>(...columns: C): ParZip<ZipRow<C>>;
  zip<C extends readonly [ZipColumn, ...ZipColumn[]]>(columns: C, options: ParOptions): ParZip<ZipRow<C>>;
}

/** The names `par(source, options)` and `par.range(..., options)` accept. */
const PAR_OPTIONS = optionNames<ParOptions>()(['fallback', 'signal']);

function checkOptions(options: ParOptions | undefined): ParOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`par options must be an object, got ${describe(options)}`);
  const opts = checkOptionNames(options, PAR_OPTIONS, 'par options');
  const fallback: unknown = opts.fallback;
  if (fallback !== undefined && fallback !== 'error' && fallback !== 'pool') {
    throw new InvalidArgumentError(`par: fallback must be 'error' or 'pool', got ${describe(fallback)}`);
  }
  if (opts.signal !== undefined && !isAbortSignal(opts.signal)) {
    throw new InvalidArgumentError(`par: signal must be an AbortSignal, got ${describe(opts.signal)}`);
  }
  return opts;
}

function fromSource(source: NumericArray | readonly number[] | BigIntArray, options?: ParOptions): Par<number> | ParBig {
  const opts = checkOptions(options);
  if (isBigIntArray(source)) return new ParBig(source, opts);
  if (arrayKind(source) !== undefined) return new Par({ kind: 'array', array: source as NumericArray }, [], 'number', opts);
  if (isArray(source)) {
    try {
      return fromArray(source as readonly unknown[], opts);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      // A Proxy trap or getter of the caller's array threw.
      throw new InvalidArgumentError(`par(array): reading the array threw: ${thrownMessage(err)}`, {
        cause: err,
      });
    }
  }
  throw new InvalidArgumentError(
    `par() takes a Float64Array, Float32Array, Int8/16/32Array, Uint8/16/32Array, Uint8ClampedArray, BigInt64Array, BigUint64Array or number[]; got ${describe(source)}`,
  );
}

/** Whether `v` is a BigInt64Array or BigUint64Array (false for a Proxy). */
function isBigIntArray(v: unknown): v is BigIntArray {
  return ArrayBuffer.isView(v) && (v instanceof BigInt64Array || v instanceof BigUint64Array);
}

/** Array.isArray, false for a revoked Proxy (for which it throws). */
function isArray(v: unknown): v is readonly unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

function fromArray(values: readonly unknown[], opts: ParOptions): Par<number> {
  return new Par({ kind: 'array', array: copyNumbers(values, opts) }, [], 'number', opts);
}

/** An array of numbers as a Float64Array (`par(array)` and zip columns). */
function copyNumbers(values: readonly unknown[], opts: ParOptions): Float64Array {
  // Over a SharedArrayBuffer, which native terminals read in place (any other buffer they copy
  // first, as JavaScript could detach it meanwhile); the fallback pool sends plain chunks faster.
  const bytes = values.length * Float64Array.BYTES_PER_ELEMENT;
  const copy = new Float64Array(opts.fallback === 'pool' ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes));
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (typeof v !== 'number') {
      throw new InvalidArgumentError(`par(array) needs numbers; element ${k} is ${v === null ? 'null' : typeof v}`);
    }
    copy[k] = v;
  }
  return copy;
}

function range(start: number, end: number, step = 1, options?: ParOptions): Par<number> {
  const opts = checkOptions(options);
  for (const [name, v] of [
    ['start', start],
    ['end', end],
    ['step', step],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidArgumentError(`par.range: ${name} must be a finite number, got ${describe(v)}`);
    }
  }
  if (step === 0) throw new InvalidArgumentError('par.range: step must not be 0');
  const length = Math.max(0, Math.ceil((end - start) / step));
  if (!Number.isSafeInteger(length)) {
    throw new InvalidArgumentError(`par.range(${start}, ${end}, ${step}) has too many values (${length})`);
  }
  return new Par({ kind: 'range', start, step, length }, [], 'number', opts);
}

/** The most columns a zip may have (weft-core's `MAX_COLS` + 1). */
const MAX_ZIP = 64;

/** Whether `v` can be a zip column (a typed array par reads, or an array). */
function isColumn(v: unknown): boolean {
  return arrayKind(v) !== undefined || isArray(v);
}

function zip(...args: unknown[]): ParZip<readonly number[]> {
  let columns: unknown[] = args;
  let options: ParOptions | undefined;
  if (args.length === 2 && isArray(args[0]) && !isColumn(args[1]) && (args[0] as unknown[]).every(isColumn)) {
    columns = args[0] as unknown[];
    options = args[1] as ParOptions;
  }
  const opts = checkOptions(options);
  if (opts.fallback !== undefined)
    throw new InvalidArgumentError("par.zip: the fallback option does not apply (a zip's closures always compile)");
  if (columns.length === 0 || columns.length > MAX_ZIP) {
    throw new InvalidArgumentError(`par.zip takes 1 to ${MAX_ZIP} columns, got ${columns.length}`);
  }
  const arrays = columns.map((c, k): NumericArray => {
    if (arrayKind(c) !== undefined) return c as NumericArray;
    if (isArray(c)) {
      try {
        return copyNumbers(c as readonly unknown[], opts);
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw err;
        // A Proxy trap or getter of the caller's array threw.
        throw new InvalidArgumentError(`par.zip: reading column ${k} threw: ${thrownMessage(err)}`, { cause: err });
      }
    }
    throw new InvalidArgumentError(`par.zip: column ${k} is not a typed array or an array of numbers: ${describe(c)}`);
  });
  const length = (arrays[0] as NumericArray).length;
  arrays.forEach((a, k) => {
    if (a.length !== length) {
      throw new InvalidArgumentError(`par.zip: the columns must have one length; column 0 has ${length}, column ${k} has ${a.length}`);
    }
  });
  const [first, ...rest] = arrays as [NumericArray, ...NumericArray[]];
  return new Par({ kind: 'array', array: first }, [], 'number', opts, rest, arrays.length) as unknown as ParZip<readonly number[]>;
}

/** Builds a parallel pipeline: `par(typedArray | number[])` or `par.range(start, end, step?)`. */
// One implementation behind the overloads of ParFunction (a BigInt source gives a ParBig).
export const par: ParFunction = Object.assign(fromSource as ParFunction, { range, zip: zip as ParFunction['zip'] });
