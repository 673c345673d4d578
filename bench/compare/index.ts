/**
 * Old build against new: `npm run bench:compare -- --before <dir> [--after <dir>] [--rounds N] [--cases ...]`
 * (= `node --import=tsx bench/compare/index.ts`).
 *
 * The house rule "does not regress": the old and the new build run interleaved in one run, and
 * the paired median ratio new/old of every figure stays >= 0.95. `--before` and `--after` (default:
 * this checkout) are two checkouts of the repository, each with its own `dist/`, native addon and
 * bench runners; every run is a fresh child process started in that tree (cwd = the tree), running
 * THAT TREE's case runner, so that `'weftjs'` (pool), `src/` (actors) and `dist/` (stack) are the
 * tree's own:
 *
 *   pool:a   <tree>/bench/pool/run-case.ts weft a --runs 1    200,000 tiny tasks, all at once and 1,024 in flight (tasks/s)
 *   pool:b   <tree>/bench/pool/run-case.ts weft b --runs 1    pool.map over 1,000,000 tiny items (items/s)
 *   pool:d   <tree>/bench/pool/run-case.ts weft d --runs 1    fib(38) fork-join: nested on currentPool() and split on the main thread (s)
 *   pool:e   <tree>/bench/pool/run-case.ts weft e --runs 1    single-task round trip p50 (and p99), idle CPU over 5 s
 *   actor:a  <tree>/bench/actor/run-case.ts weft a            1,000,000 tells main → actor on a worker (msgs/s)
 *   actor:b  <tree>/bench/actor/run-case.ts weft b            asks main ↔ worker: p50/p99 one at a time, asks/s with 64 in flight
 *   actor:c  <tree>/bench/actor/run-case.ts weft c            ping-pong between actors on two workers (round trips/s)
 *   actor:d  <tree>/bench/actor/run-case.ts weft d            same-thread tells to an actor on the main thread (msgs/s)
 *   stack    bench/compare/stack-child.ts --tree <tree>       SharedStack push+pop of numbers, strings, small objects
 *                                                             from <tree>/dist, ops per CPU second (this checkout's script)
 *
 * Each round runs every selected case once per tree, the before tree first in even rounds and the
 * after tree first in odd ones. For every figure: the median of each tree's runs, the paired ratio
 * of each round (after / before, inverted for latencies so that higher is better), its median,
 * minimum and maximum, and PASS/FAIL against 0.95 (report-only figures: no verdict). Markdown on
 * stdout, progress on stderr, every sample in the JSON (a temp file unless --out).
 *
 * Figures are read defensively from each runner's `@@result` JSON (`metrics.<key>` as a number or
 * `{ median, samples }`): an older tree's runner may print an older shape, and a figure that is not
 * there is reported as missing rather than taken as zero.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ChildRun,
  ROOT,
  addonFile,
  commandLine,
  exitUsage,
  flags,
  fmt,
  machineInfo,
  markdownTable,
  median,
  newestMtime,
  parseBenchArgs,
  resultsPath,
  roundSig,
  runChild,
  writeResults,
} from '../harness/index.js';

/** The house rule: paired median ratio new/old >= this. */
const THRESHOLD = 0.95;

const CASE_IDS = ['pool:a', 'pool:b', 'pool:d', 'pool:e', 'actor:a', 'actor:b', 'actor:c', 'actor:d', 'stack'] as const;
type CaseName = (typeof CASE_IDS)[number];
type Side = 'before' | 'after';
const SIDES: readonly Side[] = ['before', 'after'];

const USAGE =
  'npm run bench:compare -- --before <dir> [--after <dir>] [--rounds N] [--cases pool:a,pool:b,pool:d,pool:e,actor:a,actor:b,actor:c,actor:d,stack]';

