// The differential par fuzz (issue 13, reliability): random par pipelines, within a time
// budget, over every kind of source par takes, each compared with the same pipeline evaluated
// as plain JavaScript; and randomized misuse of the sources' and targets' buffers (shrunk,
// detached, grown, written) before and while a terminal is pending, in child processes.
//
// Where par/property.spec.ts draws random *expressions* over a few plain sources, this suite
// draws from a fixed library of closures (fixtures/par-fuzz-shared.ts) and spends its budget on
// breadth of *sources and edges*: the nine element types, views at a non-zero byteOffset with
// odd lengths, SharedArrayBuffers, resizable ArrayBuffers and growable SharedArrayBuffers
// (fixed-length and length-tracking views, resized before the pipeline), typed-array
// subclasses, Node Buffers from the pool, number[] and ranges; lengths 0, 1, small, at the
// inline/threaded boundary and over several chunks; NaN, ±0, ±Infinity and extreme values;
// every terminal, toArray({ into }) included (fresh targets of every backing, targets too small,
// the source itself, other views over the source's buffer).
//
// Environment:
//   WEFT_PAR_FUZZ_SEED=<n>           the seed (printed by every run; random by default)
//   WEFT_PAR_FUZZ_MS=<ms>            the budget of each of the two tests (default 20000; they
//                                    run concurrently)
//   WEFT_PAR_FUZZ_RUNS=<n>           n pipelines instead of the time budget
//   WEFT_PAR_FUZZ_MISUSE_RUNS=<n>    n misuse runs (on each Node) instead of the time budget
//   WEFT_PAR_FUZZ_CASE=<k>           replays only pipeline k and misuse run k of the seed
//   WEFT_PAR_ENGINE=auto|jit|interp  the engine of this process's pipelines (default: the JIT
//                                    where weft has one, x64 Linux, so that CI fuzzes the
//                                    compiled code; the interpreter is what the other specs run)
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ParCompileError, WeftError, par, type NumericArray, type NumericArrayConstructor, type Par } from '../../src/index.js';
import { INLINE_MAX } from '../../src/par/pipeline.js';
// @ts-expect-error: a plain .mjs script without declarations (nodeBinary is typed below).
import { nodeBinary as nodeBinaryUntyped } from '../../scripts/registry-cache.mjs';
import { native } from '../../src/native.js';
import { ROOT } from '../helpers.js';
import {
  ELEMENTS,
  FULL,
  Rng,
  TERMINALS,
  type Caps,
  type Element,
  type Terminal,
  type Value,
  build,
  call,
  caseSeed,
  describe,
  expected,
  lanes,
  listMismatch,
  mismatch,
  stages,
  terminal,
  value,
  valuesOf,
  viewCtor,
} from './fixtures/par-fuzz-shared.js';

const nodeBinary = nodeBinaryUntyped as (major: number) => string;

const ENGINE = native.parEngine(process.env.WEFT_PAR_ENGINE ?? (process.platform === 'linux' && process.arch === 'x64' ? 'jit' : 'auto'));

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
}

const SEED = envNumber('WEFT_PAR_FUZZ_SEED') ?? Math.floor(Math.random() * 2 ** 32) >>> 0;
const BUDGET_MS = envNumber('WEFT_PAR_FUZZ_MS') ?? 20_000;
const RUNS = envNumber('WEFT_PAR_FUZZ_RUNS');
const MISUSE_RUNS = envNumber('WEFT_PAR_FUZZ_MISUSE_RUNS');
const CASE = envNumber('WEFT_PAR_FUZZ_CASE');

const count = (n: number): string => n.toLocaleString('en-US');
const tallyLine = (m: ReadonlyMap<string, number>): string => [...m].map(([k, v]) => `${k} ${count(v)}`).join(', ');
const bump = (m: Map<string, number>, k: string, by = 1): void => void m.set(k, (m.get(k) ?? 0) + by);

// ---- sources -------------------------------------------------------------------------------------

/** ES2024 constructors, not in this project's lib (ES2023). */
interface Resizable {
  readonly byteLength: number;
  resize(n: number): void;
}
interface Growable {
  readonly byteLength: number;
  grow(n: number): void;
}
const ResizableBuffer = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & Resizable;
const GrowableBuffer = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer & Growable;

