// weftjs/piscina against piscina's documented behaviour (piscina 4 and 5 docs: the constructor,
// run(task, { name, transferList, signal, filename }), close/destroy, the events, the properties,
// move/isWorkerThread/workerData): task modules written for piscina run unchanged.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type Worker, threadId } from 'node:worker_threads';
import test, { type ExecutionContext } from 'ava';
import { WeftError, type WeftErrorCode } from '../../src/index.js';
import Piscina, {
  type PiscinaOptions,
  Piscina as NamedPiscina,
  isWorkerThread,
  move,
  transferableSymbol,
  valueSymbol,
  version,
  workerData,
} from '../../src/piscina/index.js';
import { rejection } from '../helpers.js';

const fixture = (name: string): string => join(__dirname, '..', 'fixtures', name);
const WORKER = fixture('piscina-worker.mjs');
const OTHER = fixture('piscina-other.mjs');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function make(t: ExecutionContext, options: PiscinaOptions = {}): Piscina {
  const piscina = new Piscina({ filename: WORKER, maxThreads: 2, ...options });
  t.teardown(() => piscina.destroy());
  return piscina;
}

async function waitFor(t: ExecutionContext, what: string, check: () => boolean, ms = 10_000, info?: () => unknown): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) {
      if (info !== undefined) t.log(JSON.stringify(info()));
      t.fail(`timed out waiting for ${what}`);
      return;
    }
    await sleep(10);
  }
}

function isAbortError(t: ExecutionContext, err: unknown, code: WeftErrorCode): void {
  t.true(err instanceof Error, String(err));
  t.is((err as Error).name, 'AbortError', String(err));
  t.is((err as WeftError).code, code);
  t.true(err instanceof WeftError);
}

test('the default export and the named export are the same class, with piscina statics', (t) => {
  t.is(Piscina, NamedPiscina);
  t.is(Piscina.Piscina, Piscina);
  t.is(Piscina.move, move);
  t.is(Piscina.isWorkerThread, false);
  t.is(isWorkerThread, false);
  t.is(Piscina.workerData, undefined);
  t.is(workerData, undefined);
  t.regex(version, /^\d+\.\d+\.\d+/);
  t.is(Piscina.version, version);
  t.is<symbol, symbol>(transferableSymbol, Symbol.for('Piscina.transferable'));
  t.is<symbol, symbol>(valueSymbol, Symbol.for('Piscina.valueOf'));
  t.true(make(t, { minThreads: 1, maxThreads: 1 }) instanceof EventEmitter);
});

test('filename as a path, a file URL string or a URL; the task is the one argument of the default export', async (t) => {
  t.is(await make(t).run({ a: 2, b: 3 }), 5);
  t.is(await make(t, { filename: pathToFileURL(WORKER).href }).run({ a: 20, b: 22 }), 42);
  t.is(await make(t, { filename: pathToFileURL(WORKER) }).run({ a: 1, b: 1 }), 2);
  t.is(await make(t).run('x', { name: 'args' }), 1, 'exactly one argument');
  t.is(await make(t).run(undefined, { name: 'args' }), 1);
});

test('name: the constructor sets the default export to run, run() overrides it', async (t) => {
  const piscina = make(t, { name: 'mul' });
  t.is(piscina.options.name, 'mul');
  t.is(await piscina.run({ a: 6, b: 7 }), 42);
  t.is(await piscina.run({ a: 6, b: 7 }, { name: 'default' }), 13);
  t.is(await piscina.run({ a: 6, b: 7 }, { name: null }), 42, 'null: the constructor name');
  const err = await rejection(t, piscina.run(1, { name: 'nope' }));
  t.is((err as WeftError).code, 'WEFT_INVALID_ARG');
});

test('task modules written for piscina: CommonJS module.exports, an async default, a promise of the function', async (t) => {
  t.is(await make(t, { filename: fixture('piscina-cjs.cjs') }).run(21), 42);
  t.is(await make(t, { filename: fixture('piscina-async.mjs') }).run(41), 42);
  t.is(await make(t, { filename: fixture('piscina-promise.mjs') }).run(1), 101);
});

