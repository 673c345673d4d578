/**
 * `RemoteRef<D>`: an actor of the cluster, addressed by name (wherever its placement is) or, for
 * an unnamed actor whose ref crossed the network, by its node and id. Typed like a local
 * `ActorRef`: `tell` and `ask` take the definition's messages and `ask` resolves with the
 * handler's reply type.
 */
import { InvalidArgumentError } from '../errors.js';
import { ActorRef, type AnyActorDefinition, type ActorMessage, type AskOptions } from '../actor/index.js';
import type { AskMessage, AskReply, MessageType } from '../actor/types.js';
import { HANDLE_REMOTE_REF, registerHandleCodec, type WireReader, type WireWriter } from '../internal/wire.js';
import { isToken } from './subjects.js';

/** Where a remote actor is: its name (any node), or its node and id. */
export type RemoteAddress =
  | { readonly name: string; readonly node?: undefined; readonly id?: undefined }
  | { readonly node: string; readonly id: number; readonly name?: undefined };

/** What sends for remote refs: the cluster node of this thread, or its gateway from another thread. */
export interface RemoteSender {
  tell(to: RemoteAddress, msg: unknown): void;
  ask(to: RemoteAddress, msg: unknown, options: AskOptions | undefined): Promise<unknown>;
  /** The node's gateway actor (on its main thread): how the ref works on threads without a connection. */
  readonly gateway: ActorRef | undefined;
}

/** The node that sends for refs decoded on this thread without one (the last connected). */
let threadSender: RemoteSender | undefined;

/** Sets (or clears, with undefined) the sender of refs that arrive on this thread by themselves. */
export function setThreadSender(sender: RemoteSender | undefined, only?: RemoteSender): void {
  if (sender !== undefined || threadSender === only) threadSender = sender;
}

const ADDR_NAME = 1;
const ADDR_ID = 2;

/** Writes an address (the body of a HANDLE_REMOTE_REF). */
export function writeAddress(w: WireWriter, a: RemoteAddress): void {
  if (a.name !== undefined) {
    w.u8(ADDR_NAME);
    w.string(a.name);
  } else {
    w.u8(ADDR_ID);
    w.string(a.node);
    w.u32(a.id);
  }
}

/** Reads an address; anything malformed throws WEFT_INVALID_ARG (the bytes may come from a peer). */
export function readAddress(r: WireReader): RemoteAddress {
  const form = r.u8();
  if (form === ADDR_NAME) {
    const name = r.string();
    if (!isToken(name))
      throw new InvalidArgumentError(`cluster: a remote ref with a malformed name ${JSON.stringify(String(name).slice(0, 80))}`);
    return { name };
  }
  if (form === ADDR_ID) {
    const node = r.string();
    const id = r.u32();
    if (!isToken(node) || id < 1)
      throw new InvalidArgumentError(`cluster: a remote ref with a malformed address ${JSON.stringify(String(node).slice(0, 80))}/${id}`);
    return { node, id };
  }
  throw new InvalidArgumentError(`cluster: a remote ref of unknown form ${form}`);
}

// D is covariant as ActorRef's (see there): TypeScript cannot verify it through the generic `ask`.
// @ts-expect-error TS2636: see above
export class RemoteRef<out D = AnyActorDefinition> {
  readonly #to: RemoteAddress;
  readonly #sender: RemoteSender | undefined;
  declare readonly __def?: D;

  /** @internal Made by `node.ref(name)`, `node.spawn`, or a message that brought it. */
  constructor(to: RemoteAddress, sender: RemoteSender | undefined) {
    this.#to = to;
    this.#sender = sender;
  }

  /** The actor's name, for a named actor. */
  get name(): string | undefined {
    return this.#to.name;
  }

  /** The node and id of an unnamed actor. */
  get address(): RemoteAddress {
    return this.#to;
  }

  /** @internal The sender this ref uses (its node, or a gateway). */
  get sender(): RemoteSender | undefined {
    return this.#sender ?? threadSender;
  }

  #via(): RemoteSender {
    const s = this.#sender ?? threadSender;
    if (s === undefined) {
      throw new InvalidArgumentError(
        `${this.toString()} reached a thread without a cluster connection: send to it from the thread that called connect()`,
      );
    }
    return s;
  }

  /**
   * Sends a message, at most once; order is kept per (sender node, target). Throws
   * `WEFT_MESSAGE_TOO_LARGE` (synchronously) over the servers' `max_payload`, `WEFT_DATA_CLONE`
   * naming the path for a part that cannot cross machines, `WEFT_CLOSED` after `drain()`.
   */
  tell(msg: ActorMessage<D>): void {
    this.#via().tell(this.#to, msg);
  }

  /**
   * Sends a message and resolves with the handler's reply. Settles exactly once: the reply, the
   * handler's error (class, message, code, cause), `WEFT_ASK_TIMEOUT`, `WEFT_NO_ACTOR` (no node
   * hosts it until the deadline), `WEFT_DISCONNECTED` (this node lost its servers; the handler may
   * or may not have run), `WEFT_ABORTED`; `WEFT_MESSAGE_TOO_LARGE` and `WEFT_DATA_CLONE` as `tell`.
   */
  ask<K extends MessageType<D>>(msg: AskMessage<D, K>, options?: AskOptions): Promise<AskReply<D, K>> {
    let via: RemoteSender;
    try {
      via = this.#via();
    } catch (err) {
      return Promise.reject(err);
    }
    return via.ask(this.#to, msg, options) as Promise<AskReply<D, K>>;
  }

  /** Whether `other` addresses the same actor. */
  equals(other: unknown): boolean {
    if (!(other instanceof RemoteRef)) return false;
    const a = this.#to;
    const b = other.#to;
    return a.name !== undefined ? a.name === b.name : a.node === b.node && a.id === b.id;
  }

  toString(): string {
    const a = this.#to;
    return a.name !== undefined ? `RemoteRef(${a.name})` : `RemoteRef(${a.node}/${a.id})`;
  }
}

/** A RemoteRef read on another thread: it sends through the node's gateway (set by the gateway module). */
let viaGateway: ((gateway: ActorRef) => RemoteSender) | undefined;

/** @internal How refs read on other threads reach their node (gateway.ts registers it). */
export function setGatewaySender(make: (gateway: ActorRef) => RemoteSender): void {
  viaGateway = make;
}

// Between threads of one process a RemoteRef crosses as its address and its node's gateway (an
// actor on the node's main thread): on a thread without a connection it sends through that.
registerHandleCodec({
  subTag: HANDLE_REMOTE_REF,
  proto: RemoteRef.prototype,
  write(w: WireWriter, v: object): void {
    const ref = v as RemoteRef;
    writeAddress(w, ref.address);
    const g = ref.sender?.gateway;
    if (g === undefined) {
      w.u8(0);
      return;
    }
    w.u8(1);
    w.f64(g.system);
    w.u32(g.process);
    w.u32(g.id);
  },
  read(r: WireReader): unknown {
    const to = readAddress(r);
    if (r.u8() === 0 || viaGateway === undefined) return new RemoteRef(to, undefined);
    const system = r.f64();
    const process = r.u32();
    const id = r.u32();
    // On the node's own thread its node sends; elsewhere the gateway does.
    return new RemoteRef(to, threadSender ?? viaGateway(new ActorRef(system, process, id, false)));
  },
  skip(r: WireReader): void {
    readAddress(r);
    if (r.u8() !== 0) r.skip(16);
  },
});
