/**
 * The process's one thread budget (weft-core's `budget`): how many threads weft sizes its thread
 * groups to (a Pool's default `maxThreads`, `par`'s rayon threads, `par`'s fallback pool), and how
 * much of it pool workers hold right now (what a `par` job may spread over).
 */
import { InvalidArgumentError } from '../errors.js';
import { native } from '../native.js';

/** The environment variable that sets the budget. */
export const THREAD_BUDGET_ENV = 'WEFT_THREADS';

/** The thread budget, read now (`threadBudget()`). */
export interface ThreadBudget {
  /** The budget: `WEFT_THREADS` when set, else the CPUs this process may use. */
  readonly threads: number;
  /** The CPUs this process may use (the affinity mask and a cgroup CPU quota). */
  readonly cpus: number;
  /** Where `threads` came from. */
  readonly source: 'WEFT_THREADS' | 'cpus';
  /** Pool workers, of every Pool in the process, running tasks at this moment. */
  readonly running: number;
  /** The threads a `par` job started now spreads over: `threads - running`, at least 1. */
  readonly free: number;
}

/**
 * The process's thread budget. Throws `WEFT_INVALID_ARG` when `WEFT_THREADS` is set to anything
 * but an integer from 1 to 255 (weft reads it once, on first use).
 */
export function threadBudget(): ThreadBudget {
  const b = native.threadBudget();
  if (b.envInvalid) {
    throw new InvalidArgumentError(`${THREAD_BUDGET_ENV} must be an integer from 1 to 255, got ${JSON.stringify(b.env)}`);
  }
  return {
    threads: b.threads,
    cpus: b.cpus,
    source: b.env === undefined || b.env === null ? 'cpus' : 'WEFT_THREADS',
    running: b.running,
    free: b.free,
  };
}

let threads: number | undefined;

/** The budget's thread count (fixed once read; throws like `threadBudget()`). */
export function budgetThreads(): number {
  threads ??= threadBudget().threads;
  return threads;
}
