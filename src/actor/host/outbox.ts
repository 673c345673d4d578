/**
 * "Sending": everything this host sends to other threads, through the `ActorTransport`. Owns the
 * outgoing batch (tells, asks, replies, system messages, START records and events, as
 * `u8 kind | u32 target | u32 len | bytes` records: one native call per batch, sent by the pump's
 * `exchange` or by `flush`), the single-envelope path of bounded mailboxes (their outcome is
 * known at once), and the senders waiting for room in a `wait` mailbox. Same-thread delivery is
 * the host's (host.ts `enqueue`).
 */
import { WeftError } from '../../errors.js';
import { WireWriter } from '../../internal/wire.js';
import * as protocol from '../protocol.js';
import type { ActorRef } from '../ref.js';
import type { ActorTransport } from '../transport.js';
import { describeEnvelope } from './messages.js';

const { DELIVERY_FULL, ENV_ASK, ENV_SYSTEM, ENV_TELL, IN_NOTICE, IN_SYSTEM, IN_USER, NOTICE_EVENT, NOTICE_REPLY } = protocol;

/** The outgoing batch is sent once it holds this many bytes (or at the end of the turn). */
const FLUSH_BYTES = 32 * 1024;
const EMPTY_U8 = new Uint8Array(0);
/**
 * Asks and replies are sent once this many are batched, without waiting for the end of the
 * turn: the receiver starts on them while the sender writes the rest (at 64 asks in flight,
 * sending them in slices of 16 overlaps the two threads' work; one batch of 64 made each wait
 * for the other).
 */
const QUICK = 16;

/**
 * The most messages one thread keeps waiting for room in one `wait` mailbox: past it, `tell`
 * throws (and `ask` rejects with) `WEFT_MAILBOX_FULL`, so that backpressure reaches a sender that
 * does not await its tells, and its memory stays bounded too.
 */
export const MAX_WAITING_FOR_ROOM = 1024;

/** The error for a sender with MAX_WAITING_FOR_ROOM messages waiting already. */
export function waitingFull(actor: number, n: number): WeftError {
  return new WeftError(
    'WEFT_MAILBOX_FULL',
    `the mailbox of actor ${actor} is full and ${n} messages from this thread already wait for room in it (overflow 'wait'): await tell() before sending more`,
  );
}

/** A message waiting for room in a bounded `wait` mailbox on another thread. */
interface Waiting {
  target: ActorRef;
  system: boolean;
  env: Uint8Array;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** What sending uses of its host: its turns (the pump sends the batch after each). */
export interface SendTurns {
  /** A pump turn is running (it sends the batch when it ends). */
  readonly pumping: boolean;
  schedulePump(): void;
}

export class Outbox {
  readonly #transport: ActorTransport;
  readonly #turns: SendTurns;
  readonly #host: number;
  readonly #out = new WireWriter(64 * 1024);
  /** Scratch for one envelope (bounded mailboxes). */
  readonly #one = new WireWriter(1024);
  /** Bounded `wait` mailboxes on other threads that refused a message: what waits, by actor. */
  readonly #waiting = new Map<number, Waiting[]>();
  /** Asks and replies in the batch (see QUICK). */
  #quick = 0;

  constructor(transport: ActorTransport, turns: SendTurns) {
    this.#transport = transport;
    this.#turns = turns;
    this.#host = transport.host;
  }

  /** Bytes batched and not sent yet. */
  get pending(): number {
    return this.#out.length;
  }

  /** The batch, for the pump's exchange (then `clear`). */
  batch(): Uint8Array {
    return this.#out.length === 0 ? EMPTY_U8 : this.#out.view();
  }

  clear(): void {
    this.#out.reset();
    this.#quick = 0;
  }

  /** A tell to an actor on another thread (or to one moved here, through its mailbox). */
  tell(ref: ActorRef, msg: unknown): void | Promise<void> {
    const waiting = this.#waiting.get(ref.id);
    if (ref.bounded || waiting !== undefined) return this.#sendOne(ref, false, this.#envelope(ENV_TELL, 0, msg), waiting);
    this.#writeUser(ref.id, ENV_TELL, 0, msg);
    this.#scheduleFlush();
  }

  /** Ask `id` to an actor on another thread; throws when its mailbox refuses it at once. */
  ask(ref: ActorRef, id: number, msg: unknown): void {
    const waiting = this.#waiting.get(ref.id);
    if (ref.bounded || waiting !== undefined) {
      const r = this.#sendOne(ref, false, this.#envelope(ENV_ASK, id, msg), waiting);
      if (r !== undefined) void r.catch(() => {});
      return;
    }
    this.#writeUser(ref.id, ENV_ASK, id, msg);
    this.#scheduleQuickFlush();
  }

  /** A user message into the outgoing batch (nothing written if `msg` cannot be cloned). */
  #writeUser(target: number, kind: number, askId: number, msg: unknown): void {
    const w = this.#out;
    const at = w.length;
    w.u8(IN_USER);
    w.u32(target);
    const rec = w.beginRecord();
    w.u8(kind);
    if (kind === ENV_ASK) {
      w.u32(this.#host);
      w.u32(askId);
    }
    try {
      w.value(msg);
    } catch (err) {
      w.rollback(at);
      throw err;
    }
    w.endRecord(rec);
  }

