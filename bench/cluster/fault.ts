/**
 * The calling child of the membership rows of the cluster bench (index.ts starts it, with a
 * serving child of the same variant): one run of one row, the result as one `@@result <json>`
 * line on stdout:
 *
 *   node --import=tsx bench/cluster/fault.ts <nodedown|restart> <variant> <url> --tag T [--serve-pid N]
 *
 * nodedown  NODEDOWN.lanes lanes of echo asks (each sends its next when its last settled) for the
 *           variant's steadyS (over a heartbeat interval); then the lanes stop, NODEDOWN.lanes
 *           `hold` asks go out (the serving side would answer them after NODEDOWN.holdMs), and
 *           NODEDOWN.holdLeadMs later this process kills the serving child (SIGKILL to
 *           --serve-pid). Measured from the kill: the caller's node-down event (weft `nodeDown`,
 *           Moleculer `$node.disconnected`) and the settling of the last ask that was in flight;
 *           their outcomes by code; issued = answered + failed, none left.
 * restart   RESTART.lanes lanes of asks (timeout RESTART.askTimeoutMs; after a failure a lane waits
 *           RESTART.errorPauseMs) and one more ask every RESTART.probeMs (open loop: new traffic
 *           while the lanes may wait for lost asks) for RESTART.warmupS; then `@@loaded` on stdout: the parent kills
 *           the nats-server (SIGKILL), starts it again RESTART.downS later on the same port and
 *           store, and writes `@@restarted {killAt, exitAt, spawnAt, readyAt}` on this child's stdin. The
 *           lanes go on until RESTART.afterS after the first ask answered after the new server
 *           started, then stop; every ask is waited for. Measured: server ready → that first answer,
 *           outcomes by code of the asks in flight at the kill, of those sent while the server was
 *           away, of all; issued = answered + failed, none left.
 * Times are ms since the epoch (performance.timeOrigin + now), comparable with the parent's.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { childMain, parseBenchArgs, progress, withTimeout } from '../harness/index.js';
import { codeOf, type DownInfo, type FaultCallSide, faultCallSide } from './faults.js';
import {
  FAULT_ROWS,
  FAULT_VARIANTS,
  type FaultResult,
  LOADED_MARK,
  NODEDOWN,
  RESTART,
  RESTARTED_MARK,
  VARIANTS,
  type Variant,
} from './params.js';

const { values: o, positionals } = parseBenchArgs({
  usage: 'node --import=tsx bench/cluster/fault.ts <row> <variant> <url> [flags]',
  description: 'The calling side of one membership row of bench/cluster (node down, broker restart): one run, the result as JSON.',
  flags: {
    tag: { type: 'string', arg: 'TAG', help: "this run's names: nodes serve-TAG and call-TAG, actor echo-TAG" },
    'serve-pid': { type: 'int', arg: 'PID', help: 'the serving child (nodedown kills it)' },
  },
  positionals: [{ name: 'row', choices: FAULT_ROWS }, { name: 'variant', choices: VARIANTS }, { name: 'url' }],
});
const [row, variant, url] = positionals as [FaultResult['row'], Variant, string];

const now = (): number => performance.timeOrigin + performance.now();
const ms = (x: number): number => Number(x.toFixed(1));

/** Every ask: when it was sent and settled, and how (`ok` or its error's code). */
class Asks {
  readonly sentAt: number[] = [];
  readonly settledAt: number[] = [];
  readonly outcome: string[] = [];
  bad = 0;

  /** Sends one ask (`op`); resolves (never rejects) when it settled, with whether it was answered. */
  async one(op: () => Promise<unknown>, check: (reply: unknown) => boolean): Promise<boolean> {
    const k = this.sentAt.length;
    this.sentAt.push(now());
    this.settledAt.push(Number.NaN);
    this.outcome.push('');
    try {
      const r = await op();
      this.settledAt[k] = now();
      this.outcome[k] = 'ok';
      if (!check(r)) this.bad++;
      return true;
    } catch (err) {
      this.settledAt[k] = now();
      this.outcome[k] = codeOf(err);
      return false;
    }
  }

  get issued(): number {
    return this.sentAt.length;
  }

  /** Outcomes by code of the asks `pick` selects; unsettled ones as `unsettled`. */
  count(pick: (k: number) => boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (let k = 0; k < this.sentAt.length; k++) {
      if (!pick(k)) continue;
      const c = this.outcome[k] || 'unsettled';
      out[c] = (out[c] ?? 0) + 1;
    }
    return out;
  }

