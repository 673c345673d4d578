/** Where a bench's JSON goes and how it is written. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './machine.js';

/** bench/results: the committed results of full runs. */
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

/**
 * The JSON file of bench `name`: `out` when given; else bench/results/<name>.json for a full run
 * (every case, every library, not --quick), and <tmpdir>/weft-bench-<name>.json for any other, so
 * that a partial run never replaces the committed figures.
 */
export function resultsPath(name: string, o: { out?: string | undefined; full: boolean }): string {
  return o.out ?? (o.full ? join(RESULTS_DIR, `${name}.json`) : join(os.tmpdir(), `weft-bench-${name}.json`));
}

/**
 * The command that ran the bench, for the JSON: `base` (`npm run bench:pool`, or
 * `node --import=tsx bench/wire/index.ts`) with the arguments, and the variables of `env` that are set
 * in front: `WEFT_BENCH_RUNS=1 npm run bench:actor -- --cases a`.
 */
export function commandLine(base: string, o: { argv?: readonly string[]; env?: readonly string[] } = {}): string {
  const argv = o.argv ?? process.argv.slice(2);
  const env = (o.env ?? []).filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]} `);
  const sep = base.startsWith('npm run ') ? ' -- ' : ' ';
  return `${env.join('')}${base}${argv.length ? `${sep}${argv.join(' ')}` : ''}`;
}

/** Writes `json` (two-space indented, a final newline) to `path`, creating its folder. */
export function writeResults(path: string, json: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
}
