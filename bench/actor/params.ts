/**
 * Libraries, cases, sizes and targets of the actor benchmark, shared by the parent
 * (bench/actor/index.ts) and the child that runs one case for one library (bench/actor/run-case.ts).
 */

/**
 * weft: its actors (ActorSystem, being implemented: the adapter is coded against the spec).
 * port: the floor, bare node:worker_threads MessagePorts with no actor library on top.
 * atomics (case c only): the floor under that, two bare workers bouncing a counter through a
 * SharedArrayBuffer with Atomics.store + Atomics.notify / Atomics.wait (two thread wakes per round
 * trip, no spinning, no MessagePort).
 * comedy: actors in worker threads (its 'threaded' mode). nact, xstate: same-thread actors only.
 */
export const LIBS = ['weft', 'port', 'atomics', 'comedy', 'nact', 'xstate'] as const;
export type Lib = (typeof LIBS)[number];

export const LIB_LABELS: Record<Lib, string> = {
  weft: 'weft',
  port: 'MessagePort (baseline)',
  atomics: 'Atomics.wait/notify (baseline)',
  comedy: 'comedy (threaded)',
  nact: 'nact',
  xstate: 'xstate',
};

export const CASES = ['a', 'b', 'c', 'd', 'e'] as const;
export type CaseId = (typeof CASES)[number];

export const CASE_TITLES: Record<CaseId, string> = {
  a: 'a. cross-thread tell throughput, main → actor on a worker (msgs/s)',
  b: 'b. ask round trip main ↔ actor on a worker',
  c: 'c. worker ↔ worker ping-pong (round trips/s)',
  d: 'd. same-thread tell throughput, actor on the main thread (msgs/s)',
  e: 'e. RSS growth with 1,000,000 messages queued behind a blocked actor',
};

/** Case e's mailboxes: unbounded, or capacity E.capacity with overflow 'drop-newest' (weft only). */
export type Variant = 'unbounded' | 'bounded';

/** One child's work: one run of one case for one library (and, in e, one mailbox). */
export interface Job {
  lib: Lib;
  caseId: CaseId;
  variant?: Variant;
}

/**
 * Which library runs which case (xstate and nact have no cross-thread actors; the Atomics floor is
 * a ping-pong only, c; e: weft and the MessagePort floor).
 */
export const JOBS: Record<CaseId, Job[]> = {
  a: [
    { lib: 'weft', caseId: 'a' },
    { lib: 'port', caseId: 'a' },
    { lib: 'comedy', caseId: 'a' },
  ],
  b: [
    { lib: 'weft', caseId: 'b' },
    { lib: 'port', caseId: 'b' },
    { lib: 'comedy', caseId: 'b' },
  ],
  c: [
    { lib: 'weft', caseId: 'c' },
    { lib: 'port', caseId: 'c' },
    { lib: 'atomics', caseId: 'c' },
    { lib: 'comedy', caseId: 'c' },
  ],
  d: [
    { lib: 'weft', caseId: 'd' },
    { lib: 'nact', caseId: 'd' },
    { lib: 'xstate', caseId: 'd' },
  ],
  e: [
    { lib: 'weft', caseId: 'e', variant: 'unbounded' },
    { lib: 'weft', caseId: 'e', variant: 'bounded' },
    { lib: 'port', caseId: 'e', variant: 'unbounded' },
  ],
};

export function jobKey(j: Job): string {
  return j.variant ? `${j.lib}/${j.variant}` : j.lib;
}

/** What a child reports: every metric of its one timed run. */
export interface RunResult {
  lib: Lib;
  case: CaseId;
  variant?: Variant;
  version: string;
  metrics: Record<string, number>;
  info: Record<string, unknown>;
  /** Seconds the child spent, start-up and warm-up included. */
  child_seconds: number;
  /** CPU seconds of the whole child process, all threads, from its start. */
  child_cpu_s: number;
}

export interface RunError {
  lib: Lib;
  case: CaseId;
  variant?: Variant;
  error: string;
}

