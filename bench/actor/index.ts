/**
 * Actor benchmark: `npm run bench:actor` (= `node --import=tsx bench/actor/index.ts`).
 *
 * weft's actors against, in the same run: the bare MessagePort floor (node:worker_threads, no
 * actor library), for the ping-pong also the Atomics.wait/notify floor under it (two bare workers,
 * a counter bounced through a SharedArrayBuffer), comedy (actors in worker threads, its 'threaded'
 * mode), and for the same-thread case nact and xstate v5. Every run of a case for a library is a
 * child process of its own
 * (`node --expose-gc --import=tsx bench/actor/run-case.ts <lib> <case> [variant]`: set-up,
 * warm-up, one timed run); the runs are interleaved (run 1 of every library, then run 2, ..., the
 * order rotated each time) so that a shared machine's drifts hit every library alike. This parent
 * collects the children's results, takes the medians, prints markdown tables on stdout (progress
 * on stderr) and writes bench/results/actor.json.
 *
 * Cases (sizes in ./params.ts, the actors in ./actors.ts (weft), ./port-worker.mjs (MessagePort),
 * ./atomics-worker.mjs (Atomics.wait/notify), ./comedy/*.cjs and ./adapters.ts (nact, xstate)):
 *   a. cross-thread tells: the main thread tells an actor on a worker { type: 'add', by: i }
 *      N times, then asks for the totals (comedy, which does not order an ask after earlier
 *      tells, asks until all are counted); msgs/s from the first tell to the reply.
 *   b. asks main ↔ actor on a worker: p50/p99 of 20,000 asks one at a time (after 2,000 warm-up
 *      asks), then asks/s with 64 in flight.
 *   c. ping-pong between actors on two different workers: A bounces a counter off B n times;
 *      round trips/s (threadIds checked). Besides the MessagePort floor, the Atomics.wait/notify
 *      floor: A stores the counter and notifies, B, blocked in Atomics.wait, replies it + 1 the
 *      same way (two thread wakes per round trip, no spinning); weft's figure is also given as a
 *      fraction of it (target ≥ 50 %).
 *   d. same-thread tells: N tells to an actor on the main thread, then one ask; msgs/s (weft
 *      { on: 'main' }, nact, xstate).
 *   e. RSS growth (process.memoryUsage().rss after gc) with 1,000,000 tells queued behind a
 *      handler that does not return until released: weft with an unbounded mailbox and with a
 *      bounded one (capacity 1,000, overflow 'drop-newest'), and the MessagePort floor (a worker
 *      blocked in Atomics.wait, the messages queued in its port).
 * Each figure is the median of the runs (WEFT_BENCH_RUNS, default 3); the JSON keeps every run's
 * value.
 *
 * Flags (--help lists them):
 *   --only weft,port,...   libraries (weft, port, atomics, comedy, nact, xstate; default all)
 *   --cases a,c,...        cases (default all)
 *   --runs N               runs of every case (default WEFT_BENCH_RUNS, or 3)
 *   --timeout S            seconds one child may take before it is killed (default 120)
 *   --out PATH             the JSON (default bench/results/actor.json for a run of every library
 *                          and case, else <tmpdir>/weft-bench-actor.json)
 *
 * weft is loaded from this repository's src/ through tsx (its pool's task module is
 * ./actors.cjs, see there); it needs the native addon built (`npm run build:native`). While
 * src/index.ts does not export `ActorSystem`, weft is skipped ("weft: not available yet") and
 * the peers' figures are still produced.
 */
import { join } from 'node:path';
import { loadWeftActors, root, THREADS, versionOf } from './adapters.js';
import {
  ASKS,
  CASES,
  CASE_TITLES,
  E,
  JOBS,
  LIBS,
  LIB_LABELS,
  MAX_TIMED_S,
  PING_PONG,
  TARGETS,
  TARGET_TEXT,
  TELLS,
  jobKey,
  type CaseId,
  type Job,
  type Lib,
  type RunError,
  type RunResult,
} from './params.js';
import {
  commandLine,
  firstLine,
  flags,
  fmt,
  machineInfo,
  markdownTable,
  median,
  parseBenchArgs,
  resultsPath,
  roundSig,
  runChild as runCaseChild,
  runInterleaved,
  weftSource,
  writeResults,
  type Sampled,
} from '../harness/index.js';

