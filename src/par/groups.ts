/**
 * `groupBy(key)`: the aggregations of a grouped pipeline, computed natively per group of the
 * key closure's value.
 */

/** The groups of a `groupBy` that have values: keys ascending, `values[j]` for `keys[j]`. */
export interface Groups {
  /** The keys (integers from 0 to the `keys` option − 1) that have at least one value. */
  readonly keys: Int32Array;
  /** The aggregate of each key's values, in the order of `keys`. */
  readonly values: Float64Array;
}

/** Options of `groupBy`. */
export interface GroupByOptions {
  /**
   * How many keys there may be: the key closure must return an integer from 0 to `keys − 1`
   * (a boolean counts as 0 or 1). At most 1,048,576; default 2 for a closure that returns a
   * boolean, required otherwise. Another key rejects the terminal with `WEFT_INVALID_ARG`.
   */
  readonly keys?: number;
}

/** Aggregation codes of the binding (`par::Agg`). */
export const AGG = { count: 0, sum: 1, mean: 2, min: 3, max: 4 } as const;
export type AggName = keyof typeof AGG;

/** Splits the binding's `[keys..., values...]`. */
export function splitGroups(flat: Float64Array): Groups {
  const g = flat.length / 2;
  return { keys: Int32Array.from(flat.subarray(0, g)), values: flat.slice(g) };
}

/**
 * A pipeline grouped by a key closure. Each terminal runs the pipeline once and aggregates the
 * values of every group (only groups with values appear in the result).
 */
export class ParGroups {
  readonly #run: (agg: AggName) => Promise<Groups>;

  /** @internal Use `par(...).groupBy(fn, options)`. */
  constructor(run: (agg: AggName) => Promise<Groups>) {
    this.#run = run;
  }

  /** How many values each group has. */
  count(): Promise<Groups> {
    return this.#run('count');
  }

  /** Each group's sum, exact and rounded once (as `sum()`). */
  sum(): Promise<Groups> {
    return this.#run('sum');
  }

  /** Each group's exact sum divided by its count. */
  mean(): Promise<Groups> {
    return this.#run('mean');
  }

  /** Each group's smallest value, as `Math.min` sees it (NaN if any is NaN). */
  min(): Promise<Groups> {
    return this.#run('min');
  }

  /** Each group's largest value, as `Math.max` sees it (NaN if any is NaN). */
  max(): Promise<Groups> {
    return this.#run('max');
  }
}
