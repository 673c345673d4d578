/**
 * `ActorHost`: the actor runtime of one thread (the main thread, or one pool worker) for one actor
 * system. It runs the actors that live on its thread, one message at a time each; sends messages
 * (same-thread ones stay in JavaScript, the rest go through the transport, batched: one native
 * call per batch); keeps the pending asks; and applies supervision to its actors.
 */
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { WireReader, WireWriter } from '../internal/wire.js';
import { checkOptionNames, unknownOptionMessage } from '../internal/options.js';
import {
  checkSupervisionNames,
  definitionByKey,
  definitionSite,
  describeDefinition,
  handlerMapOf,
  shapeOf,
  unhandledText,
  type HandlerFn,
} from './define.js';
import * as protocol from './protocol.js';

import { ActorRef, setHostResolver, typeRef, type RefHost } from './ref.js';
import type { ActorTransport, NativeActorSystem } from './transport.js';
import {
  ASK_OPTIONS,
  MAILBOX_OPTIONS,
  SPAWN_OPTIONS,
  type ActorContext,
  type ActorDefinition,
  type AnyActorDefinition,
  type AskOptions,
  type MailboxOptions,
  type Overflow,
  type Placement,
  type SpawnOptions,
  type SupervisionOptions,
} from './types.js';
import { AbortWatch } from '../internal/abort-watch.js';
import { describe } from '../internal/describe.js';

// Read once into local bindings: the hot paths then use plain constants (a module namespace
// read can be a getter call, depending on how the module was compiled).
const {
  DELIVERY_EVICTED,
  DELIVERY_FULL,
  DELIVERY_STOPPED,
  DELIVERY_DROPPED,
  DELIVERY_UNHANDLED,
  ENV_ASK,
  ENV_BUNDLE,
  ENV_DEAD,
  ENV_SYSTEM,
  ENV_TELL,
  EV_SPAWNED,
  EV_TERMINATED,
  IN_NOTICE,
  IN_SYSTEM,
  IN_USER,
  NOTICE_ASK_FAILED,
  NOTICE_EVENT,
  NOTICE_LOST,
  NOTICE_REPLY,
  NOTICE_ROOM,
  OUT_CONTROL,
  OUT_MESSAGE,
  OVERFLOW_CODES,
  REASON_FULL,
  SYS_CHILD_ENDED,
  SYS_CHILD_FAILED,
  SYS_CHILD_RESTARTED,
  SYS_KILL,
  SYS_RESTART,
  SYS_START,
  SYS_STOP,
  TERM_FAILED,
  TERM_KILLED,
  TERM_STOPPED,
  TERM_UNDEFINED,
} = protocol;

/** A definition as the runtime sees it. */
type RuntimeDef = ActorDefinition<unknown, unknown, Record<string, unknown>>;

/** Messages taken per drain call, and per actor per call (fairness between actors). */
const DRAIN_MAX = 4096;
const DRAIN_PER_ACTOR = 256;
/** Default ask timeout (ms). */
export const DEFAULT_ASK_TIMEOUT = 30_000;

const KIND_ASK = 1;
const KIND_STOP = 2;

/**
 * An ask or a stop waiting in an actor's JavaScript queue. A tell waits there as the message
 * itself (no wrapper: the common case allocates nothing).
 */
class Item {
  constructor(
    readonly kind: number,
    readonly msg: unknown,
    /** Asks: where the reply goes (-1: a same-thread ask, settled directly) and its id. */
    readonly replyHost: number,
    readonly askId: number,
  ) {}
}
/** A queued message: an `Item`, or a tell's message. */
type Entry = unknown;
const STOP_ITEM = new Item(KIND_STOP, undefined, -1, 0);

function msgOf(e: Entry): unknown {
  return e instanceof Item ? e.msg : e;
}

const STARTING = 0;
const RUNNING = 1;
const RESTARTING = 2;
const STOPPED = 3;

interface Supervision {
  strategy: 'restart' | 'stop' | 'resume' | 'escalate';
  maxRestarts: number;
  withinMs: number;
  minMs: number;
  maxMs: number;
  jitter: number;
  children: 'one-for-one' | 'all-for-one';
}

function supervisionOf(o: SupervisionOptions | undefined, fallback: SupervisionOptions | undefined): Supervision {
  const s = { ...fallback, ...o };
  const b = { ...fallback?.backoff, ...o?.backoff };
  const strategy = s.strategy ?? 'restart';
  if (!['restart', 'stop', 'resume', 'escalate'].includes(strategy)) throw new InvalidArgumentError(`unknown supervision strategy ${describe(strategy)}`);
  const num = (v: number | undefined, d: number, what: string): number => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !(v >= 0)) throw new InvalidArgumentError(`supervision ${what} must be a number >= 0, got ${describe(v)}`);
    return v;
  };
  const children = s.children ?? 'one-for-one';
  if (children !== 'one-for-one' && children !== 'all-for-one') throw new InvalidArgumentError(`supervision children must be 'one-for-one' or 'all-for-one'`);
  return {
    strategy,
    maxRestarts: num(s.maxRestarts, 3, 'maxRestarts'),
    withinMs: num(s.withinMs, 5000, 'withinMs'),
    minMs: num(b.minMs, 0, 'backoff.minMs'),
    maxMs: num(b.maxMs, 30_000, 'backoff.maxMs'),
    jitter: num(b.jitter, 0.2, 'backoff.jitter'),
    children,
  };
}

const SPAWN_OPTION_SET: ReadonlySet<string> = new Set(SPAWN_OPTIONS);
const MAILBOX_OPTION_SET: ReadonlySet<string> = new Set(MAILBOX_OPTIONS);
const ASK_OPTION_SET: ReadonlySet<string> = new Set(ASK_OPTIONS);

/** Whether `def` is a definition made by defineActor (any copy of weft); false for a Proxy whose traps throw. */
function isDefinition(def: unknown): boolean {
  try {
    return def !== null && typeof def === 'object' && (def as { kind?: unknown }).kind === 'weft:actor';
  } catch {
    return false;
  }
}

/**
 * Unknown names in spawn options (or in its `mailbox`, `supervision`, `supervision.backoff`) throw
 * `WEFT_INVALID_ARG`. Returns a snapshot: each option (and nested option) read once.
 */
function checkSpawnOptionNames(given: SpawnOptions): SpawnOptions {
  const o = checkOptionNames(given, SPAWN_OPTION_SET, 'spawn options');
  const m: unknown = o.mailbox;
  const mailbox = m !== null && typeof m === 'object' ? checkOptionNames(m as MailboxOptions, MAILBOX_OPTION_SET, 'spawn options.mailbox') : o.mailbox;
  const supervision = checkSupervisionNames(o.supervision, 'spawn options.supervision');
  return { ...o, ...(mailbox !== undefined ? { mailbox } : {}), ...(supervision !== undefined ? { supervision } : {}) };
}

