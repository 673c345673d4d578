/**
 * `ActorHost`: the actor runtime of one thread (the main thread, or one pool worker) for one actor
 * system. This file owns the actor table (the actors living on this thread), same-thread delivery
 * into their JavaScript queues, "Running" (each actor handles one message at a time; a handler's
 * result answers its ask, a failure goes to supervision) and the pump (a turn: run what is
 * runnable, then one `exchange` with the local runtime sends the batch, releases the actors
 * whose queues emptied and takes what arrived).
 *
 * The rest is in the files next to it, each given what it uses of the host as an interface:
 * spawn.ts (Spawning), outbox.ts (Sending to other threads), inbox.ts (Receiving), supervisor.ts
 * (Supervision), asks.ts (Asks), context.ts (an actor's `ctx`), registry.ts (the hosts of this
 * thread). Native calls go through the two interfaces of ../transport.ts: `LocalRuntime` (actors,
 * mailboxes, this host's turn) and `ActorTransport` (delivery).
 */
import { InvalidArgumentError, WeftError } from '../../errors.js';
import { WireReader, WireWriter } from '../../internal/wire.js';
import { microtask } from '../../internal/promise.js';
import { unhandledText } from '../define.js';
import * as protocol from '../protocol.js';
import { ActorRef, type RefHost } from '../ref.js';
import type { ActorTransport, LocalRuntime } from '../transport.js';
import type { AnyActorDefinition, AskOptions, SpawnOptions } from '../types.js';
import * as record from './actor.js';
import type { Abandonable, Entry, LocalActor } from './actor.js';
import { Asks, DEFAULT_ASK_TIMEOUT, type AskDelivery } from './asks.js';
import type { ContextHost } from './context.js';
import { Inbox, foundDead, type InboxHost } from './inbox.js';
import * as messages from './messages.js';
import { MAX_WAITING_FOR_ROOM, Outbox, type SendTurns, waitingFull } from './outbox.js';
// Installs the refs' host resolver (hostFor) wherever a host can exist.
import './registry.js';
import { Spawner, StartFailures, type SpawnHost } from './spawn.js';
import { Supervisor, type SupervisedHost } from './supervisor.js';

// Imported values read once into module constants: under tsx (esbuild's CommonJS output) each
// read of an imported binding is a getter call, too slow for the per-message paths.
const { DELIVERY_UNHANDLED, OVERFLOW_CODES, TERM_KILLED, TERM_STOPPED } = protocol;
const { Item, KIND_ASK, KIND_STOP, RUNNING, STOP_ITEM, STOPPED, msgOf, prependQueue } = record;
const { describeType, isThenable, typeOf } = messages;

/** Why `a` did not handle `msg`: its definition, or its behaviour now (`ctx.become`), lacks the type. */
function unhandledNow(a: LocalActor, msg: unknown): string {
  const type = typeOf(msg);
  if (a.handlers === a.initialHandlers || typeof type !== 'string' || !a.initialHandlers.has(type)) return unhandledText(a.id, a.def, msg);
  const now = [...a.handlers.keys()].map((k) => JSON.stringify(k)).join(', ') || '(none)';
  return `actor ${a.id} does not handle message type ${JSON.stringify(type)} in its current behaviour (ctx.become); it handles ${now} now (stash() messages to handle them later)`;
}

/** Messages taken per exchange, and per actor per exchange (fairness between actors). */
const DRAIN_MAX = 4096;
const DRAIN_PER_ACTOR = 256;
/** The longest one pump turn runs before the thread's event loop gets a turn. */
const PUMP_BUDGET_MS = 4;
const EMPTY_U32 = new Uint32Array(0);

/**
 * Reused memory for the small `Uint32Array`s a pump turn hands the runtime (released actors,
 * processed counts): views of every length over one buffer, made once. Allocating a typed array
 * per turn cost ~10 % of a worker-to-worker ping-pong (a turn per message); the runtime reads
 * the view during the call only.
 */
