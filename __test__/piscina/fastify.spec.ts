// fastifyPiscina (weftjs/fastify): fastify-piscina's API on weft. Registered with piscina's
// options, it decorates `fastify.piscina` and `fastify.runTask`, refuses a second registration,
// and closes the pool with the server.
import { join } from 'node:path';
import test from 'ava';
import Fastify from 'fastify';
import type { WeftError } from '../../src/index.js';
import { fastifyPiscina, piscina as piscinaPlugin } from '../../src/fastify/index.js';
import Piscina from '../../src/piscina/index.js';
import { rejection } from '../helpers.js';

const WORKER = join(__dirname, '..', 'fixtures', 'piscina-worker.mjs');

test('decorates fastify.piscina (a Piscina) and fastify.runTask; routes run tasks', async (t) => {
  t.is(piscinaPlugin, fastifyPiscina);
  const app = Fastify();
  t.teardown(() => app.close());
  await app.register(fastifyPiscina, { filename: WORKER, maxThreads: 2 });
  t.true(app.piscina instanceof Piscina);
  t.is(typeof app.runTask, 'function');
  app.get('/', async () => ({ result: await app.runTask({ a: 1, b: 2 }) }));
  app.get('/mul', async () => ({ result: await app.runTask({ a: 6, b: 7 }, { name: 'mul' }) }));
  t.deepEqual((await app.inject({ method: 'GET', url: '/' })).json(), { result: 3 });
  t.deepEqual((await app.inject({ method: 'GET', url: '/mul' })).json(), { result: 42 });
  t.is(app.piscina.completed, 2);
});

test('the pool is closed with the server', async (t) => {
  const app = Fastify();
  await app.register(fastifyPiscina, { filename: WORKER, maxThreads: 1 });
  const { piscina } = app;
  const pending = app.runTask(50, { name: 'sleep' });
  await app.close();
  t.is(typeof (await pending), 'number', 'a task submitted before close finished');
  t.is(piscina.threads.length, 0);
  t.is(((await rejection(t, app.runTask({ a: 1, b: 1 }))) as WeftError).code, 'WEFT_CLOSED');
});

test("a second registration fails, as fastify-piscina's does; piscina's option errors surface at ready()", async (t) => {
  const twice = Fastify();
  twice.register(fastifyPiscina, { filename: WORKER, maxThreads: 1 }).register(fastifyPiscina, { filename: WORKER, maxThreads: 1 });
  const err = (await rejection(
    t,
    Promise.resolve().then(() => twice.ready()),
  )) as WeftError;
  t.is(err.code, 'WEFT_INVALID_ARG');
  t.regex(err.message, /already been registered/);
  await twice.close();

  const bad = Fastify();
  bad.register(fastifyPiscina, { filename: WORKER, taskQueue: {} as never });
  const refused = (await rejection(
    t,
    Promise.resolve().then(() => bad.ready()),
  )) as WeftError;
  t.is(refused.code, 'WEFT_INVALID_ARG');
  t.regex(refused.message, /taskQueue is not supported/);
  await bad.close();
});

test("Fastify's register options (prefix, logLevel) are not taken for piscina's", async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  await app.register(fastifyPiscina, { filename: WORKER, maxThreads: 1, prefix: '/api', logLevel: 'warn' });
  t.is(await app.runTask({ a: 2, b: 2 }), 4);
});
