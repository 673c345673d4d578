/**
 * `Par<T>`: a lazy, immutable parallel pipeline. Stages (`map`, `filter`) compile their closure
 * at once (so a `ParCompileError` points at the call); a terminal assembles the stages into one
 * program, sends it to Rust in one call and returns a Promise of the result.
 */
import { types } from 'node:util';
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { budgetThreads } from '../internal/budget.js';
import { checkOptions, optionNames } from '../internal/options.js';
import { native } from '../native.js';
import {
  type AnyFunction,
  type Captures,
  type CompiledClosure,
  type Operand,
  type ValueType,
  compileClosure,
  joinTypes,
  NATIVE_FUNCTION,
  UNPARSABLE_SOURCE,
} from './compiler.js';
import { ParCompileError, withFileLocation } from './errors.js';
import { type JsClosure, decide, fold, survivors } from './fallback.js';
import { KIND, MAX_REGS, OPCODE, OP_NAMES, R_CONST, TERMINAL, type TerminalName, VARIADIC, VERSION } from './ops.js';
import { AbortWatch } from '../internal/abort-watch.js';
import { AGG, type GroupByOptions, ParGroups, splitGroups } from './groups.js';
import { describe, thrownMessage } from '../internal/describe.js';

/** The typed arrays `par` reads and writes. */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray;

/** Their constructors (the `type` option of `toArray` and `sort`). */
export type NumericArrayConstructor =
  | Float64ArrayConstructor
  | Float32ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor;

/** Element kind codes of the binding (`par::ElemKind`), most derived class first. */
const KINDS: ReadonlyArray<readonly [NumericArrayConstructor, number]> = [
  [Float64Array, 0],
  [Float32Array, 1],
  [Int8Array, 2],
  [Uint8ClampedArray, 4],
  [Uint8Array, 3],
  [Int16Array, 5],
  [Uint16Array, 6],
  [Int32Array, 7],
  [Uint32Array, 8],
];

/** The element kind of a typed array par supports, or undefined. */
export function arrayKind(value: unknown): number | undefined {
  // isView first: false for a Proxy (whose getPrototypeOf trap instanceof would run).
  if (!ArrayBuffer.isView(value)) return undefined;
  for (const [ctor, kind] of KINDS) if (value instanceof ctor) return kind;
  return undefined;
}

function ctorKind(ctor: unknown): number {
  for (const [c, kind] of KINDS) if (ctor === c) return kind;
  throw new InvalidArgumentError(
    'type must be one of Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, ' +
      `Int8Array, Uint8Array, Uint8ClampedArray; got ${describe(ctor)}`,
  );
}

/** Sources shorter than this run on the calling thread: a thread hop would cost more. */
export const INLINE_MAX = 1 << 14;

/**
 * Whether a terminal over an array that is not a SharedArrayBuffer's runs on the calling thread
 * whatever its length. On weft's threads such an array is first copied on the calling thread
 * (JavaScript could detach or shrink its buffer meanwhile); a sum or mean of the values
 * themselves is one streaming pass that costs the calling thread no more than that copy (and
 * the whole terminal about half), and a count after maps only reads nothing.
 */
function inlineBeatsCopy(terminal: TerminalName, stages: readonly Stage[], closure: Stage | undefined): boolean {
  if (closure !== undefined) return false;
  if (terminal === 'count') return stages.every((s) => s.js.kind === 'map');
  return (terminal === 'sum' || terminal === 'mean') && stages.length === 0;
}
/** The fixed chunk of `reduce` (weft-core's `par::CHUNK`). */
const REDUCE_CHUNK = 1 << 14;

/** @internal Where a pipeline's values come from. */
export type SourceSpec =
  | { readonly kind: 'array'; readonly array: NumericArray }
  | { readonly kind: 'range'; readonly start: number; readonly step: number; readonly length: number };

/** Options of `par(source, options)` and `par.range(start, end, step, options)`. */
export interface ParOptions {
  /**
   * What to do with a closure the par compiler does not support: `'error'` (the default) throws
   * a `ParCompileError` at the call; `'pool'` runs the whole pipeline as JavaScript on a weft
   * Pool instead, one chunk of the source per task (the closures still see only their
   * parameters and captures), and the terminal natively over what survives.
   */
  readonly fallback?: 'error' | 'pool';
  /**
   * Cancels the pipeline's terminals (and those of the pipelines made from it with `map` and
   * `filter`): when it aborts, a running terminal stops between chunks (16,384 elements; what a
   * thread is running finishes first) and rejects with `WEFT_ABORTED`, its `cause` the signal's
   * reason; a terminal started after the abort rejects at once. A terminal's `into` array may
   * then hold part of the values.
   */
  readonly signal?: AbortSignal;
}

