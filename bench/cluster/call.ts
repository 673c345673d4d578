/**
 * The calling child of the cluster bench: one run of every row of one library against a serving
 * child that the parent started (bench/cluster/index.ts), the result as one `@@result <json>` line
 * on stdout:
 *
 *   node --import=tsx bench/cluster/call.ts <lib> <url> [--rows seq,inflight,tell,pool]
 *        [--serve-pid N --nats-pid N --varz URL]
 *
 * (The membership rows, nodedown and restart, are fault.ts's.)
 *
 * The same timing code for every library (adapters.ts gives each library's ask, tell, count and
 * pool call):
 *   seq       SEQ.warmup round trips, then SEQ.count one at a time, each timed: p50, p99, round trips/s;
 *   inflight  INFLIGHT.lanes lanes, each sending its next round trip when its last is answered:
 *             warm-up, then round trips/s (and each one's latency: p50, p99) for INFLIGHT.timedS;
 *   tell      TELL.warmup tells (counted by the server before the timed part), then tells in bursts
 *             of TELL.burst with a setImmediate between bursts for TELL.timedS; then the serving
 *             process's count is asked until it reaches the number sent or stops moving: sent,
 *             received, dropped, sent/s and received/s (received over the time from the first
 *             send to the serving process's handling of the last one);
 *   pool      as inflight, with the remote pool call inc(i) (checked: i + 1).
 * Around each timed part: this process's CPU, the serving child's and the nats-server's (from
 * /proc/<pid>/stat, when their pids are given), and the server's message and byte counters
 * (`/varz`, when its URL is given): CPU µs and messages and bytes through the server per operation.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { childMain, flags, parseBenchArgs, processCpuSeconds, progress, quantileSorted } from '../harness/index.js';
import { type CallSide, callSide } from './adapters.js';
import { type CallResult, INFLIGHT, LIBS, LIB_ROWS, PAIR_ROWS, type PairRow, POOL, SEQ, TELL } from './params.js';
import { Profiler } from './profile.js';
import type { Varz } from './server.js';

const { values: o, positionals } = parseBenchArgs({
  usage: 'node --import=tsx bench/cluster/call.ts <lib> <url> [flags]',
  description: 'The calling side of one library for bench/cluster: one run of its rows against a serving child, the result as JSON.',
  flags: {
    rows: flags.list(PAIR_ROWS, 'rows to run (those the library has)'),
    'serve-pid': { type: 'int', arg: 'PID', help: "the serving child's pid (its CPU per operation)" },
    'nats-pid': { type: 'int', arg: 'PID', help: "the nats-server's pid (its CPU per operation)" },
    varz: { type: 'string', arg: 'URL', help: "the nats-server's /varz (messages and bytes per operation)" },
    profile: {
      type: 'string',
      arg: 'DIR',
      help: 'CPU profiles of the timed parts, of this process and (SIGUSR2 to --serve-pid) of the serving child, into DIR',
    },
  },
  positionals: [{ name: 'lib', choices: LIBS }, { name: 'url' }],
});
const [lib, url] = positionals;

const ownCpuS = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

async function varz(): Promise<Varz | undefined> {
  if (o.varz === undefined) return undefined;
  try {
    return (await (await fetch(o.varz)).json()) as Varz;
  } catch {
    return undefined;
  }
}

interface Probe {
  own: number;
  serve: number | undefined;
  nats: number | undefined;
  varz: Varz | undefined;
}

async function probe(): Promise<Probe> {
  return { own: ownCpuS(), serve: processCpuSeconds(o['serve-pid']), nats: processCpuSeconds(o['nats-pid']), varz: await varz() };
}

const profiler = o.profile === undefined ? undefined : new Profiler(o.profile, `${lib}-%s-call`);

/** Where a row's timed part begins: the counters, and with --profile both profilers started. */
async function begin(): Promise<Probe> {
  if (profiler !== undefined) {
    if (o['serve-pid'] !== undefined) process.kill(o['serve-pid'], 'SIGUSR2');
    await profiler.start();
  }
  return probe();
}

/** Where it ends: the counters first, then with --profile both profiles written. */
async function end(row: PairRow): Promise<Probe> {
  const p = await probe();
  if (profiler !== undefined) {
    if (o['serve-pid'] !== undefined) process.kill(o['serve-pid'], 'SIGUSR2');
    progress(`profile: ${await profiler.stop(row)}`);
  }
  return p;
}

