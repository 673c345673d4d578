/**
 * `ActorSystem`: actors on the main thread and on a pool's workers.
 */
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import { native } from '../native.js';
import { poolInternals, type PoolInternals } from '../pool/pool.js';
import { WireReader } from '../internal/wire.js';
import { ActorHost, DEFAULT_ASK_TIMEOUT, registerHost, unregisterHost } from './host.js';
import { ENV_ASK, ENV_BUNDLE, ENV_DEAD, ENV_SYSTEM, SYS_KILL, SYS_STOP, TERM_LOST, TERM_REASONS, TERM_UNDEFINED } from './protocol.js';
import { ActorRef } from './ref.js';
import { spawnRouter, type Router, type RouterSpawnOptions } from './router.js';
import { NativeRuntime, NativeTransport, type NativeActorSystem } from './transport.js';
import type { AnyActorDefinition, ArgOf, SpawnOptions, Termination } from './types.js';
import { describe } from '../internal/describe.js';

export interface ActorSystemOptions {
  /** The pool whose workers run actors spawned `on: 'worker'` (or a worker index). Without one,
   * actors run on the main thread only. */
  pool?: object;
  /** Default `ask` timeout in milliseconds (30 000). */
  askTimeout?: number;
}

/** The options of `system.shutdown()`. */
export interface ShutdownOptions {
  /** Milliseconds to wait for actors to stop before killing them (default 5000). */
  timeout?: number;
}

/**
 * The option names each bag accepts: anything else throws `WEFT_INVALID_ARG` naming the nearest
 * valid one (src/internal/options.ts). Each list must name every key of its interface (checked at
 * compile time by `optionNames`): add new options to both.
 */
export const ACTOR_SYSTEM_OPTIONS = optionNames<ActorSystemOptions>()(['pool', 'askTimeout']);
const SHUTDOWN_OPTIONS = optionNames<ShutdownOptions>()(['timeout']);

/** Counters of one actor (`system.stats()`). */
export interface ActorStats {
  id: number;
  /** `'main'` or the worker index it runs on. */
  on: 'main' | number;
  /** Messages waiting: in its mailbox, and (same-thread deliveries) in its JavaScript queue. */
  depth: number;
  /**
   * Messages its handlers handled so far, wherever they came from (same thread, other threads,
   * timers): exact for the main thread's actors; a worker's actors add theirs every turn of the
   * worker (so a reply is counted before it reaches the asker). A message handled twice (stashed,
   * then unstashed) counts twice; unhandled ones (dead letters) do not count.
   */
  processed: number;
  restarts: number;
  /** Messages to it that its mailbox dropped (overflow); the system's count and
   * `deadLetters()` also hold the rest (messages to stopped actors, unhandled types). */
  deadLetters: number;
  /**
   * Bytes of the encoded messages in its mailbox now (messages from other threads; same-thread
   * deliveries stay JavaScript objects in its queue, counted in `depth` only), and the most it
   * ever held. A bounded mailbox's peak stays within `capacity` times the largest message, plus
   * the one being taken out.
   */
  mailboxBytes: number;
  mailboxPeakBytes: number;
}

export interface ActorSystemStats {
  actors: ActorStats[];
  /** Dead letters of the whole system: overflow drops, messages to stopped actors, unknown types. */
  deadLetters: number;
}

/**
 * A dead letter kept for inspection (`system.deadLetters()`). `reason`: `'evicted'` (dropped by
 * `drop-oldest`), `'dropped'` (`drop-newest`), `'full'`, `'stopped'` (its actor had stopped, or
 * never started), `'unhandled'` (its actor has no handler for its type, and the sender's ref did
 * not know the definition: untyped, or from another thread). `actor` is 0 when the actor was
 * already gone.
 */
export interface DeadLetterInfo {
  actor: number;
  reason: 'evicted' | 'dropped' | 'full' | 'stopped' | 'unhandled';
  message: unknown;
}

const DEAD_REASONS = ['queued', 'evicted', 'dropped', 'full', 'stopped', 'unhandled'] as const;

interface ActorRecord {
  id: number;
  host: number;
  parent: number;
  /** The START envelope (actors on workers): how it is started again elsewhere. */
  start: Uint8Array;
  watchers: Array<(t: Termination) => void>;
}

