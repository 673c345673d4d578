/**
 * `ActorRef`: the address of an actor. Refs are location-transparent: one passed inside a message
 * or a pool task argument arrives as a working ref on the other thread (the wire codec carries it
 * as a handle: system id, process token, actor id, flags).
 */
import { InvalidArgumentError, WeftError } from '../errors.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { handlerMapOf, unhandledText } from './define.js';
import { HANDLE_ACTOR_REF, registerHandleCodec, type WireReader, type WireWriter } from '../internal/wire.js';
import type { ActorMessage, AnyActorDefinition, AskMessage, AskOptions, AskReply, MessageType } from './types.js';

/** What a ref needs from the actor host of the thread it is used on. */
export interface RefHost {
  tell(ref: ActorRef, msg: unknown): void | Promise<void>;
  ask(ref: ActorRef, msg: unknown, options: AskOptions | undefined): Promise<unknown>;
}

/** Finds (or attaches) this thread's host of an actor system: installed by host.ts. */
let resolveHost: ((system: number, token: number) => RefHost) | undefined;
export function setHostResolver(resolve: (system: number, token: number) => RefHost): void {
  resolveHost = resolve;
}

/** @internal Gives a ref its definition (the thread that spawned it knows it). */
export let typeRef: (ref: ActorRef, def: AnyActorDefinition) => ActorRef;

const FLAG_BOUNDED = 1;
const FLAG_WAITS = 2;

/** The serialisable form of a ref (`ref.toJSON()`). */
export interface ActorRefJSON {
  kind: 'weft:ActorRef';
  system: number;
  process: number;
  id: number;
  bounded: boolean;
  waits: boolean;
}

// D is declared covariant: a typed ref widens to the untyped `ActorRef` (any `{ type }` message,
// replies `unknown`), and refs of different definitions do not mix. TypeScript cannot verify the
// annotation through the generic `ask` signature (generic methods are compared strictly), hence
// the directive; every message is still checked against D at each call site.
// @ts-expect-error TS2636: see above
export class ActorRef<out D = AnyActorDefinition> {
  /** The actor's id (unique in its system, never reused). */
  readonly id: number;
  /** @internal The actor system's id and its process token. */
  readonly system: number;
  /** @internal */
  readonly process: number;
  /** @internal Whether its mailbox is bounded (sends go one by one, so overflow is known at once). */
  readonly bounded: boolean;
  /** @internal Whether its bounded mailbox makes senders wait (overflow `'wait'`). */
  readonly waits: boolean;
  #host: RefHost | undefined;
  /** The definition's handlers, when this thread knows it (refs from spawn, ctx.spawn, ctx.self):
   * a message type it does not handle is refused at the call site. Not carried across threads. */
  #handlers: ReadonlyMap<string, unknown> | undefined;
  #def: AnyActorDefinition | undefined;

  static {
    typeRef = (ref, def) => {
      ref.#def = def;
      ref.#handlers = handlerMapOf(def);
      return ref;
    };
  }

  /** @internal Refs come from `spawn`, `lookup`, `ctx.self` and messages; not from user code. */
  constructor(system: number, process: number, id: number, bounded: boolean, waits = false) {
    // As the wire format carries a ref: system an f64, process and id u32 (ids start at 1). A
    // forged ref with other values would reach the native transport as a malformed batch.
    if (
      typeof system !== 'number' ||
      !Number.isFinite(system) ||
      !Number.isInteger(process) ||
      process < 0 ||
      process > 0xffff_ffff ||
      !Number.isInteger(id) ||
      id < 1 ||
      id > 0xffff_ffff
    ) {
      throw new InvalidArgumentError(`not an actor ref: system ${describe(system)}, process ${describe(process)}, id ${describe(id)}`);
    }
    this.system = system;
    this.process = process;
    this.id = id;
    this.bounded = bounded;
    this.waits = waits;
  }

  #resolve(): RefHost {
    if (this.#host !== undefined) return this.#host;
    if (resolveHost === undefined) throw new WeftError('WEFT_INVALID_ARG', 'no actor runtime is loaded on this thread');
    this.#host = resolveHost(this.system, this.process);
    return this.#host;
  }

  /**
   * Sends a message; fire and forget. Returns a Promise only when the mailbox is bounded with
   * overflow `'wait'` and full: it resolves once the message is in (`await` it for backpressure).
   * Throws `WEFT_MAILBOX_FULL` when a `'reject'` mailbox is full, and `WEFT_INVALID_ARG` when
   * this ref knows the actor's definition (refs from `spawn`, `ctx.spawn`, `ctx.self`) and it has
   * no handler for the message's type. Through other refs (untyped, or ones that travelled to
   * another thread) such a message is a dead letter (`reason: 'unhandled'`).
   */
  tell(msg: ActorMessage<D>): void | Promise<void> {
    const h = this.#handlers;
    if (h !== undefined && !h.has(messageType(msg) as string)) throw this.#unhandled(msg);
    return this.#resolve().tell(this as unknown as ActorRef, msg);
  }

