/**
 * The transport under the actor hosts. Everything an `ActorHost` sends to or takes from another
 * thread goes through this interface; weft's own implementation is weft-core's lock-free
 * mailboxes (`NativeTransport`). A network transport (NATS, next) implements the same calls over
 * addresses on other machines; user code, refs and behaviours stay as they are.
 */
import { fromNative } from '../errors.js';
import { native } from '../native.js';

export type NativeActorSystem = InstanceType<typeof native.NativeActorSystem>;

export interface ActorTransport {
  /** Which host this thread is (0: the main thread, 1 + k: pool worker k). */
  readonly host: number;
  /** Sends a batch of `u8 kind | u32 target | u32 len | bytes` records (unbounded mailboxes and notices). */
  sendBatch(records: Uint8Array): void;
  /** Sends one envelope; returns the delivery code (protocol.ts DELIVERY_*). To an actor that does
   * not exist (0 never does), it is a dead letter: counted and kept among the recent ones (the
   * hosts record the dead letters they find themselves this way: protocol.ts ENV_DEAD). */
  send(target: number, system: boolean, envelope: Uint8Array): number;
  /**
   * A host's turn in one call: sends `records` (as `sendBatch`), releases the actors in
   * `released` and takes what is waiting for this host (null: nothing).
   */
  exchange(records: Uint8Array, released: Uint32Array, max: number, perActor: number): Uint8Array | null;
  /** Arranges for `wake` to run (on this thread) when something arrives for this host. */
  onWake(wake: () => void): void;
}

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

  exchange(records: Uint8Array, released: Uint32Array, max: number, perActor: number): Uint8Array | null {
    try {
      return this.#native.exchange(this.host, records, released, max, perActor);
    } catch (err) {
      throw fromNative(err);
    }
  }

  onWake(wake: () => void): void {
    // Worker hosts are woken through their pool's signal records (the worker pump calls the
    // host); only the main thread installs a callback.
    if (this.host === 0) this.#native.setNotify(0, wake);
  }
}
