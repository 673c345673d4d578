/**
 * One case of the pool benchmark for one library, in a process of its own:
 *
 *   node --import=tsx bench/pool/run-case.ts <lib|seq> <a|b|c|d|e|f> [--quick] [--runs N] [--chunk N]   (--help: the flags)
 *
 * `seq` is the sequential baseline on the main thread (cases c, d, f; e: idle CPU of a process
 * with no pool). The result is one line `@@result <json>` on stdout (a `CaseResult`, or
 * `{ error }`); progress and the libraries' own warnings go to stderr. bench/pool/index.ts spawns
 * this. Case f times the pool from its start, so it makes one run per process whatever --runs says.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LIBS, THREADS, loadAdapter, root, type Adapter, type Lib } from './adapters.js';
import { CASES, FULL, MAP_CHUNK, QUICK, factorialTaskData, type CaseFigures, type CaseId, type Params } from './params.js';
import {
  RESULT_MARK,
  childMain,
  errorText,
  flags,
  parseBenchArgs,
  progress,
  quantileSorted,
  sampled,
  withTimeout,
} from '../harness/index.js';

/** ./tasks/work.mjs: plain ESM shared with the workers, so the baseline runs the very functions the pools run. */
interface Work {
  fib(n: number): number;
  fibWork(k: number): number;
  fibLeaves(n: number, cutoff: number): number[];
  FIB_WORK_N: number;
  factorialTask(data: { taskSize: number }): FactorialResult;
}
/** What case f's task returns: poolifier's benchmark returns the BigInt itself. */
interface FactorialResult {
  factorial: bigint;
  ok: number;
}
let W: Work;

// ---------------------------------------------------------------------------------------------
// Helpers

