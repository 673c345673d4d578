/**
 * The actor hosts of a pool worker, as a `WorkerExtension` of its loop (src/pool/extension.ts).
 *
 * A worker attaches to an actor system the first time something of that system reaches it (a
 * signal from the scheduler, a ref passed in a task's arguments): `hostFor` then builds the
 * host through the attacher installed here. The scheduler's `KIND_SIGNAL` records wake the host
 * of `(system id, process token)`; before each take, hosts send what their async handlers wrote;
 * hosts with timers or a scheduled turn keep the worker out of native parking, hosts with async
 * handlers pending make it park briefly, and live actors keep it past the pool's idle timeout.
 */
import { native } from '../native.js';
import type { WorkerExtension } from '../pool/extension.js';
import { ActorHost, hostFor, hostsOfThisThread, setHostAttacher } from './host.js';
import { NativeRuntime, NativeTransport } from './transport.js';

export interface ActorWorkerOptions {
  /** The worker's slot in its pool: it is actor host `1 + slot` of every system on the pool. */
  slot: number;
  /** The pool's thread count (the hosts place spawned actors among them). */
  threads: number;
}

export class ActorWorkerExtension implements WorkerExtension {
  /** Installs how this thread attaches to actor systems (one extension per worker thread). */
  constructor(o: ActorWorkerOptions) {
    setHostAttacher((system, token) => {
      const attached = native.NativeActorSystem.attach(system, token);
      return new ActorHost({
        system,
        process: token,
        transport: new NativeTransport(attached, 1 + o.slot),
        runtime: new NativeRuntime(attached, 1 + o.slot),
        workers: o.threads,
      });
    });
  }

  /** Messages for the actors of system `system` on this worker. */
  onSignal(system: number, token: number): boolean {
    try {
      hostFor(system, token).pump();
    } catch (err) {
      process.emitWarning(`weft: actor messages for system ${system} could not be handled: ${String(err)}`);
    }
    return true;
  }

  /** Actor messages written by continuations that ran since the last batch go out. */
  beforeTake(): void {
    for (const h of hostsOfThisThread()) h.settle();
  }

  /** Actors here have timers pending or a pump turn scheduled. */
  wantsEventLoop(): boolean {
    for (const h of hostsOfThisThread()) if (h.moreWork || h.hasTimers) return true;
    return false;
  }

  /** Async actor handlers (or hooks) are pending here. */
  busy(): boolean {
    for (const h of hostsOfThisThread()) if (h.busy > 0) return true;
    return false;
  }

  /** Live actors: their state is on this worker. */
  keepsWorker(): boolean {
    for (const h of hostsOfThisThread()) if (h.actorCount > 0) return true;
    return false;
  }
}
