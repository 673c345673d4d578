// Pool behaviour that needs a process of its own: exiting while a pool is open, a million-task
// soak with an RSS bound, and a crash soak.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, lastJson, runChild } from '../helpers.js';

/** Runs a fixture under tsx with a short timeout; returns the result and the wall time. */
function runQuick(
  fixture: string,
  args: string[],
  timeoutMs: number,
): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import=tsx', join(__dirname, '..', 'fixtures', fixture), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

for (const mode of ['one-task', 'no-task', 'after-crash', 'idle-timeout', 'fork-join']) {
  test(`an idle pool does not keep the process alive (${mode}; never closed)`, (t) => {
    const r = runQuick('pool-idle.ts', [mode], 15_000);
    t.log(`exited after ${r.ms} ms`);
    t.is(r.signal, null, `killed by ${String(r.signal)} after ${r.ms} ms: the process did not exit by itself\n${r.stderr}`);
    t.is(r.status, 0, r.stderr);
    const report = lastJson<{ value?: number; crash?: string; after?: number; pfib?: number; ms: number }>(r);
    if (mode !== 'no-task') t.is(report.value, 42);
    if (mode === 'after-crash') {
      t.is(report.crash, 'WEFT_WORKER_EXIT');
      t.is(report.after, 3);
    }
    if (mode === 'fork-join') t.is(report.pfib, 6765);
    // Node start + tsx + workers take about a second here; the process must not linger after.
    t.true(r.ms - report.ms < 5_000, `exited ${r.ms - report.ms} ms after the last task`);
  });
}

test('process.exit(0) while pool tasks are running exits at once and cleanly', (t) => {
  const r = runQuick('pool-idle.ts', ['exit-busy'], 15_000);
  t.log(`exited after ${r.ms} ms`);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  const report = lastJson<{ running: number }>(r);
  t.true(report.running >= 2, `tasks were running: ${report.running}`);
  t.true(r.ms < 4_000, `took ${r.ms} ms (the spinning tasks run for 5 s)`);
});

interface SoakReport {
  total: number;
  ms: number;
  tasksPerSec: number;
  never: number;
  twice: number;
  wrong: number;
  rejected: number;
  firstError?: string;
  completed: number;
  failed: number;
  rssWarmMb: number;
  checkpoints: number[];
  rssDoneMb: number;
  nativeWarmMb: number;
  nativeCheckpoints: number[];
  nativeDoneMb: number;
  heapUsedWarmMb: number;
  heapUsedDoneMb: number;
  rssClosedMb: number;
}

test('soak: a million tiny tasks, 1,000 in flight: each settles once with its value; RSS bounded', (t) => {
  const r = runChild('pool-soak.ts', ['1000000', '200000'], ['--expose-gc']);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  const report = lastJson<SoakReport>(r);
  t.log(report);
  t.is(report.total, 1_000_000);
  t.is(report.rejected, 0, report.firstError);
  t.is(report.never, 0, 'every promise settled');
  t.is(report.twice, 0, 'no promise settled twice');
  t.is(report.wrong, 0, 'every task resolved with its own value');
  t.is(report.completed, 1_000_000);
  t.is(report.failed, 0);
  // 800,000 tasks after the warm-up; bound 32 MB (40 bytes a task) of native memory: RSS less the
  // main thread's V8 heap, whose size is V8's choice (on Node 24 it grows by 32 MB in this run
  // while the live heap stays at ~10 MB; Node 20 keeps it flat). Measured alone on Node 20:
  // RSS +8.8 MB (checkpoints 168, 169, 173.5, 175.5 MB), 17 MB under ava's parallel load; on
  // Node 24 RSS +52 MB of which +20.5 MB native. The live JS heap must not grow either.
  const growth = report.nativeDoneMb - report.nativeWarmMb;
  const rssGrowth = report.rssDoneMb - report.rssWarmMb;
  t.log(`over 800,000 tasks: native memory +${growth.toFixed(1)} MB, RSS +${rssGrowth.toFixed(1)} MB`);
  t.true(
    growth < 32,
    `native memory (RSS less the V8 heap) grew by ${growth.toFixed(1)} MB over 800,000 tasks after warm-up (checkpoints: ${report.nativeCheckpoints.join(', ')} MB; RSS ${report.checkpoints.join(', ')} MB)`,
  );
  const heapGrowth = report.heapUsedDoneMb - report.heapUsedWarmMb;
  t.true(heapGrowth < 8, `the live JS heap grew by ${heapGrowth.toFixed(1)} MB over 800,000 tasks`);
});

interface CrashReport {
  total: number;
  crashing: number;
  ms: number;
  crashingRejectedWorkerExit: number;
  crashingOther: string[];
  othersOk: number;
  othersFailed: number;
  othersFailedCodes: Record<string, number>;
  settledTwice: number;
  neverSettled: number;
  ranTwice: number;
  neverRan: number;
  restarts: number;
}

test('crash soak: 20,000 tasks, 1% call process.exit: the others resolve, the crashing ones reject, nothing runs twice', (t) => {
  const r = runChild('pool-crash-soak.ts', ['20000']);
  t.is(r.signal, null, `timed out or killed: ${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  const report = lastJson<CrashReport>(r);
  t.log(report);
  t.is(report.total, 20_000);
  t.is(report.crashing, 200);
  t.is(report.neverSettled, 0, 'every task settled');
  t.is(report.settledTwice, 0, 'no task settled twice');
  t.is(report.ranTwice, 0, 'no task ran twice (a started task is never run again)');
  t.is(report.neverRan, 0, 'every task ran');
  t.is(report.crashingRejectedWorkerExit, 200, `crashing tasks that did not reject WEFT_WORKER_EXIT: ${report.crashingOther.join('; ')}`);
  t.is(report.restarts, 200, 'one worker restart per crash');
  t.deepEqual(report.othersFailedCodes, {}, 'no other task failed');
  t.is(report.othersOk, 19_800, 'every other task resolved with its value');
});
