/** Statistics of the benches' samples. None of these functions changes its input. */

/** The median of `xs` (the mean of the two middle values for an even count; NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The nearest-rank `q`-quantile (0 < q <= 1; 0.99 = p99) of values already sorted in ascending order. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** The nearest-rank `q`-quantile of `xs` (sorts a copy; with several quantiles of one array, sort once and use quantileSorted). */
export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(
    [...xs].sort((a, b) => a - b),
    q,
  );
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** The sample standard deviation (n - 1); 0 for fewer than two values. */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * The median over runs of `a[i] / b[i]`: the ratio of two cases measured back to back in the same
 * run, which the machine's drifts affect less than the ratio of two medians.
 */
export function pairedMedianRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`paired samples of different lengths (${a.length}, ${b.length})`);
  return median(a.map((x, i) => x / b[i]!));
}

/** `x` rounded to `digits` significant digits. */
export function roundSig(x: number, digits = 6): number {
  return Number(x.toPrecision(digits));
}

/** A metric as the benches' JSON keeps it: the median and every run's value. */
export interface Sampled {
  median: number;
  samples: number[];
}

/** `samples` with their median; with `digits`, every value rounded to that many significant digits. */
export function sampled(samples: readonly number[], digits?: number): Sampled {
  const r = digits === undefined ? (x: number): number => x : (x: number): number => roundSig(x, digits);
  return { median: r(median(samples)), samples: samples.map(r) };
}

/** `xs` rotated left by `k`: in run k of interleaved runs, each case starts with a different one. */
export function rotate<T>(xs: readonly T[], k: number): T[] {
  return xs.map((_, i) => xs[(i + k) % xs.length]!);
}
