/**
 * Wire codec micro-benchmark: `node --import=tsx bench/wire/index.ts [--runs N] [--out PATH]`
 * (--out: also write the figures as JSON, with the machine; --help lists the flags).
 *
 * For each value, one op is an encode followed by a decode of that value:
 *
 *   - wire:            100 values per buffer (the pool's case: a batch shares one buffer and one
 *                      reader): writer.value(v) ×100, then reader.value() ×100; per value
 *   - wire 1/buf:      one value per buffer: writer.reset + value(v), then
 *                      reader.reset(writer.view()) + value(), i.e. with the per-batch costs
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
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { WireReader, WireWriter } from '../../src/internal/wire.js';
import { commandLine, flags, machineInfo, median, parseBenchArgs, textTable, writeResults } from '../harness/index.js';

function parseArgs() {
  return parseBenchArgs({
    usage: 'node --import=tsx bench/wire/index.ts [flags]',
    description: 'The wire codec against v8.serialize + v8.deserialize and structuredClone: ns per encode + decode of one value.',
    flags: {
      runs: flags.runs({ default: 5, help: 'runs of about 100 ms of every codec and value' }),
      out: flags.out('also write the figures as JSON to PATH (default: none)'),
    },
  }).values;
}

const writer = new WireWriter(64 * 1024);
const reader = new WireReader(new Uint8Array(0));
let sink = 0;

function consume(v: unknown): void {
  sink = (sink + (typeof v === 'number' ? v : v === undefined ? 0 : 1)) | 0;
}

const BATCH = 100;
/** BATCH values through one buffer; returns the last (the caller counts BATCH ops). */
const wireBatch = (v: unknown): unknown => {
  writer.reset();
  for (let i = 0; i < BATCH; i++) writer.value(v);
  reader.reset(writer.view());
  let out: unknown;
  for (let i = 0; i < BATCH; i++) out = reader.value();
  return out;
};
const wireOne = (v: unknown): unknown => {
  writer.reset();
  writer.value(v);
  reader.reset(writer.view());
  return reader.value();
};
const v8 = (v: unknown): unknown => deserialize(serialize(v));
const clone = (v: unknown): unknown => structuredClone(v);

type Codec = (v: unknown) => unknown;

/** Runs `fn(value)` `iters` times; returns ns per op (`opsPerCall` ops per call). */
function timeValue(fn: Codec, value: unknown, iters: number, opsPerCall: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) consume(fn(value));
  return Number(process.hrtime.bigint() - t0) / (iters * opsPerCall);
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

/** Warms up `run(n)` and returns the `n` for which it takes about 100 ms. */
function calibrate(run: (n: number) => void): number {
  let n = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    run(n);
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns > 20e6) return Math.max(1, Math.round((n * 100e6) / ns));
    n *= 2;
  }
}

function main(): void {
  const { runs, out } = parseArgs();
  const machine = machineInfo();
  console.log(
    `wire codec micro-benchmark: ${machine.cpu}, ${machine.available_parallelism} cores, ` +
      `Node ${process.version}; ns per encode+decode, median of ${runs} runs`,
  );

  type Row = { name: string; wire: number; one: number; v8: number; clone: number };
  const rows: Row[] = [];
  const codecs: [string, Codec, number][] = [
    ['wire', wireBatch, BATCH],
    ['wire 1/buf', wireOne, 1],
    ['v8', v8, 1],
    ['structuredClone', clone, 1],
  ];

  for (const [name, value] of CASES) {
    // Every codec must give back what structuredClone gives.
    const expected = structuredClone(value);
    for (const [label, fn] of codecs) {
      if (!isDeepStrictEqual(fn(value), expected)) throw new Error(`${label} did not round-trip ${name}`);
    }
    const iters = codecs.map(([, fn, ops]) => calibrate((n) => timeValue(fn, value, n, ops)));
    const samples: number[][] = codecs.map(() => []);
    for (let r = 0; r < runs; r++) {
      codecs.forEach(([, fn, ops], i) => samples[i]!.push(timeValue(fn, value, iters[i]!, ops)));
    }
    const [wire, one, v8ns, cloneNs] = samples.map(median) as [number, number, number, number];
    rows.push({ name, wire, one, v8: v8ns, clone: cloneNs });
  }

  const kinds = ['wire', 'v8', 'clone'] as const;
  const batches = kinds.map((k) => calibrate((n) => timeRecords(k, n)));
  const samples: number[][] = kinds.map(() => []);
  for (let r = 0; r < runs; r++) kinds.forEach((k, i) => samples[i]!.push(timeRecords(k, batches[i]!)));
  rows.push({
    name: `task record: values([x]) framed, ${RECORDS}/batch`,
    wire: median(samples[0]!),
    one: NaN,
    v8: median(samples[1]!),
    clone: median(samples[2]!),
  });

  const fmt = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(x < 100 ? 1 : 0));
  console.log(
    textTable([
      ['case (ns per value)', 'wire', 'wire 1/buf', 'v8', 'structuredClone', 'v8/wire'],
      ...rows.map((r) => [r.name, fmt(r.wire), fmt(r.one), fmt(r.v8), fmt(r.clone), `${(r.v8 / r.wire).toFixed(1)}x`]),
    ]),
  );
  if (out !== undefined) {
    const ns = (x: number): number | null => (Number.isNaN(x) ? null : Number(x.toPrecision(4)));
    writeResults(out, {
      benchmark: 'wire',
      command: commandLine('node --import=tsx bench/wire/index.ts'),
      date: new Date().toISOString(),
      machine: machineInfo(),
      runs,
      unit: 'ns per value for one encode + decode, median of the runs; wire: 100 values through one buffer; wire_one: one value per buffer',
      cases: rows.map((r) => ({ name: r.name, wire: ns(r.wire), wire_one: ns(r.one), v8: ns(r.v8), structured_clone: ns(r.clone) })),
    });
    console.log(`\nwrote ${out}`);
  }
  if (sink === 0.5) console.log(''); // keeps `sink` observable
}

main();
