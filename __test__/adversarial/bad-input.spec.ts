// The bad-input fuzz of issue 13 (reliability): every public API of weft called with hostile
// arguments (wrong types, NaN, -0, huge/negative/fractional numbers, 2^53+, BigInt, Symbols,
// Proxies whose traps throw, throwing getters, objects nested 10,000 deep, cycles, huge strings,
// sparse/frozen/null-prototype objects, functions, detached ArrayBuffers, duplicate transfer
// entries...), in child processes (fixtures/bad-input-child.ts, driven by
// fixtures/bad-input-runner.ts). Invariant: every call succeeds or throws/rejects a WeftError with
// a code from ERROR_CODES; never a plain TypeError/RangeError, never the caller's own error let
// through unwrapped, never a signal or abort of the process, never a hang. See README.md here.
//
// WEFT_FUZZ_SEED=<n> replays a run's random phase; WEFT_FUZZ_MS=<ms> sets its length (default
// 4000; the catalog phase before it always runs in full).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { formatViolations, fuzzMs, fuzzSeed, runFuzz } from './fixtures/bad-input-runner.js';

test('every public API with hostile arguments: success or a coded WeftError; never a plain error, a signal or a hang', async (t) => {
  const seed = fuzzSeed();
  const ms = fuzzMs(4000);
  t.log(`seed ${seed} (WEFT_FUZZ_SEED=${seed} replays it); random phase ${ms} ms (WEFT_FUZZ_MS)`);
  const r = await runFuzz({ fixture: join(__dirname, 'fixtures', 'bad-input-child.ts'), seed, ms, stallMs: 15_000 });
  const { counts } = r;
  // Every violation is counted; the first few of each kind are recorded with their input.
  const total = Math.max(counts.violations, r.violations.length);
  const weft = Object.entries(counts.weft)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  t.log(
    `${counts.calls} calls (${counts.extra.catalogCalls ?? '?'} catalog, ${counts.extra.randomCallsTotal ?? 0} random) in ${r.elapsedMs} ms, ` +
      `${r.children} child process(es): ${counts.ok} ok, weft errors: ${weft || 'none'}; ${counts.skipped} skipped; ` +
      `${total} violation(s)`,
  );
  if (total > 0) {
    const file = join(tmpdir(), `weft-bad-input-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ seed, violations: r.violations }, null, 2));
    t.log(`every violation, with the call index to rerun it: ${file}`);
  }
  // The fuzz really ran: the whole catalog, and both kinds of outcome.
  t.true(r.finished, `the fuzz did not reach its end (${r.children} child processes)`);
  t.true(counts.calls >= (counts.extra.catalogCalls ?? Infinity) - counts.skipped, `only ${counts.calls} calls were made`);
  t.true(counts.ok > 0 && (counts.weft.WEFT_INVALID_ARG ?? 0) > 0, 'expected both successes and WEFT_INVALID_ARG errors');
  t.is(total, 0, formatViolations(r.violations, total));
});
