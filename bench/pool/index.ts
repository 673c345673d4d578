/**
 * Pool benchmark: `npm run bench:pool` (= `node --import=tsx bench/pool/index.ts`).
 *
 * weft's `Pool` against piscina, tinypool, poolifier and workerpool, all with 2 worker threads,
 * in the same run. Every run of a case for a library is a child process of its own
 * (`node --import=tsx bench/pool/run-case.ts <lib> <case> --runs 1`: pool start, warm-up, one
 * timed run), so that pools never share a process; the runs are interleaved (run 1 of every
 * library, then run 2, ..., the order rotated each time) so that a shared machine's drifts hit
 * every library alike. This parent collects the children's results, takes the medians, derives
 * the ratios, prints markdown tables on stdout (progress goes to stderr) and writes
 * bench/results/pool.json.
 *
 * Cases (sizes in ./params.ts; the work in ./tasks/work.mjs, shared by every library):
 *   a. 200,000 tiny tasks `x => x + 1`, all submitted at once, and again with at most 1,024 in
 *      flight (tasks/s).
 *   b. map over 1,000,000 tiny items (items/s): weft `pool.map('inc', items)`; the peers have no
 *      chunked map and get the idiomatic emulation, chunks of 10,000 items as tasks (params.ts).
 *   c. 2,000 CPU tasks of k × fib(25), k = 20 for 10 % of them (else 1), the heavy ones at
 *      seeded-random places and, separately, every 10th: wall time against the ideal, the
 *      sequential time of the same work on the main thread / 2 threads (% of ideal), and against
 *      the same fib(25) calls split evenly over two bare worker threads (what 2 vCPUs deliver).
 *   d. nested fork-join, fib(38) cut at 25: weft runs the tree as nested tasks (a task forks
 *      sub-tasks on `currentPool()`); the peers cannot nest (a task awaiting sub-tasks of its own
 *      pool deadlocks once every thread waits), so they run the idiomatic alternative, the tree
 *      split on the main thread into its leaf tasks (weft runs that too). Speed-up over
 *      sequential fib(38) on the main thread.
 *   e. idle pool: single-task round trip (p50/p99 over 2,000 sequential awaits per run, after
 *      500 warm-up calls; and once more after 8,000 further calls, "steady") and the process's CPU (process.cpuUsage, all threads) over 5 s of idling
 *      after that, as % of one core. A process without a pool gives the floor.
 *   f. poolifier's workload (its published benchmark against other pools): 100,000 tasks of
 *      factorial(1000) as a BigInt, returning `{ factorial, ok: 1 }`, all submitted at once to a
 *      pool started in that process, each pool set up as that benchmark sets it up (adapters.ts,
 *      `Setup`). Wall time from the pool's start to the last result, the process's CPU (all
 *      threads) meanwhile and its peak RSS; against the floor, the CPU time of the same calls on
 *      the main thread without a pool divided by the 2 threads (× floor = wall / floor).
 * Each figure is the median of the runs (a, c, e, f: 3; b, d: 5); the JSON keeps every run's value.
 *
 * Flags:
 *   --only weft,piscina,...   libraries to run (default: all five)
 *   --cases a,c,...           cases to run (default: all)
 *   --quick                   1 run of smaller sizes, a smoke test (figures not comparable)
 *   --runs N                  runs of every case (default per case, see above)
 *   --timeout S               seconds one child (one run) may take before it is killed (default 120; quick 60)
 *   --build                   run `npm run build:ts` first when dist/ is missing or older than src/
 *   --out PATH                where the JSON goes (default bench/results/pool.json for a full run
 *                             of every library and case; otherwise <tmpdir>/weft-bench-pool.json)
 *
 * weft is loaded as the package itself ('weft', i.e. this repository's dist/, like bench/stack;
 * build it first with `npm run build`, or pass --build),
 * because its task module (tasks/weft.mjs, running in worker threads without tsx) imports
 * `currentPool` from 'weftjs' and must share that module instance with the pool's runtime. A
 * library that fails (weft before its Pool exists) is recorded as `{ error }`; the others'
 * figures are still produced.
 */
