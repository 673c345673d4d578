/**
 * The actor record of a host. Owns the data the other host files act on, and no behaviour:
 *
 * - `LocalActor`: one actor living on this thread: its definition and handlers, its state, its
 *   JavaScript queue, its children, keyed timers and supervision settings, and its lifecycle
 *   status (STARTING, RUNNING, RESTARTING, STOPPED);
 * - what its queue holds: a tell as the message itself, an ask or a stop as an `Item`;
 * - `StartSpec`, what a START record carries (how the actor is started on its thread, and started
 *   again elsewhere when that thread dies), with its `Bound` and `Supervision` settings.
 */
import type { HandlerFn } from '../define.js';
import { handlerMapOf } from '../define.js';
import type { ActorRef } from '../ref.js';
import type { ActorContext, ActorDefinition, Overflow, SupervisionOptions } from '../types.js';

/** A definition as the runtime sees it. */
export type RuntimeDef = ActorDefinition<unknown, unknown, Record<string, unknown>>;

export const KIND_ASK = 1;
export const KIND_STOP = 2;

/**
 * An ask or a stop waiting in an actor's JavaScript queue. A tell waits there as the message
 * itself (no wrapper: the common case allocates nothing).
 */
export class Item {
  constructor(
    readonly kind: number,
    readonly msg: unknown,
    /** Asks: where the reply goes (-1: a same-thread ask, settled directly) and its id. */
    readonly replyHost: number,
    readonly askId: number,
  ) {}
}
/** A queued message: an `Item`, or a tell's message. */
export type Entry = unknown;
export const STOP_ITEM = new Item(KIND_STOP, undefined, -1, 0);

export function msgOf(e: Entry): unknown {
  return e instanceof Item ? e.msg : e;
}

/** Puts `items` in front of what is still queued for `a` (unstashing), in their order. */
export function prependQueue(a: LocalActor, items: Entry[]): void {
  a.queue = items.concat(a.queue.slice(a.head));
  a.head = 0;
}

export const STARTING = 0;
export const RUNNING = 1;
export const RESTARTING = 2;
export const STOPPED = 3;

/** Supervision settings with their defaults applied (see spawn.ts supervisionOf). */
export interface Supervision {
  strategy: 'restart' | 'stop' | 'resume' | 'escalate';
  maxRestarts: number;
  withinMs: number;
  minMs: number;
  maxMs: number;
  jitter: number;
  children: 'one-for-one' | 'all-for-one';
}

/** A bounded mailbox (see spawn.ts boundOf). */
export interface Bound {
  capacity: number;
  overflow: Overflow;
}

/** What a START record carries. */
export interface StartSpec {
  key: string;
  /** The handler names, sorted: the fallback identity of the definition (see definitionByKey). */
  shape: string;
  arg: unknown;
  name: string | null;
  supervision: SupervisionOptions | null;
  parent: ActorRef | null;
  /** The parent's children strategy. */
  siblings: 'one-for-one' | 'all-for-one';
  bound: Bound | null;
  /** Where the definition was made (`file:line`), for the error when a worker lacks it. */
  at: string | null;
}

/** A sender waiting for room in a same-thread actor's JavaScript queue (bounded `wait`). */
export interface RoomWaiter {
  item: Entry;
  resolve: () => void;
}

/** A receive timeout (`ctx.setReceiveTimeout`): its message after `ms` of silence. */
export interface ReceiveTimeout {
  ms: number;
  msg: unknown;
  timer: NodeJS.Timeout;
}

/** What a `ctx.replyLater()` handle of this actor needs when the actor stops. */
export interface Abandonable {
  abandon(error: unknown): void;
}

export class LocalActor {
  readonly id: number;
  readonly ref: ActorRef;
  readonly def: RuntimeDef;
  /** The definition's handlers. */
  readonly initialHandlers: Map<string, HandlerFn>;
  /** The handlers of the current behaviour (`ctx.become`). */
  handlers: Map<string, HandlerFn>;
  readonly spec: StartSpec;
  readonly sup: Supervision;
  /** Moved here after its thread died: senders on this thread go through the mailbox too, so
   * their messages stay behind the ones that were already queued there. */
  readonly viaMailbox: boolean;
  state: unknown = undefined;
  status = STARTING;
  queue: Entry[] = [];
  head = 0;
  busy = false;
  /** The message whose async handler is running (while `busy`): its ask fails if the actor ends. */
  current: Entry = undefined;
  /** The transport handed us a batch of its messages that we have not released yet. */
  held = false;
  stopAfter = false;
  restarts: number[] = [];
  children = new Map<number, ActorRef>();
  timers = new Map<string, NodeJS.Timeout>();
  /** Senders waiting for room in the JavaScript queue (bounded `wait`, same-thread senders). */
  roomWaiters: RoomWaiter[] = [];
  ctx!: ActorContext;
  /** Bumped on every restart: async work of an older incarnation is ignored. */
  incarnation = 0;
  /** The message whose handler runs synchronously now (for `ctx.replyLater`/`ctx.stash`). */
  handling: Entry = undefined;
  /** The current message's reply handle (`ctx.replyLater`), or that it was stashed. */
  taken: Abandonable | 'stashed' | undefined = undefined;
  /** Unanswered `replyLater()` handles of asks: rejected when the actor stops. */
  deferred: Set<Abandonable> | undefined = undefined;
  /** Messages put aside by `ctx.stash()`, oldest first. */
  stash: Entry[] | undefined = undefined;
  receiveTimeout: ReceiveTimeout | undefined = undefined;
  /** When it last started handling a message (kept only while a receive timeout is set). */
  lastActive = 0;
  /** Handled messages not yet added to the runtime's count (`processed`). */
  uncounted = 0;

  constructor(id: number, ref: ActorRef, def: RuntimeDef, spec: StartSpec, sup: Supervision, viaMailbox: boolean) {
    this.id = id;
    this.ref = ref;
    this.def = def;
    this.initialHandlers = handlerMapOf(def);
    this.handlers = this.initialHandlers;
    this.spec = spec;
    this.viaMailbox = viaMailbox;
    this.sup = sup;
  }

  get depth(): number {
    return this.queue.length - this.head;
  }
}