/**
 * The largest bounded mailbox: its slots are allocated when the actor starts (a capacity of 2^31
 * made the process abort allocating 48 GB). For more, use an unbounded mailbox.
 */
export const MAX_MAILBOX_CAPACITY = 1 << 20;

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
      if (!ASK_OPTION_SET.has(k) && Object.hasOwn(o, k)) return new InvalidArgumentError(unknownOptionMessage(k, ASK_OPTIONS, 'ask options'));
    }
  } catch (err) {
    // A Proxy whose traps throw.
    return new InvalidArgumentError(`ask options: listing them threw: ${err instanceof Error ? err.message : describe(err)}`, { cause: err });
  }
  return undefined;
}

/** Whether `v` is an AbortSignal (false for a Proxy whose getPrototypeOf trap throws). */
function isAbortSignal(v: unknown): v is AbortSignal {
  try {
    return v instanceof AbortSignal;
  } catch {
    return false;
  }
}

export interface Bound {
  capacity: number;
  overflow: Overflow;
}

export function boundOf(m: MailboxOptions | undefined): Bound | undefined {
  if (m === undefined) return undefined;
  if (m === null || typeof m !== 'object') throw new InvalidArgumentError('mailbox must be an object');
  const overflow = m.overflow ?? 'reject';
  // Own names only: 'constructor' or 'toString' are not policies.
  if (typeof overflow !== 'string' || !Object.hasOwn(OVERFLOW_CODES, overflow)) {
    throw new InvalidArgumentError(`unknown mailbox overflow policy ${describe(overflow)} (policies: ${Object.keys(OVERFLOW_CODES).join(', ')})`);
  }
  if (m.capacity === undefined) {
    if (m.overflow !== undefined) throw new InvalidArgumentError('a mailbox overflow policy needs a capacity');
    return undefined;
  }
  if (!Number.isInteger(m.capacity) || m.capacity < 1 || m.capacity > MAX_MAILBOX_CAPACITY) {
    throw new InvalidArgumentError(`mailbox capacity must be an integer from 1 to ${MAX_MAILBOX_CAPACITY}, got ${describe(m.capacity)}`);
  }
  return { capacity: m.capacity, overflow };
}

/** What a START record carries. */
interface StartSpec {
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

class LocalActor {
  readonly id: number;
  readonly ref: ActorRef;
  readonly def: RuntimeDef;
  readonly handlers: Map<string, HandlerFn>;
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
  roomWaiters: Array<{ item: Entry; resolve: () => void }> = [];
  ctx!: ActorContext;
  /** Bumped on every restart: async work of an older incarnation is ignored. */
  incarnation = 0;

  constructor(id: number, ref: ActorRef, def: RuntimeDef, spec: StartSpec, viaMailbox: boolean) {
    this.id = id;
    this.ref = ref;
    this.def = def;
    this.handlers = handlerMapOf(def);
    this.spec = spec;
    this.viaMailbox = viaMailbox;
    this.sup = supervisionOf(spec.supervision ?? undefined, def.supervision);
  }

  get depth(): number {
    return this.queue.length - this.head;
  }
}

interface PendingAsk {
  id: number;
  target: number;
  /** The message (its type names the ask in errors; formatted only then). */
  msg: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  deadline: number;
  done: boolean;
  /** Stops watching the ask's AbortSignal (see AbortWatch), if it has one. */
  unwatch: (() => void) | undefined;
}

/** Asks with the same timeout, in deadline order (one timer per bucket). */
interface TimeoutBucket {
  ms: number;
  entries: PendingAsk[];
  head: number;
  timer: NodeJS.Timeout | undefined;
}

/** Events the main thread's system listens to. */
export interface HostEvents {
  spawned(id: number, host: number, parent: number, start: Uint8Array): void;
  terminated(id: number, reason: number, error: unknown): void;
}

export interface HostOptions {
  system: number;
  process: number;
  transport: ActorTransport;
  native: NativeActorSystem;
  /** How many pool workers the system has (hosts 1..workers). */
  workers: number;
  askTimeout?: number;
  /** Main thread only: lifecycle events of actors, wherever they run. */
  events?: HostEvents;
  /** Main thread only: picks a worker for `on: 'worker'`. */
  pickWorker?: () => number;
}

/**
 * Whether `v` is a promise or another thenable; throws `WEFT_INVALID_ARG` when reading its `then`
 * throws (callers treat that as the handler failing). A thenable is settled through
 * `Promise.resolve`, so a `then` that throws when called rejects instead of throwing here.
 */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  try {
    return typeof (v as { then?: unknown }).then === 'function';
  } catch (err) {
    // Not the handler's own failure but a value nobody can await (a Proxy whose traps throw).
    throw new InvalidArgumentError(`the handler's result cannot be awaited: reading its \`then\` threw: ${err instanceof Error ? err.message : describe(err)}`, {
      cause: err,
    });
  }
}

