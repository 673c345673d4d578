/**
 * Cluster benchmark: `npm run bench:cluster` (= `node --import=tsx bench/cluster/index.ts`).
 *
 * weftjs/cluster against Moleculer 0.14 (NATS transporter, JSON) and against bare NATS (the
 * @nats-io/transport-node client: publish with the correlation id in the reply subject, and
 * `nc.request` with `noAsyncTraces`), over one nats-server that this program starts on loopback
 * (`-js`, a temporary store, a monitoring port) and stops at its end. Every run of a library is a
 * pair of fresh processes: the serving child (serve.ts: the echo, the counting sink, the pool)
 * and the calling child (call.ts: every row of that library, one after the other), the server a
 * third process. The runs are interleaved (run 1 of every library, then run 2, ..., the order
 * rotated each time); every figure is the median of the runs (WEFT_BENCH_RUNS or --runs, default 5),
 * every run's value in the JSON.
 *
 * Rows (32-byte payload; params.ts has the sizes):
 *   seq       1 in flight: p50/p99 of 2,000 round trips after a warm-up, and round trips/s;
 *   inflight  64 in flight: round trips/s (p50/p99 of each) over 2 s after a warm-up;
 *   tell      fire-and-forget messages for 2 s, counted by the serving process: sent/s, received/s,
 *             dropped (raw publish, weft ref.tell, Moleculer broker.emit);
 *   pool      a remote call of x => x + 1, 64 in flight (weft: node.pool('p').run on a served Pool of
 *             1 thread; Moleculer: an action on the serving broker's main thread, disableBalancer).
 * Membership rows (weft and Moleculer; each run a pair of children of its own, fault.ts, per
 * variant: weft's failureWindowMs 3000 and 1000, Moleculer's heartbeats 1 s / 3 s and its defaults
 * 10 s / 30 s; --fault-runs runs each, default 3, --slow-runs for Moleculer's defaults, default 1):
 *   nodedown  the serving child killed (SIGKILL) under 64 asks in flight: kill → the caller's
 *             node-down event, kill → the last of those asks settled, their outcomes by code;
 *   restart   the nats-server killed (SIGKILL) under 16 asking lanes and started again 2 s later
 *             on the same port and store: its "ready" → the first answered ask; every ask's outcome.
 *
 * Markdown tables on stdout (to paste into bench/README.md), progress on stderr, the JSON in
 * bench/results/cluster.json for a full run (else <tmpdir>/weft-bench-cluster.json or --out).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ROOT,
  commandLine,
  cpuSnapshot,
  exitUsage,
  firstLine,
  flags,
  fmt,
  machineInfo,
  markdownTable,
  median,
  packageVersion,
  pairedMedianRatio,
  parseBenchArgs,
  processCpuSeconds,
  resultsPath,
  rotate,
  type ChildRun,
  runChild,
  sampled,
  type Sampled,
  weftSource,
  writeResults,
} from '../harness/index.js';
import { versionOf } from './adapters.js';
import { FAULT_NOTES, type FaultOutcome, type FaultResults, faultFailures, faultTable, faultTargets, mergeFault } from './fault-report.js';
import {
  type CallError,
  type CallResult,
  FAULT_ROWS,
  FAULT_VARIANTS,
  type FaultRow,
  INFLIGHT,
  LIBS,
  LIB_LABELS,
  LIB_ROWS,
  LOADED_MARK,
  type Lib,
  NAMES,
  NODEDOWN,
  PAIR_ROWS,
  type PairRow,
  PAYLOAD,
  POOL,
  READY_MARK,
  RESTART,
  RESTARTED_MARK,
  ROWS,
  ROW_VARIANTS,
  SEQ,
  SLOW,
  TARGETS,
  TELL,
  TIMEOUT_MS,
  type Variant,
} from './params.js';
import { type BenchNatsServer, startNatsServer } from './server.js';

function parseArgs() {
  const { values: o } = parseBenchArgs({
    usage: 'npm run bench:cluster -- [flags]',
    description:
      'weftjs/cluster against Moleculer 0.14 and bare NATS over one nats-server on loopback; every run of a library in a fresh pair of processes (serving, calling).',
    flags: {
      only: flags.list(LIBS, 'libraries to run'),
      rows: flags.list(ROWS, 'rows to run'),
      runs: flags.runs({ default: 5, env: 'WEFT_BENCH_RUNS', help: 'runs of every library, each in a fresh pair of children' }),
      'fault-runs': flags.runs({
        default: 3,
        min: 0,
        env: 'WEFT_BENCH_FAULT_RUNS',
        help: 'runs of every variant of the membership rows (nodedown, restart), each in a fresh pair of children',
      }),
      'slow-runs': flags.runs({
        default: 1,
        min: 0,
        help: "runs of the nodedown row with Moleculer's default heartbeats (10 s / 30 s: about a minute a run)",
      }),
      timeout: flags.timeout({ default: 120 }),
      out: flags.out(
        'where the JSON goes (default bench/results/cluster.json for a run of every library and row; otherwise <tmpdir>/weft-bench-cluster.json)',
      ),
      profile: {
        type: 'string',
        arg: 'DIR',
        help: 'CPU profiles of the timed part of every row, of both children, into DIR (read them with bench/cluster/profile-top.ts); the figures are then not comparable',
      },
    },
  });
  return o;
}
type Options = ReturnType<typeof parseArgs>;

const serveScript = join(ROOT, 'bench', 'cluster', 'serve.ts');
const callScript = join(ROOT, 'bench', 'cluster', 'call.ts');
const faultScript = join(ROOT, 'bench', 'cluster', 'fault.ts');

type Outcome = (CallResult & { others_pct?: number; steal_pct?: number; serve_setup?: string }) | CallError;
const isOk = (r: Outcome | undefined): r is Exclude<Outcome, CallError> => r !== undefined && !('error' in r);

function waitExit(c: ChildProcess, ms: number): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    c.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts the serving child of `lib`; resolves with it once it printed its ready line, or with why not. */
function startServe(lib: Lib, url: string, args: string[]): Promise<{ child: ChildProcess; setup: string } | { why: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', serveScript, lib, url, ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let tail = '';
    let done = false;
    const finish = (v: { child: ChildProcess; setup: string } | { why: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      tail = (tail + d).slice(-3000);
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith(READY_MARK));
      if (line !== undefined) finish({ child, setup: (JSON.parse(line.slice(READY_MARK.length)) as { setup: string }).setup });
    });
    child.on('exit', (code, signal) => finish({ why: `the serving child exited (${signal ?? code}) before it was ready\n${tail}` }));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ why: `the serving child was not ready after 60 s\n${tail}` });
    }, 60_000);
  });
}

