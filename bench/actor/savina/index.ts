/**
 * Savina subset: `npm run bench:savina` (= `node --import=tsx bench/actor/savina/index.ts`).
 *
 * The four micro-benchmarks of the Savina actor benchmark suite (Imam and Sarkar, AGERE! 2014,
 * https://github.com/shamsimam/savina) that fit a 2-core machine, with Savina's standard sizes
 * (its `*Config` defaults), so that the figures can be set beside published ones:
 *
 *   pingpong    PingPongConfig.N = 40,000 pings between two actors (a ping, answered by a pong)
 *   count       CountingConfig.N = 1,000,000 messages to a counting actor, then a retrieve
 *   threadring  ThreadRingConfig.N = 100 actors in a ring, R = 100,000 hops of a token
 *   fjthrput    ThroughputConfig.N = 10,000 messages to each of A = 60 actors, each message
 *               ThroughputConfig.performComputation(37.2) (sin(37.2)²)
 *
 * weft (this repository's actors: on the main thread, and spread over a pool of 2 workers) against,
 * in the same run: the MessagePort floor (bare node:worker_threads, 2 workers), comedy 'threaded'
 * (one worker thread per actor; no thread ring, see params.ts), nact and xstate (same thread).
 * Every run of a benchmark for a library is a child process of its own (./run-case.ts: set-up, a
 * warm-up iteration with a tenth of the messages, one timed iteration, the checks); the runs are
 * interleaved (run 1 of every library, then run 2, ..., the order rotated each time). This parent
 * takes the medians, prints a markdown table on stdout (progress on stderr) and writes
 * bench/results/savina.json for a full run.
 *
 * Flags (--help lists them):
 *   --only weft,port,...   libraries (weft, port, comedy, nact, xstate; default all)
 *   --cases pingpong,...   benchmarks (pingpong, count, threadring, fjthrput; default all)
 *   --runs N               runs of every benchmark per library (default 3)
 *   --quick                a tenth of Savina's message counts, one run unless --runs (figures not comparable)
 *   --timeout S            seconds one child may take before it is killed (default 150); recorded as a timeout
 *   --out PATH             the JSON (default bench/results/savina.json for a full run, else <tmpdir>/weft-bench-savina.json)
 */
import { join } from 'node:path';
import { loadWeft, THREADS, versionOf } from './adapters.js';
import {
  BENCHES,
  BENCH_TITLES,
  DONE_TIMEOUT_MS,
  JOBS,
  JOB_LABELS,
  LIBS,
  NOT_RUN,
  QUICK,
  SAVINA,
  THETA,
  WARMUP_FRACTION,
  jobKey,
  messagesOf,
  sizesText,
  type BenchId,
  type Job,
  type RunError,
  type RunResult,
} from './params.js';
import {
  ROOT,
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
} from '../../harness/index.js';

const SAVINA_REF = 'Savina (S. M. Imam, V. Sarkar, AGERE! 2014, https://github.com/shamsimam/savina), default sizes of its *Config classes';

function parseArgs() {
  const { values: o } = parseBenchArgs({
    usage: 'npm run bench:savina -- [flags]',
    description:
      "Savina's ping-pong, counting actor, thread ring and fork-join throughput with its standard sizes: weft (main thread, 2 pool workers) against the MessagePort floor, comedy, nact and xstate; every run in a child process of its own.",
    flags: {
      only: flags.list(LIBS, 'libraries to run'),
      cases: flags.list(BENCHES, 'benchmarks to run'),
      runs: { type: 'int', arg: 'N', help: 'runs of every benchmark per library, each in a fresh child (default 3; 1 with --quick)' },
      quick: flags.quick("a smoke run: a tenth of Savina's message counts, one run unless --runs (figures not comparable)"),
      timeout: flags.timeout({ default: 150 }),
      out: flags.out(
        'where the JSON goes (default bench/results/savina.json for a full run of every library and benchmark; otherwise <tmpdir>/weft-bench-savina.json)',
      ),
    },
  });
  return { ...o, runs: o.runs ?? (o.quick ? 1 : 3) };
}
type Options = ReturnType<typeof parseArgs>;

type Outcome = (RunResult & { others_pct?: number }) | RunError;
const isOk = (r: Outcome): r is RunResult & { others_pct?: number } => !('error' in r);

