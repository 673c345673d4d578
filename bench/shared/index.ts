/**
 * Shared structures benchmark: `npm run bench:shared` (= `node --import=tsx bench/shared/index.ts`).
 *
 *   1. SharedQueue, numbers, main thread pushes / a worker pops, values/s end to end, against a
 *      MessagePort (one value per message, and arrays of 1,024 per message) and a hand-written
 *      single-producer single-consumer ring on a SharedArrayBuffer with Atomics (the floor).
 *   2. Wake latency across threads: a worker waits (SharedQueue.popAsync, a MessagePort's
 *      'message', Atomics.waitAsync); the main thread sends its hrtime; the worker measures
 *      now - sent when it wakes. p50/p90 of `--samples` wake-ups, 1 ms apart (the worker is asleep).
 *   3. SharedMap, numbers: get and set on one thread; get on two threads at once; against a Map
 *      served by a worker over a MessagePort (one request per message, 64 in flight). With 1,024
 *      keys (a hot set, in the CPU caches) and 65,536 (on the 2-core VM, out of them: every get is
 *      a cache miss, and the figures are the memory's).
 *   4. The Rust stack (crate/core/examples/stack_bench.rs) on the tight and the fair workload
 *      (`--work 20`: local work between operations), against Mutex<Vec>, same run.
 *
 * Every figure is the median of `--runs` runs, the cases of a group interleaved run by run.
 * Writes bench/results/shared.json and prints a table.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type TransferListItem, Worker } from 'node:worker_threads';
import {
  ROOT as root,
  checkBuilt,
  commandLine,
  flags,
  fmt,
  machineInfo,
  median,
  parseBenchArgs,
  quantile,
  resultsPath,
  textTable,
  writeResults,
} from '../harness/index.js';

type Weft = typeof import('weftjs');

const WORKER = pathToFileURL(join(__dirname, 'worker.mjs'));
const now = (): bigint => process.hrtime.bigint();
const hr = (): number => Number(process.hrtime.bigint());
const seconds = (from: bigint, to: bigint): number => Number(to - from) / 1e9;
const mega = fmt.mega;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `Atomics.waitAsync` (Node 16+; typed from lib es2024, which this project's lib predates). */
const waitAsync = (
  Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }
).waitAsync;

function parseArgs() {
  return parseBenchArgs({
    usage: 'npm run bench:shared -- [flags]',
    description:
      'SharedQueue and SharedMap against MessagePort, a SharedArrayBuffer ring and a MessagePort-served Map; the Rust stack against Mutex<Vec>.',
    flags: {
      runs: flags.runs({ default: 7, min: 3, help: 'runs of every case' }),
      samples: { type: 'int', default: 300, min: 50, help: 'wake-ups measured per latency case' },
      'skip-rust': { type: 'boolean', help: 'no cargo run of the Rust stack example' },
      out: flags.out('where the JSON goes (default bench/results/shared.json)'),
    },
  }).values;
}

function start(data: Record<string, unknown>, transferList: TransferListItem[] = []): Promise<Worker> {
  const worker = new Worker(WORKER, { workerData: data, transferList });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { ready?: boolean }) => (m.ready ? resolve(worker) : reject(new Error('worker not ready'))));
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Queue, end to end

interface Pipe {
  name: string;
  worker: Worker;
  ctrl: Int32Array;
  produce: (n: number) => void;
  done: Promise<number[]>;
}

const N = 500_000;
const CHUNK = 1024;