test('a task that throws rejects with its error', async (t) => {
  const err = await rejection(t, make(t).run('bad input', { name: 'fail' }));
  t.true(err instanceof TypeError);
  t.is((err as Error).message, 'bad input');
});

test('run({ filename }) runs an export of another module for that task', async (t) => {
  const piscina = make(t);
  t.deepEqual(await piscina.run(1, { filename: OTHER }), { from: 'other', x: 1 });
  t.deepEqual(await piscina.run(2, { filename: pathToFileURL(OTHER).href, name: 'named' }), { from: 'other.named', x: 2 });
  t.is(await piscina.run({ a: 1, b: 2 }), 3, 'the constructor module still serves the others');
});

test('filename may be left out (or null) when every run names its own', async (t) => {
  const piscina = new Piscina({ filename: null, maxThreads: 1 });
  t.teardown(() => piscina.destroy());
  t.is(piscina.options.filename, null);
  const err = await rejection(t, piscina.run(1));
  t.is((err as WeftError).code, 'WEFT_INVALID_ARG');
  t.regex((err as Error).message, /filename must be given/);
  t.deepEqual(await piscina.run(3, { filename: OTHER }), { from: 'other', x: 3 });
});

test('transferList: an ArrayBuffer is transferred (detached here), a MessagePort arrives working', async (t) => {
  const piscina = make(t);
  const buffer = new ArrayBuffer(64);
  t.deepEqual(await piscina.run(buffer, { name: 'byteLength', transferList: [buffer] }), { byteLength: 64, kind: 'ArrayBuffer' });
  t.is(buffer.byteLength, 0, 'transferred');
  const copied = new ArrayBuffer(8);
  await piscina.run(copied, { name: 'byteLength' });
  t.is(copied.byteLength, 8, 'without transferList: copied');
  const { port1, port2 } = new MessageChannel();
  const reply = new Promise((resolve) => port1.once('message', resolve));
  t.true(await piscina.run(port2, { name: 'portEcho', transferList: [port2] }));
  t.is(await reply, 'pong');
  port1.close();
});

test('move(): an argument is transferred; a moved result comes back whole; a Transferable sends its value', async (t) => {
  const piscina = make(t);
  const bytes = new Uint8Array(32);
  t.deepEqual(await piscina.run(move(bytes), { name: 'byteLength' }), { byteLength: 32, kind: 'Uint8Array' });
  t.is(bytes.byteLength, 0, 'the sender keeps no copy');
  const back = (await piscina.run(16, { name: 'moveBack' })) as Uint8Array;
  t.true(back instanceof Uint8Array);
  t.is(back.byteLength, 16);
  t.is(back[15], 7);
  // piscina's Transferable interface: the value is sent, the listed objects transferred.
  const inner = new ArrayBuffer(24);
  const transferable = {
    get [transferableSymbol]() {
      return [inner];
    },
    get [valueSymbol]() {
      return inner;
    },
  };
  t.deepEqual(await piscina.run(move(transferable), { name: 'byteLength' }), { byteLength: 24, kind: 'ArrayBuffer' });
  t.is(inner.byteLength, 0);
  t.throws(() => move({} as never), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => move(42 as never), { code: 'WEFT_INVALID_ARG' });
});

test('isWorkerThread and workerData inside a task; env and argv (stringified) reach the workers', async (t) => {
  const piscina = make(t, { workerData: { answer: 42, list: [1, 2] }, env: { PISCINA_TEST: 'yes' }, argv: ['--flag', 7] });
  const info = (await piscina.run(null, { name: 'info' })) as Record<string, unknown>;
  t.is(info.isWorkerThread, true);
  t.deepEqual(info.workerData, { answer: 42, list: [1, 2] });
  t.not(info.threadId, threadId);
  t.is(info.env, 'yes');
  t.deepEqual(info.argv, ['--flag', '7']);
});

