// The pool chaos suite (issue 13): tens of thousands of random tasks through Pools, with random
// aborts (before the flush, while queued, while running), worker crashes (process.exit, an
// uncaught error, terminateOnAbort), fork-join children (some of which crash their worker), a
// maxQueue pool that must keep accepting after crashes, and destroy() mid-flight. Each test
// logs one line per invariant with its counts and asserts on them.
//
// Bounded by default (20-25 s on a 2-core machine). Scale it up with WEFT_CHAOS_MS (time
// budget of the long phases) and/or WEFT_CHAOS_TASKS (task budget); replay a failure with the
// seed it logged: WEFT_CHAOS_SEED=<seed> npx ava __test__/adversarial/pool-chaos.spec.ts
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Pool, WeftError } from '../../src/index.js';
import { ROOT, lastJson } from '../helpers.js';
import {
  Chaos,
  InFlight,
  Kind,
  drained,
  fmt,
  settleWithin,
  type ChaosPool,
  type ChaosReport,
  type ChaosTasks,
  type Mix,
} from './fixtures/chaos-engine.js';
import { chaosSeed, prng } from './fixtures/chaos-shared.js';
import type { DestroyReport } from './fixtures/chaos-destroy.js';

const TASKS = join(__dirname, 'fixtures', 'chaos-tasks.ts');

/** A positive number from the environment, or undefined. */
function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
}

// Either budget alone lifts the other's default: WEFT_CHAOS_MS=600000 runs for 10 minutes.
const ENV_MS = envNumber('WEFT_CHAOS_MS');
const ENV_TASKS = envNumber('WEFT_CHAOS_TASKS');
const BUDGET_MS = ENV_MS ?? (ENV_TASKS !== undefined ? Number.POSITIVE_INFINITY : 16_000);
const BUDGET_TASKS = ENV_TASKS ?? (ENV_MS !== undefined ? Number.POSITIVE_INFINITY : 30_000);
/** Task ids for the whole file (fork children included): what the budget can use, at most 4 M. */
const CAPACITY = Number.isFinite(BUDGET_TASKS) ? Math.ceil(BUDGET_TASKS * 2) + 20_000 : 4_000_000;
/** Tasks that have not settled in this long count as hung. */
const SETTLE_TIMEOUT_MS = 15_000;
/** Tasks in flight in the mixed phase. */
const WINDOW = 3000;

const SEED = chaosSeed();
const rand = prng(SEED);
const chaos = new Chaos(CAPACITY, rand);

/**
 * The mixed phase: mostly tiny tasks, some slow, failing, crashing and fork-join ones. A worker
 * that dies is replaced by one that loads the task module again (a few hundred ms of CPU under
 * tsx): about one worker death per 3,000 tasks (crashing tasks, crashing children,
 * terminateOnAbort) keeps the default run near ten of them.
 */
const MIX: Mix = {
  crash: 0.0004,
  fork: 0.04,
  slow: 0.03,
  spin: 0.04,
  fail: 0.02,
  abort: 0.12,
  terminateOnAbort: 0.02,
  maxChildren: 6,
  childCrash: 0.002,
};

