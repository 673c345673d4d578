/**
 * SharedStack benchmark: `npm run bench:stack` (= `node --import=tsx bench/stack/index.ts`).
 *
 *   1. Rust: builds and runs `crate/core/examples/stack_bench.rs` (weft-core TreiberStack<u64>
 *      vs Mutex<Vec<u64>> vs crossbeam-epoch's reference Treiber stack) and reads its JSON.
 *   2. JS, one thread: SharedStack push+pop of numbers vs a plain Array, pushMany/popMany in
 *      batches of 1,000, push+pop of short strings and of small objects (structured clone).
 *   3. JS, two threads: the main thread pushes N numbers that a worker pops from the same
 *      SharedStack, vs the same N numbers sent one per message through a MessagePort.
 *   4. Writes bench/results/stack.json and prints a table.
 *
 * Units: one push or one pop of one value is one op (a push+pop pair is two ops), as in the
 * Rust example. Two-thread figures are values/s moved end to end (pushed on one thread and
 * received on the other). Every figure is the median of `--runs` runs (default 9, at least 5);
 * the runs of the cases of a group are interleaved so that a noisy machine affects all alike.
 *
 * Flags: --runs N, --skip-rust, --out PATH (default bench/results/stack.json); --help lists them.
 *
 * Plain process.hrtime loops rather than mitata: mitata reports per-iteration percentiles of
 * auto-sized batches, while this benchmark wants the median of whole, interleaved runs.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import {
  ROOT as root,
  RESULTS_DIR,
  checkBuilt,
  commandLine,
  flags,
  fmt,
  machineInfo,
  median,
  parseBenchArgs,
  textTable,
  writeResults,
} from '../harness/index.js';

// Only the types are imported statically; the module itself is loaded once dist/ is built.
type Weft = typeof import('weftjs');

const here = __dirname;

// ---------------------------------------------------------------------------------------------
// Options and helpers

function parseArgs() {
  return parseBenchArgs({
    usage: 'npm run bench:stack -- [flags]',
    description:
      "SharedStack against Array, MessagePort and (Rust) Mutex<Vec> and crossbeam-epoch's reference Treiber stack; " +
      'medians of interleaved runs.',
    flags: {
      runs: flags.runs({ default: 9, min: 5, help: 'runs of every case (Rust and JS)' }),
      'skip-rust': { type: 'boolean', help: 'the JS part only (no cargo run of crate/core/examples/stack_bench.rs)' },
      out: flags.out('where the JSON goes (default bench/results/stack.json)'),
    },
  }).values;
}

const mega = fmt.mega;
const rnd = (x: number): number => Math.round(x);
const now = (): bigint => process.hrtime.bigint();
const seconds = (from: bigint, to: bigint): number => Number(to - from) / 1e9;

// ---------------------------------------------------------------------------------------------
// 1. Rust

interface RustCase {
  impl: string;
  threads: number;
  median_ops_per_s: number;
  max_ops_per_s: number;
  samples_ops_per_s: number[];
}
interface RustRatio {
  threads: number;
  weft_over_mutex: number;
  weft_over_crossbeam_ref: number;
  paired_median_weft_over_mutex: number;
  paired_median_weft_over_crossbeam_ref: number;
}
interface RustResult {
  command: string;
  unit: string;
  pairs_per_thread: number;
  runs: number;
  available_parallelism: number;
  cases: RustCase[];
  ratios: RustRatio[];
}

function runRust(runs: number): RustResult {
  const args = ['--manifest-path', 'crate/Cargo.toml', '-p', 'weft-core', '--example', 'stack_bench'];
  const command = `cargo run --release ${args.join(' ')} -- --runs ${runs}`;
  console.error(`\n== Rust: ${command}`);
  const r = spawnSync('cargo', ['run', '--release', ...args, '--', '--runs', String(runs)], {
    cwd: root,
    // stderr (cargo's progress and the example's table) goes straight to the terminal.
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} exited with ${r.status ?? r.signal}`);
  return { command, ...(JSON.parse(r.stdout) as Omit<RustResult, 'command'>) };
}

// ---------------------------------------------------------------------------------------------
// 2. JS, one thread

interface Case {
  name: string;
  /** Ops (pushes + pops of single values) in one run. */
  ops: number;
  /** Does one run; returns a checksum compared with `expect` (keeps the work observable). */
  run: () => number;
  expect: number;
}

interface Measured {
  name: string;
  ops_per_run: number;
  median_ops_per_s: number;
  samples_ops_per_s: number[];
}