async function pipe(weft: Weft, name: string, rounds: number): Promise<Pipe> {
  const ctrlBuffer = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(ctrlBuffer);
  const base = { n: N, rounds, ctrl: ctrlBuffer };
  const chunk = Array.from({ length: CHUNK }, (_, i) => i);
  let worker: Worker;
  let produce: (n: number) => void;
  if (name === 'SharedQueue pushMany/popMany (1,024)' || name === 'SharedQueue push/pop') {
    const queue = new weft.SharedQueue<number>();
    const single = name === 'SharedQueue push/pop';
    worker = await start({ ...base, mode: single ? 'queue1' : 'queue', handle: queue.handle });
    produce = single
      ? (n) => {
          for (let i = 0; i < n; i++) queue.push(i);
        }
      : (n) => {
          for (let i = 0; i < n; i += CHUNK) {
            for (let j = 0; j < CHUNK; j++) chunk[j] = i + j;
            queue.pushMany(i + CHUNK <= n ? chunk : chunk.slice(0, n - i));
          }
        };
  } else if (name === 'MessagePort, one value per message' || name === 'MessagePort, arrays of 1,024') {
    const { port1, port2 } = new MessageChannel();
    const single = name === 'MessagePort, one value per message';
    worker = await start({ ...base, mode: single ? 'port' : 'portBatch', port: port2 }, [port2]);
    produce = single
      ? (n) => {
          for (let i = 0; i < n; i++) port1.postMessage(i);
        }
      : (n) => {
          for (let i = 0; i < n; i += CHUNK) {
            const a = new Array<number>(Math.min(CHUNK, n - i));
            for (let j = 0; j < a.length; j++) a[j] = i + j;
            port1.postMessage(a);
          }
        };
  } else {
    const SLOTS = 1 << 16;
    const ring = new SharedArrayBuffer(8 + SLOTS * 8);
    const idx = new Int32Array(ring, 0, 2);
    const data = new Float64Array(ring, 8, SLOTS);
    let tail = 0;
    worker = await start({ ...base, mode: 'ring', ring, slots: SLOTS });
    produce = (n) => {
      for (let i = 0; i < n; ) {
        const head = Atomics.load(idx, 0);
        const room = SLOTS - ((tail - head) | 0);
        if (room === 0) continue;
        const m = Math.min(room, n - i, CHUNK);
        for (let j = 0; j < m; j++) data[(tail + j) % SLOTS] = i + j;
        tail = (tail + m) | 0;
        i += m;
        Atomics.store(idx, 1, tail);
        Atomics.notify(idx, 1);
      }
    };
  }
  const done = new Promise<number[]>((resolve) => worker.on('message', (m: { sums?: number[] }) => m.sums && resolve(m.sums)));
  return { name, worker, ctrl, produce, done };
}

function round(p: Pipe, r: number): number {
  const t0 = now();
  Atomics.store(p.ctrl, 0, r);
  Atomics.notify(p.ctrl, 0);
  p.produce(N);
  const deadline = Date.now() + 60_000;
  while (Atomics.load(p.ctrl, 1) < r) {
    Atomics.wait(p.ctrl, 1, r - 1, 1_000);
    if (Date.now() > deadline) throw new Error(`${p.name}: round ${r} did not finish in 60 s`);
  }
  return N / seconds(t0, now());
}

async function queues(weft: Weft, runs: number) {
  const names = [
    'SharedQueue pushMany/popMany (1,024)',
    'SharedQueue push/pop',
    'MessagePort, one value per message',
    'MessagePort, arrays of 1,024',
    'SharedArrayBuffer ring + Atomics (hand-written SPSC)',
  ];
  const rounds = runs + 1;
  const pipes = [];
  for (const name of names) pipes.push(await pipe(weft, name, rounds));
  const samples = names.map(() => [] as number[]);
  for (let r = 1; r <= rounds; r++) {
    pipes.forEach((p, i) => {
      const rate = round(p, r);
      if (r > 1) samples[i]!.push(rate);
    });
  }
  const expected = (N * (N - 1)) / 2;
  for (const p of pipes) {
    const sums = await p.done;
    if (sums.some((s) => s !== expected)) throw new Error(`${p.name}: values lost or duplicated (${sums.join(', ')})`);
    await p.worker.terminate();
  }
  return names.map((name, i) => ({ name, median_values_per_s: Math.round(median(samples[i]!)), samples: samples[i]!.map(Math.round) }));
}

// ---------------------------------------------------------------------------------------------
// 2. Wake latency

