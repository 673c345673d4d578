// Reliability of the Pool under faults and long use: the scheduler's counters after worker
// crashes, late results of aborted tasks, and task names from untrusted input.
import test, { type ExecutionContext } from 'ava';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import {
  ActorSystem,
  Pool,
  SharedStack,
  WeftError,
  defineActor,
  type PoolOptions,
  type SharedStackHandle,
  type WeftErrorCode,
} from '../../src/index.js';
import { WireReader, WireWriter } from '../../src/internal/wire.js';
import type { NativePool } from '../../src/pool/native-pool.js';
import { STATUS_OK } from '../../src/pool/protocol.js';
import { Submitter } from '../../src/pool/submitter.js';
import { rejection } from '../helpers.js';

type Tasks = typeof import('../fixtures/reliability-tasks.mjs', { with: { 'resolution-mode': 'import' }});

const TASKS = join(__dirname, '..', 'fixtures/reliability-tasks.mjs');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A pool for one test, stopped when the test ends whatever happens. Its workers run any number of
 * async tasks at once: these tests hold a task open (gated) while others run on the same worker.
 */
function makePool(t: ExecutionContext, options: Partial<PoolOptions> = {}): Pool<Tasks> {
  const pool = new Pool<Tasks>({ module: TASKS, concurrentTasksPerWorker: 1024, ...options });
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
  t.deepEqual(
    values,
    Array.from({ length: 200 }, (_, i) => i),
    'every task ran once, elsewhere',
  );
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
    t.deepEqual(
      codes(results),
      new Map([
        ['ok', 49],
        ['WEFT_WORKER_EXIT', 1],
      ]),
      `round ${round}`,
    );
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

// ---------------------------------------------------------------------------------------------
// 2. A task aborted while it runs finishes later: its result must never settle another task,
// and its abort must never reach another task, however many tasks run in between.

/** Polls `cond` every few ms; fails the test if it is not true within `timeoutMs`. */
async function waitFor(t: ExecutionContext, what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) {
      t.fail(`timed out waiting for ${what}`);
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(2);
  }
}

test.serial('abort: the late result of a task aborted while running settles no later task', async (t) => {
  const pool = makePool(t, { threads: 1 });
  t.is(await pool.run('echo', 0), 0);
  const ac = new AbortController();
  const late = pool.runWith({ signal: ac.signal }, 'gated', 'A', 'the late result of A');
  await waitFor(t, 'task A to run', () => pool.run('waiting', 'A'));
  ac.abort();
  await rejectsWith(t, late, 'WEFT_ABORTED');
  // Tasks one at a time, so that they reuse the same pending-table entries (the aborted task's
  // among them) over and over. The 256th after the abort had the aborted task's id.
  for (let i = 1; i < 256; i++) t.is(await pool.run('echo', i), i);
  let settled = false;
  const mine = pool.run('gated', 'B', 'the result of B').then(
    (v) => v,
    (e: { code?: string }) => `rejected ${String(e.code)}`,
  );
  void mine.then(() => (settled = true));
  await waitFor(t, 'task B to run', async () => settled || (await pool.run('waiting', 'B')));
  // A finishes now, late: its result goes nowhere.
  t.true(await pool.run('open', 'A'));
  await sleep(20);
  await pool.run('open', 'B');
  t.is(await mine, 'the result of B');
  // After A's late completion came back, its id is free again. 300 rounds of 16 tasks reuse
  // every free entry (A's among them) 300 times: none of them is skipped or sees an abort.
  const wrong: string[] = [];
  for (let round = 0; round < 300; round++) {
    const results = await Promise.allSettled(Array.from({ length: 16 }, () => pool.run('signalAborted')));
    for (const r of results) {
      if (r.status === 'rejected') wrong.push(`rejected ${String((r.reason as { code?: string }).code)}`);
      else if (r.value !== false) wrong.push('its signal was aborted');
    }
  }
  t.deepEqual(wrong, []);
  const s = pool.stats();
  t.is(s.running, 0);
  t.is(s.queued, 0);
});

/** A gate for `holdUntil`: `started()` once the task runs, `open()` lets it return. */
function gate(): { buffer: SharedArrayBuffer; started: () => boolean; open: () => void } {
  const buffer = new SharedArrayBuffer(8);
  const cells = new Int32Array(buffer);
  return {
    buffer,
    started: () => Atomics.load(cells, 1) === 1,
    open: () => {
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
    },
  };
}

