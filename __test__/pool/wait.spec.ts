// How the main thread waits for task results: with tasks in flight and nothing else to do, it
// spins for their completions a while in native code (bounded and adaptive) instead of sleeping
// until the event loop is woken, and it counts as a spinner for the workers, so that on a small
// machine spinners do not crowd out the threads doing the work. These tests check that the wait
// neither loses results nor burns CPU while a task is slow.
import { join } from 'node:path';
import test from 'ava';
import { Pool } from '../../src/index.js';

type Tasks = typeof import('../fixtures/pool-tasks.mjs', { with: { 'resolution-mode': 'import' }});
const MODULE = join(__dirname, '..', 'fixtures', 'pool-tasks.mjs');

test('sequential round trips: every result arrives, in order, whether the main thread catches it spinning or is woken', async (t) => {
  await using pool = new Pool<Tasks>({ module: MODULE, threads: 2 });
  let wrong = 0;
  for (let i = 0; i < 3000; i++) if ((await pool.run('inc', i)) !== i + 1) wrong++;
  t.is(wrong, 0);
  // Interleaved with results that take longer than any spin (the main thread sleeps for them).
  for (let i = 0; i < 5; i++) t.is(await pool.run('sleep', 5).then(() => pool.run('inc', i)), i + 1);
});

test('a slow task does not keep the main thread spinning: process CPU stays low while it runs', async (t) => {
  await using pool = new Pool<Tasks>({ module: MODULE, threads: 2 });
  // Quick round trips first, so that the main thread's spin budget is at its largest.
  for (let i = 0; i < 2000; i++) await pool.run('inc', i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pool.run('sleep', 1000);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const share = (cpu.user + cpu.system) / 1e3 / wall;
  t.log(`process CPU while one 1 s task (an awaited timer) ran: ${(share * 100).toFixed(1)} % of a core`);
  // A main thread (or a worker) spinning the whole time would be ~100 %.
  t.true(share < 0.25, `CPU ${(share * 100).toFixed(1)} % of a core while waiting`);
});

test('many tasks in flight: the waits pick up every completion (10,000 tasks, 256 at a time)', async (t) => {
  await using pool = new Pool<Tasks>({ module: MODULE, threads: 2 });
  let next = 0;
  let sum = 0;
  const lane = async (): Promise<void> => {
    while (next < 10_000) {
      const v = await pool.run('inc', next++);
      sum += v;
    }
  };
  await Promise.all(Array.from({ length: 256 }, lane));
  t.is(sum, (10_000 * 10_001) / 2);
});