function deadLetterOf(actor: number, reason: number, env: Uint8Array): DeadLetterInfo {
  let message: unknown;
  try {
    const r = new WireReader(env);
    const kind = r.u8();
    if (kind === ENV_DEAD) {
      // Found by a host (see protocol.ts): it names its actor and reason.
      actor = r.u32();
      reason = r.u8();
    } else if (kind === ENV_ASK) {
      r.offset = 9;
    }
    message = kind === ENV_SYSTEM ? '(system message)' : r.value();
  } catch {
    message = '(undecodable)';
  }
  return { actor, reason: (DEAD_REASONS[reason] ?? 'stopped') as DeadLetterInfo['reason'], message };
}

/** The events of an actor system. */
export interface ActorSystemEvents {
  /** A top-level actor failed for good (not restarted, or escalated with no parent to take it). */
  failure: [event: { actor: number; error: unknown }];
}

/**
 * Actors on the main thread and on a pool's workers.
 *
 * ```ts
 * const pool = new Pool({ module: new URL('./actors.js', import.meta.url) });
 * await using system = new ActorSystem({ pool });
 * const counter = system.spawn(Counter, 0, { on: 'worker' });
 * counter.tell({ type: 'add', by: 2 });
 * const n = await counter.ask({ type: 'get' });
 * ```
 */
export class ActorSystem extends EventEmitter<ActorSystemEvents> {
  readonly #native: NativeActorSystem;
  readonly #host: ActorHost;
  readonly #pool: PoolInternals | undefined;
  readonly #records = new Map<number, ActorRecord>();
  readonly #ended = new Map<number, Termination>();
  readonly #unlisten: (() => void) | undefined;
  #shutdown: Promise<void> | undefined;
  /** Keeps the process alive while actors live on workers (they run on their own). */
  readonly #keepAlive: NodeJS.Timeout;
  #unrefd = false;
  #onWorkers = 0;
  /** Whether a definition that could not be found was reported as a process warning. */
  #warned = false;