test('signal: aborting a queued task removes it; it rejects with an AbortError carrying the reason', async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 1 });
  const busy = piscina.run(300, { name: 'spin' });
  const controller = new AbortController();
  const queued = piscina.run(0, { name: 'sleep', signal: controller.signal });
  await sleep(20);
  controller.abort('changed my mind');
  const err = await rejection(t, queued);
  isAbortError(t, err, 'WEFT_ABORTED');
  t.is((err as Error).message, 'The task has been aborted');
  t.is((err as Error).cause, 'changed my mind');
  t.is(typeof (await busy), 'number', 'the running task is not affected');
});

test.serial('signal: aborting a running task stops the worker running it (piscina terminates it)', async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 1 });
  const destroyed: Worker[] = [];
  piscina.on('workerDestroy', (w: Worker) => destroyed.push(w));
  const first = await piscina.run(0, { name: 'sleep' });
  const controller = new AbortController();
  const started = Date.now();
  const running = piscina.run(10_000, { name: 'sleep', signal: controller.signal });
  await sleep(100);
  controller.abort();
  isAbortError(t, await rejection(t, running), 'WEFT_ABORTED');
  t.true(Date.now() - started < 5_000, 'rejected at once');
  await waitFor(t, 'the worker to be replaced', () => destroyed.length === 1);
  const next = await piscina.run(0, { name: 'sleep' });
  t.not(next, first, 'a new worker runs the next task');
});

test('signal: an aborted signal rejects at once; EventEmitter and EventTarget abort sources work too', async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 1 });
  isAbortError(t, await rejection(t, piscina.run(0, { name: 'sleep', signal: AbortSignal.abort('early') })), 'WEFT_ABORTED');

  const busy = piscina.run(200, { name: 'spin' });
  const emitter = new EventEmitter();
  const viaEmitter = piscina.run(0, { name: 'sleep', signal: emitter });
  const target = new EventTarget();
  const viaTarget = piscina.run(0, { name: 'sleep', signal: target as never });
  await sleep(20);
  emitter.emit('abort');
  target.dispatchEvent(new Event('abort'));
  isAbortError(t, await rejection(t, viaEmitter), 'WEFT_ABORTED');
  isAbortError(t, await rejection(t, viaTarget), 'WEFT_ABORTED');
  await busy;
  t.is(emitter.listenerCount('abort'), 0, 'the listener is removed');
  // A signal that never aborts changes nothing.
  t.is(await piscina.run({ a: 1, b: 1 }, { signal: new AbortController().signal }), 2);
});

test("events: 'workerCreate' for the workers started with the pool, 'workerDestroy' when they end", async (t) => {
  const piscina = new Piscina({ filename: WORKER, minThreads: 2, maxThreads: 2 });
  const created: Worker[] = [];
  const destroyed: Worker[] = [];
  piscina.on('workerCreate', (w: Worker) => created.push(w));
  piscina.on('workerDestroy', (w: Worker) => destroyed.push(w));
  await sleep(0);
  t.is(created.length, 2, 'listeners attached after the constructor see the first workers');
  t.deepEqual(
    created.map((w) => w.threadId),
    piscina.threads.map((w) => w.threadId),
  );
  await piscina.close();
  t.is(destroyed.length, 2);
});

test("events: 'needsDrain' when the pool is at capacity, then 'drain'", async (t) => {
  const piscina = make(t, { minThreads: 2, maxThreads: 2 });
  let needsDrain = 0;
  let drain = 0;
  piscina.on('needsDrain', () => needsDrain++);
  piscina.on('drain', () => drain++);
  t.false(piscina.needsDrain);
  const tasks = Array.from({ length: 6 }, () => piscina.run(30, { name: 'sleep' }));
  await waitFor(t, 'needsDrain', () => needsDrain > 0);
  t.true(piscina.needsDrain);
  await Promise.all(tasks);
  await waitFor(t, 'drain', () => drain > 0);
  t.false(piscina.needsDrain);
});

