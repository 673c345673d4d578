/**
 * One run of one case of the actor benchmark for one library, in a process of its own:
 *
 *   node --expose-gc --import=tsx bench/actor/run-case.ts <lib> <a|b|c|d|e> [unbounded|bounded]
 *
 * Sets the library's actors up, warms them up, does one timed run and prints one line
 * `@@result <json>` on stdout (a `RunResult`, or `{ error }`); progress goes to stderr.
 * bench/actor/index.ts spawns this once per run.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import type { AddMsg, Totals } from './actors.js';
import { loadAdapter, type Adapter, type BlockerLike, type CounterLike, type EchoLike, type PingPongLike } from './adapters.js';
import {
  ASKS,
  ASK_TIMEOUT_MS,
  CASES,
  E,
  LIBS,
  MAX_TIMED_S,
  PING_PONG,
  TELLS,
  type CaseId,
  type Lib,
  type RunResult,
  type Variant,
} from './params.js';
import {
  RESULT_MARK,
  childMain,
  exitUsage,
  parseBenchArgs,
  progress,
  quantileSorted,
  roundSig as round,
  withTimeout,
} from '../harness/index.js';

type Figures = Pick<RunResult, 'metrics' | 'info'>;

function sizes<T>(table: Partial<Record<Lib, T>>, lib: Lib, caseId: CaseId): T {
  const s = table[lib];
  if (s === undefined) throw new Error(`${lib} does not take part in case ${caseId}`);
  return s;
}

// ---------------------------------------------------------------------------------------------
// a, d: tell throughput

/**
 * `n` tells `{ type: 'add', by: i }`, then asks for the totals until all `n` are counted (one ask
 * where the library orders an ask after the tells before it). `before`: the totals so far.
 */
async function tellBurst(
  c: CounterLike,
  n: number,
  before: Totals,
): Promise<{ total_s: number; send_s: number; asks: number; after: Totals }> {
  const want: Totals = { count: before.count + n, sum: before.sum + (n * (n - 1)) / 2 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) c.tell({ type: 'add', by: i } satisfies AddMsg);
  const t1 = performance.now();
  let asks = 0;
  let r: Totals;
  for (;;) {
    r = await c.get();
    asks++;
    if (r.count >= want.count) break;
    if (c.ordered)
      throw new Error(
        `an ask after ${n} tells saw ${r.count - before.count} of them (per-sender FIFO across tell and ask broken, or tells lost)`,
      );
    if (performance.now() - t0 > ASK_TIMEOUT_MS)
      throw new Error(`after ${ASK_TIMEOUT_MS / 1e3} s only ${r.count - before.count} of ${n} tells were counted`);
  }
  const t2 = performance.now();
  if (r.count !== want.count || r.sum !== want.sum) {
    throw new Error(`totals: count ${r.count}, sum ${r.sum}; expected count ${want.count}, sum ${want.sum}`);
  }
  return { total_s: (t2 - t0) / 1e3, send_s: (t1 - t0) / 1e3, asks, after: r };
}

async function caseTells(a: Adapter, caseId: 'a' | 'd'): Promise<Figures> {
  const { n, warmup } = sizes(TELLS[caseId], a.lib, caseId);
  if (!a.counter) throw new Error(`${a.lib}: no counter actor`);
  const c = await a.counter(caseId === 'a' ? 'worker' : 'main');
  const first = await c.get();
  const w = await tellBurst(c, warmup, first);
  progress(`warm-up: ${warmup.toLocaleString('en')} tells in ${(w.total_s * 1e3).toFixed(0)} ms`);
  await sleep(50);
  const r = await tellBurst(c, n, w.after);
  const rate = n / r.total_s;
  progress(
    `${n.toLocaleString('en')} tells: ${(r.total_s * 1e3).toFixed(0)} ms (sending ${(r.send_s * 1e3).toFixed(0)} ms), ${round(rate, 4)} msgs/s, ${r.asks} ask(s)`,
  );
  return {
    metrics: { msgs_per_s: round(rate), send_s: round(r.send_s, 4), total_s: round(r.total_s, 4) },
    info: { tells: n, warmup_tells: warmup, asks_until_counted: r.asks, how: a.how[caseId] },
  };
}

// ---------------------------------------------------------------------------------------------
// b: ask round trip