function parseArgs() {
  const { values: o } = parseBenchArgs({
    usage: 'npm run bench:actor -- [flags]',
    description:
      "weft's actors against the MessagePort floor, the Atomics.wait/notify floor (ping-pong), comedy, nact and xstate; every run of a case in a child process of its own.",
    flags: {
      only: flags.list(LIBS, 'libraries to run'),
      cases: flags.list(CASES, 'cases to run'),
      runs: flags.runs({ default: 3, env: 'WEFT_BENCH_RUNS', help: 'runs of every case, each in a fresh child' }),
      timeout: flags.timeout({ default: 120 }),
      out: flags.out(
        'where the JSON goes (default bench/results/actor.json for a run of every library and case; otherwise <tmpdir>/weft-bench-actor.json)',
      ),
    },
  });
  return { ...o, libs: o.only, timeoutS: o.timeout };
}
type Options = ReturnType<typeof parseArgs>;

// ---------------------------------------------------------------------------------------------
// Children

const runCase = join(root, 'bench', 'actor', 'run-case.ts');

type Outcome = (RunResult & { others_pct?: number }) | RunError;

function isOk<T extends object>(r: T | RunError | undefined): r is T {
  return r !== undefined && !('error' in r);
}

/** One child: one run (after its warm-up) of one case for one library. */
async function runChild(job: Job, o: Options, round: number): Promise<Outcome> {
  console.error(`\n== ${job.caseId} / ${jobKey(job)}, run ${round + 1} of ${o.runs}`);
  const base = { lib: job.lib, case: job.caseId, ...(job.variant ? { variant: job.variant } : {}) };
  const c = await runCaseChild<Outcome>({
    script: runCase,
    // Case e calls gc().
    nodeArgs: ['--expose-gc'],
    args: [job.lib, job.caseId, ...(job.variant ? [job.variant] : [])],
    timeoutS: o.timeoutS,
  });
  if (!c.ok) return { ...base, error: c.why };
  const r = c.result;
  // CPU used by everything else on the machine meanwhile: busy time minus the child's and ours.
  if (isOk(r) && c.othersPct !== undefined) r.others_pct = c.othersPct;
  return r;
}

interface Merged {
  lib: Lib;
  variant?: string;
  version: string;
  metrics: Record<string, Sampled>;
  info: Record<string, unknown>;
  child_seconds: number[];
  others_pct: number[];
}

/** The runs of one job: each metric's median and samples; the first error if any run failed. */
function merge(runs: Outcome[]): Merged | RunError {
  const bad = runs.find((r) => !isOk(r));
  if (bad) return bad as RunError;
  const ok = runs as (RunResult & { others_pct?: number })[];
  const first = ok[0]!;
  const metrics: Record<string, Sampled> = {};
  for (const key of Object.keys(first.metrics)) {
    const samples = ok.map((r) => r.metrics[key]!);
    metrics[key] = { median: roundSig(median(samples)), samples };
  }
  return {
    lib: first.lib,
    ...(first.variant ? { variant: first.variant } : {}),
    version: first.version,
    metrics,
    info: ok[ok.length - 1]!.info,
    child_seconds: ok.map((r) => r.child_seconds),
    others_pct: ok.flatMap((r) => (r.others_pct === undefined ? [] : [r.others_pct])),
  };
}

// ---------------------------------------------------------------------------------------------
// Tables