test("events: what a task posts on parentPort is a 'message' event", async (t) => {
  const piscina = make(t);
  const messages: unknown[] = [];
  piscina.on('message', (m) => messages.push(m));
  t.true(await piscina.run({ hello: 'world' }, { name: 'post' }));
  // A message that looks like weft's own is still the task's when it has another type.
  await piscina.run({ type: 'progress', done: 1 }, { name: 'post' });
  await waitFor(t, 'the messages', () => messages.length === 2);
  t.deepEqual(messages, [{ hello: 'world' }, { type: 'progress', done: 1 }]);
});

test("events: 'error' for a worker that fails outside any task (only when listened to); the pool replaces the worker", async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 1 });
  const errors: Error[] = [];
  piscina.on('error', (err: Error) => errors.push(err));
  const crashed = await piscina.run('boom', { name: 'crashLater' });
  await waitFor(t, "the 'error' event", () => errors.length === 1);
  t.is(errors[0]!.message, 'boom');
  t.not(await piscina.run(0, { name: 'sleep' }), crashed, 'a new worker runs the next task');
  // Nobody listening: the process goes on.
  piscina.removeAllListeners('error');
  const again = await piscina.run('unheard', { name: 'crashLater' });
  await waitFor(t, 'the worker to be replaced', () => piscina.threads.length === 1 && piscina.threads[0]!.threadId !== again);
  t.is(await piscina.run({ a: 1, b: 1 }), 2);
});

test('properties: threads, completed, queueSize, idleThreads, duration, utilization and the histograms follow the tasks', async (t) => {
  const piscina = make(t, { minThreads: 2, maxThreads: 2 });
  t.is(piscina.threads.length, 2);
  t.is(piscina.completed, 0);
  t.is(piscina.queueSize, 0);
  t.is(piscina.maxThreads, 2);
  t.is(piscina.minThreads, 2);
  const tasks = Array.from({ length: 8 }, () => piscina.run(40, { name: 'spin' }));
  await sleep(30);
  t.true(piscina.queueSize > 0, `queueSize ${piscina.queueSize} while 8 tasks share 2 workers`);
  await Promise.all(tasks);
  await rejection(t, piscina.run('x', { name: 'fail' }));
  t.is(piscina.completed, 9, 'completed counts the failed task too');
  t.is(piscina.queueSize, 0);
  await waitFor(t, 'idle threads', () => piscina.idleThreads === 2);
  t.true(piscina.duration > 0);
  t.true(piscina.utilization > 0 && piscina.utilization <= 1, `utilization ${piscina.utilization}`);
  for (const summary of [piscina.runTime, piscina.histogram.runTime]) {
    t.true(summary.mean >= 30, `mean run time ${summary.mean}`);
    t.is(summary.average, summary.mean);
    t.true(summary.min <= summary.p50 && summary.p50 <= summary.p99 && summary.p99 <= summary.max);
    t.true(summary.p0_001 <= summary.p25 && summary.p25 <= summary.p50);
    t.true(summary.p97_5 >= summary.p90 && summary.p97_5 <= summary.p99);
    t.true(summary.p99_999 <= summary.max && summary.p99_99 >= summary.p99_9);
  }
  const keys = Object.keys(piscina.waitTime).sort();
  t.deepEqual(
    keys,
    [
      'average',
      'max',
      'mean',
      'min',
      'p0_001',
      'p0_01',
      'p0_1',
      'p1',
      'p10',
      'p25',
      'p2_5',
      'p50',
      'p75',
      'p90',
      'p97_5',
      'p99',
      'p99_9',
      'p99_99',
      'p99_999',
      'stddev',
    ].sort(),
  );
  t.true(piscina.waitTime.max > 0, 'some tasks waited');
  t.throws(() => piscina.histogram.resetRunTime(), { code: 'WEFT_INVALID_ARG' });
});