  #envelope(kind: number, askId: number, msg: unknown): Uint8Array {
    const w = this.#one;
    w.reset();
    w.u8(kind);
    if (kind === ENV_ASK) {
      w.u32(this.#host);
      w.u32(askId);
    }
    w.value(msg);
    // A view of the scratch writer: the transport copies it (a message that must wait for room
    // is copied out by #sendOne).
    return w.view();
  }

  /**
   * One envelope to a bounded mailbox on another thread (or behind others waiting for room):
   * its outcome is known at once. A `reject` refusal throws `WEFT_MAILBOX_FULL` (the tell throws
   * it, the ask fails with it).
   */
  #sendOne(ref: ActorRef, system: boolean, env: Uint8Array, waiting: Waiting[] | undefined): void | Promise<void> {
    if (waiting !== undefined) {
      if (waiting.length >= MAX_WAITING_FOR_ROOM) throw waitingFull(ref.id, waiting.length);
      const copy = env.slice();
      return new Promise<void>((resolve, reject) => waiting.push({ target: ref, system, env: copy, resolve, reject }));
    }
    // Earlier batched messages first (per-sender order across mailboxes does not matter, but a
    // batch may hold this actor's START).
    this.flush();
    const d = this.#transport.send(ref.id, system, env);
    if (d === DELIVERY_FULL) {
      if (ref.waits) {
        const copy = env.slice();
        return new Promise<void>((resolve, reject) => {
          this.#waiting.set(ref.id, [{ target: ref, system, env: copy, resolve, reject }]);
        });
      }
      throw new WeftError('WEFT_MAILBOX_FULL', `the mailbox of actor ${ref.id} is full (message ${describeEnvelope(env)})`);
    }
    // DROPPED / EVICTED / STOPPED: dead letters; an ask among them fails through a notice.
    return undefined;
  }

  /** A ROOM notice: retries what waits for room in a `wait` mailbox, in order, until it is full again. */
  room(actor: number): void {
    const list = this.#waiting.get(actor);
    if (list === undefined) return;
    while (list.length > 0) {
      const next = list[0]!;
      const d = this.#transport.send(next.target.id, next.system, next.env);
      if (d === DELIVERY_FULL) return; // registered again: another ROOM notice comes
      list.shift();
      next.resolve();
    }
    this.#waiting.delete(actor);
  }

  /** The reply to ask `askId` of host `replyHost` (an error that cannot be copied goes as one that can). */
  reply(replyHost: number, askId: number, ok: boolean, value: unknown): void {
    this.#record(IN_NOTICE, replyHost, (w) => {
      w.u8(NOTICE_REPLY);
      w.u32(askId);
      const at = w.length;
      w.u8(ok ? 0 : 1);
      try {
        w.value(value);
      } catch (err) {
        w.rollback(at);
        w.u8(1);
        w.value(err);
      }
    });
    this.#scheduleQuickFlush();
  }

  /** The START envelope of actor `id`, to the thread it was placed on. */
  start(id: number, env: Uint8Array): void {
    this.#record(IN_SYSTEM, id, (w) => w.bytes(env));
    this.#scheduleFlush();
  }

  /** A system message to an actor on another thread; `ordered` sends it in the user lane. */
  system(target: number, op: number, ordered: boolean, body: ((w: WireWriter) => void) | undefined): void {
    this.#record(ordered ? IN_USER : IN_SYSTEM, target, (w) => {
      w.u8(ENV_SYSTEM);
      w.u8(op);
      body?.(w);
    });
    this.#scheduleFlush();
  }

  /** A lifecycle event (protocol.ts EV_*) to the main thread's system. */
  event(ev: number, actor: number, body: (w: WireWriter) => void): void {
    this.#record(IN_NOTICE, 0, (w) => {
      w.u8(NOTICE_EVENT);
      w.u8(ev);
      w.u32(actor);
      body(w);
    });
    this.#scheduleFlush();
  }

  /** Writes a record into the outgoing batch (nothing if `body` throws). */
  #record(kind: number, target: number, body: (w: WireWriter) => void): void {
    const w = this.#out;
    const at = w.length;
    w.u8(kind);
    w.u32(target);
    const rec = w.beginRecord();
    try {
      body(w);
    } catch (err) {
      w.rollback(at);
      throw err;
    }
    w.endRecord(rec);
  }

  /** After an ask or a reply: sent at once every QUICK of them, else with the batch. */
  #scheduleQuickFlush(): void {
    if (++this.#quick >= QUICK) this.flush();
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    // A long run of sends goes out in slices, so the receivers start while the sender goes on.
    if (this.#out.length >= FLUSH_BYTES) this.flush();
    if (this.#turns.pumping) return; // the pump flushes after each batch
    this.#turns.schedulePump();
  }

  /** Sends the outgoing batch now. */
  flush(): void {
    if (this.#out.length === 0) return;
    const batch = this.#out.view();
    try {
      this.#transport.sendBatch(batch);
    } finally {
      this.#out.reset();
      this.#quick = 0;
    }
  }

  /** Shutdown: the senders waiting for room fail with `reason`. */
  close(reason: WeftError): void {
    for (const list of this.#waiting.values()) for (const w of list) w.reject(reason);
    this.#waiting.clear();
  }
}