function check(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`);
}

/** fib(n) without the recursion, for checks. */
function fibIter(n: number): number {
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

/** mulberry32: a small seeded PRNG, so every library gets the same "random" placement. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Case c: the k of every task, heavy ones (k = heavyK) at seeded-random places or every 10th. */
function caseCWork(p: Params['c'], placement: 'random' | 'every10th'): number[] {
  const heavy = Math.round(p.tasks * p.heavyShare);
  if (placement === 'every10th') {
    const every = Math.round(p.tasks / heavy);
    return Array.from({ length: p.tasks }, (_, i) => (i % every === every - 1 ? p.heavyK : 1));
  }
  const ks = Array.from({ length: p.tasks }, (_, i) => (i < heavy ? p.heavyK : 1));
  const rand = mulberry32(p.seed);
  for (let i = ks.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ks[i], ks[j]] = [ks[j]!, ks[i]!];
  }
  return ks;
}

const sum = (xs: readonly unknown[]): number => {
  let s = 0;
  for (const x of xs) s += x as number;
  return s;
};

// ---------------------------------------------------------------------------------------------
// Cases for a pool

async function caseA(a: Adapter, p: Params['a'], runs: number): Promise<CaseFigures> {
  const want = (n: number): number => (n * (n + 1)) / 2; // Σ (i + 1) for i < n

  const allAtOnce = async (n: number): Promise<void> => {
    const calls = new Array<PromiseLike<unknown>>(n);
    for (let i = 0; i < n; i++) calls[i] = a.run('inc', i);
    check('a/all', sum(await Promise.all(calls)), want(n));
  };
  // At most `w` tasks in flight: w "lanes", each submitting its next task when its last settles.
  const windowed = async (n: number, w: number): Promise<void> => {
    let next = 0;
    let s = 0;
    const lane = async (): Promise<void> => {
      while (next < n) {
        const v = (await a.run('inc', next++)) as number; // not `s += await`: s would be read before the await
        s += v;
      }
    };
    await Promise.all(Array.from({ length: Math.min(w, n) }, lane));
    check('a/window', s, want(n));
  };

  await allAtOnce(p.warmupTasks);
  await windowed(p.warmupTasks, p.window);
  const all: number[] = [];
  const win: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t0 = performance.now();
    await allAtOnce(p.tasks);
    all.push(p.tasks / ((performance.now() - t0) / 1e3));
    t0 = performance.now();
    await windowed(p.tasks, p.window);
    win.push(p.tasks / ((performance.now() - t0) / 1e3));
    progress(`run ${r + 1}/${runs}: all at once ${Math.round(all[r]!)} tasks/s, window ${Math.round(win[r]!)} tasks/s`);
  }
  return {
    lib: a.lib,
    version: a.version,
    case: 'a',
    metrics: { all_tasks_per_s: sampled(all, 6), window_tasks_per_s: sampled(win, 6) },
    info: { tasks: p.tasks, window: p.window },
  };
}

async function caseB(a: Adapter, p: Params['b'], runs: number, chunkOverride: number | undefined): Promise<CaseFigures> {
  const chunk = a.lib === 'weft' ? chunkOverride : (chunkOverride ?? MAP_CHUNK[a.lib]);
  const items = Array.from({ length: p.items }, (_, i) => i);
  const warmItems = items.slice(0, p.warmupItems);

  let map: (xs: number[]) => Promise<unknown[]>;
  let how: string;
  if (a.lib === 'weft') {
    const pool = a.weft!;
    map = (xs) => (chunk === undefined ? pool.map('inc', xs) : pool.map('inc', xs, { chunkSize: chunk }));
    how = chunk === undefined ? "pool.map('inc', items) (default chunkSize)" : `pool.map('inc', items, { chunkSize: ${chunk} })`;
  } else {
    // No map in the library: slice the items into chunks, submit every chunk as one task
    // (incChunk: the chunk's items mapped in order), all at once, then concatenate the results
    // in submission order. Slicing and concatenation are part of the timed work, as they are
    // inside a pool's own map.
    const size = chunk!;
    map = async (xs) => {
      const calls: PromiseLike<unknown>[] = [];
      for (let i = 0; i < xs.length; i += size) calls.push(a.run('incChunk', xs.slice(i, i + size)));
      const parts = (await Promise.all(calls)) as number[][];
      const out = new Array<number>(xs.length);
      let k = 0;
      for (const part of parts) for (let j = 0; j < part.length; j++) out[k++] = part[j]!;
      return out;
    };
    how = `chunks of ${size} items, one incChunk task per chunk, all submitted at once, results concatenated`;
  }
  const verify = (out: unknown[], n: number): void => {
    check('b/length', out.length, n);
    for (let i = 0; i < n; i++) if (out[i] !== i + 1) throw new Error(`b: result[${i}] = ${String(out[i])}, expected ${i + 1}`);
  };

  verify(await map(warmItems), warmItems.length);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const out = await map(items);
    rates.push(p.items / ((performance.now() - t0) / 1e3));
    verify(out, p.items);
    progress(`run ${r + 1}/${runs}: ${Math.round(rates[r]!)} items/s`);
  }
  return {
    lib: a.lib,
    version: a.version,
    case: 'b',
    metrics: { items_per_s: sampled(rates, 6) },
    info: { items: p.items, how, ...(chunk === undefined ? {} : { chunk_size: chunk }) },
  };
}

async function caseC(a: Adapter, p: Params['c'], runs: number): Promise<CaseFigures> {
  const fib25 = fibIter(W.FIB_WORK_N);
  const placements = ['random', 'every10th'] as const;
  const works = placements.map((pl) => caseCWork(p, pl));
  const once = async (ks: number[]): Promise<number> => {
    const t0 = performance.now();
    const results = await Promise.all(ks.map((k) => a.run('fibWork', k)));
    const s = (performance.now() - t0) / 1e3;
    check('c', sum(results), sum(ks) * fib25);
    return s;
  };
  // Warm-up: enough light tasks that both workers have compiled fib.
  await once(Array.from({ length: 40 }, () => 1));
  const walls = placements.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < placements.length; i++) walls[i]!.push(await once(works[i]!));
    progress(`run ${r + 1}/${runs}: random ${walls[0]![r]!.toFixed(3)} s, every 10th ${walls[1]![r]!.toFixed(3)} s`);
  }
  return {
    lib: a.lib,
    version: a.version,
    case: 'c',
    metrics: { random_s: sampled(walls[0]!, 6), every10th_s: sampled(walls[1]!, 6) },
    info: { tasks: p.tasks, fib25_calls: sum(works[0]!) },
  };
}

/** A nested run of case d that takes longer than this is taken for a deadlock (sequential fib(38) takes < 1 s). */
const NESTED_LIMIT_MS = 60_000;
const DEADLOCK = 'no result (deadlock?)';

async function caseD(a: Adapter, p: Params['d'], runs: number): Promise<CaseFigures> {
  // The idiomatic alternative to nesting: cut the tree on the main thread into its leaves and
  // submit every leaf as one task (fibSeq), then add the results up.
  const flat = async (n: number): Promise<number> => {
    const leaves = W.fibLeaves(n, p.cutoff);
    return sum(await Promise.all(leaves.map((m) => a.run('fibSeq', m))));
  };
  const nested = a.weft ? (n: number): Promise<number> => a.weft!.run('fibNested', n, p.cutoff) as Promise<number> : undefined;

  const want = fibIter(p.n);
  const wantWarm = fibIter(p.warmupN);
  check('d/split warm-up', await flat(p.warmupN), wantWarm);
  const flatS: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    check('d/split', await flat(p.n), want);
    flatS.push((performance.now() - t0) / 1e3);
    progress(`run ${r + 1}/${runs}: split on the main thread ${flatS[r]!.toFixed(3)} s`);
  }
  // weft's nested runs come second, each bounded, so that a deadlock or a failure of nesting
  // still leaves the split figures.
  const nestedS: number[] = [];
  let nestedError: string | undefined;
  if (nested) {
    try {
      check('d/nested warm-up', await withTimeout(nested(p.warmupN), NESTED_LIMIT_MS, 'd/nested warm-up', DEADLOCK), wantWarm);
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        check('d/nested', await withTimeout(nested(p.n), NESTED_LIMIT_MS, 'd/nested', DEADLOCK), want);
        nestedS.push((performance.now() - t0) / 1e3);
        progress(`run ${r + 1}/${runs}: nested ${nestedS[r]!.toFixed(3)} s`);
      }
    } catch (err) {
      nestedError = errorText(err);
      progress(`nested failed: ${nestedError}`);
    }
  }
  const leaves = W.fibLeaves(p.n, p.cutoff).length;
  return {
    lib: a.lib,
    version: a.version,
    case: 'd',
    metrics: { split_s: sampled(flatS, 6), ...(nested && nestedError === undefined ? { nested_s: sampled(nestedS, 6) } : {}) },
    info: {
      n: p.n,
      cutoff: p.cutoff,
      split_leaf_tasks: leaves,
      ...(nested ? { nested_tasks: leaves, nested_shape: 'fork fib(n-1) on currentPool(), compute fib(n-2) in place, join' } : {}),
      ...(nestedError === undefined ? {} : { nested_error: nestedError }),
    },
  };
}

async function idleCpu(ms: number, runs: number): Promise<number[]> {
  await sleep(500); // let the warm-up settle
  const pcts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const c = process.cpuUsage(c0);
    pcts.push(((c.user + c.system) / 1e3 / (performance.now() - t0)) * 100);
    progress(`idle run ${r + 1}/${runs}: ${pcts[r]!.toFixed(3)} % of one core`);
  }
  return pcts;
}

async function caseE(a: Adapter, p: Params['e'], runs: number): Promise<CaseFigures> {
  for (let i = 0; i < p.warmupRoundTrips; i++) check('e', (await a.run('inc', i)) as number, i + 1);
  /** p50 and p99 (µs) of `n` sequential round trips. */
  const measure = async (n: number): Promise<[number, number]> => {
    const lat = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const v = await a.run('inc', i);
      lat[i] = (performance.now() - t0) * 1e3; // µs
      if (v !== i + 1) throw new Error(`e: inc(${i}) = ${String(v)}`);
    }
    lat.sort((x, y) => x - y);
    return [quantileSorted(lat, 0.5), quantileSorted(lat, 0.99)];
  };
  const p50: number[] = [];
  const p99: number[] = [];
  for (let r = 0; r < runs; r++) {
    const [a50, a99] = await measure(p.roundTrips);
    p50.push(a50);
    p99.push(a99);
    progress(`run ${r + 1}/${runs}: p50 ${a50.toFixed(1)} µs, p99 ${a99.toFixed(1)} µs`);
  }
  // Steady state: the same measure after `steadyWarmup` more round trips (the JIT's warm-up of
  // both threads' code done), once per process.
  for (let i = 0; i < p.steadyWarmup; i++) check('e', (await a.run('inc', i)) as number, i + 1);
  const [s50, s99] = await measure(p.roundTrips);
  progress(`steady: p50 ${s50.toFixed(1)} µs, p99 ${s99.toFixed(1)} µs`);
  const idle = await idleCpu(p.idleMs, runs);
  return {
    lib: a.lib,
    version: a.version,
    case: 'e',
    metrics: {
      rt_p50_us: sampled(p50, 4),
      rt_p99_us: sampled(p99, 4),
      rt_steady_p50_us: sampled([s50], 4),
      rt_steady_p99_us: sampled([s99], 4),
      idle_cpu_pct: sampled(idle, 3),
    },
    info: {
      round_trips_per_run: p.roundTrips,
      steady_after: p.warmupRoundTrips + runs * p.roundTrips + p.steadyWarmup,
      idle_ms_per_run: p.idleMs,
    },
  };
}

const MB = 2 ** 20;
/** The process's peak resident set so far (getrusage ru_maxrss, KiB on Linux), in MB. */
const peakRssMb = (): number => (process.resourceUsage().maxRSS * 1024) / MB;
/** CPU seconds (user + system, every thread of the process) since `c0`. */
const cpuSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

/** factorial(n) computed another way than the task's loop (a product tree), to check case f's results against. */
function factorialRef(n: number): bigint {
  const product = (lo: number, hi: number): bigint => {
    if (lo > hi) return 1n;
    if (lo === hi) return BigInt(lo);
    const mid = (lo + hi) >>> 1;
    return product(lo, mid) * product(mid + 1, hi);
  };
  return product(1, n);
}

/** Case f: every result must be `{ factorial: n!, ok: 1 }` (BigInt equality compares the values). */
function checkFactorials(results: readonly unknown[], want: bigint, tasks: number): void {
  check('f/results', results.length, tasks);
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as Partial<FactorialResult> | null;
    if (r?.ok !== 1 || r.factorial !== want) {
      const got = typeof r?.factorial === 'bigint' ? `a BigInt of ${r.factorial.toString(2).length} bits` : String(r?.factorial);
      throw new Error(`f: result ${i}: ok ${String(r?.ok)}, factorial ${got} (expected ${want.toString(2).length} bits)`);
    }
  }
}

/**
 * Case f, poolifier's published benchmark (github.com/poolifier/benchmark: each pool in a fresh
 * process, 100,000 `factorialTask(data)` submitted at once, `await Promise.all`, exit), timed from
 * the pool's start: importing the library and constructing the pool (as the benchmark's process
 * does before its loop), submitting every task and receiving every result. No warm-up: the
 * benchmark has none in its process. CPU is the whole process's (every thread) over the same
 * window; peak RSS is the process's since it started (node and tsx included, as for `seq f`).
 * The results are checked after the clock stops. One run per process.
 */
async function caseF(lib: Lib, p: Params['f'], atExit: (fn: () => Promise<unknown>) => void): Promise<CaseFigures> {
  const data = factorialTaskData(p);
  const want = factorialRef(p.taskSize);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const a = await loadAdapter(lib, 'poolifier-bench');
  atExit(() => a.close());
  const tStarted = performance.now();
  const calls = new Array<PromiseLike<unknown>>(p.tasks);
  for (let i = 0; i < p.tasks; i++) calls[i] = a.run('factorialTask', data);
  const tSubmitted = performance.now();
  const results = await Promise.all(calls);
  const wall = (performance.now() - t0) / 1e3;
  const cpu = cpuSince(c0);
  const rss = peakRssMb();
  checkFactorials(results, want, p.tasks);
  progress(`wall ${wall.toFixed(3)} s, CPU ${cpu.toFixed(3)} s, peak RSS ${rss.toFixed(1)} MB`);
  return {
    lib: a.lib,
    version: a.version,
    case: 'f',
    metrics: {
      wall_s: sampled([wall], 6),
      cpu_s: sampled([cpu], 6),
      peak_rss_mb: sampled([rss], 6),
      start_s: sampled([(tStarted - t0) / 1e3], 6),
      submit_s: sampled([(tSubmitted - tStarted) / 1e3], 6),
    },
    info: { tasks: p.tasks, task_size: p.taskSize, data, setup: a.setup },
  };
}

// ---------------------------------------------------------------------------------------------
// The sequential baseline (main thread, no pool)

/** Wall time of `calls` × fib(25) split evenly over two bare worker threads (started and warmed first). */
async function rawTwoThreads(calls: number, want: number, runs: number): Promise<number[]> {
  const file = join(root, 'bench/pool/tasks/raw-worker.mjs');
  const workers = [new Worker(file), new Worker(file)];
  const ask = (w: Worker, n: number): Promise<number> =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.postMessage(n);
    });
  try {
    await Promise.all(workers.map((w) => ask(w, 40)));
    const half = Math.floor(calls / 2);
    const out: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const [a, b] = await Promise.all([ask(workers[0]!, half), ask(workers[1]!, calls - half)]);
      out.push((performance.now() - t0) / 1e3);
      check('c/raw', a! + b!, want);
      progress(`run ${r + 1}/${runs}: two bare threads ${out[r]!.toFixed(3)} s`);
    }
    return out;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function sequential(caseId: CaseId, p: Params, runs: number): Promise<CaseFigures> {
  const base = { lib: 'seq' as const, version: process.version, case: caseId };
  if (caseId === 'c') {
    // Same work as the pools' (placement does not matter on one thread).
    const ks = caseCWork(p.c, 'random');
    const calls = sum(ks);
    const want = calls * fibIter(W.FIB_WORK_N);
    for (let i = 0; i < 40; i++) W.fibWork(1);
    const seqS: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      let s = 0;
      for (const k of ks) s += W.fibWork(k);
      seqS.push((performance.now() - t0) / 1e3);
      check('c/seq', s, want);
      progress(`run ${r + 1}/${runs}: sequential ${seqS[r]!.toFixed(3)} s`);
    }
    // The machine's own 2-thread figure: two bare workers, each given half of the fib(25) calls.
    const raw = await rawTwoThreads(calls, want, runs);
    return {
      ...base,
      metrics: { seq_s: sampled(seqS, 6), raw2_s: sampled(raw, 6) },
      info: {
        tasks: p.c.tasks,
        fib25_calls: calls,
        raw2: 'two bare worker_threads, each running half of the fib(25) calls in one message',
      },
    };
  }
  if (caseId === 'd') {
    check('d/seq warm-up', W.fib(p.d.warmupN), fibIter(p.d.warmupN));
    const secs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      check('d/seq', W.fib(p.d.n), fibIter(p.d.n));
      secs.push((performance.now() - t0) / 1e3);
      progress(`run ${r + 1}/${runs}: fib(${p.d.n}) ${secs[r]!.toFixed(3)} s`);
    }
    return { ...base, metrics: { seq_s: sampled(secs, 6) }, info: { n: p.d.n } };
  }
  if (caseId === 'e') {
    // The floor: CPU of this same kind of process (node + tsx) idling without any pool.
    return { ...base, metrics: { idle_cpu_pct: sampled(await idleCpu(p.e.idleMs, runs), 3) }, info: { idle_ms_per_run: p.e.idleMs } };
  }
  if (caseId === 'f') {
    // The floor: the same calls of the same function on the main thread, one after the other, no
    // pool and no warm-up (as for the pools). Its CPU time (the process's, as the pools'), divided
    // by the pools' 2 threads, is the least wall time 2 threads could take. Each result is checked
    // as it comes and not kept (the pools' caller keeps them: their memory is in the pools' RSS).
    const data = factorialTaskData(p.f);
    const want = factorialRef(p.f.taskSize);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < p.f.tasks; i++) {
      const r = W.factorialTask(data);
      if (r.ok !== 1 || r.factorial !== want) throw new Error(`f/seq: call ${i} returned a wrong result`);
    }
    const wall = (performance.now() - t0) / 1e3;
    const cpu = cpuSince(c0);
    const rss = peakRssMb();
    progress(`sequential: wall ${wall.toFixed(3)} s, CPU ${cpu.toFixed(3)} s, floor (CPU / ${THREADS}) ${(cpu / THREADS).toFixed(3)} s`);
    return {
      ...base,
      metrics: {
        seq_s: sampled([wall], 6),
        cpu_s: sampled([cpu], 6),
        floor_s: sampled([cpu / THREADS], 6),
        peak_rss_mb: sampled([rss], 6),
      },
      info: {
        tasks: p.f.tasks,
        task_size: p.f.taskSize,
        floor: `process CPU of the ${p.f.tasks} calls on the main thread / ${THREADS} threads`,
      },
    };
  }
  throw new Error(`no sequential baseline for case ${caseId}`);
}

// ---------------------------------------------------------------------------------------------

const { values: opts, positionals } = parseBenchArgs({
  usage: 'node --import=tsx bench/pool/run-case.ts <lib|seq> <case> [flags]',
  description: `One case of the pool benchmark for one library; the result as one line \`${RESULT_MARK}<json>\` on stdout.`,
  positionals: [
    { name: 'lib', choices: [...LIBS, 'seq'] },
    { name: 'case', choices: CASES },
  ],
  flags: {
    quick: flags.quick('the smaller sizes of --quick'),
    runs: flags.runs({ help: 'timed runs (default per case)' }),
    chunk: { type: 'int', help: 'case b: items per task (weft: map chunkSize; peers: chunk size)' },
  },
});
const [lib, caseId] = positionals;
const P = opts.quick ? QUICK : FULL;
const runs = opts.runs ?? P.runs[caseId];

childMain(
  { lib, case: caseId },
  async (atExit) => {
    W = (await import(pathToFileURL(join(root, 'bench/pool/tasks/work.mjs')).href)) as Work;
    if (caseId === 'f' && runs !== 1) progress(`case f makes one run per process (the pool's start is timed); --runs ${runs} ignored`);
    if (lib === 'seq') return sequential(caseId, P, runs);
    // Case f times the pool from its start, so it makes the pool itself.
    if (caseId === 'f') return caseF(lib, P.f, atExit);
    const adapter = await loadAdapter(lib);
    // Shut the pool down, but never hang on it: the result is already out.
    atExit(() => adapter.close());
    switch (caseId) {
      case 'a':
        return caseA(adapter, P.a, runs);
      case 'b':
        return caseB(adapter, P.b, runs, opts.chunk);
      case 'c':
        return caseC(adapter, P.c, runs);
      case 'd':
        return caseD(adapter, P.d, runs);
      case 'e':
        return caseE(adapter, P.e, runs);
    }
    throw new Error(`case ${caseId}: not run here`);
  },
  { exitTimeoutMs: 10_000 },
);