/** @internal One abort listener per signal, however many par jobs share it. */
export const aborts = new AbortWatch<object>();

/** @internal The error of a job whose signal aborted. */
export function abortedError(signal: AbortSignal): WeftError {
  return new WeftError('WEFT_ABORTED', 'the par job was aborted', { cause: signal.reason });
}

interface Stage {
  /** The compiled closure; undefined when it runs as JavaScript (`fallback: 'pool'`). */
  readonly closure: CompiledClosure | undefined;
  /** The captured values, in `closure.captures` order (booleans as 1/0). */
  readonly values: readonly number[];
  readonly js: JsClosure;
}

function stage(closure: CompiledClosure | undefined, js: JsClosure): Stage {
  const values =
    closure?.captures.map((k) => {
      const v = (js.captures as Captures)[k];
      return typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
    }) ?? [];
  return { closure, values, js };
}

function compiled(stages: readonly Stage[]): stages is ReadonlyArray<Stage & { readonly closure: CompiledClosure }> {
  return stages.every((s) => s.closure !== undefined);
}

/** One program for the stages plus the terminal closure (wire format of `par::program`). */
function assemble(
  stages: ReadonlyArray<Stage & { readonly closure: CompiledClosure }>,
  terminal: (Stage & { readonly closure: CompiledClosure }) | undefined,
  ncols: number,
): { code: Uint32Array; consts: Float64Array } {
  const all = terminal === undefined ? stages : [...stages, terminal];
  const consts: number[] = [];
  const bases: number[] = [];
  let temps = 0;
  for (const s of all) {
    bases.push(consts.length);
    consts.push(...s.closure.consts, ...s.values);
    temps = Math.max(temps, s.closure.ntemps);
  }
  // A zip's other columns sit between the constants and the temporaries.
  const firstCol = R_CONST + consts.length;
  const firstTemp = firstCol + ncols;
  const nregs = firstTemp + temps;
  if (nregs > MAX_REGS) {
    throw new InvalidArgumentError(`the pipeline is too large: it needs ${nregs} registers, at most ${MAX_REGS}`);
  }
  const words: number[] = [VERSION, nregs, consts.length, ncols, all.length];
  all.forEach((s, j) => {
    const c = s.closure;
    const base = R_CONST + (bases[j] as number);
    const reg = (o: Operand): number => {
      switch (o.k) {
        case 'param':
          return o.n;
        case 'const':
          return base + o.n;
        case 'capture':
          return base + c.consts.length + o.n;
        case 'temp':
          return firstTemp + o.n;
        case 'col':
          return firstCol + o.n - 1;
      }
    };
    words.push(KIND[c.kind], c.code.length, reg(c.result));
    for (const ins of c.code) {
      words.push(OPCODE[ins.op], firstTemp + ins.dst);
      if (VARIADIC.has(ins.op)) words.push(ins.args.length);
      for (const a of ins.args) words.push(reg(a));
    }
  });
  return { code: Uint32Array.from(words), consts: Float64Array.from(consts) };
}

let opsChecked = false;
function checkOps(): void {
  if (opsChecked) return;
  const names = native.parOpNames();
  if (names.length !== OP_NAMES.length || names.some((n, i) => n !== OP_NAMES[i])) {
    throw new WeftError(
      'WEFT_PANIC',
      'internal error (a bug in weft, please report it): the native par op table does not match ' +
        'this version of the TypeScript layer; rebuild weft',
    );
  }
  opsChecked = true;
}

type NativeValue = ReturnType<typeof native.parRunSync>;

function internal(what: string, got: unknown): WeftError {
  return new WeftError('WEFT_PANIC', `internal error (a bug in weft, please report it): par expected ${what}, got ${describe(got)}`);
}

function asNumber(v: NativeValue): number {
  if (typeof v !== 'number') throw internal('a number', v);
  return v;
}