/** One run of `lib`: a serving child, then a calling child that runs every row against it. */
async function runPair(lib: Lib, round: number, o: Options, rows: PairRow[], server: BenchNatsServer): Promise<Outcome> {
  console.error(`\n== ${LIB_LABELS[lib]}, run ${round + 1} of ${o.runs}`);
  const prof = o.profile === undefined ? [] : ['--profile', o.profile, '--rows', rows.join(',')];
  const before = cpuSnapshot();
  const natsBefore = processCpuSeconds(server.pid);
  const serve = await startServe(lib, server.url, prof);
  if ('why' in serve) return { lib, error: serve.why };
  let c: ChildRun<Outcome>;
  try {
    c = await runChild<Outcome>({
      script: callScript,
      args: [
        lib,
        server.url,
        '--rows',
        rows.join(','),
        '--serve-pid',
        String(serve.child.pid),
        '--nats-pid',
        String(server.pid),
        '--varz',
        server.varzUrl,
        ...(o.profile === undefined ? [] : ['--profile', o.profile]),
      ],
      timeoutS: o.timeout,
    });
  } finally {
    serve.child.stdin?.end();
    if (!(await waitExit(serve.child, 15_000))) {
      serve.child.kill('SIGKILL');
      await waitExit(serve.child, 5_000);
    }
  }
  if (!c.ok) return { lib, error: c.why };
  const r = c.result;
  if (!isOk(r)) return r;
  Object.assign(r, othersDuring(before, natsBefore, server.pid));
  r.serve_setup = serve.setup;
  return r;
}

/**
 * Everything else on the machine since `before`: busy time minus this process, its children (all
 * waited for, so in our cutime) and the nats-server (`pid`, which was at `natsBefore`).
 */
function othersDuring(
  before: ReturnType<typeof cpuSnapshot>,
  natsBefore: number | undefined,
  pid: number,
): { others_pct?: number; steal_pct?: number } {
  const after = cpuSnapshot();
  const natsAfter = processCpuSeconds(pid);
  if (!before || !after || after.total <= before.total || natsBefore === undefined || natsAfter === undefined) return {};
  const span = after.total - before.total;
  const others = after.busy - before.busy - (after.own - before.own) - (natsAfter - natsBefore);
  return {
    others_pct: Number(Math.max(0, (others / span) * 100).toFixed(1)),
    steal_pct: Number((((after.steal - before.steal) / span) * 100).toFixed(1)),
  };
}

