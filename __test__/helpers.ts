import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

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

/** Runs `code` (CommonJS; `require('.')` is weft's dist/) with `node -e` in a fresh process, from the repository root. */
export function runCode(code: string, nodeArgs: string[] = []): ChildResult {
  const r = spawnSync(process.execPath, [...nodeArgs, '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The last line of a child's stdout, parsed as JSON. */
export function lastJson<T>(r: ChildResult): T {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}

/** Awaits `p`, which must reject; returns the rejection reason (and fails the test if it resolves). */
export async function rejection(t: ExecutionContext, p: Promise<unknown>): Promise<unknown> {
  try {
    const value = await p;
    t.fail(`expected a rejection, got ${String(value)}`);
    return undefined;
  } catch (err) {
    return err;
  }
}
