/**
 * Paired before/after benchmark of the wire codec and of SharedStack values:
 * `node --expose-gc --import=tsx bench/wire/paired.ts --before DIR [--rounds N] [--only REGEX] [--out PATH]`
 * (--expose-gc: each run starts from a collected heap, so that one version's garbage is not
 * collected on the other's time).
 *
 * DIR is a copy of an older `src/` tree's root (DIR/src/internal/wire.ts, DIR/src/shared/stack.ts,
 * with what they import, and DIR/native.cjs linking to this checkout's), e.g. made with
 *   for f in src/errors.ts src/native.ts src/internal/wire.ts src/internal/describe.ts \
 *            src/shared/codec.ts src/shared/stack.ts src/shared/index.ts; do
 *     mkdir -p /tmp/before/$(dirname $f); git show <commit>:$f > /tmp/before/$f; done
 *   ln -s $PWD/native.cjs /tmp/before/native.cjs; ln -s $PWD/node_modules /tmp/before/node_modules
 * Both versions are loaded into this one process, and every case is timed for both in each
 * round, in alternating order; figures are medians over rounds, and the ratio is the median of
 * the per-round ratios (new / old: below 1 is faster), which drifts of a shared machine affect
 * least. Times are this process's CPU time (user + system), not wall time, so that time spent
 * waiting for a core on a loaded machine does not count. One op is an encode and a decode of one value (the small values: 100 values through one
 * buffer, as a pool batch; the large ones: one value per buffer), or one push and one pop.
 */
import { isDeepStrictEqual } from 'node:util';
import { resolve } from 'node:path';
import {
  commandLine,
  flags,
  machineInfo,
  median,
  pairedMedianRatio,
  parseBenchArgs,
  roundSig,
  textTable,
  writeResults,
} from '../harness/index.js';

interface Codec {
  WireWriter: new (
    capacity?: number,
  ) => {
    reset(): void;
    value(v: unknown): void;
    values(l: unknown[]): void;
    view(): Uint8Array;
    beginRecord(): number;
    endRecord(at: number): void;
    u32(v: number): void;
  };
  WireReader: new (
    b: Uint8Array,
  ) => { reset(b: Uint8Array): void; value(): unknown; values(): unknown[]; u32(): number; offset: number; remaining: number };
}
interface Stack {
  push(v: unknown): void;
  pop(): unknown;
}
interface Version {
  name: string;
  codec: Codec;
  newStack: () => Stack;
  /** This version's own copy of `run` (its own type feedback: see `ownCopy`). */
  run: typeof run;
}

function parseArgs() {
  const { values: o } = parseBenchArgs({
    usage: 'node --expose-gc --import=tsx bench/wire/paired.ts --before DIR [flags]',
    description:
      'Two versions of the wire codec and SharedStack in one process, paired rounds; CPU ns per op and the median of per-round ratios.',
    flags: {
      before: {
        type: 'string',
        arg: 'DIR',
        required: true,
        help: "the older tree's root (DIR/src/internal/wire.ts, ...; see the file's header)",
      },
      rounds: flags.runs({ default: 9, min: 3, help: 'rounds; each times every case for both versions' }),
      only: { type: 'regexp', arg: 'REGEX', help: 'only the cases whose name matches' },
      out: flags.out('also write the figures as JSON to PATH (default: none)'),
    },
  });
  return { ...o, before: resolve(o.before) };
}

async function load(name: string, root: string): Promise<Version> {
  const codec = (await import(`${root}/src/internal/wire.ts`)) as Codec;
  const { SharedStack } = (await import(`${root}/src/shared/stack.ts`)) as { SharedStack: new () => Stack };
  return { name, codec, newStack: () => new SharedStack(), run: ownCopy(run) };
}

/**
 * A copy of `fn` compiled from its source: V8 keeps type feedback per function literal, so one
 * `run` shared by both versions would see both versions' classes at every call site and favour
 * neither; each version gets a copy of its own.
 */
function ownCopy(fn: typeof run): typeof run {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('BATCH', 'RECORDS', 'consume', `return (${fn.toString()});`)(BATCH, RECORDS, consume) as typeof run;
}