test.serial('abort: the late result of a task aborted on one worker settles no later task on another', async (t) => {
  const pool = makePool(t, { threads: 2 });
  await Promise.all([pool.run('echo', 0), pool.run('echo', 1)]);
  // A blocks worker 0 (a SharedArrayBuffer argument pins a task to a worker, round robin).
  const a = gate();
  const ac = new AbortController();
  const late = pool.runWith({ signal: ac.signal }, 'holdUntil', a.buffer, 'the late result of A');
  await waitFor(t, 'task A to run', a.started);
  ac.abort();
  await rejectsWith(t, late, 'WEFT_ABORTED');
  // Worker 1 runs tasks one at a time; the 256th after the abort had A's id. B blocks worker 1.
  for (let i = 1; i < 256; i++) t.is(await pool.run('echo', i), i);
  const b = gate();
  const mine = pool.run('holdUntil', b.buffer, 'the result of B').then(
    (v) => v,
    (e: { code?: string }) => `rejected ${String(e.code)}`,
  );
  await waitFor(t, 'task B to run', b.started);
  a.open();
  await waitFor(t, 'task A to finish', () => pool.stats().running === 1);
  await sleep(20);
  b.open();
  t.is(await mine, 'the result of B');
  for (let i = 0; i < 300; i++) t.is(await pool.run('echo', i), i);
});

test.serial('abort: aborting a child task inside a worker aborts nothing on the main thread', async (t) => {
  // A fresh pool: the main thread's first task and the worker's first child get the same id.
  const pool = makePool(t, { threads: 1 });
  const r = await pool.run('abortOwnChild');
  t.is(r.childOutcome, 'WEFT_ABORTED');
  t.false(r.ownAborted, 'the parent task (a main-thread task) was not aborted');
  // And no later main-thread task is lost to that cancellation.
  for (let i = 0; i < 300; i++) t.is(await Promise.race([pool.run('echo', i), sleep(5000).then(() => 'lost')]), i);
});

/**
 * The scheduler as the submitter sees it, without threads: it records the ids of submitted
 * tasks, and `cancel` says the task is running on worker 0.
 */
class FakeScheduler {
  submitted: number[] = [];
  queued = 0;
  intern(): number {
    return 0;
  }
  submit(_origin: number, bytes: Uint8Array): number {
    const r = new WireReader(bytes);
    let n = 0;
    while (r.remaining > 0) {
      const len = r.u32();
      const end = r.offset + len;
      this.submitted.push(r.u32());
      r.offset = end;
      n++;
    }
    return n;
  }
  cancel(): { slot: number; seq: number } {
    return { slot: 0, seq: 0 };
  }
  uncancel(): void {}
}

/** A completion's result record (status, value), as a worker writes it. */
function resultRecord(value: unknown): WireReader {
  const w = new WireWriter(64);
  w.u8(STATUS_OK);
  w.value(value);
  return new WireReader(w.view().slice());
}

test('abort: no task gets the id of an aborted task whose completion is still to come, past 2^8 and 2^16 reuses', async (t) => {
  const scheduler = new FakeScheduler();
  const submitter = new Submitter(scheduler as unknown as NativePool, 0);
  const ac = new AbortController();
  const aborted = submitter.submit('task', [], { signal: ac.signal });
  submitter.flush();
  const abortedId = scheduler.submitted.pop()!;
  ac.abort();
  await rejectsWith(t, aborted, 'WEFT_ABORTED');
  // 70,000 tasks one after the other: each settles before the next is submitted.
  let reused = 0;
  let wrong = 0;
  for (let i = 0; i < 70_000; i++) {
    const p = submitter.submit('task', [i]);
    submitter.flush();
    const id = scheduler.submitted.pop()!;
    if (id === abortedId) reused++;
    submitter.settle(id, true, i);
    if ((await p) !== i) wrong++;
  }
  t.is(reused, 0, 'tasks given the aborted task id while its completion was still to come');
  t.is(wrong, 0);
  // The late completion arrives while a task is pending: it settles nothing.
  const pending = submitter.submit('task', []);
  submitter.flush();
  const pendingId = scheduler.submitted.pop()!;
  submitter.settleFrom(abortedId, resultRecord('the late result'));
  submitter.settle(pendingId, true, 'its own result');
  t.is(await pending, 'its own result');
  t.is(submitter.pending, 0);
});

