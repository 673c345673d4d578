// The layering rules of src/ (issue 14; ../shared/ARCHITECTURE.md §4.2), checked on every import,
// type-only imports included:
//   - no cycle between the folders of src/ (a folder's files may import each other);
//   - pool/ imports neither actor/, par/ nor worker/;
//   - internal/ imports no capability (only internal/, errors.ts and native.ts);
//   - shared/ imports neither pool/ nor actor/;
//   - on the worker side, worker/main.ts is the one file that imports both pool/ and actor/
//     (the package faces index.ts, fastify/, metrics/, piscina/ and cluster/ may import several capabilities).
// Prints the folder graph; exits 1 naming each broken rule with the file and the import.
//   node scripts/check-layers.mjs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');
const FACES = new Set(['index.ts', 'fastify', 'metrics', 'piscina', 'cluster']);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|mts|cts)$/.test(name) ? [path] : [];
  });
}

/** The top-level unit of a file under src/: its folder, or the file itself at the root. */
const unitOf = (file) => relative(SRC, file).split(/[\\/]/)[0];

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

const edges = new Map(); // unit -> Map(unit -> [file, spec])
const problems = [];
for (const file of files(SRC)) {
  const text = readFileSync(file, 'utf8');
  const from = unitOf(file);
  const rel = relative(SRC, file);
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(SRC)) continue; // ../native.cjs at the package root, and the like
    const to = unitOf(target.replace(/\.js$/, '.ts'));
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const out = edges.get(from);
    if (!out.has(to)) out.set(to, [rel, spec]);
    const rule = (why) => problems.push(`${rel} imports ${spec}: ${why}`);
    if (from === 'pool' && ['actor', 'par', 'worker'].includes(to)) rule('pool/ must not import actor/, par/ or worker/');
    if (from === 'internal' && !['errors.ts', 'native.ts'].includes(to)) rule('internal/ imports no capability');
    if (from === 'shared' && ['pool', 'actor'].includes(to)) rule('shared/ must not import pool/ or actor/');
    if (from === 'worker' && rel !== 'worker/main.ts') rule('only worker/main.ts composes the worker side');
  }
}
// Only worker/main.ts (and the faces) import both pool/ and actor/.
for (const [unit, out] of edges) {
  if (FACES.has(unit) || unit === 'worker') continue;
  if (out.has('pool') && out.has('actor')) problems.push(`${unit}/ imports both pool/ and actor/: only worker/main.ts and the faces may`);
}
// Folder cycles (depth-first search over the unit graph).
const state = new Map();
const stack = [];
function visit(u) {
  state.set(u, 1);
  stack.push(u);
  for (const v of edges.get(u)?.keys() ?? []) {
    if (state.get(v) === 1) {
      const cycle = [...stack.slice(stack.indexOf(v)), v];
      const detail = cycle.slice(0, -1).map(
        (a, i) =>
          `${edges
            .get(a)
            .get(cycle[i + 1])
            .join(' -> ')}`,
      );
      problems.push(`a cycle between folders: ${cycle.join(' -> ')} (${detail.join('; ')})`);
    } else if (!state.has(v)) visit(v);
  }
  stack.pop();
  state.set(u, 2);
}
for (const u of [...edges.keys()].sort()) if (!state.has(u)) visit(u);

for (const [u, out] of [...edges].sort()) console.log(`${u.padEnd(12)} -> ${[...out.keys()].sort().join(', ')}`);
if (problems.length > 0) {
  console.error(`\ncheck-layers: ${problems.length} problem(s):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('\ncheck-layers: imports point down; no cycle between folders');
