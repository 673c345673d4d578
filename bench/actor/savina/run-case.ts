/**
 * One run of one Savina benchmark for one library, in a process of its own:
 *
 *   node --import=tsx bench/actor/savina/run-case.ts <lib> <bench> [main|workers] [--quick]
 *
 * Sets the library's actors up, runs one warm-up iteration (a tenth of the messages) and one timed
 * iteration on them, checks both (a wrong result is an error, not a figure), and prints one line
 * `@@result <json>` on stdout (a `RunResult`, or `{ error }`); progress goes to stderr.
 * ./index.ts spawns this once per run.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { loadAdapter, type Adapter, type Placed } from './adapters.js';
import {
  BENCHES,
  JOBS,
  LIBS,
  QUICK,
  SAVINA,
  THETA,
  VARIANTS,
  jobKey,
  messagesOf,
  performComputation,
  sizesText,
  warmupSizes,
  type BenchId,
  type RunResult,
  type Sizes,
} from './params.js';
import { RESULT_MARK, childMain, exitUsage, parseBenchArgs, progress, roundSig as round } from '../../harness/index.js';

type Figures = Pick<RunResult, 'metrics' | 'info'>;

/** One iteration: the time from its first message to the completion the main thread sees, after the checks. */
type Iteration = (s: Sizes) => Promise<{ ms: number; checks: Record<string, unknown> }>;

function expectEqual(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`${what}: got ${String(got)}, expected ${String(want)}`);
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/** The iteration of `bench` on `a`'s actors (set up here), and where they run. */
async function setUp(a: Adapter, bench: BenchId, s: Sizes): Promise<{ iterate: Iteration; placed: Placed }> {
  const missing = (): never => {
    throw new Error(`${a.lib} does not run ${bench}`);
  };
  switch (bench) {
    case 'pingpong': {
      const p = await (a.pingpong ?? missing)();
      return {
        placed: p,
        iterate: async ({ pingpong: { n } }) => {
          const { ms, value: pongs } = await timed(() => p.run(n));
          expectEqual('pongs received by the ping actor', pongs, n);
          expectEqual('pings handled by the pong actor', await p.verify(), n);
          return { ms, checks: { pongs, pings: n } };
        },
      };
    }
    case 'count': {
      const c = await (a.count ?? missing)();
      return {
        placed: c,
        iterate: async ({ count: { n } }) => {
          const { ms, value: count } = await timed(() => c.run(n));
          expectEqual("the counter's count", count, n);
          return { ms, checks: { count } };
        },
      };
    }
    case 'threadring': {
      const r = await (a.threadring ?? missing)(s.threadring.n);
      return {
        placed: r,
        iterate: async ({ threadring: { r: hops } }) => {
          const { ms, value } = await timed(() => r.run(hops));
          expectEqual('hops of the token', value, hops);
          // R hops plus the first ping, from the main thread.
          expectEqual('tokens received by the members, all together', await r.verify(), hops + 1);
          return { ms, checks: { hops: value } };
        },
      };
    }
    case 'fjthrput': {
      const f = await (a.fjthrput ?? missing)(s.fjthrput.a);
      const per = performComputation(THETA);
      return {
        placed: f,
        iterate: async ({ fjthrput: { n, a: actors } }) => {
          const { ms, value } = await timed(() => f.run(n));
          expectEqual('actors that answered', value.length, actors);
          value.forEach((o, i) => {
            expectEqual(`messages handled by actor ${i}`, o.processed, n);
            if (Math.abs(o.acc - n * per) > 1e-9 * n * per)
              throw new Error(`actor ${i}: sum of the computations ${o.acc}, expected ${n * per}`);
          });
          const after = await f.verify();
          after.forEach((k, i) => expectEqual(`messages handled by actor ${i}, read afterwards`, k, n));
          return { ms, checks: { actors: value.length, each_processed: n } };
        },
      };
    }
  }
}

/** Checks that the actors run where the job says: all on the main thread, or none of them there and on at least two threads. */
async function checkPlacement(placed: Placed, crossThread: boolean): Promise<number[] | undefined> {
  if (!placed.threads) return undefined;
  const ids = await placed.threads();
  const distinct = [...new Set(ids)];
  if (crossThread) {
    if (ids.includes(threadId)) throw new Error(`an actor runs on the main thread (threadIds ${distinct.join(', ')})`);
    if (ids.length > 1 && distinct.length < 2) throw new Error(`all ${ids.length} actors run on one thread (${distinct[0]})`);
  } else if (distinct.some((t) => t !== threadId)) throw new Error(`actors on threads ${distinct.join(', ')}, not on the main thread`);
  return distinct;
}

// ---------------------------------------------------------------------------------------------

const USAGE = 'node --import=tsx bench/actor/savina/run-case.ts <lib> <bench> [main|workers] [--quick]';
const { values: o, positionals } = parseBenchArgs({
  usage: USAGE,
  description: `One run of one Savina benchmark for one library; the result as one line \`${RESULT_MARK}<json>\` on stdout.`,
  positionals: [
    { name: 'lib', choices: LIBS },
    { name: 'bench', choices: BENCHES },
    { name: 'placement', choices: VARIANTS, optional: true },
  ],
  flags: { quick: { type: 'boolean', help: "a tenth of Savina's message counts" } },
});
const [lib, bench, variant] = positionals;
if ((lib === 'weft') !== (variant !== undefined))
  exitUsage(lib === 'weft' ? 'weft needs main or workers' : `unexpected argument ${variant}`, USAGE);
if (!JOBS[bench].some((j) => j.lib === lib)) exitUsage(`${lib} does not run ${bench}`, USAGE);
const base = { lib, bench, ...(variant === undefined ? {} : { variant }) };

childMain(
  base,
  async (atExit) => {
    const sizes = o.quick ? QUICK : SAVINA;
    const warm = warmupSizes(sizes);
    const adapter = await loadAdapter(lib, variant);
    // Shut the actors down, but never hang on it: the result is already out.
    atExit(() => adapter.close());
    const key = jobKey({ lib, ...(variant === undefined ? {} : { variant }) });
    progress(`${key}, ${bench}: ${sizesText(bench, sizes)}`);

    let t0 = performance.now();
    const { iterate, placed } = await setUp(adapter, bench, sizes);
    const threads = await checkPlacement(placed, lib === 'port' || lib === 'comedy' || variant === 'workers');
    const setupMs = performance.now() - t0;
    progress(`set up in ${setupMs.toFixed(0)} ms${threads ? ` (threadIds: ${threads.join(', ')})` : ''}`);

    t0 = performance.now();
    const w = await iterate(warm);
    progress(`warm-up (${sizesText(bench, warm)}): ${w.ms.toFixed(0)} ms`);
    await sleep(50);

    const r = await iterate(sizes);
    const messages = messagesOf(bench, sizes);
    const rate = messages / (r.ms / 1e3);
    progress(`timed: ${r.ms.toFixed(1)} ms, ${round(rate, 4)} msgs/s (${messages.toLocaleString('en')} messages), checks passed`);
    const f: Figures = {
      metrics: { ms: round(r.ms, 5), msgs_per_s: round(rate, 5) },
      info: {
        sizes: sizes[bench],
        messages,
        warmup: { sizes: warm[bench], ms: round(w.ms, 4) },
        setup_ms: round(setupMs, 4),
        checks: r.checks,
        ...(threads ? { thread_ids: threads } : {}),
        how: adapter.how[bench],
      },
    };
    return { ...base, version: adapter.version, ...f };
  },
  { exitTimeoutMs: 5_000 },
);
