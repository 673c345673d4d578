/**
 * Actor benchmark: `npm run bench:actor` (= `node --import=tsx bench/actor/index.ts`).
 *
 * weft's actors against, in the same run: the bare MessagePort floor (node:worker_threads, no
 * actor library), comedy (actors in worker threads, its 'threaded' mode), and for the same-thread
 * case nact and xstate v5. Every run of a case for a library is a child process of its own
 * (`node --expose-gc --import=tsx bench/actor/run-case.ts <lib> <case> [variant]`: set-up,
 * warm-up, one timed run); the runs are interleaved (run 1 of every library, then run 2, ..., the
 * order rotated each time) so that a shared machine's drifts hit every library alike. This parent
 * collects the children's results, takes the medians, prints markdown tables on stdout (progress
 * on stderr) and writes bench/results/actor.json.
 *
 * Cases (sizes in ./params.ts, the actors in ./actors.ts (weft), ./port-worker.mjs (MessagePort),
 * ./comedy/*.cjs and ./adapters.ts (nact, xstate)):
 *   a. cross-thread tells: the main thread tells an actor on a worker { type: 'add', by: i }
 *      N times, then asks for the totals (comedy, which does not order an ask after earlier
 *      tells, asks until all are counted); msgs/s from the first tell to the reply.
 *   b. asks main ↔ actor on a worker: p50/p99 of 20,000 asks one at a time (after 2,000 warm-up
 *      asks), then asks/s with 64 in flight.
 *   c. ping-pong between actors on two different workers: A bounces a counter off B n times;
 *      round trips/s (threadIds checked).
 *   d. same-thread tells: N tells to an actor on the main thread, then one ask; msgs/s (weft
 *      { on: 'main' }, nact, xstate).
 *   e. RSS growth (process.memoryUsage().rss after gc) with 1,000,000 tells queued behind a
 *      handler that does not return until released: weft with an unbounded mailbox and with a
 *      bounded one (capacity 1,000, overflow 'drop-newest'), and the MessagePort floor (a worker
 *      blocked in Atomics.wait, the messages queued in its port).
 * Each figure is the median of the runs (WEFT_BENCH_RUNS, default 3); the JSON keeps every run's
 * value.
 *
 * Flags:
 *   --only weft,port,...   libraries (weft, port, comedy, nact, xstate; default all)
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
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
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
  RESULT_MARK,
  TARGETS,
  TARGET_TEXT,
  TELLS,
  defaultRuns,
  jobKey,
  median,
  type CaseId,
  type Job,
  type Lib,
  type RunError,
  type RunResult,
  type Sampled,
} from './params.js';
import { runMeasuredChild } from '../common.js';

interface Options {
  libs: Lib[];
  cases: CaseId[];
  runs: number;
  timeoutS: number;
  out?: string;
}

function parseList<T extends string>(arg: string | undefined, allowed: readonly T[], flag: string): T[] {
  const items = (arg ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (items.length === 0 || bad.length) throw new Error(`${flag}: expected a comma-separated subset of ${allowed.join(',')}`);
  return allowed.filter((a) => items.includes(a));
}

function parseArgs(argv: string[]): Options {
  const o: Options = { libs: [...LIBS], cases: [...CASES], runs: defaultRuns(), timeoutS: 120 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') o.libs = parseList(argv[++i], LIBS, '--only');
    else if (a === '--cases') o.cases = parseList(argv[++i], CASES, '--cases');
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--timeout') o.timeoutS = Number(argv[++i]);
    else if (a === '--out') {
      const path = argv[++i];
      if (!path) throw new Error('--out needs a path');
      o.out = path;
    } else throw new Error(`unknown argument ${a} (flags: --only, --cases, --runs N, --timeout S, --out PATH)`);
  }
  if (!(Number.isInteger(o.runs) && o.runs >= 1)) throw new Error('--runs must be a positive integer');
  if (!(o.timeoutS > 0)) throw new Error('--timeout must be a positive number of seconds');
  return o;
}

// ---------------------------------------------------------------------------------------------
// Children

const runCase = join(root, 'bench', 'actor', 'run-case.ts');

type Outcome = (RunResult & { others_pct?: number }) | RunError;

function isOk<T extends object>(r: T | RunError | undefined): r is T {
  return r !== undefined && !('error' in r);
}

/** One child: one run (after its warm-up) of one case for one library. */
async function runChild(job: Job, o: Options, round: number): Promise<Outcome> {
  const args = ['--expose-gc', '--import=tsx', runCase, job.lib, job.caseId, ...(job.variant ? [job.variant] : [])];
  console.error(`\n== ${job.caseId} / ${jobKey(job)}, run ${round + 1} of ${o.runs}`);
  const base = { lib: job.lib, case: job.caseId, ...(job.variant ? { variant: job.variant } : {}) };
  const c = await runMeasuredChild(args, root, o.timeoutS, RESULT_MARK);
  if (c.result === undefined) return { ...base, error: c.why };
  const r = JSON.parse(c.result) as Outcome;
  if (isOk(r)) {
    // CPU used by everything else on the machine meanwhile: busy time minus the child's and ours.
    const others = c.othersPct(r.child_cpu_s);
    if (others !== undefined) r.others_pct = others;
  }
  return r;
}