/** One child: one run (after its warm-up) of one benchmark for one library. */
async function runChild(bench: BenchId, job: Job, o: Options, round: number): Promise<Outcome> {
  console.error(`\n== ${bench} / ${jobKey(job)}, run ${round + 1} of ${o.runs}`);
  const base = { lib: job.lib, bench, ...(job.variant ? { variant: job.variant } : {}) };
  const c = await runCaseChild<Outcome>({
    script: join(ROOT, 'bench', 'actor', 'savina', 'run-case.ts'),
    args: [job.lib, bench, ...(job.variant ? [job.variant] : []), ...(o.quick ? ['--quick'] : [])],
    timeoutS: o.timeout,
  });
  if (!c.ok) return { ...base, error: c.why };
  const r = c.result;
  if (isOk(r) && c.othersPct !== undefined) r.others_pct = c.othersPct;
  return r;
}

interface Merged {
  version: string;
  ms: Sampled;
  msgs_per_s: Sampled;
  info: Record<string, unknown>;
  child_seconds: number[];
  others_pct: number[];
}
type Entry = Merged | (RunError & { timeout?: boolean }) | { not_run: string } | { skipped: string };

/** The runs of one job: medians and samples; the first error if any run failed. */
function merge(runs: Outcome[]): Entry {
  const bad = runs.find((r) => !isOk(r));
  if (bad) return { ...(bad as RunError), ...(/^killed after/.test((bad as RunError).error) ? { timeout: true } : {}) };
  const ok = runs as (RunResult & { others_pct?: number })[];
  const s = (k: 'ms' | 'msgs_per_s'): Sampled => {
    const samples = ok.map((r) => r.metrics[k]);
    return { median: roundSig(median(samples), 5), samples };
  };
  return {
    version: ok[0]!.version,
    ms: s('ms'),
    msgs_per_s: s('msgs_per_s'),
    info: ok[ok.length - 1]!.info,
    child_seconds: ok.map((r) => r.child_seconds),
    others_pct: ok.flatMap((r) => (r.others_pct === undefined ? [] : [r.others_pct])),
  };
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function cell(e: Entry | undefined, timeoutS: number): string {
  if (e === undefined) return '—';
  if ('not_run' in e) return 'not run';
  if ('skipped' in e) return 'not available';
  if ('error' in e) return e.timeout ? `timeout (> ${timeoutS} s)` : 'error';
  return `${ms(e.ms.median)} ms · ${fmt.rate(e.msgs_per_s.median)} msg/s`;
}

async function main(): Promise<void> {
  const o = parseArgs();
  const started = Date.now();
  const sizes = o.quick ? QUICK : SAVINA;

  let weftSkipped: string | undefined;
  if (o.only.includes('weft')) {
    const api = await loadWeft();
    if ('unavailable' in api) {
      weftSkipped = api.unavailable;
      console.error(`weft: not available (${weftSkipped}); measuring the peers only`);
    }
  }

  const jobsOf = (b: BenchId): Job[] => JOBS[b].filter((j) => o.only.includes(j.lib));
  const results: Partial<Record<BenchId, Record<string, Entry>>> = {};
  for (const bench of o.cases) {
    const jobs = jobsOf(bench).filter((j) => !(j.lib === 'weft' && weftSkipped));
    // A job that failed once (an error, a timeout) gets no more runs.
    const runs = await runInterleaved(
      jobs,
      o.runs,
      (job, round) => runChild(bench, job, o, round),
      (r) => !isOk(r),
    );
    const byJob: Record<string, Entry> = {};
    for (const lib of o.only) {
      const why = NOT_RUN[bench]?.[lib];
      if (why) byJob[lib] = { not_run: why };
    }
    for (const job of jobsOf(bench)) {
      byJob[jobKey(job)] = job.lib === 'weft' && weftSkipped ? { skipped: weftSkipped } : merge(runs.get(job)!);
    }
    results[bench] = byJob;
  }

  const full = !o.quick && o.only.length === LIBS.length && o.cases.length === BENCHES.length;
  const out = resultsPath('savina', { out: o.out, full });
  const json = {
    benchmark: 'savina',
    command: commandLine('npm run bench:savina'),
    date: new Date().toISOString(),
    runs: o.runs,
    quick: o.quick,
    machine: machineInfo(),
    versions: Object.fromEntries(o.only.map((l) => [l, versionOf(l)])),
    weft: weftSkipped === undefined ? { available: true, source: weftSource() } : { available: false, reason: weftSkipped },
    reference: SAVINA_REF,
    params: {
      sizes,
      savina_defaults: SAVINA,
      warmup_fraction: WARMUP_FRACTION,
      theta: THETA,
      threads: THREADS,
      timeout_s: o.timeout,
      done_timeout_ms: DONE_TIMEOUT_MS,
    },
    notes: {
      ms: "per run: one timed iteration, from the main thread's first message (or start ask) to the completion it sees (the ask's reply, the last worker's report), after a warm-up iteration with a tenth of the messages on the same actors; set-up (spawning, linking) not included (info.setup_ms); figure: the median of the runs, each run a child process of its own",
      msgs_per_s:
        'messages of the timed iteration / its time: pingpong 2 per ping (ping and pong), count N increments, threadring R hops, fjthrput A × N',
      checks:
        'in each child, for the warm-up and the timed iteration: pingpong pongs = pings = N; count the retrieved count = N; threadring the token made R hops and the members received R + 1 tokens; fjthrput every actor handled exactly N messages and summed N × sin(37.2)²; a wrong result is an error, not a figure',
      others_pct: 'per run: CPU used by everything else on the machine while the child ran (/proc/stat), % of all cores',
    },
    benches: Object.fromEntries(
      o.cases.map((b) => [
        b,
        { title: BENCH_TITLES[b], sizes: sizes[b], sizes_text: sizesText(b, sizes), messages: messagesOf(b, sizes), results: results[b] },
      ]),
    ),
    duration_s: Math.round((Date.now() - started) / 1000),
  };
  writeResults(out, json);

  // The table (markdown on stdout): one row per benchmark, one column per library.
  const mc = json.machine;
  const cols = [
    ...new Set(
      o.cases.flatMap((b) => [
        ...jobsOf(b).map(jobKey),
        ...Object.keys(NOT_RUN[b] ?? {}).filter((l) => o.only.includes(l as (typeof LIBS)[number])),
      ]),
    ),
  ];
  const order = ['weft/main', 'weft/workers', 'port', 'comedy', 'nact', 'xstate'];
  cols.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  console.log(
    `\n# Savina subset${o.quick ? ' (--quick: a tenth of the messages, not comparable)' : ''}\n\n` +
      `${mc.cpu}, ${mc.cores} cores, ${mc.os}, Node ${mc.node}, ${json.date}; median of ${o.runs} run${o.runs === 1 ? '' : 's'}, each in a fresh process; ` +
      `versions: ${Object.entries(json.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.\nSizes: ${o.quick ? 'a tenth of ' : ''}${SAVINA_REF}.` +
      (weftSkipped ? `\n\nweft: not available (${weftSkipped}).` : ''),
  );
  const label = (k: string): string => JOB_LABELS[k] ?? k;
  const rows: string[][] = [['benchmark (sizes)', ...cols.map(label)]];
  const notes: string[] = [];
  for (const b of o.cases) {
    const byJob = results[b]!;
    rows.push([`${b} (${sizesText(b, sizes)})`, ...cols.map((k) => cell(byJob[k], o.timeout))]);
    for (const [k, e] of Object.entries(byJob)) {
      if ('error' in e) notes.push(`${b} / ${k}: ${e.timeout ? `timeout: ${firstLine(e.error)}` : firstLine(e.error, 400)}`);
      if ('not_run' in e) notes.push(`${b} / ${k}: not run: ${e.not_run}`);
    }
  }
  console.log(`\n${markdownTable(rows)}`);
  console.log(
    '\nms: one timed iteration (median of the runs), from the first message to the completion the main thread sees, after a warm-up iteration; msg/s: pingpong 2 messages per ping, count N, threadring R hops, fjthrput A × N.',
  );
  const others = Object.values(results).flatMap((byJob) => Object.values(byJob!).flatMap((e) => ('others_pct' in e ? e.others_pct : [])));
  if (others.length)
    console.log(
      `Other processes used ${fmt.pct(median(others))} of the machine (median over ${others.length} children; max ${fmt.pct(Math.max(...others))}).`,
    );
  for (const n of notes) console.log(`\n${n}`);
  console.log(`\nwrote ${out} (${json.duration_s} s)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
