// A consumer of examples/shared/work-queue.mts, on a worker thread (plain JavaScript: a worker's
// entry file is loaded before any TypeScript loader; the types are in JSDoc).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMap, SharedQueue } from 'weftjs';

/** @type {import('./work-queue.mjs').ConsumerData} */
const { id, jobs: jobsHandle, doneBy: doneByHandle } = workerData;
const jobs = SharedQueue.from(jobsHandle);
const doneBy = SharedMap.from(doneByHandle);

let done = 0;
for await (const job of jobs) {
  createHash('sha256').update(job.text).digest('hex'); // the work
  // Each job reaches exactly one worker: a second claim of the same id would fail here.
  if (!doneBy.compareAndSet(job.id, undefined, id)) throw new Error(`job ${job.id} was taken twice`);
  done++;
}
parentPort?.postMessage(done);
