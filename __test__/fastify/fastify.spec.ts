// weft/fastify: a Fastify plugin that creates (or takes) a Pool and an ActorSystem, decorates the
// instance with them, and closes them with the server.
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import test, { type ExecutionContext } from 'ava';
import Fastify, { type FastifyInstance } from 'fastify';
import { ActorSystem, Pool, WeftError, type ActorRef, type WeftErrorCode } from '../../src/index.js';
import weftPlugin, { weftPlugin as namedPlugin, type WeftDecoration, type WeftPluginOptions } from '../../src/fastify/index.js';
import { Counter } from '../fixtures/actors.js';

type Tasks = typeof import('../fixtures/pool-tasks.mjs', { with: { 'resolution-mode': 'import' }});
type ActorTasks = typeof import('../fixtures/actors.js');

const TASKS = join(__dirname, '..', 'fixtures/pool-tasks.mjs');
const ACTORS = join(__dirname, '..', 'fixtures/actors.ts');

async function rejectsWith(t: ExecutionContext, p: PromiseLike<unknown>, code: WeftErrorCode): Promise<void> {
  try {
    await p;
    t.fail(`expected a rejection with ${code}`);
  } catch (err) {
    t.true(err instanceof WeftError, `expected a WeftError, got ${String(err)}`);
    t.is((err as WeftError).code, code, (err as Error).message);
  }
}

test('a route runs a pool task; close() closes the pool', async (t) => {
  const app = Fastify();
  await app.register(weftPlugin, { pool: { module: TASKS, threads: 2 } });
  const tasks = app.weft.pool!.proxy<Tasks>();
  app.get<{ Params: { x: string } }>('/inc/:x', async (req) => ({ result: await tasks.inc(Number(req.params.x)) }));

  const res = await app.inject({ method: 'GET', url: '/inc/41' });
  t.is(res.statusCode, 200);
  t.deepEqual(res.json(), { result: 42 });
  t.is(app.weft.actors, undefined);
  t.true(Object.isFrozen(app.weft));

  const { pool } = app.weft;
  await app.close();
  await rejectsWith(t, pool!.run('inc', 1), 'WEFT_CLOSED');
});

test('a route asks an actor and another runs a task that messages it; close() shuts the system down, then the pool', async (t) => {
  const app = Fastify();
  await app.register(weftPlugin, { pool: { module: ACTORS, threads: 2 }, actors: { askTimeout: 10_000 } });
  const { pool, actors } = app.weft;
  t.truthy(pool);
  t.truthy(actors);
  const counter: ActorRef<typeof Counter> = actors!.spawn(Counter, 1, { on: 'worker' });
  const tasks = pool!.proxy<ActorTasks>();
  app.get('/count', async () => ({ n: await counter.ask({ type: 'get' }) }));
  app.post<{ Body: { by: number } }>('/add', async (req) => ({ n: await tasks.askCounter(counter, req.body.by) }));

  t.deepEqual((await app.inject({ method: 'GET', url: '/count' })).json(), { n: 1 });
  t.deepEqual((await app.inject({ method: 'POST', url: '/add', payload: { by: 4 } })).json(), { n: 5 });
  t.deepEqual((await app.inject({ method: 'GET', url: '/count' })).json(), { n: 5 });
  // The system runs on the plugin's pool: the actor lives on one of its workers.
  const where = await counter.ask({ type: 'where' });
  t.not(where, threadId);
  t.true(pool!.stats().workers.some((w) => w.threadId === where));

  // Messages queued before close() are handled (drain), then everything is closed.
  counter.tell({ type: 'add', by: 10 });
  const last = counter.ask({ type: 'get' });
  await app.close();
  t.is(await last, 15);
  await rejectsWith(t, counter.ask({ type: 'get' }), 'WEFT_CLOSED');
  t.throws(() => actors!.spawn(Counter, 0), { code: 'WEFT_CLOSED' } as object);
  await rejectsWith(t, pool!.run('askCounter', counter, 1), 'WEFT_CLOSED');
});

test('actors without a pool run on the main thread', async (t) => {
  const app = Fastify();
  await app.register(weftPlugin, { actors: true });
  t.is(app.weft.pool, undefined);
  const c = app.weft.actors!.spawn(Counter, 7);
  app.get('/', async () => c.ask({ type: 'get' }));
  t.is((await app.inject('/')).body, '7');
  await app.close();
  t.throws(() => app.weft.actors!.spawn(Counter, 0), { code: 'WEFT_CLOSED' } as object);
});