function asBoolean(v: NativeValue): boolean {
  if (typeof v !== 'boolean') throw internal('a boolean', v);
  return v;
}

function asArray(v: NativeValue): NumericArray {
  if (arrayKind(v) === undefined) throw internal('a typed array', v);
  return v as NumericArray;
}

/** Options of `toArray`. */
export interface ToArrayOptions<C extends NumericArrayConstructor = NumericArrayConstructor> {
  /** The kind of typed array to return (default `Float64Array`); values convert as a store into it would. */
  readonly type?: C;
}

/** Options of `toArray` that write into a given array. */
export interface ToArrayIntoOptions<A extends NumericArray> {
  /**
   * Write the values into this array from its start (converted as a store into it would) and
   * return the written part (`into` itself when it is filled exactly). Rejects with
   * `WEFT_INVALID_ARG`, writing nothing, if it is too small. It may be the source itself (the
   * values are then computed first). Over a SharedArrayBuffer it is written in place by weft's
   * threads (do not touch it while the Promise is pending); over any other buffer it is filled on
   * the calling thread just before the Promise settles, and if its buffer was detached or shrunk
   * meanwhile so that the values no longer fit, the Promise rejects with `WEFT_INVALID_ARG`.
   */
  readonly into: A;
}

/** Options of `histogram`. */
export interface HistogramOptions {
  /** The lower edge of the first bin (with `max`; default the smallest value). */
  readonly min?: number;
  /** The upper edge of the last bin, included in it (with `min`; default the largest value). */
  readonly max?: number;
}

/** What `histogram` returns. */
export interface Histogram {
  /** How many values fall in each bin. */
  readonly counts: Float64Array;
  /** The `bins + 1` bin edges, from `min` to `max`. */
  readonly edges: Float64Array;
}

/** The most bins of a histogram (`par::MAX_BINS`) and groups of a groupBy (`par::MAX_GROUPS`). */
const MAX_BINS = 1 << 24;
const MAX_GROUPS = 1 << 20;
const HISTOGRAM_OPTIONS = optionNames<HistogramOptions>()(['min', 'max']);
const GROUP_BY_OPTIONS = optionNames<GroupByOptions>()(['keys']);

/** Why a terminal that needs the source index refuses stages that run as JavaScript. */
const POOL_STAGES = (what: string): string =>
  `${what}() needs each value's source index, which stages that run as JavaScript on the fallback pool (fallback: 'pool') do not keep; make their closures compile, or run ${what} over toArray()'s result`;

/**
 * Whether `groupBy(fn, a)`'s `a` is the captures object (the closure destructures a third
 * parameter) rather than the options.
 */
function isCaptures(fn: AnyFunction, a: unknown): boolean {
  if (a === undefined || typeof fn !== 'function') return false;
  try {
    return fn.length >= 3;
  } catch (err) {
    // A Proxy's trap threw.
    throw new InvalidArgumentError(`groupBy: reading the closure's length threw: ${thrownMessage(err)}`, { cause: err });
  }
}

/** The option names of `toArray` and `sort`. */
const TO_ARRAY_OPTIONS = ['type', 'into'] as const;
const SORT_OPTIONS = optionNames<SortOptions>()(['descending', 'type']);

/** Options of `sort`. */
export interface SortOptions<C extends NumericArrayConstructor = NumericArrayConstructor> {
  /** Largest first (NaN still last). */
  readonly descending?: boolean;
  /** The kind of typed array to return (default `Float64Array`); values convert before sorting. */
  readonly type?: C;
}

/**
 * A parallel pipeline over numbers. Immutable: every stage returns a new `Par`, and a `Par` can
 * run any number of terminals. A terminal over a typed array whose buffer is a SharedArrayBuffer
 * reads it in place from weft's threads (do not write to it while the Promise is pending); over
 * any other buffer (which JavaScript may transfer, detach or resize at any time) it copies the
 * values first, on the calling thread, and runs on the copy (except a `sum()` or `mean()`
 * without stages, and a `count()` without filters, which run on the calling thread: as fast as
 * that copy). Terminals over fewer than `INLINE_MAX` values run on the calling thread, in place.
 *
 * Closures are compiled from their source (see the README's "par" section): they see only their
 * parameters `(x, i)` (`i` is the index in the source) and, as a destructured third parameter,
 * the captures object passed right after them: `.map((x, i, { k }) => x * k, { k: 3 })`.
 */
