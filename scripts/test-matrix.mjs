// The ava suite on the other Node majors weft supports (npm test runs it after the suite on the
// machine's own Node). The official binaries come from the npm registry (scripts/registry-cache.mjs),
// so nothing has to be installed by hand:
//   Node 24 (active LTS)        the whole suite
//   Node 22 and 26              one spec per capability (SHARED_SPECS below)
// A major that is the machine's own is skipped (the suite just ran on it).
//   node scripts/test-matrix.mjs                  the plan above
//   node scripts/test-matrix.mjs 22 26            only these majors (each as planned above)
//   WEFT_TEST_MAJORS=24 npm test                  the same through npm test; WEFT_TEST_MAJORS=none skips
// Majors run one after another: the machine has 2 cores and several specs measure time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, nodeBinary } from './registry-cache.mjs';

/** One spec per capability, run on the majors that do not get the whole suite. */
export const SHARED_SPECS = [
  '__test__/stack/stack.spec.ts', // SharedStack
  '__test__/pool/pool.spec.ts', // Pool
  '__test__/par/par.spec.ts', // par
  '__test__/actor/actor.spec.ts', // actors
  '__test__/fastify/fastify.spec.ts', // weftjs/fastify
  '__test__/metrics/metrics.spec.ts', // weftjs/metrics
  '__test__/piscina/piscina.spec.ts', // weftjs/piscina
  '__test__/cluster/cluster.spec.ts', // weftjs/cluster (against a real nats-server)
  '__test__/package/typescript.spec.ts', // TypeScript task modules
];

const PLAN = { 22: 'subset', 24: 'full', 26: 'subset' };

const own = Number(process.versions.node.split('.')[0]);
const asked =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : (process.env.WEFT_TEST_MAJORS ?? '').split(/[\s,]+/).filter(Boolean);
if (asked.includes('none')) {
  console.log('test-matrix: skipped (WEFT_TEST_MAJORS=none)');
  process.exit(0);
}
const majors = (asked.length > 0 ? asked.map(Number) : Object.keys(PLAN).map(Number)).filter((m) => m !== own);
for (const m of majors) {
  if (!PLAN[m]) {
    console.error(`test-matrix: Node ${m} is not a supported major (${Object.keys(PLAN).join(', ')}, and ${own} is this machine's)`);
    process.exit(2);
  }
}

const ava = join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const rows = [];
let failed = false;
for (const major of majors) {
  const node = nodeBinary(major);
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const specs = PLAN[major] === 'full' ? [] : SHARED_SPECS.filter((s) => existsSync(join(ROOT, s)));
  console.log(`\n--- ava on Node ${version} (${PLAN[major] === 'full' ? 'the whole suite' : specs.join(' ')}) ---`);
  const started = Date.now();
  // ava starts its test processes with its own process.execPath, so every spec (and every child
  // process a spec spawns with process.execPath) runs on this Node.
  const r = spawnSync(node, [ava, ...specs], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, WEFT_TEST_NODE_MAJOR: String(major) } });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const ok = r.status === 0;
  failed ||= !ok;
  rows.push(
    `${version.padEnd(10)} ${(PLAN[major] === 'full' ? 'whole suite' : `${specs.length} specs`).padEnd(12)} ${ok ? 'passed' : `FAILED (exit ${r.status ?? r.signal})`}  ${seconds} s`,
  );
}

console.log('\ntest-matrix:');
for (const row of rows) console.log(`  ${row}`);
process.exit(failed ? 1 : 0);
