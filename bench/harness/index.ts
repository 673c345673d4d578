/**
 * The benchmark harness: what every program in bench/ shares.
 *
 *   args.ts     flags (a typed layer over node:util parseArgs, --help from the declarations)
 *   stats.ts    median, quantiles, mean, paired ratios, `{ median, samples }`, interleaving order
 *   table.ts    markdown and plain-text tables, number formats
 *   child.ts    one run of a case in a fresh `node --import=tsx` child: the parent's and the child's side
 *   machine.ts  the `machine` block, CPU used by other processes, git commit, package versions
 *   build.ts    whether dist/ and the native addon are built and current
 *   results.ts  where the JSON goes (bench/results/<name>.json or a temp file) and writing it
 *
 * Writing a new bench (bench/<name>/index.ts, run as `node --import=tsx bench/<name>/index.ts`,
 * with an npm script `bench:<name>` in package.json):
 *
 *   import { checkBuilt, commandLine, flags, machineInfo, markdownTable, median, parseBenchArgs,
 *            resultsPath, writeResults } from '../harness/index.js';
 *
 *   const { values: o } = parseBenchArgs({
 *     usage: 'npm run bench:<name> -- [flags]',
 *     description: 'What it measures, against what.',
 *     flags: {
 *       runs: flags.runs({ default: 9, min: 5 }), // each figure: the median of the runs
 *       quick: flags.quick(),
 *       out: flags.out(),
 *       cases: flags.list(['a', 'b'], 'cases to run'),
 *     },
 *   });
 *   checkBuilt({ required: true }); // it imports 'weftjs' (dist/)
 *   ... interleave the runs of the cases (`rotate`), keep every sample ...
 *   const json = { command: commandLine('npm run bench:<name>'), date: new Date().toISOString(),
 *                  machine: machineInfo(), runs: o.runs, cases: ... };
 *   const out = resultsPath('<name>', { out: o.out, full: !o.quick && o.cases.length === 2 });
 *   writeResults(out, json);
 *   console.log(markdownTable([['case', 'ops/s'], ...rows])); // markdown on stdout, progress on stderr
 *
 * Conventions: figures are medians of whole runs, the runs of the compared cases interleaved;
 * the JSON keeps every sample, the machine, the date and the command; only a full run writes
 * bench/results/<name>.json (anything else a temp file, unless --out); tables go to stdout as
 * markdown (to paste into bench/README.md), progress to stderr.
 *
 * Where each case must run in a fresh process (pools, actors: bench/pool, bench/actor), the
 * case runner is a second script that ends in `childMain(errorBase, async (atExit) => ...)`
 * and the parent calls `runInterleaved(keys, runs, (key) => runChild({ script, args, timeoutS }), failed)`.
 */
export * from './args.js';
export * from './build.js';
export * from './child.js';
export * from './machine.js';
export * from './results.js';
export * from './stats.js';
export * from './table.js';