import { join } from 'node:path';
import { LIBS, PEERS, THREADS, root, versionOf, type Lib } from './adapters.js';
import {
  CASES,
  CASE_TITLES,
  FULL,
  MAP_CHUNK,
  MAP_CHUNK_NOTE,
  QUICK,
  type CaseError,
  type CaseId,
  type CaseResult,
  type Params,
} from './params.js';
import {
  checkBuilt,
  commandLine,
  firstLine as firstLineOf,
  flags,
  fmt,
  machineInfo,
  markdownTable,
  median,
  parseBenchArgs,
  resultsPath,
  runChild as runCaseChild,
  runInterleaved,
  weftSource,
  writeResults,
} from '../harness/index.js';

type Who = Lib | 'seq';
type Outcome = CaseResult | CaseError;

function parseArgs() {
  const { values: o } = parseBenchArgs({
    usage: 'npm run bench:pool -- [flags]',
    description: "weft's Pool against piscina, tinypool, poolifier and workerpool; every run of a case in a child process of its own.",
    flags: {
      only: flags.list(LIBS, 'libraries to run'),
      cases: flags.list(CASES, 'cases to run'),
      quick: flags.quick('1 run of smaller sizes, a smoke test (figures not comparable)'),
      runs: flags.runs({ help: 'runs of every case (default per case: a, c, e, f 3; b, d 5)' }),
      timeout: flags.timeout({ help: 'seconds one child (one run) may take before it is killed (default 120; --quick 60)' }),
      build: { type: 'boolean', help: 'run `npm run build:ts` first when dist/ is missing or older than src/' },
      out: flags.out(
        'where the JSON goes (default bench/results/pool.json for a full run of every library and case; otherwise <tmpdir>/weft-bench-pool.json)',
      ),
    },
  });
  if (!o.quick && o.runs !== undefined && o.runs < 3) console.error('bench: note: fewer than 3 runs per case');
  return { ...o, libs: o.only, timeoutS: o.timeout ?? (o.quick ? 60 : 120) };
}
type Options = ReturnType<typeof parseArgs>;

// ---------------------------------------------------------------------------------------------
// Children

const runCase = join(root, 'bench', 'pool', 'run-case.ts');

/** One child: one run (after its warm-up) of one case for one library. */
async function runChild(who: Who, caseId: CaseId, o: Options, round: number, rounds: number): Promise<Outcome> {
  const args = [who, caseId, '--runs', '1', ...(o.quick ? ['--quick'] : [])];
  console.error(`\n== ${caseId} / ${who}, run ${round + 1} of ${rounds}`);
  const c = await runCaseChild<Outcome>({ script: runCase, args, timeoutS: o.timeoutS });
  if (!c.ok) return { lib: who, case: caseId, error: c.why };
  const r = c.result;
  // Everyone else's CPU while this child ran, as % of the whole machine.
  if (isOk(r) && c.othersPct !== undefined && c.stealPct !== undefined) r.machine = { others_pct: [c.othersPct], steal_pct: [c.stealPct] };
  return r;
}

const isOk = (x: Outcome | undefined): x is CaseResult => x !== undefined && !('error' in x);