let sink = 0;
function consume(v: unknown): void {
  sink = (sink + (v === undefined ? 0 : 1)) | 0;
}

type Case = { name: string; make: () => unknown; kind: 'batch' | 'one' | 'record' | 'stack' };

function cyclic(): unknown {
  const o: Record<string, unknown> = { name: 'loop', n: 1 };
  o.self = o;
  return o;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const CASES: Case[] = [
  // Small values: the hot paths.
  { name: 'small int (42)', make: () => 42, kind: 'batch' },
  { name: 'double (Math.PI)', make: () => Math.PI, kind: 'batch' },
  { name: 'short string "hello world"', make: () => 'hello world', kind: 'batch' },
  { name: 'non-ASCII "héllo wörld"', make: () => 'héllo wörld', kind: 'batch' },
  { name: '[1, 2.5, 3]', make: () => [1, 2.5, 3], kind: 'batch' },
  { name: '{id, name, tags: [3 strings]}', make: () => ({ id: 7, name: 'widget', tags: ['a', 'b', 'c'] }), kind: 'batch' },
  { name: 'Float64Array(128)', make: () => new Float64Array(128).fill(1.5), kind: 'batch' },
  { name: 'task record: frame + u32 + values([x])', make: () => 0, kind: 'record' },
  // Large values and what used to go through v8.serialize.
  { name: 'array of 5,000 doubles', make: () => Array.from({ length: 5000 }, (_, i) => i * 1.5), kind: 'one' },
  { name: 'array of 100 objects {i, s}', make: () => Array.from({ length: 100 }, (_, i) => ({ i, s: `s${i}` })), kind: 'one' },
  { name: 'object of 2,000 keys', make: () => Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])), kind: 'one' },
  { name: 'Map of 100 string -> number', make: () => new Map(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])), kind: 'one' },
  { name: 'Set of 100 numbers', make: () => new Set(Array.from({ length: 100 }, (_, i) => i)), kind: 'one' },
  { name: '{when: Date, re: RegExp}', make: () => ({ when: new Date(1_700_000_000_000), re: /a+b/gi }), kind: 'batch' },
  { name: 'an object with a cycle', make: cyclic, kind: 'batch' },
  {
    name: '{a: shared, b: shared} (shared array)',
    make: () => {
      const s = [1, 2];
      return { a: s, b: s };
    },
    kind: 'batch',
  },
  { name: 'sparse array [1, , 3]', make: () => [1, , 3], kind: 'batch' },
  { name: 'arrays nested 40 deep', make: () => nested(40), kind: 'batch' },
  {
    name: 'Error with cause and 2 own props',
    make: () => Object.assign(new Error('outer', { cause: new TypeError('inner') }), { status: 503, meta: { retry: true } }),
    kind: 'batch',
  },
  { name: '{ a: Uint8Array(16) } (nested view)', make: () => ({ a: new Uint8Array(16) }), kind: 'batch' },
  {
    name: 'class instance {x, y}',
    make: () =>
      new (class Point {
        x = 1;
        y = 2;
      })(),
    kind: 'batch',
  },
  // SharedStack values.
  { name: 'SharedStack push+pop {id, name, ok}', make: () => ({ id: 1, name: 'item-1', ok: true }), kind: 'stack' },
  { name: 'SharedStack push+pop Map of 10', make: () => new Map(Array.from({ length: 10 }, (_, i) => [i, `v${i}`])), kind: 'stack' },
  { name: 'SharedStack push+pop {when: Date}', make: () => ({ when: new Date(0) }), kind: 'stack' },
];

const BATCH = 100;
const RECORDS = 1000;

