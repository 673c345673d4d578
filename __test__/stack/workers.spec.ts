import test from 'ava';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SharedStack } from '../../src/index.js';

test('worker threads push and pop one stack concurrently: every value exactly once', async (t) => {
  const WORKERS = 4;
  const COUNT = 20_000;
  const stack = new SharedStack<number>();
  const workers = Array.from(
    { length: WORKERS },
    (_, id) =>
      new Worker(join(__dirname, '..', 'fixtures/stack-worker.cjs'), {
        workerData: { handle: stack.handle, id, count: COUNT, popEvery: 2 },
      }),
  );
  // The main thread pops concurrently too.
  const mainPopped: number[] = [];
  const results = workers.map((w) => once(w, 'message').then(([m]) => m as number[]));
  let running = true;
  const done = Promise.all(results).finally(() => {
    running = false;
  });
  while (running) {
    const v = stack.pop();
    if (v !== undefined) mainPopped.push(v);
    else await new Promise((r) => setImmediate(r));
  }
  const popped = (await done).flat().concat(mainPopped);
  let rest: number[];
  while ((rest = stack.popMany(10_000)).length > 0) popped.push(...rest);

  const expected = new Set<number>();
  for (let id = 0; id < WORKERS; id++) for (let i = 0; i < COUNT; i++) expected.add(id * 1_000_000 + i);
  t.is(popped.length, expected.size, 'as many pops as pushes');
  const seen = new Set(popped);
  t.is(seen.size, popped.length, 'no value popped twice');
  for (const v of expected) if (!seen.has(v)) t.fail(`value ${v} lost`);
  t.is(stack.size, 0);
  await Promise.all(workers.map((w) => w.terminate()));
});

test('a value pushed in a worker pops on the main thread with its type intact', async (t) => {
  const stack = new SharedStack();
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     const { SharedStack } = require(${JSON.stringify(join(__dirname, '..', '..'))});
     const s = SharedStack.from(workerData);
     s.push({ from: 'worker', when: new Date(5), tags: new Set(['a']) });
     s.push(new Int16Array([-2, 3]));
     s.push(12345678901234567890n);`,
    { eval: true, workerData: stack.handle },
  );
  await once(w, 'exit');
  t.is(stack.pop(), 12345678901234567890n);
  t.deepEqual(stack.pop(), new Int16Array([-2, 3]));
  t.deepEqual(stack.pop(), { from: 'worker', when: new Date(5), tags: new Set(['a']) });
});

test('the stack outlives the thread that made it while another thread holds it', async (t) => {
  // A worker creates a stack, pushes, hands us the handle and exits; we attach before it exits.
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const { SharedStack } = require(${JSON.stringify(join(__dirname, '..', '..'))});
     const s = SharedStack.from(require('node:worker_threads').workerData ?? new SharedStack().handle);
     s.push('made in a worker');
     parentPort.once('message', () => process.exit(0));
     parentPort.postMessage(s.handle);`,
    { eval: true },
  );
  const [handle] = (await once(w, 'message')) as [Parameters<typeof SharedStack.from>[0]];
  const mine = SharedStack.from(handle);
  w.postMessage('exit');
  await once(w, 'exit');
  t.is(mine.pop(), 'made in a worker');
});