class U32Scratch {
  readonly #buf: Uint32Array;
  readonly #views: Uint32Array[];

  constructor(size: number) {
    this.#buf = new Uint32Array(size);
    this.#views = Array.from({ length: size + 1 }, (_, n) => this.#buf.subarray(0, n));
  }

  /** A view of `n` numbers to fill (a new array when `n` is over the scratch's size). */
  take(n: number): Uint32Array {
    return n < this.#views.length ? this.#views[n]! : new Uint32Array(n);
  }
}

/** Events the main thread's system listens to. */
export interface HostEvents {
  spawned(id: number, host: number, parent: number, start: Uint8Array): void;
  terminated(id: number, reason: number, error: unknown): void;
}

export interface HostOptions {
  system: number;
  process: number;
  /** Delivery to actors on other threads. */
  transport: ActorTransport;
  /** The local runtime: actors, names, mailboxes, this host's turn. */
  runtime: LocalRuntime;
  /** How many pool workers the system has (hosts 1..workers). */
  workers: number;
  askTimeout?: number;
  /** Main thread only: lifecycle events of actors, wherever they run. */
  events?: HostEvents;
  /** Main thread only: picks a worker for `on: 'worker'`. */
  pickWorker?: () => number;
}

export class ActorHost implements RefHost, AskDelivery, SendTurns, ContextHost, SpawnHost, SupervisedHost, InboxHost {
  readonly system: number;
  readonly process: number;
  readonly host: number;
  /** The actor table: the actors living on this thread, by id. */
  readonly actors = new Map<number, LocalActor>();
  /** Async handlers, inits, hooks and backoff delays running now (a worker does not park natively while > 0). */
  busy = 0;
  /** Keyed timers pending on this thread's actors (kept as a count: the worker asks every turn). */
  timers = 0;
  /** More arrived than one pump turn handles: a turn is scheduled (workers must not park). */
  moreWork = false;
  /** Dead letters of same-thread deliveries (the runtime counts the others). */
  localDeadLetters = 0;
  readonly #runtime: LocalRuntime;
  readonly #failures = new StartFailures();
  readonly #outbox: Outbox;
  readonly #asks: Asks;
  readonly #supervisor: Supervisor;
  readonly #spawner: Spawner;
  readonly #inbox: Inbox;
  /** Actors with messages to handle now. */
  readonly #runnable: LocalActor[] = [];
  /** Actors whose batch from the runtime is handled: released in the next exchange. */
  readonly #released: number[] = [];
  /** Actors that handled messages not yet counted in the runtime (`countProcessed`). */
  readonly #uncounted: LocalActor[] = [];
  readonly #releasedScratch = new U32Scratch(256);
  readonly #pairsScratch = new U32Scratch(512);
  #pumping = false;
  #scheduled = false;
  #runScheduled = false;
  #waitScheduled = false;
  #closed = false;

