// npm start: a SharedStack shared by worker threads.
//
// The main thread pushes 200,000 jobs (numbers) onto one lock-free stack. Four worker threads
// attach to the same stack by its handle, pop jobs until it is empty, test each for primality,
// and push their findings onto a second shared stack. The main thread then checks that every
// job was taken exactly once and prints who did what.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SharedStack } from 'weftjs';

const JOBS = 200_000;
const WORKERS = Math.max(2, Math.min(4, availableParallelism()));

const jobs = new SharedStack();
const results = new SharedStack();
const t0 = performance.now();
jobs.pushMany(Array.from({ length: JOBS }, (_, i) => i + 1));
console.log(`main: pushed ${JOBS.toLocaleString()} jobs onto a SharedStack (handle ${JSON.stringify(jobs.handle)})`);

const workers = Array.from(
  { length: WORKERS },
  (_, id) =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL('./stack-demo-worker.mjs', import.meta.url), {
        workerData: { id, jobs: jobs.handle, results: results.handle },
      });
      w.once('message', resolve);
      w.once('error', reject);
    }),
);
const reports = await Promise.all(workers);
const ms = performance.now() - t0;

let taken = 0;
for (const r of reports) {
  taken += r.taken;
  console.log(`worker ${r.id}: took ${r.taken.toLocaleString().padStart(7)} jobs, found ${r.primes.toLocaleString().padStart(6)} primes`);
}
const found = [];
for (let batch; (batch = results.popMany(10_000)).length > 0; ) found.push(...batch);
const unique = new Set(found.map((f) => f.n));
const expectedPrimes = countPrimes(JOBS);

console.log(`main: ${taken.toLocaleString()} jobs taken in ${ms.toFixed(0)} ms by ${WORKERS} threads; jobs left: ${jobs.size}`);
console.log(
  `main: ${found.length.toLocaleString()} primes reported through the results stack (${unique.size.toLocaleString()} distinct; a sieve says ${expectedPrimes.toLocaleString()})`,
);
const ok = taken === JOBS && jobs.size === 0 && found.length === expectedPrimes && unique.size === expectedPrimes;
console.log(ok ? 'ok: every job was taken exactly once, nothing lost, nothing duplicated' : 'MISMATCH');
process.exitCode = ok ? 0 : 1;

function countPrimes(n) {
  const sieve = new Uint8Array(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (sieve[i]) continue;
    count++;
    for (let j = i * i; j <= n; j += i) sieve[j] = 1;
  }
  return count;
}