/** A run of a membership row: `${row}:${variant}`. */
type FaultJob = `${FaultRow}:${Variant}`;

/**
 * One run of a membership row for one variant: a serving child hosting the echo alone, and
 * fault.ts. nodedown: the calling child kills the serving child itself. restart: on the child's
 * LOADED_MARK this process kills the nats-server, starts it again RESTART.downS after the kill
 * and writes the times on the child's stdin.
 */
async function runFault(job: FaultJob, round: number, runs: number, server: BenchNatsServer, o: Options): Promise<FaultOutcome> {
  const [row, variant] = job.split(':') as [FaultRow, Variant];
  const lib = FAULT_VARIANTS[variant].lib;
  console.error(`\n== ${row}, ${FAULT_VARIANTS[variant].label}, run ${round + 1} of ${runs}`);
  const tag = `${row === 'nodedown' ? 'nd' : 'rs'}-${variant}-r${round}`;
  const before = cpuSnapshot();
  const natsBefore = processCpuSeconds(server.pid);
  const serve = await startServe(lib, server.url, ['--variant', variant, '--tag', tag]);
  if ('why' in serve) return { row, variant, error: serve.why };
  let restarting: Promise<void> | undefined;
  let c: ChildRun<FaultOutcome>;
  try {
    c = await runChild<FaultOutcome>({
      script: faultScript,
      args: [row, variant, server.url, '--tag', tag, '--serve-pid', String(serve.child.pid)],
      // Moleculer's default heartbeats take up to a minute and a half to declare a node down.
      timeoutS: Math.max(o.timeout, NODEDOWN.askTimeoutMs / 1e3 + 60),
      onLine:
        row !== 'restart'
          ? undefined
          : (line, send) => {
              if (line !== LOADED_MARK || restarting !== undefined) return;
              restarting = (async () => {
                const { signalAt: killAt, exitAt } = await server.kill();
                console.error(
                  `    killed the nats-server (SIGKILL; its exit seen ${(exitAt - killAt).toFixed(1)} ms later); starting it again ${RESTART.downS} s after the kill`,
                );
                await sleep(Math.max(0, killAt + RESTART.downS * 1e3 - (performance.timeOrigin + performance.now())));
                const { spawnAt, readyAt } = await server.restart();
                console.error(`    nats-server ready again (pid ${server.pid}) ${(readyAt - killAt).toFixed(0)} ms after the kill`);
                send(`${RESTARTED_MARK} ${JSON.stringify({ killAt, exitAt, spawnAt, readyAt })}\n`);
              })();
            },
    });
  } finally {
    serve.child.stdin?.end();
    if (!(await waitExit(serve.child, 15_000))) {
      serve.child.kill('SIGKILL');
      await waitExit(serve.child, 5_000);
    }
  }
  // A server that could not be started again ends the bench: nothing after it could run.
  if (restarting !== undefined) await restarting;
  if (!c.ok) return { row, variant, error: c.why };
  const r = c.result;
  if ('error' in r) return { row, variant, error: r.error };
  // The restart row's server is another process after it: no figure for the others then.
  if (row !== 'restart') Object.assign(r, othersDuring(before, natsBefore, server.pid));
  r.serve_setup = serve.setup;
  return r;
}

/**
 * Interleaved runs of jobs with their own numbers of runs: round r runs every job that has more
 * than r runs once, in the order of the list rotated by r (the pairs of the libraries first, then
 * the membership rows'). A job whose run failed gets no more runs.
 */
async function interleave<K, R>(
  groups: ReadonlyArray<ReadonlyArray<{ key: K; runs: number }>>,
  run: (key: K, round: number, runs: number) => Promise<R>,
  failed: (outcome: R) => boolean,
): Promise<Map<K, R[]>> {
  const out = new Map<K, R[]>(groups.flat().map((j) => [j.key, []]));
  const rounds = Math.max(0, ...groups.flat().map((j) => j.runs));
  for (let round = 0; round < rounds; round++) {
    for (const group of groups) {
      for (const j of rotate(group, round)) {
        const done = out.get(j.key)!;
        if (j.runs <= round || done.some(failed)) continue;
        done.push(await run(j.key, round, j.runs));
      }
    }
  }
  return out;
}