const { rate, micros, times, pct } = fmt;
const mb = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)} MB`;

/** The floors of a case's table, where they were measured. */
interface Baselines {
  port?: Merged | undefined;
  atomics?: Merged | undefined;
}

interface Col {
  label: string;
  cell: (r: Merged, base: Baselines) => string;
}

const m = (r: Merged | undefined, key: string): number | undefined => r?.metrics[key]?.median;

/** A row's figure as a multiple of a floor's (> 1: better than it); empty in the floor's own row. */
function vs(floor: keyof Baselines, key: string, better: 'higher' | 'lower'): Col['cell'] {
  return (r, base) => {
    const a = m(r, key);
    const b = m(base[floor], key);
    if (a === undefined || b === undefined || r.lib === floor) return '';
    return times(better === 'higher' ? a / b : b / a);
  };
}
const vsPort = (key: string, better: 'higher' | 'lower'): Col['cell'] => vs('port', key, better);

const COLUMNS: Record<CaseId, Col[]> = {
  a: [
    { label: 'msgs/s', cell: (r) => rate(m(r, 'msgs_per_s')!) },
    { label: 'vs MessagePort', cell: vsPort('msgs_per_s', 'higher') },
    { label: 'tells sent in', cell: (r) => `${(m(r, 'send_s')! * 1e3).toFixed(0)} ms` },
    { label: 'tells', cell: (r) => Number(r.info.tells).toLocaleString('en') },
  ],
  b: [
    { label: '1 in flight: p50', cell: (r) => micros(m(r, 'p50_us')!) },
    { label: 'p99', cell: (r) => micros(m(r, 'p99_us')!) },
    { label: 'p50 vs MessagePort', cell: vsPort('p50_us', 'lower') },
    { label: '64 in flight: asks/s', cell: (r) => rate(m(r, 'inflight_asks_per_s')!) },
    { label: 'vs MessagePort', cell: vsPort('inflight_asks_per_s', 'higher') },
  ],
  c: [
    { label: 'round trips/s', cell: (r) => rate(m(r, 'round_trips_per_s')!) },
    { label: 'per round trip', cell: (r) => micros(m(r, 'rt_us')!) },
    { label: 'vs MessagePort', cell: vsPort('round_trips_per_s', 'higher') },
    { label: 'vs Atomics.wait/notify', cell: vs('atomics', 'round_trips_per_s', 'higher') },
  ],
  d: [
    { label: 'msgs/s', cell: (r) => rate(m(r, 'msgs_per_s')!) },
    { label: 'tells', cell: (r) => Number(r.info.tells).toLocaleString('en') },
  ],
  e: [
    { label: 'RSS growth', cell: (r) => mb(m(r, 'rss_growth_mb')!) },
    { label: 'still there once drained', cell: (r) => mb(m(r, 'rss_drained_growth_mb')!) },
    { label: 'V8 heap (total) growth', cell: (r) => mb(m(r, 'heap_total_growth_mb')!) },
    { label: 'external + ArrayBuffers growth', cell: (r) => mb(m(r, 'external_growth_mb')!) },
    { label: 'processed after release', cell: (r) => Number(r.info.processed_after_release).toLocaleString('en') },
  ],
};

function rowLabel(job: Job): string {
  if (job.caseId !== 'e') return LIB_LABELS[job.lib];
  if (job.lib === 'port') return 'MessagePort (baseline), unbounded';
  return job.variant === 'bounded' ? `weft, bounded (capacity ${E.capacity.toLocaleString('en')}, ${E.overflow})` : 'weft, unbounded';
}

// ---------------------------------------------------------------------------------------------
// Targets

type Results = Partial<Record<CaseId, Record<string, Merged | RunError | { skipped: string }>>>;

/** Case c: weft's round trips/s over the Atomics.wait/notify floor's (medians), where both were measured. */
function weftVsAtomics(results: Results): number | undefined {
  const get = (key: string): Merged | undefined => {
    const r = results.c?.[key];
    return r && 'metrics' in r ? r : undefined;
  };
  const w = m(get('weft'), 'round_trips_per_s');
  const at = m(get('atomics'), 'round_trips_per_s');
  return w === undefined || at === undefined ? undefined : w / at;
}

interface TargetRow {
  target: string;
  this_run: string;
  met: boolean | null;
}

function targets(results: Results): TargetRow[] {
  const get = (c: CaseId, key: string): Merged | undefined => {
    const r = results[c]?.[key];
    return r && 'metrics' in r ? r : undefined;
  };
  const rows: TargetRow[] = [];
  const weftMissing = (c: CaseId): string => {
    const r = results[c]?.weft ?? results[c]?.['weft/bounded'];
    if (r && 'skipped' in r) return 'weft: not available yet';
    if (r && 'error' in r) return `weft failed: ${firstLine(r.error)}`;
    return 'weft not measured';
  };
  const add = (c: CaseId, target: string, w: number | undefined, text: (w: number) => string, ok: (w: number) => boolean): void => {
    rows.push(w === undefined ? { target, this_run: weftMissing(c), met: null } : { target, this_run: text(w), met: ok(w) });
  };
  if (results.a) {
    const w = m(get('a', 'weft'), 'msgs_per_s');
    const p = m(get('a', 'port'), 'msgs_per_s');
    add(
      'a',
      'a: ≥ 3 M msgs/s',
      w,
      (x) => `${rate(x)} msgs/s`,
      (x) => x >= TARGETS.a.msgsPerS,
    );
    add(
      'a',
      'a: ≥ 3× the MessagePort floor',
      w === undefined || p === undefined ? undefined : w / p,
      (x) => `${times(x)} (MessagePort ${rate(p!)} msgs/s)`,
      (x) => x >= TARGETS.a.timesPort,
    );
  }
  if (results.b) {
    const w = m(get('b', 'weft'), 'p50_us');
    const p = m(get('b', 'port'), 'p50_us');
    add(
      'b',
      "b: p50 ≤ half MessagePort's",
      w === undefined || p === undefined ? undefined : w / p,
      (x) => `${micros(w!)} vs ${micros(p!)}: ${x.toFixed(2)} of it`,
      (x) => x <= TARGETS.b.p50VsPort,
    );
    add(
      'b',
      'b: ≥ 1 M asks/s with 64 in flight',
      m(get('b', 'weft'), 'inflight_asks_per_s'),
      (x) => `${rate(x)} asks/s`,
      (x) => x >= TARGETS.b.inflightAsksPerS,
    );
  }
  if (results.c) {
    const w = m(get('c', 'weft'), 'round_trips_per_s');
    add(
      'c',
      'c: ≥ 200 k round trips/s',
      w,
      (x) => `${rate(x)} round trips/s`,
      (x) => x >= TARGETS.c.roundTripsPerS,
    );
    const target = 'c: ≥ 50 % of the Atomics.wait/notify floor';
    const at = m(get('c', 'atomics'), 'round_trips_per_s');
    if (w !== undefined && at === undefined) {
      const floor = results.c.atomics;
      const why = floor === undefined ? 'not run (--only)' : 'error' in floor ? `failed: ${firstLine(floor.error)}` : 'not measured';
      rows.push({ target, this_run: `the Atomics.wait/notify floor ${why}`, met: null });
    } else {
      add(
        'c',
        target,
        weftVsAtomics(results),
        (x) => `${pct(x * 100)} (${rate(w!)} vs ${rate(at!)} round trips/s)`,
        (x) => x >= TARGETS.c.vsAtomics,
      );
    }
  }
  if (results.d) {
    add(
      'd',
      'd: ≥ 5 M msgs/s',
      m(get('d', 'weft'), 'msgs_per_s'),
      (x) => `${rate(x)} msgs/s`,
      (x) => x >= TARGETS.d.msgsPerS,
    );
  }
  if (results.e) {
    add(
      'e',
      `e: bounded mailbox, RSS flat (growth ≤ ${E.flatMb} MB)`,
      m(get('e', 'weft/bounded'), 'rss_growth_mb'),
      (x) => mb(x),
      (x) => x <= TARGETS.e.boundedFlatMb,
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs();
  const started = Date.now();

  let weftSkipped: string | undefined;
  if (o.libs.includes('weft')) {
    const api = await loadWeftActors();
    if ('unavailable' in api) {
      weftSkipped = api.unavailable;
      console.log(`weft: not available yet (${weftSkipped}); measuring the peers only`);
    }
  }

  const results: Results = {};
  for (const caseId of o.cases) {
    const jobs = JOBS[caseId].filter((j) => o.libs.includes(j.lib) && !(j.lib === 'weft' && weftSkipped));
    // A job that failed once gets no more runs.
    const runs = await runInterleaved(
      jobs,
      o.runs,
      (job, round) => runChild(job, o, round),
      (r) => !isOk(r),
    );
    const byJob: Record<string, Merged | RunError | { skipped: string }> = {};
    for (const job of JOBS[caseId].filter((j) => o.libs.includes(j.lib))) {
      byJob[jobKey(job)] = job.lib === 'weft' && weftSkipped ? { skipped: `not available yet: ${weftSkipped}` } : merge(runs.get(job)!);
    }
    results[caseId] = byJob;
  }

  const targetRows = targets(results);
  const ratio = weftVsAtomics(results);
  const full = o.libs.length === LIBS.length && o.cases.length === CASES.length;
  const out = resultsPath('actor', { out: o.out, full });
  const json = {
    benchmark: 'actor',
    command: commandLine('npm run bench:actor', { env: ['WEFT_BENCH_RUNS'] }),
    date: new Date().toISOString(),
    runs: o.runs,
    machine: machineInfo(),
    versions: Object.fromEntries(o.libs.map((l) => [l, versionOf(l)])),
    weft: weftSkipped === undefined ? { available: true, source: weftSource() } : { available: false, reason: weftSkipped },
    params: { threads: THREADS, tells: TELLS, asks: ASKS, ping_pong: PING_PONG, max_timed_s: MAX_TIMED_S, e: E },
    notes: {
      a: 'msgs/s = tells / time from the first tell to the reply of the ask that saw them all (comedy: asks repeated until every tell is counted, its sendAndReceive can overtake earlier sends)',
      b: 'p50/p99: asks one at a time, each timed on its own, after warm-up; 64 in flight: 64 lanes each sending its next ask when its last is answered, for at most max_timed_s',
      c: 'A and B on two different worker threads (threadIds checked); one round trip = A sends the counter to B, B replies it + 1; runs of `chunk` round trips until n or max_timed_s; atomics: the same through a SharedArrayBuffer, Atomics.store + Atomics.notify on one side, Atomics.wait on the other (two thread wakes per round trip, no spinning); weft_vs_atomics: weft / atomics round trips/s (medians)',
      d: 'as a, with the actor on the main thread',
      e: 'growth of process.memoryUsage() (after 3 × gc()) from before the blocking message to after the 1,000,000 tells; the baseline is taken after the same loop run once without tells; rss_drained_growth_mb: the same once released and every queued message handled (what the process kept); processed_after_release counts the adds handled once released',
      others_pct:
        'per run: CPU used by everything else on the machine while the child ran (/proc/stat busy minus the child and the parent), % of all cores',
    },
    cases: Object.fromEntries(
      o.cases.map((c) => [
        c,
        {
          title: CASE_TITLES[c],
          target: TARGET_TEXT[c],
          results: results[c],
          ...(c === 'c' ? { weft_vs_atomics: ratio === undefined ? null : roundSig(ratio, 4) } : {}),
        },
      ]),
    ),
    targets: targetRows,
    duration_s: Math.round((Date.now() - started) / 1000),
  };
  writeResults(out, json);

  // Tables on stdout (markdown).
  const mc = json.machine;
  console.log(
    `\n# Actor benchmark\n\n${mc.cpu}, ${mc.cores} cores, ${mc.os}, Node ${mc.node}, ${json.date}; ` +
      `versions: ${Object.entries(json.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.` +
      (weftSkipped ? `\n\nweft: not available yet (${weftSkipped}).` : ''),
  );
  for (const caseId of o.cases) {
    const byJob = results[caseId]!;
    console.log(`\n## ${CASE_TITLES[caseId]} (median of ${o.runs} run${o.runs === 1 ? '' : 's'})\n`);
    const port = byJob.port ?? byJob['port/unbounded'];
    const atomics = byJob.atomics;
    const base: Baselines = {
      port: port && 'metrics' in port ? port : undefined,
      atomics: atomics && 'metrics' in atomics ? atomics : undefined,
    };
    const cols = COLUMNS[caseId];
    const rows: string[][] = [['', ...cols.map((c) => c.label)]];
    const notes: string[] = [];
    for (const job of JOBS[caseId].filter((j) => o.libs.includes(j.lib))) {
      const r = byJob[jobKey(job)]!;
      if ('metrics' in r) rows.push([rowLabel(job), ...cols.map((c) => c.cell(r, base))]);
      else if ('skipped' in r) rows.push([rowLabel(job), 'not available yet', ...cols.slice(1).map(() => '')]);
      else {
        rows.push([rowLabel(job), 'error', ...cols.slice(1).map(() => '')]);
        notes.push(`${jobKey(job)}: ${firstLine(r.error)}`);
      }
    }
    console.log(markdownTable(rows));
    if (caseId === 'c' && ratio !== undefined)
      console.log(
        `\nweft / Atomics.wait/notify: ${pct(ratio * 100)} of the floor's round trips/s (target ≥ ${pct(TARGETS.c.vsAtomics * 100)}).`,
      );
    console.log(`\nTarget: ${TARGET_TEXT[caseId]}.`);
    const others = Object.values(byJob).flatMap((r) => ('others_pct' in r ? r.others_pct : []));
    if (others.length)
      console.log(
        `Other processes used ${pct(median(others))} of the machine (median over ${others.length} child${others.length === 1 ? '' : 'ren'}; max ${pct(Math.max(...others))}).`,
      );
    for (const n of notes) console.log(`\n${n}`);
  }
  if (targetRows.length) {
    console.log('\n## Targets\n');
    console.log(
      markdownTable([
        ['target', 'this run', 'met'],
        ...targetRows.map((t) => [t.target, t.this_run, t.met === null ? '—' : t.met ? 'yes' : '**no**']),
      ]),
    );
  }
  console.log(`\nwrote ${out} (${json.duration_s} s)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
