// weft/metrics: pool, actor system and stack statistics exported to prom-client at scrape time.
import { join } from 'node:path';
import test from 'ava';
import { Registry, openMetricsContentType, register as globalRegister, type OpenMetricsContentType } from 'prom-client';
import { ActorSystem, Pool, SharedMap, SharedQueue, SharedStack, isWeftError } from '../../src/index.js';
import { registerWeftMetrics, type WeftMetricsOptions } from '../../src/metrics/index.js';
import { Counter, Gate } from '../fixtures/actors.js';

type Tasks = typeof import('../fixtures/pool-tasks.mjs', { with: { 'resolution-mode': 'import' }});

const TASKS = join(__dirname, '..', 'fixtures/pool-tasks.mjs');
const ACTORS = join(__dirname, '..', 'fixtures/actors.ts');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The value of one series, read through prom-client's JSON (undefined if there is none). */
async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value;
}

/** Every series of one metric. */
async function series(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return [];
  const { values } = await metric.get();
  return values.map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value }));
}

function throwsInvalid(t: { throws: (fn: () => unknown, e: object) => unknown }, fn: () => unknown): void {
  t.throws(fn, { code: 'WEFT_INVALID_ARG' } as object);
}

test('pool metrics: counts, gauges, quantiles and per-worker series match pool.stats()', async (t) => {
  const pool = new Pool<Tasks>({ module: TASKS, threads: 2, name: 'tasks-pool' });
  t.teardown(() => pool.close());
  const registry = new Registry();
  const metrics = registerWeftMetrics({ register: registry, pools: { tasks: pool } });

  const N = 250;
  const results = await Promise.all(Array.from({ length: N }, (_, i) => pool.run('inc', i)));
  t.is(results[N - 1], N);
  await t.throwsAsync(pool.run('fail', 'Error', 'boom'));
  await pool.run('spin', 5);

  const text = await registry.metrics();
  for (const name of [
    'weft_pool_threads',
    'weft_pool_queued_tasks',
    'weft_pool_running_tasks',
    'weft_pool_tasks_completed_total',
    'weft_pool_tasks_failed_total',
    'weft_pool_tasks_stolen_total',
    'weft_pool_utilization_ratio',
    'weft_pool_task_wait_seconds',
    'weft_pool_task_run_seconds',
    'weft_pool_worker_tasks_completed_total',
    'weft_pool_worker_restarts_total',
  ]) {
    t.regex(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    t.true(metrics.names.includes(name), name);
  }
  t.regex(text, /^# TYPE weft_pool_tasks_completed_total counter$/m);
  t.regex(text, /^# TYPE weft_pool_queued_tasks gauge$/m);
  t.regex(text, /^weft_pool_tasks_completed_total\{pool="tasks"\} 251$/m);
  t.regex(text, /^weft_pool_tasks_failed_total\{pool="tasks"\} 1$/m);
  t.is(await value(registry, 'weft_pool_threads', { pool: 'tasks' }), 2);
  t.is(await value(registry, 'weft_pool_queued_tasks', { pool: 'tasks' }), 0);
  t.is(await value(registry, 'weft_pool_running_tasks', { pool: 'tasks' }), 0);
  const utilization = (await value(registry, 'weft_pool_utilization_ratio', { pool: 'tasks' }))!;
  t.true(utilization > 0 && utilization <= 1, `utilization ${utilization}`);

  // Quantiles in seconds, ordered, and the run time of the 5 ms spin shows in the tail.
  const run = await series(registry, 'weft_pool_task_run_seconds');
  t.deepEqual(run.map((s) => s.labels.quantile).sort(), ['0.5', '0.9', '0.99']);
  const q = (quantile: string): number => run.find((s) => s.labels.quantile === quantile)!.value;
  t.true(q('0.5') <= q('0.9') && q('0.9') <= q('0.99'));
  t.true(q('0.99') < 1, 'seconds, not milliseconds');
  t.is(pool.stats().runTime.p99 / 1000, q('0.99'));
  t.is((await series(registry, 'weft_pool_task_wait_seconds')).length, 3);

  // Per-worker completed tasks add up to the pool's (failed tasks are not completed ones).
  const workers = await series(registry, 'weft_pool_worker_tasks_completed_total');
  t.deepEqual(workers.map((w) => w.labels.worker).sort(), ['0', '1']);
  t.is(
    workers.reduce((n, w) => n + w.value, 0),
    251,
  );
  t.deepEqual(
    (await series(registry, 'weft_pool_worker_restarts_total')).map((w) => w.value),
    [0, 0],
  );

  // Values are read at scrape time: more tasks, a higher count, with no timer involved.
  await Promise.all([pool.run('inc', 1), pool.run('inc', 2)]);
  t.is(await value(registry, 'weft_pool_tasks_completed_total', { pool: 'tasks' }), 253);

  metrics.unregister();
  metrics.unregister();
  t.is(await registry.metrics(), '\n');
  t.is(registry.getSingleMetric('weft_pool_tasks_completed_total'), undefined);
});

test('a worker restart is counted for its slot', async (t) => {
  const pool = new Pool<Tasks>({ module: TASKS, threads: 1 });
  t.teardown(() => pool.close());
  const registry = new Registry();
  registerWeftMetrics({ register: registry, pools: [pool], prefix: 'app_weft_' });
  const err = await t.throwsAsync(pool.run('exit', 1));
  t.true(isWeftError(err, 'WEFT_WORKER_EXIT'));
  t.is(await pool.run('inc', 1), 2);
  // A list of pools is labelled by pool.name.
  t.is(await value(registry, 'app_weft_pool_worker_restarts_total', { pool: pool.name, worker: '0' }), 1);
  // The task lost with its worker is not a failed one (failed counts tasks that threw).
  t.is(await value(registry, 'app_weft_pool_tasks_completed_total', { pool: pool.name }), 1);
  t.is(registry.getSingleMetric('weft_pool_threads'), undefined, 'the prefix replaces weft_');
});

test('actor system metrics: actors, processed, depth, dead letters; per-actor series for the top N', async (t) => {
  const pool = new Pool({ module: ACTORS, threads: 2 });
  const system = new ActorSystem({ pool });
  t.teardown(async () => {
    await system.shutdown();
    await pool.close();
  });
  const registry = new Registry();
  const metrics = registerWeftMetrics({ register: registry, systems: { app: system }, topActors: 2 });
  t.false(
    metrics.names.some((n) => n.startsWith('weft_pool_')),
    'only the families of the sources given',
  );

  const counters = Array.from({ length: 4 }, (_, i) => system.spawn(Counter, 0, { on: i % 2 }));
  const M = 100;
  for (let i = 0; i < M; i++) counters[0]!.tell({ type: 'add', by: 1 });
  t.is(await counters[0]!.ask({ type: 'get' }), M);
  for (const c of counters.slice(1)) t.is(await c.ask({ type: 'get' }), 0);

  const text = await registry.metrics();
  for (const name of [
    'weft_actor_system_actors',
    'weft_actor_system_mailbox_depth',
    'weft_actor_system_messages_processed_total',
    'weft_actor_system_restarts_total',
    'weft_actor_system_dead_letters_total',
    'weft_actor_mailbox_depth',
    'weft_actor_messages_processed',
    'weft_actor_restarts',
  ]) {
    t.regex(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  t.is(await value(registry, 'weft_actor_system_actors', { system: 'app' }), 4);
  t.is(await value(registry, 'weft_actor_system_mailbox_depth', { system: 'app' }), 0);
  t.is(await value(registry, 'weft_actor_system_dead_letters_total', { system: 'app' }), 0);
  const processed = (await value(registry, 'weft_actor_system_messages_processed_total', { system: 'app' }))!;
  const stats = system.stats();
  t.is(
    processed,
    stats.actors.reduce((n, a) => n + a.processed, 0),
  );
  t.true(processed >= M + 4, `processed ${processed}`);

  // Per-actor series: at most topActors of them; with empty mailboxes, the busiest first.
  const perActor = await series(registry, 'weft_actor_messages_processed');
  t.is(perActor.length, 2);
  t.is(perActor[0]!.labels.actor, String(counters[0]!.id));
  t.true(perActor[0]!.value >= M + 1);
  t.is((await series(registry, 'weft_actor_mailbox_depth')).length, 2);

  // A stopped actor leaves the gauges, but the processed total does not go down; messages to it
  // are dead letters.
  await system.stop(counters[0]!);
  counters[0]!.tell({ type: 'add', by: 1 });
  const until = Date.now() + 10_000;
  while (system.stats().deadLetters === 0 && Date.now() < until) await sleep(5);
  t.is(await value(registry, 'weft_actor_system_actors', { system: 'app' }), 3);
  t.true((await value(registry, 'weft_actor_system_dead_letters_total', { system: 'app' }))! >= 1);
  t.true((await value(registry, 'weft_actor_system_messages_processed_total', { system: 'app' }))! >= processed);
  t.false((await series(registry, 'weft_actor_messages_processed')).some((s) => s.labels.actor === String(counters[0]!.id)));
});

test('topActors: 0 registers no per-actor series; a list of systems is labelled by index', async (t) => {
  const a = new ActorSystem();
  const b = new ActorSystem();
  t.teardown(async () => {
    await a.shutdown();
    await b.shutdown();
  });
  a.spawn(Counter, 0, { on: 'main' });
  const registry = new Registry();
  const metrics = registerWeftMetrics({ register: registry, systems: [a, b], topActors: 0 });
  t.false(metrics.names.includes('weft_actor_mailbox_depth'));
  t.is(await value(registry, 'weft_actor_system_actors', { system: '0' }), 1);
  t.is(await value(registry, 'weft_actor_system_actors', { system: '1' }), 0);
});

test('mailbox depth: the deepest mailboxes get the per-actor series', async (t) => {
  const system = new ActorSystem();
  t.teardown(() => system.shutdown({ timeout: 10 }));
  const registry = new Registry();
  registerWeftMetrics({ register: registry, systems: { local: system }, topActors: 1 });
  const idle = system.spawn(Counter, 0, { on: 'main' });
  const gate = system.spawn(Gate, 2000, { on: 'main' });
  t.is(await idle.ask({ type: 'get' }), 0);
  for (let n = 0; n < 20; n++) gate.tell({ type: 'item', n });
  await sleep(20);
  const depth = (await value(registry, 'weft_actor_system_mailbox_depth', { system: 'local' }))!;
  t.true(depth >= 19 && depth <= 20, `depth ${depth}`);
  t.deepEqual(await series(registry, 'weft_actor_mailbox_depth'), [{ labels: { system: 'local', actor: String(gate.id) }, value: depth }]);
});

test('queue metrics: size, waiting threads, refused pushes and wake-ups of each named queue', async (t) => {
  const registry = new Registry();
  const jobs = new SharedQueue<number>({ capacity: 2 });
  registerWeftMetrics({ register: registry, queues: { jobs } });
  jobs.pushMany([1, 2]);
  t.false(jobs.tryPush(3));
  t.is(await value(registry, 'weft_shared_queue_size', { queue: 'jobs' }), 2);
  t.is(await value(registry, 'weft_shared_queue_full_total', { queue: 'jobs' }), 1);
  const waiting = jobs.pushAsync(4);
  t.is(await value(registry, 'weft_shared_queue_waiting_producers', { queue: 'jobs' }), 1);
  jobs.pop();
  await waiting;
  t.is(await value(registry, 'weft_shared_queue_waiting_producers', { queue: 'jobs' }), 0);
  t.true((await value(registry, 'weft_shared_queue_wakes_total', { queue: 'jobs' }))! >= 1);
  t.is(await value(registry, 'weft_shared_queue_waiting_consumers', { queue: 'jobs' }), 0);
});

test('map metrics: size, hits, misses, evictions and CAS failures of each named map', async (t) => {
  const registry = new Registry();
  const cache = new SharedMap<string, number>({ capacity: 4 });
  registerWeftMetrics({ register: registry, maps: { cache } });
  cache.set('a', 1);
  cache.get('a');
  cache.get('b');
  t.false(cache.compareAndSet('a', 2, 3));
  for (let i = 0; i < 200; i++) cache.set(`k${i}`, i);
  t.is(await value(registry, 'weft_shared_map_hits_total', { map: 'cache' }), 1);
  t.is(await value(registry, 'weft_shared_map_misses_total', { map: 'cache' }), 1);
  t.is(await value(registry, 'weft_shared_map_cas_failures_total', { map: 'cache' }), 1);
  t.true((await value(registry, 'weft_shared_map_size', { map: 'cache' }))! <= 4);
  t.true((await value(registry, 'weft_shared_map_evictions_total', { map: 'cache' }))! > 0);
});

test('stack metrics: the size of each named stack', async (t) => {
  const jobs = new SharedStack<number>();
  const other = new SharedStack<string>();
  jobs.pushMany([1, 2, 3]);
  const registry = new Registry();
  registerWeftMetrics({ register: registry, stacks: { jobs, other } });
  t.regex(await registry.metrics(), /^weft_shared_stack_size\{stack="jobs"\} 3$/m);
  t.is(await value(registry, 'weft_shared_stack_size', { stack: 'other' }), 0);
  jobs.pop();
  t.is(await value(registry, 'weft_shared_stack_size', { stack: 'jobs' }), 2);
});

test('the default registry, an OpenMetrics registry, and separate calls for separate sources', async (t) => {
  const stack = new SharedStack<number>();
  stack.push(1);
  const global = registerWeftMetrics({ stacks: { s: stack } });
  t.regex(await globalRegister.metrics(), /^weft_shared_stack_size\{stack="s"\} 1$/m);
  global.unregister();
  t.is(globalRegister.getSingleMetric('weft_shared_stack_size'), undefined);

  const pool = new Pool<Tasks>({ module: TASKS, threads: 1 });
  t.teardown(() => pool.close());
  await pool.run('inc', 1);
  const open = new Registry<OpenMetricsContentType>();
  open.setContentType(openMetricsContentType);
  const poolMetrics = registerWeftMetrics({ register: open, pools: { p: pool } });
  const stackMetrics = registerWeftMetrics({ register: open, stacks: { s: stack } });
  const text = await open.metrics();
  t.regex(text, /^# TYPE weft_pool_tasks_completed counter$/m);
  t.regex(text, /^weft_pool_tasks_completed_total\{pool="p"\} 1$/m);
  t.regex(text, /^weft_shared_stack_size\{stack="s"\} 1$/m);
  poolMetrics.unregister();
  stackMetrics.unregister();
  t.is(open.getMetricsAsArray().length, 0);
});

test('bad options and name clashes throw WEFT_INVALID_ARG and register nothing', (t) => {
  const registry = new Registry();
  const stack = new SharedStack<number>();
  throwsInvalid(t, () => registerWeftMetrics(null as unknown as WeftMetricsOptions));
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, prefix: 'bad-prefix' }));
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, topActors: -1 }));
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, pools: [{}] as never }));
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, systems: { a: 3 } as never }));
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, stacks: [stack] as never }));
  throwsInvalid(t, () => registerWeftMetrics({ register: {} as Registry }));
  const fake = { name: 'same', stats: () => ({}) as never };
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, pools: [fake, { ...fake }] }));
  t.is(registry.getMetricsAsArray().length, 0);

  const first = registerWeftMetrics({ register: registry, stacks: { s: stack } });
  throwsInvalid(t, () => registerWeftMetrics({ register: registry, stacks: { t: stack } }));
  t.is(registry.getMetricsAsArray().length, 1);
  registerWeftMetrics({ register: registry, stacks: { t: stack }, prefix: 'other_' });
  first.unregister();
  registerWeftMetrics({ register: registry, stacks: { t: stack } });
  t.is(registry.getMetricsAsArray().length, 2);
});