interface Merged {
  lib: Lib;
  version: string;
  metrics: Record<string, Sampled>;
  setup: { call: unknown; serve: string | undefined };
  child_seconds: number[];
  others_pct: number[];
  steal_pct: number[];
}

function merge(runs: Outcome[]): Merged | CallError {
  const bad = runs.find((r) => !isOk(r));
  if (bad) return bad as CallError;
  const ok = runs as Exclude<Outcome, CallError>[];
  const first = ok[0]!;
  const metrics: Record<string, Sampled> = {};
  for (const key of Object.keys(first.metrics)) metrics[key] = sampled(ok.map((r) => r.metrics[key]!));
  return {
    lib: first.lib,
    version: first.version,
    metrics,
    setup: { call: first.info.setup, serve: first.serve_setup },
    child_seconds: ok.map((r) => r.child_seconds),
    others_pct: ok.flatMap((r) => (r.others_pct === undefined ? [] : [r.others_pct])),
    steal_pct: ok.flatMap((r) => (r.steal_pct === undefined ? [] : [r.steal_pct])),
  };
}

// ---------------------------------------------------------------------------------------------
// Tables

const { rate, times } = fmt;
const us = (x: number): string => (x >= 10_000 ? `${(x / 1e3).toFixed(1)} ms` : `${x.toFixed(0)} µs`);
const int = (x: number): string => Math.round(x).toLocaleString('en');

type Results = Partial<Record<Lib, Merged | CallError | { skipped: string }>>;

function got(results: Results, lib: Lib): Merged | undefined {
  const r = results[lib];
  return r && 'metrics' in r ? r : undefined;
}
const med = (r: Merged | undefined, key: string): number | undefined => r?.metrics[key]?.median;
const samples = (r: Merged | undefined, key: string): number[] | undefined => r?.metrics[key]?.samples;

/** weft / other (or other / weft for latencies), over the medians, and paired per run where both have every run. */
function ratio(
  results: Results,
  key: string,
  other: Lib,
  better: 'higher' | 'lower' = 'higher',
): { ofMedians: number; paired: number | undefined } | undefined {
  const w = got(results, 'weft');
  const b = got(results, other);
  const x = med(w, key);
  const y = med(b, key);
  if (x === undefined || y === undefined) return undefined;
  const sx = samples(w, key)!;
  const sy = samples(b, key)!;
  const paired = sx.length === sy.length ? (better === 'higher' ? pairedMedianRatio(sx, sy) : pairedMedianRatio(sy, sx)) : undefined;
  return { ofMedians: better === 'higher' ? x / y : y / x, paired };
}

/** A metric that every row's run has: absent when the row was not run (--rows). */
const ROW_KEY: Record<PairRow, string> = { seq: 'seq_p50_us', inflight: 'inflight_rt_per_s', tell: 'tell_sent', pool: 'pool_calls_per_s' };

function cellOf(results: Results, lib: Lib, row: PairRow, fn: (r: Merged) => string): string {
  const r = results[lib];
  if (!LIB_ROWS[lib].includes(row)) return '—';
  if (r === undefined) return 'not run';
  if ('skipped' in r) return 'n/a';
  if ('error' in r) return 'failed';
  if (r.metrics[ROW_KEY[row]] === undefined) return 'not run';
  return fn(r);
}

const vsCell = (r: { ofMedians: number; paired: number | undefined } | undefined): string =>
  r === undefined ? '' : `${times(r.ofMedians)}${r.paired !== undefined ? ` (paired ${times(r.paired)})` : ''}`;