const SOURCE_KINDS = [
  'plain', // new C(n)
  'offset', // a view at a non-zero byteOffset, with bytes before and after it
  'shared', // over a SharedArrayBuffer (read in place)
  'sharedOffset',
  'resizable', // a fixed-length view over a resizable ArrayBuffer, maybe grown since
  'resizableTracking', // a length-tracking view over one, maybe resized since (length = whole elements)
  'growable', // a fixed-length view over a growable SharedArrayBuffer, maybe grown since
  'growableTracking',
  'subclass', // class extends C
  'buffer', // a Node Buffer (a Uint8Array, from the pool: non-zero byteOffset)
  'numbers', // number[] (copied by par)
  'range', // par.range(start, end, step)
] as const;
type SourceKind = (typeof SOURCE_KINDS)[number];

const F64: Element = ELEMENTS[0] as Element;
const U8: Element = ELEMENTS.find((e) => e.ctor === Uint8Array) as Element;

const SUBCLASSES = new Map<NumericArrayConstructor, NumericArrayConstructor>();
function subclassOf(C: NumericArrayConstructor): NumericArrayConstructor {
  let S = SUBCLASSES.get(C);
  if (S === undefined) {
    S = class extends (C as Float64ArrayConstructor) {} as unknown as NumericArrayConstructor;
    SUBCLASSES.set(C, S);
  }
  return S;
}

interface Source {
  readonly p: Par<number>;
  /** The typed array par reads (undefined for number[] and ranges). */
  readonly array: NumericArray | undefined;
  /** The values at the call: what the reference reads. */
  readonly values: number[];
  readonly desc: string;
}

/** 0, 1, small (odd lengths favoured), around INLINE_MAX, or over several chunks on weft's threads. */
function length(r: Rng): number {
  const u = r.next();
  if (u < 0.08) return 0;
  if (u < 0.16) return 1;
  if (u < 0.3) return r.int(2, 9);
  if (u < 0.68) return r.int(5, 150) | 1;
  if (u < 0.8) return r.int(151, 3000);
  if (u < 0.9) return INLINE_MAX + r.int(-2, 1);
  return r.int(INLINE_MAX + 1, 2 * INLINE_MAX + 300);
}

/** Random bytes everywhere first, so that a read outside the view would show in the results. */
function scribble(r: Rng, buffer: ArrayBufferLike): void {
  new Uint8Array(buffer).fill(r.int(1, 255));
}

function makeSource(r: Rng, kind: SourceKind, el: Element, n: number): Source {
  const C = el.ctor;
  const bpe = C.BYTES_PER_ELEMENT;
  const pad = r.int(1, 4);
  const tail = r.int(0, 3);
  let a: NumericArray;
  switch (kind) {
    case 'numbers': {
      const values = Array.from({ length: n }, () => value(r, F64));
      return { p: par(values), array: undefined, values: values.slice(), desc: `number[${n}]` };
    }
    case 'range': {
      const start = r.pick([0, 1, -3, 0.5, -1e6, 1e15, r.int(-1000, 1000), (r.next() - 0.5) * 1e6]);
      const step = r.pick([1, -1, 2, 3, -7, 0.5, -0.25, 0.1, 1 / 3, r.int(1, 100) * (r.chance(0.5) ? 1 : -1) * (1 + r.next())]);
      const end = start + n * step;
      // par.range's own count (numpy's arange): may differ from n by rounding.
      const len = Math.max(0, Math.ceil((end - start) / step));
      const values = Array.from({ length: len }, (_, k) => start + k * step);
      return { p: par.range(start, end, step), array: undefined, values, desc: `range(${start}, ${end}, ${step})` };
    }
    case 'plain':
      a = new C(n);
      break;
    case 'subclass':
      a = new (subclassOf(C))(n);
      break;
    case 'buffer':
      a = Buffer.allocUnsafe(n);
      break;
    case 'offset':
    case 'shared':
    case 'sharedOffset': {
      const bytes = (kind === 'shared' ? n : pad + n + tail) * bpe;
      const buf = kind === 'offset' ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes);
      scribble(r, buf);
      a = new (viewCtor(C))(buf, kind === 'shared' ? 0 : pad * bpe, n);
      break;
    }
    case 'resizable':
    case 'resizableTracking': {
      const buf = new ResizableBuffer((pad + n + tail) * bpe, { maxByteLength: (pad + 2 * n + 16) * bpe });
      scribble(r, buf);
      if (kind === 'resizable') {
        a = new C(buf, pad * bpe, n);
        if (r.chance(0.4)) buf.resize((pad + n + tail + r.int(0, n + 8)) * bpe + r.int(0, bpe - 1));
      } else {
        a = new C(buf, pad * bpe);
        // Any whole number of elements, and a few bytes that make no element.
        buf.resize((pad + r.int(0, 2 * n + 8)) * bpe + r.int(0, bpe - 1));
      }
      break;
    }
    case 'growable':
    case 'growableTracking': {
      const buf = new GrowableBuffer((pad + n) * bpe, { maxByteLength: (pad + 2 * n + 16) * bpe });
      scribble(r, buf);
      const V = viewCtor(C);
      a = kind === 'growable' ? new V(buf, pad * bpe, n) : new V(buf, pad * bpe);
      if (r.chance(0.5)) buf.grow(buf.byteLength + r.int(0, n + 8) * bpe + r.int(0, bpe - 1));
      break;
    }
  }
  for (let k = 0; k < a.length; k++) a[k] = value(r, el);
  const desc = `${kind} ${a.constructor.name}(${a.length}) @${a.byteOffset} of ${a.buffer.byteLength} bytes`;
  return { p: par(a), array: a, values: valuesOf(a), desc };
}