/** CPU µs per operation in each process, messages and bytes into the server per operation, slow consumers. */
function costs(prefix: string, a: Probe, b: Probe, ops: number): Record<string, number> {
  const out: Record<string, number> = {};
  const per = (x: number): number => Number(((x * 1e6) / ops).toFixed(2));
  out[`${prefix}_cpu_caller_us`] = per(b.own - a.own);
  if (a.serve !== undefined && b.serve !== undefined) out[`${prefix}_cpu_serve_us`] = per(b.serve - a.serve);
  if (a.nats !== undefined && b.nats !== undefined) out[`${prefix}_cpu_nats_us`] = per(b.nats - a.nats);
  if (a.varz && b.varz) {
    out[`${prefix}_server_msgs_per_op`] = Number(((b.varz.in_msgs - a.varz.in_msgs) / ops).toFixed(3));
    out[`${prefix}_server_bytes_per_op`] = Number(((b.varz.in_bytes - a.varz.in_bytes) / ops).toFixed(1));
    out[`${prefix}_slow_consumers`] = b.varz.slow_consumers - a.varz.slow_consumers;
  }
  return out;
}

function latencyFigures<P extends string>(prefix: P, lat: number[]): Record<`${P}_p50_us` | `${P}_p99_us`, number> {
  const s = lat.sort((x, y) => x - y);
  return {
    [`${prefix}_p50_us`]: Number((quantileSorted(s, 0.5) * 1e3).toFixed(1)),
    [`${prefix}_p99_us`]: Number((quantileSorted(s, 0.99) * 1e3).toFixed(1)),
  } as Record<`${P}_p50_us` | `${P}_p99_us`, number>;
}

async function seqRow(side: CallSide): Promise<Record<string, number>> {
  for (let i = 0; i < SEQ.warmup; i++) {
    const r = await side.ask();
    if (i === 0 && !side.checkReply(r)) throw new Error(`seq: the reply is not the payload: ${String(r).slice(0, 80)}`);
  }
  const lat = new Array<number>(SEQ.count);
  const a = await begin();
  const t0 = performance.now();
  for (let i = 0; i < SEQ.count; i++) {
    const t = performance.now();
    await side.ask();
    lat[i] = performance.now() - t;
  }
  const elapsed = performance.now() - t0;
  const b = await end('seq');
  const m = { ...latencyFigures('seq', lat), seq_rt_per_s: Math.round(SEQ.count / (elapsed / 1e3)), ...costs('seq', a, b, SEQ.count) };
  progress(`seq: p50 ${m.seq_p50_us} µs, p99 ${m.seq_p99_us} µs, ${m.seq_rt_per_s} round trips/s`);
  return m;
}

/** `lanes` loops of `op` for `timedS` after `warmupS` of the same: ops/s and each op's latency. */
async function lanesOf(
  row: PairRow,
  op: (i: number) => Promise<unknown>,
  check: (i: number, r: unknown) => boolean,
  lanes: number,
  warmupS: number,
  timedS: number,
): Promise<{ count: number; elapsedMs: number; lat: number[]; a: Probe; b: Probe }> {
  let i = 0;
  let bad = 0;
  const run = async (untilMs: number, lat: number[] | undefined): Promise<number> => {
    let n = 0;
    while (performance.now() < untilMs) {
      const k = i++;
      const t = performance.now();
      const r = await op(k);
      if (lat !== undefined) lat.push(performance.now() - t);
      if (!check(k, r)) bad++;
      n++;
    }
    return n;
  };
  const warmEnd = performance.now() + warmupS * 1e3;
  await Promise.all(Array.from({ length: lanes }, () => run(warmEnd, undefined)));
  const a = await begin();
  const lat: number[] = [];
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: lanes }, () => run(t0 + timedS * 1e3, lat)));
  const elapsedMs = performance.now() - t0;
  const b = await end(row);
  if (bad > 0) throw new Error(`${bad} replies were not what was sent`);
  return { count: counts.reduce((x, y) => x + y, 0), elapsedMs, lat, a, b };
}

