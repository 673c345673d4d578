/**
 * The shared-structure examples (examples/shared, the README's SharedQueue and SharedMap examples
 * made runnable) run as written, through the package name, each in a child process, and check
 * their own results (every job done once; every id rendered one cached profile): a wrong result
 * exits non-zero.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';

const ROOT = join(__dirname, '..', '..');

for (const [name, file, expect] of [
  ['work queue consumed by four workers', 'work-queue.mts', /every job was done exactly once/],
  [
    'cache shared by a pool’s workers',
    'cache.mts',
    /400 renders on 2 workers, 20 profiles cached, \d+ fetches\n[\s\S]*every id rendered one cached profile/,
  ],
] as const) {
  test(`examples/shared: ${name}`, (t) => {
    const r = spawnSync(process.execPath, ['--import=tsx', join(ROOT, 'examples', 'shared', file)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, expect);
  });
}