// ---------------------------------------------------------------------------------------------
// 3. Task names come from anywhere (request data): an unknown name is refused at the call, the
// name table stays bounded, and a name always runs its own task.

test.serial('names: 65,537 unknown task names are refused and never run another task', async (t) => {
  const pool = makePool(t, { threads: 1 });
  t.is(await pool.run('first'), 'first');
  const started = Date.now();
  const unknown = await Promise.allSettled(Array.from({ length: 65_537 }, (_, i) => pool.run(`not-a-task-${i}` as 'first')));
  t.log(`65,537 unknown names refused in ${Date.now() - started} ms`);
  t.deepEqual(codes(unknown), new Map([['WEFT_INVALID_ARG', 65_537]]));
  const last = unknown[65_536]!;
  t.is(last.status, 'rejected');
  t.regex((last as PromiseRejectedResult).reason.message, /"not-a-task-65536"/);
  // Tasks first used now run themselves.
  t.is(await pool.run('echo', 'mine'), 'mine');
  t.is(await pool.run('busy', 1), 1);
  t.is(await pool.run('first'), 'first');
});

test.serial('names: an unknown task name rejects WEFT_INVALID_ARG naming it and the nearest task', async (t) => {
  const pool = makePool(t, { threads: 1 });
  t.is(await pool.run('echo', 1), 1);
  const near = await rejectsWith(t, pool.run('ecoh' as 'echo', 1), 'WEFT_INVALID_ARG');
  t.regex(near.message, /"ecoh"/);
  t.regex(near.message, /did you mean "echo"\?/);
  t.regex(near.message, /\bholdUntil\b/, 'the message lists the tasks');
  const far = await rejectsWith(t, pool.run('somethingElse' as 'echo', 1), 'WEFT_INVALID_ARG');
  t.regex(far.message, /"somethingElse"/);
  t.notRegex(far.message, /did you mean/);
  // Inside a task too (fork-join).
  const child = await pool.run('childOutcome', 'ecoh', 1);
  t.is(child.code, 'WEFT_INVALID_ARG');
  t.regex(child.message ?? '', /"ecoh" \(did you mean "echo"\?\)/);
  t.deepEqual(await pool.run('childOutcome', 'echo', 3), { value: 3 });
  // And before any worker has loaded the module (the worker that gets the task refuses it).
  const fresh = makePool(t, { threads: 1 });
  const early = await rejectsWith(t, fresh.run('ecoh' as 'echo', 1), 'WEFT_INVALID_ARG');
  t.regex(early.message, /"ecoh"/);
  t.regex(early.message, /did you mean "echo"\?/);
  t.is(await fresh.run('echo', 2), 2);
});

// ---------------------------------------------------------------------------------------------
// 5. Bad input gets an error with a weft code, never a plain TypeError, a DOMException or a
// quietly wrong result.

test('bad input: SharedStack.from refuses a handle whose getter throws, and a token above 2^32', (t) => {
  const stack = new SharedStack<number>();
  stack.push(1);
  const throwing = {
    kind: 'weft:SharedStack',
    get id(): number {
      throw new Error('getter boom');
    },
    process: stack.handle.process,
  } as unknown as SharedStackHandle<number>;
  const e1 = t.throws(() => SharedStack.from(throwing), { instanceOf: WeftError });
  t.is(e1?.code, 'WEFT_INVALID_ARG');
  t.is((e1?.cause as Error | undefined)?.message, 'getter boom');
  const trap = new Proxy(
    {},
    {
      get() {
        throw new Error('trap boom');
      },
    },
  ) as SharedStackHandle<number>;
  t.is(t.throws(() => SharedStack.from(trap), { instanceOf: WeftError })?.code, 'WEFT_INVALID_ARG');
  // The token is a u32: one 2^32 above the real one used to be truncated to it and attach.
  const wrapped = { ...stack.handle, process: stack.handle.process + 2 ** 32 } as SharedStackHandle<number>;
  t.is(t.throws(() => SharedStack.from(wrapped), { instanceOf: WeftError })?.code, 'WEFT_INVALID_ARG');
  t.is(SharedStack.from(stack.handle).peek(), 1, 'the real handle still attaches');
});

