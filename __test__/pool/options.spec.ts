// Pool options users of other pools expect: minThreads/maxThreads (growth under load, idleTimeout
// shrinking back), per-worker env/argv/execArgv/workerData, move() both ways, the events
// (workerCreate, workerDestroy, error, needsDrain, drain), drained(), and the fuller stats.
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SHARE_ENV, type Worker } from 'node:worker_threads';
import { Pool, isWorkerThread, move, workerData, type PoolOptions } from '../../src/index.js';

type Tasks = typeof import('../fixtures/pool-options-tasks.mjs', { with: { 'resolution-mode': 'import' }});

const TASKS = join(__dirname, '..', 'fixtures/pool-options-tasks.mjs');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function makePool(t: ExecutionContext, options: Omit<PoolOptions, 'module'>): Pool<Tasks> {
  const pool = new Pool<Tasks>({ module: TASKS, ...options });
  t.teardown(() => pool.destroy());
  return pool;
}

/** Waits until `check()` holds; fails the test after `ms` (a pool's workers start slowly on a loaded machine: 20 s). */
async function waitFor(t: ExecutionContext, what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) {
      t.fail(`timed out waiting for ${what} (${ms} ms)`);
      return;
    }
    await sleep(10);
  }
}

test.serial('minThreads/maxThreads: starts minThreads, grows under load up to maxThreads, then shrinks back on idleTimeout', async (t) => {
  const pool = makePool(t, { minThreads: 1, maxThreads: 3, idleTimeout: 200 });
  const created: Worker[] = [];
  const destroyed: Worker[] = [];
  pool.on('workerCreate', (w) => created.push(w));
  pool.on('workerDestroy', (w) => destroyed.push(w));
  t.is(pool.stats().liveThreads, 1, 'one worker at start');
  t.is(pool.stats().threads, 3);
  t.is(pool.workers.length, 1);
  // One task at a time does not grow the pool.
  await pool.run('sleep', 5);
  await pool.run('sleep', 5);
  t.is(pool.stats().liveThreads, 1, 'sequential tasks keep one worker');
  // Twelve at once do: three workers share them.
  const ids = new Set(await Promise.all(Array.from({ length: 12 }, () => pool.run('spin', 150))));
  t.is(pool.stats().liveThreads, 3, 'grew to maxThreads');
  t.is(created.length, 2, 'two workers were added (workerCreate)');
  t.true(ids.size >= 2, `the tasks ran on ${ids.size} threads`);
  // Idle: the two beyond minThreads leave; the first stays.
  await waitFor(t, 'the pool to shrink to minThreads', () => pool.stats().liveThreads === 1);
  await sleep(400);
  t.is(pool.stats().liveThreads, 1, 'minThreads stay past the idle timeout');
  t.is(destroyed.length, 2, 'workerDestroy for each worker that left');
  t.deepEqual(
    pool.stats().workers.map((w) => w.restarts),
    [0, 0, 0],
    'leaving on idle is not a restart',
  );
  // And it grows again.
  await Promise.all(Array.from({ length: 9 }, () => pool.run('sleep', 50)));
  t.true(pool.stats().liveThreads > 1);
});

test('threads is a fixed pool: every worker starts with it', (t) => {
  const pool = makePool(t, { threads: 2 });
  t.is(pool.stats().liveThreads, 2);
  t.is(pool.workers.length, 2);
});

test('bad thread counts are WEFT_INVALID_ARG naming the option', (t) => {
  const bad: Array<[Omit<PoolOptions, 'module'>, RegExp]> = [
    [{ threads: 2, maxThreads: 3 }, /either threads, or minThreads/],
    [{ threads: 2, minThreads: 1 }, /either threads, or minThreads/],
    [{ minThreads: 3, maxThreads: 2 }, /minThreads \(3\) must not exceed maxThreads \(2\)/],
    [{ maxThreads: 0 }, /maxThreads must be an integer from 1 to 255/],
    [{ maxThreads: 256 }, /maxThreads must be an integer from 1 to 255/],
    [{ minThreads: -1 }, /minThreads must be an integer from 0 to 255/],
    [{ minThreads: 1.5 }, /minThreads must be an integer/],
    [{ env: 'x' as never }, /env must be an object of strings or SHARE_ENV/],
    [{ env: { A: 1 } as never }, /env\.A must be a string/],
    [{ argv: ['a', 2] as never }, /argv must be an array of strings/],
    [{ execArgv: '--inspect' as never }, /execArgv must be an array of strings/],
    [{ trackUnmanagedFds: 'yes' as never }, /trackUnmanagedFds must be a boolean/],
    [{ threads: 1, execArgv: ['--stack-trace-limit=5'] }, /execArgv has flags a worker thread cannot take/],
  ];
  for (const [options, message] of bad) {
    const err = t.throws(() => new Pool({ module: TASKS, ...options }), { code: 'WEFT_INVALID_ARG' }, JSON.stringify(options));
    t.regex(err.message, message);
  }
  t.throws(() => new Pool({ module: TASKS, threads: 1, workerData: { f: () => 1 } }), { code: 'WEFT_DATA_CLONE' });
});

