/**
 * Many pending operations (pool tasks, `map` chunks, actor asks) often share one AbortSignal, one
 * per request say. A listener per operation would pass Node's default limit of 10 listeners and
 * print `MaxListenersExceededWarning`, and cost an event-target entry each: an `AbortWatch` adds one
 * listener per signal, keeps the operations waiting on it, and removes the listener with the last.
 */
/** Whether `v` is an AbortSignal (false for a Proxy whose getPrototypeOf trap throws). */
export function isAbortSignal(v: unknown): v is AbortSignal {
  try {
    return v instanceof AbortSignal;
  } catch {
    return false;
  }
}

export class AbortWatch<K> {
  readonly #bySignal = new Map<AbortSignal, { waiting: Map<K, () => void>; listener: () => void }>();

  /**
   * Calls `onAbort` once when `signal` aborts, unless the returned function (stop watching) was
   * called first. `key` names the operation among those on the same signal (one entry per key).
   */
  watch(signal: AbortSignal, key: K, onAbort: () => void): () => void {
    let entry = this.#bySignal.get(signal);
    if (entry === undefined) {
      const waiting = new Map<K, () => void>();
      const listener = (): void => {
        this.#bySignal.delete(signal);
        // A copy: each callback stops watching (deletes itself) as it settles its operation.
        for (const fire of [...waiting.values()]) fire();
        waiting.clear();
      };
      entry = { waiting, listener };
      this.#bySignal.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    const { waiting, listener } = entry;
    waiting.set(key, onAbort);
    return () => {
      if (!waiting.delete(key) || waiting.size > 0) return;
      if (this.#bySignal.get(signal)?.waiting === waiting) {
        this.#bySignal.delete(signal);
        signal.removeEventListener('abort', listener);
      }
    };
  }
}
