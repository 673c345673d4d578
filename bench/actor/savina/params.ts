/**
 * Benchmarks, libraries and sizes of the Savina subset (bench/actor/savina), shared by the parent
 * (./index.ts) and the child that runs one benchmark for one library (./run-case.ts).
 *
 * Savina: S. M. Imam and V. Sarkar, "Savina - An Actor Benchmark Suite", AGERE! 2014
 * (https://doi.org/10.1145/2687357.2687368), code at https://github.com/shamsimam/savina. The
 * sizes below are the defaults of its `*Config` classes (PingPongConfig, CountingConfig,
 * ThreadRingConfig, ThroughputConfig).
 */

/** The four Savina micro-benchmarks that fit a 2-core machine (ids: Savina's package names). */
export const BENCHES = ['pingpong', 'count', 'threadring', 'fjthrput'] as const;
export type BenchId = (typeof BENCHES)[number];

export const BENCH_TITLES: Record<BenchId, string> = {
  pingpong: 'Ping-pong (Savina pingpong)',
  count: 'Counting actor (Savina count)',
  threadring: 'Thread ring (Savina threadring)',
  fjthrput: 'Fork-join throughput (Savina fjthrput)',
};

/**
 * weft: this repository's actors; `main` (every actor on the main thread, `{ on: 'main' }`) and
 * `workers` (spread over a pool of 2 workers). port: the floor, bare node:worker_threads
 * MessagePorts. comedy: its 'threaded' mode (one worker thread per actor). nact, xstate: actors on
 * the main thread only.
 */
export const LIBS = ['weft', 'port', 'comedy', 'nact', 'xstate'] as const;
export type Lib = (typeof LIBS)[number];

/** weft's two placements. */
export const VARIANTS = ['main', 'workers'] as const;
export type Variant = (typeof VARIANTS)[number];

/** One child's work: one run of one benchmark for one library (weft: in one placement). */
export interface Job {
  lib: Lib;
  variant?: Variant;
}

export function jobKey(j: Job): string {
  return j.variant ? `${j.lib}/${j.variant}` : j.lib;
}

export const JOB_LABELS: Record<string, string> = {
  'weft/main': "weft, main thread ({ on: 'main' })",
  'weft/workers': 'weft, 2 pool workers',
  port: 'MessagePort floor (2 workers)',
  comedy: 'comedy (threaded)',
  nact: 'nact (main thread)',
  xstate: 'xstate (main thread)',
};

const ALL: Job[] = [
  { lib: 'weft', variant: 'main' },
  { lib: 'weft', variant: 'workers' },
  { lib: 'port' },
  { lib: 'comedy' },
  { lib: 'nact' },
  { lib: 'xstate' },
];

/**
 * Who runs what. comedy has no thread ring: it passes an actor ref only as a top-level message
 * argument, and a threaded actor's ref so passed to another threaded actor does not reach that
 * actor (comedy 2.1.7 starts a new instance, unlinked, in a thread of its own: the first hop finds
 * no `next`; tried 2026-12-07), and the ring's 100 actors would be 100 worker threads.
 */
export const JOBS: Record<BenchId, Job[]> = {
  pingpong: ALL,
  count: ALL,
  threadring: ALL.filter((j) => j.lib !== 'comedy'),
  fjthrput: ALL,
};

/** What a job cannot run, and why (printed under the tables, kept in the JSON). */
export const NOT_RUN: Partial<Record<BenchId, Partial<Record<Lib, string>>>> = {
  threadring: {
    comedy:
      "comedy 2.1.7 passes actor refs only as top-level message arguments, and a threaded actor's ref sent to another threaded actor does not reach it (a new, unlinked instance is started in a thread of its own; the first hop finds no next member); 100 threaded actors would also be 100 worker threads",
  },
};

// ---------------------------------------------------------------------------------------------
// Sizes

