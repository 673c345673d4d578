/**
 * Aborts on the worker side: the abort ring the main thread writes (see the progress layout in
 * ../protocol.ts), and the AbortSignals of the tasks that asked for one (`taskSignal()`).
 *
 * Tasks are known by their handout number (`seq`): unique among the tasks handed to this worker
 * incarnation, unlike a task id, which its submitter reuses.
 */
import { WeftError } from '../../errors.js';
import { PROGRESS_ABORTS, abortEntry } from '../protocol.js';

/** Whether handout number `a` comes before `b` (they wrap at 32 bits). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** The error of a task aborted by its caller. */
export function abortedError(): WeftError {
  return new WeftError('WEFT_ABORTED', 'task aborted');
}

export class TaskAborts {
  readonly #progress: Int32Array;
  /** Ring entries read so far. */
  #seen = 0;
  /** Handout numbers of aborted main-thread tasks not started yet (see `abortedBeforeStart`). */
  readonly #pending = new Set<number>();
  /** Signals of running tasks that asked for one, by handout number. */
  readonly #controllers = new Map<number, AbortController>();
  /** The handout number of the task whose synchronous part is running now. */
  current: number | undefined;

  constructor(progress: Int32Array) {
    this.#progress = progress;
  }

  /**
   * Whether the main-thread task handed out as `seq`, about to start, was aborted: then it is
   * skipped without a round trip to the scheduler. Tasks start in handout order, so a ring entry
   * before `seq` is for a task that started (or was handed back) already: dropped.
   */
  abortedBeforeStart(seq: number): boolean {
    const progress = this.#progress;
    const pending = this.#pending;
    const written = Atomics.load(progress, PROGRESS_ABORTS);
    while (this.#seen !== written) {
      const entry = progress[abortEntry(this.#seen)]!;
      if (!before(entry, seq | 0)) pending.add(entry);
      this.#seen = (this.#seen + 1) | 0;
    }
    if (pending.size === 0) return false;
    const hit = pending.delete(seq | 0);
    for (const entry of pending) if (before(entry, seq | 0)) pending.delete(entry);
    return hit;
  }

  /** The abort signal of the task running now (`taskSignal()`); undefined outside its synchronous part. */
  signal(): AbortSignal | undefined {
    const key = this.current;
    if (key === undefined) return undefined;
    let c = this.#controllers.get(key);
    if (c === undefined) {
      c = new AbortController();
      this.#controllers.set(key, c);
    }
    return c.signal;
  }

  /** The scheduler's abort record for a task that started here: only its signal can still see it. */
  abort(seq: number): void {
    this.#controllers.get(seq)?.abort(abortedError());
  }

  /** The task handed out as `seq` settled: its signal is no longer needed. */
  done(seq: number): void {
    this.#controllers.delete(seq);
  }
}
