/**
 * `par.zip(a, b, ...)`: pipelines over the rows of several columns of equal length. A zip's
 * closures take the row's columns as their first parameters, then the index and the captures:
 * `par.zip(a, b).map((x, y, i) => x * y).sum()` is a dot product.
 */
import type { Captures } from './compiler.js';
import type { NumericArray, Par } from './pipeline.js';

/** A column of a zip: a typed array, or an array of numbers (copied once into a Float64Array). */
export type ZipColumn = NumericArray | readonly number[];

/** One `number` per column: the row a zip's closures see. */
export type ZipRow<C extends readonly ZipColumn[]> = { readonly [K in keyof C]: number };

/**
 * A parallel pipeline over rows of columns (`par.zip`). `filter` keeps whole rows; `map` turns
 * each row into one value, giving a plain `Par` with every terminal. Like `Par`, immutable and
 * lazy; its closures always compile (the fallback pool does not run zips).
 */
export interface ParZip<R extends readonly number[]> {
  /** How many rows (the columns' common length). */
  readonly sourceLength: number;
  /** Replaces each row by `fn(...row, i)`. */
  map<U extends number | boolean>(fn: (...args: [...R, number]) => U): Par<U>;
  /** Replaces each row by `fn(...row, i, captures)`. */
  map<U extends number | boolean, C extends Captures>(fn: (...args: [...R, number, C]) => U, captures: C): Par<U>;
  /** Keeps the rows for which `fn(...row, i)` is truthy. */
  filter(fn: (...args: [...R, number]) => unknown): ParZip<R>;
  /** Keeps the rows for which `fn(...row, i, captures)` is truthy. */
  filter<C extends Captures>(fn: (...args: [...R, number, C]) => unknown, captures: C): ParZip<R>;
  /** How many rows reach the terminal. */
  count(): Promise<number>;
}
