/**
 * The worker's pacing policy, learnt from the run times it sees: how many tasks to take at a
 * time, and which tasks to run only after the rest of the batch was handed back. It is
 * scheduling, which DESIGN.md puts in Rust; it sits here, in one file, until that move (the
 * scheduler already receives every task's run time) is measured (ARCHITECTURE P6).
 */

/** Aim each batch at about this much work, so long tasks stay stealable. */
const BATCH_TARGET_MS = 0.5;
/** A batch that has run this long hands its unstarted tasks back (so they can be stolen). */
export const GIVE_BACK_MS = 2;
/** Completions are reported at least this often while a batch runs. */
export const FLUSH_MS = 1;

export class Pacing {
  /**
   * Moving average of this worker's task run times (ms). It starts high, so the first takes are
   * one task each: until the worker has seen how long tasks take, a large batch could swallow
   * long tasks that another worker should have stolen. Tiny tasks bring it down within a few
   * dozen tasks, and batches grow to 256.
   */
  #avgTaskMs = 1;
  /**
   * Expected run time of each task name (ms, a moving average; -1: never run here). A task that
   * is new or known to be slow is run only after the batch's finished results are reported and
   * its unstarted tasks are handed back (stealable), so a long task never holds up short ones.
   */
  #expectedMs = new Float64Array(16).fill(-1);

  /** How many tasks the next take asks for. */
  batchSize(): number {
    return Math.max(1, Math.min(256, Math.floor(BATCH_TARGET_MS / Math.max(this.#avgTaskMs, 1e-4))));
  }

  /** The expected run time of task name `nameId` (ms; -1: never run here). */
  expected(nameId: number): number {
    const e = this.#expectedMs;
    return nameId < e.length ? e[nameId]! : -1;
  }

  /** A task of name `nameId` ran synchronously for `ms`. */
  ran(nameId: number, ms: number): void {
    this.#avgTaskMs = this.#avgTaskMs * 0.7 + ms * 0.3;
    this.learn(nameId, ms);
  }

  /** A task of name `nameId` took `ms` (its synchronous part, for an async task). */
  learn(nameId: number, ms: number): void {
    let e = this.#expectedMs;
    if (nameId >= e.length) {
      const grown = new Float64Array(Math.max(nameId + 1, e.length * 2)).fill(-1);
      grown.set(e);
      this.#expectedMs = e = grown;
    }
    const prev = e[nameId]!;
    e[nameId] = prev < 0 ? ms : prev * 0.7 + ms * 0.3;
  }
}