/** The maxQueue phase: rounds of maxQueue tasks (with a crashing task in every other one). */
const QUEUE_MIX: Mix = { ...MIX, fork: 0.05, abort: 0.15 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A pool for one test, destroyed when the test ends whatever happens. */
function makePool(t: ExecutionContext, options: { threads: number; maxQueue?: number }): ChaosPool {
  const pool = new Pool<ChaosTasks>({ module: TASKS, ...options });
  t.teardown(() => pool.destroy());
  return pool;
}

/** Logs one line per invariant with its counts, then asserts each one on those counts. */
function check(t: ExecutionContext, r: ChaosReport, opts: { closedAllowed?: boolean } = {}): void {
  const reported = r.tasks + r.childrenReported;
  const notes = (): string => `\n  ${r.notes.join('\n  ')}`;
  t.log(
    `tasks: ${fmt(r.tasks)} from the main thread + ${fmt(r.children)} fork-join children (${fmt(r.childrenReported)} reported by a resolved parent)`,
  );
  t.log(`settled exactly once: ${fmt(r.settledOnce)} / ${fmt(reported)} (never: ${r.neverSettled}, more than once: ${r.settledTwice})`);
  t.log(
    `values right: ${fmt(r.resolvedRight)} / ${fmt(r.resolved)} settled with a value; failing tasks rejected with their own error: ${fmt(r.failedRight)} / ${fmt(r.failTasks)}`,
  );
  t.log(
    `no task started twice: ${fmt(r.tasks + r.children - r.startedTwice)} / ${fmt(r.tasks + r.children)}; resolved tasks that ran exactly once: ${fmt(r.resolved - r.okButNotRunOnce)} / ${fmt(r.resolved)}`,
  );
  const a = r.abortStates;
  t.log(
    `no false abort: WEFT_ABORTED only for aborted tasks: ${fmt(r.rejectedAborted - r.falseAborts)} / ${fmt(r.rejectedAborted)}; ` +
      `aborted while pending rejected WEFT_ABORTED: ${fmt(r.abortedPendingRejected)} / ${fmt(r.abortedPending)} ` +
      `(before the flush ${a.beforeFlush}, not started ${a.notStarted}, running ${a.started}; aborted after settling ${a.afterSettle})`,
  );
  t.log(
    `crashes: crashing tasks rejected WEFT_WORKER_EXIT: ${fmt(r.crashRejected)} / ${fmt(r.crashTasks)} (${r.killedThreads} threads died so far); ` +
      `WEFT_WORKER_EXIT only for tasks started on a thread that died: ${fmt(r.workerExitsExplained)} / ${fmt(r.workerExits)} ` +
      `(${r.exitsBeforeEnter} of them stopped by terminate() before their first statement; ${r.terminations} terminateOnAbort kills)`,
  );
  t.log(
    `never-aborted tasks resolved or failed as documented: ${fmt(reported - r.unexplained)} / ${fmt(reported)}${opts.closedAllowed ? ` (WEFT_CLOSED by destroy(): ${fmt(r.closedExplained)})` : ''}`,
  );
  t.true(r.tasks > 0, 'tasks ran');
  t.is(r.settledOnce, reported, `settled exactly once${notes()}`);
  t.is(r.resolvedRight, r.resolved, `values right${notes()}`);
  t.is(r.startedTwice, 0, `no task started twice${notes()}`);
  t.is(r.okButNotRunOnce, 0, `resolved tasks ran exactly once${notes()}`);
  t.is(r.falseAborts, 0, `no false abort${notes()}`);
  t.is(r.abortedPendingRejected, r.abortedPending, `an aborted pending task rejects WEFT_ABORTED${notes()}`);
  t.is(r.workerExitsExplained, r.workerExits, `WEFT_WORKER_EXIT only for tasks started on a thread that died${notes()}`);
  t.is(r.unexplained, 0, `never-aborted tasks settle as documented${notes()}`);
  t.is(r.queueFull, 0, `no WEFT_QUEUE_FULL${notes()}`);
  if (!opts.closedAllowed) t.is(r.closed, 0, `no WEFT_CLOSED${notes()}`);
}

test.before((t) => {
  t.log(`seed ${SEED} (replay: WEFT_CHAOS_SEED=${SEED}); budget ${BUDGET_MS} ms, ${BUDGET_TASKS} tasks`);
});

test.serial('chaos: random tasks, aborts, crashes and fork-join children; then destroy() mid-flight', async (t) => {
  if (Number.isFinite(BUDGET_MS)) t.timeout(BUDGET_MS * 2 + 60_000);
  else t.timeout(60 * 60_000);
  const threads = 3 + Math.floor(rand() * 2);
  const pool = makePool(t, { threads });
  const from = chaos.next;
  const t0 = Date.now();
  const deadline = t0 + BUDGET_MS * 0.75;
  const taskBudget = BUDGET_TASKS * 0.85;
  // Bursts of 50-800 tasks while fewer than WINDOW are pending (a random pause now and then).
  const inFlight = new InFlight();
  let stalled = false;
  let bursts = 0;
  while (Date.now() < deadline && chaos.next - from < taskBudget && chaos.hasRoom(MIX)) {
    const n = 50 + Math.floor(rand() * 750);
    for (let i = 0; i < n && chaos.hasRoom(MIX); i++) inFlight.add(chaos.submit(pool, MIX));
    bursts++;
    if (!(await inFlight.below(WINDOW, SETTLE_TIMEOUT_MS))) {
      stalled = true;
      break;
    }
    if (rand() < 0.2) await sleep(Math.floor(rand() * 3));
    else await new Promise((resolve) => setImmediate(resolve));
  }
  const allSettled = await inFlight.below(0, SETTLE_TIMEOUT_MS);
  const afterSettle = await drained(pool, 3000);
  const ms = Date.now() - t0;
  const to = chaos.next;
  const restarts = pool.stats().workers.reduce((n, w) => n + w.restarts, 0);
  t.log(
    `${threads} threads, ${bursts} bursts in ${fmt(ms)} ms, ${restarts} worker restarts; a task did not settle within ${SETTLE_TIMEOUT_MS} ms: ${stalled || !allSettled}`,
  );
  check(t, chaos.summarize(from, to));
  t.log(`stats after settling: queued ${afterSettle.queued}, running ${afterSettle.running} (after ${afterSettle.waitedMs} ms)`);
  t.false(stalled, 'tasks in flight kept settling');
  t.true(allSettled, 'every task settled in time');
  t.is(afterSettle.queued, 0, 'stats().queued back to 0');
  t.is(afterSettle.running, 0, 'stats().running back to 0');

  // destroy() mid-flight: a last burst, destroyed while parts of it are queued and running.
  const burstFrom = chaos.next;
  const burst: Array<Promise<void>> = [];
  for (let i = 0; i < 2000 && chaos.hasRoom(MIX); i++) burst.push(chaos.submit(pool, { ...MIX, slow: 0.2 }));
  await sleep(1 + Math.floor(rand() * 15));
  chaos.destroyed = true;
  const destroyed = await settleWithin([pool.destroy()], 10_000);
  const burstSettled = await settleWithin(burst, 10_000);
  const after = await pool.run('work', 0, 0).then(
    () => 'resolved',
    (e: unknown) => (e instanceof WeftError ? e.code : String(e)),
  );
  t.log(
    `destroy() mid-flight: resolved in time: ${destroyed}; every pending promise settled in time: ${burstSettled}; run() afterwards: ${after}`,
  );
  const d = chaos.summarize(burstFrom, chaos.next, true);
  t.log(
    `destroy() mid-flight: settled exactly once: ${fmt(d.settledOnce)} / ${fmt(d.tasks + d.childrenReported)}; ` +
      `settled after destroy() with WEFT_CLOSED: ${fmt(d.closedExplained)}, with something else: ${chaos.settledAfterDestroyNotClosed}`,
  );
  chaos.destroyed = false;
  t.true(destroyed, 'destroy() resolved');
  t.true(burstSettled, 'every pending promise settled after destroy()');
  t.is(after, 'WEFT_CLOSED');
  t.is(chaos.settledAfterDestroyNotClosed, 0, `what was pending at destroy() rejected WEFT_CLOSED\n  ${chaos.notes.join('\n  ')}`);
  check(t, d, { closedAllowed: true });
});

test.serial('chaos: a maxQueue pool keeps accepting work after crashes', async (t) => {
  if (Number.isFinite(BUDGET_MS)) t.timeout(BUDGET_MS + 60_000);
  else t.timeout(60 * 60_000);
  const maxQueue = 64;
  const pool = makePool(t, { threads: 3, maxQueue });
  const from = chaos.next;
  const t0 = Date.now();
  // At least MIN_ROUNDS rounds, more while the budget lasts (and the hard deadline allows).
  const deadline = t0 + BUDGET_MS * 0.2;
  const hardDeadline = t0 + Math.max(BUDGET_MS * 0.3, 20_000);
  const taskBudget = BUDGET_TASKS * 0.15;
  const MIN_ROUNDS = 12;
  let rounds = 0;
  let notDrained = 0;
  let hung = 0;
  let crashRounds = 0;
  const more = (): boolean =>
    chaos.hasRoom(QUEUE_MIX) &&
    Date.now() < hardDeadline &&
    (rounds < MIN_ROUNDS || (Date.now() < deadline && chaos.next - from < taskBudget));
  while (more()) {
    // Once the queue drained, a round of exactly maxQueue tasks, submitted in one tick, must
    // all be accepted: every WEFT_QUEUE_FULL is a counter the crashes left behind.
    const before = await drained(pool, 3000);
    if (before.queued !== 0 || before.running !== 0) {
      notDrained++;
      break;
    }
    const roundFrom = chaos.next;
    const tracked: Array<Promise<void>> = [];
    // Every other round has a crashing task, at a random place in the round.
    const crashAt = rounds % 2 === 0 ? Math.floor(rand() * maxQueue) : -1;
    for (let i = 0; i < maxQueue; i++) tracked.push(chaos.submit(pool, QUEUE_MIX, i === crashAt ? Kind.Crash : undefined));
    if (!(await settleWithin(tracked, SETTLE_TIMEOUT_MS))) {
      hung++;
      break;
    }
    rounds++;
    for (let id = roundFrom; id < chaos.next; id++) {
      if (chaos.kind[id] === Kind.Crash && Atomics.load(chaos.ledger.started, id) > 0) {
        crashRounds++;
        break;
      }
    }
  }
  const after = await drained(pool, 3000);
  const restarts = pool.stats().workers.reduce((n, w) => n + w.restarts, 0);
  t.log(
    `maxQueue ${maxQueue}: ${rounds} rounds of ${maxQueue} tasks in ${fmt(Date.now() - t0)} ms, ${crashRounds} of them with a crash, ${restarts} worker restarts`,
  );
  const r = chaos.summarize(from, chaos.next);
  t.log(
    `accepted after crashes (no WEFT_QUEUE_FULL once drained): ${fmt(r.tasks - r.queueFull)} / ${fmt(r.tasks)}; queue drained before every round: ${notDrained === 0}`,
  );
  t.log(`stats after settling: queued ${after.queued}, running ${after.running}`);
  check(t, r);
  t.true(crashRounds > 0, 'some rounds had a crash');
  t.is(notDrained, 0, 'the queue drained between rounds');
  t.is(hung, 0, 'every round settled in time');
  t.is(after.queued, 0, 'stats().queued back to 0');
  t.is(after.running, 0, 'stats().running back to 0');
});

test.serial('chaos: destroy() mid-flight in a child process: every promise settles WEFT_CLOSED and the process exits', (t) => {
  const t0 = Date.now();
  const child = spawnSync(process.execPath, ['--import=tsx', join(__dirname, 'fixtures', 'chaos-destroy.ts'), String(SEED)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const ms = Date.now() - t0;
  t.is(child.signal, null, `the child did not exit by itself within 60 s\n${child.stderr}`);
  t.is(child.status, 0, child.stderr);
  const report = lastJson<DestroyReport>({ status: child.status, signal: child.signal, stdout: child.stdout, stderr: child.stderr });
  const exitLag = Date.now() - report.doneAt;
  t.log(`child ran ${fmt(ms)} ms, exited ${exitLag} ms after its last line`);
  for (const m of report.modes) {
    const r = m.report;
    t.log(
      `destroy() ${m.mode}: destroy() resolved in ${m.destroyMs} ms; settled exactly once: ${fmt(r.settledOnce)} / ${fmt(r.tasks + r.childrenReported)} ` +
        `(within the bound: ${m.allSettled}); pending at destroy() rejected WEFT_CLOSED: ${fmt(r.closedExplained)}, settled otherwise after destroy(): ${m.settledAfterDestroyNotClosed}; run() afterwards: ${m.runAfter}`,
    );
    t.true(m.destroyMs >= 0, `${m.mode}: destroy() resolved within the bound`);
    t.true(m.allSettled, `${m.mode}: every promise settled within the bound`);
    t.is(m.settledAfterDestroyNotClosed, 0, `${m.mode}: ${r.notes.join('; ')}`);
    t.is(m.runAfter, 'WEFT_CLOSED', m.mode);
    t.true(r.closedExplained > 0, `${m.mode}: destroy() found tasks pending`);
    check(t, r, { closedAllowed: true });
  }
  t.true(exitLag < 5_000, `the process exited ${exitLag} ms after its work ended`);
});
