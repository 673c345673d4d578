/**
 * How something that lives on a pool worker besides the tasks plugs into the worker's loop. The
 * actor hosts are one (src/actor/worker-extension.ts); a SharedQueue's waiters or a network
 * transport would be others. The loop (worker/loop.ts) knows no subsystem: it hands each
 * extension the wake-ups the scheduler delivers for it, and asks the extensions what they need
 * before it parks. src/worker/main.ts composes the loop with its extensions; nothing in pool/
 * imports one.
 *
 * The loop calls these on the worker thread, between batches: they must be cheap (the predicates
 * run before every take) and must not block.
 */
export interface WorkerExtension {
  /**
   * A wake-up (a `KIND_SIGNAL` record: `u32 a | u32 b`, for actors the system id and the process
   * token) came with a batch. Returns whether it was this extension's: the loop offers a signal
   * to its extensions in order until one takes it. The record names no subsystem, so today one
   * extension owns every signal; a second would need a subsystem tag in the record (weft-core).
   */
  onSignal(a: number, b: number): boolean;
  /**
   * Before every take: send what the extension's continuations produced since the last batch
   * (messages written by async handlers), so it is not held while the worker parks.
   */
  beforeTake(): void;
  /**
   * Work is waiting for the event loop here (timers pending, a turn scheduled with
   * setImmediate): the worker must not park in native code, which would hold it back.
   */
  wantsEventLoop(): boolean;
  /**
   * Async work is pending that may be waiting for another thread (an actor awaiting an ask): the
   * worker parks only briefly (its answer comes through take, fastest when parked), then gives its
   * event loop a turn (for timers and I/O the work may be waiting for instead).
   */
  busy(): boolean;
  /**
   * This worker holds state no other worker has (live actors): it must not leave on the pool's
   * idle timeout.
   */
  keepsWorker(): boolean;
}