test('env, argv, execArgv and workerData reach every worker; isWorkerThread is true there only', async (t) => {
  const pool = makePool(t, {
    threads: 2,
    env: { WEFT_OPTIONS_TEST: 'from-env', UNSET_BY_UNDEFINED: undefined },
    argv: ['--alpha', 'beta'],
    execArgv: ['--trace-warnings'],
    workerData: { answer: 42, when: new Date(7), list: [1, 'two'] },
  });
  const results = await Promise.all([pool.run('env', 'WEFT_OPTIONS_TEST'), pool.run('env', 'UNSET_BY_UNDEFINED'), pool.run('argv')]);
  t.deepEqual(results, ['from-env', null, ['--alpha', 'beta']]);
  const execArgv = await pool.run('execArgv');
  t.true(execArgv.includes('--trace-warnings'), execArgv.join(' '));
  // The loader flags the process runs with come first (the tests run under --import=tsx).
  for (const flag of process.execArgv.filter((a) => a.startsWith('--import'))) t.true(execArgv.includes(flag), `${flag} kept`);
  const data = await pool.run('data');
  t.true(data.isWorkerThread);
  t.deepEqual(data.workerData, { answer: 42, when: new Date(7), list: [1, 'two'] });
  t.false(isWorkerThread, 'false on the main thread');
  t.is(workerData, undefined);
  // A worker's env is its own copy...
  await Promise.all([pool.run('setEnv', 'WEFT_SET_IN_WORKER', 'x'), pool.run('setEnv', 'WEFT_SET_IN_WORKER', 'x')]);
  t.is(process.env.WEFT_SET_IN_WORKER, undefined);
});

test('env: SHARE_ENV shares one environment with the main thread', async (t) => {
  const pool = makePool(t, { threads: 1, env: SHARE_ENV });
  await pool.run('setEnv', 'WEFT_SHARED_ENV_TEST', 'shared');
  t.is(process.env.WEFT_SHARED_ENV_TEST, 'shared');
  delete process.env.WEFT_SHARED_ENV_TEST;
});

test('move(): an argument is transferred (detached here), a returned value comes back transferred', async (t) => {
  const pool = makePool(t, { threads: 2 });
  const bytes = new Uint8Array(1 << 16).fill(9);
  const got = await pool.run('byteLengthOf', move(bytes));
  t.deepEqual(got, { byteLength: 1 << 16, first: 9, kind: 'Uint8Array' });
  t.is(bytes.byteLength, 0, 'the sender no longer has it');
  const buffer = new ArrayBuffer(8);
  t.deepEqual(await pool.run('byteLengthOf', move(buffer)), { byteLength: 8, first: 0, kind: 'ArrayBuffer' });
  t.is(buffer.byteLength, 0);
  // Results: many, from both workers, each once and whole.
  const backs = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run('moveBack', 1000 + i, i)));
  backs.forEach((b, i) => {
    t.true(b instanceof Uint8Array);
    t.is(b.byteLength, 1000 + i);
    t.is(b[999], i);
  });
  // Nested in a value, a moved value is copied like any other.
  const nested = await pool.run('moveNested', 4);
  t.deepEqual(nested, { bytes: new Uint8Array([1, 1, 1, 1]) });
  // Not something move() takes.
  t.throws(() => move({} as never), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => move(new Proxy(new ArrayBuffer(1), {}) as never), { code: 'WEFT_INVALID_ARG' });
});