/** A target for toArray({ into }): fresh (any backing, sometimes too small), the source, or another view of its buffer. */
function makeInto(r: Rng, src: Source, out: number): { into: NumericArray; how: string } {
  const u = r.next();
  if (src.array !== undefined && u < 0.2) return { into: src.array, how: 'the source itself' };
  // (Not over a Buffer's: its pool slab holds other Buffers of this process.)
  if (src.array !== undefined && !Buffer.isBuffer(src.array) && u < 0.35) {
    const buf = src.array.buffer;
    const C = r.pick(ELEMENTS).ctor;
    const bpe = C.BYTES_PER_ELEMENT;
    const at = Math.max(0, Math.min(buf.byteLength, src.array.byteOffset + r.int(-16, 16)));
    const off = at - (at % bpe);
    const room = Math.floor((buf.byteLength - off) / bpe);
    const len = Math.max(0, Math.min(room, out + r.int(-1, 2)));
    return { into: new (viewCtor(C))(buf, off, len), how: `a ${C.name} over the source's buffer @${off}` };
  }
  const el = r.pick(ELEMENTS);
  const C = el.ctor;
  const len = out > 0 && r.chance(0.15) ? out - r.int(1, out) : out + r.pick([0, 0, 1, 3]);
  const backing = r.pick(['plain', 'offset', 'shared', 'resizableTracking', 'growable'] as const);
  const bpe = C.BYTES_PER_ELEMENT;
  let into: NumericArray;
  switch (backing) {
    case 'plain':
      into = new C(len);
      break;
    case 'offset':
      into = new C(new ArrayBuffer((len + 2) * bpe), bpe, len);
      break;
    case 'shared':
      into = new (viewCtor(C))(new SharedArrayBuffer(len * bpe));
      break;
    case 'resizableTracking':
      into = new C(new ResizableBuffer(len * bpe, { maxByteLength: 2 * len * bpe + 8 }));
      break;
    case 'growable':
      into = new (viewCtor(C))(new GrowableBuffer((len + 1) * bpe, { maxByteLength: 2 * len * bpe + 16 }), bpe, len);
      break;
  }
  for (let k = 0; k < into.length; k++) into[k] = value(r, el);
  return { into, how: `a fresh ${backing} ${C.name}(${len})` };
}

// ---- the differential test -----------------------------------------------------------------------

const CAPS_K = [0, 1, -1, 2, 3, 7, 0.5, -2.5, 100, 1e9, NaN, -0, Infinity, -Infinity];

interface Case {
  readonly kind: SourceKind;
  readonly element: string;
  readonly run: () => Promise<string | undefined>;
  readonly describe: () => string;
  readonly tags: readonly string[];
}

