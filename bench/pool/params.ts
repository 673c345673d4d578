/**
 * Sizes and run counts of the pool benchmark's cases, shared by the parent (bench/pool/index.ts,
 * which records them in the JSON) and the child that runs one case for one library
 * (bench/pool/run-case.ts).
 */
import type { Lib } from './adapters.js';

export interface Sampled {
  median: number;
  samples: number[];
}

/** What a child (run-case.ts) reports for one library and one case. */
export interface CaseResult {
  lib: Lib | 'seq';
  version: string;
  case: CaseId;
  /** Each metric's median over the runs and every run's value. Keys are per case (see index.ts). */
  metrics: Record<string, Sampled>;
  /** How the case was run for this library (chunk size, task counts...). */
  info: Record<string, unknown>;
  /** Seconds the child spent, pool start and warm-up included (summed over runs in the parent). */
  child_seconds: number;
  /** CPU seconds of the whole child process, all threads, from its start. */
  child_cpu_s: number;
  /**
   * Added by the parent, one value per run (Linux; empty elsewhere): the CPU that everything
   * else on the machine used while the child ran (/proc/stat busy time minus the child's and the
   * parent's own CPU), and the hypervisor's steal time, both as % of all the machine's cores.
   */
  machine?: { others_pct: number[]; steal_pct: number[] };
}

/** What a case function measures; run-case.ts adds the child's time and CPU. */
export type CaseFigures = Omit<CaseResult, 'child_seconds' | 'child_cpu_s' | 'machine'>;

export interface CaseError {
  lib: Lib | 'seq';
  case: CaseId;
  error: string;
}

export const CASES = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export type CaseId = (typeof CASES)[number];

export const CASE_TITLES: Record<CaseId, string> = {
  a: 'a. tiny tasks x => x + 1 (tasks/s)',
  b: 'b. map over tiny items (items/s)',
  c: 'c. CPU tasks of k × fib(25), 10 % heavy (k = 20): wall time vs ideal',
  d: 'd. nested fork-join: fib(n) split down to a cutoff',
  e: 'e. idle pool: single-task round trip and idle CPU',
  f: "f. poolifier's workload: factorial(1000) as BigInt, all tasks at once, whole process against the floor",
};

export interface Params {
  /** Timed runs per case (each figure is their median); `--runs N` sets every case. */
  runs: Record<CaseId, number>;
  a: { tasks: number; window: number; warmupTasks: number };
  b: { items: number; warmupItems: number };
  c: { tasks: number; heavyShare: number; heavyK: number; seed: number };
  d: { n: number; cutoff: number; warmupN: number };
  /** steadyWarmup: further round trips before the steady-state measure (the JIT's warm-up done). */
  e: { roundTrips: number; warmupRoundTrips: number; steadyWarmup: number; idleMs: number };
  /** Tasks, all submitted at once to a freshly started pool, and the n of factorial(n). */
  f: { tasks: number; taskSize: number };
}

export const FULL: Params = {
  // a, c, e and f take several seconds per run and library (e idles 5 s per run): 3 runs, which
  // keeps a full run of all five libraries to about 13 minutes on 2 cores.
  runs: { a: 3, b: 5, c: 3, d: 5, e: 3, f: 3 },
  a: { tasks: 200_000, window: 1_024, warmupTasks: 5_000 },
  b: { items: 1_000_000, warmupItems: 100_000 },
  c: { tasks: 2_000, heavyShare: 0.1, heavyK: 20, seed: 0x5eed },
  d: { n: 38, cutoff: 25, warmupN: 32 },
  e: { roundTrips: 2_000, warmupRoundTrips: 500, steadyWarmup: 8_000, idleMs: 5_000 },
  // poolifier's published benchmark (github.com/poolifier/benchmark, bench.sh): 100,000
  // iterations of task type CPU_INTENSIVE with task size 1,000.
  f: { tasks: 100_000, taskSize: 1_000 },
};

export const QUICK: Params = {
  runs: { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 },
  a: { tasks: 20_000, window: 1_024, warmupTasks: 1_000 },
  b: { items: 100_000, warmupItems: 10_000 },
  c: { tasks: 200, heavyShare: 0.1, heavyK: 20, seed: 0x5eed },
  d: { n: 32, cutoff: 22, warmupN: 28 },
  e: { roundTrips: 500, warmupRoundTrips: 100, steadyWarmup: 1_000, idleMs: 1_000 },
  f: { tasks: 10_000, taskSize: 1_000 },
};

/**
 * Case f: the argument of every task, as poolifier's benchmark passes it (the same object to every
 * call; its `functions/function-to-bench.cjs` reads `taskType` and `taskSize`, `test` is a label).
 */
export function factorialTaskData(p: Params['f']): { taskSize: number; taskType: 'CPU_INTENSIVE'; test: string } {
  return { taskSize: p.taskSize, taskType: 'CPU_INTENSIVE', test: 'MYBENCH' };
}

/**
 * Case b, peers: items per task when `map` is emulated (none of the four has a chunked map; only
 * poolifier has `mapExecute`, which submits one task per item, i.e. case a's path). The items are
 * sliced into chunks, each chunk is one `incChunk` task (the chunk's items mapped in order), all
 * chunks are submitted at once and the results concatenated in order.
 *
 * Chosen by a sweep on the 2-core VM (2026-11-23, 1,000,000 items, 3 runs per size, chunk sizes
 * 1,000 / 5,000 / 10,000 / 25,000 / 62,500 / 125,000 / 250,000): every peer plateaus at about
 * 9-10 M items/s from 5,000 to 125,000 items per chunk (the main thread's structured clone of
 * the chunks is the bottleneck; differences inside the plateau were within run-to-run noise),
 * and 1,000 was 25-35 % slower (per-task overhead). 10,000 (100 tasks, 50 per thread) is inside
 * every peer's plateau and leaves enough chunks to balance the two threads.
 */
export const MAP_CHUNK: Record<Exclude<Lib, 'weft'>, number> = {
  piscina: 10_000,
  tinypool: 10_000,
  poolifier: 10_000,
  workerpool: 10_000,
};
export const MAP_CHUNK_NOTE =
  'peers: items sliced into chunks of MAP_CHUNK items, one incChunk task per chunk, all submitted at once, results concatenated in order; chunk size from a 1,000-250,000 sweep (plateau 5,000-125,000 for every peer)';