test('needsDrain and drain follow the pending tasks against the capacity; drained() waits for all', async (t) => {
  const pool = makePool(t, { threads: 2 });
  const events: string[] = [];
  pool.on('needsDrain', () => events.push('needsDrain'));
  pool.on('drain', () => events.push('drain'));
  t.false(pool.needsDrain);
  const all = Array.from({ length: 6 }, () => pool.run('sleep', 30));
  await pool.drained();
  t.is(pool.pending, 0);
  t.false(pool.needsDrain);
  t.deepEqual(events, ['needsDrain', 'drain'], 'saturated once, drained once');
  await Promise.all(all);
  // One task at a time never saturates a pool of two; its end is a drain (idle).
  events.length = 0;
  await pool.run('sleep', 1);
  t.deepEqual(events, ['drain']);
  await pool.drained(); // nothing pending: at once
  // The capacity is maxThreads × concurrentTasksPerWorker: 2 × 3 = 6 pending tasks.
  // (The pending count is taken as the submitted tasks are flushed, in a microtask.)
  const wide = makePool(t, { threads: 2, concurrentTasksPerWorker: 3 });
  const five = Array.from({ length: 5 }, () => wide.run('sleep', 50));
  await Promise.resolve();
  t.false(wide.needsDrain, '5 of 6');
  const sixth = wide.run('sleep', 50);
  await Promise.resolve();
  t.true(wide.needsDrain, '6 of 6');
  await Promise.all([...five, sixth]);
});

test("'error': a failure outside any task is reported to listeners, and the worker is replaced", async (t) => {
  const pool = makePool(t, { threads: 1 });
  const errors: Error[] = [];
  pool.on('error', (e) => errors.push(e));
  const first = await pool.run('crashLater', 'outside any task');
  await waitFor(t, 'the error event', () => errors.length > 0);
  t.regex(errors[0]!.message, /outside any task/);
  const next = await pool.run('sleep', 1);
  t.not(next, first, 'a new worker ran the next task');
  // Without a listener the same failure does not throw on the main thread. (The timer may run
  // only when the idle worker next turns its event loop: wait for the worker to go.)
  const quiet = makePool(t, { threads: 1 });
  let gone = 0;
  quiet.on('workerDestroy', () => gone++);
  await quiet.run('crashLater', 'nobody listens');
  await waitFor(t, 'the worker to end', () => gone === 1);
  t.is(typeof (await quiet.run('sleep', 1)), 'number');
});

test('stats: duration, liveThreads and run/wait time summaries with mean, stddev, min and percentiles', async (t) => {
  const pool = makePool(t, { threads: 2 });
  await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('sleep', i % 2 === 0 ? 5 : 25)));
  const s = pool.stats();
  t.true(s.duration > 0);
  t.is(s.liveThreads, 2);
  const r = s.runTime;
  t.is(r.count, 20);
  t.true(
    r.min >= 4 &&
      r.min <= r.p50 &&
      r.p50 <= r.p75 &&
      r.p75 <= r.p90 &&
      r.p90 <= r.p95 &&
      r.p95 <= r.p99 &&
      r.p99 <= r.p999 &&
      r.p999 <= r.max,
    JSON.stringify(r),
  );
  // Two groups 20 ms apart (a cold worker's first tasks run later: no exact values).
  t.true(r.max - r.min > 10, `two groups: ${JSON.stringify(r)}`);
  t.true(r.mean > r.min && r.mean < r.max, `the mean is between them: ${JSON.stringify(r)}`);
  t.true(r.stddev > 3 && r.stddev < r.max - r.min, `stddev: ${JSON.stringify(r)}`);
  t.is(s.waitTime.count, 20);
});

test('a task module whose default export is a promise of a function (async set-up) runs it as "default"', async (t) => {
  const pool = new Pool<{ default: (x: number) => number }>({
    module: join(__dirname, '..', 'fixtures/pool-async-default.cjs'),
    threads: 1,
  });
  t.teardown(() => pool.destroy());
  t.is(await pool.run('default', 20), 21 + 100);
});

test('concurrentTasksPerWorker: one async task per worker by default; the option allows that many at once, never more', async (t) => {
  const one = makePool(t, { threads: 1 });
  const byDefault = await Promise.all(Array.from({ length: 4 }, () => one.run('overlap', 30)));
  t.deepEqual(
    byDefault.map((r) => r.max),
    [1, 1, 1, 1],
  );
  const three = makePool(t, { threads: 1, concurrentTasksPerWorker: 3 });
  const capped = await Promise.all(Array.from({ length: 9 }, () => three.run('overlap', 30)));
  t.is(Math.max(...capped.map((r) => r.max)), 3, 'three at once, not more');
  t.is(three.stats().completed, 9);
});

