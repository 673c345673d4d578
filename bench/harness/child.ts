/**
 * One run of a case in a fresh child process: the parent's side (`runChild`, `runInterleaved`) and
 * the child's (`childMain`, `progress`).
 *
 * The child prints its result as one line `@@result <json>` on stdout (other stdout lines, such as a
 * library's own messages, are ignored) and its progress on stderr, which the parent relays. The
 * parent measures the CPU that other processes used meanwhile (Linux), kills the child after its
 * timeout, and turns a child that ends without a result into an error that says why.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, cpuSnapshot, othersCpu } from './machine.js';
import { rotate } from './stats.js';

/** The line prefix of a child's result on its stdout. */
export const RESULT_MARK = '@@result ';

export interface ChildOptions {
  /** The file to run, through tsx (`node [nodeArgs] --import=tsx script [args]`). */
  script: string;
  args?: readonly string[];
  /** Node's flags, before --import=tsx (`--expose-gc`). */
  nodeArgs?: readonly string[];
  /** Default: the repository's root. */
  cwd?: string;
  /** Seconds before the child is killed (SIGKILL). */
  timeoutS: number;
  /** Default RESULT_MARK. */
  mark?: string;
  /**
   * Called with every line of the child's stdout as it comes (a child that talks to its parent
   * mid-run); `send` writes to the child's stdin, a pipe only when this is given.
   */
  onLine?: ((line: string, send: (text: string) => void) => void) | undefined;
}

export type ChildRun<T> =
  | {
      ok: true;
      /** The child's result, parsed. */
      result: T;
      /** The CPU that every other process used while the child ran, % of the machine (undefined without /proc). */
      othersPct: number | undefined;
      /** Time stolen by the hypervisor meanwhile, % of the machine. */
      stealPct: number | undefined;
    }
  | {
      ok: false;
      /** Why there is no result (a timeout, an exit without one, a result that is not JSON), with the end of the child's stderr. */
      why: string;
    };

/** Runs one child to its end (its stderr relayed to ours) and returns its result or why there is none. */
export function runChild<T>(o: ChildOptions): Promise<ChildRun<T>> {
  const mark = o.mark ?? RESULT_MARK;
  return new Promise((resolve) => {
    const before = cpuSnapshot();
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import=tsx', o.script, ...(o.args ?? [])], {
      cwd: o.cwd ?? ROOT,
      stdio: [o.onLine === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderrTail = '';
    let spawnError: Error | undefined;
    let seen = 0;
    const send = (text: string): void => {
      if (child.stdin?.writable) child.stdin.write(text);
    };
    child.stdin?.on('error', () => {}); // the child may be gone: its result (or none) says why
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (o.onLine === undefined) return;
      for (let nl = stdout.indexOf('\n', seen); nl >= 0; nl = stdout.indexOf('\n', seen)) {
        const line = stdout.slice(seen, nl);
        seen = nl + 1;
        o.onLine(line, send);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      stderrTail = (stderrTail + d).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutS * 1e3);
    child.on('error', (err) => (spawnError = err));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin?.end();
      // The child has been waited for: its CPU is in our own (cutime), so `others` leaves it out.
      const cpu = othersCpu(before, cpuSnapshot());
      const fail = (why: string): void => resolve({ ok: false, why: `${why}\n${stderrTail.trim()}`.trim() });
      const line = stdout.split('\n').find((l) => l.startsWith(mark));
      if (line === undefined) {
        if (spawnError) return fail(`could not start: ${spawnError.message}`);
        return fail(timedOut ? `killed after ${o.timeoutS} s (--timeout)` : `exited with ${code ?? signal} and no result`);
      }
      let result: T;
      try {
        result = JSON.parse(line.slice(mark.length)) as T;
      } catch (err) {
        return fail(`printed a result that is not JSON (${err instanceof Error ? err.message : String(err)}): ${line.slice(0, 200)}`);
      }
      resolve({ ok: true, result, othersPct: cpu?.othersPct, stealPct: cpu?.stealPct });
    });
  });
}

/**
 * Interleaved runs: round r runs every key once (`run(key, r)`), in the order of `keys` rotated by
 * r, so that a shared machine's drifts hit every key alike. A key whose run `failed` gets no more
 * runs. Returns every key's outcomes, in the order of the rounds.
 */
export async function runInterleaved<K, R>(
  keys: readonly K[],
  rounds: number,
  run: (key: K, round: number) => Promise<R>,
  failed: (outcome: R) => boolean,
): Promise<Map<K, R[]>> {
  const out = new Map<K, R[]>(keys.map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const key of rotate(keys, round)) {
      const done = out.get(key)!;
      if (done.some(failed)) continue;
      done.push(await run(key, round));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The child's side

/** A progress line on stderr (indented under the parent's `== case / library` line). */
export function progress(msg: string): void {
  process.stderr.write(`    ${msg}\n`);
}

/** An error's stack (or message), for a result's `error`. */
export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** `p`, or a rejection `<what>: <why> after <ms / 1000> s` if it has not settled by then. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, why = 'no result'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: ${why} after ${ms / 1e3} s`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Prints `value` as the child's result line. */
export function emitResult(value: unknown, mark = RESULT_MARK): void {
  process.stdout.write(`${mark}${JSON.stringify(value)}\n`);
}

export interface ChildMainOptions {
  mark?: string;
  /** How long each `atExit` function may take before the process exits anyway (default 10 s). */
  exitTimeoutMs?: number;
}

/**
 * The child's main: runs `work`, prints its result with `child_seconds` (wall time from this
 * call) and `child_cpu_s` (the process's CPU, all threads) added, or `{ ...errorBase, error }` if
 * it throws (exit status 1); then runs the functions given to `atExit` (closing a pool: never
 * longer than `exitTimeoutMs` each, the result is already out) and exits.
 */
export function childMain<T extends object>(
  errorBase: object,
  work: (atExit: (fn: () => Promise<unknown>) => void) => Promise<T>,
  opts: ChildMainOptions = {},
): void {
  const t0 = performance.now();
  const exits: (() => Promise<unknown>)[] = [];
  const main = async (): Promise<void> => {
    try {
      const r = await work((fn) => exits.push(fn));
      const cpu = process.cpuUsage();
      emitResult(
        {
          ...r,
          child_seconds: Number(((performance.now() - t0) / 1e3).toFixed(2)),
          child_cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
        },
        opts.mark,
      );
    } catch (err) {
      emitResult({ ...errorBase, error: errorText(err) }, opts.mark);
      process.exitCode = 1;
    }
    for (const fn of exits.reverse()) {
      const done = fn().catch((e: unknown) => progress(`close failed: ${String(e)}`));
      await Promise.race([done, sleep(opts.exitTimeoutMs ?? 10_000, undefined, { ref: false })]);
    }
    process.exit();
  };
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(2);
  });
}