/** One library's runs of a case (one child each) as one result: every metric's samples joined, medians recomputed. */
function merge(runs: Outcome[]): Outcome {
  const failed = runs.find((r) => !isOk(r));
  if (failed) return failed;
  const ok = runs as CaseResult[];
  const first = ok[0]!;
  const metrics: CaseResult['metrics'] = {};
  for (const key of Object.keys(first.metrics)) {
    const samples = ok.flatMap((r) => r.metrics[key]?.samples ?? []);
    metrics[key] = { median: median(samples), samples };
  }
  const nestedError = ok.map((r) => r.info.nested_error).find((e) => e !== undefined);
  return {
    ...first,
    metrics,
    info: { ...first.info, ...(nestedError === undefined ? {} : { nested_error: nestedError }) },
    child_seconds: Number(ok.reduce((t, r) => t + r.child_seconds, 0).toFixed(2)),
    child_cpu_s: Number(ok.reduce((t, r) => t + r.child_cpu_s, 0).toFixed(3)),
    machine: {
      others_pct: ok.flatMap((r) => r.machine?.others_pct ?? []),
      steal_pct: ok.flatMap((r) => r.machine?.steal_pct ?? []),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Derived figures, columns and ratios

/** Adds derived metrics (c: % of ideal; d: speed-ups; f: distance to the floor) computed from the sequential baseline. */
function derive(caseId: CaseId, r: CaseResult, seq: CaseResult | undefined): void {
  const seqS = seq?.metrics.seq_s?.median;
  if (seqS === undefined) return;
  if (caseId === 'f') {
    // Each run against the floor's median: × floor = wall / floor, and the CPU the pool spent
    // on the same calls against what they took on one thread.
    const against = (key: string, to: string, base: number | undefined): void => {
      const m = r.metrics[key];
      if (!m || base === undefined) return;
      const samples = m.samples.map((x) => Number((x / base).toFixed(3)));
      r.metrics[to] = { median: Number(median(samples).toFixed(3)), samples };
    };
    against('wall_s', 'x_floor', seq?.metrics.floor_s?.median);
    against('cpu_s', 'cpu_x_seq', seq?.metrics.cpu_s?.median);
    return;
  }
  const per = (key: string, f: (wall: number) => number, digits: number): void => {
    const m = r.metrics[key];
    if (!m) return;
    const samples = m.samples.map((s) => Number(f(s).toFixed(digits)));
    r.metrics[key.replace(/_s$/, caseId === 'c' ? '_pct_of_ideal' : '_speedup')] = {
      median: Number(median(samples).toFixed(digits)),
      samples,
    };
  };
  if (caseId === 'c') {
    const ideal = seqS / THREADS;
    per('random_s', (wall) => (ideal / wall) * 100, 1);
    per('every10th_s', (wall) => (ideal / wall) * 100, 1);
    // Against what two bare threads of this machine achieved on the same work.
    const raw = seq?.metrics.raw2_s?.median;
    if (raw !== undefined) {
      for (const key of ['random_s', 'every10th_s']) {
        const m = r.metrics[key];
        if (!m) continue;
        const samples = m.samples.map((wall) => Number(((raw / wall) * 100).toFixed(1)));
        r.metrics[key.replace(/_s$/, '_pct_of_raw2')] = { median: Number(median(samples).toFixed(1)), samples };
      }
    }
  } else if (caseId === 'd') {
    per('split_s', (wall) => seqS / wall, 2);
    per('nested_s', (wall) => seqS / wall, 2);
  }
}

interface Col {
  key: string;
  label: string;
  fmt: (x: number) => string;
}
interface Ratio {
  label: string;
  /** weft's metric compared with the peer's `peerKey`. */
  weftKey: string;
  peerKey: string;
  better: 'higher' | 'lower';
}

const { rate, secs, pct, times, micros } = fmt;
const cpuPct = (x: number): string => `${x.toFixed(3)} %`;
const mb = (x: number): string => `${x.toFixed(1)} MB`;

const COLUMNS: Record<CaseId, Col[]> = {
  a: [
    { key: 'all_tasks_per_s', label: 'all at once, tasks/s', fmt: rate },
    { key: 'window_tasks_per_s', label: '≤ 1,024 in flight, tasks/s', fmt: rate },
  ],
  b: [{ key: 'items_per_s', label: 'items/s', fmt: rate }],
  c: [
    { key: 'random_s', label: 'random: wall', fmt: secs },
    { key: 'random_pct_of_ideal', label: 'random: % of ideal', fmt: pct },
    { key: 'random_pct_of_raw2', label: 'random: % of 2 bare threads', fmt: pct },
    { key: 'every10th_s', label: 'every 10th: wall', fmt: secs },
    { key: 'every10th_pct_of_ideal', label: 'every 10th: % of ideal', fmt: pct },
    { key: 'every10th_pct_of_raw2', label: 'every 10th: % of 2 bare threads', fmt: pct },
  ],
  d: [
    { key: 'nested_s', label: 'nested (currentPool): wall', fmt: secs },
    { key: 'nested_speedup', label: 'nested: speed-up', fmt: times },
    { key: 'split_s', label: 'split on main thread: wall', fmt: secs },
    { key: 'split_speedup', label: 'split: speed-up', fmt: times },
  ],
  e: [
    { key: 'rt_p50_us', label: 'round trip p50', fmt: micros },
    { key: 'rt_p99_us', label: 'round trip p99', fmt: micros },
    { key: 'rt_steady_p50_us', label: 'steady p50', fmt: micros },
    { key: 'rt_steady_p99_us', label: 'steady p99', fmt: micros },
    { key: 'idle_cpu_pct', label: 'idle CPU (% of one core)', fmt: cpuPct },
  ],
  f: [
    { key: 'wall_s', label: 'wall (pool start → last result)', fmt: secs },
    { key: 'x_floor', label: '× floor', fmt: times },
    { key: 'cpu_s', label: 'CPU (all threads)', fmt: secs },
    { key: 'cpu_x_seq', label: 'CPU ÷ 1 thread without a pool', fmt: times },
    { key: 'peak_rss_mb', label: 'peak RSS', fmt: mb },
  ],
};

const RATIOS: Record<CaseId, Ratio[]> = {
  a: [
    { label: 'a all at once', weftKey: 'all_tasks_per_s', peerKey: 'all_tasks_per_s', better: 'higher' },
    { label: 'a ≤ 1,024 in flight', weftKey: 'window_tasks_per_s', peerKey: 'window_tasks_per_s', better: 'higher' },
  ],
  b: [{ label: 'b map', weftKey: 'items_per_s', peerKey: 'items_per_s', better: 'higher' }],
  c: [
    { label: 'c random (wall)', weftKey: 'random_s', peerKey: 'random_s', better: 'lower' },
    { label: 'c every 10th (wall)', weftKey: 'every10th_s', peerKey: 'every10th_s', better: 'lower' },
  ],
  d: [
    { label: 'd weft nested vs peer split (wall)', weftKey: 'nested_s', peerKey: 'split_s', better: 'lower' },
    { label: 'd split vs split (wall)', weftKey: 'split_s', peerKey: 'split_s', better: 'lower' },
  ],
  e: [
    { label: 'e round trip p50', weftKey: 'rt_p50_us', peerKey: 'rt_p50_us', better: 'lower' },
    { label: 'e round trip p99', weftKey: 'rt_p99_us', peerKey: 'rt_p99_us', better: 'lower' },
    { label: 'e steady p50', weftKey: 'rt_steady_p50_us', peerKey: 'rt_steady_p50_us', better: 'lower' },
    { label: 'e steady p99', weftKey: 'rt_steady_p99_us', peerKey: 'rt_steady_p99_us', better: 'lower' },
    { label: 'e idle CPU', weftKey: 'idle_cpu_pct', peerKey: 'idle_cpu_pct', better: 'lower' },
  ],
  f: [
    { label: "f poolifier's workload (wall)", weftKey: 'wall_s', peerKey: 'wall_s', better: 'lower' },
    { label: 'f CPU', weftKey: 'cpu_s', peerKey: 'cpu_s', better: 'lower' },
    { label: 'f peak RSS', weftKey: 'peak_rss_mb', peerKey: 'peak_rss_mb', better: 'lower' },
  ],
};

/** weft's advantage over a peer: > 1 means weft is better (faster, or less CPU), whatever the unit. */
function advantage(weft: number, peer: number, better: 'higher' | 'lower'): number | null {
  const r = better === 'higher' ? weft / peer : peer / weft;
  return Number.isFinite(r) ? Number(r.toFixed(3)) : null;
}

function libLabel(caseId: CaseId, lib: Lib): string {
  if (caseId === 'd' && lib !== 'weft') return `${lib} (split on main thread; cannot nest)`;
  if (caseId === 'b' && lib !== 'weft') return `${lib} (chunks of ${MAP_CHUNK[lib].toLocaleString('en')})`;
  if (caseId === 'b') return "weft (pool.map('inc', items))";
  if (caseId === 'f' && lib === 'poolifier') return 'poolifier (enableTasksQueue, as in its benchmark)';
  return lib;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs();
  const started = Date.now();
  const p: Params = o.quick ? QUICK : FULL;
  // `import 'weftjs'` resolves to dist/: warn when it is stale, or with --build rebuild it first.
  if (o.libs.includes('weft')) checkBuilt({ rebuild: o.build });

  const results = {} as Record<CaseId, Partial<Record<Who, Outcome>>>;
  for (const caseId of o.cases) {
    // Runs are interleaved: run r of every library (and of the sequential baseline: c, d; in e
    // the idle floor of a process without a pool), each in a fresh child, then run r + 1, with
    // the order rotated every run. A shared machine's drifts then hit every library alike.
    const who: Who[] = [...(caseId === 'c' || caseId === 'd' || caseId === 'e' || caseId === 'f' ? (['seq'] as const) : []), ...o.libs];
    const rounds = o.runs ?? p.runs[caseId];
    // A library that failed once gets no more runs.
    const runs = await runInterleaved(
      who,
      rounds,
      (w, round) => runChild(w, caseId, o, round, rounds),
      (r) => !isOk(r),
    );
    const byLib: Partial<Record<Who, Outcome>> = {};
    for (const w of who) byLib[w] = merge(runs.get(w)!);
    const seq = isOk(byLib.seq) ? byLib.seq : undefined;
    for (const lib of o.libs) {
      const r = byLib[lib];
      if (isOk(r)) derive(caseId, r, seq);
    }
    results[caseId] = byLib;
  }

  // Ratios: weft's advantage over each peer (null where weft or the peer has no figure).
  const ratios: Partial<Record<CaseId, Record<string, Record<string, number | null>>>> = {};
  for (const caseId of o.cases) {
    const w = results[caseId].weft;
    const table: Record<string, Record<string, number | null>> = {};
    for (const peer of PEERS.filter((l) => o.libs.includes(l))) {
      const pr = results[caseId][peer];
      const row: Record<string, number | null> = {};
      for (const r of RATIOS[caseId]) {
        const wv = isOk(w) ? w.metrics[r.weftKey]?.median : undefined;
        const pv = isOk(pr) ? pr.metrics[r.peerKey]?.median : undefined;
        row[r.label] = wv === undefined || pv === undefined ? null : advantage(wv, pv, r.better);
      }
      table[peer] = row;
    }
    ratios[caseId] = table;
  }

  const full = !o.quick && o.libs.length === LIBS.length && o.cases.length === CASES.length;
  const out = resultsPath('pool', { out: o.out, full });
  const json = {
    benchmark: 'pool',
    command: commandLine('npm run bench:pool'),
    date: new Date().toISOString(),
    quick: o.quick,
    machine: machineInfo(),
    threads: THREADS,
    versions: Object.fromEntries(o.libs.map((l) => [l, versionOf(l)])),
    ...(o.libs.includes('weft') ? { weft_source: weftSource() } : {}),
    params: {
      ...p,
      runs: o.runs === undefined ? p.runs : Object.fromEntries(CASES.map((c) => [c, o.runs])),
      map_chunk: MAP_CHUNK,
      map_chunk_note: MAP_CHUNK_NOTE,
    },
    notes: {
      a: 'tasks/s over all tasks of a run; window: a new task is submitted as soon as one of the 1,024 in flight settles',
      b: "items/s over the whole map, result checked (in order); weft: pool.map('inc', items)",
      c: 'ideal = sequential time of the same work on the main thread (seq) / 2 threads; % of ideal = ideal / wall; % of 2 bare threads = raw2 / wall, raw2 = the same fib(25) calls split evenly over two bare worker_threads (no pool), what this machine delivers on 2 threads',
      d: 'seq = fib(n) on the main thread; peers cannot nest tasks, so they run the tree split on the main thread into its leaves (fibLeaves) as tasks; weft runs both that and the nested fork-join on currentPool()',
      e: 'round trip: one await of pool task inc(i) at a time, after warm-up (rt_: 500 calls; rt_steady_: 8,000 more, once per process); idle CPU: process.cpuUsage() (all threads) over the idle period / wall time, as % of one core; seq = a process without a pool',
      f: "poolifier's published benchmark (github.com/poolifier/benchmark): factorialTask({ taskSize, taskType: 'CPU_INTENSIVE', test: 'MYBENCH' }) = { factorial: taskSize! as a BigInt, ok: 1 }, every task submitted at once to a pool started in a fresh process (set up as that benchmark does; info.setup), no warm-up; wall_s: from importing the library and constructing the pool to the last result; cpu_s: process.cpuUsage() (all threads) over the same window; peak_rss_mb: process.resourceUsage().maxRSS (since the process started, node and tsx included), MB = 2^20 bytes; start_s, submit_s: the pool's start and the submitting loop, within wall_s; seq = the same calls on the main thread without a pool, floor_s = its CPU / 2 threads; x_floor = wall / floor; cpu_x_seq = cpu / seq's cpu",
      ratios: "weft's advantage over the peer: > 1 means weft is better (more per second, less time, or less CPU)",
    },
    cases: Object.fromEntries(o.cases.map((c) => [c, { title: CASE_TITLES[c], results: results[c] }])),
    ratios,
    duration_s: Math.round((Date.now() - started) / 1000),
  };
  writeResults(out, json);

  // Tables on stdout (markdown).
  const m = json.machine;
  console.log(
    `\n# Pool benchmark${o.quick ? ' (--quick: smoke test, figures not comparable)' : ''}\n\n` +
      `${m.cpu}, ${m.cores} cores, ${m.os}, Node ${m.node}, ${json.date}; ${THREADS} threads per pool; ` +
      `versions: ${Object.entries(json.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
  );
  for (const caseId of o.cases) {
    const byLib = results[caseId];
    const runs = o.runs ?? p.runs[caseId];
    console.log(`\n## ${CASE_TITLES[caseId]} (median of ${runs} run${runs === 1 ? '' : 's'})\n`);
    const seq = byLib.seq;
    if (caseId === 'f') {
      console.log(
        isOk(seq)
          ? `${p.f.tasks.toLocaleString('en')} tasks of factorial(${p.f.taskSize}) as a BigInt, all at once, ${THREADS} threads; ` +
              `the same calls on the main thread without a pool: CPU ${secs(seq.metrics.cpu_s!.median)} (wall ${secs(seq.metrics.seq_s!.median)}, ` +
              `peak RSS ${mb(seq.metrics.peak_rss_mb!.median)}, results not kept); floor = that CPU / ${THREADS} = ${secs(seq.metrics.floor_s!.median)}.\n`
          : `sequential baseline (the floor) failed: ${seq && 'error' in seq ? firstLine(seq.error) : 'not run'}\n`,
      );
    }
    if (caseId === 'c' || caseId === 'd') {
      if (isOk(seq)) {
        const s = seq.metrics.seq_s!.median;
        console.log(
          caseId === 'c'
            ? `${p.c.tasks.toLocaleString('en')} tasks, ${String(seq.info.fib25_calls)} × fib(25) in all; sequential on the main thread ${secs(s)}, ` +
                `ideal on ${THREADS} threads ${secs(s / THREADS)}; two bare worker threads with a perfect static split (no pool) ` +
                `${seq.metrics.raw2_s ? secs(seq.metrics.raw2_s.median) : '—'}.\n`
            : `fib(${p.d.n}) cut at ${p.d.cutoff}: ${fibLeafCount(p.d.n, p.d.cutoff)} leaf tasks; sequential fib(${p.d.n}) on the main thread ${secs(s)}.\n`,
        );
      } else console.log(`sequential baseline failed: ${seq && 'error' in seq ? firstLine(seq.error) : 'not run'}\n`);
    }
    const cols = COLUMNS[caseId];
    const rows: string[][] = [['library', ...cols.map((c) => c.label)]];
    for (const lib of o.libs) {
      const r = byLib[lib];
      if (isOk(r)) rows.push([libLabel(caseId, lib), ...cols.map((c) => (r.metrics[c.key] ? c.fmt(r.metrics[c.key]!.median) : '—'))]);
      else rows.push([libLabel(caseId, lib), 'error', ...cols.slice(1).map(() => '')]);
    }
    if (caseId === 'e') {
      const f = isOk(seq) ? cpuPct(seq.metrics.idle_cpu_pct!.median) : 'error';
      rows.push(['no pool (floor)', '—', '—', '—', '—', f]);
    }
    if (caseId === 'f' && isOk(seq)) {
      rows.push([`floor (1 thread's CPU / ${THREADS})`, secs(seq.metrics.floor_s!.median), times(1), '—', '—', '—']);
    }
    console.log(markdownTable(rows));
    const others = Object.values(byLib).flatMap((r) => (isOk(r) ? (r.machine?.others_pct ?? []) : []));
    if (others.length) {
      const steal = Object.values(byLib).flatMap((r) => (isOk(r) ? (r.machine?.steal_pct ?? []) : []));
      console.log(
        `\nOther processes used ${pct(median(others))} of the machine (median over this case's ${others.length} children; ` +
          `max ${pct(Math.max(...others))}); steal ${pct(median(steal))}.`,
      );
    }
    for (const [who, r] of Object.entries(byLib)) {
      if (r && 'error' in r) console.log(`\n${who}: ${firstLine(r.error)}`);
      else if (r && typeof r.info.nested_error === 'string') console.log(`\n${who} nested: ${firstLine(r.info.nested_error)}`);
    }
  }

  const peers = PEERS.filter((l) => o.libs.includes(l));
  if (o.libs.includes('weft') && peers.length) {
    console.log(`\n## weft's advantage over each peer (> 1: weft better)\n`);
    const labels = o.cases.flatMap((c) => RATIOS[c].map((r) => [c, r.label] as const));
    const rows: string[][] = [['ratio', ...peers]];
    for (const [c, label] of labels) {
      rows.push([
        label,
        ...peers.map((peer) => {
          const v = ratios[c]?.[peer]?.[label];
          return v === null || v === undefined ? '—' : times(v);
        }),
      ]);
    }
    console.log(markdownTable(rows));
  }
  const failed = o.cases.flatMap((c) =>
    Object.values(results[c])
      .filter((x): x is CaseError => x !== undefined && 'error' in x)
      .map((x) => `${c}/${x.lib}`),
  );
  if (failed.length) console.log(`\nfailed: ${failed.join(', ')} (errors in the JSON)`);
  console.log(`\nwrote ${out} (${json.duration_s} s)`);
}

const firstLine = (s: string): string => firstLineOf(s, 160);

function fibLeafCount(n: number, cutoff: number): number {
  return n <= cutoff ? 1 : fibLeafCount(n - 1, cutoff) + fibLeafCount(n - 2, cutoff);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
