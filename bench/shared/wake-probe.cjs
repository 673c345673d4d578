// The wake-up floor of SharedQueue's mechanism, without its JavaScript side: a worker installs a
// NativeQueue waker (a weak threadsafe function) and measures hrtime at the callback's entry, against
// the main thread's hrtime pushed 1 ms after the previous wake-up. Run: node bench/shared/wake-probe.cjs
// (from the repository root, after npm run build). Prints p50/p90 of 300 wake-ups, in µs.
const { Worker, MessageChannel } = require('node:worker_threads');
const { native } = require('../../dist/native.js');
const hr = () => Number(process.hrtime.bigint());
const q = new native.NativeQueue();
const back = new native.NativeQueue();
const w = new Worker(
  `
const { native } = require(process.cwd() + '/dist/native.js');
const { workerData, parentPort } = require('node:worker_threads');
const hr = () => Number(process.hrtime.bigint());
const q = native.NativeQueue.attach(workerData.id, workerData.token);
const back = native.NativeQueue.attach(workerData.bid, workerData.token);
const keep = setInterval(() => {}, 1 << 30);
q.setWaker(() => { const t = hr(); const v = q.pop(); if (v === undefined) { q.waitForItem(); return; } back.push(t - v); q.waitForItem(); });
q.waitForItem();
parentPort.postMessage('ready');
`,
  { eval: true, workerData: { id: q.id, token: q.token, bid: back.id } },
);
w.once('message', async () => {
  const out = [];
  for (let i = 0; i < 310; i++) {
    await new Promise((r) => setTimeout(r, 1));
    q.push(hr());
    let v;
    while ((v = back.pop()) === undefined) await new Promise((r) => setImmediate(r));
    if (i >= 10) out.push(v / 1000);
  }
  out.sort((a, b) => a - b);
  console.log('raw tsfn wake p50', out[150].toFixed(1), 'p90', out[270].toFixed(1));
  process.exit(0);
});