  constructor(o: HostOptions) {
    this.system = o.system;
    this.process = o.process;
    this.host = o.transport.host;
    const runtime = o.runtime;
    this.#runtime = runtime;
    const { events, workers, pickWorker } = o;
    const failures = this.#failures;
    const outbox = (this.#outbox = new Outbox(o.transport, this));
    const asks = (this.#asks = new Asks(this, failures, o.askTimeout ?? DEFAULT_ASK_TIMEOUT));
    const supervisor = (this.#supervisor = new Supervisor(this, { runtime, outbox, failures, events }));
    const spawner = (this.#spawner = new Spawner(this, { runtime, outbox, supervisor, workers, events, pickWorker }));
    this.#inbox = new Inbox(this, {
      actors: this.actors,
      runnable: this.#runnable,
      released: this.#released,
      runtime,
      spawner,
      supervisor,
      asks,
      outbox,
      failures,
      events,
    });
    runtime.onWake(() => this.pump());
  }

  get actorCount(): number {
    return this.actors.size;
  }

  get pendingAsks(): number {
    return this.#asks.size;
  }

  /** Timers of this thread's actors are pending (a worker then waits in its event loop). */
  get hasTimers(): boolean {
    return this.timers > 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A pump turn is running. */
  get pumping(): boolean {
    return this.#pumping;
  }

  /** The depth of a same-thread actor's JavaScript queue (for stats). */
  localDepth(id: number): number | undefined {
    return this.actors.get(id)?.depth;
  }

  /** Spawns an actor (from user code on this thread, or from `ctx.spawn` with a parent). */
  spawn(def: AnyActorDefinition, arg: unknown, options: SpawnOptions | undefined, parent: LocalActor | undefined): ActorRef {
    return this.#spawner.spawn(def, arg, options, parent);
  }

  /** A ref to the running actor registered under `name`. */
  lookup(name: string): ActorRef | undefined {
    if (typeof name !== 'string') throw new InvalidArgumentError('lookup expects a name');
    const id = this.#runtime.lookup(name);
    if (id === null || id === undefined) return undefined;
    return this.refOf(id);
  }

  /** A ref to actor `id` (undefined if it is not running). */
  refOf(id: number): ActorRef | undefined {
    const overflow = this.#runtime.mailboxOf(id);
    if (overflow === -2) return undefined;
    return new ActorRef(this.system, this.process, id, overflow >= 0, overflow === OVERFLOW_CODES.wait);
  }

  tell(ref: ActorRef, msg: unknown): void | Promise<void> {
    if (this.#closed) throw new WeftError('WEFT_CLOSED', 'the actor system is shut down');
    if (this.#failures.size > 0) {
      const failed = this.#failures.errorFor(ref.id);
      if (failed !== undefined) throw failed;
    }
    const local = this.actors.get(ref.id);
    if (local !== undefined && !local.viaMailbox) return this.enqueue(local, msg, false);
    return this.#outbox.tell(ref, msg);
  }

  ask(ref: ActorRef, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    if (this.#closed) return Promise.reject(new WeftError('WEFT_CLOSED', 'the actor system is shut down'));
    return this.#asks.ask(ref, msg, options);
  }

  /** Asks.ask hands ask `id` here: into a same-thread actor's queue, or out (returns true). */
  deliverAsk(ref: ActorRef, id: number, msg: unknown): boolean {
    const local = this.actors.get(ref.id);
    if (local !== undefined && !local.viaMailbox) {
      const r = this.enqueue(local, new Item(KIND_ASK, msg, -1, id), false);
      if (r !== undefined) void r.catch(() => {});
      return false;
    }
    this.#outbox.ask(ref, id, msg);
    return true;
  }

  /** Delivers to a same-thread actor, applying its mailbox bound to the JavaScript queue. */
  enqueue(a: LocalActor, item: Entry, internal: boolean): void | Promise<void> {
    if (a.status === STOPPED) {
      this.deadLetter(item, 'stopped');
      return;
    }
    const bound = a.spec.bound;
    if (!internal && bound !== null && a.depth >= bound.capacity) {
      switch (bound.overflow) {
        case 'reject': {
          const err = new WeftError('WEFT_MAILBOX_FULL', `the mailbox of actor ${a.id} is full (message ${describeType(msgOf(item))})`);
          if (item instanceof Item && item.kind === KIND_ASK) {
            this.#asks.settle(item.askId, false, err);
            return;
          }
          throw err;
        }
        case 'drop-newest':
          this.deadLetter(item, 'full');
          return;
        case 'drop-oldest': {
          const old = a.queue[a.head]!;
          a.queue[a.head++] = undefined;
          this.deadLetter(old, 'full');
          break;
        }
        case 'wait': {
          if (a.roomWaiters.length >= MAX_WAITING_FOR_ROOM) {
            const err = waitingFull(a.id, a.roomWaiters.length);
            if (item instanceof Item && item.kind === KIND_ASK) {
              this.#asks.settle(item.askId, false, err);
              return;
            }
            throw err;
          }
          return new Promise<void>((resolve) => a.roomWaiters.push({ item, resolve }));
        }
      }
    }
    a.queue.push(item);
    if (a.depth === 1 && !a.busy && a.status === RUNNING) {
      this.#runnable.push(a);
      this.#scheduleRun();
    }
  }

  /** A same-thread message that will not be handled: counted, and its ask fails. */
  deadLetter(item: Entry, why: 'stopped' | 'full'): void {
    this.localDeadLetters++;
    if (item instanceof Item && item.kind === KIND_ASK) {
      const err =
        why === 'stopped'
          ? new WeftError('WEFT_ACTOR_STOPPED', `the actor has stopped (message ${describeType(item.msg)})`)
          : new WeftError('WEFT_MAILBOX_FULL', `the mailbox was full and dropped this message (${describeType(item.msg)})`);
      this.reply(item, false, err);
    }
  }

  /** A system message to an actor (here or elsewhere); `ordered` sends it in the user lane. */
  systemMessage(target: number, op: number, ordered: boolean, body?: (w: WireWriter) => void): void {
    const local = this.actors.get(target);
    if (local === undefined) return this.#outbox.system(target, op, ordered, body);
    if (ordered) {
      this.enqueue(local, STOP_ITEM, true);
      return;
    }
    const w = new WireWriter(64);
    body?.(w);
    this.#supervisor.systemOp(local, op, new WireReader(w.view()));
  }

  /** Sends the outgoing batch now. */
  flush(): void {
    this.#outbox.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Running

  schedulePump(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    microtask(this.#scheduledTurn);
  }

  /** A turn asked for by `schedulePump`, unless one ran meanwhile (a worker's turn before it takes). */
  readonly #scheduledTurn = (): void => {
    this.#scheduled = false;
    this.settle();
  };

  #scheduleRun(): void {
    if (this.#runScheduled) return;
    this.#runScheduled = true;
    microtask(this.#runTurn);
  }

  readonly #runTurn = (): void => {
    this.#runScheduled = false;
    this.#runAll();
    if (this.#outbox.pending > 0 || this.#released.length > 0) this.pump();
    else if (this.host !== 0) this.countProcessed(); // the main thread counts when stats() asks
  };

  #runAll(): void {
    const list = this.#runnable;
    for (let i = 0; i < list.length; i++) this.run(list[i]!);
    list.length = 0;
  }

  /** Runs a pump turn now if anything waits to be sent, released or run (before a worker parks). */
  settle(): void {
    if (this.#outbox.pending > 0 || this.#released.length > 0 || this.#runnable.length > 0) this.pump();
  }

  /**
   * Sends what is batched, releases what is done, takes and runs what arrived; until idle, or
   * for at most PUMP_BUDGET_MS, after which it gives the event loop a turn and comes back.
   *
   * The main thread with asks in flight to other threads waits for their replies a while before
   * it sleeps, rather than be woken for each batch (waking the event loop costs tens of
   * microseconds): a turn that ends with such asks pending schedules a `waitTurn`
   * (setImmediate, so it runs only once the microtasks and I/O callbacks queued now have run:
   * the continuations of the asks it settled, which send the next asks), whose exchange spins,
   * bounded and adaptive, in native code (weft-core's `ActorSystem::spin_wait`), unless the turn
   * was such a wait and nothing came (a wake-up then announces the replies).
   */
  pump(wait = false): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.moreWork = false;
    const outbox = this.#outbox;
    const start = performance.now();
    let took = false;
    let more = false;
    let waitedInVain = false;
    try {
      for (;;) {
        if (performance.now() - start > PUMP_BUDGET_MS) {
          outbox.flush();
          this.moreWork = true;
          setImmediate(() => this.pump());
          break;
        }
        this.#runAll();
        const rel = this.#released;
        // After a take that held less than the runtime's limit, it is all there was: what came
        // after the take's re-arm wakes this host again. Another exchange is needed only to
        // send, release or count something, or when the take was cut at the limit.
        if (took && !more && outbox.pending === 0 && rel.length === 0 && this.#uncounted.length === 0 && this.#runnable.length === 0) break;
        let released: Uint32Array = EMPTY_U32;
        if (rel.length > 0) {
          released = this.#releasedScratch.take(rel.length);
          for (let i = 0; i < rel.length; i++) released[i] = rel[i]!;
          rel.length = 0;
        }
        // What this turn sends, the counts of what it handled, and what it takes: one native call.
        const spin = wait && !took && this.#runnable.length === 0 && this.#asks.remote > 0;
        let buf: Uint8Array | null;
        try {
          buf = this.#runtime.exchange(outbox.batch(), released, this.#processedPairs(), DRAIN_MAX, DRAIN_PER_ACTOR, spin);
        } finally {
          outbox.clear();
        }
        if (buf === null) {
          waitedInVain = spin;
          if (outbox.pending === 0 && rel.length === 0 && this.#runnable.length === 0) break;
          continue;
        }
        took = true;
        more = this.#inbox.handle(buf) >= DRAIN_MAX;
      }
    } finally {
      this.#pumping = false;
    }
    // Replies still due from other threads: wait for them once the thread is otherwise idle,
    // unless this turn just did and none came (then a wake-up announces them).
    if (this.host === 0 && !waitedInVain && this.#asks.remote > 0) this.#scheduleWait();
  }

  #scheduleWait(): void {
    if (this.#waitScheduled) return;
    this.#waitScheduled = true;
    setImmediate(this.#waitTurn);
  }

  /** A pump turn that waits for replies (see `pump`). */
  readonly #waitTurn = (): void => {
    this.#waitScheduled = false;
    if (this.#asks.remote > 0 && !this.#closed) this.pump(true);
  };

  /** Handles queued messages of `a` until it is empty, busy (async handler) or not running. */
  run(a: LocalActor): void {
    while (a.head < a.queue.length) {
      if (a.busy || a.status !== RUNNING) return;
      const item = a.queue[a.head]!;
      a.queue[a.head++] = undefined;
      if (a.roomWaiters.length > 0) {
        const w = a.roomWaiters.shift()!;
        a.queue.push(w.item);
        w.resolve();
      }
      this.#dispatch(a, item);
    }
    if (a.busy || a.status !== RUNNING) return;
    a.queue.length = 0;
    a.head = 0;
    if (a.held) {
      a.held = false;
      this.#released.push(a.id);
      if (!this.#pumping) this.schedulePump();
    }
  }

  #dispatch(a: LocalActor, item: Entry): void {
    let msg: unknown = item;
    if (item instanceof Item) {
      if (item.kind === KIND_STOP) {
        this.#supervisor.terminate(a, TERM_STOPPED, undefined);
        return;
      }
      msg = item.msg;
    }
    const type = typeOf(msg);
    const handler = typeof type === 'string' ? a.handlers.get(type) : undefined;
    if (handler === undefined) {
      // A sender that knew the definition refused it already; this one did not (an untyped ref,
      // or one that travelled here), or the current behaviour (`ctx.become`) lacks the type: a
      // dead letter, and its ask fails.
      foundDead(this.#runtime, a.id, DELIVERY_UNHANDLED, msg);
      this.reply(item, false, new InvalidArgumentError(unhandledNow(a, msg)));
      return;
    }
    if (a.uncounted++ === 0) this.#uncounted.push(a);
    if (a.receiveTimeout !== undefined) a.lastActive = performance.now();
    let result: unknown;
    let thenable: boolean;
    a.handling = item;
    a.taken = undefined;
    try {
      result = handler(a.state, msg, a.ctx);
      thenable = isThenable(result);
    } catch (err) {
      a.handling = undefined;
      const taken = a.taken;
      a.taken = undefined;
      this.#failedReply(item, taken, err);
      this.#supervisor.failed(a, err);
      return;
    }
    a.handling = undefined;
    if (thenable) {
      a.busy = true;
      a.current = item;
      this.busy++;
      const incarnation = a.incarnation;
      // What ctx.replyLater()/stash() did for this message (they may run after an await).
      const takenOf = (): Abandonable | 'stashed' | undefined => {
        if (a.current !== item) return undefined;
        const taken = a.taken;
        a.current = undefined;
        a.taken = undefined;
        return taken;
      };
      Promise.resolve(result).then(
        (v) => {
          this.busy--;
          if (takenOf() === undefined) this.reply(item, true, v);
          if (a.incarnation !== incarnation) return;
          a.busy = false;
          this.#after(a);
        },
        (err: unknown) => {
          this.busy--;
          this.#failedReply(item, takenOf(), err);
          if (a.incarnation !== incarnation) return;
          a.busy = false;
          this.#supervisor.failed(a, err);
          this.#after(a);
        },
      );
      return;
    }
    if (a.taken === undefined) this.reply(item, true, result);
    else a.taken = undefined;
    if (a.stopAfter && a.status === RUNNING) this.#supervisor.terminate(a, TERM_STOPPED, undefined);
  }

  /** A handler failed: its ask fails with the error, unless the message was stashed or its
   * `replyLater()` handle answered already. */
  #failedReply(item: Entry, taken: Abandonable | 'stashed' | undefined, err: unknown): void {
    if (taken === undefined) this.reply(item, false, err);
    else if (taken !== 'stashed') taken.abandon(err);
  }

  /** Puts stashed messages back at the front of `a`'s queue (`ctx.unstashAll`, a restart). */
  unstash(a: LocalActor, items: Entry[]): void {
    prependQueue(a, items);
    if (!a.busy && a.status === RUNNING && a.handling === undefined) {
      this.#runnable.push(a);
      this.#scheduleRun();
    }
  }

  /** Adds the messages handled since the last call to the runtime's `processed` counts. */
  countProcessed(): void {
    if (this.#uncounted.length > 0) this.#runtime.countProcessed(this.#processedPairs());
  }

  /** The messages handled since the last call, as `[id, n, ...]` for the runtime (and reset). */
  #processedPairs(): Uint32Array {
    const list = this.#uncounted;
    if (list.length === 0) return EMPTY_U32;
    const pairs = this.#pairsScratch.take(list.length * 2);
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      pairs[2 * i] = a.id;
      pairs[2 * i + 1] = a.uncounted;
      a.uncounted = 0;
    }
    list.length = 0;
    return pairs;
  }

  /** After an async handler settled: the stop it asked for, or the rest of its queue. */
  #after(a: LocalActor): void {
    if (a.stopAfter && a.status === RUNNING) this.#supervisor.terminate(a, TERM_STOPPED, undefined);
    else this.run(a);
    this.pump();
  }

  /** Settles (same-thread ask) or sends (other thread) the reply to `item`, if it is an ask. */
  reply(item: Entry, ok: boolean, value: unknown): void {
    if (!(item instanceof Item) || item.kind !== KIND_ASK) return;
    if (item.replyHost === -1) this.#asks.settle(item.askId, ok, value);
    else this.#outbox.reply(item.replyHost, item.askId, ok, value);
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown

  /** Kills every actor of this thread and rejects every pending ask. */
  close(reason: WeftError): void {
    if (this.#closed) return;
    for (const a of [...this.actors.values()]) this.#supervisor.terminate(a, TERM_KILLED, undefined);
    try {
      this.#outbox.flush();
    } catch {
      // the transport is gone
    }
    this.#asks.close(reason);
    this.#outbox.close(reason);
    this.#closed = true;
  }
}