const { values: o } = parseBenchArgs({
  usage: USAGE,
  description:
    'The old build (--before) against the new (--after, default this checkout), interleaved in one run: each case runs in a ' +
    "fresh child in each tree with that tree's own runner, alternating which tree goes first; per figure the paired median ratio " +
    `new/old (higher = better, latencies inverted) and PASS/FAIL against ${THRESHOLD}.`,
  flags: {
    before: {
      type: 'string',
      arg: 'DIR',
      required: true,
      help: 'the old checkout (git worktree with node_modules, its native addon, dist/)',
    },
    after: { type: 'string', arg: 'DIR', default: ROOT, help: 'the new checkout' },
    rounds: { type: 'int', default: 5, help: 'rounds: every case once per tree in each (paired ratios: one per round)', arg: 'N' },
    cases: flags.list(CASE_IDS, 'cases to run'),
    timeout: flags.timeout({ default: 120 }),
    out: flags.out('where the JSON goes (default <tmpdir>/weft-bench-compare.json)'),
  },
});

// ---------------------------------------------------------------------------------------------
// Cases and their figures

type Better = 'higher' | 'lower' | 'report';

interface FigureDef {
  /** `metrics.<key>` in the runner's result; alternatives (older shapes) after the first. */
  keys: readonly string[];
  label: string;
  better: Better;
  fmt: (x: number) => string;
}

interface CaseDef {
  title: string;
  /** The runner script for a tree, and its arguments. */
  script: (tree: string) => string;
  args: (tree: string) => string[];
  nodeArgs?: string[];
  /** Files the tree must have for this case (relative to it). */
  needs: readonly string[];
  figures: readonly FigureDef[];
}

const { rate, micros } = fmt;
const cpuPct = (x: number): string => `${x.toFixed(3)} %`;