function rotate<T>(xs: readonly T[], k: number): T[] {
  const n = xs.length;
  return xs.map((_, i) => xs[(i + k) % n]!);
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
    metrics[key] = { median: Number(median(samples).toPrecision(6)), samples };
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

const rate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const micros = (x: number): string => `${x.toFixed(1)} µs`;
const mb = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)} MB`;
const times = (x: number): string => `×${x.toFixed(2)}`;
const pct = (x: number): string => `${x.toFixed(1)} %`;

function markdownTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: string[]): string =>
    `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

interface Col {
  label: string;
  cell: (r: Merged, port: Merged | undefined) => string;
}

const m = (r: Merged | undefined, key: string): number | undefined => r?.metrics[key]?.median;

function vsPort(key: string, better: 'higher' | 'lower'): Col['cell'] {
  return (r, port) => {
    const a = m(r, key);
    const b = m(port, key);
    if (a === undefined || b === undefined || r.lib === 'port') return '';
    return times(better === 'higher' ? a / b : b / a);
  };
}

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

interface TargetRow {
  target: string;
  this_run: string;
  met: boolean | null;
}

function targets(results: Partial<Record<CaseId, Record<string, Merged | RunError | { skipped: string }>>>): TargetRow[] {
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
    add(
      'c',
      'c: ≥ 200 k round trips/s',
      m(get('c', 'weft'), 'round_trips_per_s'),
      (x) => `${rate(x)} round trips/s`,
      (x) => x >= TARGETS.c.roundTripsPerS,
    );
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

/** The commit weft was measured at, and whether its sources (src/, crate/) differed from it. */
function weftSource(): { commit: string; sources_modified: boolean } | null {
  const git = (...args: string[]): string | null => {
    const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const commit = git('rev-parse', 'HEAD');
  const status = git('status', '--porcelain', '--', 'src', 'crate');
  return commit === null || status === null ? null : { commit, sources_modified: status !== '' };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const loadStart = os.loadavg();

  let weftSkipped: string | undefined;
  if (o.libs.includes('weft')) {
    const api = await loadWeftActors();
    if ('unavailable' in api) {
      weftSkipped = api.unavailable;
      console.log(`weft: not available yet (${weftSkipped}); measuring the peers only`);
    }
  }

  const results: Partial<Record<CaseId, Record<string, Merged | RunError | { skipped: string }>>> = {};
  for (const caseId of o.cases) {
    const jobs = JOBS[caseId].filter((j) => o.libs.includes(j.lib) && !(j.lib === 'weft' && weftSkipped));
    const runs = new Map<string, Outcome[]>();
    for (let round = 0; round < o.runs; round++) {
      for (const job of rotate(jobs, round)) {
        const key = jobKey(job);
        const done = runs.get(key) ?? [];
        runs.set(key, done);
        if (done.some((r) => !isOk(r))) continue; // failed once: no more runs of it
        done.push(await runChild(job, o, round));
      }
    }
    const byJob: Record<string, Merged | RunError | { skipped: string }> = {};
    for (const job of JOBS[caseId].filter((j) => o.libs.includes(j.lib))) {
      const key = jobKey(job);
      byJob[key] = job.lib === 'weft' && weftSkipped ? { skipped: `not available yet: ${weftSkipped}` } : merge(runs.get(key)!);
    }
    results[caseId] = byJob;
  }

  const targetRows = targets(results);
  const cpus = os.cpus();
  const full = o.libs.length === LIBS.length && o.cases.length === CASES.length;
  const out = o.out ?? (full ? join(root, 'bench', 'results', 'actor.json') : join(os.tmpdir(), 'weft-bench-actor.json'));
  const argv = process.argv.slice(2);
  const json = {
    benchmark: 'actor',
    command: `${process.env.WEFT_BENCH_RUNS ? `WEFT_BENCH_RUNS=${process.env.WEFT_BENCH_RUNS} ` : ''}npm run bench:actor${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    date: new Date().toISOString(),
    runs: o.runs,
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      available_parallelism: os.availableParallelism(),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      total_memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      node: process.version,
      load_average_start: loadStart.map((x) => Number(x.toFixed(2))),
      load_average_end: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    versions: Object.fromEntries(o.libs.map((l) => [l, versionOf(l)])),
    weft: weftSkipped === undefined ? { available: true, source: weftSource() } : { available: false, reason: weftSkipped },
    params: { threads: THREADS, tells: TELLS, asks: ASKS, ping_pong: PING_PONG, max_timed_s: MAX_TIMED_S, e: E },
    notes: {
      a: 'msgs/s = tells / time from the first tell to the reply of the ask that saw them all (comedy: asks repeated until every tell is counted, its sendAndReceive can overtake earlier sends)',
      b: 'p50/p99: asks one at a time, each timed on its own, after warm-up; 64 in flight: 64 lanes each sending its next ask when its last is answered, for at most max_timed_s',
      c: 'A and B on two different worker threads (threadIds checked); one round trip = A sends the counter to B, B replies it + 1; runs of `chunk` round trips until n or max_timed_s',
      d: 'as a, with the actor on the main thread',
      e: 'growth of process.memoryUsage() (after 3 × gc()) from before the blocking message to after the 1,000,000 tells; the baseline is taken after the same loop run once without tells; rss_drained_growth_mb: the same once released and every queued message handled (what the process kept); processed_after_release counts the adds handled once released',
      others_pct:
        'per run: CPU used by everything else on the machine while the child ran (/proc/stat busy minus the child and the parent), % of all cores',
    },
    cases: Object.fromEntries(o.cases.map((c) => [c, { title: CASE_TITLES[c], target: TARGET_TEXT[c], results: results[c] }])),
    targets: targetRows,
    duration_s: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);

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
    const portM = port && 'metrics' in port ? port : undefined;
    const cols = COLUMNS[caseId];
    const rows: string[][] = [['', ...cols.map((c) => c.label)]];
    const notes: string[] = [];
    for (const job of JOBS[caseId].filter((j) => o.libs.includes(j.lib))) {
      const r = byJob[jobKey(job)]!;
      if ('metrics' in r) rows.push([rowLabel(job), ...cols.map((c) => c.cell(r, portM))]);
      else if ('skipped' in r) rows.push([rowLabel(job), 'not available yet', ...cols.slice(1).map(() => '')]);
      else {
        rows.push([rowLabel(job), 'error', ...cols.slice(1).map(() => '')]);
        notes.push(`${jobKey(job)}: ${firstLine(r.error)}`);
      }
    }
    console.log(markdownTable(rows));
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