test('instances passed in stay open unless closeOnExit', async (t) => {
  const pool = new Pool<Tasks>({ module: TASKS, threads: 1 });
  const system = new ActorSystem({ pool });
  t.teardown(async () => {
    await system.shutdown();
    await pool.close();
  });
  const app = Fastify();
  await app.register(weftPlugin, { pool, actors: system });
  t.is(app.weft.pool, pool as unknown as Pool);
  t.is(app.weft.actors, system);
  await app.close();
  t.is(await pool.run('inc', 1), 2, 'the pool was left open');
  t.is(await system.spawn(Counter, 3, { on: 'main' }).ask({ type: 'get' }), 3, 'the system was left running');

  // closeOnExit: the plugin also closes what it was given; a system it creates goes on that pool.
  const owned = new Pool<Tasks>({ module: TASKS, threads: 1 });
  const app2 = Fastify();
  await app2.register(weftPlugin, { pool: owned, actors: true, closeOnExit: true });
  t.not(app2.weft.actors, undefined);
  await app2.close();
  await rejectsWith(t, owned.run('inc', 1), 'WEFT_CLOSED');
  t.throws(() => app2.weft.actors!.spawn(Counter, 0), { code: 'WEFT_CLOSED' } as object);

  // A system the plugin creates on a pool it was given is shut down; the pool stays open.
  const app3 = Fastify();
  await app3.register(weftPlugin, { pool, actors: true });
  const created = app3.weft.actors!;
  t.not(created, system);
  await app3.close();
  t.throws(() => created.spawn(Counter, 0), { code: 'WEFT_CLOSED' } as object);
  t.is(await pool.run('inc', 2), 3);
});

test('another decorator name, the named export, and two registrations on one instance', async (t) => {
  t.is(namedPlugin, weftPlugin);
  const app = Fastify();
  await app.register(weftPlugin, { pool: { module: TASKS, threads: 1 }, decorator: 'cpu' });
  await app.register(namedPlugin, { actors: true });
  const cpu = app.getDecorator<WeftDecoration>('cpu');
  t.is(await cpu.pool!.run('inc', 1), 2);
  t.is(cpu.actors, undefined);
  t.is(app.weft.pool, undefined);
  t.not(app.weft.actors, undefined);
  await app.close();
  await rejectsWith(t, cpu.pool!.run('inc', 1), 'WEFT_CLOSED');
});

test('fastify-plugin: the decoration is on the scope that registers the plugin, not beside or above it', async (t) => {
  const app = Fastify();
  let sibling = true;
  await app.register(async (scope: FastifyInstance) => {
    await scope.register(weftPlugin, { pool: { module: TASKS, threads: 1 } });
    scope.get('/', async () => scope.weft.pool!.run('inc', 1));
  });
  await app.register(async (scope: FastifyInstance) => {
    sibling = scope.hasDecorator('weft');
  });
  await app.ready();
  t.false(app.hasDecorator('weft'));
  t.false(sibling);
  t.is((await app.inject('/')).body, '2');
  await app.close();
});

test('bad options reject the registration with WEFT_INVALID_ARG', async (t) => {
  const bad = async (options: unknown): Promise<void> => {
    const app = Fastify();
    await rejectsWith(t, app.register(weftPlugin, options as WeftPluginOptions), 'WEFT_INVALID_ARG');
    await app.close();
  };
  await bad({});
  await bad({ actors: false });
  await bad({ pool: 3 });
  await bad({ pool: null });
  await bad({ pool: { module: join(__dirname, '..', 'fixtures/no-such-module.mjs') } });
  await bad({ pool: { module: TASKS, threads: 0 } });
  await bad({ actors: 'yes' });
  await bad({ actors: { pool: {} } });
  await bad({ actors: { askTimeout: -1 } });
  await bad({ pool: { module: TASKS, threads: 1 }, actors: { askTimeout: -1 } });
  await bad({ actors: true, decorator: '' });
  await bad({ actors: true, closeOnExit: 'yes' });
  await bad({ actors: true, shutdownTimeout: -5 });

  // The name is taken: nothing is created.
  const app = Fastify();
  app.decorate('weft', { pool: undefined, actors: undefined });
  await rejectsWith(t, app.register(weftPlugin, { pool: { module: TASKS, threads: 1 } }), 'WEFT_INVALID_ARG');
  await app.close();
});