async function caseAsk(a: Adapter): Promise<Figures> {
  const p = sizes(ASKS, a.lib, 'b');
  if (!a.echo) throw new Error(`${a.lib}: no echo actor`);
  const e: EchoLike = await a.echo();
  const one = async (v: number): Promise<void> => {
    const r = await e.ask(v);
    if (r !== v) throw new Error(`echo ${v} replied ${String(r)}`);
  };
  for (let i = 0; i < p.warmup; i++) await one(i);
  // 1 in flight: each ask timed on its own.
  const lat = new Array<number>(p.latency);
  for (let i = 0; i < p.latency; i++) {
    const t0 = performance.now();
    await one(i);
    lat[i] = (performance.now() - t0) * 1e3;
  }
  lat.sort((x, y) => x - y);
  const p50 = quantileSorted(lat, 0.5);
  const p99 = quantileSorted(lat, 0.99);
  progress(`1 in flight, ${p.latency.toLocaleString('en')} asks: p50 ${p50.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs`);
  // `window` in flight: each lane sends its next ask when its last one is answered.
  // Stops at `total` asks or once MAX_TIMED_S have passed, whichever comes first.
  const windowed = async (total: number): Promise<{ asks: number; s: number }> => {
    let next = 0;
    const t0 = performance.now();
    const deadline = t0 + MAX_TIMED_S * 1e3;
    const lane = async (): Promise<void> => {
      while (next < total && performance.now() < deadline) await one(next++);
    };
    await Promise.all(Array.from({ length: p.window }, lane));
    return { asks: next, s: (performance.now() - t0) / 1e3 };
  };
  await windowed(Math.min(p.inflight, 10 * p.warmup));
  await sleep(50);
  const w = await windowed(p.inflight);
  const rate = w.asks / w.s;
  progress(`${p.window} in flight, ${w.asks.toLocaleString('en')} asks: ${(w.s * 1e3).toFixed(0)} ms, ${round(rate, 4)} asks/s`);
  return {
    metrics: { p50_us: round(p50, 4), p99_us: round(p99, 4), inflight_asks_per_s: round(rate) },
    info: {
      latency_asks: p.latency,
      warmup_asks: p.warmup,
      inflight_asks: w.asks,
      inflight_asks_max: p.inflight,
      window: p.window,
      how: a.how.b,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// c: ping-pong between two workers

async function casePingPong(a: Adapter): Promise<Figures> {
  const p = sizes(PING_PONG, a.lib, 'c');
  if (!a.pingPong) throw new Error(`${a.lib}: no ping-pong actors`);
  const pp: PingPongLike = await a.pingPong();
  const threads = await pp.threads();
  if (threads[0] === threads[1] || threads.includes(threadId)) {
    throw new Error(`A and B must run on two different worker threads; threadIds: A ${threads[0]}, B ${threads[1]}, main ${threadId}`);
  }
  const check = (got: number, n: number): void => {
    if (got !== n) throw new Error(`ping-pong of ${n} round trips ended with counter ${got}`);
  };
  let t0 = performance.now();
  check(await pp.run(p.warmup), p.warmup);
  progress(`warm-up: ${p.warmup.toLocaleString('en')} round trips in ${(performance.now() - t0).toFixed(0)} ms`);
  await sleep(50);
  // Runs of `chunk` round trips (one start message each) until `n` or MAX_TIMED_S, whichever first.
  let done = 0;
  let runs = 0;
  t0 = performance.now();
  while (done < p.n && (performance.now() - t0) / 1e3 < MAX_TIMED_S) {
    const k = Math.min(p.chunk, p.n - done);
    check(await pp.run(k), k);
    done += k;
    runs++;
  }
  const s = (performance.now() - t0) / 1e3;
  const rate = done / s;
  progress(
    `${done.toLocaleString('en')} round trips in ${runs} start message(s): ${(s * 1e3).toFixed(0)} ms, ${round(rate, 4)} round trips/s`,
  );
  return {
    metrics: { round_trips_per_s: round(rate), rt_us: round((s / done) * 1e6, 4) },
    info: {
      round_trips: done,
      round_trips_max: p.n,
      start_messages: runs,
      warmup_round_trips: p.warmup,
      thread_ids: { a: threads[0], b: threads[1], main: threadId },
      how: a.how.c,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// e: RSS with messages queued behind a blocked handler

const gc = (globalThis as { gc?: () => void }).gc;

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage();
}

const MB = 2 ** 20;

/** Not inlined away: the dry loop's objects are created as the real loop's are. */
function dry(m: AddMsg): number {
  return m.type === 'add' ? 1 : 0;
}

async function caseRss(a: Adapter, variant: Variant): Promise<Figures> {
  if (!a.blocker) throw new Error(`${a.lib}: no blocker actor`);
  const b: BlockerLike = await a.blocker(variant);
  // Warm-up with the actor not blocked: the paths compiled, the mailbox used. In batches that
  // fit the bounded mailbox, each followed by an ask, so that nothing is dropped.
  const batch = Math.min(E.warmup, E.capacity / 2);
  for (let done = 0; done < E.warmup; done += batch) {
    for (let i = 0; i < batch; i++) b.tell({ type: 'add', by: i });
    const warm = await b.get();
    if (warm.count !== done + batch) throw new Error(`warm-up: ${warm.count} of ${done + batch} tells counted`);
  }
  // The same loop of 1,000,000 message objects with the tell left out, so that the main thread's
  // heap has grown to what the loop's garbage needs before the baseline is taken.
  let sink = 0;
  for (let i = 0; i < E.messages; i++) sink += dry({ type: 'add', by: i });
  if (sink !== E.messages) throw new Error('dry loop');
  const m0 = await settledMemory();
  progress(`warm-up done (${E.warmup.toLocaleString('en')} tells in batches of ${batch}); RSS ${(m0.rss / MB).toFixed(1)} MB`);
  await withTimeout(b.block(), ASK_TIMEOUT_MS, 'the blocking message', 'nothing');
  progress('the actor is blocked');
  const t0 = performance.now();
  for (let i = 0; i < E.messages; i++) b.tell({ type: 'add', by: i });
  const send = (performance.now() - t0) / 1e3;
  const m1 = await settledMemory();
  const growth = (m1.rss - m0.rss) / MB;
  progress(
    `${variant}: ${E.messages.toLocaleString('en')} tells in ${(send * 1e3).toFixed(0)} ms; RSS ${(m0.rss / MB).toFixed(1)} → ${(m1.rss / MB).toFixed(1)} MB (+${growth.toFixed(1)} MB)`,
  );
  b.release();
  // The bounded mailbox may still be full when the ask is sent right after the release: wait a
  // little, and ask again if an ask is refused or dropped.
  let after: Awaited<ReturnType<BlockerLike['get']>> | undefined;
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5 && !after; attempt++) {
    await sleep(variant === 'bounded' ? 200 : 0);
    try {
      after = await b.get();
    } catch (err) {
      lastErr = err;
      progress(`ask after the release failed (${String(err)}), asking again`);
    }
  }
  if (!after) throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  const processed = after.count - E.warmup;
  const drained = (performance.now() - t0) / 1e3;
  const m2 = await settledMemory();
  progress(
    `processed after the release: ${processed.toLocaleString('en')} (${(drained * 1e3).toFixed(0)} ms from the first queued tell); ` +
      `RSS once drained ${(m2.rss / MB).toFixed(1)} MB (+${((m2.rss - m0.rss) / MB).toFixed(1)} MB)`,
  );
  if (after.atRelease !== undefined && after.atRelease !== E.warmup) {
    throw new Error(`the handler did not block: ${after.atRelease - E.warmup} messages were processed while it should have been blocked`);
  }
  if (variant === 'unbounded' && processed !== E.messages) throw new Error(`unbounded: ${processed} of ${E.messages} messages processed`);
  if (variant === 'bounded' && processed >= E.messages)
    throw new Error(`bounded: all ${processed} messages were processed (nothing dropped)`);
  return {
    metrics: {
      rss_growth_mb: round(growth, 4),
      /** After the release, once every queued message was handled: what the process kept. */
      rss_drained_growth_mb: round((m2.rss - m0.rss) / MB, 4),
      heap_used_growth_mb: round((m1.heapUsed - m0.heapUsed) / MB, 4),
      heap_total_growth_mb: round((m1.heapTotal - m0.heapTotal) / MB, 4),
      external_growth_mb: round((m1.external + m1.arrayBuffers - m0.external - m0.arrayBuffers) / MB, 4),
      send_s: round(send, 4),
    },
    info: {
      messages: E.messages,
      processed_after_release: processed,
      rss_before_mb: round(m0.rss / MB, 4),
      rss_queued_mb: round(m1.rss / MB, 4),
      ...(variant === 'bounded' ? { capacity: E.capacity, overflow: E.overflow } : {}),
      how: a.how.e,
    },
  };
}

// ---------------------------------------------------------------------------------------------

const USAGE = 'node --expose-gc --import=tsx bench/actor/run-case.ts <lib> <case> [unbounded|bounded]';
const { positionals } = parseBenchArgs({
  usage: USAGE,
  description: `One run of one case of the actor benchmark for one library; the result as one line \`${RESULT_MARK}<json>\` on stdout.`,
  positionals: [
    { name: 'lib', choices: LIBS },
    { name: 'case', choices: CASES },
    { name: 'mailbox', choices: ['unbounded', 'bounded'], optional: true },
  ],
  flags: {},
});
const [lib, caseId, variant] = positionals;
if ((caseId === 'e') !== (variant !== undefined))
  exitUsage(caseId === 'e' ? 'case e needs unbounded or bounded' : `unexpected argument ${variant}`, USAGE);
const base = { lib, case: caseId as CaseId, ...(variant === undefined ? {} : { variant }) };

childMain(
  base,
  async (atExit) => {
    const adapter = await loadAdapter(lib);
    // Shut the actors down, but never hang on it: the result is already out.
    atExit(() => adapter.close());
    let f: Figures;
    switch (caseId) {
      case 'a':
      case 'd':
        f = await caseTells(adapter, caseId);
        break;
      case 'b':
        f = await caseAsk(adapter);
        break;
      case 'c':
        f = await casePingPong(adapter);
        break;
      case 'e':
        f = await caseRss(adapter, variant!);
        break;
    }
    return { ...base, version: adapter.version, ...f };
  },
  { exitTimeoutMs: 5_000 },
);