test.serial('bad input: run options of the wrong kind reject WEFT_INVALID_ARG, a duplicated transfer too', async (t) => {
  const pool = makePool(t, { threads: 1 });
  const deep: Record<string, unknown> = {};
  let cur = deep;
  for (let i = 0; i < 10_000; i++) cur = cur.a = {};
  const bad: Array<[string, unknown]> = [
    ['signal: a symbol', { signal: Symbol('s') }],
    ['signal: a deep object', { signal: deep }],
    ['signal: a plain object with addEventListener', { signal: { aborted: false, addEventListener() {} } }],
    ['transfer: a symbol', { transfer: Symbol('t') }],
    ['transfer: a string', { transfer: 'abc' }],
    ['transfer: [1]', { transfer: [1] }],
    ['terminateOnAbort: "yes"', { terminateOnAbort: 'yes' }],
    [
      'a throwing getter',
      Object.defineProperty({}, 'signal', {
        enumerable: true,
        get: () => {
          throw new Error('boom');
        },
      }),
    ],
  ];
  for (const [what, options] of bad) {
    const err = await rejection(t, pool.runWith(options as never, 'echo', 1));
    t.true(err instanceof WeftError, `${what}: got ${String(err)}`);
    t.is((err as WeftError).code, 'WEFT_INVALID_ARG', `${what}: ${(err as Error).message}`);
  }
  const buf = new ArrayBuffer(8);
  const dup = await rejectsWith(t, pool.runWith({ transfer: [buf, buf] }, 'echo', buf), 'WEFT_INVALID_ARG');
  t.regex(dup.message, /same object twice/);
  t.is(buf.byteLength, 8, 'nothing was transferred');
  t.is(pool.stats().queued, 0);
  t.is(await pool.run('echo', 2), 2, 'the pool still works');
});

test.serial('bad input: proxy() answers Object.prototype members and symbols itself, submitting nothing', async (t) => {
  const pool = makePool(t, { threads: 1 });
  const proxy = pool.proxy();
  t.is(await proxy.echo(3), 3);
  const done = (): number => pool.stats().completed + pool.stats().failed;
  const before = done();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  // Each of these used to submit a task named after the member (and leave a rejected promise).
  t.false(Object.hasOwn(proxy, 'echo'));
  t.false(Object.hasOwn(proxy as unknown as { hasOwnProperty(k: string): boolean }, 'echo'));
  t.is(String(proxy), '[object PoolProxy]');
  t.is(`${proxy as unknown as string}`, '[object PoolProxy]');
  t.is(typeof (proxy as unknown as { valueOf(): unknown }).valueOf(), 'object');
  t.is((proxy as unknown as { then?: unknown }).then, undefined, 'not a thenable');
  await sleep(50);
  t.deepEqual(unhandled, []);
  t.is(done(), before, 'no task ran or was refused by a worker');
});

test.serial('abort: many tasks on one AbortSignal add one listener (no MaxListenersExceededWarning) and all abort', async (t) => {
  const pool = makePool(t, { threads: 1 });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const gate = new SharedArrayBuffer(8);
  const cells = new Int32Array(gate);
  const controller = new AbortController();
  const { signal } = controller;
  const held = pool.run('holdUntil', gate, 'held');
  const tasks = Array.from({ length: 50 }, (_, i) => pool.runWith({ signal }, 'echo', i));
  const mapped = pool.map(
    'echo',
    Array.from({ length: 400 }, (_, i) => i),
    { signal, chunkSize: 10 },
  );
  await sleep(20);
  t.is(getEventListeners(signal, 'abort').length, 1, 'one listener for 90 tasks');
  controller.abort(new Error('enough'));
  const settled = await Promise.allSettled(tasks);
  t.deepEqual(codes(settled), new Map([['WEFT_ABORTED', 50]]));
  await rejectsWith(t, mapped, 'WEFT_ABORTED');
  t.is(getEventListeners(signal, 'abort').length, 0);
  Atomics.store(cells, 0, 1);
  Atomics.notify(cells, 0);
  t.is(await held, 'held');
  // Tasks that settle normally take their entry off the signal too: the listener goes with the last.
  const second = new AbortController();
  await Promise.all(Array.from({ length: 30 }, (_, i) => pool.runWith({ signal: second.signal }, 'echo', i)));
  t.is(getEventListeners(second.signal, 'abort').length, 0);
  await sleep(20);
  t.deepEqual(
    warnings.filter((w) => w === 'MaxListenersExceededWarning'),
    [],
  );
});