  totals(): { issued: number; ok: number; errors: number; unsettled: number } {
    const all = this.count(() => true);
    const ok = all.ok ?? 0;
    const unsettled = all.unsettled ?? 0;
    return { issued: this.issued, ok, errors: this.issued - ok - unsettled, unsettled };
  }
}

/** Resolves with the serving node's down event and when it came. */
function downEvent(side: FaultCallSide): Promise<{ at: number; info: DownInfo }> {
  return new Promise((resolve) => side.onDown((info) => resolve({ at: now(), info })));
}

async function nodeDown(side: FaultCallSide): Promise<Omit<FaultResult, 'child_seconds' | 'child_cpu_s'>> {
  const servePid = o['serve-pid'];
  if (servePid === undefined) throw new Error('nodedown needs --serve-pid');
  const down = downEvent(side);
  const asks = new Asks();
  const steadyS = FAULT_VARIANTS[variant].steadyS;
  // Load: echo asks, until the caller has heard the serving node's heartbeats for a while.
  let stop = false;
  const ask = (): Promise<unknown> => side.ask(NODEDOWN.askTimeoutMs);
  const echo = (r: unknown): boolean => side.checkReply(r);
  const lane = async (): Promise<void> => {
    while (!stop) await asks.one(ask, echo);
  };
  const lanes = Array.from({ length: NODEDOWN.lanes }, () => lane());
  await sleep(steadyS * 1e3);
  stop = true;
  await withTimeout(Promise.all(lanes), 30_000, 'nodedown', 'the echo asks before the kill did not settle');
  // Asks that the serving side has received and will not have answered: then the kill.
  const hold = (): Promise<unknown> => side.hold(NODEDOWN.holdMs, NODEDOWN.askTimeoutMs);
  const held = Array.from({ length: NODEDOWN.lanes }, () => asks.one(hold, (r) => r === NODEDOWN.holdMs));
  await sleep(NODEDOWN.holdLeadMs);
  const byNode = side.inFlightByNode();
  const killAt = now();
  process.kill(servePid, 'SIGKILL');
  const inFlight = (k: number): boolean => asks.sentAt[k]! <= killAt && !(asks.settledAt[k]! <= killAt);
  const atKill = asks.count(inFlight).unsettled ?? 0;
  progress(`killed the serving child (pid ${servePid}) with ${atKill} asks in flight`);
  const limit = NODEDOWN.askTimeoutMs + 10_000;
  await withTimeout(Promise.all(held), limit, 'nodedown', 'asks still in flight');
  const settledAt = Math.max(...asks.settledAt.filter((_, k) => inFlight(k)));
  const d = await withTimeout(down, 30_000, 'nodedown', 'no node-down event (30 s after the asks settled)').catch(() => undefined);
  const t = asks.totals();
  const metrics: Record<string, number> = {
    inflight_at_kill: atKill,
    ...(d === undefined ? {} : { detect_ms: ms(d.at - killAt) }),
    settle_ms: ms(settledAt - killAt),
    issued: t.issued,
    ok: t.ok,
    errors: t.errors,
    unsettled: t.unsettled,
    bad_replies: asks.bad,
  };
  progress(
    `node down: event ${d === undefined ? 'none' : `${metrics.detect_ms} ms`} after the kill, last in-flight ask settled after ${metrics.settle_ms} ms; ${JSON.stringify(asks.count(inFlight))}`,
  );
  return {
    row,
    variant,
    lib: FAULT_VARIANTS[variant].lib,
    version: side.version,
    metrics,
    outcomes: { inflight_at_kill: asks.count(inFlight), all: asks.count(() => true) },
    info: { setup: side.setup, down_event: d?.info ?? null, in_flight_by_node_before_kill: byNode ?? null },
  };
}

/** The parent's line on stdin after the restart. */
function restarted(): Promise<{ killAt: number; exitAt: number; spawnAt: number; readyAt: number }> {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith(RESTARTED_MARK));
      if (line !== undefined) resolve(JSON.parse(line.slice(RESTARTED_MARK.length)));
    });
  });
}

