/** Whether what a bench imports (dist/, the native addon) is built and current. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, addonFile } from './machine.js';

/** The newest modification time (ms) of any file under `dir`: to tell a stale build from its sources. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export interface BuildCheck {
  /** Run `npm run build:ts` when dist/ is missing or older than src/ (default: only warn). */
  rebuild?: boolean;
  /**
   * Throw when dist/ or the addon is missing (default: warn). Not by default rebuilding: build:ts
   * empties dist/ before compiling, and a failed build (a src/ in the middle of an edit) would
   * leave other users of dist/ without it.
   */
  required?: boolean;
}

/**
 * Checks dist/ (what `import 'weftjs'` loads) against src/ and the addon against crate/*\/src;
 * prints each problem as a warning on stderr and returns them (for a result's `warnings`).
 */
export function checkBuilt(opts: BuildCheck = {}): string[] {
  const notes: string[] = [];
  const entry = join(ROOT, 'dist', 'index.js');
  const stale = (): boolean => !existsSync(entry) || statSync(entry).mtimeMs < newestMtime(join(ROOT, 'src'));
  if (stale() && opts.rebuild) {
    console.error('bench: dist/ is missing or older than src/, running npm run build:ts');
    // Its output on stderr: stdout is the bench's report.
    const r = spawnSync('npm', ['run', 'build:ts'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) console.error('bench: npm run build:ts failed; benchmarking whatever dist/ holds');
  }
  if (!existsSync(entry)) {
    if (opts.required) throw new Error('no dist/: run npm run build first');
    notes.push('dist/ is missing (npm run build)');
  } else if (stale()) notes.push('dist/ is older than src/');
  const addon = addonFile();
  if (!addon) {
    const msg = 'no native addon (weft.*.node) in the repository root: run npm run build:native';
    if (opts.required) throw new Error(msg);
    notes.push(msg);
  } else {
    const crateSrc = Math.max(newestMtime(join(ROOT, 'crate/core/src')), newestMtime(join(ROOT, 'crate/binding/src')));
    if (statSync(join(ROOT, addon)).mtimeMs < crateSrc) notes.push(`${addon} is older than crate/*/src`);
  }
  for (const n of notes) console.error(`bench: warning: ${n}; benchmarking what is built`);
  return notes;
}
