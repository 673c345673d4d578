// The wire-decoder fuzz of issue 13 (reliability): hostile bytes into WireReader
// (src/internal/wire.ts), in a child process (fixtures/bad-input-wire-child.ts, driven by
// fixtures/bad-input-runner.ts): 4 GiB and overrunning length prefixes in every length field
// (with the memory they make the process take), nesting far beyond any limit, every truncation
// of small valid encodings, then random mutations of valid encodings and random bytes, and the
// round trip decode(encode(v)) against structuredClone(v). Invariant: a value or a WeftError with
// a code (wire.ts uses WEFT_INVALID_ARG for malformed input); never another exception, a slow
// decode, an allocation sized by a hostile length, a signal or a hang. See README.md here.
//
// WEFT_FUZZ_SEED=<n> replays a run; WEFT_FUZZ_MS=<ms> sets the length of the random phase
// (default 8000; the fixed phases before it always run in full).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { formatViolations, fuzzMs, fuzzSeed, runFuzz } from './fixtures/bad-input-runner.js';

const ROUND_TRIPS = 300;

test('the wire decoder with hostile bytes: a value or a coded WeftError; bounded memory; never a plain error, a signal or a hang', async (t) => {
  const seed = fuzzSeed();
  const ms = fuzzMs(8000);
  t.log(`seed ${seed} (WEFT_FUZZ_SEED=${seed} replays it); random phase ${ms} ms (WEFT_FUZZ_MS)`);
  const r = await runFuzz({
    fixture: join(__dirname, 'fixtures', 'bad-input-wire-child.ts'),
    seed,
    ms,
    stallMs: 15_000,
    extraArgs: ['--round-trips', String(ROUND_TRIPS)],
  });
  const { counts } = r;
  // Every violation is counted; the first few of each kind are recorded with their input.
  const total = Math.max(counts.violations, r.violations.length);
  const x = counts.extra;
  const weft = Object.entries(counts.weft)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  t.log(
    `${counts.calls} decodes (${x.fixedCalls ?? '?'} fixed; ${x.randomCallsTotal ?? 0} random inputs, each decoded 1-4 ways) ` +
      `in ${r.elapsedMs} ms, ${r.children} child process(es): ${counts.ok} decoded, weft errors: ${weft || 'none'}; ` +
      `${x.roundTrips ?? 0} round trips; slowest decode ${x.slowestDecodeMs ?? '?'} ms; ` +
      `peak RSS growth ${x.lengthPhasePeakRssGrowthMB ?? '?'} MB over the hostile lengths, ${x.peakRssGrowthMB ?? '?'} MB in all; ` +
      `${total} violation(s)`,
  );
  if (total > 0) {
    const file = join(tmpdir(), `weft-wire-fuzz-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ seed, violations: r.violations }, null, 2));
    t.log(`every violation, with the input index to rerun it: ${file}`);
  }
  // The fuzz really ran: every fixed input, the round trips, and malformed input was refused.
  t.true(r.finished, `the fuzz did not reach its end (${r.children} child processes)`);
  t.true(counts.calls >= (x.fixedCalls ?? Infinity), `only ${counts.calls} decodes were made`);
  t.is(x.roundTrips, ROUND_TRIPS);
  t.true(counts.ok > 0 && (counts.weft.WEFT_INVALID_ARG ?? 0) > 0, 'expected both decoded values and WEFT_INVALID_ARG refusals');
  t.is(total, 0, formatViolations(r.violations, total));
});