/** A message's `type`, or undefined when it has none or reading it throws (a Proxy's trap). */
function typeOf(msg: unknown): unknown {
  if (msg === null || typeof msg !== 'object') return undefined;
  try {
    return (msg as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}

function describeType(msg: unknown): string {
  const t = typeOf(msg);
  return typeof t === 'string' ? JSON.stringify(t) : '(no type)';
}

export class ActorHost implements RefHost {
  readonly system: number;
  readonly process: number;
  readonly host: number;
  readonly #transport: ActorTransport;
  readonly #native: NativeActorSystem;
  readonly #workers: number;
  readonly #askTimeout: number;
  readonly #events: HostEvents | undefined;
  readonly #pickWorker: (() => number) | undefined;
  readonly #actors = new Map<number, LocalActor>();
  readonly #asks = new Map<number, PendingAsk>();
  /** One listener per AbortSignal however many asks share it. */
  readonly #aborts = new AbortWatch<number>();
  readonly #buckets = new Map<number, TimeoutBucket>();
  #nextAsk = 0;
  readonly #out = new WireWriter(64 * 1024);
  readonly #one = new WireWriter(1024);
  readonly #reader = new WireReader(new Uint8Array(0));
  #released: number[] = [];
  #pumping = false;
  #scheduled = false;
  #runnable: LocalActor[] = [];
  /** Bounded `wait` mailboxes on other threads that refused a message: what waits, by actor. */
  readonly #waiting = new Map<number, Array<{ target: ActorRef; system: boolean; env: Uint8Array; resolve: () => void; reject: (e: unknown) => void }>>();
  /** Keyed timers pending on this thread's actors (kept as a count: the worker asks every turn). */
  #timers = 0;
  /** Async handlers, inits and hooks running now (a worker does not park natively while > 0). */
  busy = 0;
  #spawnTurn = 0;
  #closed = false;
  /** Dead letters of same-thread deliveries (the transport counts the others). */
  localDeadLetters = 0;

  constructor(o: HostOptions) {
    this.system = o.system;
    this.process = o.process;
    this.host = o.transport.host;
    this.#transport = o.transport;
    this.#native = o.native;
    this.#workers = o.workers;
    this.#askTimeout = o.askTimeout ?? DEFAULT_ASK_TIMEOUT;
    this.#events = o.events;
    this.#pickWorker = o.pickWorker;
    o.transport.onWake(() => this.pump());
  }

  get actorCount(): number {
    return this.#actors.size;
  }

  get pendingAsks(): number {
    return this.#asks.size;
  }

  /** Timers of this thread's actors are pending (a worker then waits in its event loop). */
  get hasTimers(): boolean {
    return this.#timers > 0;
  }

  /** The depth of a same-thread actor's JavaScript queue (for stats). */
  localDepth(id: number): number | undefined {
    return this.#actors.get(id)?.depth;
  }

  // -------------------------------------------------------------------------------------------
  // Spawning

  /** Spawns an actor (from user code on this thread, or from `ctx.spawn` with a parent). */
  spawn(anyDef: AnyActorDefinition, arg: unknown, options: SpawnOptions | undefined, parent: LocalActor | undefined): ActorRef {
    const def = anyDef as RuntimeDef;
    if (this.#closed) throw new WeftError('WEFT_CLOSED', 'the actor system is shut down');
    if (!isDefinition(def)) throw new InvalidArgumentError('spawn expects a definition made by defineActor');
    const given = options ?? {};
    if (given === null || typeof given !== 'object') throw new InvalidArgumentError('spawn options must be an object');
    const o = checkSpawnOptionNames(given);
    const bound = boundOf(o.mailbox);
    // Validate now, so a bad option fails at the call site rather than on another thread.
    supervisionOf(o.supervision, def.supervision);
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) {
      throw new InvalidArgumentError('an actor name must be a non-empty string');
    }
    const host = this.#placement(o.on);
    const spec: StartSpec = {
      key: def.key,
      shape: shapeOf(def),
      arg,
      name: o.name ?? null,
      supervision: o.supervision ?? null,
      parent: parent?.ref ?? null,
      siblings: parent?.sup.children ?? 'one-for-one',
      bound: bound ?? null,
      at: definitionSite(def) ?? null,
    };
    // Encode first: an argument that cannot be cloned fails here, before the actor exists. The
    // main thread keeps the START record of every actor on a worker, to start it elsewhere if
    // that worker dies.
    const start = host !== 0 || host !== this.host ? this.#startEnvelope(spec) : EMPTY_U8;
    let id: number;
    try {
      id = this.#native.create(host, bound?.capacity ?? 0, bound ? OVERFLOW_CODES[bound.overflow] : 0, o.name ?? null);
    } catch (err) {
      throw fromNative(err);
    }
    const ref = typeRef(new ActorRef(this.system, this.process, id, bound !== undefined, bound?.overflow === 'wait'), def);
    if (parent !== undefined) parent.children.set(id, ref);
    if (this.host === 0) this.#events?.spawned(id, host, parent?.id ?? 0, start);
    else
      this.#event(EV_SPAWNED, id, (w) => {
        w.u32(host);
        w.u32(parent?.id ?? 0);
        w.u32(start.length);
        w.bytes(start);
      });
    if (host === this.host) {
      this.#instantiate(id, ref, def, spec, false);
    } else {
      this.#record(IN_SYSTEM, id, (w) => w.bytes(start));
      this.#scheduleFlush();
    }
    return ref;
  }

  #placement(on: Placement | undefined): number {
    const where = on ?? (this.#workers > 0 ? 'worker' : 'main');
    if (where === 'main') return 0;
    if (this.#workers === 0) {
      throw new InvalidArgumentError(`cannot place an actor on a worker: this actor system has no pool (new ActorSystem({ pool }))`);
    }
    if (where === 'worker') {
      if (this.#pickWorker !== undefined) return 1 + this.#pickWorker();
      return 1 + (this.#spawnTurn++ % this.#workers);
    }
    if (typeof where === 'number' && Number.isInteger(where) && where >= 0 && where < this.#workers) return 1 + where;
    throw new InvalidArgumentError(`on must be 'main', 'worker' or a worker index from 0 to ${this.#workers - 1}, got ${describe(on)}`);
  }

  #startEnvelope(spec: StartSpec, moved = false): Uint8Array {
    const w = this.#one;
    w.reset();
    w.u8(ENV_SYSTEM);
    w.u8(SYS_START);
    w.u8(moved ? 1 : 0);
    w.value(spec);
    return w.view().slice();
  }

  #instantiate(id: number, ref: ActorRef, def: RuntimeDef, spec: StartSpec, viaMailbox: boolean): LocalActor {
    const a = new LocalActor(id, ref, def, spec, viaMailbox);
    a.ctx = this.#context(a);
    this.#actors.set(id, a);
    this.#start(a);
    return a;
  }

  /** Runs `init` and `onStart`, then lets the actor take messages. */
  #start(a: LocalActor): void {
    const incarnation = a.incarnation;
    const fail = (err: unknown): void => {
      if (a.incarnation !== incarnation || a.status === STOPPED) return;
      // A failing start is a failure like any other (restart has a budget).
      this.#failed(a, err);
    };
    const started = (): void => {
      if (a.incarnation !== incarnation || a.status === STOPPED) return;
      a.status = RUNNING;
      this.#run(a);
      this.#schedulePump();
    };
    const onStart = (): void => {
      if (a.def.onStart === undefined) return started();
      let r: unknown;
      let thenable: boolean;
      try {
        r = a.def.onStart(a.state, a.ctx as never);
        thenable = isThenable(r);
      } catch (err) {
        return fail(err);
      }
      if (thenable) this.#await(r as PromiseLike<unknown>, started, fail);
      else started();
    };
    let s: unknown;
    let thenable: boolean;
    try {
      s = a.def.init(a.spec.arg as never, a.ctx as never);
      thenable = isThenable(s);
    } catch (err) {
      return fail(err);
    }
    if (thenable) {
      this.#await(
        s as PromiseLike<unknown>,
        (v) => {
          if (a.incarnation !== incarnation) return;
          a.state = v;
          onStart();
        },
        fail,
      );
    } else {
      a.state = s;
      onStart();
    }
  }

  #await(p: PromiseLike<unknown>, ok: (v: unknown) => void, fail: (e: unknown) => void): void {
    this.busy++;
    Promise.resolve(p).then(
      (v) => {
        this.busy--;
        ok(v);
      },
      (e: unknown) => {
        this.busy--;
        fail(e);
      },
    );
  }

  #context(a: LocalActor): ActorContext {
    const host = this;
    return {
      get self() {
        return a.ref as never;
      },
      get parent() {
        return a.spec.parent ?? undefined;
      },
      spawn(def, arg, options) {
        if (a.status === STOPPED) throw new WeftError('WEFT_ACTOR_STOPPED', 'this actor has stopped');
        return host.spawn(def as AnyActorDefinition, arg, options, a) as never;
      },
      stop() {
        a.stopAfter = true;
        if (!a.busy && a.status === RUNNING) host.#enqueue(a, STOP_ITEM, true);
      },
      schedule(key, delayMs, msg) {
        if (typeof key !== 'string') throw new InvalidArgumentError('a timer key must be a string');
        if (typeof delayMs !== 'number' || !(delayMs >= 0)) throw new InvalidArgumentError(`delayMs must be a number >= 0, got ${describe(delayMs)}`);
        // The timer sends `msg` to this actor later: check it now, where the mistake is.
        const type = typeOf(msg);
        if (typeof type !== 'string' || !a.handlers.has(type)) {
          const hint = typeof msg === 'function' ? ' (it takes a message that the actor sends itself, not a callback)' : '';
          throw new InvalidArgumentError(`ctx.schedule${hint}: ${unhandledText(a.id, a.def, msg)}`);
        }
        if (a.status === STOPPED) return;
        const old = a.timers.get(key);
        if (old !== undefined) clearTimeout(old);
        else host.#timers++;
        const incarnation = a.incarnation;
        const t = setTimeout(() => {
          if (a.timers.get(key) === t) {
            a.timers.delete(key);
            host.#timers--;
          }
          if (a.status === STOPPED || a.incarnation !== incarnation) return;
          host.#enqueue(a, msg, true);
        }, delayMs);
        // Timers do not keep the process alive by themselves.
        t.unref();
        a.timers.set(key, t);
      },
      cancel(key) {
        const t = a.timers.get(key);
        if (t === undefined) return false;
        clearTimeout(t);
        a.timers.delete(key);
        host.#timers--;
        return true;
      },
      setState(next) {
        a.state = next;
      },
      lookup(name) {
        return host.lookup(name) as never;
      },
    } as ActorContext;
  }

  /** A ref to the running actor registered under `name`. */
  lookup(name: string): ActorRef | undefined {
    if (typeof name !== 'string') throw new InvalidArgumentError('lookup expects a name');
    const id = this.#native.lookup(name);
    if (id === null || id === undefined) return undefined;
    return this.refOf(id);
  }

  /** A ref to actor `id` (undefined if it is not running). */
  refOf(id: number): ActorRef | undefined {
    const overflow = this.#native.mailboxOf(id);
    if (overflow === -2) return undefined;
    return new ActorRef(this.system, this.process, id, overflow >= 0, overflow === OVERFLOW_CODES.wait);
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  tell(ref: ActorRef, msg: unknown): void | Promise<void> {
    if (this.#closed) throw new WeftError('WEFT_CLOSED', 'the actor system is shut down');
    if (this.#startFailures.size > 0) {
      const failed = this.#startFailure(ref.id);
      if (failed !== undefined) throw failed;
    }
    const local = this.#actors.get(ref.id);
    if (local !== undefined && !local.viaMailbox) {
      return this.#enqueue(local, msg, false);
    }
    const waiting = this.#waiting.get(ref.id);
    if (ref.bounded || waiting !== undefined) {
      const env = this.#envelope(ENV_TELL, 0, msg);
      return this.#sendOne(ref, false, env, waiting, (err) => {
        throw err;
      });
    }
    this.#writeUser(ref.id, ENV_TELL, 0, msg);
    this.#scheduleFlush();
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
      w.u32(this.host);
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

  ask(ref: ActorRef, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    if (this.#closed) return Promise.reject(new WeftError('WEFT_CLOSED', 'the actor system is shut down'));
    if (options !== undefined) {
      const invalid = askOptionsError(options);
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    let timeout: unknown;
    let signal: unknown;
    try {
      timeout = options?.timeout ?? this.#askTimeout;
      signal = options?.signal;
    } catch (err) {
      return Promise.reject(new InvalidArgumentError(`reading the ask options threw: ${err instanceof Error ? err.message : describe(err)}`, { cause: err }));
    }
    if (typeof timeout !== 'number' || !(timeout > 0)) {
      return Promise.reject(new InvalidArgumentError(`ask timeout must be a positive number of milliseconds, got ${describe(timeout)}`));
    }
    if (signal !== undefined && !isAbortSignal(signal)) {
      return Promise.reject(new InvalidArgumentError(`ask signal must be an AbortSignal, got ${describe(signal)}`));
    }
    if (signal?.aborted) return Promise.reject(new WeftError('WEFT_ABORTED', 'ask aborted', { cause: signal.reason }));
    if (this.#startFailures.size > 0) {
      const failed = this.#startFailure(ref.id);
      if (failed !== undefined) return Promise.reject(failed);
    }
    const id = (this.#nextAsk = (this.#nextAsk + 1) >>> 0 || 1);
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
      unwatch: undefined,
    };
    const local = this.#actors.get(ref.id);
    this.#addAsk(entry, timeout);
    try {
      if (local !== undefined && !local.viaMailbox) {
        const r = this.#enqueue(local, new Item(KIND_ASK, msg, -1, id), false);
        if (r !== undefined) void r.catch(() => {});
      } else {
        const waiting = this.#waiting.get(ref.id);
        if (ref.bounded || waiting !== undefined) {
          const env = this.#envelope(ENV_ASK, id, msg);
          const r = this.#sendOne(ref, false, env, waiting, (err) => this.#settleAsk(id, false, err));
          if (r !== undefined) void r.catch(() => {});
        } else {
          this.#writeUser(ref.id, ENV_ASK, id, msg);
          this.#scheduleFlush();
        }
      }
    } catch (err) {
      this.#settleAsk(id, false, err);
    }
    if (signal !== undefined && !entry.done) {
      entry.unwatch = this.#aborts.watch(signal, id, () => this.#settleAsk(id, false, new WeftError('WEFT_ABORTED', 'ask aborted', { cause: signal.reason })));
    }
    return promise;
  }

  #envelope(kind: number, askId: number, msg: unknown): Uint8Array {
    const w = this.#one;
    w.reset();
    w.u8(kind);
    if (kind === ENV_ASK) {
      w.u32(this.host);
      w.u32(askId);
    }
    w.value(msg);
    // A view of the scratch writer: the transport copies it (a message that must wait for room
    // is copied out by #sendOne).
    return w.view();
  }

  /**
   * One envelope to a bounded mailbox on another thread (or behind others waiting for room):
   * its outcome is known at once. `refuse` reports a `reject` refusal (throw for tell, reject
   * the ask for ask).
   */
  #sendOne(
    ref: ActorRef,
    system: boolean,
    env: Uint8Array,
    waiting: Array<{ target: ActorRef; system: boolean; env: Uint8Array; resolve: () => void; reject: (e: unknown) => void }> | undefined,
    refuse: (err: WeftError) => void,
  ): void | Promise<void> {
    if (waiting !== undefined) {
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
      refuse(new WeftError('WEFT_MAILBOX_FULL', `the mailbox of actor ${ref.id} is full (message ${describeEnvelope(env)})`));
    }
    // DROPPED / EVICTED / STOPPED: dead letters; an ask among them fails through a notice.
    return undefined;
  }

  /** Retries what waits for room in a `wait` mailbox, in order, until it is full again. */
  #room(actor: number): void {
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

  /** Delivers to a same-thread actor, applying its mailbox bound to the JavaScript queue. */
  #enqueue(a: LocalActor, item: Entry, internal: boolean): void | Promise<void> {
    if (a.status === STOPPED) {
      this.#deadLetter(item, 'stopped');
      return;
    }
    const bound = a.spec.bound;
    if (!internal && bound !== null && a.depth >= bound.capacity) {
      switch (bound.overflow) {
        case 'reject': {
          const err = new WeftError('WEFT_MAILBOX_FULL', `the mailbox of actor ${a.id} is full (message ${describeType(msgOf(item))})`);
          if (item instanceof Item && item.kind === KIND_ASK) {
            this.#settleAsk(item.askId, false, err);
            return;
          }
          throw err;
        }
        case 'drop-newest':
          this.#deadLetter(item, 'full');
          return;
        case 'drop-oldest': {
          const old = a.queue[a.head]!;
          a.queue[a.head++] = undefined;
          this.#deadLetter(old, 'full');
          break;
        }
        case 'wait':
          return new Promise<void>((resolve) => a.roomWaiters.push({ item, resolve }));
      }
    }
    a.queue.push(item);
    if (a.depth === 1 && !a.busy && a.status === RUNNING) {
      this.#runnable.push(a);
      this.#scheduleRun();
    }
  }

  #deadLetter(item: Entry, why: 'stopped' | 'full'): void {
    this.localDeadLetters++;
    if (item instanceof Item && item.kind === KIND_ASK) {
      const err =
        why === 'stopped'
          ? new WeftError('WEFT_ACTOR_STOPPED', `the actor has stopped (message ${describeType(item.msg)})`)
          : new WeftError('WEFT_MAILBOX_FULL', `the mailbox was full and dropped this message (${describeType(item.msg)})`);
      this.#reply(item, false, err);
    }
  }

  /** Writes a record into the outgoing batch. */
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

  /** A system message to an actor (here or elsewhere); `ordered` sends it in the user lane. */
  systemMessage(target: number, op: number, ordered: boolean, body?: (w: WireWriter) => void): void {
    const local = this.#actors.get(target);
    if (local !== undefined) {
      if (ordered) {
        this.#enqueue(local, STOP_ITEM, true);
        return;
      }
      const w = new WireWriter(64);
      body?.(w);
      this.#systemOp(local, op, new WireReader(w.view()));
      return;
    }
    this.#record(ordered ? IN_USER : IN_SYSTEM, target, (w) => {
      w.u8(ENV_SYSTEM);
      w.u8(op);
      body?.(w);
    });
    this.#scheduleFlush();
  }

  #event(ev: number, actor: number, body: (w: WireWriter) => void): void {
    this.#record(IN_NOTICE, 0, (w) => {
      w.u8(NOTICE_EVENT);
      w.u8(ev);
      w.u32(actor);
      body(w);
    });
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    // A long run of sends goes out in slices, so the receivers start while the sender goes on.
    if (this.#out.length >= FLUSH_BYTES) this.flush();
    if (this.#pumping) return; // the pump flushes after each batch
    this.#schedulePump();
  }

  /** Sends the outgoing batch now. */
  flush(): void {
    if (this.#out.length === 0) return;
    const batch = this.#out.view();
    try {
      this.#transport.sendBatch(batch);
    } finally {
      this.#out.reset();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  #schedulePump(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.pump();
    });
  }

  #runScheduled = false;
  #scheduleRun(): void {
    if (this.#runScheduled) return;
    this.#runScheduled = true;
    queueMicrotask(() => {
      this.#runScheduled = false;
      this.#runAll();
      if (this.#out.length > 0 || this.#released.length > 0) this.pump();
    });
  }

  #runAll(): void {
    const list = this.#runnable;
    for (let i = 0; i < list.length; i++) this.#run(list[i]!);
    list.length = 0;
  }

  /** Runs a pump turn now if anything waits to be sent, released or run (before a worker parks). */
  settle(): void {
    if (this.#out.length > 0 || this.#released.length > 0 || this.#runnable.length > 0) this.pump();
  }

  /** More arrived than one pump turn handles: a turn is scheduled (workers must not park). */
  moreWork = false;

  /**
   * Sends what is batched, releases what is done, takes and runs what arrived; until idle, or
   * for at most PUMP_BUDGET_MS, after which it gives the event loop a turn and comes back.
   */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.moreWork = false;
    const start = performance.now();
    try {
      for (;;) {
        if (performance.now() - start > PUMP_BUDGET_MS) {
          this.flush();
          this.moreWork = true;
          setImmediate(() => this.pump());
          break;
        }
        this.#runAll();
        const rel = this.#released;
        const released = rel.length === 0 ? EMPTY_U32 : Uint32Array.from(rel);
        rel.length = 0;
        // What this turn sends and what it takes, in one native call.
        let buf: Uint8Array | null;
        try {
          buf = this.#transport.exchange(this.#out.length === 0 ? EMPTY_U8 : this.#out.view(), released, DRAIN_MAX, DRAIN_PER_ACTOR);
        } finally {
          this.#out.reset();
        }
        if (buf === null) {
          if (this.#out.length === 0 && this.#released.length === 0 && this.#runnable.length === 0) break;
          continue;
        }
        this.#handle(buf);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #handle(buf: Uint8Array): void {
    const r = this.#reader;
    r.reset(buf);
    while (r.remaining > 0) {
      const kind = r.u8();
      const actor = r.u32();
      const len = r.u32();
      const end = r.offset + len;
      try {
        if (kind === OUT_MESSAGE) this.#message(actor, r, end);
        else if (kind === OUT_CONTROL) this.#control(actor, r);
        else this.#notice(r, end);
      } catch (err) {
        // A record that cannot be decoded fails its own message (an ask rejects), nothing else.
        process.emitWarning(`weft actor host: a message could not be handled: ${(err as Error).message}`);
      }
      r.offset = end;
    }
  }

  #message(id: number, r: WireReader, end: number): void {
    if (r.peekU8() === ENV_BUNDLE) {
      r.u8();
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const len = r.u32();
        const e = r.offset + len;
        this.#envelopeIn(id, r, e);
        r.offset = e;
      }
      return;
    }
    this.#envelopeIn(id, r, end);
  }

  #envelopeIn(id: number, r: WireReader, end: number): void {
    const envKind = r.u8();
    let a = this.#actors.get(id);
    void end;
    if (envKind === ENV_SYSTEM) {
      const op = r.u8();
      if (op === SYS_START) {
        const moved = r.u8() === 1;
        const spec = r.value() as StartSpec;
        if (a !== undefined) return; // already here
        const def = definitionByKey(spec.key, spec.shape) as RuntimeDef | undefined;
        const ref = new ActorRef(this.system, this.process, id, spec.bound !== null, spec.bound?.overflow === 'wait');
        if (def === undefined) {
          this.#released.push(id);
          this.#terminateUnknown(id, spec);
          return;
        }
        a = this.#instantiate(id, typeRef(ref, def), def, spec, moved);
        void ref;
        // Released by #run once its queue is empty: after the whole batch, which may hold some
        // of its messages too (releasing now would let the transport hand over more of them
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
        this.#enqueue(a, STOP_ITEM, true);
      } else {
        this.#systemOp(a, op, r);
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
        this.#reply(new Item(KIND_ASK, undefined, replyHost, askId), false, new WeftError('WEFT_ACTOR_STOPPED', `actor ${id} is not running`));
      }
      let msg: unknown;
      try {
        msg = r.value();
      } catch {
        msg = '(undecodable)';
      }
      this.#foundDead(id, DELIVERY_STOPPED, msg);
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
    this.#systemOp(a, op, r);
  }

  #terminateUnknown(id: number, spec: StartSpec): void {
    const actor = `actor ${id}${spec.name !== null ? ` (${JSON.stringify(spec.name)})` : ''}`;
    const def = describeDefinition(spec.key, spec.shape, spec.at);
    let err: InvalidArgumentError;
    if (this.host === 0) {
      err = new InvalidArgumentError(
        `cannot start ${actor} on the main thread: ${def} is not loaded there. Import the module that defines it in the main program.`,
      );
    } else {
      let module = (workerData as { module?: unknown } | null)?.module;
      if (typeof module === 'string' && module.startsWith('file:')) {
        try {
          module = fileURLToPath(module);
        } catch {
          // keep the URL
        }
      }
      err = new InvalidArgumentError(
        `cannot start ${actor} on pool worker ${this.host - 1}: ${def} is not loaded there. ` +
          `Workers know only the actors defined in the pool's task module${typeof module === 'string' ? ` (${module})` : ''} or in a module it imports: ` +
          `define it there, and import it from there in the main program.` +
          (spec.key.startsWith('~') ? ' (Unnamed definitions are found by the source text of their functions; a `name` makes them independent of it.)' : ''),
      );
    }
    // The failure goes out before the mailbox closes, so that the main thread knows why before
    // the asks queued there fail.
    this.#terminatedEvent(id, TERM_UNDEFINED, err, spec.parent);
    this.flush();
    this.#native.remove(id);
  }

  /**
   * A dead letter found by this host (not by the transport): kept and counted with the
   * transport's own (an envelope to actor 0, which never exists).
   */
  #foundDead(actor: number, reason: number, msg: unknown): void {
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
    this.#transport.send(0, false, w.view());
  }

  /** Main thread: why actors failed to start (their definition was not found), by id. */
  readonly #startFailures = new Map<number, string>();

  #startFailed(id: number, error: unknown): void {
    const text = (error as Error | null)?.message;
    this.#startFailures.set(id, typeof text === 'string' ? text : String(error));
    if (this.#startFailures.size > 1024) this.#startFailures.delete(this.#startFailures.keys().next().value!);
  }

  /** The error for using a ref of an actor that failed to start (undefined: it did not). */
  #startFailure(id: number): InvalidArgumentError | undefined {
    const text = this.#startFailures.get(id);
    return text === undefined ? undefined : new InvalidArgumentError(text);
  }

  /** A system operation for a local actor; `r` is at its fields. */
  #systemOp(a: LocalActor, op: number, r: WireReader): void {
    switch (op) {
      case SYS_KILL:
        this.#terminate(a, TERM_KILLED, undefined);
        return;
      case SYS_RESTART:
        if (a.status !== STOPPED) this.#restart(a, 0, true);
        return;
      case SYS_CHILD_FAILED: {
        const child = r.u32();
        const error = r.value();
        a.children.delete(child);
        if (a.status !== STOPPED) {
          this.#failed(a, new WeftError('WEFT_ACTOR_STOPPED', `child actor ${child} failed and escalated: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
        }
        return;
      }
      case SYS_CHILD_RESTARTED: {
        const child = r.u32();
        if (a.sup.children === 'all-for-one' && a.status !== STOPPED) {
          for (const [id] of a.children) if (id !== child) this.systemMessage(id, SYS_RESTART, false);
        }
        return;
      }
      case SYS_CHILD_ENDED:
        a.children.delete(r.u32());
        return;
      default:
        return;
    }
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
          this.#settleAsk(id, false, err);
          return;
        }
        this.#settleAsk(id, status === 0, value);
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
            ? new WeftError('WEFT_MAILBOX_FULL', `the mailbox of actor ${actor || entry.target} was full and refused or dropped ask ${describeType(entry.msg)}`)
            : new WeftError('WEFT_ACTOR_STOPPED', `actor ${entry.target} is not running (ask ${describeType(entry.msg)})`);
        this.#settleAsk(id, false, err);
        return;
      }
      case NOTICE_ROOM:
        this.#room(r.u32());
        return;
      case NOTICE_LOST: {
        const n = r.u32();
        const lost = new Set<number>();
        for (let i = 0; i < n; i++) lost.add(r.u32());
        for (const entry of [...this.#asks.values()]) {
          if (lost.has(entry.target)) {
            this.#settleAsk(entry.id, false, new WeftError('WEFT_WORKER_EXIT', `the worker running actor ${entry.target} exited before it replied to ask ${describeType(entry.msg)}`));
          }
        }
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
          if (reason === TERM_UNDEFINED) this.#startFailed(actor, error);
          this.#events.terminated(actor, reason, error);
        }
        r.offset = end;
        return;
      }
      default:
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Running

  /** Handles queued messages of `a` until it is empty, busy (async handler) or not running. */
  #run(a: LocalActor): void {
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
    if (a.held) this.#release(a);
  }

  #release(a: LocalActor): void {
    a.held = false;
    this.#released.push(a.id);
    if (!this.#pumping) this.#schedulePump();
  }

  #dispatch(a: LocalActor, item: Entry): void {
    let msg: unknown = item;
    if (item instanceof Item) {
      if (item.kind === KIND_STOP) {
        this.#terminate(a, TERM_STOPPED, undefined);
        return;
      }
      msg = item.msg;
    }
    const type = typeOf(msg);
    const handler = typeof type === 'string' ? a.handlers.get(type) : undefined;
    if (handler === undefined) {
      // A sender that knew the definition refused it already; this one did not (an untyped ref,
      // or one that travelled here): a dead letter, and its ask fails.
      this.#foundDead(a.id, DELIVERY_UNHANDLED, msg);
      this.#reply(item, false, new InvalidArgumentError(unhandledText(a.id, a.def, msg)));
      return;
    }
    let result: unknown;
    let thenable: boolean;
    try {
      result = handler(a.state, msg, a.ctx);
      thenable = isThenable(result);
    } catch (err) {
      this.#reply(item, false, err);
      this.#failed(a, err);
      return;
    }
    if (thenable) {
      a.busy = true;
      a.current = item;
      this.busy++;
      const incarnation = a.incarnation;
      Promise.resolve(result).then(
        (v) => {
          this.busy--;
          if (a.current === item) a.current = undefined;
          this.#reply(item, true, v);
          if (a.incarnation !== incarnation) return;
          a.busy = false;
          this.#after(a);
        },
        (err: unknown) => {
          this.busy--;
          if (a.current === item) a.current = undefined;
          this.#reply(item, false, err);
          if (a.incarnation !== incarnation) return;
          a.busy = false;
          this.#failed(a, err);
          this.#after(a);
        },
      );
      return;
    }
    this.#reply(item, true, result);
    if (a.stopAfter && a.status === RUNNING) this.#terminate(a, TERM_STOPPED, undefined);
  }

  #after(a: LocalActor): void {
    if (a.stopAfter && a.status === RUNNING) this.#terminate(a, TERM_STOPPED, undefined);
    else this.#run(a);
    this.pump();
  }

  #reply(item: Entry, ok: boolean, value: unknown): void {
    if (!(item instanceof Item) || item.kind !== KIND_ASK) return;
    if (item.replyHost === -1) {
      this.#settleAsk(item.askId, ok, value);
      return;
    }
    const askId = item.askId;
    this.#record(IN_NOTICE, item.replyHost, (w) => {
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
    this.#scheduleFlush();
  }

  // -------------------------------------------------------------------------------------------
  // Supervision

  #failed(a: LocalActor, err: unknown): void {
    if (a.status === STOPPED) return;
    const sup = a.sup;
    switch (sup.strategy) {
      case 'resume':
        if (a.status !== RUNNING) this.#terminate(a, TERM_FAILED, err); // failed while starting
        return;
      case 'stop':
        this.#terminate(a, TERM_FAILED, err);
        return;
      case 'escalate':
        this.#escalate(a, err);
        return;
      case 'restart': {
        const now = performance.now();
        a.restarts = a.restarts.filter((t) => now - t < sup.withinMs);
        if (a.restarts.length >= sup.maxRestarts) {
          this.#escalate(a, err);
          return;
        }
        a.restarts.push(now);
        const n = a.restarts.length;
        let delay = sup.minMs > 0 ? Math.min(sup.maxMs, sup.minMs * 2 ** (n - 1)) : 0;
        if (delay > 0 && sup.jitter > 0) delay = Math.max(0, delay * (1 + sup.jitter * (2 * Math.random() - 1)));
        this.#restart(a, delay, false);
        return;
      }
    }
  }

  /** Stops `a` with a failure and hands the failure to its parent (or reports it). */
  #escalate(a: LocalActor, err: unknown): void {
    const parent = a.spec.parent;
    this.#terminate(a, TERM_FAILED, err);
    if (parent !== null) {
      const id = a.id;
      this.systemMessage(parent.id, SYS_CHILD_FAILED, false, (w) => {
        w.u32(id);
        try {
          w.value(err);
        } catch {
          w.value(new Error(String((err as Error)?.message ?? err)));
        }
      });
    }
  }

  /** Old `onStop`, children stopped, timers cleared, then (after `delay`) `init` and `onStart`. */
  #restart(a: LocalActor, delay: number, fromParent: boolean): void {
    a.status = RESTARTING;
    a.incarnation++;
    if (a.busy) {
      a.busy = false;
    }
    a.stopAfter = false;
    this.#clearTimers(a);
    this.#stopChildren(a);
    this.#native.countRestart(a.id);
    const parent = a.spec.parent;
    if (!fromParent && parent !== null && a.spec.siblings === 'all-for-one') {
      const id = a.id;
      this.systemMessage(parent.id, SYS_CHILD_RESTARTED, false, (w) => w.u32(id));
    }
    const incarnation = a.incarnation;
    const begin = (): void => {
      if (a.incarnation !== incarnation || a.status === STOPPED) return;
      if (delay > 0) {
        this.busy++;
        setTimeout(() => {
          this.busy--;
          if (a.incarnation !== incarnation || a.status === STOPPED) return;
          a.status = STARTING;
          this.#start(a);
          this.pump();
        }, delay);
      } else {
        a.status = STARTING;
        this.#start(a);
      }
    };
    this.#runStopHook(a, begin);
  }

  #runStopHook(a: LocalActor, then: () => void): void {
    const hook = a.def.onStop;
    if (hook === undefined || a.state === undefined) return then();
    let r: unknown;
    try {
      r = hook(a.state, a.ctx as never);
    } catch {
      return then(); // onStop failing must not block the restart or stop
    }
    let thenable = false;
    try {
      thenable = isThenable(r);
    } catch {
      // onStop's result cannot be awaited: it failing must not block the restart or stop either.
    }
    if (thenable) this.#await(r as PromiseLike<unknown>, then, then);
    else then();
  }

  #clearTimers(a: LocalActor): void {
    for (const t of a.timers.values()) clearTimeout(t);
    this.#timers -= a.timers.size;
    a.timers.clear();
  }

  #stopChildren(a: LocalActor): void {
    for (const [id] of a.children) this.systemMessage(id, SYS_KILL, false);
    a.children.clear();
  }

  /** Ends `a`: stops its children, runs `onStop`, frees its mailbox (the rest are dead letters). */
  #terminate(a: LocalActor, reason: number, error: unknown): void {
    if (a.status === STOPPED) return;
    const wasStarted = a.status === RUNNING || a.status === RESTARTING;
    a.status = STOPPED;
    a.incarnation++;
    this.#clearTimers(a);
    this.#stopChildren(a);
    this.#actors.delete(a.id);
    // An async handler still running when the actor ends (killed, or stopped by a failure): its
    // ask fails now rather than never (a later settlement of the handler is ignored, the ask being
    // settled already).
    if (a.current !== undefined) {
      const item = a.current;
      a.current = undefined;
      this.#reply(item, false, new WeftError('WEFT_ACTOR_STOPPED', `actor ${a.id} stopped while handling ${describeType(msgOf(item))}`));
    }
    // Messages still in the JavaScript queue: asks among them fail.
    for (let i = a.head; i < a.queue.length; i++) this.#deadLetter(a.queue[i]!, 'stopped');
    a.queue = [];
    a.head = 0;
    for (const w of a.roomWaiters) {
      this.#deadLetter(w.item, 'stopped');
      w.resolve();
    }
    a.roomWaiters = [];
    this.#native.remove(a.id);
    const finish = (): void => this.#terminatedEvent(a.id, reason, error, a.spec.parent);
    if (wasStarted) this.#runStopHook(a, finish);
    else finish();
  }

  #terminatedEvent(id: number, reason: number, error: unknown, parent: ActorRef | null): void {
    if (parent !== null) this.systemMessage(parent.id, SYS_CHILD_ENDED, false, (w) => w.u32(id));
    if (this.host === 0) {
      if (reason === TERM_UNDEFINED) this.#startFailed(id, error);
      this.#events?.terminated(id, reason, error);
      return;
    }
    this.#event(EV_TERMINATED, id, (w) => {
      w.u8(reason);
      try {
        w.value(error);
      } catch {
        w.value(new Error(String((error as Error)?.message ?? error)));
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // Asks

  #addAsk(entry: PendingAsk, timeout: number): void {
    this.#asks.set(entry.id, entry);
    let b = this.#buckets.get(timeout);
    if (b === undefined) {
      b = { ms: timeout, entries: [], head: 0, timer: undefined };
      this.#buckets.set(timeout, b);
    }
    b.entries.push(entry);
    if (b.timer === undefined) this.#arm(b);
    else if (!b.timer.hasRef()) b.timer.ref();
  }

  #arm(bucket: TimeoutBucket): void {
    const head = bucket.entries[bucket.head];
    if (head === undefined) return;
    const wait = Math.max(0, head.deadline - performance.now());
    // A pending ask keeps the process alive (like a pending pool task) until it settles.
    bucket.timer = setTimeout(() => this.#expire(bucket), Math.ceil(wait) + 1);
  }

  #expire(bucket: TimeoutBucket): void {
    bucket.timer = undefined;
    const now = performance.now();
    const list = bucket.entries;
    while (bucket.head < list.length) {
      const e = list[bucket.head]!;
      if (!e.done && e.deadline > now) break;
      list[bucket.head++] = undefined as unknown as PendingAsk;
      if (!e.done) {
        this.#settleAsk(e.id, false, new WeftError('WEFT_ASK_TIMEOUT', `ask ${describeType(e.msg)} to actor ${e.target} timed out after ${bucket.ms} ms`));
      }
    }
    this.#compact(bucket);
    if (bucket.head < list.length) this.#arm(bucket);
  }

  #compact(bucket: TimeoutBucket): void {
    const list = bucket.entries;
    while (bucket.head < list.length && list[bucket.head]!.done) list[bucket.head++] = undefined as unknown as PendingAsk;
    if (bucket.head === list.length) {
      list.length = 0;
      bucket.head = 0;
    } else if (bucket.head > 1024 && bucket.head * 2 > list.length) {
      bucket.entries = list.slice(bucket.head);
      bucket.head = 0;
    }
  }

  #settleAsk(id: number, ok: boolean, value: unknown): void {
    const e = this.#asks.get(id);
    if (e === undefined) return;
    this.#asks.delete(id);
    e.done = true;
    e.unwatch?.();
    if (!ok && this.#startFailures.size > 0 && (value as { code?: unknown } | null)?.code === 'WEFT_ACTOR_STOPPED') {
      // Its actor never started: say why rather than that it is not running.
      value = this.#startFailure(e.target) ?? value;
    }
    if (ok) e.resolve(value);
    else e.reject(value);
    if (this.#asks.size === 0) {
      // Nothing pending: the timers no longer keep the process alive. They stay scheduled (a
      // timer armed for an earlier ask fires no later than any later ask's deadline, and then
      // re-arms), so a run of one-at-a-time asks does not create and cancel a timer per ask.
      for (const b of this.#buckets.values()) {
        b.timer?.unref();
        b.entries.length = 0;
        b.head = 0;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown

  /** Kills every actor of this thread and rejects every pending ask. */
  close(reason: WeftError): void {
    if (this.#closed) return;
    for (const a of [...this.#actors.values()]) this.#terminate(a, TERM_KILLED, undefined);
    try {
      this.flush();
    } catch {
      // the transport is gone
    }
    for (const id of [...this.#asks.keys()]) this.#settleAsk(id, false, reason);
    for (const list of this.#waiting.values()) for (const w of list) w.reject(reason);
    this.#waiting.clear();
    for (const b of this.#buckets.values()) if (b.timer !== undefined) clearTimeout(b.timer);
    this.#buckets.clear();
    this.#closed = true;
  }
}

const EMPTY_U32 = new Uint32Array(0);
/** The outgoing batch is sent once it holds this many bytes (or at the end of the turn). */
const FLUSH_BYTES = 32 * 1024;
const EMPTY_U8 = new Uint8Array(0);
/** The longest one pump turn runs before the thread's event loop gets a turn. */
const PUMP_BUDGET_MS = 4;

function describeEnvelope(env: Uint8Array): string {
  try {
    const r = new WireReader(env);
    const kind = r.u8();
    if (kind === ENV_ASK) r.offset = 9;
    return describeType(r.value());
  } catch {
    return '(undecodable)';
  }
}

// ---------------------------------------------------------------------------------------------
// The hosts of this thread, by actor system id

const HOSTS = Symbol.for('weft.actor.hosts');
interface HostRegistry {
  hosts: Map<number, ActorHost>;
  /** Makes a host for a system this thread has not seen (pool workers attach on demand). */
  attach: ((system: number, token: number) => ActorHost) | undefined;
}

function hostRegistry(): HostRegistry {
  const g = globalThis as Record<symbol, unknown>;
  let r = g[HOSTS] as HostRegistry | undefined;
  if (r === undefined) {
    r = { hosts: new Map(), attach: undefined };
    g[HOSTS] = r;
  }
  return r;
}

export function registerHost(h: ActorHost): void {
  hostRegistry().hosts.set(h.system, h);
}

export function unregisterHost(h: ActorHost): void {
  const r = hostRegistry();
  if (r.hosts.get(h.system) === h) r.hosts.delete(h.system);
}

/** Installs how this thread attaches to systems it has not seen (the pool worker runtime). */
export function setHostAttacher(attach: (system: number, token: number) => ActorHost): void {
  hostRegistry().attach = attach;
}

export function hostFor(system: number, token: number): ActorHost {
  const r = hostRegistry();
  const h = r.hosts.get(system);
  if (h !== undefined) return h;
  if (r.attach === undefined) {
    throw new WeftError(
      'WEFT_INVALID_ARG',
      `this actor ref belongs to actor system ${system}, which does not run on this thread (refs work on the main thread and on the workers of the system's pool)`,
    );
  }
  const created = r.attach(system, token);
  registerHost(created);
  return created;
}

/** Every actor host of this thread (the worker pump asks them whether they are busy). */
export function hostsOfThisThread(): Iterable<ActorHost> {
  return hostRegistry().hosts.values();
}

setHostResolver(hostFor);
