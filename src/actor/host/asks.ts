/**
 * "Asks": the asks this host made and waits on. Owns the pending asks (by id), their timeouts (one
 * timer per bucket of asks with the same timeout, in deadline order), their AbortSignals (one
 * listener per signal, see AbortWatch), the checks of ask options, and how an ask settles: by its
 * reply, a failure notice, a timeout, an abort, its actor's worker dying, or shutdown. How an ask
 * reaches its actor is the host's (`AskDelivery`).
 */
import { InvalidArgumentError, WeftError } from '../../errors.js';
import { AbortWatch, isAbortSignal } from '../../internal/abort-watch.js';
import { describe, thrownMessage } from '../../internal/describe.js';
import { unknownOptionMessage } from '../../internal/options.js';
import type { ActorRef } from '../ref.js';
import { ASK_OPTIONS, type AskOptions } from '../types.js';
import { AskTable } from '../../internal/ask-table.js';
import { type DeadlineBucket, Deadlines } from '../../internal/deadlines.js';
import { describeType } from './messages.js';
import type { StartFailures } from './spawn.js';

/** Default ask timeout (ms). */
export const DEFAULT_ASK_TIMEOUT = 30_000;

const ASK_OPTION_SET: ReadonlySet<string> = new Set(ASK_OPTIONS);

/**
 * Why the options of an `ask` are not valid: not an object, or an unknown option name. Runs per
 * message when options are passed, so it allocates nothing when they are valid (a `for...in`
 * over a plain object walks V8's enum cache; no key array).
 */
function askOptionsError(o: unknown): InvalidArgumentError | undefined {
  if (o === null || typeof o !== 'object') {
    return new InvalidArgumentError(`ask options must be an object, got ${o === null ? 'null' : typeof o}`);
  }
  try {
    for (const k in o) {
      if (!ASK_OPTION_SET.has(k) && Object.hasOwn(o, k))
        return new InvalidArgumentError(unknownOptionMessage(k, ASK_OPTIONS, 'ask options'));
    }
  } catch (err) {
    // A Proxy whose traps throw.
    return new InvalidArgumentError(`ask options: listing them threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
  return undefined;
}

export interface PendingAsk {
  id: number;
  target: number;
  /** The message (its type names the ask in errors; formatted only then). */
  msg: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  deadline: number;
  done: boolean;
  /** Sent to another thread (its reply comes through the runtime). */
  remote: boolean;
  /** Stops watching the ask's AbortSignal (see AbortWatch), if it has one. */
  unwatch: (() => void) | undefined;
  /** The timeout bucket it waits in. */
  bucket: DeadlineBucket | undefined;
}

/** What asking uses of its host. */
export interface AskDelivery {
  /**
   * Sends ask `id` to `ref` (here or to another thread); throws what refuses it at once. Returns
   * true if it went to another thread.
   */
  deliverAsk(ref: ActorRef, id: number, msg: unknown): boolean;
}

export class Asks {
  readonly #delivery: AskDelivery;
  readonly #failures: StartFailures;
  readonly #timeout: number;
  readonly #pending = new AskTable<PendingAsk>();
  /** One listener per AbortSignal however many asks share it. */
  readonly #aborts = new AbortWatch<number>();
  /** The asks' timeouts: one timer per bucket of asks with the same timeout, in deadline order. */
  readonly #deadlines = new Deadlines<PendingAsk>((e, ms) =>
    this.settle(e.id, false, new WeftError('WEFT_ASK_TIMEOUT', `ask ${describeType(e.msg)} to actor ${e.target} timed out after ${ms} ms`)),
  );
  #next = 0;
  #remote = 0;

  constructor(delivery: AskDelivery, failures: StartFailures, timeout: number) {
    this.#delivery = delivery;
    this.#failures = failures;
    this.#timeout = timeout;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Pending asks sent to other threads (their replies come through the runtime). */
  get remote(): number {
    return this.#remote;
  }

  get(id: number): PendingAsk | undefined {
    return this.#pending.get(id);
  }

  /** Asks `ref`: checks the options, registers the ask, hands it to the host to deliver. */
  ask(ref: ActorRef, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    if (options !== undefined) {
      const invalid = askOptionsError(options);
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    let timeout: unknown;
    let signal: unknown;
    try {
      timeout = options?.timeout ?? this.#timeout;
      signal = options?.signal;
    } catch (err) {
      return Promise.reject(new InvalidArgumentError(`reading the ask options threw: ${thrownMessage(err)}`, { cause: err }));
    }
    if (typeof timeout !== 'number' || !(timeout > 0)) {
      return Promise.reject(new InvalidArgumentError(`ask timeout must be a positive number of milliseconds, got ${describe(timeout)}`));
    }
    if (signal !== undefined && !isAbortSignal(signal)) {
      return Promise.reject(new InvalidArgumentError(`ask signal must be an AbortSignal, got ${describe(signal)}`));
    }
    if (signal?.aborted) return Promise.reject(new WeftError('WEFT_ABORTED', 'ask aborted', { cause: signal.reason }));
    if (this.#failures.size > 0) {
      const failed = this.#failures.errorFor(ref.id);
      if (failed !== undefined) return Promise.reject(failed);
    }
    const id = (this.#next = (this.#next + 1) >>> 0 || 1);
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: PendingAsk = {
      id,
      target: ref.id,
      msg,
      resolve,
      reject,
      deadline: performance.now() + timeout,
      done: false,
      remote: false,
      unwatch: undefined,
      bucket: undefined,
    };
    this.#pending.add(entry);
    this.#deadlines.add(entry, timeout);
    try {
      if (this.#delivery.deliverAsk(ref, id, msg) && !entry.done) {
        entry.remote = true;
        this.#remote++;
      }
    } catch (err) {
      this.settle(id, false, err);
    }
    if (signal !== undefined && !entry.done) {
      entry.unwatch = this.#aborts.watch(signal, id, () =>
        this.settle(id, false, new WeftError('WEFT_ABORTED', 'ask aborted', { cause: signal.reason })),
      );
    }
    return promise;
  }

  /** Settles ask `id` (nothing if it settled already). */
  settle(id: number, ok: boolean, value: unknown): void {
    const e = this.#pending.take(id);
    if (e === undefined) return;
    e.done = true;
    if (e.remote) this.#remote--;
    e.unwatch?.();
    this.#deadlines.settled(e);
    if (!ok && this.#failures.size > 0 && (value as { code?: unknown } | null)?.code === 'WEFT_ACTOR_STOPPED') {
      // Its actor never started: say why rather than that it is not running.
      value = this.#failures.errorFor(e.target) ?? value;
    }
    if (ok) e.resolve(value);
    else e.reject(value);
    // Nothing pending: the timers no longer keep the process alive (they stay armed, so a run
    // of one-at-a-time asks does not create and cancel a timer per ask).
    if (this.#pending.size === 0) this.#deadlines.idle();
  }

  /** The asks to actors of a worker that died fail `WEFT_WORKER_EXIT`. */
  failLost(lost: ReadonlySet<number>): void {
    for (const entry of this.#pending.entries()) {
      if (lost.has(entry.target)) {
        this.settle(
          entry.id,
          false,
          new WeftError(
            'WEFT_WORKER_EXIT',
            `the worker running actor ${entry.target} exited before it replied to ask ${describeType(entry.msg)}`,
          ),
        );
      }
    }
  }

  /** Shutdown: every pending ask fails with `reason`; the timers go. */
  close(reason: WeftError): void {
    for (const e of this.#pending.entries()) this.settle(e.id, false, reason);
    this.#deadlines.close();
  }
}