test.serial('abort: many actor asks on one AbortSignal add one listener and all abort', async (t) => {
  const Slow = defineActor({
    init: () => 0,
    handlers: { wait: () => new Promise<number>((resolve) => setTimeout(() => resolve(1), 200)) },
  });
  const system = new ActorSystem();
  t.teardown(() => system.shutdown());
  const ref = system.spawn(Slow, undefined);
  const controller = new AbortController();
  const asks = Array.from({ length: 40 }, () => ref.ask({ type: 'wait' }, { signal: controller.signal }));
  t.is(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  const settled = await Promise.allSettled(asks);
  t.deepEqual(codes(settled), new Map([['WEFT_ABORTED', 40]]));
  t.is(getEventListeners(controller.signal, 'abort').length, 0);
  const bad = await rejection(t, ref.ask({ type: 'wait' }, { signal: 'nope' as unknown as AbortSignal }));
  t.is((bad as WeftError).code, 'WEFT_INVALID_ARG');
});

test.serial(
  'bad input: values that used to abort the process or escape uncoded are refused WEFT_INVALID_ARG (found by adversarial/bad-input)',
  async (t) => {
    const invalid = (f: () => unknown, what: string): void => {
      const err = t.throws(f, undefined, what);
      t.true(err instanceof WeftError && err.code === 'WEFT_INVALID_ARG', `${what}: ${String(err)}`);
    };
    // V8 aborted the process reserving a 2^31 MB code range; Node refused a 2^31 MB stack with a plain error.
    invalid(() => new Pool({ module: TASKS, threads: 1, resourceLimits: { codeRangeSizeMb: 2 ** 31 } }), 'codeRangeSizeMb');
    invalid(() => new Pool({ module: TASKS, threads: 1, resourceLimits: { stackSizeMb: 2 ** 31 } }), 'stackSizeMb');
    invalid(() => new Pool({ module: TASKS, threads: 1, name: Symbol('n') as unknown as string }), 'a Symbol name');
    const getter = Object.defineProperty({ module: TASKS }, 'threads', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    invalid(() => new Pool(getter), 'a throwing getter');
    invalid(() => new SharedStack(1 as never), 'new SharedStack(1)');
    invalid(() => new SharedStack<number>().pushMany(undefined as never), 'pushMany(undefined)');
    invalid(() => new SharedStack<number>().pushMany([, 1] as number[]), 'pushMany with a hole');
    const { ActorRef } = await import('../../src/index.js');
    invalid(
      () => ActorRef.fromJSON({ kind: 'weft:ActorRef', system: 1, process: 1, id: '' as unknown as number, bounded: false, waits: false }),
      'fromJSON id ""',
    );
    const system = new ActorSystem();
    t.teardown(() => system.shutdown());
    const Echo = defineActor({ init: () => 0, handlers: { echo: (_s, m: { v: unknown }) => m.v } });
    // Rust aborted allocating 48 GB for a 2^31-slot mailbox; 'constructor' passed the `in` check.
    invalid(() => system.spawn(Echo, undefined, { mailbox: { capacity: 2 ** 31 } }), 'capacity 2^31');
    invalid(
      () => system.spawn(Echo, undefined, { mailbox: { capacity: 4, overflow: 'constructor' as 'reject' } }),
      "overflow 'constructor'",
    );
    const stopped = await rejection(t, system.stop(null as never));
    t.is((stopped as WeftError).code, 'WEFT_INVALID_ARG');
    // A reply nobody can await (its `then` getter throws) rejects the ask at once instead of throwing
    // in the dispatch loop and leaving the ask to time out.
    const ref = system.spawn(Echo, undefined, { on: 'main' });
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    const reply = await rejection(t, ref.ask({ type: 'echo', v: hostile }, { timeout: 5000 }));
    t.is((reply as WeftError).code, 'WEFT_INVALID_ARG');
    t.is(await ref.ask({ type: 'echo', v: 7 }), 7, 'the actor still works');
  },
);
