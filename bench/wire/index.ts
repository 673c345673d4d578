/**
 * Wire codec micro-benchmark: `node --import=tsx bench/wire/index.ts [--runs N]`.
 *
 * For each value, one op is an encode followed by a decode of that value:
 *
 *   - wire:            WireWriter.reset + value(v), then WireReader.reset(view) + value()
 *   - v8:              v8.deserialize(v8.serialize(v))
 *   - structuredClone: structuredClone(v)
 *
 * plus a "task record" row: 1,000 framed records `beginRecord | u32 id | values([i]) | endRecord`
 * written into one buffer and read back (the pool's tiny-task path), per record; v8 and
 * structuredClone do `[i]` per record there.
 *
 * Each figure is the median of `--runs` runs (default 5) of ~100 ms each; the runs of the three
 * codecs are interleaved so that a noisy machine affects them alike. Plain hrtime loops: the
 * point is comparable medians, not per-iteration statistics.
 */
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { WireReader, WireWriter } from '../../src/internal/wire.js';

function parseArgs(argv: string[]): { runs: number } {
  let runs = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (flags: --runs N)`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  return { runs };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const writer = new WireWriter(64 * 1024);
const reader = new WireReader(new Uint8Array(0));
let sink = 0;

function consume(v: unknown): void {
  sink = (sink + (typeof v === 'number' ? v : v === undefined ? 0 : 1)) | 0;
}

const wire = (v: unknown): unknown => {
  writer.reset();
  writer.value(v);
  reader.reset(writer.view());
  return reader.value();
};
const v8 = (v: unknown): unknown => deserialize(serialize(v));
const clone = (v: unknown): unknown => structuredClone(v);

type Codec = (v: unknown) => unknown;

/** Runs `fn(value)` `iters` times; returns ns per op. */
function timeValue(fn: Codec, value: unknown, iters: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) consume(fn(value));
  return Number(process.hrtime.bigint() - t0) / iters;
}

const RECORDS = 1000;

/** The task-record path: RECORDS framed `values([i])` records per batch; ns per record. */
function timeRecords(kind: 'wire' | 'v8' | 'clone', batches: number): number {
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    if (kind === 'wire') {
      writer.reset();
      for (let i = 0; i < RECORDS; i++) {
        const at = writer.beginRecord();
        writer.u32(i);
        writer.values([i + 0.5]);
        writer.endRecord(at);
      }
      reader.reset(writer.view());
      while (reader.remaining > 0) {
        const len = reader.u32();
        const start = reader.offset;
        consume(reader.u32());
        consume(reader.values()[0]);
        reader.offset = start + len;
      }
    } else {
      for (let i = 0; i < RECORDS; i++) {
        const args = [i + 0.5];
        consume((kind === 'v8' ? v8(args) : clone(args)) as unknown[]);
      }
    }
  }
  return Number(process.hrtime.bigint() - t0) / (batches * RECORDS);
}

const floats = new Float64Array(128);
for (let i = 0; i < floats.length; i++) floats[i] = Math.sin(i) * 1e3;

const CASES: [string, unknown][] = [
  ['small int (42)', 42],
  ['double (Math.PI)', Math.PI],
  ['short string ("hello world")', 'hello world'],
  ['3-number array [1, 2.5, 3]', [1, 2.5, 3]],
  ["object {id, name, tags: ['a','b','c']}", { id: 12345, name: 'widget-7', tags: ['red', 'green', 'blue'] }],
  ['Float64Array(128) (1 KiB)', floats],
];

function calibrate(run: (n: number) => number): number {
  // Warm up, then pick an iteration count that takes about 100 ms.
  let n = 1000;
  for (;;) {
    const ns = run(n) * n;
    if (ns > 20e6 || n > 5e7) return Math.max(1, Math.round((n * 100e6) / ns));
    n *= 4;
  }
}

function main(): void {
  const { runs } = parseArgs(process.argv.slice(2));
  console.log(
    `wire codec micro-benchmark: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, ` +
      `Node ${process.version}; ns per encode+decode, median of ${runs} runs`,
  );

  type Row = { name: string; wire: number; v8: number; clone: number };
  const rows: Row[] = [];
  const codecs: [keyof Omit<Row, 'name'>, Codec][] = [
    ['wire', wire],
    ['v8', v8],
    ['clone', clone],
  ];

  for (const [name, value] of CASES) {
    // Every codec must give back what structuredClone gives.
    const expected = structuredClone(value);
    for (const [label, fn] of codecs) {
      if (!isDeepStrictEqual(fn(value), expected)) throw new Error(`${label} did not round-trip ${name}`);
    }
    const iters = codecs.map(([, fn]) => calibrate((n) => timeValue(fn, value, n)));
    const samples: number[][] = codecs.map(() => []);
    for (let r = 0; r < runs; r++) {
      codecs.forEach(([, fn], i) => samples[i]!.push(timeValue(fn, value, iters[i]!)));
    }
    rows.push({ name, wire: median(samples[0]!), v8: median(samples[1]!), clone: median(samples[2]!) });
  }

  const kinds = ['wire', 'v8', 'clone'] as const;
  const batches = kinds.map((k) => calibrate((n) => timeRecords(k, n)));
  const samples: number[][] = kinds.map(() => []);
  for (let r = 0; r < runs; r++) kinds.forEach((k, i) => samples[i]!.push(timeRecords(k, batches[i]!)));
  rows.push({
    name: `task record: values([x]) framed, ${RECORDS}/batch`,
    wire: median(samples[0]!),
    v8: median(samples[1]!),
    clone: median(samples[2]!),
  });

  const w = Math.max(...rows.map((r) => r.name.length));
  const fmt = (x: number): string => x.toFixed(x < 100 ? 1 : 0).padStart(10);
  console.log(`${'case'.padEnd(w)}  ${'wire'.padStart(10)}  ${'v8'.padStart(10)}  ${'structClone'.padStart(11)}  v8/wire`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${fmt(r.wire)}  ${fmt(r.v8)}  ${fmt(r.clone).padStart(11)}  ${(r.v8 / r.wire).toFixed(1)}x`);
  }
  if (sink === 0.5) console.log(''); // keeps `sink` observable
}

main();
