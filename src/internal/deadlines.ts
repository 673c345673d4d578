/**
 * Timeouts for many pending entries (asks) with few distinct durations: one timer per duration
 * (a "bucket" of the entries with that timeout, in deadline order) instead of one per entry.
 * Creating and cancelling a Node timer per ask costs more than the rest of a local ask, and at a
 * steady stream of one-at-a-time asks the bucket's timer is not even re-created: it stays armed
 * for the oldest deadline, fires, finds the head settled or not due, and re-arms.
 *
 * An entry says when it is settled (`done`); the owner calls `settled(e)` then, so a bucket lets
 * go of the settled entries at its head at once (not when its timer fires, which may be 30 s away).
 * A pending entry keeps the process alive, as a pending `setTimeout` would; `idle()` (nothing
 * pending) lets the armed timers no longer do so.
 */
import { Fifo } from './ask-table.js';

/** The entries that share one timeout (opaque outside this module). */
export interface DeadlineBucket {
  readonly ms: number;
}

interface Bucket<T> extends DeadlineBucket {
  readonly entries: Fifo<T>;
  timer: NodeJS.Timeout | undefined;
}

/** What a bucket needs of an entry. */
export interface Timed {
  /** `performance.now()` at which it expires (when it was added: now + its timeout). */
  readonly deadline: number;
  /** Settled: it expires no more. */
  done: boolean;
  /** The bucket it waits in (set by `add`). */
  bucket: DeadlineBucket | undefined;
}

export class Deadlines<T extends Timed> {
  readonly #buckets = new Map<number, Bucket<T>>();
  #last: Bucket<T> | undefined = undefined;
  readonly #expire: (entry: T, ms: number) => void;

  /** `expire(entry, ms)`: `entry` (not done) reached its deadline; `ms` is its timeout. */
  constructor(expire: (entry: T, ms: number) => void) {
    this.#expire = expire;
  }

  /** Starts the clock of `entry`, whose timeout is `ms` (its `deadline` is now + `ms`). */
  add(entry: T, ms: number): void {
    // Most entries share one timeout: skip the lookup for a run of them.
    let b = this.#last?.ms === ms ? this.#last : this.#buckets.get(ms);
    if (b === undefined) {
      b = { ms, entries: new Fifo<T>(), timer: undefined };
      this.#buckets.set(ms, b);
    }
    this.#last = b;
    b.entries.push(entry);
    entry.bucket = b;
    if (b.timer === undefined) this.#arm(b);
    else if (!b.timer.hasRef()) b.timer.ref();
  }

  /** `entry` settled (its `done` is set): its bucket lets go of the settled entries at its head. */
  settled(entry: T): void {
    const b = entry.bucket as Bucket<T> | undefined;
    if (b === undefined || b.entries.peek() !== entry) return;
    const list = b.entries;
    while (list.peek()?.done) list.shift();
  }

  /**
   * Nothing is pending: the timers no longer keep the process alive. They stay armed (a timer
   * armed for an earlier entry fires no later than any later entry's deadline, and then re-arms).
   */
  idle(): void {
    for (const b of this.#buckets.values()) {
      b.timer?.unref();
      b.entries.clear();
    }
  }

  /** Shutdown: the timers go (the owner settles what is pending). */
  close(): void {
    for (const b of this.#buckets.values()) if (b.timer !== undefined) clearTimeout(b.timer);
    this.#buckets.clear();
    this.#last = undefined;
  }

  #arm(b: Bucket<T>): void {
    const head = b.entries.peek();
    if (head === undefined) return;
    const wait = Math.max(0, head.deadline - performance.now());
    b.timer = setTimeout(() => this.#fire(b), Math.ceil(wait) + 1);
  }

  #fire(b: Bucket<T>): void {
    b.timer = undefined;
    const now = performance.now();
    const list = b.entries;
    for (let e = list.peek(); e !== undefined; e = list.peek()) {
      if (!e.done && e.deadline > now) break;
      list.shift();
      if (!e.done) this.#expire(e, b.ms);
    }
    if (list.length > 0) this.#arm(b);
  }
}