function mainTable(results: Results, libs: Lib[]): string {
  const head = ['row', ...libs.map((l) => LIB_LABELS[l]), 'weft vs Moleculer', 'weft vs raw'];
  type Line = { label: string; row: PairRow; cell: (r: Merged) => string; key?: string; better?: 'higher' | 'lower'; vsRaw?: boolean };
  const lines: Line[] = [
    {
      label: '1. ask, 1 in flight: p50 / p99',
      row: 'seq',
      cell: (r) => `${us(med(r, 'seq_p50_us')!)} / ${us(med(r, 'seq_p99_us')!)}`,
      key: 'seq_p50_us',
      better: 'lower',
      vsRaw: true,
    },
    {
      label: '1. ask, 1 in flight: round trips/s',
      row: 'seq',
      cell: (r) => rate(med(r, 'seq_rt_per_s')!),
      key: 'seq_rt_per_s',
      vsRaw: true,
    },
    {
      label: `2. ask, ${INFLIGHT.lanes} in flight: round trips/s`,
      row: 'inflight',
      cell: (r) => rate(med(r, 'inflight_rt_per_s')!),
      key: 'inflight_rt_per_s',
      vsRaw: true,
    },
    {
      label: `2. ask, ${INFLIGHT.lanes} in flight: p50 / p99`,
      row: 'inflight',
      cell: (r) => `${us(med(r, 'inflight_p50_us')!)} / ${us(med(r, 'inflight_p99_us')!)}`,
    },
    {
      label: '3. tells: received/s',
      row: 'tell',
      cell: (r) => rate(med(r, 'tell_received_per_s')!),
      key: 'tell_received_per_s',
      vsRaw: true,
    },
    { label: '3. tells: sent/s', row: 'tell', cell: (r) => rate(med(r, 'tell_sent_per_s')!), key: 'tell_sent_per_s', vsRaw: true },
    {
      label: '3. tells: received / sent (dropped)',
      row: 'tell',
      cell: (r) => `${int(med(r, 'tell_received')!)} / ${int(med(r, 'tell_sent')!)} (${int(med(r, 'tell_dropped')!)})`,
    },
    {
      label: `4. pool call, ${POOL.lanes} in flight: calls/s`,
      row: 'pool',
      cell: (r) => rate(med(r, 'pool_calls_per_s')!),
      key: 'pool_calls_per_s',
    },
    {
      label: `4. pool call, ${POOL.lanes} in flight: p50 / p99`,
      row: 'pool',
      cell: (r) => `${us(med(r, 'pool_p50_us')!)} / ${us(med(r, 'pool_p99_us')!)}`,
    },
  ];
  const rows = lines.map((l) => [
    l.label,
    ...libs.map((lib) => cellOf(results, lib, l.row, l.cell)),
    l.key ? vsCell(ratio(results, l.key, 'moleculer', l.better)) : '',
    l.key && l.vsRaw ? vsCell(ratio(results, l.key, 'raw', l.better)) : '',
  ]);
  return markdownTable([head, ...rows]);
}

/** CPU per operation in each process and bytes through the server: where each library spends. */
function costTable(results: Results, libs: Lib[]): string {
  const head = ['per operation', ...libs.map((l) => LIB_LABELS[l])];
  const cpu = (prefix: string, r: Merged): string =>
    ['caller', 'serve', 'nats']
      .map((p) => med(r, `${prefix}_cpu_${p}_us`))
      .map((x) => (x === undefined ? '?' : x.toFixed(1)))
      .join(' / ');
  const bytes = (prefix: string, r: Merged): string => {
    const b = med(r, `${prefix}_server_bytes_per_op`);
    const n = med(r, `${prefix}_server_msgs_per_op`);
    if (b === undefined || n === undefined) return '?';
    // Batched tells: many per NATS message.
    return n > 0 && n < 0.5 ? `${b.toFixed(0)} B; 1 msg per ${Math.round(1 / n)}` : `${b.toFixed(0)} B in ${n.toFixed(2)} msgs`;
  };
  const rows: string[][] = [
    [
      `ask, ${INFLIGHT.lanes} in flight: CPU µs caller / serving / nats-server`,
      ...libs.map((l) => cellOf(results, l, 'inflight', (r) => cpu('inflight', r))),
    ],
    ['ask: payload bytes into the server', ...libs.map((l) => cellOf(results, l, 'inflight', (r) => bytes('inflight', r)))],
    ['tell: CPU µs caller / serving / nats-server', ...libs.map((l) => cellOf(results, l, 'tell', (r) => cpu('tell', r)))],
    ['tell: payload bytes into the server', ...libs.map((l) => cellOf(results, l, 'tell', (r) => bytes('tell', r)))],
    [
      `pool call, ${POOL.lanes} in flight: CPU µs caller / serving / nats-server`,
      ...libs.map((l) => cellOf(results, l, 'pool', (r) => cpu('pool', r))),
    ],
  ];
  return markdownTable([head, ...rows]);
}

interface TargetLine {
  target: string;
  this_run: string;
  met: boolean | null;
}

