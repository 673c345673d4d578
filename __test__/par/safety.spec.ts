// par is memory-safe when JavaScript takes a buffer away while a terminal is pending (issue 13,
// item 4): shrinking a resizable ArrayBuffer (resize), detaching one (structuredClone or
// postMessage with a transfer list, ArrayBuffer.prototype.transfer / transferToFixedLength), for
// the source of sum, toArray and sort and for the target of toArray({ into }). Before weft copied
// non-shared sources and filled non-shared targets on the main thread, these crashed the process
// with SIGSEGV or gave wrong values. Each case runs in a child process
// (fixtures/par-safety.ts), which must exit 0 without a signal, every result being equal to
// plain JavaScript on the original values or, for a target taken away, a WeftError with a code.
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without declarations (nodeBinary is typed below).
import { nodeBinary as nodeBinaryUntyped } from '../../scripts/registry-cache.mjs';
import { ROOT } from '../helpers.js';

const nodeBinary = nodeBinaryUntyped as (major: number) => string;

const FIXTURE = join(__dirname, '..', 'fixtures', 'par-safety.ts');
const CHILD_TIMEOUT_MS = 120_000;
/** Children at a time (each holds a few 64 MB arrays). */
const CONCURRENCY = 2;

/** ArrayBuffer.prototype.transfer came with Node 21: older Nodes run those cases on Node 24. */
const TRANSFER_CASES = new Set(['transfer', 'transferShort', 'transferFixed']);
const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

interface Line {
  case: string;
  terminal: string;
  outcome: 'correct' | 'error' | 'wrong' | 'skipped';
  code?: string;
  detail?: string;
}

interface Child {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let running = 0;
const waiting: Array<() => void> = [];

async function runChild(node: string, name: string): Promise<Child> {
  if (running >= CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise<Child>((resolve) => {
      execFile(
        node,
        ['--import=tsx', '--expose-gc', FIXTURE, name],
        { cwd: ROOT, timeout: CHILD_TIMEOUT_MS, encoding: 'utf8', maxBuffer: 1 << 20 },
        (err, stdout, stderr) => {
          const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
          resolve({ status: e === null ? 0 : typeof e.code === 'number' ? e.code : null, signal: e?.signal ?? null, stdout, stderr });
        },
      );
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function parse(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

const SOURCE_MISUSES = [
  'resize0',
  'shrink',
  'grow',
  'clone',
  'port',
  'transfer',
  'transferShort',
  'transferFixed',
  'sabGrow',
  'sabTransfer',
];
const INTO_MISUSES = ['resize0', 'shrink', 'grow', 'clone', 'port', 'transfer', 'transferShort', 'sabGrow'];
const ALIAS_MISUSES = ['resize0', 'port'];

const CASES = [
  ...SOURCE_MISUSES.map((m) => `source:${m}`),
  ...INTO_MISUSES.map((m) => `into:${m}`),
  ...ALIAS_MISUSES.map((m) => `alias:${m}`),
];

for (const name of CASES) {
  const [where, misuse] = name.split(':') as [string, string];
  test(`par survives ${name} while a terminal is pending`, async (t) => {
    const node = TRANSFER_CASES.has(misuse) && !hasTransfer ? nodeBinary(24) : process.execPath;
    const r = await runChild(node, name);
    t.is(r.signal, null, `${name} killed the process:\n${r.stderr}`);
    t.is(r.status, 0, `${name} exited with ${r.status}:\n${r.stderr}`);
    const lines = parse(r.stdout);
    const terminals = where === 'source' ? ['sum', 'toArray', 'sort'] : ['toArray'];
    t.deepEqual(
      lines.map((l) => l.terminal),
      terminals,
      `every terminal reports once:\n${r.stdout}\n${r.stderr}`,
    );
    for (const l of lines) {
      const what = `${name} ${l.terminal}: ${l.outcome}${l.code === undefined ? '' : ` ${l.code}`} ${l.detail ?? ''}`;
      t.not(l.outcome, 'skipped', what);
      if (where === 'source' || misuse === 'grow' || misuse.startsWith('sab')) {
        // A copied source, or memory that stays: the result is always right.
        t.is(l.outcome, 'correct', what);
      } else {
        // A target taken away: a clear error, never a write into freed memory.
        t.true(l.outcome === 'correct' || (l.outcome === 'error' && l.code === 'WEFT_INVALID_ARG'), what);
      }
      t.log(what);
    }
  });
}

// Found by the differential fuzz (adversarial/par-fuzz.spec.ts): a small pipeline writes its
// `into` during the call; detaching or shrinking that buffer before the Promise settled made the
// terminal reject with a plain TypeError (`subarray` on a detached buffer) instead of a weft code.
test('toArray({ into }) on the synchronous path: into detached or shrunk before the Promise settles rejects WEFT_INVALID_ARG', async (t) => {
  const { par, WeftError } = await import('../../src/index.js');
  const into = new Uint8Array(40);
  const detached = par.range(0, 35).toArray({ into });
  structuredClone(into.buffer, { transfer: [into.buffer] });
  const e1 = await t.throwsAsync(detached, { instanceOf: WeftError });
  t.is(e1?.code, 'WEFT_INVALID_ARG');
  t.regex(e1?.message ?? '', /detached or shrunk/);
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
  const buffer = new Resizable(40, { maxByteLength: 40 });
  const shrunk = par.range(0, 35).toArray({ into: new Uint8Array(buffer) });
  buffer.resize(10);
  t.is((await t.throwsAsync(shrunk, { instanceOf: WeftError }))?.code, 'WEFT_INVALID_ARG');
  // Untouched, the same call resolves with the view of the values written.
  const ok = await par.range(0, 35).toArray({ into: new Uint8Array(40) });
  t.is(ok.length, 35);
  t.is(ok[34], 34);
});
