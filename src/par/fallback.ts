/**
 * `{ fallback: 'pool' }`: pipelines with closures the par compiler does not support run as
 * JavaScript on a weft Pool, one chunk of the source per task (see `fallback-tasks.mjs`, the
 * task module). The terminals that add, count, compare, sort or collect then run natively over
 * the surviving values, so they keep their exact semantics (an exact sum, `Math.min` rules).
 */
import { join } from 'node:path';
import { WeftError } from '../errors.js';
import { budgetThreads, threadBudget } from '../internal/budget.js';
import { Pool } from '../pool/index.js';
import type { Captures } from './compiler.js';

/** A stage or terminal closure as JavaScript source, with its captures. */
export interface JsClosure {
  readonly kind: 'map' | 'filter' | 'some' | 'every' | 'reduce' | 'key';
  readonly src: string;
  readonly captures: Captures | undefined;
}

/** What the pipeline reads: a typed array (its values are copied per chunk) or a range. */
export type JsSource =
  | { readonly kind: 'array'; readonly array: ArrayLike<number> & { subarray(lo: number, hi: number): ArrayLike<number> } }
  | { readonly kind: 'range'; readonly start: number; readonly step: number; readonly length: number };

interface ChunkSpec {
  values: ArrayLike<number> | undefined;
  start: number;
  step: number;
  offset: number;
  length: number;
  stages: readonly JsClosure[];
  test: JsClosure | undefined;
}

interface FallbackTasks {
  parChunk(spec: ChunkSpec): Float64Array | { decided: boolean };
  parFold(values: Float64Array, src: string, init: number, captures: Captures | undefined, chunk: number): number;
}

/** Values per chunk: at least this many, and about four chunks per thread. */
const MIN_CHUNK = 4096;

let shared: Pool<FallbackTasks> | undefined;

/** Milliseconds a fallback worker stays without work before it exits. */
const FALLBACK_IDLE_MS = 10_000;

/**
 * The pool the fallback runs on: started on first use, up to the thread budget's threads, which
 * exit after `FALLBACK_IDLE_MS` without work (the next fallback job starts them again); like every
 * weft Pool it does not keep the process alive while idle. Closed when the process exits.
 */
function fallbackPool(): Pool<FallbackTasks> {
  if (shared === undefined) {
    // Beside this file in dist/ (copied by scripts/build-ts.mjs) and in src/ (tests).
    shared = new Pool<FallbackTasks>({
      module: join(__dirname, 'fallback-tasks.mjs'),
      name: 'weft-par-fallback',
      minThreads: 0,
      maxThreads: budgetThreads(),
      idleTimeout: FALLBACK_IDLE_MS,
    });
  }
  return shared;
}

/**
 * `run(0..n-1)` with at most the thread budget's free threads (taken when the job starts: the
 * budget less the pool workers running now) in flight at once; the results in order.
 */
async function inFlightByBudget<R>(n: number, run: (i: number) => Promise<R>, signal: AbortSignal | undefined): Promise<R[]> {
  const out = new Array<R>(n);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      if (signal?.aborted) {
        next = n;
        throw new WeftError('WEFT_ABORTED', 'the par job was aborted', { cause: signal.reason });
      }
      const i = next++;
      try {
        out[i] = await run(i);
      } catch (e) {
        next = n; // the job has failed: start no more of its chunks
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, threadBudget().free) }, lane));
  return out;
}

function chunks(source: JsSource): Array<{ lo: number; hi: number }> {
  const n = source.kind === 'array' ? source.array.length : source.length;
  const size = Math.max(MIN_CHUNK, Math.ceil(n / (budgetThreads() * 4)));
  const out: Array<{ lo: number; hi: number }> = [];
  for (let lo = 0; lo < n; lo += size) out.push({ lo, hi: Math.min(n, lo + size) });
  return out;
}

function spec(source: JsSource, lo: number, hi: number, stages: readonly JsClosure[], test: JsClosure | undefined): ChunkSpec {
  return {
    values: source.kind === 'array' ? source.array.subarray(lo, hi) : undefined,
    start: source.kind === 'range' ? source.start : 0,
    step: source.kind === 'range' ? source.step : 0,
    offset: lo,
    length: hi - lo,
    stages,
    test,
  };
}

/** Runs the stages on the pool and returns the surviving values, in source order. */
export async function survivors(source: JsSource, stages: readonly JsClosure[], signal?: AbortSignal): Promise<Float64Array> {
  const pool = fallbackPool();
  const cs = chunks(source);
  const parts = (await inFlightByBudget(
    cs.length,
    (i) => pool.run('parChunk', spec(source, cs[i]!.lo, cs[i]!.hi, stages, undefined)),
    signal,
  )) as Float64Array[];
  if (parts.length === 1) return parts[0]!;
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `some` (`test.kind === 'some'`) or `every` over the stages' output, on the pool. */
export async function decide(source: JsSource, stages: readonly JsClosure[], test: JsClosure, signal?: AbortSignal): Promise<boolean> {
  const pool = fallbackPool();
  const cs = chunks(source);
  const results = await inFlightByBudget(cs.length, (i) => pool.run('parChunk', spec(source, cs[i]!.lo, cs[i]!.hi, stages, test)), signal);
  const decided = results.some((r) => !(r instanceof Float64Array) && r.decided);
  return test.kind === 'some' ? decided : !decided;
}

/** `reduce` over `values` on one pool worker, with the chunking of the native reduce. */
export function fold(values: Float64Array, fn: JsClosure, init: number, chunk: number, signal?: AbortSignal): Promise<number> {
  const pool = fallbackPool();
  return signal === undefined
    ? pool.run('parFold', values, fn.src, init, fn.captures, chunk)
    : pool.runWith({ signal }, 'parFold', values, fn.src, init, fn.captures, chunk);
}