export interface Sizes {
  /** pingpong: pings (round trips). */
  pingpong: { n: number };
  /** count: increments sent to the counter, then one retrieve. */
  count: { n: number };
  /** threadring: actors in the ring, and hops of the token. */
  threadring: { n: number; r: number };
  /** fjthrput: messages to each actor, and actors. */
  fjthrput: { n: number; a: number };
}

/** Savina's defaults: PingPongConfig.N, CountingConfig.N, ThreadRingConfig.N/R, ThroughputConfig.N/A. */
export const SAVINA: Sizes = {
  pingpong: { n: 40_000 },
  count: { n: 1_000_000 },
  threadring: { n: 100, r: 100_000 },
  fjthrput: { n: 10_000, a: 60 },
};

/** --quick: a tenth of the messages (the same numbers of actors); figures not comparable. */
export const QUICK: Sizes = {
  pingpong: { n: 4_000 },
  count: { n: 100_000 },
  threadring: { n: 100, r: 10_000 },
  fjthrput: { n: 1_000, a: 60 },
};

/** Each child first runs one warm-up iteration on the same actors with this fraction of the messages. */
export const WARMUP_FRACTION = 0.1;

/** The warm-up sizes of `s`: a tenth of the messages, the same actors. */
export function warmupSizes(s: Sizes): Sizes {
  const f = (x: number): number => Math.max(1, Math.round(x * WARMUP_FRACTION));
  return {
    pingpong: { n: f(s.pingpong.n) },
    count: { n: f(s.count.n) },
    threadring: { n: s.threadring.n, r: f(s.threadring.r) },
    fjthrput: { n: f(s.fjthrput.n), a: s.fjthrput.a },
  };
}

/**
 * Messages one iteration sends (for msgs/s): pingpong 2 per ping (ping and pong), count N (the
 * increments; the retrieve and its reply left out), threadring R hops, fjthrput A × N.
 */
export function messagesOf(bench: BenchId, s: Sizes): number {
  switch (bench) {
    case 'pingpong':
      return 2 * s.pingpong.n;
    case 'count':
      return s.count.n;
    case 'threadring':
      return s.threadring.r;
    case 'fjthrput':
      return s.fjthrput.a * s.fjthrput.n;
  }
}

/** The sizes as Savina's flags name them, for the tables. */
export function sizesText(bench: BenchId, s: Sizes): string {
  const n = (x: number): string => x.toLocaleString('en');
  switch (bench) {
    case 'pingpong':
      return `N = ${n(s.pingpong.n)} pings`;
    case 'count':
      return `N = ${n(s.count.n)} messages`;
    case 'threadring':
      return `N = ${n(s.threadring.n)} actors, R = ${n(s.threadring.r)} hops`;
    case 'fjthrput':
      return `N = ${n(s.fjthrput.n)} messages to each of A = ${n(s.fjthrput.a)} actors`;
  }
}

/** fjthrput: the argument of Savina's ThroughputConfig.performComputation(37.2). */
export const THETA = 37.2;

/**
 * Savina's ThroughputConfig.performComputation(theta): `sin(theta)²`, and a check that defeats
 * dead-code elimination (it throws on an impossible value). Returns the value so that the actors
 * can sum it (theta comes from the actor's state, not a literal, so it is not constant-folded).
 */
export function performComputation(theta: number): number {
  const sint = Math.sin(theta);
  const res = sint * sint;
  if (res <= 0) throw new Error(`performComputation: unrealistic res value ${res}`);
  return res;
}

/** A reply or a completion that takes longer than this is an error (a lost message, a deadlock). */
export const DONE_TIMEOUT_MS = 300_000;

/** What a child reports. */
export interface RunResult {
  lib: Lib;
  variant?: Variant;
  bench: BenchId;
  version: string;
  /** ms: the timed iteration, from the first message to the completion seen by the main thread; msgs_per_s: messagesOf / that time. */
  metrics: { ms: number; msgs_per_s: number };
  info: Record<string, unknown>;
  child_seconds: number;
  child_cpu_s: number;
}

export interface RunError {
  lib: Lib;
  variant?: Variant;
  bench: BenchId;
  error: string;
}