test('concurrentTasksPerWorker: a worker at its cap leaves queued tasks to the others', async (t) => {
  const pool = makePool(t, { threads: 2 });
  // One worker holds an async task for 3 s (long against any scheduling delay under load).
  let longSettled = false;
  const long = pool.run('overlap', 3000).finally(() => (longSettled = true));
  await waitFor(t, 'the long task to start', () => pool.stats().running === 1);
  const quick = await Promise.all(Array.from({ length: 6 }, () => pool.run('spin', 5)));
  t.false(longSettled, 'the quick tasks did not wait for the long one');
  const { threadId: longThread } = await long;
  t.deepEqual(
    quick.filter((id) => id === longThread),
    [],
    'no quick task ran on the worker at its cap',
  );
});

test('concurrentTasksPerWorker: tasks forked by running tasks are not held by the cap (fork-join cannot deadlock)', async (t) => {
  // 1 + 3 + 9 + 27 tasks, each awaiting its children, on one worker that may run one queued task.
  const one = makePool(t, { threads: 1 });
  t.is(await one.run('forkTree', 3, 3), 40);
  const two = makePool(t, { threads: 2, concurrentTasksPerWorker: 1 });
  const roots = await Promise.all(Array.from({ length: 4 }, () => two.run('forkTree', 2, 4)));
  t.deepEqual(roots, [21, 21, 21, 21]);
  t.is(two.stats().running, 0);
  t.is(two.stats().queued, 0);
});

test('concurrentTasksPerWorker: bad values are WEFT_INVALID_ARG', (t) => {
  for (const bad of [0, -1, 1.5, 1025, Number.NaN, '2', null]) {
    const err = t.throws(() => new Pool({ module: TASKS, threads: 1, concurrentTasksPerWorker: bad as never }), {
      code: 'WEFT_INVALID_ARG',
    });
    t.regex(err.message, /concurrentTasksPerWorker must be an integer from 1 to 1024/);
  }
});

test('runWith({ module }): a task of another module, loaded by each worker on first use; names checked there', async (t) => {
  // Untyped (any task name): the names come from another module.
  const pool = new Pool({ module: TASKS, threads: 2 });
  t.teardown(() => pool.destroy());
  const OTHER = join(__dirname, '..', 'fixtures/pool-other-tasks.mjs');
  const doubled = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.runWith({ module: OTHER }, 'double', i)));
  t.deepEqual(
    doubled,
    Array.from({ length: 20 }, (_, i) => 2 * i),
  );
  t.is(await pool.runWith({ module: pathToFileURL(OTHER) }, 'later', 'x'), 'later x');
  // The pool's own module is unchanged, and its task list does not show the other module's.
  t.is(await pool.run('env', 'WEFT_NOT_SET'), null);
  t.false(pool.tasks.includes('double'));
  t.false(pool.tasks.some((n) => n.includes('weft:')));
  const unknown = await t.throwsAsync(pool.runWith({ module: OTHER }, 'triple'), { code: 'WEFT_INVALID_ARG' });
  t.regex(unknown.message, /no export named "triple".*pool-other-tasks\.mjs.*double, later/);
  const missing = await t.throwsAsync(pool.runWith({ module: join(__dirname, 'no-such-module.mjs') }, 'double'), {
    code: 'WEFT_INVALID_ARG',
  });
  t.regex(missing.message, /no-such-module/);
  await t.throwsAsync(pool.runWith({ module: 42 as never }, 'double'), { code: 'WEFT_INVALID_ARG' });
  // A file that exists but does not load as a module (JSON needs an import attribute).
  const notModule = await t.throwsAsync(pool.runWith({ module: join(__dirname, '..', 'tsconfig.json') }, 'double'), {
    code: 'WEFT_INVALID_ARG',
  });
  t.regex(notModule.message, /runWith\(\{ module \}\) could not load .*tsconfig\.json/);
  t.is(pool.stats().failed, 2, 'only the unknown name and the module that would not load reached a worker');
});