/** One timed run of `c` with `v`; returns ns per op. */
function run(v: Version, c: Case, value: unknown, budgetMs: number): number {
  const { WireWriter, WireReader } = v.codec;
  // Start from a collected heap: what the previous run left is not collected on this one's time.
  (globalThis as { gc?: () => void }).gc?.();
  const w = new WireWriter(64 * 1024);
  const r = new WireReader(new Uint8Array(0));
  let ops = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + BigInt(Math.round(budgetMs * 1e6));
  if (c.kind === 'stack') {
    const s = v.newStack();
    do {
      for (let i = 0; i < 200; i++) {
        s.push(value);
        consume(s.pop());
      }
      ops += 400;
    } while (process.hrtime.bigint() < deadline);
  } else if (c.kind === 'record') {
    do {
      w.reset();
      for (let i = 0; i < RECORDS; i++) {
        const at = w.beginRecord();
        w.u32(i);
        w.values([i]);
        w.endRecord(at);
      }
      r.reset(w.view());
      for (let i = 0; i < RECORDS; i++) {
        const len = r.u32();
        const end = r.offset + len;
        r.u32();
        consume(r.values());
        r.offset = end;
      }
      ops += RECORDS;
    } while (process.hrtime.bigint() < deadline);
  } else {
    const per = c.kind === 'batch' ? BATCH : 1;
    do {
      w.reset();
      for (let i = 0; i < per; i++) w.value(value);
      r.reset(w.view());
      for (let i = 0; i < per; i++) consume(r.value());
      ops += per;
    } while (process.hrtime.bigint() < deadline);
  }
  // CPU time, not wall time: on a shared machine the wall clock also counts the time this thread
  // waited for a core.
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / ops;
}

function check(v: Version, value: unknown): void {
  const w = new v.codec.WireWriter();
  w.value(value);
  const got = new v.codec.WireReader(w.view()).value();
  const want = structuredClone(value);
  // Node 20's structuredClone drops an error's own properties; compare errors by message.
  const ok = value instanceof Error ? (got as Error).message === value.message : isDeepStrictEqual(got, want);
  if (!ok) throw new Error(`${v.name}: the value does not round-trip`);
}

async function main(): Promise<void> {
  const { before, rounds, only, out } = parseArgs();
  const old = await load('before', before);
  const now = await load('after', resolve(__dirname, '..', '..'));
  const cases = CASES.filter((c) => only === undefined || only.test(c.name));
  const budgetMs = 60;
  const samples = new Map<string, { old: number[]; now: number[] }>();
  for (const c of cases) {
    const value = c.make();
    if (c.kind !== 'stack' && c.kind !== 'record') for (const v of [old, now]) check(v, value);
    samples.set(c.name, { old: [], now: [] });
    // Warm-up.
    old.run(old, c, value, 30);
    now.run(now, c, value, 30);
  }
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const value = c.make();
      const s = samples.get(c.name)!;
      let a: number, b: number;
      if (round % 2 === 0) {
        a = old.run(old, c, value, budgetMs);
        b = now.run(now, c, value, budgetMs);
      } else {
        b = now.run(now, c, value, budgetMs);
        a = old.run(old, c, value, budgetMs);
      }
      s.old.push(a);
      s.now.push(b);
    }
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
  }
  console.log(`Node ${process.version}, ${rounds} rounds, CPU ns per op (median); ratio = median of per-round after/before`);
  const f = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const figures = cases.map((c) => {
    const s = samples.get(c.name)!;
    return { name: c.name, before_ns: median(s.old), after_ns: median(s.now), ratio: pairedMedianRatio(s.now, s.old), ...s };
  });
  console.log(
    textTable([['case', 'before', 'after', 'ratio'], ...figures.map((x) => [x.name, f(x.before_ns), f(x.after_ns), x.ratio.toFixed(2)])]),
  );
  if (out !== undefined) {
    writeResults(out, {
      benchmark: 'wire-paired',
      command: commandLine('node --expose-gc --import=tsx bench/wire/paired.ts'),
      date: new Date().toISOString(),
      machine: machineInfo(),
      rounds,
      unit: 'CPU ns per op (median of the rounds); ratio: median of the per-round after/before (below 1: faster)',
      cases: figures.map((x) => ({
        name: x.name,
        before_ns: roundSig(x.before_ns, 4),
        after_ns: roundSig(x.after_ns, 4),
        ratio: roundSig(x.ratio, 3),
        before_samples: x.old.map((v) => roundSig(v, 4)),
        after_samples: x.now.map((v) => roundSig(v, 4)),
      })),
    });
    console.log(`\nwrote ${out}`);
  }
  if (sink === 42) console.log('');
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
