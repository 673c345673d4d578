// npm run demo:queue — a work queue consumed by several worker threads (the README's SharedQueue
// example, runnable: `node --import=tsx examples/shared/work-queue.mts`).
//
// The main thread pushes 10,000 jobs into a bounded SharedQueue (pushAsync waits for room), four
// workers attached by its handle take them with `for await`, and each records the job it took in a
// SharedMap with compareAndSet (so a job taken twice would be caught). After close(), the workers
// drain what is left and their loops end; the main thread checks that every job was done once.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { SharedMap, SharedQueue } from 'weftjs';

export interface Job {
  id: number;
  text: string;
}

/** What the main thread hands each worker. */
export interface ConsumerData {
  id: number;
  jobs: SharedQueue<Job>['handle'];
  doneBy: SharedMap<number, number>['handle'];
}

const JOBS = 10_000;
const WORKERS = 4;

const jobs = new SharedQueue<Job>({ capacity: 1024 });
const doneBy = new SharedMap<number, number>(); // job id → the worker that did it

const t0 = performance.now();
const workers = Array.from({ length: WORKERS }, (_, id) => {
  const data: ConsumerData = { id, jobs: jobs.handle, doneBy: doneBy.handle };
  const w = new Worker(new URL('./work-queue-consumer.mjs', import.meta.url), { workerData: data });
  return once(w, 'message') as Promise<[number]>;
});
for (let id = 0; id < JOBS; id++) await jobs.pushAsync({ id, text: `job ${id}` }); // waits for room
jobs.close(); // the consumers take what is left, then their loops end

const counts = (await Promise.all(workers)).map(([n]) => n);
const total = counts.reduce((a, b) => a + b, 0);
console.log(`${JOBS} jobs through a SharedQueue (capacity 1,024) to ${WORKERS} workers in ${(performance.now() - t0).toFixed(0)} ms`);
console.log(`jobs per worker: ${counts.join(', ')}`);
if (total !== JOBS || doneBy.size !== JOBS) throw new Error(`expected ${JOBS} jobs done once each, got ${total} (${doneBy.size} distinct)`);
console.log('every job was done exactly once');
