import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a fixture in a fresh Node process (with tsx, so .ts fixtures work) and collects output. */
export function runChild(fixture: string, args: string[] = [], nodeArgs: string[] = []): ChildResult {
  const r = spawnSync(process.execPath, ['--import=tsx', ...nodeArgs, join(__dirname, 'fixtures', fixture), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The last line of a child's stdout, parsed as JSON. */
export function lastJson<T>(r: ChildResult): T {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}