async function inflightRow(side: CallSide): Promise<Record<string, number>> {
  const r = await lanesOf(
    'inflight',
    () => side.ask(),
    (_i, reply) => side.checkReply(reply),
    INFLIGHT.lanes,
    INFLIGHT.warmupS,
    INFLIGHT.timedS,
  );
  const m = {
    inflight_rt_per_s: Math.round(r.count / (r.elapsedMs / 1e3)),
    ...latencyFigures('inflight', r.lat),
    ...costs('inflight', r.a, r.b, r.count),
  };
  progress(`${INFLIGHT.lanes} in flight: ${m.inflight_rt_per_s} round trips/s, p50 ${m.inflight_p50_us} µs, p99 ${m.inflight_p99_us} µs`);
  return m;
}

async function poolRow(side: CallSide): Promise<Record<string, number>> {
  const call = side.poolCall!;
  const r = await lanesOf(
    'pool',
    (i) => call(i),
    (i, v) => v === i + 1,
    POOL.lanes,
    POOL.warmupS,
    POOL.timedS,
  );
  const m = {
    pool_calls_per_s: Math.round(r.count / (r.elapsedMs / 1e3)),
    ...latencyFigures('pool', r.lat),
    ...costs('pool', r.a, r.b, r.count),
  };
  progress(`pool, ${POOL.lanes} in flight: ${m.pool_calls_per_s} calls/s, p50 ${m.pool_p50_us} µs`);
  return m;
}

/** Asks the serving side's count until it reaches `target` or has not moved for 3 asks 200 ms apart (at most TELL.settleS). */
async function settledCount(side: CallSide, target: number): Promise<{ count: number; lastAt: number }> {
  const deadline = performance.now() + TELL.settleS * 1e3;
  let last = await side.sinkCount!();
  let still = 0;
  while (last.count < target && still < 3 && performance.now() < deadline) {
    await sleep(200);
    const c = await side.sinkCount!();
    still = c.count === last.count ? still + 1 : 0;
    last = c;
  }
  return last;
}

async function tellRow(side: CallSide): Promise<Record<string, number>> {
  const tell = side.tell!;
  for (let i = 0; i < TELL.warmup; i++) {
    tell();
    if (i % TELL.burst === TELL.burst - 1) await immediate();
  }
  const base = (await settledCount(side, TELL.warmup)).count;
  const a = await begin();
  const start = performance.now();
  const startEpoch = performance.timeOrigin + start;
  const until = start + TELL.timedS * 1e3;
  let sent = 0;
  while (performance.now() < until) {
    for (let i = 0; i < TELL.burst; i++) tell();
    sent += TELL.burst;
    await immediate();
  }
  const sendMs = performance.now() - start;
  const last = await settledCount(side, base + sent);
  const b = await end('tell');
  const received = last.count - base;
  const m = {
    tell_sent: sent,
    tell_received: received,
    tell_dropped: sent - received,
    tell_sent_per_s: Math.round(sent / (sendMs / 1e3)),
    tell_received_per_s: received > 0 ? Math.round(received / ((last.lastAt - startEpoch) / 1e3)) : 0,
    tell_drain_ms: Number((last.lastAt - startEpoch - sendMs).toFixed(1)),
    ...costs('tell', a, b, Math.max(1, received)),
  };
  progress(`tells: ${sent} sent (${m.tell_sent_per_s}/s), ${received} received (${m.tell_received_per_s}/s), ${m.tell_dropped} dropped`);
  return m;
}

childMain({ lib }, async (atExit) => {
  const side = await callSide(lib, url);
  atExit(() => side.close());
  const rows = o.rows.filter((r: PairRow) => LIB_ROWS[lib].includes(r));
  let metrics: Record<string, number> = {};
  for (const row of rows) {
    if (row === 'seq') metrics = { ...metrics, ...(await seqRow(side)) };
    else if (row === 'inflight') metrics = { ...metrics, ...(await inflightRow(side)) };
    else if (row === 'tell') metrics = { ...metrics, ...(await tellRow(side)) };
    else metrics = { ...metrics, ...(await poolRow(side)) };
  }
  return { lib, version: side.version, metrics, info: { setup: side.setup, rows } } satisfies Omit<
    CallResult,
    'child_seconds' | 'child_cpu_s'
  >;
});
