/**
 * "Receiving": what the local runtime hands this host in a turn (`exchange`'s records). Owns
 * decoding them: envelopes for its actors (queued, or a START that instantiates one, or a
 * system operation), system messages that went around a running actor's mailbox, and notices
 * (replies to this host's asks, asks that failed in a mailbox, room in a `wait` mailbox, actors
 * lost with a worker, lifecycle events for the main thread). Messages for actors that are not
 * here are dead letters this host found (`foundDead`).
 */
import { WeftError } from '../../errors.js';
import { WireReader, WireWriter } from '../../internal/wire.js';
import { definitionByKey } from '../define.js';
import * as protocol from '../protocol.js';
import { ActorRef, typeRef } from '../ref.js';
import type { LocalRuntime } from '../transport.js';
import * as record from './actor.js';
import type { Entry, LocalActor, RuntimeDef, StartSpec } from './actor.js';
import type { Asks } from './asks.js';
import type { HostEvents } from './host.js';
import * as messages from './messages.js';
import type { Outbox } from './outbox.js';
import type { Spawner, StartFailures } from './spawn.js';
import type { Supervisor } from './supervisor.js';

const {
  DELIVERY_STOPPED,
  ENV_ASK,
  ENV_BUNDLE,
  ENV_DEAD,
  ENV_SYSTEM,
  EV_SPAWNED,
  EV_TERMINATED,
  NOTICE_ASK_FAILED,
  NOTICE_EVENT,
  NOTICE_LOST,
  NOTICE_REPLY,
  NOTICE_ROOM,
  OUT_CONTROL,
  OUT_MESSAGE,
  REASON_FULL,
  SYS_START,
  SYS_STOP,
  TERM_UNDEFINED,
} = protocol;
// Imported values read once into module constants: under tsx (esbuild's CommonJS output) each
// read of an imported binding is a getter call, too slow for the per-message paths.
const { Item, KIND_ASK, STOP_ITEM, STOPPED } = record;
const { describeType } = messages;

/**
 * A dead letter found by this host (not by the runtime): kept and counted with the runtime's
 * own (an ENV_DEAD envelope).
 */
export function foundDead(runtime: LocalRuntime, actor: number, reason: number, msg: unknown): void {
  const w = new WireWriter(256);
  w.u8(ENV_DEAD);
  w.u32(actor);
  w.u8(reason);
  const at = w.length;
  try {
    w.value(msg);
  } catch {
    w.rollback(at);
    w.value(`(a message that cannot be copied: ${describeType(msg)})`);
  }
  runtime.deadLetter(w.view());
}

/** What receiving uses of its host (besides its collaborators, given at construction). */
export interface InboxHost {
  readonly system: number;
  readonly process: number;
  /** Same-thread delivery into an actor's JavaScript queue (`internal`: past its bound). */
  enqueue(a: LocalActor, item: Entry, internal: boolean): void | Promise<void>;
  /** Settles or sends the reply to `item` if it is an ask. */
  reply(item: Entry, ok: boolean, value: unknown): void;
}

export interface InboxOptions {
  /** The host's actor table, and its run queues: actors to run, actors to release. */
  actors: ReadonlyMap<number, LocalActor>;
  runnable: LocalActor[];
  released: number[];
  runtime: LocalRuntime;
  spawner: Spawner;
  supervisor: Supervisor;
  asks: Asks;
  outbox: Outbox;
  failures: StartFailures;
  events: HostEvents | undefined;
}

export class Inbox {
  readonly #host: InboxHost;
  readonly #actors: ReadonlyMap<number, LocalActor>;
  readonly #runnable: LocalActor[];
  readonly #released: number[];
  readonly #runtime: LocalRuntime;
  readonly #spawner: Spawner;
  readonly #supervisor: Supervisor;
  readonly #asks: Asks;
  readonly #outbox: Outbox;
  readonly #failures: StartFailures;
  readonly #events: HostEvents | undefined;
  readonly #reader = new WireReader(new Uint8Array(0));

  constructor(host: InboxHost, o: InboxOptions) {
    this.#host = host;
    this.#actors = o.actors;
    this.#runnable = o.runnable;
    this.#released = o.released;
    this.#runtime = o.runtime;
    this.#spawner = o.spawner;
    this.#supervisor = o.supervisor;
    this.#asks = o.asks;
    this.#outbox = o.outbox;
    this.#failures = o.failures;
    this.#events = o.events;
  }

  /**
   * Takes in one batch of `u8 kind | u32 actor | u32 len | bytes` records. Returns how many
   * messages and notices it held, counted as the runtime's drain counts them against its `max`
   * (a bundle counts its messages).
   */
  handle(buf: Uint8Array): number {
    const r = this.#reader;
    r.reset(buf);
    let count = 0;
    while (r.remaining > 0) {
      const kind = r.u8();
      const actor = r.u32();
      const len = r.u32();
      const end = r.offset + len;
      try {
        if (kind === OUT_MESSAGE) count += this.#message(actor, r);
        else {
          count++;
          if (kind === OUT_CONTROL) this.#control(actor, r);
          else this.#notice(r, end);
        }
      } catch (err) {
        // A record that cannot be decoded fails its own message (an ask rejects), nothing else.
        process.emitWarning(`weft actor host: a message could not be handled: ${(err as Error).message}`);
      }
      r.offset = end;
    }
    return count;
  }