function targets(results: Results, faults: FaultResults): TargetLine[] {
  const out: TargetLine[] = [];
  const missing = (libs: Lib[]): string => {
    const why = libs.map((l) => {
      const r = results[l];
      if (r === undefined) return `${LIB_LABELS[l]} not run`;
      if ('skipped' in r) return `${LIB_LABELS[l]}: ${r.skipped}`;
      if ('error' in r) return `${LIB_LABELS[l]} failed: ${firstLine(r.error)}`;
      return `${LIB_LABELS[l]}: row not run`;
    });
    return why.join('; ');
  };
  const byRatio = (target: string, key: string, other: Lib, bar: number, unit: (x: number) => string): void => {
    const r = ratio(results, key, other);
    if (r === undefined) {
      out.push({ target, this_run: missing(['weft', other]), met: null });
      return;
    }
    const w = med(got(results, 'weft'), key)!;
    const b = med(got(results, other), key)!;
    const met = r.ofMedians >= bar;
    const by = met
      ? `met by ${((r.ofMedians / bar - 1) * 100).toFixed(0)} %`
      : `not met: ${((1 - r.ofMedians / bar) * 100).toFixed(0)} % short (weft would need ${unit(bar * b)})`;
    out.push({
      target,
      this_run: `weft ${unit(w)} vs ${unit(b)}: ${times(r.ofMedians)}${r.paired !== undefined ? ` (paired ${times(r.paired)})` : ''}; **${by}**`,
      met,
    });
  };
  const perS = (x: number): string => `${rate(x)}/s`;
  byRatio(
    `ask, ${INFLIGHT.lanes} in flight ≥ ${TARGETS.inflightVsMoleculer}× Moleculer's broker.call`,
    'inflight_rt_per_s',
    'moleculer',
    TARGETS.inflightVsMoleculer,
    perS,
  );
  byRatio(
    `ask, ${INFLIGHT.lanes} in flight ≥ ${TARGETS.inflightVsRaw * 100} % of raw correlation id`,
    'inflight_rt_per_s',
    'raw',
    TARGETS.inflightVsRaw,
    perS,
  );
  {
    const target = `ask, 1 in flight: p50 ≤ raw p50 + ${TARGETS.seqP50OverRawUs} µs`;
    const w = med(got(results, 'weft'), 'seq_p50_us');
    const b = med(got(results, 'raw'), 'seq_p50_us');
    if (w === undefined || b === undefined) out.push({ target, this_run: missing(['weft', 'raw']), met: null });
    else {
      const over = w - b;
      const met = over <= TARGETS.seqP50OverRawUs;
      const sx = samples(got(results, 'weft'), 'seq_p50_us')!;
      const sy = samples(got(results, 'raw'), 'seq_p50_us')!;
      const paired = sx.length === sy.length ? median(sx.map((x, i) => x - sy[i]!)) : undefined;
      out.push({
        target,
        this_run: `weft ${us(w)} vs raw ${us(b)}: ${over >= 0 ? '+' : ''}${over.toFixed(0)} µs${paired !== undefined ? ` (paired ${paired >= 0 ? '+' : ''}${paired.toFixed(0)} µs)` : ''}; **${met ? `met by ${(TARGETS.seqP50OverRawUs - over).toFixed(0)} µs` : `not met by ${(over - TARGETS.seqP50OverRawUs).toFixed(0)} µs`}**`,
        met,
      });
    }
  }
  {
    const target = 'ask, 1 in flight: p99 ≤ 2 ms (on an idle box)';
    const w = med(got(results, 'weft'), 'seq_p99_us');
    const others = got(results, 'weft')?.others_pct ?? [];
    if (w === undefined) out.push({ target, this_run: missing(['weft']), met: null });
    else
      out.push({
        target,
        this_run: `weft ${us(w)} (raw ${us(med(got(results, 'raw'), 'seq_p99_us') ?? Number.NaN)}; other processes ${median(others).toFixed(1)} % of the machine); **${w <= 2000 ? 'met' : `not met by ${us(w - 2000)}`}**`,
        met: w <= 2000,
      });
  }
  byRatio(`tell ≥ ${TARGETS.tellVsRaw * 100} % of raw publish (received/s)`, 'tell_received_per_s', 'raw', TARGETS.tellVsRaw, perS);
  byRatio('pool call ≥ Moleculer with disableBalancer (calls/s)', 'pool_calls_per_s', 'moleculer', TARGETS.poolVsMoleculer, perS);
  out.push(
    ...faultTargets(faults, (key) => {
      const r = faults[key as FaultJob];
      if (r === undefined) return `${key} not run`;
      return 'error' in r ? `${key} failed: ${firstLine(r.error)}` : `${key}: no result`;
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseArgs();
  if (o.profile !== undefined) {
    o.profile = resolve(o.profile);
    mkdirSync(o.profile, { recursive: true });
  }
  const libs = [...o.only];
  const rows = [...o.rows];
  const pairRows = PAIR_ROWS.filter((r) => rows.includes(r));
  const faultRows = FAULT_ROWS.filter((r) => rows.includes(r));
  if (o.runs < 1) exitUsage('--runs must be at least 1', 'npm run bench:cluster -- [flags]');
  const started = Date.now();

  let weftSkipped: string | undefined;
  if (libs.includes('weft')) {
    try {
      const mod = (await import('../../src/cluster/index.js')) as { connect?: unknown };
      if (typeof mod.connect !== 'function') weftSkipped = 'src/cluster/index.ts does not export connect';
    } catch (err) {
      weftSkipped = `src/cluster does not load: ${firstLine(err instanceof Error ? err.message : String(err), 300)}`;
    }
    if (weftSkipped) console.log(`weft: not available (${weftSkipped}); measuring the others only`);
  }
  const measured = libs.filter((l) => !(l === 'weft' && weftSkipped));

  const server = await startNatsServer();
  console.error(`nats-server ${server.version} (${server.binary}) on ${server.url}, pid ${server.pid}`);
  const stopServer = (): void => {
    void server.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopServer);
  // The membership rows: with --profile none (the profiles are of call.ts's timed parts).
  const faultJobs: { key: FaultJob; runs: number }[] =
    o.profile !== undefined
      ? []
      : faultRows.flatMap((row) =>
          ROW_VARIANTS[row]
            .filter((v) => measured.includes(FAULT_VARIANTS[v].lib))
            .map((v) => {
              const key: FaultJob = `${row}:${v}`;
              return { key, runs: SLOW.includes(key) ? o['slow-runs'] : o['fault-runs'] };
            })
            .filter((j) => j.runs > 0),
        );
  const pairJobs = pairRows.length === 0 ? [] : measured.map((lib) => ({ key: lib as Lib | FaultJob, runs: o.runs }));
  let runs: Map<Lib | FaultJob, (Outcome | FaultOutcome)[]>;
  try {
    runs = await interleave<Lib | FaultJob, Outcome | FaultOutcome>(
      [pairJobs, faultJobs],
      (key, round, n) =>
        key.includes(':') ? runFault(key as FaultJob, round, n, server, o) : runPair(key as Lib, round, o, pairRows, server),
      (r) => 'error' in r,
    );
  } finally {
    process.off('SIGINT', stopServer);
    await server.stop();
  }

  const results: Results = {};
  for (const lib of libs) {
    if (lib === 'weft' && weftSkipped) results[lib] = { skipped: `not available: ${weftSkipped}` };
    else if (pairRows.length > 0) results[lib] = merge(runs.get(lib) as Outcome[]);
  }
  const faults: FaultResults = {};
  for (const j of faultJobs) {
    const m = mergeFault(runs.get(j.key) as FaultOutcome[]);
    if (m !== undefined) faults[j.key] = m;
  }

  const targetLines = targets(results, faults);
  const full = libs.length === LIBS.length && rows.length === ROWS.length && o.profile === undefined;
  const out = resultsPath('cluster', { out: o.out, full });
  const allOthers = measured.flatMap((l) => got(results, l)?.others_pct ?? []);
  const json = {
    benchmark: 'cluster',
    command: commandLine('npm run bench:cluster', { env: ['WEFT_BENCH_RUNS', 'WEFT_BENCH_FAULT_RUNS'] }),
    date: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1e3),
    runs: o.runs,
    fault_runs: o['fault-runs'],
    slow_runs: o['slow-runs'],
    machine: machineInfo(),
    nats_server: { version: server.version, binary: server.binary },
    versions: { ...Object.fromEntries(libs.map((l) => [l, versionOf(l)])), tsx: packageVersion('tsx') },
    weft: weftSkipped === undefined ? { available: true, source: weftSource() } : { available: false, reason: weftSkipped },
    params: {
      payload: PAYLOAD,
      payload_bytes: Buffer.byteLength(PAYLOAD),
      seq: SEQ,
      inflight: INFLIGHT,
      tell: TELL,
      pool: POOL,
      timeout_ms: TIMEOUT_MS,
      names: NAMES,
      rows,
      nodedown: NODEDOWN,
      restart: RESTART,
      variants: FAULT_VARIANTS,
      row_variants: ROW_VARIANTS,
    },
    notes: {
      processes:
        'one nats-server for the whole run (-js, temporary store, monitoring port); per run of a library a fresh serving child (serve.ts) and calling child (call.ts), all on loopback',
      seq: `round trips one at a time after ${SEQ.warmup} warm-up ones: p50/p99 of ${SEQ.count}, each timed on its own; round trips/s over the ${SEQ.count}`,
      inflight: `${INFLIGHT.lanes} lanes each sending its next round trip when its last is answered, ${INFLIGHT.warmupS} s warm-up, then ${INFLIGHT.timedS} s timed`,
      tell: `${TELL.warmup} warm-up tells counted first; then tells in bursts of ${TELL.burst} with a setImmediate between bursts for ${TELL.timedS} s; the serving process counts them (raw: a subscription; weft: the actor; Moleculer: an event handler) and notes when it handled the last; received_per_s = received / (that time - the first send); the count is asked until it reaches the number sent or stops moving (3 asks 200 ms apart)`,
      pool: `as inflight with a remote call of x => x + 1 (checked); weft: a Pool of 1 thread served with node.serve (a NATS queue group); Moleculer: an action on the serving broker's main thread, on a second broker pair with disableBalancer: true (NATS queue groups)`,
      costs:
        'per operation over the timed part: CPU µs of the calling child, the serving child and the nats-server (/proc/<pid>/stat, 10 ms ticks), messages and payload bytes into the server (/varz in_msgs, in_bytes: payload only, not subjects or headers), slow consumers',
      others_pct:
        'per run: CPU used by everything else on the machine while the pair ran (/proc/stat busy minus the parent, both children and the nats-server), % of all cores',
      ...FAULT_NOTES,
    },
    results,
    membership: faults,
    targets: targetLines,
  };
  writeResults(out, json);

  const load = json.machine.load_average_start.join(' ');
  console.log(
    `\n## Cluster: weftjs/cluster vs Moleculer ${packageVersion('moleculer')} vs bare NATS (nats-server ${server.version} on loopback, ${PAYLOAD.length}-byte payload)`,
  );
  console.log(
    `\n${json.machine.cpu}, ${json.machine.cores} cores, Node ${process.version}, ${json.date.slice(0, 16).replace('T', ' ')} UTC; medians of ${o.runs} runs; ` +
      `other processes used ${allOthers.length ? median(allOthers).toFixed(1) : '?'} % of the machine (median of runs, max ${allOthers.length ? Math.max(...allOthers).toFixed(1) : '?'} %); load average at start ${load}`,
  );
  const w = weftSource({ short: true });
  if (w) console.log(`weft ${w.commit}${w.sources_modified ? ' (src/ or crate/ modified)' : ''}`);
  if (pairRows.length > 0) {
    console.log(`\n${mainTable(results, libs)}`);
    console.log('\nCost per operation (medians; CPU of each process over the timed part):\n');
    console.log(costTable(results, libs));
  }
  const ft = faultTable(faults);
  if (ft !== undefined) {
    console.log(
      `\nMembership (medians, range of the runs in brackets; ${NODEDOWN.lanes} asks in flight when the serving child is killed; ${RESTART.lanes} asking lanes when the nats-server is killed and started again ${RESTART.downS} s later):\n`,
    );
    console.log(ft);
  }
  console.log('\nTargets (SCALEOUT.md §3.7):\n');
  console.log(
    markdownTable(
      [['target', 'this run', 'met'], ...targetLines.map((t) => [t.target, t.this_run, t.met === null ? '—' : t.met ? 'yes' : 'no'])],
      ['l', 'l', 'l'],
    ),
  );
  for (const lib of libs) {
    const r = results[lib];
    if (r && 'error' in r) console.log(`\n${LIB_LABELS[lib]} failed: ${r.error.split('\n').slice(0, 6).join('\n')}`);
  }
  for (const line of faultFailures(faults)) console.log(`\n${line}`);
  console.log(`\nJSON: ${out} (${json.seconds} s)`);
  if (pairRows.length > 0 && measured.some((l) => !got(results, l))) process.exitCode = 1;
  if (Object.values(faults).some((r) => r && 'error' in r)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