  constructor(given: ActorSystemOptions = {}) {
    super();
    if (given === null || typeof given !== 'object') throw new InvalidArgumentError('ActorSystem expects an options object');
    const options = checkOptionNames(given, ACTOR_SYSTEM_OPTIONS, 'ActorSystem options');
    let pool: PoolInternals | undefined;
    if (options.pool !== undefined) {
      pool = poolInternals(options.pool);
      if (pool === undefined) throw new InvalidArgumentError('pool must be a weft Pool');
    }
    const { askTimeout } = options;
    if (askTimeout !== undefined && (typeof askTimeout !== 'number' || !(askTimeout > 0))) {
      throw new InvalidArgumentError(`askTimeout must be a positive number of milliseconds, got ${describe(askTimeout)}`);
    }
    this.#pool = pool;
    try {
      this.#native = new native.NativeActorSystem(pool?.native ?? null);
    } catch (err) {
      throw fromNative(err);
    }
    this.#host = new ActorHost({
      system: this.#native.id,
      process: this.#native.token,
      transport: new NativeTransport(this.#native, 0),
      runtime: new NativeRuntime(this.#native, 0),
      workers: pool?.threads ?? 0,
      askTimeout: askTimeout ?? DEFAULT_ASK_TIMEOUT,
      events: {
        spawned: (id, host, parent, start) => this.#spawned(id, host, parent, start),
        terminated: (id, reason, error) => this.#terminated(id, reason, error),
      },
      pickWorker: () => this.#pickWorker(),
    });
    registerHost(this.#host);
    this.#keepAlive = setInterval(() => {}, 1 << 30);
    this.#keepAlive.unref();
    this.#unlisten = pool?.onWorkerLost((slot) => this.#workerLost(slot));
  }

  /**
   * Starts an actor of definition `def` with `arg` (passed to its `init`). Returns its ref at
   * once; messages sent before the actor has started wait in its mailbox.
   */
  spawn<D extends AnyActorDefinition>(def: D, arg: ArgOf<D>, options?: SpawnOptions): ActorRef<D> {
    this.#pool?.ensureWorkers();
    return this.#host.spawn(def, arg, options, undefined) as unknown as ActorRef<D>;
  }

  /**
   * A pool router: `size` routees of `def` (each spawned with `arg`) behind one `Router`, spread
   * over the pool's workers by default (routee i on worker i % threads). The router drops a
   * routee that ends; `router.stop()` stops them all. See router.ts.
   */
  router<D extends AnyActorDefinition>(def: D, arg: ArgOf<D>, options?: RouterSpawnOptions<D>): Router<D> {
    return spawnRouter(this, this.#pool?.threads ?? 0, def, arg, options);
  }

  /** The running actor registered under `name`. */
  lookup<D = AnyActorDefinition>(name: string): ActorRef<D> | undefined {
    return this.#host.lookup(name) as unknown as ActorRef<D> | undefined;
  }

  /** Stops an actor after the messages already queued (from this thread) are handled. */
  stop(ref: ActorRef): Promise<Termination> {
    const id = refId(ref, 'stop');
    return typeof id === 'number' ? this.#stop(id) : Promise.reject(id);
  }

  #stop(id: number): Promise<Termination> {
    const done = this.#watch(id);
    this.#host.systemMessage(id, SYS_STOP, true);
    return done;
  }

  /** Stops an actor at once: queued messages become dead letters (their asks reject). */
  kill(ref: ActorRef): Promise<Termination> {
    const id = refId(ref, 'kill');
    if (typeof id !== 'number') return Promise.reject(id);
    const done = this.#watch(id);
    this.#host.systemMessage(id, SYS_KILL, false);
    return done;
  }

  /** Resolves when the actor ends, with why. */
  watch(ref: ActorRef): Promise<Termination> {
    const id = refId(ref, 'watch');
    return typeof id === 'number' ? this.#watch(id) : Promise.reject(id);
  }

  #watch(id: number): Promise<Termination> {
    const rec = this.#records.get(id);
    if (rec === undefined) {
      return Promise.resolve(this.#ended.get(id) ?? { reason: 'stopped' });
    }
    return new Promise((resolve) => rec.watchers.push(resolve));
  }

  /** @internal Whether `ref` addresses an actor of this system (weftjs/cluster: which refs a node may export). */
  owns(ref: ActorRef): boolean {
    return ref.system === this.#native.id && ref.process === this.#native.token;
  }

  /** Per-actor counters and the system's dead letters. */
  stats(): ActorSystemStats {
    // The main thread's handled messages are added to the runtime's counts here (workers add
    // theirs every turn).
    this.#host.countProcessed();
    const actors: ActorStats[] = this.#native.stats().map((s) => ({
      id: s.id,
      on: s.host === 0 ? 'main' : s.host - 1,
      depth: s.depth + s.systemDepth + (s.host === 0 ? (this.#host.localDepth(s.id) ?? 0) : 0),
      processed: s.processed,
      restarts: s.restarts,
      deadLetters: s.deadLetters,
      mailboxBytes: s.mailboxBytes,
      mailboxPeakBytes: s.mailboxPeakBytes,
    }));
    return { actors, deadLetters: this.#native.deadLetters() + this.#host.localDeadLetters };
  }

  /** The most recent dead letters that went through the mailboxes (up to 64), oldest first. */
  deadLetters(): DeadLetterInfo[] {
    const out: DeadLetterInfo[] = [];
    for (const d of this.#native.recentDeadLetters()) {
      const env = d.envelope;
      if (env[0] === ENV_BUNDLE) {
        // Consecutive messages from one sender, queued as one entry: one dead letter each.
        try {
          const r = new WireReader(env);
          r.offset = 1;
          const n = r.u32();
          for (let i = 0; i < n; i++) {
            const len = r.u32();
            out.push(deadLetterOf(d.actor, d.reason, env.subarray(r.offset, r.offset + len)));
            r.offset += len;
          }
        } catch {
          out.push({ actor: d.actor, reason: (DEAD_REASONS[d.reason] ?? 'stopped') as DeadLetterInfo['reason'], message: '(undecodable)' });
        }
      } else {
        out.push(deadLetterOf(d.actor, d.reason, env));
      }
    }
    return out.length > 64 ? out.slice(-64) : out;
  }

  /**
   * Stops every top-level actor (children stop with their parents), after the messages already
   * queued; actors still running after `timeout` ms are killed. Pending asks reject with
   * `WEFT_CLOSED`. The pool is not closed (it may serve other work).
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (options === null || typeof options !== 'object') {
      return Promise.reject(
        new InvalidArgumentError(`shutdown options must be an object, got ${options === null ? 'null' : typeof options}`),
      );
    }
    try {
      options = checkOptionNames(options, SHUTDOWN_OPTIONS, 'shutdown options');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.#shutdown ??= (async () => {
      const timeout = options.timeout ?? 5000;
      const top = [...this.#records.values()].filter((r) => r.parent === 0);
      const all = top.map((r) => this.#stop(r.id));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(all), new Promise<void>((res) => (timer = setTimeout(res, timeout)))]);
      clearTimeout(timer);
      for (const r of [...this.#records.values()]) {
        this.#host.systemMessage(r.id, SYS_KILL, false);
      }
      this.#host.pump();
      this.#host.close(new WeftError('WEFT_CLOSED', 'the actor system is shut down'));
      this.#unlisten?.();
      unregisterHost(this.#host);
      clearInterval(this.#keepAlive);
    })();
    return this.#shutdown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  #spawned(id: number, host: number, parent: number, start: Uint8Array): void {
    this.#records.set(id, { id, host, parent, start, watchers: [] });
    if (host > 0 && this.#onWorkers++ === 0 && !this.#unrefd) this.#keepAlive.ref();
  }

  /**
   * By default the system keeps the process alive while actors live on pool workers (they work
   * on their own, like a listening server), until `shutdown()`. After `unref()` it does not.
   */
  unref(): this {
    this.#unrefd = true;
    this.#keepAlive.unref();
    return this;
  }

  /** Undoes `unref()`. */
  ref(): this {
    this.#unrefd = false;
    if (this.#onWorkers > 0) this.#keepAlive.ref();
    return this;
  }

  #terminated(id: number, reason: number, error: unknown): void {
    const rec = this.#records.get(id);
    this.#records.delete(id);
    if (rec !== undefined && rec.host > 0 && --this.#onWorkers === 0) this.#keepAlive.unref();
    const t: Termination = { reason: TERM_REASONS[reason] ?? 'stopped' };
    if (error !== undefined) t.error = error;
    this.#ended.set(id, t);
    if (this.#ended.size > 10_000) this.#ended.delete(this.#ended.keys().next().value!);
    for (const w of rec?.watchers ?? []) w(t);
    if (t.reason === 'failed' && rec !== undefined && rec.parent === 0 && this.listenerCount('failure') > 0) {
      this.emit('failure', { actor: id, error });
    } else if (reason === TERM_UNDEFINED && !this.#warned) {
      // A program that only tells would not notice otherwise: say it once.
      this.#warned = true;
      process.emitWarning((error as Error | undefined)?.message ?? `actor ${id} could not start`, { code: 'WEFT_INVALID_ARG' });
    }
  }

  /** The worker with the fewest actors. */
  #pickWorker(): number {
    const n = this.#pool?.threads ?? 0;
    const load = new Array<number>(n).fill(0);
    for (const r of this.#records.values()) if (r.host > 0) load[r.host - 1]!++;
    let best = 0;
    for (let i = 1; i < n; i++) if (load[i]! < load[best]!) best = i;
    return best;
  }

  /** A worker died: its actors start again on other workers, with the same refs. */
  #workerLost(slot: number): void {
    const pool = this.#pool!;
    const dead = slot + 1;
    const moved = [...this.#records.values()].filter((r) => r.host === dead);
    if (moved.length === 0) return;
    let turn = slot;
    for (const r of moved) {
      let target = slot;
      for (let i = 1; i <= pool.threads; i++) {
        const k = (turn + i) % pool.threads;
        if (k !== slot && pool.isLive(k)) {
          target = k;
          break;
        }
      }
      turn = target;
      if (r.start.length === 0) {
        this.#native.remove(r.id);
        this.#terminated(r.id, TERM_LOST, new WeftError('WEFT_WORKER_EXIT', `the worker running actor ${r.id} exited`));
        continue;
      }
      const env = r.start.slice();
      env[2] = 1; // moved: senders on its new thread go through its mailbox too
      try {
        this.#native.rehome(r.id, target + 1, env);
        r.host = target + 1;
      } catch {
        this.#terminated(r.id, TERM_LOST, new WeftError('WEFT_WORKER_EXIT', `the worker running actor ${r.id} exited`));
      }
    }
    pool.ensureWorkers();
  }
}

/** The id of `ref` for `stop`/`kill`/`watch`, or the error to reject with when it is not an ActorRef. */
function refId(ref: unknown, what: string): number | InvalidArgumentError {
  let ok = false;
  try {
    ok = ref instanceof ActorRef;
  } catch {
    // A Proxy whose getPrototypeOf trap throws.
  }
  const id: unknown = ok ? (ref as ActorRef).id : undefined;
  // Object.create(ActorRef.prototype) passes instanceof but has no id.
  return typeof id === 'number' ? id : new InvalidArgumentError(`system.${what} expects an ActorRef, got ${describe(ref)}`);
}