function measureInterleaved(cases: Case[], runs: number): Measured[] {
  const once = (c: Case): number => {
    const t0 = now();
    const check = c.run();
    const t1 = now();
    if (check !== c.expect) throw new Error(`${c.name}: checksum ${check}, expected ${c.expect}`);
    return c.ops / seconds(t0, t1);
  };
  // Warm-up (JIT, allocator): two untimed runs of each case.
  for (const c of cases) {
    once(c);
    once(c);
  }
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) cases.forEach((c, i) => samples[i]!.push(once(c)));
  return cases.map((c, i) => ({
    name: c.name,
    ops_per_run: c.ops,
    median_ops_per_s: rnd(median(samples[i]!)),
    samples_ops_per_s: samples[i]!.map(rnd),
  }));
}

function singleThreadCases(weft: Weft): Case[] {
  const { SharedStack } = weft;
  const sumTo = (n: number): number => (n * (n - 1)) / 2;

  const N_NUM = 1_000_000;
  const numStack = new SharedStack<number>();
  const arrayNumbers: number[] = [];

  const BATCH = 1_000;
  const BATCHES = 2_000;
  const batchStack = new SharedStack<number>();
  const batch = Array.from({ length: BATCH }, (_, i) => i);

  const N_STR = 500_000;
  const strStack = new SharedStack<string>();
  const strings = Array.from({ length: 1024 }, (_, i) => `item-${i}`);
  const strLen = (n: number): number => {
    let total = 0;
    for (let i = 0; i < n; i++) total += strings[i & 1023]!.length;
    return total;
  };

  const N_OBJ = 100_000;
  type Small = { id: number; name: string; ok: boolean };
  const objStack = new SharedStack<Small>();
  const objects: Small[] = Array.from({ length: 1024 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true }));
  const objIds = (n: number): number => {
    let total = 0;
    for (let i = 0; i < n; i++) total += i & 1023;
    return total;
  };

  return [
    {
      name: 'SharedStack push+pop, number',
      ops: 2 * N_NUM,
      expect: sumTo(N_NUM),
      run: () => {
        let sum = 0;
        for (let i = 0; i < N_NUM; i++) {
          numStack.push(i);
          sum += numStack.pop()!;
        }
        return sum;
      },
    },
    {
      name: 'Array push+pop, number',
      ops: 2 * 10 * N_NUM,
      expect: sumTo(10 * N_NUM),
      run: () => {
        let sum = 0;
        for (let i = 0; i < 10 * N_NUM; i++) {
          arrayNumbers.push(i);
          sum += arrayNumbers.pop()!;
        }
        return sum;
      },
    },
    {
      name: 'SharedStack pushMany/popMany(1000), number',
      ops: 2 * BATCH * BATCHES,
      expect: BATCHES * sumTo(BATCH),
      run: () => {
        let sum = 0;
        for (let b = 0; b < BATCHES; b++) {
          batchStack.pushMany(batch);
          const out = batchStack.popMany(BATCH);
          for (let i = 0; i < out.length; i++) sum += out[i]!;
        }
        return sum;
      },
    },
    {
      name: 'SharedStack push+pop, short string',
      ops: 2 * N_STR,
      expect: strLen(N_STR),
      run: () => {
        let total = 0;
        for (let i = 0; i < N_STR; i++) {
          strStack.push(strings[i & 1023]!);
          total += strStack.pop()!.length;
        }
        return total;
      },
    },
    {
      name: 'SharedStack push+pop, small object',
      ops: 2 * N_OBJ,
      expect: objIds(N_OBJ),
      run: () => {
        let total = 0;
        for (let i = 0; i < N_OBJ; i++) {
          objStack.push(objects[i & 1023]!);
          total += objStack.pop()!.id;
        }
        return total;
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// 3. JS, two threads

interface Consumer {
  worker: Worker;
  ctrl: Int32Array;
  done: Promise<{ sums: number[] }>;
  /** Main-thread side of one round: send the n values. */
  produce: (n: number) => void;
}

function startConsumer(weft: Weft, mode: 'stack' | 'port', n: number, rounds: number): Promise<Consumer> {
  const ctrlBuffer = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(ctrlBuffer);
  let produce: (n: number) => void;
  let worker: Worker;
  const workerUrl = pathToFileURL(join(here, 'worker.mjs'));
  if (mode === 'stack') {
    const stack = new weft.SharedStack<number>();
    produce = (count) => {
      for (let i = 0; i < count; i++) stack.push(i);
    };
    worker = new Worker(workerUrl, { workerData: { mode, n, rounds, ctrl: ctrlBuffer, handle: stack.handle } });
  } else {
    const { port1, port2 } = new MessageChannel();
    produce = (count) => {
      for (let i = 0; i < count; i++) port1.postMessage(i);
    };
    worker = new Worker(workerUrl, {
      workerData: { mode, n, rounds, ctrl: ctrlBuffer, port: port2 },
      transferList: [port2],
    });
  }
  return new Promise((resolve, reject) => {
    let resolveDone: (v: { sums: number[] }) => void;
    const done = new Promise<{ sums: number[] }>((r) => (resolveDone = r));
    worker.on('error', reject);
    worker.on('message', (m: { ready?: true; sums?: number[] }) => {
      if (m.ready) resolve({ worker, ctrl, done, produce });
      else if (m.sums) resolveDone({ sums: m.sums });
    });
  });
}

/** One round: start the clock, wake the consumer, produce n values, wait until all arrived. */
function round(c: Consumer, r: number, n: number): number {
  const t0 = now();
  Atomics.store(c.ctrl, 0, r);
  Atomics.notify(c.ctrl, 0);
  c.produce(n);
  // The main thread blocks here (its event loop cannot run), so a dead worker shows as a timeout.
  const deadline = Date.now() + 60_000;
  while (Atomics.load(c.ctrl, 1) < r) {
    Atomics.wait(c.ctrl, 1, r - 1, 1_000);
    if (Date.now() > deadline) throw new Error(`two threads: round ${r} did not finish in 60 s`);
  }
  return n / seconds(t0, now());
}

interface TwoThreads {
  values_per_round: number;
  cases: { name: string; median_values_per_s: number; samples_values_per_s: number[] }[];
  stack_over_port: number;
}

async function twoThreads(weft: Weft, runs: number): Promise<TwoThreads> {
  const N = 500_000;
  const WARMUP = 1;
  const rounds = WARMUP + runs;
  const stack = await startConsumer(weft, 'stack', N, rounds);
  const port = await startConsumer(weft, 'port', N, rounds);
  const samples = { stack: [] as number[], port: [] as number[] };
  for (let r = 1; r <= rounds; r++) {
    const s = round(stack, r, N);
    const p = round(port, r, N);
    if (r > WARMUP) {
      samples.stack.push(s);
      samples.port.push(p);
    }
  }
  const expected = (N * (N - 1)) / 2;
  for (const [name, c] of [
    ['stack', stack],
    ['port', port],
  ] as const) {
    const { sums } = await c.done;
    if (sums.length !== rounds || sums.some((s) => s !== expected)) {
      throw new Error(`two threads (${name}): values lost or duplicated: sums ${sums.join(', ')}`);
    }
    await c.worker.terminate();
  }
  const ms = median(samples.stack);
  const mp = median(samples.port);
  return {
    values_per_round: N,
    cases: [
      {
        name: 'SharedStack: main pushes, worker pops',
        median_values_per_s: rnd(ms),
        samples_values_per_s: samples.stack.map(rnd),
      },
      {
        name: 'MessagePort: postMessage one value per message',
        median_values_per_s: rnd(mp),
        samples_values_per_s: samples.port.map(rnd),
      },
    ],
    stack_over_port: Number((ms / mp).toFixed(3)),
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Report

/** Ratios within this much below 1 are reported as parity: the machine's run-to-run noise is larger. */
const NOISE = 0.03;

interface Target {
  target: string;
  value: string;
  met: boolean;
  /** Not met, but short by less than the noise (NOISE), by the ratio of medians or the paired ratio. */
  within_noise: boolean;
}

function verdict(t: Target): string {
  return t.met ? 'yes' : t.within_noise ? 'no, within noise' : 'NO';
}

function printTable(rows: string[][]): void {
  console.log(textTable(rows));
}

async function main(): Promise<void> {
  const opts = parseArgs();
  const started = Date.now();
  // `import 'weftjs'` resolves to dist/: build it if it is missing or older than src/.
  checkBuilt({ rebuild: true, required: true });
  const weft = (await import('weftjs')) as Weft;

  const rust = opts['skip-rust'] ? null : runRust(opts.runs);

  console.error(`\n== JS, one thread (${opts.runs} interleaved runs)`);
  const single = measureInterleaved(singleThreadCases(weft), opts.runs);
  console.error(`== JS, two threads (${opts.runs} interleaved runs)`);
  const two = await twoThreads(weft, opts.runs);

  const byName = (name: string): Measured => single.find((m) => m.name === name)!;
  const jsStack = byName('SharedStack push+pop, number');
  const jsArray = byName('Array push+pop, number');

  const targets: Target[] = [];
  if (rust) {
    const med = (impl: string, threads: number): number =>
      rust.cases.find((c) => c.impl === impl && c.threads === threads)!.median_ops_per_s;
    const ratios = (threads: number): RustRatio => rust.ratios.find((r) => r.threads === threads)!;
    const w1 = med('weft', 1);
    const c1 = med('crossbeam-ref', 1);
    const r1 = ratios(1);
    const w2 = med('weft', 2);
    const m2 = med('mutex', 2);
    const r2 = ratios(2);
    targets.push(
      {
        target: 'Rust, 1 thread: weft >= crossbeam-epoch reference Treiber',
        value: `${mega(w1)} vs ${mega(c1)} ops/s (x${r1.weft_over_crossbeam_ref.toFixed(3)}, paired x${r1.paired_median_weft_over_crossbeam_ref.toFixed(3)})`,
        met: w1 >= c1,
        within_noise: Math.max(r1.weft_over_crossbeam_ref, r1.paired_median_weft_over_crossbeam_ref) >= 1 - NOISE,
      },
      {
        target: 'Rust, 2 threads: weft >= Mutex<Vec> (same run)',
        value: `${mega(w2)} vs ${mega(m2)} ops/s (x${r2.weft_over_mutex.toFixed(3)}, paired x${r2.paired_median_weft_over_mutex.toFixed(3)})`,
        met: w2 >= m2,
        within_noise: Math.max(r2.weft_over_mutex, r2.paired_median_weft_over_mutex) >= 1 - NOISE,
      },
    );
  }
  targets.push({
    target: 'JS, 1 thread: SharedStack push+pop of numbers >= 10 M ops/s',
    value: `${mega(jsStack.median_ops_per_s)} ops/s = ${mega(jsStack.median_ops_per_s / 2)} pairs/s`,
    met: jsStack.median_ops_per_s >= 10e6,
    within_noise: jsStack.median_ops_per_s >= 10e6 * (1 - NOISE),
  });

  const result = {
    command: commandLine('npm run bench:stack'),
    date: new Date().toISOString(),
    machine: machineInfo(),
    runs: opts.runs,
    unit: 'ops/s: one push or one pop of one value = one op (a push+pop pair is 2 ops); two threads: values/s moved end to end',
    rust,
    js: {
      one_thread: single,
      shared_stack_over_array: Number((jsStack.median_ops_per_s / jsArray.median_ops_per_s).toFixed(4)),
      two_threads: two,
    },
    targets,
    duration_s: Math.round((Date.now() - started) / 1000),
  };
  const out = opts.out ?? join(RESULTS_DIR, 'stack.json');
  writeResults(out, result);

  console.log(`\nSharedStack benchmark: ${result.machine.cpu}, ${result.machine.cores} cores, Node ${process.version}, ${result.date}`);
  console.log(`medians of ${opts.runs} runs; ops/s count one push or one pop as one op\n`);
  if (rust) {
    console.log(`Rust (${rust.pairs_per_thread.toLocaleString('en')} push+pop pairs per thread per run)`);
    const rows = [['threads', 'weft', 'Mutex<Vec>', 'crossbeam-ref', 'weft/mutex', 'weft/cb-ref']];
    for (const r of rust.ratios) {
      const m = (impl: string): string => mega(rust.cases.find((c) => c.impl === impl && c.threads === r.threads)!.median_ops_per_s);
      rows.push([
        `${r.threads}${r.threads > rust.available_parallelism ? ' (oversubscribed)' : ''}`,
        m('weft'),
        m('mutex'),
        m('crossbeam-ref'),
        r.weft_over_mutex.toFixed(2),
        r.weft_over_crossbeam_ref.toFixed(2),
      ]);
    }
    printTable(rows);
    console.log('');
  }
  console.log('JS, one thread');
  printTable([['case', 'ops/s', 'ns/op'], ...single.map((m) => [m.name, mega(m.median_ops_per_s), (1e9 / m.median_ops_per_s).toFixed(1)])]);
  console.log(`SharedStack / Array (numbers): x${result.js.shared_stack_over_array}\n`);
  console.log(`JS, two threads (${two.values_per_round.toLocaleString('en')} numbers per run, values/s end to end)`);
  printTable([['case', 'values/s'], ...two.cases.map((c) => [c.name, mega(c.median_values_per_s)])]);
  console.log(`SharedStack / MessagePort: x${two.stack_over_port}\n`);
  console.log('Targets');
  printTable([['target', 'this run', 'met'], ...targets.map((t) => [t.target, t.value, verdict(t)])]);
  console.log(`(paired: median over runs of the ratio within one run; "within noise": short by < ${NOISE * 100}%)`);
  console.log(`\nwrote ${out} (${result.duration_s} s)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
