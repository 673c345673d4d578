/**
 * The two interfaces under an actor host (src/actor/host/), split by who can implement them:
 *
 * - `ActorTransport`: delivery. It carries envelopes and batches of records to actors that live
 *   on other threads. weft's own implementation is weft-core's lock-free mailboxes
 *   (`NativeTransport`); a network transport (the cluster issue) implements these calls alone,
 *   over addresses on other machines, without stubbing anything of the local runtime.
 * - `LocalRuntime`: what only the runtime of this machine does: it creates actors and names them,
 *   knows their mailboxes, removes them, counts their restarts and the dead letters the hosts
 *   find, and runs a host's turn (`exchange`: what this host sends, releases and takes).
 *
 * The host makes every native call through one of these two; `NativeTransport` and
 * `NativeRuntime` are both over weft-core's `NativeActorSystem`.
 */
import { fromNative } from '../errors.js';
import type { native } from '../native.js';

export type NativeActorSystem = InstanceType<typeof native.NativeActorSystem>;

/** Delivery to actors on other threads (or, with a network transport, other machines). */
export interface ActorTransport {
  /** Which host this thread is (0: the main thread, 1 + k: pool worker k). */
  readonly host: number;
  /** Sends a batch of `u8 kind | u32 target | u32 len | bytes` records (unbounded mailboxes and notices). */
  sendBatch(records: Uint8Array): void;
  /** Sends one envelope; returns the delivery code (protocol.ts DELIVERY_*). To an actor that
   * does not exist it is a dead letter. */
  send(target: number, system: boolean, envelope: Uint8Array): number;
}

/** What only the local runtime does: actors, names and mailboxes of this machine, a host's turn. */
export interface LocalRuntime {
  /** Which host this thread is (as `ActorTransport.host`). */
  readonly host: number;
  /**
   * A new actor on `host`: `capacity` 0 for an unbounded mailbox, else bounded with `overflow`
   * (protocol.ts OVERFLOW_CODES). Returns its id; throws a weft error (a taken name, say).
   */
  create(host: number, capacity: number, overflow: number, name: string | null): number;
  /** The id of the running actor registered under `name`. */
  lookup(name: string): number | null | undefined;
  /** The mailbox of a running actor: -2 not running, -1 unbounded, else its overflow code. */
  mailboxOf(id: number): number;
  /** Stops an actor for good: its mailbox closes (what is queued there becomes dead letters). */
  remove(id: number): void;
  /** Counts a restart of actor `id` (for stats). */
  countRestart(id: number): void;
  /** Adds handled messages to actors' `processed` counts: `[id, n, id, n, ...]`. */
  countProcessed(pairs: Uint32Array): void;
  /**
   * A dead letter the host found itself (protocol.ts ENV_DEAD: an unhandled message type, a
   * message for an actor that stopped after its batch was taken): kept and counted with the
   * runtime's own.
   */
  deadLetter(envelope: Uint8Array): void;
  /**
   * A host's turn in one call: delivers `records` (as `ActorTransport.sendBatch`), releases the
   * actors in `released`, adds `processed` to their counts (as `countProcessed`) and takes what is
   * waiting for this host (null: nothing; the bytes may be a view of memory the next call
   * reuses). With `spin`, a turn that finds nothing waits a while for news first (bounded and
   * adaptive).
   */
  exchange(
    records: Uint8Array,
    released: Uint32Array,
    processed: Uint32Array,
    max: number,
    perActor: number,
    spin: boolean,
  ): Uint8Array | null;
  /** Arranges for `wake` to run (on this thread) when something arrives for this host. */
  onWake(wake: () => void): void;
}

/** Delivery through weft-core's mailboxes. */
export class NativeTransport implements ActorTransport {
  readonly host: number;
  readonly #native: NativeActorSystem;

  constructor(system: NativeActorSystem, host: number) {
    this.#native = system;
    this.host = host;
  }

  sendBatch(records: Uint8Array): void {
    try {
      this.#native.sendBatch(this.host, records);
    } catch (err) {
      throw fromNative(err);
    }
  }

  send(target: number, system: boolean, envelope: Uint8Array): number {
    return this.#native.send(this.host, target, system, envelope);
  }
}

/** Bytes of the buffer a turn's records are written into (a larger drain is returned apart). */
const EXCHANGE_SCRATCH = 64 * 1024;

/** weft-core's actor system, as the local runtime of host `host`. */
export class NativeRuntime implements LocalRuntime {
  readonly host: number;
  readonly #native: NativeActorSystem;
  /** Where `exchange` writes what it takes, reused turn after turn. */
  readonly #into = new Uint8Array(EXCHANGE_SCRATCH);

  constructor(system: NativeActorSystem, host: number) {
    this.#native = system;
    this.host = host;
  }

  create(host: number, capacity: number, overflow: number, name: string | null): number {
    try {
      return this.#native.create(host, capacity, overflow, name);
    } catch (err) {
      throw fromNative(err);
    }
  }

  lookup(name: string): number | null {
    return this.#native.lookup(name);
  }

  mailboxOf(id: number): number {
    return this.#native.mailboxOf(id);
  }

  remove(id: number): void {
    this.#native.remove(id);
  }

  countRestart(id: number): void {
    this.#native.countRestart(id);
  }

  countProcessed(pairs: Uint32Array): void {
    this.#native.countProcessed(pairs);
  }

  deadLetter(envelope: Uint8Array): void {
    // An envelope to actor 0, which never exists: weft-core counts and keeps it.
    this.#native.send(this.host, 0, false, envelope);
  }

  exchange(
    records: Uint8Array,
    released: Uint32Array,
    processed: Uint32Array,
    max: number,
    perActor: number,
    spin: boolean,
  ): Uint8Array | null {
    let n: number;
    try {
      n = this.#native.exchange(this.host, records, released, processed, max, perActor, spin, this.#into);
    } catch (err) {
      throw fromNative(err);
    }
    if (n === 0) return null;
    // A view of the scratch, valid until the next exchange (the host decodes a turn's records
    // before it calls again); a drain too big for it comes as a buffer of its own.
    return n > 0 ? this.#into.subarray(0, n) : this.#native.spill();
  }

  onWake(wake: () => void): void {
    // Worker hosts are woken through their pool's signal records (the worker pump calls the
    // host); only the main thread installs a callback.
    if (this.host === 0) this.#native.setNotify(0, wake);
  }
}