const CASE_DEFS: Record<CaseName, CaseDef> = {
  'pool:a': {
    title: 'pool a: 200,000 tiny tasks x => x + 1 (tasks/s)',
    script: (t) => join(t, 'bench/pool/run-case.ts'),
    args: () => ['weft', 'a', '--runs', '1'],
    needs: ['bench/pool/run-case.ts', 'dist/index.js'],
    figures: [
      { keys: ['all_tasks_per_s'], label: 'all at once, tasks/s', better: 'higher', fmt: rate },
      { keys: ['window_tasks_per_s'], label: '1,024 in flight, tasks/s', better: 'higher', fmt: rate },
    ],
  },
  'pool:b': {
    title: 'pool b: pool.map over 1,000,000 tiny items (items/s)',
    script: (t) => join(t, 'bench/pool/run-case.ts'),
    args: () => ['weft', 'b', '--runs', '1'],
    needs: ['bench/pool/run-case.ts', 'dist/index.js'],
    figures: [{ keys: ['items_per_s'], label: 'map items/s', better: 'higher', fmt: rate }],
  },
  'pool:d': {
    title: 'pool d: fib(38) fork-join down to fib(25) (s)',
    script: (t) => join(t, 'bench/pool/run-case.ts'),
    args: () => ['weft', 'd', '--runs', '1'],
    needs: ['bench/pool/run-case.ts', 'dist/index.js'],
    figures: [
      { keys: ['nested_s'], label: 'nested on currentPool(), wall', better: 'lower', fmt: fmt.secs },
      { keys: ['split_s'], label: 'split on the main thread, wall', better: 'lower', fmt: fmt.secs },
    ],
  },
  'pool:e': {
    title: 'pool e: idle pool, single-task round trip and idle CPU',
    script: (t) => join(t, 'bench/pool/run-case.ts'),
    args: () => ['weft', 'e', '--runs', '1'],
    needs: ['bench/pool/run-case.ts', 'dist/index.js'],
    figures: [
      { keys: ['rt_p50_us'], label: 'round trip p50', better: 'lower', fmt: micros },
      { keys: ['rt_p99_us'], label: 'round trip p99 (report only)', better: 'report', fmt: micros },
      { keys: ['idle_cpu_pct'], label: 'idle CPU, % of one core (report only)', better: 'report', fmt: cpuPct },
    ],
  },
  'actor:a': {
    title: 'actor a: 1,000,000 tells main → actor on a worker (msgs/s, until an ask sees them all)',
    script: (t) => join(t, 'bench/actor/run-case.ts'),
    args: () => ['weft', 'a'],
    nodeArgs: ['--expose-gc'],
    needs: ['bench/actor/run-case.ts', 'src/index.ts'],
    figures: [{ keys: ['msgs_per_s'], label: 'tells main → worker, msgs/s', better: 'higher', fmt: rate }],
  },
  'actor:b': {
    title: 'actor b: asks main ↔ actor on a worker',
    script: (t) => join(t, 'bench/actor/run-case.ts'),
    args: () => ['weft', 'b'],
    nodeArgs: ['--expose-gc'],
    needs: ['bench/actor/run-case.ts', 'src/index.ts'],
    figures: [
      { keys: ['p50_us'], label: 'ask round trip p50, 1 in flight', better: 'lower', fmt: micros },
      { keys: ['p99_us'], label: 'ask round trip p99 (report only)', better: 'report', fmt: micros },
      { keys: ['inflight_asks_per_s'], label: 'asks/s, 64 in flight', better: 'higher', fmt: rate },
    ],
  },
  'actor:c': {
    title: 'actor c: ping-pong between actors on two workers (round trips/s)',
    script: (t) => join(t, 'bench/actor/run-case.ts'),
    args: () => ['weft', 'c'],
    nodeArgs: ['--expose-gc'],
    needs: ['bench/actor/run-case.ts', 'src/index.ts'],
    figures: [{ keys: ['round_trips_per_s'], label: 'worker ↔ worker round trips/s', better: 'higher', fmt: rate }],
  },
  'actor:d': {
    title: 'actor d: same-thread tells to an actor on the main thread (msgs/s)',
    script: (t) => join(t, 'bench/actor/run-case.ts'),
    args: () => ['weft', 'd'],
    nodeArgs: ['--expose-gc'],
    needs: ['bench/actor/run-case.ts', 'src/index.ts'],
    figures: [{ keys: ['msgs_per_s'], label: 'same-thread tells, msgs/s', better: 'higher', fmt: rate }],
  },
  stack: {
    title: 'stack: SharedStack push+pop from dist/, one thread (ops per CPU second)',
    script: () => join(ROOT, 'bench/compare/stack-child.ts'),
    args: (t) => ['--tree', t],
    needs: ['dist/index.js'],
    figures: [
      { keys: ['number_ops_per_cpu_s'], label: 'push+pop, number, ops/CPU s', better: 'higher', fmt: fmt.mega },
      { keys: ['string_ops_per_cpu_s'], label: 'push+pop, short string, ops/CPU s', better: 'higher', fmt: fmt.mega },
      { keys: ['object_ops_per_cpu_s'], label: 'push+pop, small object, ops/CPU s', better: 'higher', fmt: fmt.mega },
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// The trees

interface Tree {
  side: Side;
  dir: string;
  commit: string;
  /** Uncommitted changes under src/ or crate/ (what is built may differ from the commit). */
  modified: boolean;
  addon: string;
  warnings: string[];
}

function gitIn(dir: string, ...args: string[]): string | null {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const ADDON_RE = /^weft\..*\.node$/;
const EXPECTED_ADDON = addonFile() ?? `weft.${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}.node`;

/** Checks a checkout for what the selected cases need; exits with a message saying what is missing and how to make it. */
function checkTree(side: Side, dirArg: string, cases: readonly CaseName[]): Tree {
  const dir = resolve(dirArg);
  const flag = `--${side}`;
  const fail = (problems: string[], fixes: string[]): never =>
    exitUsage(
      `bench:compare: ${flag} ${dir} cannot be used:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        `to make such a tree (<rev>: the commit to measure; the addon: that commit's build):\n${fixes.map((f) => `  ${f}`).join('\n')}`,
      USAGE,
    );
  const mkFixes = [
    `git worktree add ${dir} <rev>`,
    `ln -s ${join(ROOT, 'node_modules')} ${join(dir, 'node_modules')}`,
    `cp <that commit's ${EXPECTED_ADDON}> ${join(dir, EXPECTED_ADDON)}    # or: (cd ${dir} && npm run build:native)`,
    `(cd ${dir} && node scripts/build-ts.mjs)`,
  ];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(['no such directory'], mkFixes);
  const commit = gitIn(dir, 'rev-parse', '--short', 'HEAD');
  const problems: string[] = [];
  const fixes: string[] = [];
  if (commit === null) {
    problems.push('not a git checkout (git rev-parse HEAD fails)');
    fixes.push(mkFixes[0]!);
  }
  const top = commit === null ? null : gitIn(dir, 'rev-parse', '--show-toplevel');
  if (top !== null && realpathSync(top) !== realpathSync(dir)) problems.push(`not the root of its checkout (the root is ${top})`);
  if (!existsSync(join(dir, 'package.json'))) problems.push('no package.json: not a checkout of this repository');
  if (!existsSync(join(dir, 'node_modules', 'tsx', 'package.json'))) {
    problems.push('no node_modules (with tsx) in it');
    fixes.push(mkFixes[1]!);
  }
  const addon = readdirSync(dir).find((f) => ADDON_RE.test(f));
  if (!addon) {
    problems.push(`no native addon (${EXPECTED_ADDON}) in its root`);
    fixes.push(mkFixes[2]!);
  }
  const needs = [...new Set(cases.flatMap((c) => CASE_DEFS[c].needs))];
  const missing = needs.filter((f) => !existsSync(join(dir, f)));
  if (missing.includes('dist/index.js')) {
    problems.push('no dist/index.js (the TypeScript build)');
    fixes.push(mkFixes[3]!);
  }
  const runners = missing.filter((f) => f !== 'dist/index.js');
  if (runners.length) {
    problems.push(
      `no ${runners.join(', ')}: the commit predates what these cases run; leave out --cases ${cases.filter((c) => CASE_DEFS[c].needs.some((n) => runners.includes(n))).join(',')}`,
    );
  }
  if (problems.length) fail(problems, fixes.length ? fixes : mkFixes);

  const warnings: string[] = [];
  const entry = join(dir, 'dist', 'index.js');
  if (needs.includes('dist/index.js') && existsSync(join(dir, 'src')) && statSync(entry).mtimeMs < newestMtime(join(dir, 'src'))) {
    warnings.push(`dist/ is older than src/ (measuring what is built; rebuild: cd ${dir} && node scripts/build-ts.mjs)`);
  }
  const crateSrc = ['crate/core/src', 'crate/binding/src'].map((p) => join(dir, p)).filter((p) => existsSync(p));
  if (crateSrc.length && statSync(join(dir, addon!)).mtimeMs < Math.max(...crateSrc.map(newestMtime))) {
    warnings.push(`${addon} is older than crate/*/src (measuring what is built)`);
  }
  const status = gitIn(dir, 'status', '--porcelain', '--', 'src', 'crate');
  return { side, dir, commit: commit!, modified: status !== null && status !== '', addon: addon!, warnings };
}

const describe = (t: Tree): string => `${t.commit}${t.modified ? ' + uncommitted src/crate changes' : ''}`;

// ---------------------------------------------------------------------------------------------
// Runs

interface RunRecord {
  round: number;
  side: Side;
  /** 1: ran first in its round's pair, 2: second. */
  position: 1 | 2;
  ok: boolean;
  /** The runner's result (ok), or why there is none. */
  result?: unknown;
  why?: string;
  /** The runner reported `{ error }`. */
  error?: string;
  others_cpu_pct?: number;
  steal_pct?: number;
  wall_s: number;
}

/** A figure from a runner's result: `metrics[key]` as a number or `{ median }` / `{ samples }`; undefined when absent. */
function figureOf(result: unknown, keys: readonly string[]): number | undefined {
  const metrics = (result as { metrics?: unknown } | undefined)?.metrics;
  if (!metrics || typeof metrics !== 'object') return undefined;
  for (const key of keys) {
    const m = (metrics as Record<string, unknown>)[key];
    if (typeof m === 'number' && Number.isFinite(m)) return m;
    if (m && typeof m === 'object') {
      const med = (m as { median?: unknown }).median;
      if (typeof med === 'number' && Number.isFinite(med)) return med;
      const s = (m as { samples?: unknown }).samples;
      if (Array.isArray(s) && s.length > 0 && s.every((x) => typeof x === 'number')) return median(s as number[]);
    }
  }
  return undefined;
}

const metricKeys = (result: unknown): string[] => {
  const m = (result as { metrics?: unknown } | undefined)?.metrics;
  return m && typeof m === 'object' ? Object.keys(m) : [];
};

async function runOne(c: CaseName, tree: Tree, round: number, position: 1 | 2): Promise<RunRecord> {
  const def = CASE_DEFS[c];
  console.error(`\n== round ${round + 1}/${o.rounds}, ${c}, ${tree.side} (${tree.commit})`);
  const t0 = Date.now();
  const r: ChildRun<unknown> = await runChild({
    script: def.script(tree.dir),
    args: def.args(tree.dir),
    ...(def.nodeArgs ? { nodeArgs: def.nodeArgs } : {}),
    cwd: tree.dir,
    timeoutS: o.timeout,
  });
  const wall_s = (Date.now() - t0) / 1e3;
  const base = { round, side: tree.side, position, wall_s };
  if (!r.ok) return { ...base, ok: false, why: r.why };
  const err = (r.result as { error?: unknown } | null)?.error;
  if (typeof err === 'string') return { ...base, ok: false, result: r.result, error: err, why: `the runner reported an error: ${err}` };
  return {
    ...base,
    ok: true,
    result: r.result,
    ...(r.othersPct === undefined ? {} : { others_cpu_pct: r.othersPct }),
    ...(r.stealPct === undefined ? {} : { steal_pct: r.stealPct }),
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

interface FigureResult {
  label: string;
  keys: readonly string[];
  better: Better;
  before: { median: number | null; samples: (number | null)[] };
  after: { median: number | null; samples: (number | null)[] };
  /** Per round with both values: after/before for higher-is-better, before/after for latencies. */
  ratios: { round: number; ratio: number }[];
  paired_median_ratio: number | null;
  min_ratio: number | null;
  max_ratio: number | null;
  verdict: 'PASS' | 'FAIL' | 'report only' | 'missing' | 'no runs';
  /** Why a figure is missing, per side. */
  missing?: string[];
}

function figureResult(def: FigureDef, runs: RunRecord[], rounds: number): FigureResult {
  const valuesOf = (side: Side): (number | undefined)[] =>
    Array.from({ length: rounds }, (_, round) => {
      const r = runs.find((x) => x.side === side && x.round === round && x.ok);
      return r ? figureOf(r.result, def.keys) : undefined;
    });
  const v = { before: valuesOf('before'), after: valuesOf('after') };
  const missing: string[] = [];
  for (const side of SIDES) {
    const okRuns = runs.filter((x) => x.side === side && x.ok);
    const without = okRuns.filter((x) => figureOf(x.result, def.keys) === undefined);
    if (without.length) {
      missing.push(
        `${side}: metrics.${def.keys.join(' / ')} not in ${without.length} of ${okRuns.length} results (its metrics: ${metricKeys(without[0]!.result).join(', ') || 'none'})`,
      );
    }
  }
  const present = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
  const stat = (side: Side) => {
    const p = present(v[side]);
    return { median: p.length ? roundSig(median(p)) : null, samples: v[side].map((x) => (x === undefined ? null : x)) };
  };
  const ratios: { round: number; ratio: number }[] = [];
  if (def.better !== 'report') {
    for (let round = 0; round < rounds; round++) {
      const b = v.before[round];
      const a = v.after[round];
      if (b === undefined || a === undefined || !(a > 0) || !(b > 0)) continue;
      ratios.push({ round, ratio: roundSig(def.better === 'higher' ? a / b : b / a, 4) });
    }
  }
  const rs = ratios.map((r) => r.ratio);
  const pm = rs.length ? roundSig(median(rs), 4) : null;
  const anyRuns = runs.some((r) => r.ok);
  const verdict: FigureResult['verdict'] = !anyRuns
    ? 'no runs'
    : missing.length && (def.better === 'report' ? present(v.before).length + present(v.after).length === 0 : rs.length === 0)
      ? 'missing'
      : def.better === 'report'
        ? 'report only'
        : pm === null
          ? 'missing'
          : pm >= THRESHOLD
            ? 'PASS'
            : 'FAIL';
  return {
    label: def.label,
    keys: def.keys,
    better: def.better,
    before: stat('before'),
    after: stat('after'),
    ratios,
    paired_median_ratio: pm,
    min_ratio: rs.length ? Math.min(...rs) : null,
    max_ratio: rs.length ? Math.max(...rs) : null,
    verdict,
    ...(missing.length ? { missing } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cases = o.cases;
  const trees: Record<Side, Tree> = { before: checkTree('before', o.before, cases), after: checkTree('after', o.after, cases) };
  for (const t of [trees.before, trees.after]) {
    console.error(`bench:compare: ${t.side.padEnd(6)} ${t.dir}  ${describe(t)}  (${t.addon})`);
    for (const w of t.warnings) console.error(`bench:compare: warning: ${t.side}: ${w}`);
  }
  if (trees.before.dir === trees.after.dir)
    console.error('bench:compare: note: --before and --after are the same tree (an A/A run: the noise)');
  const started = Date.now();

  const runs = new Map<CaseName, RunRecord[]>(cases.map((c) => [c, []]));
  const failed = new Set<CaseName>();
  for (let round = 0; round < o.rounds; round++) {
    const order: Side[] = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const c of cases) {
      if (failed.has(c)) continue;
      for (const [i, side] of order.entries()) {
        const rec = await runOne(c, trees[side], round, i === 0 ? 1 : 2);
        runs.get(c)!.push(rec);
        if (!rec.ok) {
          // A runner that fails once (a tree without the feature, a crash, a timeout) would
          // likely fail again: the case gets no more runs, its figures come from the rounds done.
          console.error(`bench:compare: ${c} failed in the ${side} tree, no more runs of it: ${rec.why?.split('\n')[0]}`);
          failed.add(c);
          break;
        }
      }
    }
  }

  const results = cases.map((c) => {
    const rs = runs.get(c)!;
    const completeRounds = new Set(rs.filter((r) => r.ok).map((r) => r.round));
    const others = rs.map((r) => r.others_cpu_pct).filter((x): x is number => x !== undefined);
    return {
      case: c,
      title: CASE_DEFS[c].title,
      runner: { script: CASE_DEFS[c].script('<tree>'), args: CASE_DEFS[c].args('<tree>'), node_args: CASE_DEFS[c].nodeArgs ?? [] },
      failures: rs.filter((r) => !r.ok).map((r) => ({ round: r.round, side: r.side, why: r.why })),
      rounds_with_results: completeRounds.size,
      others_cpu_pct_median: others.length ? median(others) : null,
      figures: CASE_DEFS[c].figures.map((f) => figureResult(f, rs, o.rounds)),
      runs: rs,
    };
  });

  const json = {
    command: commandLine('npm run bench:compare'),
    date: new Date().toISOString(),
    machine: machineInfo(),
    rule: `paired median ratio new/old >= ${THRESHOLD} (per-round ratio after/before; latencies inverted, so higher = better)`,
    rounds: o.rounds,
    order: 'round r: before first when r is even, after first when r is odd',
    trees: Object.fromEntries(
      SIDES.map((s) => [
        s,
        {
          dir: trees[s].dir,
          commit: trees[s].commit,
          sources_modified: trees[s].modified,
          addon: trees[s].addon,
          warnings: trees[s].warnings,
        },
      ]),
    ),
    cases: results,
    duration_s: Math.round((Date.now() - started) / 1e3),
  };
  const out = resultsPath('compare', { out: o.out, full: false });
  writeResults(out, json);

  // Report: markdown on stdout.
  const b = trees.before;
  const a = trees.after;
  const rows: string[][] = [['case', 'figure', `before ${b.commit}`, `after ${a.commit}`, 'paired ratio', 'min – max', `≥ ${THRESHOLD}`]];
  for (const r of results) {
    const def = CASE_DEFS[r.case];
    r.figures.forEach((f, i) => {
      const fd = def.figures[i]!;
      const val = (x: number | null): string => (x === null ? '—' : fd.fmt(x));
      const inv = f.better === 'lower' ? ' (inv.)' : '';
      rows.push([
        i === 0 ? r.case : '',
        f.label,
        val(f.before.median),
        val(f.after.median),
        f.paired_median_ratio === null ? '—' : `${f.paired_median_ratio.toFixed(3)}${inv}`,
        f.min_ratio === null ? '—' : `${f.min_ratio.toFixed(3)} – ${f.max_ratio!.toFixed(3)}`,
        f.verdict === 'FAIL' ? '**FAIL**' : f.verdict,
      ]);
    });
  }
  console.log(
    `\nOld build against new, ${o.rounds} interleaved round${o.rounds === 1 ? '' : 's'} (each case once per tree and round, ` +
      `the first tree alternating); before: \`${b.dir}\` ${describe(b)}, after: \`${a.dir}\` ${describe(a)}. ` +
      `${json.machine.cpu}, ${json.machine.cores} cores, Node ${process.version}, ${json.date}.\n`,
  );
  console.log(markdownTable(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'l']));
  console.log(
    `\nPaired ratio: median over rounds of after/before in the same round (inv.: before/after, for latencies), so higher is better; ` +
      `PASS when ≥ ${THRESHOLD}. Medians of ${o.rounds} run${o.rounds === 1 ? '' : 's'} per tree.`,
  );
  const notes: string[] = [];
  for (const r of results) {
    if (r.others_cpu_pct_median !== null)
      notes.push(`${r.case}: other processes used ${r.others_cpu_pct_median.toFixed(1)} % of the machine (median over its runs)`);
    for (const f of r.failures) notes.push(`${r.case}: **no result** in round ${f.round + 1}, ${f.side}: ${(f.why ?? '').split('\n')[0]}`);
    if (r.failures.length) notes.push(`${r.case}: figures from the ${r.rounds_with_results} round(s) before the failure only`);
    for (const f of r.figures) for (const m of f.missing ?? []) notes.push(`${r.case}, ${f.label}: **missing**: ${m}`);
  }
  for (const t of [b, a]) for (const w of t.warnings) notes.push(`${t.side}: ${w}`);
  if (notes.length) console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`);
  const gated = results.flatMap((r) => r.figures).filter((f) => f.better !== 'report');
  const count = (v: FigureResult['verdict']): number => gated.filter((f) => f.verdict === v).length;
  console.log(
    `\n${count('PASS')} PASS, ${count('FAIL')} FAIL${count('missing') + count('no runs') ? `, ${count('missing') + count('no runs')} without a ratio` : ''} ` +
      `of ${gated.length} gated figures.`,
  );
  console.error(`\nbench:compare: wrote ${out} (${json.duration_s} s)`);
  // A slow figure is a FAIL in the table, not an exit status (bench/README.md); a case that could not be measured is.
  if (results.some((r) => r.failures.length > 0) || count('missing') + count('no runs') > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