// ---------------------------------------------------------------------------------------------
// Sizes. Each chosen so that one timed run takes about 3 s or less per library on the 2-core VM
// (measured 2026-11-24: the MessagePort floor 0.5-0.7 M msgs/s in a; comedy 65-100 k msgs/s, its
// asks 30-110 µs; nact ~0.45 M msgs/s, one setImmediate per message; xstate ~0.4 M msgs/s).
// weft's tell counts assume it is near its targets (at a third of them a run takes ~1 s); b's
// 64-in-flight part and c are capped in time (MAX_TIMED_S) whatever the library's speed.

/** a and d: tells per timed run (then asks for the totals until all are counted), and in the warm-up. */
export const TELLS: Record<'a' | 'd', Partial<Record<Lib, { n: number; warmup: number }>>> = {
  a: {
    weft: { n: 1_000_000, warmup: 100_000 },
    port: { n: 1_000_000, warmup: 100_000 },
    comedy: { n: 200_000, warmup: 20_000 },
  },
  d: {
    weft: { n: 2_000_000, warmup: 200_000 },
    nact: { n: 1_000_000, warmup: 100_000 },
    xstate: { n: 500_000, warmup: 50_000 },
  },
};

/** b: sequential asks timed one by one (after a warm-up), then at most `inflight` asks with `window` in flight (see MAX_TIMED_S). */
export const ASKS: Partial<Record<Lib, { latency: number; warmup: number; inflight: number; window: number }>> = {
  weft: { latency: 20_000, warmup: 2_000, inflight: 2_000_000, window: 64 },
  port: { latency: 20_000, warmup: 2_000, inflight: 500_000, window: 64 },
  comedy: { latency: 20_000, warmup: 2_000, inflight: 300_000, window: 64 },
};

/**
 * c: at most `n` round trips per timed run (fewer if MAX_TIMED_S pass first), bounced in runs of
 * `chunk` (one start message to A each), after a warm-up of `warmup` round trips.
 */
export const PING_PONG: Partial<Record<Lib, { n: number; chunk: number; warmup: number }>> = {
  weft: { n: 400_000, chunk: 20_000, warmup: 20_000 },
  port: { n: 100_000, chunk: 10_000, warmup: 10_000 },
  atomics: { n: 400_000, chunk: 20_000, warmup: 20_000 },
  comedy: { n: 40_000, chunk: 4_000, warmup: 2_000 },
};

/**
 * b (64 in flight) and c stop once this many seconds have passed (checked between asks, and
 * between c's runs), so that a slow library still takes a few seconds per run; the figure is then
 * what was done in that time.
 */
export const MAX_TIMED_S = 3;

/** e: messages queued behind the blocked actor, and the bounded mailbox. */
export const E = {
  messages: 1_000_000,
  capacity: 1_000,
  overflow: 'drop-newest' as const,
  /** Warm-up before the RSS baseline: this many tells and one ask, with the actor not blocked. */
  warmup: 10_000,
  /** "RSS flat" (target e): growth of at most this many MB with 1,000,000 tells into the bounded mailbox. */
  flatMb: 5,
};

/** A single ask or ask loop that takes longer than this is reported as an error (deadlock, lost message). */
export const ASK_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Targets (from the issue), judged on weft's medians

export const TARGETS = {
  a: { msgsPerS: 3e6, timesPort: 3 },
  b: { p50VsPort: 0.5, inflightAsksPerS: 1e6 },
  /** vsAtomics: weft's round trips/s over the Atomics.wait/notify floor's, in the same run. */
  c: { roundTripsPerS: 200e3, vsAtomics: 0.5 },
  d: { msgsPerS: 5e6 },
  e: { boundedFlatMb: E.flatMb },
};

export const TARGET_TEXT: Record<CaseId, string> = {
  a: 'weft ≥ 3 M msgs/s and ≥ 3× the MessagePort floor',
  b: "weft p50 ≤ half the MessagePort floor's; ≥ 1 M asks/s with 64 in flight",
  c: 'weft ≥ 200 k round trips/s and ≥ 50 % of the Atomics.wait/notify floor (two bare workers) in the same run',
  d: 'weft ≥ 5 M msgs/s',
  e: `weft, bounded mailbox (capacity 1,000, drop-newest): RSS flat (growth ≤ ${E.flatMb} MB)`,
};