async function wakeLatency(weft: Weft, samples: number) {
  const results: { name: string; p50_us: number; p90_us: number; p99_us: number }[] = [];
  const summarize = (name: string, ns: number[]) => {
    const us = ns.map((x) => x / 1000);
    results.push({
      name,
      p50_us: +quantile(us, 0.5).toFixed(1),
      p90_us: +quantile(us, 0.9).toFixed(1),
      p99_us: +quantile(us, 0.99).toFixed(1),
    });
  };
  {
    const queue = new weft.SharedQueue<number>();
    const replies = new weft.SharedQueue<number>();
    const w = await start({ mode: 'wakeQueue', handle: queue.handle, replies: replies.handle });
    const out: number[] = [];
    for (let i = 0; i < samples + 10; i++) {
      await sleep(1);
      queue.push(hr());
      const lat = (await replies.popAsync())!;
      if (i >= 10) out.push(lat);
    }
    queue.close();
    await w.terminate();
    summarize('SharedQueue.popAsync (woken from Rust)', out);
  }
  {
    const { port1, port2 } = new MessageChannel();
    const w = await start({ mode: 'wakePort', port: port2 }, [port2]);
    const out: number[] = [];
    for (let i = 0; i < samples + 10; i++) {
      await sleep(1);
      port1.postMessage(hr());
      const [lat] = (await new Promise((r) => port1.once('message', (m) => r([m])))) as [number];
      if (i >= 10) out.push(lat);
    }
    port1.close();
    await w.terminate();
    summarize("MessagePort 'message'", out);
  }
  {
    const cell = new SharedArrayBuffer(8);
    const seqBuf = new SharedArrayBuffer(8);
    const outBuf = new SharedArrayBuffer(8 * (samples + 10));
    const c = new Float64Array(cell);
    const seq = new Int32Array(seqBuf);
    const lat = new Float64Array(outBuf);
    const w = await start({ mode: 'wakeAtomics', cell, seq: seqBuf, out: outBuf });
    for (let i = 1; i <= samples + 10; i++) {
      await sleep(1);
      c[0] = hr();
      Atomics.store(seq, 0, i);
      Atomics.notify(seq, 0);
      while (Atomics.load(seq, 1) < i) {
        const r = waitAsync(seq, 1, i - 1);
        if (r.async) await r.value;
      }
    }
    await w.terminate();
    summarize('Atomics.waitAsync on a SharedArrayBuffer (floor)', Array.from(lat.subarray(10)));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// 3. Map

/** Key-set sizes: a hot set that stays in the CPU caches, and one that does not (on this VM). */
const KEY_SETS = [1_024, 65_536];

async function maps(weft: Weft, runs: number, KEYS: number) {
  const map = new weft.SharedMap<number, number>();
  for (let k = 0; k < KEYS; k++) map.set(k, k);
  const OPS = 2_000_000;
  const getOne = (): number => {
    let sum = 0;
    const t0 = now();
    for (let i = 0; i < OPS; i++) sum += map.get(i & (KEYS - 1))!;
    const rate = OPS / seconds(t0, now());
    if (sum <= 0) throw new Error('map get: bad sum');
    return rate;
  };
  const setOne = (): number => {
    const t0 = now();
    for (let i = 0; i < OPS; i++) map.set(i & (KEYS - 1), i);
    return OPS / seconds(t0, now());
  };
  const MS = 300;
  const worker = await start({ mode: 'mapGet', handle: map.handle, keys: KEYS, ms: MS });
  const getTwo = async (): Promise<number> => {
    const theirs = new Promise<{ ops: number }>((r) => worker.once('message', r));
    worker.postMessage('go');
    let ops = 0;
    let sum = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < MS) {
      for (let i = 0; i < 1024; i++) sum += map.get((ops + i) & (KEYS - 1))!;
      ops += 1024;
    }
    const mine = ops / ((performance.now() - t0) / 1000);
    const other = (await theirs).ops / (MS / 1000);
    if (sum < 0) throw new Error('bad sum');
    return mine + other;
  };
  // The MessagePort-served Map: 64 requests in flight, one per message.
  const { port1, port2 } = new MessageChannel();
  const server = await start({ mode: 'mapServer', port: port2 }, [port2]);
  const served = async (op: 0 | 1): Promise<number> => {
    const total = 50_000;
    const WINDOW = 64;
    let sent = 0;
    let got = 0;
    const t0 = now();
    await new Promise<void>((resolve) => {
      const onReply = () => {
        got++;
        if (sent < total) port1.postMessage([sent, op, sent & (KEYS - 1), sent++]);
        if (got === total) {
          port1.off('message', onReply);
          resolve();
        }
      };
      port1.on('message', onReply);
      for (; sent < WINDOW; sent++) port1.postMessage([sent, op, sent & (KEYS - 1), sent]);
    });
    return total / seconds(t0, now());
  };
  await served(1);
  const cases: [string, () => number | Promise<number>][] = [
    [`SharedMap get, 1 thread, ${KEYS} keys`, getOne],
    [`SharedMap set, 1 thread, ${KEYS} keys`, setOne],
    [`SharedMap get, 2 threads (sum), ${KEYS} keys`, getTwo],
    [`Map served over a MessagePort, get (64 in flight), ${KEYS} keys`, () => served(0)],
    [`Map served over a MessagePort, set (64 in flight), ${KEYS} keys`, () => served(1)],
  ];
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r <= runs; r++) {
    for (let i = 0; i < cases.length; i++) {
      const v = await cases[i]![1]();
      if (r > 0) samples[i]!.push(v);
    }
  }
  await worker.terminate();
  await server.terminate();
  port1.close();
  return cases.map(([name], i) => ({ name, median_ops_per_s: Math.round(median(samples[i]!)), samples: samples[i]!.map(Math.round) }));
}

