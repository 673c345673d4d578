/**
 * `par(bigInt64Array | bigUint64Array)`: exact sums, min, max, count and sort over 64-bit
 * integers, with BigInt results (no stages: closures over BigInts are not compiled).
 */
import { type WeftError, fromNative } from '../errors.js';
import { budgetThreads } from '../internal/budget.js';
import { checkOptions, optionNames } from '../internal/options.js';
import { native } from '../native.js';
import { TERMINAL } from './ops.js';
import type { ParOptions } from './pipeline.js';
import { abortedError, aborts, INLINE_MAX } from './pipeline.js';

/** The 64-bit integer arrays `par` reads. */
export type BigIntArray = BigInt64Array | BigUint64Array;

/** Options of `ParBig.sort`. */
export interface BigSortOptions {
  /** Largest first. */
  readonly descending?: boolean;
}

const SORT_OPTIONS = optionNames<BigSortOptions>()(['descending']);

type NativeBig = ReturnType<typeof native.parBigRunSync>;

/**
 * A pipeline over a `BigInt64Array` or `BigUint64Array`. As with numbers, a source over a
 * SharedArrayBuffer is read in place by weft's threads (do not write to it while a terminal is
 * pending); any other is copied first, on the calling thread. Sources shorter than `INLINE_MAX`
 * run on the calling thread.
 */
export class ParBig<A extends BigIntArray = BigIntArray> {
  readonly #source: A;
  readonly #options: ParOptions;

  /** @internal Use `par(bigIntArray)`. */
  constructor(source: A, options: ParOptions = {}) {
    this.#source = source;
    this.#options = options;
  }

  /** How many values the source has. */
  get sourceLength(): number {
    return this.#source.length;
  }

  /** The exact sum (0n when empty): BigInts do not overflow. */
  async sum(): Promise<bigint> {
    return (await this.#run('sum')) as bigint;
  }

  /** The smallest value; undefined when empty. */
  async min(): Promise<bigint | undefined> {
    return (await this.#run('min')) as bigint | undefined;
  }

  /** The largest value; undefined when empty. */
  async max(): Promise<bigint | undefined> {
    return (await this.#run('max')) as bigint | undefined;
  }

  /** How many values there are. */
  async count(): Promise<number> {
    return (await this.#run('count')) as number;
  }

  /** The values sorted, as a new array of the source's type. */
  async sort(options?: BigSortOptions): Promise<A> {
    const opts = checkOptions(options, SORT_OPTIONS, 'sort options');
    return (await this.#run('sort', opts.descending === true)) as A;
  }

  async #run(terminal: 'sum' | 'min' | 'max' | 'count' | 'sort', descending = false): Promise<NativeBig> {
    budgetThreads();
    const signal = this.#options.signal;
    if (signal?.aborted) throw abortedError(signal);
    const code = TERMINAL[terminal];
    if (this.#source.length < INLINE_MAX) {
      try {
        return native.parBigRunSync(this.#source, code, descending);
      } catch (err) {
        throw fromNative(err);
      }
    }
    let cancel: InstanceType<typeof native.ParCancel> | null = null;
    let unwatch = (): void => {};
    if (signal !== undefined) {
      const c = new native.ParCancel();
      cancel = c;
      unwatch = aborts.watch(signal, c, () => c.cancel());
    }
    let result: NativeBig | Error;
    try {
      result = await native.parBigRun(this.#source, code, descending, cancel);
    } finally {
      unwatch();
    }
    if (signal?.aborted) throw abortedError(signal);
    if (result instanceof Error) throw fromNative(result) as WeftError;
    return result;
  }
}