export class Par<T extends number | boolean = number> {
  readonly #source: SourceSpec;
  readonly #stages: readonly Stage[];
  readonly #type: ValueType;
  readonly #options: ParOptions;
  /** A zip's other columns (empty outside a zip). */
  readonly #cols: readonly NumericArray[];
  /** How many of a row's columns the next closure sees as its first parameters (1 once mapped). */
  readonly #arity: number;

  /** @internal Use `par(source)`, `par.range(...)` or `par.zip(...)`. */
  constructor(
    source: SourceSpec,
    stages: readonly Stage[] = [],
    type: ValueType = 'number',
    options: ParOptions = {},
    cols: readonly NumericArray[] = [],
    arity = 1,
  ) {
    this.#source = source;
    this.#stages = stages;
    this.#type = type;
    this.#options = options;
    this.#cols = cols;
    this.#arity = arity;
  }

  /** Compiles `fn`, or with `fallback: 'pool'` keeps it as JavaScript if the compiler cannot. */
  #stage(
    fn: AnyFunction,
    kind: JsClosure['kind'],
    paramTypes: readonly [ValueType, ValueType],
    captures: Captures | undefined,
    // A zip's closures always compile: the fallback pool runs stages over the source alone.
    fallback = this.#options.fallback === 'pool' && this.#cols.length === 0,
  ): Stage {
    const js: JsClosure = { kind, src: typeof fn === 'function' ? Function.prototype.toString.call(fn) : '', captures };
    try {
      return stage(compileClosure(fn, { kind, paramTypes, captures, columns: this.#arity }), js);
    } catch (err) {
      if (err instanceof ParCompileError) {
        // The fallback rebuilds the closure from its source text: not possible for these.
        const rebuildable = err.construct !== NATIVE_FUNCTION && err.construct !== UNPARSABLE_SOURCE;
        if (fallback && rebuildable) return stage(undefined, js);
        // Only now, on its way to the caller: where the construct is in the caller's file.
        throw withFileLocation(err, fn);
      }
      throw err;
    }
  }

  #next<U extends number | boolean>(s: Stage, type: ValueType, arity = 1): Par<U> {
    return new Par<U>(this.#source, [...this.#stages, s], type, this.#options, this.#cols, arity);
  }

  /** How many values the source has (before any filter). */
  get sourceLength(): number {
    return this.#source.kind === 'array' ? this.#source.array.length : this.#source.length;
  }

  /** Replaces every value by `fn(x, i)`. */
  map<U extends number | boolean>(fn: (x: T, i: number) => U): Par<U>;
  /** Replaces every value by `fn(x, i, captures)`. */
  map<U extends number | boolean, C extends Captures>(fn: (x: T, i: number, captures: C) => U, captures: C): Par<U>;
  map(fn: AnyFunction, captures?: Captures): Par<number | boolean> {
    const s = this.#stage(fn, 'map', [this.#type, 'number'], captures);
    return this.#next(s, s.closure?.resultType ?? 'number');
  }

  /** Keeps the values for which `fn(x, i)` is truthy. */
  filter(fn: (x: T, i: number) => unknown): Par<T>;
  /** Keeps the values for which `fn(x, i, captures)` is truthy. */
  filter<C extends Captures>(fn: (x: T, i: number, captures: C) => unknown, captures: C): Par<T>;
  filter(fn: AnyFunction, captures?: Captures): Par<T> {
    return this.#next<T>(this.#stage(fn, 'filter', [this.#type, 'number'], captures), this.#type, this.#arity);
  }

  /**
   * The sum, computed exactly and rounded once: the same whatever the thread count, exact for
   * integer sums below 2^53, and never less accurate than a plain loop. 0 when empty.
   */
  async sum(): Promise<number> {
    return asNumber(await this.#run('sum'));
  }

  /** The exact sum divided by the count; NaN when empty. */
  async mean(): Promise<number> {
    return asNumber(await this.#run('mean'));
  }

  /** How many values reach the terminal. */
  async count(): Promise<number> {
    return asNumber(await this.#run('count'));
  }

  /** The smallest value as `Math.min` sees it (NaN if any is NaN, -0 below +0); undefined when empty. */
  async min(): Promise<number | undefined> {
    const v = await this.#run('min');
    return v === undefined ? undefined : asNumber(v);
  }

  /** The largest value as `Math.max` sees it (NaN if any is NaN, +0 above -0); undefined when empty. */
  async max(): Promise<number | undefined> {
    const v = await this.#run('max');
    return v === undefined ? undefined : asNumber(v);
  }

  /**
   * Folds the values with `fn(acc, x)` from `init`. The source is cut into fixed chunks of
   * 16384 values: each chunk folds from `init` and the chunks' results fold in order with `fn`,
   * so the result never depends on the thread count; for `fn` associative with `init` its
   * identity (as rayon requires) it is the plain left fold, and for sources up to 16384 values
   * it is exactly `values.reduce(fn, init)`. `fn` must return a number.
   */
  reduce(fn: (acc: number, x: T) => number, init: number): Promise<number>;
  reduce<C extends Captures>(fn: (acc: number, x: T, captures: C) => number, init: number, captures: C): Promise<number>;
  async reduce(fn: AnyFunction, init: number, captures?: Captures): Promise<number> {
    if (typeof init !== 'number') throw new InvalidArgumentError(`reduce needs a number init, got ${typeof init}`);
    const s = this.#stage(fn, 'reduce', ['number', joinTypes(this.#type, 'number')], captures);
    if (!compiled(this.#stages) || s.closure === undefined) {
      return fold(await this.#survivors(), s.js, init, REDUCE_CHUNK, this.#options.signal);
    }
    return asNumber(await this.#run('reduce', s, init));
  }

  /** Whether `fn(x, i)` is truthy for some value (stops early). */
  some(fn: (x: T, i: number) => unknown): Promise<boolean>;
  some<C extends Captures>(fn: (x: T, i: number, captures: C) => unknown, captures: C): Promise<boolean>;
  async some(fn: AnyFunction, captures?: Captures): Promise<boolean> {
    const s = this.#stage(fn, 'some', [this.#type, 'number'], captures);
    if (!compiled(this.#stages) || s.closure === undefined) return decide(this.#source, this.#jsStages(), s.js, this.#options.signal);
    return asBoolean(await this.#run('some', s));
  }

  /** Whether `fn(x, i)` is truthy for every value (stops early). */
  every(fn: (x: T, i: number) => unknown): Promise<boolean>;
  every<C extends Captures>(fn: (x: T, i: number, captures: C) => unknown, captures: C): Promise<boolean>;
  async every(fn: AnyFunction, captures?: Captures): Promise<boolean> {
    const s = this.#stage(fn, 'every', [this.#type, 'number'], captures);
    if (!compiled(this.#stages) || s.closure === undefined) return decide(this.#source, this.#jsStages(), s.js, this.#options.signal);
    return asBoolean(await this.#run('every', s));
  }

  /** The values in source order, as a new `Float64Array` (memory handed over from Rust, not copied). */
  toArray(): Promise<Float64Array>;
  /** The values in source order, as a new typed array of the given type. */
  toArray<C extends NumericArrayConstructor>(options: ToArrayOptions<C>): Promise<InstanceType<C>>;
  /** The values in source order, written into `options.into`. */
  toArray<A extends NumericArray>(options: ToArrayIntoOptions<A>): Promise<A>;
  async toArray(options?: { readonly type?: unknown; readonly into?: unknown }): Promise<NumericArray> {
    const opts = checkOptions(options, TO_ARRAY_OPTIONS, 'toArray options');
    if (opts.into !== undefined) {
      if (opts.type !== undefined) throw new InvalidArgumentError('toArray takes either `type` or `into`, not both');
      const into = opts.into;
      if (arrayKind(into) === undefined) {
        throw new InvalidArgumentError(`toArray({ into }) needs a numeric typed array, got ${describe(into)}`);
      }
      const target = into as NumericArray;
      const n = asNumber(await this.#run('toArray', undefined, 0, 0, target));
      if (n === target.length) return target;
      if (target.length < n) {
        // Written, then detached or shrunk by JavaScript before this continuation ran (small
        // sources are written during the call): there is no view of n values to return.
        throw new InvalidArgumentError(
          `toArray({ into }): the output's buffer was detached or shrunk while the terminal was pending (it has room for ${target.length} values now; ${n} were written)`,
        );
      }
      return target.subarray(0, n);
    }
    const kind = opts.type === undefined ? 0 : ctorKind(opts.type);
    return asArray(await this.#run('toArray', undefined, 0, kind));
  }

  /** The values sorted numerically (-0 before +0, NaN last), as a new typed array. */
  sort(options?: { readonly descending?: boolean }): Promise<Float64Array>;
  sort<C extends NumericArrayConstructor>(options: SortOptions<C>): Promise<InstanceType<C>>;
  async sort(options?: { readonly descending?: boolean; readonly type?: unknown }): Promise<NumericArray> {
    const opts = checkOptions(options, SORT_OPTIONS, 'sort options');
    const kind = opts.type === undefined ? 0 : ctorKind(opts.type);
    return asArray(await this.#run('sort', undefined, opts.descending === true ? 1 : 0, kind));
  }

  /**
   * The source index of the smallest value, as `Math.min` orders values (the first NaN if any
   * is NaN, `-0` below `+0`; the first of equal values); undefined when empty. After filters it
   * is still the index in the source, as `i` in a closure.
   */
  async argmin(): Promise<number | undefined> {
    const v = await this.#run('argmin');
    return v === undefined ? undefined : asNumber(v);
  }

  /** The source index of the largest value, as `Math.max` orders values (see `argmin`). */
  async argmax(): Promise<number | undefined> {
    const v = await this.#run('argmax');
    return v === undefined ? undefined : asNumber(v);
  }

  /**
   * The `q`-quantile (`0 <= q <= 1`), exact: found by selection (radix passes over the values,
   * not a sort), then interpolated linearly between the two nearest ranks, as numpy's default
   * and d3's `quantile` do: with `h = (n - 1) * q`, `x[⌊h⌋] + (x[⌊h⌋ + 1] - x[⌊h⌋]) * (h - ⌊h⌋)`
   * over the sorted values. NaN if any value is NaN; undefined when empty.
   */
  async quantile(q: number): Promise<number | undefined> {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
      throw new InvalidArgumentError(`quantile: q must be a number from 0 to 1, got ${describe(q)}`);
    }
    const v = await this.#run('quantile', undefined, q);
    return v === undefined ? undefined : asNumber(v);
  }

  /** The median: `quantile(0.5)` (the mean of the two middle values for an even count). */
  median(): Promise<number | undefined> {
    return this.quantile(0.5);
  }

  /**
   * Counts of the values in `bins` equal-width bins from `min` to `max` (both default to the
   * values' own range, widened by 0.5 each way when all values are equal, or by
   * `|x| * Number.EPSILON` where that is more; give both or neither). `edges` has `bins + 1` entries: a value `x` counts in bin `k` when
   * `edges[k] <= x < edges[k + 1]`, and the last bin also takes `max`, as numpy's `histogram`
   * does. NaN and values outside `[min, max]` are not counted.
   */
  async histogram(bins: number, options?: HistogramOptions): Promise<Histogram> {
    if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
      throw new InvalidArgumentError(`histogram: bins must be an integer from 1 to ${MAX_BINS}, got ${describe(bins)}`);
    }
    const opts = checkOptions(options, HISTOGRAM_OPTIONS, 'histogram options');
    const { min, max } = opts;
    if ((min === undefined) !== (max === undefined)) {
      throw new InvalidArgumentError('histogram: give both min and max, or neither');
    }
    if (min !== undefined || max !== undefined) {
      if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) {
        throw new InvalidArgumentError(
          `histogram: min and max must be finite numbers with min < max, got ${describe(min)} and ${describe(max)}`,
        );
      }
    }
    const flat = asArray(await this.#run('histogram', undefined, [bins, min ?? NaN, max ?? NaN])) as Float64Array;
    return { edges: flat.slice(0, bins + 1), counts: flat.slice(bins + 1) };
  }

  /**
   * Groups the values by `fn(x, i)`, an integer from 0 to `options.keys - 1` (or a boolean:
   * 0 or 1), for the aggregations of `ParGroups`: `count`, `sum`, `mean`, `min`, `max`.
   */
  groupBy(fn: (x: T, i: number) => boolean, options?: GroupByOptions): ParGroups;
  groupBy(fn: (x: T, i: number) => number | boolean, options: GroupByOptions): ParGroups;
  groupBy<C extends Captures>(fn: (x: T, i: number, captures: C) => number | boolean, captures: C, options?: GroupByOptions): ParGroups;
  groupBy(fn: AnyFunction, a?: Captures | GroupByOptions, b?: GroupByOptions): ParGroups {
    const [captures, options] = b !== undefined || isCaptures(fn, a) ? [a as Captures, b] : [undefined, a as GroupByOptions | undefined];
    const opts = checkOptions(options, GROUP_BY_OPTIONS, 'groupBy options');
    // The key closure always compiles (the fallback pool would lose the source index).
    const s = this.#stage(fn, 'key', [this.#type, 'number'], captures, false);
    const keys = opts.keys ?? (s.closure?.resultType === 'boolean' ? 2 : undefined);
    if (typeof keys !== 'number' || !Number.isInteger(keys) || keys < 1 || keys > MAX_GROUPS) {
      throw new InvalidArgumentError(
        keys === undefined
          ? 'groupBy: give options.keys, how many keys the closure may return (it returns integers from 0 to keys - 1)'
          : `groupBy: keys must be an integer from 1 to ${MAX_GROUPS}, got ${describe(keys)}`,
      );
    }
    return new ParGroups(async (agg) => {
      if (!compiled(this.#stages)) throw new InvalidArgumentError(POOL_STAGES('groupBy'));
      return splitGroups(asArray(await this.#run('groupBy', s, keys, AGG[agg])) as Float64Array);
    });
  }

  #jsStages(): JsClosure[] {
    return this.#stages.map((s) => s.js);
  }

  /** The values that survive the stages, computed as JavaScript on the fallback pool. */
  #survivors(): Promise<Float64Array> {
    return survivors(this.#source, this.#jsStages(), this.#options.signal);
  }

  async #run(
    terminal: TerminalName,
    closure?: Stage,
    arg: number | number[] = 0,
    kind = 0,
    into: NumericArray | null = null,
  ): Promise<NativeValue> {
    budgetThreads(); // a WEFT_THREADS that is not a count (it sizes par's threads) rejects every job
    const signal = this.#options.signal;
    if (signal?.aborted) throw abortedError(signal);
    const stages = this.#stages;
    if (!compiled(stages)) {
      if (terminal === 'argmin' || terminal === 'argmax') throw new InvalidArgumentError(POOL_STAGES(terminal));
      // Some closure runs as JavaScript (fallback: 'pool'): the stages on the pool, then this
      // terminal natively over what survives. (Terminal closures are dispatched before here.)
      const values = await this.#survivors();
      return new Par({ kind: 'array', array: values }, [], this.#type, this.#options).#run(terminal, undefined, arg, kind, into);
    }
    checkOps();
    const { code, consts } = assemble(stages, closure as (Stage & { readonly closure: CompiledClosure }) | undefined, this.#cols.length);
    const cols = this.#cols.length === 0 ? null : (this.#cols as NumericArray[]);
    const src = this.#source;
    const array = src.kind === 'array' ? src.array : null;
    const range = src.kind === 'range' ? [src.start, src.step, src.length] : null;
    if (
      this.sourceLength < INLINE_MAX ||
      (array !== null && !types.isSharedArrayBuffer(array.buffer) && inlineBeatsCopy(terminal, stages, closure))
    ) {
      try {
        return native.parRunSync(array, range, cols, code, consts, TERMINAL[terminal], arg, kind, into);
      } catch (err) {
        throw fromNative(err);
      }
    }
    if (signal === undefined) {
      const result = await native.parRun(array, range, cols, code, consts, TERMINAL[terminal], arg, kind, into, null);
      if (result instanceof Error) throw fromNative(result);
      return result;
    }
    // Cancelled between chunks when the signal aborts; the job ends WEFT_ABORTED (or, if it had
    // finished meanwhile, with its result, which the abort then replaces).
    const cancel = new native.ParCancel();
    const unwatch = aborts.watch(signal, cancel, () => cancel.cancel());
    let result: NativeValue | Error;
    try {
      result = await native.parRun(array, range, cols, code, consts, TERMINAL[terminal], arg, kind, into, cancel);
    } finally {
      unwatch();
    }
    if (signal.aborted) throw abortedError(signal);
    if (result instanceof Error) throw fromNative(result);
    return result;
  }
}