function makeCase(k: number): Case {
  const r = new Rng(caseSeed(SEED, k));
  // Every source kind and terminal in turn (the rest is random), so that each pair comes up.
  const kind = SOURCE_KINDS[k % SOURCE_KINDS.length] as SourceKind;
  const termName = TERMINALS[Math.floor(k / SOURCE_KINDS.length) % TERMINALS.length] as (typeof TERMINALS)[number];
  const el = kind === 'buffer' ? U8 : kind === 'numbers' || kind === 'range' ? F64 : r.pick(ELEMENTS);
  const src = makeSource(r, kind, el, length(r));
  const caps: Caps = { k: r.chance(0.7) ? r.pick(CAPS_K) : value(r, F64), b: r.chance(0.5) };
  const { stages: st, type } = stages(r, 3, FULL);
  const ls = lanes(src.values, st, caps);
  let term: Terminal;
  let how = '';
  if (termName === 'into') {
    const made = makeInto(r, src, ls.length);
    term = { t: 'into', into: made.into };
    how = made.how;
  } else {
    term = terminal(r, termName, FULL, type);
  }
  const element = kind === 'numbers' ? 'number[]' : kind === 'range' ? 'range' : el.ctor.name;
  const tags: string[] = [];
  const n = src.values.length;
  tags.push(n === 0 ? 'empty' : n === 1 ? 'one value' : n < INLINE_MAX ? 'inline' : 'threaded');
  if (src.values.some((v) => Number.isNaN(v))) tags.push('NaN');
  if (src.values.some((v) => Object.is(v, -0))) tags.push('-0');
  if (src.values.some((v) => v === Infinity || v === -Infinity)) tags.push('±Infinity');
  const describeCase = (): string =>
    `pipeline ${k} (WEFT_PAR_FUZZ_SEED=${SEED} WEFT_PAR_FUZZ_CASE=${k}): ${src.desc} ${describe(st, term)}` +
    `${how === '' ? '' : ` into ${how}`} with { k: ${caps.k}, b: ${caps.b} }`;

  const run = async (): Promise<string | undefined> => {
    const want = expected(ls, term, caps);
    let p: Par<Value>;
    try {
      p = build(src.p, st, caps);
    } catch (err) {
      return `the pipeline did not compile: ${err instanceof ParCompileError ? err.message : String(err)}`;
    }
    if (term.t !== 'into') {
      let got: unknown;
      try {
        got = await call(p, term, caps);
      } catch (err) {
        return `rejected: ${String(err)}`;
      }
      return mismatch(got, want);
    }
    // toArray({ into }): the values in into[0, out), the rest of into untouched, and into (or
    // its first `out` elements) returned; too small: WEFT_INVALID_ARG, nothing written.
    const into = term.into;
    const before = valuesOf(into);
    const out = ls.length;
    let got: unknown;
    try {
      got = await call(p, term, caps);
    } catch (err) {
      if (out > before.length && err instanceof WeftError && err.code === 'WEFT_INVALID_ARG') {
        tags.push('into too small');
        const changed = listMismatch(valuesOf(into), before);
        return changed === undefined ? undefined : `a rejected toArray({ into }) wrote: ${changed}`;
      }
      return `rejected: ${String(err)}`;
    }
    if (out > before.length) return `${out} values into ${before.length} places did not reject`;
    tags.push(
      how === 'the source itself' ? 'into the source' : how.startsWith('a fresh') ? 'into a fresh array' : 'into a view over the source',
    );
    if (
      out === before.length ? got !== into : !(ArrayBuffer.isView(got) && got.buffer === into.buffer && got.byteOffset === into.byteOffset)
    ) {
      return 'toArray({ into }) did not return into (or its start)';
    }
    const view = got as NumericArray;
    if (view.constructor !== into.constructor || view.length !== out) return `returned a ${view.constructor.name}(${view.length})`;
    const now = valuesOf(into);
    return listMismatch(now.slice(0, out), valuesOf(want as NumericArray)) ?? listMismatch(now.slice(out), before.slice(out));
  };
  return { kind, element, run, describe: describeCase, tags };
}