async function restart(side: FaultCallSide): Promise<Omit<FaultResult, 'child_seconds' | 'child_cpu_s'>> {
  const control = restarted();
  const asks = new Asks();
  let stop = false;
  const ask = (): Promise<unknown> => side.ask(RESTART.askTimeoutMs);
  const echo = (r: unknown): boolean => side.checkReply(r);
  const lane = async (): Promise<void> => {
    while (!stop) if (!(await asks.one(ask, echo))) await sleep(RESTART.errorPauseMs);
  };
  const lanes = Array.from({ length: RESTART.lanes }, () => lane());
  // And one ask every probeMs whatever the lanes wait for: new traffic, which lanes stuck on
  // asks that the server lost (until their timeout) would not send.
  const probes: Promise<boolean>[] = [];
  const probing = setInterval(() => probes.push(asks.one(ask, echo)), RESTART.probeMs);
  await sleep(RESTART.warmupS * 1e3);
  process.stdout.write(`${LOADED_MARK}\n`);
  const c = await withTimeout(control, 60_000, 'restart', `no ${RESTARTED_MARK} from the parent`);
  // The first ask answered after the new server process started (nothing can be answered while there is none).
  const firstOk = (): number | undefined => {
    let best: number | undefined;
    for (let k = 0; k < asks.sentAt.length; k++) {
      const s = asks.settledAt[k]!;
      if (asks.outcome[k] === 'ok' && s > c.spawnAt && (best === undefined || s < best)) best = s;
    }
    return best;
  };
  const deadline = c.readyAt + 30_000;
  let first = firstOk();
  while (first === undefined && now() < deadline) {
    await sleep(5);
    first = firstOk();
  }
  if (first !== undefined) await sleep(Math.max(0, first + RESTART.afterS * 1e3 - now()));
  stop = true;
  clearInterval(probing);
  await withTimeout(Promise.all([...lanes, ...probes]), RESTART.askTimeoutMs + 10_000, 'restart', 'asks still in flight').catch(
    (e: unknown) => progress(String(e)),
  );
  // Answers still come for a millisecond or two after the signal (while the kernel ends the
  // process), and a client may see its connection drop before the parent sees the exit. So the
  // cut is the earlier of the exit seen and the first failure after the signal; the asks in
  // flight at the kill are those sent before the cut that the old server did not answer.
  let cut = c.exitAt;
  for (let k = 0; k < asks.sentAt.length; k++) {
    const s = asks.settledAt[k]!;
    if (asks.outcome[k] !== 'ok' && s > c.killAt && s < cut) cut = s;
  }
  const oldAnswer = (k: number): boolean => asks.outcome[k] === 'ok' && asks.settledAt[k]! < c.spawnAt;
  const inFlight = (k: number): boolean => asks.sentAt[k]! < cut && !oldAnswer(k) && !(asks.settledAt[k]! <= c.killAt);
  const end = first ?? Number.POSITIVE_INFINITY;
  const whileDown = (k: number): boolean => asks.sentAt[k]! >= cut && asks.sentAt[k]! < end;
  const inFlightSettled = asks.settledAt.filter((_, k) => inFlight(k));
  const t = asks.totals();
  const atKill = asks.count(inFlight);
  const metrics: Record<string, number> = {
    ...(first === undefined ? {} : { recover_ms: ms(first - c.readyAt), kill_to_ok_ms: ms(first - c.killAt) }),
    down_ms: ms(c.readyAt - c.killAt),
    inflight_at_kill: Object.values(atKill).reduce((x, y) => x + y, 0),
    ...(inFlightSettled.length === 0 ? {} : { inflight_settle_ms: ms(Math.max(...inFlightSettled) - c.killAt) }),
    cut_ms: ms(cut - c.killAt),
    exit_seen_ms: ms(c.exitAt - c.killAt),
    issued: t.issued,
    ok: t.ok,
    errors: t.errors,
    unsettled: t.unsettled,
    bad_replies: asks.bad,
  };
  progress(
    `restart: server ready ${metrics.down_ms} ms after the kill, first answer ${first === undefined ? 'never' : `${metrics.recover_ms} ms after ready`}; at the kill ${JSON.stringify(atKill)}, while down ${JSON.stringify(asks.count(whileDown))}; ${t.issued} issued = ${t.ok} ok + ${t.errors} errors (+${t.unsettled} unsettled)`,
  );
  return {
    row,
    variant,
    lib: FAULT_VARIANTS[variant].lib,
    version: side.version,
    metrics,
    outcomes: { inflight_at_kill: atKill, while_down: asks.count(whileDown), all: asks.count(() => true) },
    info: { setup: side.setup, times: c },
  };
}

childMain({ row, variant, lib: FAULT_VARIANTS[variant].lib }, async (atExit) => {
  const tag = o.tag ?? String(process.pid);
  const side = await faultCallSide(variant, url, tag);
  atExit(() => side.close());
  await side.ready();
  return row === 'nodedown' ? nodeDown(side) : restart(side);
});
