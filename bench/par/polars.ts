/**
 * nodejs-polars for bench:par, fetched from the registry into the cache (scripts/registry-cache.mjs)
 * instead of being a devDependency: its 0.26.1 names platform packages that were never published
 * (npm 11's `npm ci` fails on them) and its binaries declare `engines: node >= 22` (EBADENGINE on
 * every install under Node 20). Installing the platform binary as a top-level package of its own
 * folder makes it run on Node 20 all the same.
 *
 * The types below are the part of nodejs-polars' API this benchmark calls, written out so that the
 * benchmark type-checks without the package installed.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without declarations (its two exports are typed below).
import { ensurePackage as ensurePackageUntyped } from '../../scripts/registry-cache.mjs';
// @ts-expect-error: as above.
import { napiPlatform as napiPlatformUntyped } from '../../scripts/platform.mjs';

const ensurePackage = ensurePackageUntyped as (spec: string, opts?: { extra?: string[] }) => string;
const napiPlatform = napiPlatformUntyped as () => string;

/** The nodejs-polars version benchmarked. */
export const POLARS_VERSION = '0.26.1';

export interface Series {
  sum(): number;
  median(): number;
  sort(): Series;
  toTypedArray(): ArrayLike<number>;
  get(i: number): unknown;
}
export interface Expr {
  alias(name: string): Expr;
  mul(x: number | Expr): Expr;
  add(x: number): Expr;
  pow(x: number): Expr;
  modulo(x: number): Expr;
  eq(x: number): Expr;
  gt(x: number): Expr;
  sum(): Expr;
  floor(): Expr;
  cast(dtype: unknown): Expr;
}
export interface DataFrame {
  lazy(): LazyDataFrame;
  select(...e: Expr[]): DataFrame;
  getColumn(name: string): Series;
  row(i: number): unknown[];
}
export interface LazyDataFrame {
  filter(e: Expr): LazyDataFrame;
  groupBy(by: Expr): { agg(...e: Expr[]): LazyDataFrame };
  sort(by: string): LazyDataFrame;
  select(...e: Expr[]): LazyDataFrame;
  collectSync(): DataFrame;
}
export interface Polars {
  Series(name: string, values: Float64Array): Series;
  DataFrame(columns: Series[] | Expr[] | Record<string, never>): DataFrame;
  col(name: string): Expr;
  len(): Expr;
  intRange(start: number, end: number, step?: number, dtype?: unknown, eager?: boolean): Expr;
  Int64: unknown;
  Int32: unknown;
}

/** Loads nodejs-polars (fetching it once), or says why it could not. */
export function loadPolars(): { pl: Polars; version: string } | { pl: null; why: string } {
  try {
    const binary = `nodejs-polars-${napiPlatform()}@${POLARS_VERSION}`;
    const dir = ensurePackage(`nodejs-polars@${POLARS_VERSION}`, { extra: [binary] });
    const required = createRequire(join(dir, 'package.json'))('nodejs-polars') as { default?: Polars } & Polars;
    const pl = required.default ?? required;
    pl.Series('x', new Float64Array(1)).sum();
    return { pl, version: POLARS_VERSION };
  } catch (err) {
    return { pl: null, why: `nodejs-polars ${POLARS_VERSION} did not load: ${(err as Error).message.split('\n')[0]}` };
  }
}
