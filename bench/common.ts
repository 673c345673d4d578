/** Helpers shared by the benchmark programs in bench/. */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The newest modification time (ms) of any file under `dir`: to tell a stale build from its sources. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Machine-wide CPU time from /proc/stat, in seconds (null where there is none). */
export function machineCpu(): { busy: number; steal: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    // USER_HZ is 100 on every Linux that Node runs on.
    return { busy: (user + nice + system + irq + softirq) / 100, steal: steal / 100 };
  } catch {
    return null;
  }
}

/** What one benchmark child printed and how it ended (see `runMeasuredChild`). */
export interface MeasuredChild {
  /** The text after `mark` on the first stdout line that starts with it. */
  result: string | undefined;
  /** Why there is no result (a timeout or an exit without one), with the end of stderr. */
  why: string;
  /**
   * The CPU that every other process used while the child ran, as % of the machine, given the
   * child's own CPU seconds (it reports them); undefined where /proc/stat is missing.
   */
  othersPct(childCpuS: number): number | undefined;
  /** Time stolen by the hypervisor meanwhile, % of the machine. */
  stealPct: number | undefined;
}

/**
 * Runs one benchmark child (`node ...args` in `cwd`), relaying its stderr, killing it after
 * `timeoutS`, and measuring the machine around it: the benches' common child runner.
 */
export function runMeasuredChild(args: readonly string[], cwd: string, timeoutS: number, mark: string): Promise<MeasuredChild> {
  return new Promise((resolve) => {
    const m0 = machineCpu();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      stderrTail = (stderrTail + d).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1e3);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const m1 = machineCpu();
      const capacity = ((performance.now() - t0) / 1e3) * os.cpus().length;
      const own = process.cpuUsage(own0);
      const pctOf = (x: number): number => Number(Math.max(0, (x / capacity) * 100).toFixed(1));
      const line = stdout.split('\n').find((l) => l.startsWith(mark));
      const why = timedOut ? `killed after ${timeoutS} s (--timeout)` : `exited with ${code ?? signal} and no result`;
      resolve({
        result: line?.slice(mark.length),
        why: `${why}\n${stderrTail.trim()}`,
        othersPct: (childCpuS) =>
          m0 && m1 && capacity > 0 ? pctOf(m1.busy - m0.busy - childCpuS - (own.user + own.system) / 1e6) : undefined,
        stealPct: m0 && m1 && capacity > 0 ? pctOf(m1.steal - m0.steal) : undefined,
      });
    });
  });
}