  #unhandled(msg: unknown): InvalidArgumentError {
    return new InvalidArgumentError(unhandledText(this.id, this.#def!, msg));
  }

  /**
   * Sends a message and resolves with the handler's reply. Rejects with `WEFT_ASK_TIMEOUT` after
   * `options.timeout` ms, `WEFT_ABORTED` when `options.signal` aborts, `WEFT_ACTOR_STOPPED` if the
   * actor is gone, `WEFT_MAILBOX_FULL` if its bounded mailbox refused or dropped the message,
   * `WEFT_WORKER_EXIT` if its thread died before replying, `WEFT_INVALID_ARG` if the actor has
   * no handler for the message's type, or with the error its handler threw.
   */
  ask<K extends MessageType<D>>(msg: AskMessage<D, K>, options?: AskOptions): Promise<AskReply<D, K>> {
    const h = this.#handlers;
    if (h !== undefined) {
      let type: unknown;
      try {
        type = messageType(msg);
      } catch (err) {
        return Promise.reject(err);
      }
      if (!h.has(type as string)) return Promise.reject(this.#unhandled(msg));
    }
    return this.#resolve().ask(this as unknown as ActorRef, msg, options) as Promise<AskReply<D, K>>;
  }

  /** Whether `other` addresses the same actor. */
  equals(other: ActorRef | undefined | null): boolean {
    try {
      return other instanceof ActorRef && other.id === this.id && other.system === this.system && other.process === this.process;
    } catch {
      // A Proxy whose getPrototypeOf trap throws is no ref.
      return false;
    }
  }

  toJSON(): ActorRefJSON {
    return { kind: 'weft:ActorRef', system: this.system, process: this.process, id: this.id, bounded: this.bounded, waits: this.waits };
  }

  toString(): string {
    return `ActorRef(${this.system}:${this.id})`;
  }

  /** A ref from its `toJSON()` form (for refs that travelled as plain data). */
  static fromJSON<D = AnyActorDefinition>(json: ActorRefJSON): ActorRef<D> {
    const bad = (why: string, cause?: unknown): WeftError =>
      new WeftError(
        'WEFT_INVALID_ARG',
        `not an ActorRef JSON form (${why}): ${describe(json)}`,
        cause === undefined ? undefined : { cause },
      );
    if (json === null || typeof json !== 'object') throw bad('not an object');
    let kind: unknown, system: unknown, process: unknown, id: unknown, bounded: unknown, waits: unknown;
    try {
      ({ kind, system, process, id, bounded, waits } = json as unknown as Record<string, unknown>);
    } catch (err) {
      throw bad('reading it threw', err);
    }
    if (kind !== 'weft:ActorRef') throw bad('kind is not "weft:ActorRef"');
    if (typeof bounded !== 'boolean') throw bad('bounded must be a boolean');
    if (waits !== undefined && typeof waits !== 'boolean') throw bad('waits must be a boolean');
    // The constructor checks system, process and id.
    return new ActorRef<D>(system as number, process as number, id as number, bounded, waits === true);
  }
}

/** A message's `type` (undefined when it has none); a getter or Proxy trap that throws: WEFT_INVALID_ARG. */
function messageType(msg: unknown): unknown {
  if (msg === null || typeof msg !== 'object') return undefined;
  try {
    return (msg as { type?: unknown }).type;
  } catch (err) {
    throw new InvalidArgumentError(`reading the message's type threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
}

registerHandleCodec({
  subTag: HANDLE_ACTOR_REF,
  proto: ActorRef.prototype,
  write(w: WireWriter, v: object): void {
    const ref = v as ActorRef;
    w.f64(ref.system);
    w.u32(ref.process);
    w.u32(ref.id);
    w.u8((ref.bounded ? FLAG_BOUNDED : 0) | (ref.waits ? FLAG_WAITS : 0));
  },
  read(r: WireReader): unknown {
    const system = r.f64();
    const process = r.u32();
    const id = r.u32();
    const flags = r.u8();
    return new ActorRef(system, process, id, (flags & FLAG_BOUNDED) !== 0, (flags & FLAG_WAITS) !== 0);
  },
  skip(r: WireReader): void {
    r.skip(17);
  },
});