test('close(): the submitted tasks finish, new ones are refused, then the workers stop and close is emitted', async (t) => {
  const piscina = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1 });
  let closed = 0;
  piscina.on('close', () => closed++);
  const tasks = Array.from({ length: 4 }, () => piscina.run(20, { name: 'sleep' }));
  const closing = piscina.close();
  t.is(piscina.close(), closing, 'close twice: the same promise');
  const err = await rejection(t, piscina.run({ a: 1, b: 1 }));
  t.is((err as WeftError).code, 'WEFT_CLOSED');
  await closing;
  const results = await Promise.allSettled(tasks);
  t.true(
    results.every((r) => r.status === 'fulfilled'),
    'every submitted task ran',
  );
  t.is(piscina.threads.length, 0);
  t.is(closed, 1);
});

test.serial('close({ force: true }): the tasks not yet started reject with an AbortError; the running one finishes', async (t) => {
  const piscina = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1 });
  const running = piscina.run(1_000, { name: 'sleep' });
  const queued = Array.from({ length: 3 }, () => piscina.run(1_000, { name: 'sleep' }));
  await waitFor(
    t,
    'the first task to start',
    () => piscina.pool.stats().running === 1,
    10_000,
    () => piscina.pool.stats(),
  );
  const started = Date.now();
  const closing = piscina.close({ force: true });
  for (const p of queued) isAbortError(t, await rejection(t, p), 'WEFT_CLOSED');
  t.true(Date.now() - started < 500, 'the queued tasks rejected at once');
  t.is(typeof (await running), 'number', 'the running task completed');
  await closing;
  t.true(Date.now() - started < 2_500, 'close did not run the queued tasks');
  t.is(piscina.threads.length, 0);
});

test.serial('destroy(): every pending task rejects (WEFT_CLOSED) and the workers stop at once', async (t) => {
  const piscina = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1 });
  const tasks = Array.from({ length: 3 }, () => piscina.run(5_000, { name: 'sleep' }));
  await sleep(50);
  const started = Date.now();
  await piscina.destroy();
  t.true(Date.now() - started < 5_000);
  for (const p of tasks) t.is(((await rejection(t, p)) as WeftError).code, 'WEFT_CLOSED');
  t.is(((await rejection(t, piscina.run({ a: 1, b: 1 }))) as WeftError).code, 'WEFT_CLOSED');
});

test.serial("closeTimeout: close() destroys the pool after it; 'error' is emitted, or close rejects when nobody listens", async (t) => {
  const quiet = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1, closeTimeout: 100 });
  const slow = quiet.run(10_000, { name: 'sleep' });
  const err = await rejection(t, quiet.close());
  t.is((err as WeftError).code, 'WEFT_CLOSED');
  t.regex((err as Error).message, /timed out after 100 ms/);
  t.is(((await rejection(t, slow)) as WeftError).code, 'WEFT_CLOSED', 'the task was stopped');

  const heard = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1, closeTimeout: 100 });
  const errors: Error[] = [];
  heard.on('error', (e: Error) => errors.push(e));
  const slow2 = heard.run(10_000, { name: 'sleep' });
  await heard.close();
  t.is(errors.length, 1);
  t.regex(errors[0]!.message, /closeTimeout/);
  await rejection(t, slow2);
});

