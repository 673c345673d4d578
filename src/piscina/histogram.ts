/**
 * piscina's histogram summaries (`runTime`, `waitTime`, `histogram.runTime`...) from weft's
 * `Percentiles` (pool.stats(), HdrHistogram with two significant digits, in milliseconds).
 *
 * weft keeps the count, mean, standard deviation, min, p50, p75, p90, p95, p99, p99.9 and max;
 * piscina's other percentiles (p0_001 to p25, p97_5, p99_99, p99_999) are interpolated linearly
 * between the nearest two of those (min counts as p0 and max as p100).
 */
import type { Percentiles } from '../pool/index.js';

/** piscina's histogram summary: milliseconds. */
export interface PiscinaHistogramSummary {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p0_001: number;
  p0_01: number;
  p0_1: number;
  p1: number;
  p2_5: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p97_5: number;
  p99: number;
  p99_9: number;
  p99_99: number;
  p99_999: number;
}

/** piscina 5's `piscina.histogram`. */
export interface PiscinaHistogram {
  readonly runTime: PiscinaHistogramSummary;
  readonly waitTime: PiscinaHistogramSummary;
  /** Not supported: weft's histograms cover the pool's whole life (throws `WEFT_INVALID_ARG`). */
  resetRunTime(): void;
  /** Not supported: weft's histograms cover the pool's whole life (throws `WEFT_INVALID_ARG`). */
  resetWaitTime(): void;
}

/** The percentile `q` (0..100) by linear interpolation between the known points. */
function at(points: ReadonlyArray<readonly [number, number]>, q: number): number {
  for (let i = 1; i < points.length; i++) {
    const [q1, v1] = points[i]!;
    if (q <= q1) {
      const [q0, v0] = points[i - 1]!;
      return q1 === q0 ? v1 : v0 + ((v1 - v0) * (q - q0)) / (q1 - q0);
    }
  }
  return points[points.length - 1]![1];
}

/** piscina's summary of a weft distribution (see the module comment for what is interpolated). */
export function summarize(p: Percentiles): PiscinaHistogramSummary {
  const points: Array<readonly [number, number]> = [
    [0, p.min],
    [50, p.p50],
    [75, p.p75],
    [90, p.p90],
    [95, p.p95],
    [99, p.p99],
    [99.9, p.p999],
    [100, p.max],
  ];
  return {
    average: p.mean,
    mean: p.mean,
    stddev: p.stddev,
    min: p.min,
    max: p.max,
    p0_001: at(points, 0.001),
    p0_01: at(points, 0.01),
    p0_1: at(points, 0.1),
    p1: at(points, 1),
    p2_5: at(points, 2.5),
    p10: at(points, 10),
    p25: at(points, 25),
    p50: p.p50,
    p75: p.p75,
    p90: p.p90,
    p97_5: at(points, 97.5),
    p99: p.p99,
    p99_9: p.p999,
    p99_99: at(points, 99.99),
    p99_999: at(points, 99.999),
  };
}
