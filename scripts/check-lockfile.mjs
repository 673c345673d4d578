// CI gate: fails when `npm ci` would fail on a clean clone, with every npm that the supported Node
// majors bundle (npm 10 with Node 20 and 22, npm 11 with Node 24 and 26). npm versions disagree
// about what a lockfile in sync is (optional platform packages, for one), so each is asked.
// Each npm comes from the registry once (scripts/registry-cache.mjs) and runs, on the Node major it
// ships with (so that an EBADENGINE warning for that Node shows), `npm ci --dry-run --ignore-scripts`
// in a temporary folder that holds only package.json and
// package-lock.json, so node_modules here is neither read nor touched.
//   node scripts/check-lockfile.mjs [FOLDER]   (FOLDER: where package.json and its lockfile are; default the repository)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ensurePackage, nodeBinary } from './registry-cache.mjs';

/** The npm each supported major ships with (the newest patch of that line). */
const NPMS = [
  { npm: '10.8.2', node: 20 },
  { npm: '10.9.8', node: 22 },
  { npm: '11.21.3', node: 24 },
  { npm: '11.21.3', node: 26 },
];

const from = process.argv[2] ?? ROOT;
const work = mkdtempSync(join(tmpdir(), 'weft-lockfile-'));
let failed = false;
try {
  copyFileSync(join(from, 'package.json'), join(work, 'package.json'));
  copyFileSync(join(from, 'package-lock.json'), join(work, 'package-lock.json'));
  for (const { npm, node } of NPMS) {
    const bundledWith = `Node ${node}`;
    const cli = join(ensurePackage(`npm@${npm}`), 'node_modules', 'npm', 'bin', 'npm-cli.js');
    const r = spawnSync(nodeBinary(node), [cli, 'ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    const badEngine = out.split('\n').filter((l) => l.includes('EBADENGINE'));
    if (r.status !== 0) {
      failed = true;
      const why = out
        .split('\n')
        .filter((l) => /npm (error|ERR!)/.test(l) && !/^\s*npm (error|ERR!)\s*$/.test(l))
        .slice(0, 12)
        .join('\n');
      console.log(`FAIL  npm ${npm} (${bundledWith}): npm ci would fail\n${why}`);
    } else if (badEngine.length > 0) {
      failed = true;
      console.log(`FAIL  npm ${npm} (${bundledWith}): EBADENGINE\n${badEngine.join('\n')}`);
    } else {
      console.log(`ok    npm ${npm} (${bundledWith}): npm ci --dry-run passes, no EBADENGINE`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failed) {
  console.log('\nThe lockfile is out of sync for some npm: run `npm install`, commit package-lock.json, and check again.');
  process.exit(1);
}