// ---------------------------------------------------------------------------------------------
// 4. Rust stack

function rustStack(runs: number, work: number) {
  const args = ['run', '--release', '--manifest-path', 'crate/Cargo.toml', '-p', 'weft-core', '--example', 'stack_bench', '--'];
  const rest = ['--runs', String(runs), '--pairs', '1000000', '--threads', '1,2,4', '--work', String(work)];
  const command = `cargo ${[...args, ...rest].join(' ')}`;
  console.error(`\n== Rust stack: ${command}`);
  const r = spawnSync('cargo', [...args, ...rest], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`${command} exited with ${r.status ?? r.signal}`);
  return { command, ...(JSON.parse(r.stdout) as Record<string, unknown>) };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs();
  const started = Date.now();
  checkBuilt({ rebuild: true, required: true });
  const weft = (await import('weftjs')) as Weft;

  console.error(`== SharedQueue end to end (${opts.runs} interleaved runs of ${N} numbers)`);
  const queue = await queues(weft, opts.runs);
  console.error(`== wake latency (${opts.samples} wake-ups each)`);
  const wake = await wakeLatency(weft, opts.samples);
  console.error(`== SharedMap (${opts.runs} interleaved runs)`);
  const map: Awaited<ReturnType<typeof maps>> = [];
  for (const keys of KEY_SETS) map.push(...(await maps(weft, opts.runs, keys)));
  const stack = opts['skip-rust'] ? null : [rustStack(opts.runs, 0), rustStack(opts.runs, 20)];

  const q = (name: string) => queue.find((c) => c.name === name)!.median_values_per_s;
  const m = (name: string) => map.find((c) => c.name === name)!.median_ops_per_s;
  const ratios = {
    queue_batched_over_port: +(q('SharedQueue pushMany/popMany (1,024)') / q('MessagePort, one value per message')).toFixed(2),
    queue_single_over_port: +(q('SharedQueue push/pop') / q('MessagePort, one value per message')).toFixed(2),
    queue_batched_over_port_batched: +(q('SharedQueue pushMany/popMany (1,024)') / q('MessagePort, arrays of 1,024')).toFixed(2),
    queue_batched_over_ring: +(
      q('SharedQueue pushMany/popMany (1,024)') / q('SharedArrayBuffer ring + Atomics (hand-written SPSC)')
    ).toFixed(2),
    ...Object.fromEntries(
      KEY_SETS.flatMap((k) => [
        [
          `map_get_two_over_one_${k}`,
          +(m(`SharedMap get, 2 threads (sum), ${k} keys`) / m(`SharedMap get, 1 thread, ${k} keys`)).toFixed(2),
        ],
        [
          `map_get_over_served_${k}`,
          +(m(`SharedMap get, 1 thread, ${k} keys`) / m(`Map served over a MessagePort, get (64 in flight), ${k} keys`)).toFixed(1),
        ],
        [
          `map_set_over_served_${k}`,
          +(m(`SharedMap set, 1 thread, ${k} keys`) / m(`Map served over a MessagePort, set (64 in flight), ${k} keys`)).toFixed(1),
        ],
      ]),
    ),
  };
  const rows = [['case', 'median'], ...queue.map((c) => [c.name, `${mega(c.median_values_per_s)} values/s`])];
  rows.push(...wake.map((w) => [`wake: ${w.name}`, `p50 ${w.p50_us} µs, p90 ${w.p90_us} µs, p99 ${w.p99_us} µs`]));
  rows.push(...map.map((c) => [c.name, `${mega(c.median_ops_per_s)} ops/s`]));
  rows.push(...Object.entries(ratios).map(([k, v]) => [k, `×${v}`]));
  console.log(textTable(rows));
  const out = resultsPath('shared', { out: opts.out, full: true });
  writeResults(out, {
    bench: 'shared',
    command: commandLine('npm run bench:shared'),
    date: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine: machineInfo(),
    runs: opts.runs,
    queue: { values_per_round: N, cases: queue },
    wake_latency: wake,
    map: { key_sets: KEY_SETS, cases: map },
    ratios,
    rust_stack: stack,
  });
  console.error(`\nwrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