test.serial('maxQueue: tasks beyond it are refused (WEFT_QUEUE_FULL); 0 refuses a task when every worker is busy', async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 1, maxQueue: 2 });
  t.is(piscina.options.maxQueue, 2);
  const busy = piscina.run(500, { name: 'sleep' });
  await waitFor(
    t,
    'the task to start',
    () => piscina.pool.stats().running === 1,
    10_000,
    () => piscina.pool.stats(),
  );
  const waiting = [piscina.run(0, { name: 'sleep' }), piscina.run(0, { name: 'sleep' })];
  const err = await rejection(t, piscina.run(0, { name: 'sleep' }));
  t.is((err as WeftError).code, 'WEFT_QUEUE_FULL');
  await Promise.all([busy, ...waiting]);

  const none = make(t, { minThreads: 1, maxThreads: 1, maxQueue: 0 });
  const only = none.run(100, { name: 'spin' });
  t.is(((await rejection(t, none.run(0, { name: 'sleep' }))) as WeftError).code, 'WEFT_QUEUE_FULL');
  await only;
  t.is(typeof (await none.run(0, { name: 'sleep' })), 'number', 'accepted again once a worker is free');

  t.is(make(t, { minThreads: 1, maxThreads: 3, maxQueue: 'auto' }).options.maxQueue, 9, "'auto' is maxThreads squared");
  t.is(make(t, { minThreads: 1, maxThreads: 1 }).options.maxQueue, Infinity);
});

test.serial('concurrentTasksPerWorker: one worker runs that many async tasks at once', async (t) => {
  const serial = make(t, { minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 1 });
  let started = Date.now();
  await Promise.all(Array.from({ length: 4 }, () => serial.run(100, { name: 'sleep' })));
  const serialMs = Date.now() - started;
  t.true(serialMs >= 380, `4 tasks of 100 ms, one at a time: ${serialMs} ms`);

  const shared = make(t, { minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: 4 });
  t.is(shared.options.concurrentTasksPerWorker, 4);
  await shared.run(0, { name: 'sleep' });
  started = Date.now();
  const threads = await Promise.all(Array.from({ length: 4 }, () => shared.run(100, { name: 'sleep' })));
  const sharedMs = Date.now() - started;
  t.is(new Set(threads).size, 1, 'all on the one worker');
  t.true(sharedMs < 300, `4 tasks of 100 ms, four at a time: ${sharedMs} ms`);
});

test.serial('minThreads/maxThreads/idleTimeout: grows under load, shrinks back to minThreads when idle', async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 3, idleTimeout: 100 });
  const destroyed: Worker[] = [];
  piscina.on('workerDestroy', (w: Worker) => destroyed.push(w));
  t.is(piscina.threads.length, 1);
  await Promise.all(Array.from({ length: 9 }, () => piscina.run(100, { name: 'spin' })));
  t.true(piscina.pool.stats().liveThreads > 1, 'grew under load');
  await waitFor(t, 'the pool to shrink', () => piscina.threads.length === 1);
  t.true(destroyed.length >= 1);
});

test.serial('idleTimeout 0 (the default): a worker beyond minThreads leaves as soon as it is idle', async (t) => {
  const piscina = make(t, { minThreads: 1, maxThreads: 2 });
  t.is(piscina.options.idleTimeout, 0);
  await Promise.all(Array.from({ length: 4 }, () => piscina.run(100, { name: 'spin' })));
  await waitFor(t, 'the second worker to leave', () => piscina.threads.length === 1, 2_000);
  t.pass();
});

test('runTask (piscina 3/4, deprecated): the optional arguments by their type', async (t) => {
  const piscina = make(t);
  t.is(await piscina.runTask({ a: 1, b: 2 }), 3);
  t.deepEqual(await piscina.runTask(5, OTHER), { from: 'other', x: 5 });
  const buffer = new ArrayBuffer(4);
  t.deepEqual(await make(t, { name: 'byteLength' }).runTask(buffer, [buffer]), { byteLength: 4, kind: 'ArrayBuffer' });
  t.is(buffer.byteLength, 0);
  isAbortError(t, await rejection(t, piscina.runTask({ a: 1, b: 2 }, AbortSignal.abort())), 'WEFT_ABORTED');
});

test('await using: Symbol.asyncDispose closes the pool', async (t) => {
  const piscina = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1 });
  t.is(await piscina.run({ a: 1, b: 1 }), 2);
  await piscina[Symbol.asyncDispose]();
  t.is(piscina.threads.length, 0);
  t.is(((await rejection(t, piscina.run({ a: 1, b: 1 }))) as WeftError).code, 'WEFT_CLOSED');
});
