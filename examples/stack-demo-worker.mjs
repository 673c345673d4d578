// A worker of the stack demo: attaches to the shared stacks by handle and drains the job stack.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedStack } from 'weftjs';

const jobs = SharedStack.from(workerData.jobs);
const results = SharedStack.from(workerData.results);
let taken = 0;
let primes = 0;
for (let n; (n = jobs.pop()) !== undefined; ) {
  taken++;
  if (isPrime(n)) {
    primes++;
    results.push({ n, by: workerData.id });
  }
}
parentPort.postMessage({ id: workerData.id, taken, primes });

function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
