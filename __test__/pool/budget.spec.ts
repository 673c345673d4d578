// The process's one thread budget: WEFT_THREADS (or the usable CPUs) sizes a default Pool, par's
// rayon threads and the fallback pool; a bad WEFT_THREADS is refused with WEFT_INVALID_ARG; pool
// workers running tasks hold part of it while they run.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Pool, threadBudget, type ThreadBudget } from '../../src/index.js';
import { ROOT, lastJson } from '../helpers.js';

const TASKS = join(__dirname, '..', 'fixtures', 'pool-options-tasks.mjs');

interface Report {
  budget?: ThreadBudget;
  budgetError?: string;
  poolThreads?: number;
  poolError?: string;
  fixedPool: string;
  sum?: number;
  parThreads?: number;
  parError?: string;
  fallbackSum?: number;
  fallbackError?: string;
}

function budgetChild(weftThreads: string | undefined): Report {
  const env = { ...process.env };
  delete env.WEFT_THREADS;
  if (weftThreads !== undefined) env.WEFT_THREADS = weftThreads;
  const r = spawnSync(process.execPath, ['--import=tsx', join(__dirname, '..', 'fixtures', 'thread-budget.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child exited ${String(r.status ?? r.signal)}: ${r.stderr}`);
  return lastJson<Report>(r);
}

test('without WEFT_THREADS the budget is the usable CPUs, and a default Pool, par and the fallback use it', (t) => {
  const r = budgetChild(undefined);
  t.truthy(r.budget, r.budgetError);
  const b = r.budget!;
  t.is(b.source, 'cpus');
  t.is(b.threads, b.cpus);
  t.true(b.cpus >= 1);
  t.is(b.running, 0);
  t.is(b.free, b.threads);
  t.is(r.poolThreads, b.threads);
  t.is(r.parThreads, b.threads);
  t.is(r.sum, 200_000);
  t.is(r.fallbackSum, 100_000);
});

test('WEFT_THREADS sets the budget: a default Pool and par take its size', (t) => {
  const r = budgetChild('3');
  const b = r.budget!;
  t.deepEqual({ threads: b.threads, source: b.source }, { threads: 3, source: 'WEFT_THREADS' });
  t.is(r.poolThreads, 3);
  t.is(r.parThreads, 3);
  t.is(r.sum, 200_000);
  t.is(r.fallbackSum, 100_000);
  t.is(r.fixedPool, 'ran');
});

for (const bad of ['0', 'lots', '2.5', '256', '']) {
  test(`WEFT_THREADS=${JSON.stringify(bad)} is refused with WEFT_INVALID_ARG where it would size threads, and only there`, (t) => {
    const r = budgetChild(bad);
    t.is(r.budgetError, 'WEFT_INVALID_ARG');
    t.is(r.poolError, 'WEFT_INVALID_ARG');
    t.is(r.parError, 'WEFT_INVALID_ARG');
    t.is(r.fallbackError, 'WEFT_INVALID_ARG');
    // A pool whose size is given does not read the budget.
    t.is(r.fixedPool, 'ran');
  });
}

test('the message names WEFT_THREADS and the value', (t) => {
  const prev = process.env.WEFT_THREADS;
  // This process read its budget already (or reads it now, unset): the message is checked
  // through a child instead.
  const r = spawnSync(
    process.execPath,
    ['--import=tsx', '-e', "try { require('./src/index.ts').threadBudget() } catch (e) { console.log(e.message) }"],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WEFT_THREADS: 'many' } },
  );
  t.is(process.env.WEFT_THREADS, prev);
  t.regex(r.stdout, /WEFT_THREADS must be an integer from 1 to 255, got "many"/);
});

test('pool workers running tasks hold part of the budget while they run, in every pool', async (t) => {
  const before = threadBudget();
  t.is(before.running, 0, 'no other pool of this test file runs');
  const a = new Pool({ module: TASKS, threads: 1 });
  const b = new Pool({ module: TASKS, threads: 1 });
  t.teardown(() => Promise.all([a.destroy(), b.destroy()]));
  // Both workers started (the module loaded) before the measured tasks.
  await Promise.all([a.run('spin', 1), b.run('spin', 1)]);
  const runs = Promise.all([a.run('spin', 2_000), b.run('spin', 2_000)]);
  runs.catch(() => {}); // awaited below; a failed assertion first must not leave it unhandled
  let seen = 0;
  const until = Date.now() + 1_800;
  while (Date.now() < until && seen < 2) {
    seen = Math.max(seen, threadBudget().running);
    await new Promise((r) => setTimeout(r, 5));
  }
  t.is(seen, 2);
  const during = threadBudget();
  t.is(during.free, Math.max(1, during.threads - during.running));
  await runs;
  // Back in take with nothing to do: no longer running.
  let after = threadBudget().running;
  for (let i = 0; i < 400 && after !== 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    after = threadBudget().running;
  }
  t.is(after, 0);
  t.is(threadBudget().free, before.threads);
});
