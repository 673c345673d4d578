// Reliability of the Pool under faults and long use: the scheduler's counters after worker
// crashes, late results of aborted tasks, and task names from untrusted input.
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { Pool, WeftError, type PoolOptions, type WeftErrorCode } from '../src/index.js';
import { rejection } from './helpers.js';

type Tasks = typeof import('./fixtures/reliability-tasks.mjs', { with: { 'resolution-mode': 'import' } });

const TASKS = join(__dirname, 'fixtures/reliability-tasks.mjs');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A pool for one test, stopped when the test ends whatever happens. */
function makePool(t: ExecutionContext, options: Partial<PoolOptions> = {}): Pool<Tasks> {
  const pool = new Pool<Tasks>({ module: TASKS, ...options });
  t.teardown(async () => {
    await Promise.race([pool.close(), sleep(2000)]);
    await pool.destroy();
  });
  return pool;
}

/** Awaits `p`, which must reject with a WeftError of `code`; returns it. */
async function rejectsWith(t: ExecutionContext, p: Promise<unknown>, code: WeftErrorCode): Promise<WeftError> {
  const err = await rejection(t, p);
  t.true(err instanceof WeftError, `expected a WeftError (${code}), got ${String(err)}`);
  t.is((err as WeftError).code, code, `message: ${(err as Error).message}`);
  return err as WeftError;
}

/** The codes of the rejections among `results` (undefined for a fulfilled one). */
function codes(results: Array<PromiseSettledResult<unknown>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of results) {
    const code = r.status === 'fulfilled' ? 'ok' : ((r.reason as { code?: string }).code ?? String(r.reason));
    out.set(code, (out.get(code) ?? 0) + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. A worker crash leaves the scheduler's counters right: `queued` and `running` go back to 0
// and `maxQueue` keeps accepting work.

test.serial('crash: tasks the dead worker held are requeued once; queued and running return to 0', async (t) => {
  const pool = makePool(t, { threads: 1 });
  // Warm up: the worker learns that tasks are tiny and takes them in large batches.
  await Promise.all(Array.from({ length: 3000 }, (_, i) => pool.run('echo', i)));
  // A 5 ms task (new to the worker: it hands the rest of its batch back onto its deque), a
  // crash, and 200 tiny tasks that were handed to the dying worker or wait in its deque.
  const slow = pool.run('busy', 5);
  const crash = pool.run('exit', 3);
  const tiny = Array.from({ length: 200 }, (_, i) => pool.run('echo', i));
  t.is(await slow, 5);
  await rejectsWith(t, crash, 'WEFT_WORKER_EXIT');
  const values = await Promise.all(tiny);
  t.deepEqual(values, Array.from({ length: 200 }, (_, i) => i), 'every task ran once, elsewhere');
  const s = pool.stats();
  t.is(s.queued, 0, 'queued');
  t.is(s.running, 0, 'running');
});

test.serial('crash: with maxQueue, a crash among queued tasks does not make the pool refuse work', async (t) => {
  const pool = makePool(t, { threads: 1, maxQueue: 50 });
  for (let round = 0; round < 40; round++) await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run('echo', i)));
  for (let round = 0; round < 3; round++) {
    // A slow task makes the worker hand the rest of its batch back onto its deque.
    const batch = [pool.run('busy', 3), pool.run('exit', 3), ...Array.from({ length: 48 }, (_, i) => pool.run('echo', i))];
    const results = await Promise.allSettled(batch);
    t.deepEqual(codes(results), new Map([['ok', 49], ['WEFT_WORKER_EXIT', 1]]), `round ${round}`);
  }
  t.is(pool.stats().queued, 0, 'queued after the crashes');
  // 2,400 more tasks, 48 at a time: none refused.
  let refused = 0;
  for (let round = 0; round < 50; round++) {
    const results = await Promise.allSettled(Array.from({ length: 48 }, (_, i) => pool.run('echo', i)));
    refused += results.filter((r) => r.status === 'rejected').length;
  }
  t.is(refused, 0, 'later tasks refused');
  t.is(pool.stats().queued, 0);
});

test.serial('crash: a task that forked children and died leaves nothing counted as queued', async (t) => {
  const pool = makePool(t, { threads: 1, maxQueue: 50 });
  t.is(await pool.run('echo', 1), 1);
  // The children are spawned onto the dying worker's own deque; nobody awaits them any more.
  // (maxQueue bounds the main thread's tasks only.)
  await rejectsWith(t, pool.run('forkThenExit', 200), 'WEFT_WORKER_EXIT');
  const s = pool.stats();
  t.is(s.queued, 0, 'queued');
  t.is(s.running, 0, 'running');
  const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => pool.run('echo', i)));
  t.deepEqual(codes(results), new Map([['ok', 40]]));
});