test('differential: random pipelines over every kind of source equal plain JavaScript', async (t) => {
  const started = performance.now();
  const end = started + BUDGET_MS;
  let compared = 0;
  let mismatches = 0;
  const bySource = new Map<string, number>(SOURCE_KINDS.map((s) => [s, 0]));
  const byElement = new Map<string, number>([...ELEMENTS.map((e): [string, number] => [e.ctor.name, 0]), ['number[]', 0], ['range', 0]]);
  const byTerminal = new Map<string, number>(TERMINALS.map((s) => [s, 0]));
  const byTag = new Map<string, number>();
  for (let k = CASE ?? 0; ; k++) {
    if (CASE !== undefined ? k > CASE : RUNS !== undefined ? k >= RUNS : performance.now() >= end) break;
    const c = makeCase(k);
    const bad = await c.run();
    compared++;
    bump(bySource, c.kind);
    bump(byElement, c.element);
    bump(byTerminal, TERMINALS[Math.floor(k / SOURCE_KINDS.length) % TERMINALS.length] as string);
    for (const tag of c.tags) bump(byTag, tag);
    if (bad !== undefined) {
      mismatches++;
      if (mismatches <= 10) t.log(`MISMATCH ${c.describe()}: ${bad}`);
    }
  }
  const ms = Math.round(performance.now() - started);
  t.log(`seed ${SEED} (replay with WEFT_PAR_FUZZ_SEED=${SEED}), ${count(ms)} ms, on the ${ENGINE} engine`);
  t.log(`pipelines compared: ${count(compared)}, mismatches: ${count(mismatches)}`);
  t.log(`sources: ${tallyLine(bySource)}`);
  t.log(`element types: ${tallyLine(byElement)}`);
  t.log(`terminals: ${tallyLine(byTerminal)}`);
  t.log(`edges: ${tallyLine(byTag)}`);

  t.is(mismatches, 0, 'every pipeline equals the JS reference (the mismatches are logged above)');
  // At least 10 pipelines a second of budget (a loaded 2-core box does over 100): fewer means
  // something stalls.
  const least = CASE !== undefined ? 1 : (RUNS ?? Math.max(1, Math.floor(BUDGET_MS / 100)));
  t.true(compared >= least, `${compared} pipelines compared, want at least ${least}`);
  // Breadth: every source kind, element type and terminal came up, and (given enough pipelines
  // that missing one by chance is below 1e-6) every edge.
  const missing = compared >= 400 ? [...bySource, ...byElement, ...byTerminal].filter(([, v]) => v === 0).map(([k]) => k) : [];
  if (compared >= 2000) {
    for (const edge of [
      'empty',
      'one value',
      'inline',
      'threaded',
      'NaN',
      '-0',
      '±Infinity',
      'into too small',
      'into the source',
      'into a fresh array',
    ]) {
      if ((byTag.get(edge) ?? 0) === 0) missing.push(edge);
    }
  }
  t.deepEqual(missing, [], 'kinds of pipelines that never came up');
});

// ---- misuse, in child processes ------------------------------------------------------------------

const FIXTURE = join(__dirname, 'fixtures', 'par-fuzz-misuse.ts');

interface ChildRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function runChild(node: string, args: readonly string[], timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve) => {
    execFile(
      node,
      ['--import=tsx', '--expose-gc', FIXTURE, ...args],
      { cwd: ROOT, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
        resolve({
          status: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
          signal: e?.signal ?? null,
          killed: e?.killed ?? false,
          stdout,
          stderr,
        });
      },
    );
  });
}

interface RunLine {
  readonly run: number;
  readonly misuse: string;
  readonly timing: string;
  readonly where: string;
  readonly pending: boolean;
  readonly threaded: boolean;
  readonly pipeline: string;
  readonly results: ReadonlyArray<{ terminal: string; outcome: 'correct' | 'error' | 'wrong'; code?: string; detail?: string }>;
}
type Line = { start: number; desc: string } | RunLine | { done: true; runs: number; misuses: string[]; node: string };

const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