  /** One message record (an envelope or a bundle of them); returns how many messages. */
  #message(id: number, r: WireReader): number {
    if (r.peekU8() === ENV_BUNDLE) {
      r.u8();
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const len = r.u32();
        const e = r.offset + len;
        this.#envelope(id, r);
        r.offset = e;
      }
      return n;
    }
    this.#envelope(id, r);
    return 1;
  }

  #envelope(id: number, r: WireReader): void {
    const envKind = r.u8();
    let a = this.#actors.get(id);
    if (envKind === ENV_SYSTEM) {
      const op = r.u8();
      if (op === SYS_START) {
        const moved = r.u8() === 1;
        const spec = r.value() as StartSpec;
        if (a !== undefined) return; // already here
        const def = definitionByKey(spec.key, spec.shape) as RuntimeDef | undefined;
        const ref = new ActorRef(this.#host.system, this.#host.process, id, spec.bound !== null, spec.bound?.overflow === 'wait');
        if (def === undefined) {
          this.#released.push(id);
          this.#spawner.terminateUnknown(id, spec);
          return;
        }
        a = this.#spawner.instantiate(id, typeRef(ref, def), def, spec, moved);
        // Released by the run loop once its queue is empty: after the whole batch, which may hold
        // some of its messages too (releasing now would let the runtime hand over more of them
        // while those run, and the JavaScript queue could outgrow a bounded mailbox).
        a.held = true;
        this.#runnable.push(a);
        return;
      }
      if (a === undefined) {
        this.#released.push(id);
        return;
      }
      a.held = true;
      if (op === SYS_STOP) {
        this.#host.enqueue(a, STOP_ITEM, true);
      } else {
        this.#supervisor.systemOp(a, op, r);
      }
      if (a.status !== STOPPED) this.#runnable.push(a);
      return;
    }
    if (a === undefined) {
      // Not (or no longer) here: it stopped (or never started) after this batch was taken. A
      // dead letter; an ask among them fails.
      this.#released.push(id);
      if (envKind === ENV_ASK) {
        const replyHost = r.u32();
        const askId = r.u32();
        this.#host.reply(
          new Item(KIND_ASK, undefined, replyHost, askId),
          false,
          new WeftError('WEFT_ACTOR_STOPPED', `actor ${id} is not running`),
        );
      }
      let msg: unknown;
      try {
        msg = r.value();
      } catch {
        msg = '(undecodable)';
      }
      foundDead(this.#runtime, id, DELIVERY_STOPPED, msg);
      return;
    }
    a.held = true;
    let replyHost = -1;
    let askId = 0;
    if (envKind === ENV_ASK) {
      replyHost = r.u32();
      askId = r.u32();
    }
    const msg = r.value();
    a.queue.push(envKind === ENV_ASK ? new Item(KIND_ASK, msg, replyHost, askId) : msg);
    if (a.depth === 1 || a.depth === 0) this.#runnable.push(a);
  }

  /** A system message that went around the mailbox: `ENV_SYSTEM | op | fields`. */
  #control(id: number, r: WireReader): void {
    const a = this.#actors.get(id);
    r.u8();
    const op = r.u8();
    if (a === undefined) return; // gone, or moved
    this.#supervisor.systemOp(a, op, r);
  }

  #notice(r: WireReader, end: number): void {
    const kind = r.u8();
    switch (kind) {
      case NOTICE_REPLY: {
        const id = r.u32();
        const status = r.u8();
        const entry = this.#asks.get(id);
        if (entry === undefined) return; // timed out or aborted already
        let value: unknown;
        try {
          value = r.value();
        } catch (err) {
          this.#asks.settle(id, false, err);
          return;
        }
        this.#asks.settle(id, status === 0, value);
        return;
      }
      case NOTICE_ASK_FAILED: {
        const id = r.u32();
        const reason = r.u8();
        const actor = r.u32();
        const entry = this.#asks.get(id);
        if (entry === undefined) return;
        const err =
          reason === REASON_FULL
            ? new WeftError(
                'WEFT_MAILBOX_FULL',
                `the mailbox of actor ${actor || entry.target} was full and refused or dropped ask ${describeType(entry.msg)}`,
              )
            : new WeftError('WEFT_ACTOR_STOPPED', `actor ${entry.target} is not running (ask ${describeType(entry.msg)})`);
        this.#asks.settle(id, false, err);
        return;
      }
      case NOTICE_ROOM:
        this.#outbox.room(r.u32());
        return;
      case NOTICE_LOST: {
        const n = r.u32();
        const lost = new Set<number>();
        for (let i = 0; i < n; i++) lost.add(r.u32());
        this.#asks.failLost(lost);
        return;
      }
      case NOTICE_EVENT: {
        const ev = r.u8();
        const actor = r.u32();
        if (this.#events === undefined) return;
        if (ev === EV_SPAWNED) {
          const host = r.u32();
          const parent = r.u32();
          const n = r.u32();
          this.#events.spawned(actor, host, parent, n > 0 ? r.bytes(n).slice() : new Uint8Array(0));
        } else if (ev === EV_TERMINATED) {
          const reason = r.u8();
          const error = r.value();
          if (reason === TERM_UNDEFINED) this.#failures.record(actor, error);
          this.#events.terminated(actor, reason, error);
        }
        r.offset = end;
        return;
      }
      default:
        return;
    }
  }
}