test('misuse: shrinking, detaching, growing or writing buffers around a terminal never kills the process nor gives a wrong result', async (t) => {
  const started = performance.now();
  // This Node, and Node 24 where this one lacks ArrayBuffer.prototype.transfer (Node 20).
  const nodes: Array<{ bin: string; first: number }> = [{ bin: process.execPath, first: 0 }];
  if (!hasTransfer) {
    try {
      nodes.push({ bin: nodeBinary(24), first: 1_000_000 });
    } catch (err) {
      t.log(`transfer() misuses not run: no Node 24 binary (${String(err)})`);
    }
  }
  let children = 0;
  let signals = 0;
  let abnormal = 0;
  let missing = 0;
  let runs = 0;
  let results = 0;
  let correct = 0;
  let wrong = 0;
  let errors = 0;
  let pending = 0;
  let pendingThreaded = 0;
  const codes = new Map<string, number>();
  const byMisuse = new Map<string, number>();
  const byTiming = new Map<string, number>();
  const byWhere = new Map<string, number>();
  const versions = new Set<string>();
  const names = new Set<string>();
  const problems: string[] = [];

  for (const [j, node] of nodes.entries()) {
    const share = BUDGET_MS / nodes.length;
    const stop = started + share * (j + 1);
    let next = node.first + (CASE ?? 0);
    let left = CASE !== undefined ? 1 : MISUSE_RUNS;
    for (let crashes = 0; crashes < 3; ) {
      const budget = Math.round(stop - performance.now());
      if (left === undefined ? budget <= 0 : left <= 0) break;
      const args = [String(SEED), String(next), String(Math.max(budget, 0)), ...(left === undefined ? [] : [String(left)])];
      const child = await runChild(node.bin, args, (left === undefined ? budget : 600_000) + 60_000);
      children++;
      const lines = child.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
      let open: { start: number; desc: string } | undefined;
      let done = false;
      for (const line of lines) {
        if ('start' in line) {
          open = line;
        } else if ('done' in line) {
          done = true;
          versions.add(line.node);
          for (const n of line.misuses) names.add(n);
        } else {
          open = undefined;
          runs++;
          next = line.run + 1;
          if (left !== undefined) left--;
          bump(byMisuse, line.misuse);
          bump(byTiming, line.timing);
          bump(byWhere, line.where);
          if (line.pending) pending++;
          if (line.pending && line.threaded) pendingThreaded++;
          for (const res of line.results) {
            results++;
            if (res.outcome === 'correct') correct++;
            else if (res.outcome === 'error') {
              errors++;
              bump(codes, res.code ?? '(none)');
            } else {
              wrong++;
              problems.push(
                `WRONG run ${line.run} (WEFT_PAR_FUZZ_SEED=${SEED} WEFT_PAR_FUZZ_CASE=${line.run % 1_000_000}` +
                  `${node.first > 0 ? ', on Node 24' : ''}): ${line.misuse} ${line.timing} on the ${line.where} of ` +
                  `${line.pipeline}: ${res.terminal} ${res.code ?? ''} ${res.detail ?? ''}`,
              );
            }
          }
        }
      }
      if (child.signal !== null || child.status !== 0 || !done) {
        const how = child.killed
          ? `hung (killed after its timeout, ${child.signal})`
          : child.signal !== null
            ? `killed by ${child.signal}`
            : `exited with ${child.status}`;
        if (child.signal !== null && !child.killed) signals++;
        else abnormal++;
        if (open !== undefined) missing++;
        problems.push(`a misuse child ${how} during ${open?.desc ?? 'no run'}:\n${child.stderr.slice(-2000)}`);
        // Go on after the run that took it down.
        if (open !== undefined) next = open.start + 1;
        crashes++;
        if (left !== undefined && open !== undefined) left--;
      }
      // A child that finished used its whole budget (or run count).
      if (done) break;
    }
  }

  for (const p of problems.slice(0, 10)) t.log(p);
  const ms = Math.round(performance.now() - started);
  t.log(`seed ${SEED}, ${count(ms)} ms, ${children} children on Node ${[...versions].join(' and ')}`);
  t.log(
    `misuse runs: ${count(runs)}, signals: ${signals}, abnormal exits: ${abnormal}, wrong results: ${wrong}, ` +
      `errors with code: ${count(errors)}${codes.size > 0 ? ` (${tallyLine(codes)})` : ''}, correct results: ${count(correct)}`,
  );
  t.log(`misuse while the terminal was pending: ${count(pending)} (on weft's threads: ${count(pendingThreaded)})`);
  t.log(`misuses: ${tallyLine(byMisuse)}`);
  t.log(`timings: ${tallyLine(byTiming)}; arrays: ${tallyLine(byWhere)}`);

  t.is(signals, 0, 'no child died by a signal');
  t.is(abnormal, 0, 'every child exited 0 after its last run');
  t.is(missing, 0, 'every run that started reported');
  t.is(wrong, 0, 'no wrong result (logged above)');
  t.true(results >= runs, 'every run reported its results');
  const least = CASE !== undefined ? 1 : MISUSE_RUNS !== undefined ? MISUSE_RUNS * nodes.length : Math.max(1, Math.floor(BUDGET_MS / 400));
  t.true(runs >= least, `${runs} misuse runs, want at least ${least}`);
  if (runs >= 100) {
    // The misuses did hit terminals in flight on weft's threads, and each misuse came up.
    t.true(pendingThreaded > 0, 'some misuse hit a terminal pending on weft threads');
    t.deepEqual(
      [...names].filter((n) => (byMisuse.get(n) ?? 0) === 0),
      [],
      'misuses that never ran',
    );
  }
});
