/**
 * `ClusterNode`: one process's membership in a weft cluster on NATS. It hosts actors of the kinds
 * it registered (in a local `ActorSystem`), places named actors cluster-wide through JetStream KV
 * (compare-and-set: one activation per name), sends to remote actors by subject (NATS interest is
 * the directory: no lookup to send), correlates asks itself on one reply subscription, and serves
 * local pools through queue groups.
 *
 * Every ask settles exactly once: its entry leaves the pending table before it is settled, by
 * whichever comes first (reply, failure, timeout, abort, disconnect, drain).
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { connect as natsConnect, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { ActorRef, ActorSystem, type AnyActorDefinition, type ArgOf, type AskOptions } from '../actor/index.js';
import { DataCloneError, InvalidArgumentError, WeftError } from '../errors.js';
import { AskTable } from '../internal/ask-table.js';
import { type DeadlineBucket, Deadlines } from '../internal/deadlines.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { microtask } from '../internal/promise.js';
import { handleCodecFor } from '../internal/wire.js';
import type { Pool, TaskArgs, TaskModule, TaskName, TaskResult } from '../pool/index.js';
import { MessageTooLargeError, disconnected } from './errors.js';
import {
  ASK,
  ASKS,
  BATCH,
  BATCH_HEADER,
  CALL,
  FAILURE,
  type Frame,
  FrameCodec,
  KEYED_ENTRY_OVERHEAD,
  type KeyedEntry,
  REPLIES,
  REPLY,
  TELL,
  batchFrame,
  isKeyed,
  keyedFrame,
} from './frame.js';
import { startGateway, stopGateway } from './gateway.js';
import { Membership } from './membership.js';
import { networkProfile } from './profile.js';
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  type SpawnRemoteOptions,
  resolveOptions,
  resolveSpawnOptions,
} from './options.js';
import { type RemoteAddress, RemoteRef, type RemoteSender, setThreadSender } from './remote-ref.js';
import { Subjects, checkToken } from './subjects.js';

/** A placement record in KV (JSON): who hosts a named actor. */
interface Placement {
  node: string;
  incarnation: number;
  kind: string;
  restart: 'none' | 'respawn';
  /** The spawn argument, as a frame's bytes in base64 (a respawn starts from it). */
  arg: string;
}

/** What a node knows of a named actor's placement (from the KV watch). */
interface Known {
  readonly placement: Placement;
  readonly revision: number;
}

/** The events of a node (`node.on(...)`). */
export interface ClusterEventMap {
  /** A node was heard for the first time (or again after it was declared down). */
  nodeUp: [node: string];
  /** A node was silent for the failure window, or left (`bye`: it called drain()). */
  nodeDown: [node: string, info: { silentMs: number; bye: boolean }];
  /** This node started a `restart: 'respawn'` actor whose node went down (it won the placement). */
  respawned: [name: string, info: { from: string; incarnation: number }];
  /** This node stopped an actor whose placement names another node or incarnation now (after a partition). */
  fenced: [name: string, info: { placedOn: string | undefined }];
}

interface Hosted {
  readonly ref: ActorRef;
  readonly sub: Subscription;
  readonly revision: number;
  readonly incarnation: number;
}

interface PendingAsk {
  readonly id: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  readonly subject: string;
  /** The actor asked (undefined for a pool call): an ask to a node declared down fails WEFT_NODE_DOWN. */
  readonly target: RemoteAddress | undefined;
  readonly frame: Uint8Array;
  /** The batch (ASKS frame) it went in, if it went with others: its replies come on that batch's subject. */
  batch: number | undefined;
  /** `performance.now()` at its deadline. */
  readonly deadline: number;
  readonly what: string;
  /** Settled (its timeout bucket lets go of it). */
  done: boolean;
  bucket: DeadlineBucket | undefined;
  retry: NodeJS.Timeout | undefined;
  attempts: number;
  /** The last answer was "no responders" (503): at the deadline the ask fails WEFT_NO_ACTOR. */
  nobody: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A node's counters (`node.stats()`; exported by weftjs/metrics as `clusters`). */
export interface ClusterStats {
  /** This node's name. */
  node: string;
  /** Nodes this node counts as members now, itself included. */
  members: number;
  /** This node's asks and pool calls waiting for their outcome, by the node of their target (`'?'`: not known, such as pool calls). */
  asksInFlight: Record<string, number>;
  /** Asks and pool calls sent since connect. */
  asks: number;
  /** Tells sent since connect. */
  tells: number;
  /** Asks that ended `WEFT_ASK_TIMEOUT`, `WEFT_NO_ACTOR`, `WEFT_NODE_DOWN`, `WEFT_DISCONNECTED`. */
  askTimeouts: number;
  askNoActor: number;
  askNodeDown: number;
  askDisconnected: number;
  /** Messages, asks and calls from the cluster handled here. */
  received: number;
  /** `nodeDown` events, respawns won, actors fenced, reconnections of this node's connection. */
  nodeDownEvents: number;
  respawns: number;
  fenced: number;
  reconnects: number;
  /** Bytes of the node's connection (the NATS protocol included). */
  bytesIn: number;
  bytesOut: number;
}

/** A pool of another node (or this one), called through the cluster (`node.pool(name)`). */
export interface RemotePool<M extends TaskModule = TaskModule> {
  /** Runs task `name` on one of the nodes that serve this pool (NATS picks one of the queue group). */
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>>;
  /** As `run`, with a timeout (ms) and an abort signal. */
  runWith<K extends TaskName<M>>(
    options: { timeout?: number; signal?: AbortSignal },
    name: K,
    ...args: TaskArgs<M, K>
  ): Promise<TaskResult<M, K>>;
}

/** The largest batch of tells and asks to one actor, or of replies (or the servers' max_payload, if smaller). */
const MAX_BATCH_BYTES = 64 * 1024;

/** Whether `bytes` may join batch `p` (a TELL batch or a keyed one: the larger overhead counts). */
function fits(p: Pending, bytes: Uint8Array, maxPayload: number): boolean {
  const overhead = KEYED_ENTRY_OVERHEAD * (p.frames.length + 1);
  return BATCH_HEADER + overhead + p.size + bytes.length <= Math.min(MAX_BATCH_BYTES, maxPayload);
}

/**
 * Tells and asks to one subject waiting for the end of this turn of the event loop (or replies to
 * one asker's batches): their frames, their ask ids (0 for a tell), how many are asks.
 */
interface Pending {
  frames: Uint8Array[];
  ids: number[];
  size: number;
  asks: number;
}

/** The asks of one batch still waiting for an answer (a hostile reply cannot settle other asks). */
interface Batch {
  readonly ids: ReadonlySet<number>;
  left: number;
}

/** First retry of an ask that found nobody listening (503), doubled up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 10;
const MAX_RETRY_MS = 250;

function isNoResponders(m: Msg): boolean {
  const h = m.headers;
  return h?.hasError === true && h.code === 503;
}

export class ClusterNode implements RemoteSender {
  /** This node's name (unique in the cluster). */
  readonly name: string;
  /** The cluster's name: its subjects are `weft.<cluster>.>`. */
  readonly cluster: string;
  /** @internal The gateway actor through which this node's RemoteRefs work on its pool workers. */
  readonly gateway: ActorRef;
  readonly #o: ResolvedClusterOptions;
  readonly #nc: NatsConnection;
  readonly #placements: KV;
  readonly #subjects: Subjects;
  readonly #system: ActorSystem;
  readonly #ownsSystem: boolean;
  readonly #codec: FrameCodec;
  readonly #kinds = new Map<string, AnyActorDefinition>();
  readonly #kindNames = new Map<AnyActorDefinition, string>();
  readonly #hosted = new Map<string, Hosted>();
  /** Local actors whose refs went out on the network, by id (messages come back by id). */
  readonly #exported = new Map<number, ActorRef>();
  /** This node's asks and calls in flight, by id (ids are sequential: see AskTable). */
  readonly #asks = new AskTable<PendingAsk>();
  /** Their timeouts: one timer per bucket of asks with the same timeout (not one per ask). */
  readonly #deadlines = new Deadlines<PendingAsk>((p, ms) =>
    this.#settle(
      p.id,
      p.nobody
        ? new WeftError('WEFT_NO_ACTOR', `${p.what}: no node hosts it (nobody listened until the deadline, ${ms} ms)`)
        : new WeftError('WEFT_ASK_TIMEOUT', `${p.what} got no reply within ${ms} ms`),
      false,
    ),
  );
  #nextAsk = 0;
  readonly #batches = new Map<number, Batch>();
  #nextBatch = 1;
  /** Asks and calls in flight by target subject (`maxInFlight`). */
  readonly #inFlight = new Map<string, number>();
  /** Replies to other nodes' batched asks, by their reply subject, sent at the end of the turn. */
  readonly #replies = new Map<string, Pending>();
  #repliesQueued = false;
  readonly #served = new Map<string, Subscription>();
  readonly #subs: Subscription[] = [];
  /** Asks and calls from other nodes being handled here (drain waits for them). */
  #handling = 0;
  readonly #membership: Membership;
  /** Named actors' placements as the KV watch reports them. */
  readonly #known = new Map<string, Known>();
  readonly #events = new EventEmitter();
  readonly #gatewayKey: string;
  readonly #counts = {
    asks: 0,
    tells: 0,
    askTimeouts: 0,
    askNoActor: 0,
    askNodeDown: 0,
    askDisconnected: 0,
    received: 0,
    nodeDownEvents: 0,
    respawns: 0,
    fenced: 0,
    reconnects: 0,
  };
  #reconciler: NodeJS.Timeout;
  #connected = true;
  #state: 'open' | 'draining' | 'closed' = 'open';
  #closing: Promise<void> | undefined;

  private constructor(
    o: ResolvedClusterOptions,
    nc: NatsConnection,
    placements: KV,
    system: ActorSystem,
    ownsSystem: boolean,
    membership: Membership,
    watch: AsyncIterable<KvWatchEntry>,
  ) {
    this.#o = o;
    this.#membership = membership;
    this.name = o.name;
    this.cluster = o.cluster;
    this.#nc = nc;
    this.#placements = placements;
    this.#system = system;
    this.#ownsSystem = ownsSystem;
    this.#subjects = new Subjects(o.cluster, o.name);
    this.#codec = new FrameCodec(
      networkProfile({
        self: o.name,
        sender: this,
        export: (ref) => {
          if (!system.owns(ref)) {
            throw new DataCloneError(
              `${ref.toString()} belongs to another ActorSystem than node ${o.name}'s: only the node's own actors (node.system) can be reached from other machines`,
            );
          }
          this.#exported.set(ref.id, ref);
        },
        local: (id) => this.#exported.get(id),
      }),
      (v) => !(v instanceof ActorRef) && !(v instanceof RemoteRef) && this.#isHandle(v),
    );
    this.#subs.push(nc.subscribe(this.#subjects.replyWildcard, { callback: (_e, m) => this.#onReply(m) }));
    this.#subs.push(nc.subscribe(this.#subjects.byIdWildcard, { callback: (_e, m) => this.#onById(m) }));
    const g = startGateway(this, system);
    this.gateway = g.ref;
    this.#gatewayKey = g.key;
    void this.#watchStatus();
    void this.#watchPlacements(watch);
    this.#reconciler = setInterval(() => this.#reconcile(), o.failureWindowMs);
    this.#reconciler.unref();
    setThreadSender(this);
  }

  /** @internal `connect()`'s work. */
  static async open(options: ClusterOptions): Promise<ClusterNode> {
    const o = resolveOptions(
      options,
      `${hostname()
        .replace(/[^A-Za-z0-9_-]/g, '-')
        .slice(0, 40)}-${process.pid}`,
    );
    let nc: NatsConnection;
    try {
      nc = await natsConnect(o.nats as NodeConnectionOptions);
    } catch (err) {
      throw connectError(err, o.servers);
    }
    try {
      let kv: KV;
      try {
        kv = await new Kvm(nc).create(new Subjects(o.cluster, o.name).placementBucket, { history: 1, replicas: o.replicas });
      } catch (err) {
        if (/permission/i.test(`${(err as Error)?.name ?? ''} ${thrownMessage(err)}`)) {
          throw new WeftError(
            'WEFT_AUTH',
            `cluster: this node's credentials may not use the placement bucket of cluster ${o.cluster} (JetStream API): ${thrownMessage(err)}. A node needs publish and subscribe on weft.${o.cluster}.>, _INBOX.> and the JetStream API of KV_weft_${o.cluster}_placement`,
            { cause: err },
          );
        }
        throw new InvalidArgumentError(
          `cluster: cannot open the placement bucket (JetStream KV) on ${o.servers.join(', ')}: ${thrownMessage(err)}. weft's cluster needs JetStream (nats-server -js)`,
          { cause: err },
        );
      }
      let watch: Awaited<ReturnType<KV['watch']>>;
      try {
        watch = await kv.watch({ key: 'a.>' });
      } catch (err) {
        // A JetStream that is still electing its leaders (a cluster just started) times out here.
        throw disconnected(`cluster: cannot watch the placement bucket on ${o.servers.join(', ')}: ${thrownMessage(err)}`, err);
      }
      // Membership events that come before the node exists are replayed to it.
      let node: ClusterNode | undefined;
      const early: Array<(n: ClusterNode) => void> = [];
      const deliver = (f: (n: ClusterNode) => void): void => {
        if (node === undefined) early.push(f);
        else f(node);
      };
      const membership = await Membership.start(o.nats, o.cluster, o.name, o.failureWindowMs, {
        up: (n) => deliver((x) => x.#nodeUp(n)),
        down: (n, info) => deliver((x) => x.#nodeDown(n, info)),
      }).catch((err: unknown) => {
        watch.stop();
        throw err;
      });
      const system = o.system ?? new ActorSystem(o.pool === undefined ? {} : { pool: o.pool });
      node = new ClusterNode(o, nc, kv, system, o.system === undefined, membership, watch);
      for (const f of early) f(node);
      return node;
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    }
  }

  /** The local ActorSystem this node hosts actors in. */
  get system(): ActorSystem {
    return this.#system;
  }

  /** Whether the node has its server connection now. */
  get connected(): boolean {
    return this.#connected && this.#state !== 'closed';
  }

  /** The servers' `max_payload`: the largest message, ask, reply or call in bytes. */
  get maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1024 * 1024;
  }

  /**
   * The actor kinds this node can host, by name (the same names on every node: code never
   * travels, the name does). Returns the node.
   */
  register(kinds: Record<string, AnyActorDefinition>): this {
    if (kinds === null || typeof kinds !== 'object')
      throw new InvalidArgumentError(`register expects an object of actor definitions by name, got ${describe(kinds)}`);
    for (const [name, def] of Object.entries(kinds)) {
      checkToken(name, 'an actor kind name');
      if (def === null || typeof def !== 'object' || typeof (def as { handlers?: unknown }).handlers !== 'object') {
        throw new InvalidArgumentError(`register: ${name} is not an actor definition (defineActor(...)), got ${describe(def)}`);
      }
      const had = this.#kinds.get(name);
      if (had !== undefined && had !== def)
        throw new InvalidArgumentError(`register: the kind ${name} is registered already with another definition`);
      this.#kinds.set(name, def);
      this.#kindNames.set(def, name);
    }
    return this;
  }

  /**
   * Spawns a named actor here, with one activation cluster-wide: its placement is created in KV
   * with compare-and-set, so a name placed by any node (this one included) rejects with
   * `WEFT_INVALID_ARG` naming the node that holds it. Resolves with a ref by name.
   */
  async spawn<D extends AnyActorDefinition>(def: D, arg: ArgOf<D>, options: SpawnRemoteOptions): Promise<RemoteRef<D>> {
    this.#open('spawn');
    const { name, restart, on } = resolveSpawnOptions(options);
    const kind = this.#kindNames.get(def);
    if (kind === undefined)
      throw new InvalidArgumentError(
        `spawn: register the actor's definition first (node.register({ Kind })): the kind of ${describe(def)} is unknown here`,
      );
    const key = this.#subjects.placementKey(name);
    const placement: Placement = {
      node: this.name,
      incarnation: 1,
      kind,
      restart,
      arg: Buffer.from(this.#codec.encode(REPLY, arg, 'arg')).toString('base64'),
    };
    let revision: number;
    try {
      revision = await this.#placements.create(key, JSON.stringify(placement));
    } catch (err) {
      const holder = await this.#placements.get(key).catch(() => null);
      if (!holder?.value?.length) {
        // Not a name taken: the bucket did not answer (a timeout, the connection, JetStream's
        // leaders being elected). Whether the placement was stored is not known: a `get` says.
        throw disconnected(`spawn: the placement of ${name} was not confirmed by the NATS servers: ${thrownMessage(err)}`, err);
      }
      let on = 'another node';
      try {
        on = `node ${(holder.json() as Placement).node}`;
      } catch {
        /* a record that is not ours: say "another node" */
      }
      throw new InvalidArgumentError(`spawn: an actor named ${name} is placed on ${on} already`, { cause: err });
    }
    let ref: ActorRef;
    try {
      ref = this.#system.spawn(def, arg, on === undefined ? {} : { on }) as unknown as ActorRef;
    } catch (err) {
      await this.#placements.delete(key, { previousSeq: revision }).catch(() => {});
      throw err;
    }
    this.#host(name, ref, revision, 1);
    // The subscription is on the server (and so reachable) once the server has seen it.
    await this.#nc.flush();
    return new RemoteRef<D>({ name }, this);
  }

  #host(name: string, ref: ActorRef, revision: number, incarnation: number): void {
    const sub = this.#nc.subscribe(this.#subjects.actor(name), { callback: (_e, m) => this.#onActor(ref, m, name) });
    this.#hosted.set(name, { ref, sub, revision, incarnation });
  }

  /** A ref to the actor named `name`, wherever it is placed (no lookup: NATS routes by subject). */
  ref<D extends AnyActorDefinition = AnyActorDefinition>(name: string): RemoteRef<D> {
    checkToken(name, 'an actor name');
    return new RemoteRef<D>({ name }, this);
  }

  /** Serves a local pool's tasks to the cluster under `name` (a NATS queue group: one node takes each call). */
  serve<M>(name: string, pool: Pool<M>): void {
    this.#open('serve');
    checkToken(name, 'a pool name');
    if (this.#served.has(name)) throw new InvalidArgumentError(`serve: this node serves a pool named ${name} already`);
    if (pool === null || typeof pool !== 'object' || typeof (pool as { run?: unknown }).run !== 'function') {
      throw new InvalidArgumentError(`serve: expected a weft Pool, got ${describe(pool)}`);
    }
    const sub = this.#nc.subscribe(this.#subjects.pool(name), {
      queue: name,
      callback: (_e, m) => this.#onCall(pool as unknown as Pool, m),
    });
    this.#served.set(name, sub);
  }

  /** A pool served by some node(s) of the cluster under `name`, typed by its task module. */
  pool<M extends TaskModule = TaskModule>(name: string): RemotePool<M> {
    checkToken(name, 'a pool name');
    const subject = this.#subjects.pool(name);
    const call = (options: { timeout?: number; signal?: AbortSignal }, task: string, args: unknown[]): Promise<never> => {
      if (typeof task !== 'string')
        return Promise.reject(new InvalidArgumentError(`run: the task name must be a string, got ${describe(task)}`));
      return this.#request(subject, CALL, [task, ...args], 'args', options, `task ${task} of pool ${name}`, undefined) as Promise<never>;
    };
    return {
      run: (task, ...args) => call({}, task, args),
      runWith: (options, task, ...args) => call(options ?? {}, task, args),
    };
  }

  /** @internal RemoteRef.tell */
  tell(to: RemoteAddress, msg: unknown): void {
    this.#open('tell');
    const bytes = this.#codec.encode(TELL, msg, 'msg');
    // Each message is checked before it joins a batch: the batch never makes it too large.
    this.#checkSize(bytes, 'the message');
    this.#counts.tells++;
    this.#enqueue(this.#subject(to), bytes, 0);
  }

  /** Adds a tell (`id` 0) or an ask's frame to what goes to `subject` at the end of this turn. */
  #enqueue(subject: string, bytes: Uint8Array, id: number): void {
    let p = this.#pending.get(subject);
    if (p !== undefined && !fits(p, bytes, this.maxPayload)) {
      this.#flushSubject(subject, p);
      p = undefined;
    }
    if (p === undefined) {
      p = { frames: [], ids: [], size: 0, asks: 0 };
      this.#pending.set(subject, p);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        microtask(this.#flushAll);
      }
    }
    p.frames.push(bytes);
    p.ids.push(id);
    p.size += bytes.length;
    if (id !== 0) p.asks++;
  }

  /** Tells waiting for the end of this turn, by subject (in the order their subjects were first told). */
  readonly #pending = new Map<string, Pending>();
  #flushQueued = false;
  readonly #flushAll = (): void => {
    this.#flushQueued = false;
    for (const [subject, p] of this.#pending) this.#flushSubject(subject, p);
  };

  /**
   * Sends what waits for `subject`: tells alone as one TELL or a BATCH; one ask alone as an ASK
   * whose reply comes on its own subject; several messages with asks among them as an ASKS frame
   * whose replies come, as REPLIES frames, on the batch's subject.
   */
  #flushSubject(subject: string, p: Pending): void {
    this.#pending.delete(subject);
    try {
      if (p.asks === 0) {
        this.#nc.publish(subject, p.frames.length === 1 ? p.frames[0]! : batchFrame(p.frames, p.size));
      } else if (p.frames.length === 1) {
        this.#nc.publish(subject, p.frames[0]!, { reply: this.#subjects.reply(p.ids[0]!) });
      } else {
        const k = this.#nextBatch++;
        const ids = new Set<number>();
        for (const id of p.ids) {
          const a = id === 0 ? undefined : this.#asks.get(id);
          if (a === undefined) continue; // a tell, or an ask settled already (aborted)
          a.batch = k;
          ids.add(id);
        }
        if (ids.size > 0) this.#batches.set(k, { ids, left: ids.size });
        this.#nc.publish(subject, keyedFrame(ASKS, p.ids, p.frames, p.size), { reply: this.#subjects.batchReply(k) });
      }
    } catch {
      // The connection closed: at most once, these tells are lost; the asks fail WEFT_DISCONNECTED.
    }
  }

  /** Sends the tells waiting for `subject` now (before a call to it, to keep their order). */
  #flushTells(subject: string): void {
    const p = this.#pending.get(subject);
    if (p !== undefined) this.#flushSubject(subject, p);
  }

  /** @internal RemoteRef.ask */
  ask(to: RemoteAddress, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    return this.#request(this.#subject(to), ASK, msg, 'msg', options ?? {}, `ask to ${to.name ?? `${to.node}/${to.id}`}`, to);
  }

  /**
   * Leaves the cluster gracefully (on SIGTERM): stops serving pools, hands back this node's
   * placements (deletes them, so another node may spawn those names at once), waits for the asks
   * and calls being handled here and for this node's own asks to settle, stops the local actors
   * (when the node made the ActorSystem) and drains the connection.
   */
  drain(): Promise<void> {
    this.#closing ??= this.#drain();
    return this.#closing;
  }

  async #drain(): Promise<void> {
    this.#flushAll();
    this.#state = 'draining';
    for (const sub of this.#served.values()) sub.unsubscribe();
    this.#served.clear();
    const hosted = [...this.#hosted];
    this.#hosted.clear();
    for (const [name, h] of hosted) {
      h.sub.unsubscribe();
      await this.#placements.delete(this.#subjects.placementKey(name), { previousSeq: h.revision }).catch(() => {});
    }
    while (this.#handling > 0 || this.#asks.size > 0) await new Promise((r) => setTimeout(r, 5));
    this.#flushReplies();
    if (this.#ownsSystem) await this.#system.shutdown();
    // Goodbye: the others declare this node down at once (its placements are gone already).
    clearInterval(this.#reconciler);
    await this.#membership.stop();
    this.#state = 'closed';
    stopGateway(this.#gatewayKey);
    setThreadSender(undefined, this);
    await this.#nc.drain().catch(() => {});
  }

  /** Counters of this node (read at the call). */
  stats(): ClusterStats {
    const inFlight: Record<string, number> = {};
    for (const p of this.#asks.entries()) {
      const to = p.target;
      const on = to === undefined ? '?' : to.name !== undefined ? (this.#known.get(to.name)?.placement.node ?? '?') : to.node;
      inFlight[on] = (inFlight[on] ?? 0) + 1;
    }
    const io = this.#nc.stats();
    return {
      node: this.name,
      members: 1 + this.#membership.live.size,
      asksInFlight: inFlight,
      ...this.#counts,
      bytesIn: io.inBytes,
      bytesOut: io.outBytes,
    };
  }

  /** This node and the others it hears (their heartbeats came within the failure window). */
  members(): Array<{ name: string; self: boolean }> {
    return [{ name: this.name, self: true }, ...[...this.#membership.live].sort().map((name) => ({ name, self: false }))];
  }

  /** Listens to `nodeUp`, `nodeDown`, `respawned`, `fenced`. */
  on<E extends keyof ClusterEventMap>(event: E, listener: (...args: ClusterEventMap[E]) => void): this {
    this.#events.on(event, listener as (...a: unknown[]) => void);
    return this;
  }

  once<E extends keyof ClusterEventMap>(event: E, listener: (...args: ClusterEventMap[E]) => void): this {
    this.#events.once(event, listener as (...a: unknown[]) => void);
    return this;
  }

  off<E extends keyof ClusterEventMap>(event: E, listener: (...args: ClusterEventMap[E]) => void): this {
    this.#events.off(event, listener as (...a: unknown[]) => void);
    return this;
  }

  #emit<E extends keyof ClusterEventMap>(event: E, ...args: ClusterEventMap[E]): void {
    try {
      this.#events.emit(event, ...args);
    } catch {
      // A listener's error is the listener's: membership goes on.
    }
  }

  #nodeUp(node: string): void {
    if (this.#state === 'closed') return;
    this.#emit('nodeUp', node);
  }

  /**
   * A node is down: the asks to its actors fail WEFT_NODE_DOWN at once, and its placements are
   * taken over: a `restart: 'respawn'` actor by whichever survivor wins the compare-and-set (and
   * has its kind), a `restart: 'none'` placement deleted.
   */
  #nodeDown(node: string, info: { silentMs: number; bye: boolean }): void {
    if (this.#state === 'closed') return;
    for (const p of this.#asks.entries()) {
      const to = p.target;
      if (to === undefined) continue;
      const on = to.name !== undefined ? this.#known.get(to.name)?.placement.node : to.node;
      if (on === node) {
        this.#settle(
          p.id,
          new WeftError(
            'WEFT_NODE_DOWN',
            `${p.what}: node ${node} ${info.bye ? 'left the cluster' : `was declared down (silent for ${info.silentMs} ms)`} with the ask in flight; the handler may or may not have run`,
          ),
          false,
        );
      }
    }
    this.#counts.nodeDownEvents++;
    this.#emit('nodeDown', node, info);
    if (this.#state === 'open') {
      for (const [name, k] of [...this.#known]) if (k.placement.node === node) void this.#takeOver(name, k);
    }
  }

  async #takeOver(name: string, k: Known): Promise<void> {
    const key = this.#subjects.placementKey(name);
    const p = k.placement;
    const def = this.#kinds.get(p.kind);
    try {
      if (p.restart !== 'respawn') {
        await this.#placements.delete(key, { previousSeq: k.revision });
        return;
      }
      if (def === undefined) return; // another survivor that has the kind takes it
      const next: Placement = { ...p, node: this.name, incarnation: p.incarnation + 1 };
      const revision = await this.#placements.update(key, JSON.stringify(next), k.revision);
      // A later write of this placement already came through the watch: another survivor's
      // take-over won after all. (A server before nats-server 2.9.21 checks the expected revision
      // outside its Raft log, so two concurrent updates can both succeed: nats-server#4320.) A
      // later write that comes after the hosting below fences this incarnation instead.
      const seen = this.#known.get(name);
      if (seen !== undefined && seen.revision > revision) return;
      let arg: unknown;
      try {
        arg = this.#codec.decode(Buffer.from(p.arg, 'base64')).value;
      } catch {
        arg = undefined;
      }
      const ref = this.#system.spawn(def, arg as never) as unknown as ActorRef;
      this.#host(name, ref, revision, next.incarnation);
      this.#counts.respawns++;
      this.#emit('respawned', name, { from: p.node, incarnation: next.incarnation });
    } catch {
      // Lost the compare-and-set (another survivor won), or the placement changed: nothing to do.
    }
  }

  /** Follows the placement bucket; an actor hosted here whose placement moved elsewhere is stopped (fencing). */
  async #watchPlacements(watch: AsyncIterable<KvWatchEntry>): Promise<void> {
    try {
      for await (const e of watch) {
        const name = e.key.slice(2);
        let placement: Placement | undefined;
        if (e.operation === 'PUT') {
          try {
            placement = e.json<Placement>();
          } catch {
            placement = undefined;
          }
        }
        if (placement === undefined) this.#known.delete(name);
        else this.#known.set(name, { placement, revision: e.revision });
        const h = this.#hosted.get(name);
        if (
          h !== undefined &&
          (placement === undefined || placement.node !== this.name || (placement.incarnation !== h.incarnation && e.revision > h.revision))
        ) {
          this.#fence(name, h, placement?.node);
        }
      }
    } catch {
      // The watch ends with the connection.
    }
  }

  /**
   * Placements of nodes that this node does not hear (they died before it joined, or their
   * `nodeDown` came before the placement reached the watch) are taken over as a `nodeDown` would.
   * Runs every failure window, from one window after the node joined (time to hear everyone).
   */
  #reconcile(): void {
    if (this.#state !== 'open' || !this.#connected) return;
    const live = this.#membership.live;
    for (const [name, k] of [...this.#known]) {
      const on = k.placement.node;
      if (on !== this.name && !live.has(on)) void this.#takeOver(name, k);
    }
  }

  #fence(name: string, h: Hosted, placedOn: string | undefined): void {
    this.#hosted.delete(name);
    h.sub.unsubscribe();
    try {
      this.#system.kill(h.ref as never);
    } catch {
      // Stopped already.
    }
    this.#counts.fenced++;
    this.#emit('fenced', name, { placedOn });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain();
  }

  // -------------------------------------------------------------------------------------------

  #open(what: string): void {
    if (this.#state !== 'open')
      throw new WeftError('WEFT_CLOSED', `${what}: the cluster node ${this.name} is ${this.#state === 'draining' ? 'draining' : 'closed'}`);
  }

  #subject(to: RemoteAddress): string {
    return to.name !== undefined ? this.#subjects.actor(to.name) : this.#subjects.byId(to.node, to.id);
  }

  /** Throws `WEFT_MESSAGE_TOO_LARGE` when `bytes` (with `envelope` bytes around them) exceed max_payload. */
  #checkSize(bytes: Uint8Array, what: string, envelope = 0): void {
    const limit = this.maxPayload - envelope;
    if (bytes.length > limit) throw new MessageTooLargeError(what, bytes.length, limit);
  }

  #request(
    subject: string,
    kind: number,
    value: unknown,
    what: string,
    options: AskOptions,
    target: string,
    to: RemoteAddress | undefined,
  ): Promise<unknown> {
    let frame: Uint8Array;
    let timeout: number;
    try {
      this.#open(target);
      timeout = options.timeout ?? this.#o.askTimeoutMs;
      if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 2 ** 31 - 1) {
        throw new InvalidArgumentError(`${target}: timeout must be a positive number of ms, got ${describe(timeout)}`);
      }
      if (options.signal?.aborted) throw new WeftError('WEFT_ABORTED', `${target} was aborted before it was sent`);
      frame = this.#codec.encode(kind, value, what, Math.ceil(timeout));
      this.#checkSize(frame, kind === CALL ? 'the call' : 'the message');
      if (!this.#connected) throw disconnected(`${target}: this node (${this.name}) has no connection to the NATS servers now`);
      if ((this.#inFlight.get(subject) ?? 0) >= this.#o.maxInFlight) {
        throw new WeftError(
          'WEFT_QUEUE_FULL',
          `${target}: ${this.#o.maxInFlight} asks and calls are in flight to it from this node already (maxInFlight)`,
        );
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const id = (this.#nextAsk = (this.#nextAsk + 1) >>> 0 || 1);
      const p: PendingAsk = {
        id,
        resolve,
        reject,
        subject,
        target: to,
        frame,
        batch: undefined,
        deadline: performance.now() + timeout,
        what: target,
        done: false,
        bucket: undefined,
        retry: undefined,
        attempts: 0,
        nobody: false,
        signal: options.signal,
        onAbort: undefined,
      };
      if (p.signal !== undefined) {
        p.onAbort = () => this.#settle(id, new WeftError('WEFT_ABORTED', `${target} was aborted (the handler may still run)`), false);
        p.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.#asks.add(p);
      this.#deadlines.add(p, timeout);
      this.#inFlight.set(subject, (this.#inFlight.get(subject) ?? 0) + 1);
      this.#counts.asks++;
      if (kind === ASK) {
        // With the tells and asks to the same actor in this turn, in order.
        this.#enqueue(subject, frame, id);
      } else {
        this.#flushTells(subject);
        this.#nc.publish(subject, frame, { reply: this.#subjects.reply(id) });
      }
    });
  }

  /** Settles ask `id` once: removes it from the table first, then resolves (ok) or rejects. */
  #settle(id: number, value: unknown, ok: boolean): void {
    const p = this.#asks.take(id);
    if (p === undefined) return;
    p.done = true;
    this.#deadlines.settled(p);
    if (this.#asks.size === 0) this.#deadlines.idle();
    if (p.retry !== undefined) clearTimeout(p.retry);
    const n = this.#inFlight.get(p.subject) ?? 1;
    if (n <= 1) this.#inFlight.delete(p.subject);
    else this.#inFlight.set(p.subject, n - 1);
    if (p.batch !== undefined) {
      const b = this.#batches.get(p.batch);
      if (b !== undefined && --b.left === 0) this.#batches.delete(p.batch);
    }
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
    if (ok) p.resolve(value);
    else {
      const code = (value as { code?: unknown } | null)?.code;
      if (code === 'WEFT_ASK_TIMEOUT') this.#counts.askTimeouts++;
      else if (code === 'WEFT_NO_ACTOR') this.#counts.askNoActor++;
      else if (code === 'WEFT_NODE_DOWN') this.#counts.askNodeDown++;
      else if (code === 'WEFT_DISCONNECTED') this.#counts.askDisconnected++;
      p.reject(value);
    }
  }

  #onReply(m: Msg): void {
    const last = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    if (last.charCodeAt(0) === 98 /* b */) {
      this.#onBatchReply(Number(last.slice(1)), m);
      return;
    }
    const id = Number(last);
    const p = this.#asks.get(id);
    if (p === undefined) return; // settled already (timeout, abort): a late reply is dropped
    if (isNoResponders(m)) {
      this.#retry(id, p);
      return;
    }
    this.#answer(id, p, m.data);
  }

  /** Replies to the asks of batch `k`: REPLIES frames, or "no responders" for all of them. */
  #onBatchReply(k: number, m: Msg): void {
    const b = this.#batches.get(k);
    if (b === undefined) return; // all settled already
    if (isNoResponders(m)) {
      for (const id of b.ids) {
        const p = this.#asks.get(id);
        if (p !== undefined) this.#retry(id, p);
      }
      return;
    }
    let entries: KeyedEntry[];
    try {
      entries = this.#codec.keyed(m.data, REPLIES);
    } catch (err) {
      for (const id of b.ids) this.#settle(id, err, false);
      return;
    }
    for (const e of entries) {
      // Only this batch's asks: a reply frame cannot settle another ask.
      const p = b.ids.has(e.id) ? this.#asks.get(e.id) : undefined;
      if (p !== undefined) this.#answer(e.id, p, e.bytes);
    }
  }

  /** Settles ask `id` with the reply or failure frame `data` (or retries it: `notHere`). */
  #answer(id: number, p: PendingAsk, data: Uint8Array): void {
    let f: Frame;
    try {
      f = this.#codec.decode(data);
    } catch (err) {
      this.#settle(id, err, false);
      return;
    }
    if (f.kind === REPLY) this.#settle(id, f.value, true);
    else if (f.kind === FAILURE && (f.value as { notHere?: unknown } | null)?.notHere === true) this.#retry(id, p);
    else if (f.kind === FAILURE) this.#settle(id, f.value, false);
    else this.#settle(id, new InvalidArgumentError(`cluster: a reply of frame kind ${f.kind}`), false);
  }

  /**
   * Nobody hosts the target now (the servers' "no responders", or a node that no longer hosts it
   * said `notHere`): ask again until the deadline (a placement may be on its way); the deadline's
   * timer then fails it WEFT_NO_ACTOR.
   */
  #retry(id: number, p: PendingAsk): void {
    p.nobody = true;
    const left = p.deadline - performance.now();
    if (left <= 2) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** p.attempts++, left - 2);
    p.retry = setTimeout(() => {
      if (this.#asks.get(id) === p && this.#connected) this.#nc.publish(p.subject, p.frame, { reply: this.#subjects.reply(id) });
    }, delay);
  }

  #onActor(ref: ActorRef, m: Msg, name?: string): void {
    if (name !== undefined && this.#hosted.get(name)?.ref !== ref) {
      // Fenced, drained or moved: the server may still route a message or two here before it
      // sees the unsubscribe. A tell is dropped (at most once); an ask is told to look again.
      this.#refuse(m, () => Object.assign(new WeftError('WEFT_NO_ACTOR', `node ${this.name} no longer hosts ${name}`), { notHere: true }));
      return;
    }
    if (isKeyed(m.data, ASKS)) {
      this.#onAsks(ref, m);
      return;
    }
    this.#counts.received++;
    let f: Frame;
    try {
      f = this.#codec.decode(m.data);
    } catch (err) {
      this.#respond(m.reply, 0, FAILURE, err);
      return;
    }
    if (f.kind === TELL) {
      this.#deliver(ref, f.value);
    } else if (f.kind === BATCH) {
      const list = f.value as unknown[];
      this.#counts.received += list.length - 1;
      for (const msg of list) this.#deliver(ref, msg);
    } else if (f.kind === ASK) {
      this.#runAsk(ref, f, m.reply, 0);
    } else {
      this.#respond(m.reply, 0, FAILURE, new InvalidArgumentError(`cluster: an actor got a frame of kind ${f.kind}`));
    }
  }

  /**
   * An ASKS frame: its tells and asks, in order; each frame decoded on its own (a bad one fails
   * its ask only). The replies go back batched (REPLIES). An envelope that does not parse cannot
   * be answered ask by ask: it is dropped, and those asks end at their deadline.
   */
  #onAsks(ref: ActorRef, m: Msg): void {
    let entries: KeyedEntry[];
    try {
      entries = this.#codec.keyed(m.data, ASKS);
    } catch {
      return;
    }
    this.#counts.received += entries.length;
    for (const e of entries) {
      let f: Frame;
      try {
        f = this.#codec.decode(e.bytes);
      } catch (err) {
        if (e.id !== 0) this.#respond(m.reply, e.id, FAILURE, err);
        continue;
      }
      if (e.id === 0) this.#deliver(ref, f.value);
      else this.#runAsk(ref, f, m.reply, e.id);
    }
  }

  /** Runs an ask from another node and sends its answer back (`id` 0: to its own reply subject). */
  #runAsk(ref: ActorRef, f: Frame, reply: string | undefined, id: number): void {
    this.#handling++;
    let asked: Promise<unknown>;
    try {
      asked = ref.ask(f.value as never, f.timeoutMs > 0 ? this.#askOptions(f.timeoutMs) : undefined);
    } catch (err) {
      asked = Promise.reject(err);
    }
    asked.then(
      (v) => {
        this.#handling--;
        this.#respond(reply, id, REPLY, v);
      },
      (e) => {
        this.#handling--;
        this.#respond(reply, id, FAILURE, e);
      },
    );
  }

  /** `{ timeout }` for a local ask: the last one made, while the askers' timeouts stay the same (read at the call, never kept). */
  #askOptions(timeout: number): AskOptions {
    if (this.#lastAskOptions.timeout !== timeout) this.#lastAskOptions = { timeout };
    return this.#lastAskOptions;
  }
  #lastAskOptions: { readonly timeout: number } = { timeout: 0 };

  /** Answers every ask in `m` (one ask, or the asks of an ASKS frame) with the failure `err()`. */
  #refuse(m: Msg, err: () => Error): void {
    if (!isKeyed(m.data, ASKS)) {
      this.#respond(m.reply, 0, FAILURE, err());
      return;
    }
    try {
      for (const e of this.#codec.keyed(m.data, ASKS)) if (e.id !== 0) this.#respond(m.reply, e.id, FAILURE, err());
    } catch {
      // Malformed: nothing to answer by id.
    }
  }

  #deliver(ref: ActorRef, msg: unknown): void {
    try {
      const r = ref.tell(msg as never);
      if (r !== undefined) r.catch(() => {});
    } catch {
      // At most once: a tell the actor refuses (a full mailbox, no handler) is not reported back.
    }
  }

  #onById(m: Msg): void {
    const id = Number(m.subject.slice(m.subject.lastIndexOf('.') + 1));
    const ref = this.#exported.get(id);
    if (ref === undefined) {
      this.#refuse(
        m,
        () =>
          new WeftError(
            'WEFT_ACTOR_STOPPED',
            `cluster: node ${this.name} has no actor ${id} (it stopped, or its ref never left this node)`,
          ),
      );
      return;
    }
    this.#onActor(ref, m);
  }

  #onCall(pool: Pool, m: Msg): void {
    this.#counts.received++;
    let f: Frame;
    try {
      f = this.#codec.decode(m.data);
      if (f.kind !== CALL) throw new InvalidArgumentError(`cluster: a pool got a frame of kind ${f.kind}`);
    } catch (err) {
      this.#respond(m.reply, 0, FAILURE, err);
      return;
    }
    const [task, ...args] = f.value as [string, ...unknown[]];
    this.#handling++;
    let ran: Promise<unknown>;
    try {
      ran = (pool.run as (name: string, ...a: unknown[]) => Promise<unknown>)(task, ...args);
    } catch (err) {
      ran = Promise.reject(err);
    }
    ran.then(
      (v) => {
        this.#handling--;
        this.#respond(m.reply, 0, REPLY, v);
      },
      (e) => {
        this.#handling--;
        this.#respond(m.reply, 0, FAILURE, e);
      },
    );
  }

  /**
   * Sends a reply or failure to `reply` (if the asker wants one): at once for a lone ask (`id` 0),
   * batched with the others to the same batch subject at the end of the turn for an ask of an
   * ASKS frame. A reply that cannot go becomes a failure saying why.
   */
  #respond(reply: string | undefined, id: number, kind: number, value: unknown): void {
    if (!reply || this.#state === 'closed') return;
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(kind, value, kind === REPLY ? 'reply' : 'error');
      // A batched reply may go alone in its REPLIES frame: its envelope counts.
      this.#checkSize(bytes, kind === REPLY ? 'the reply' : 'the error', id === 0 ? 0 : BATCH_HEADER + KEYED_ENTRY_OVERHEAD);
    } catch (err) {
      try {
        bytes = this.#codec.encode(FAILURE, err, 'error');
      } catch {
        bytes = this.#codec.encode(
          FAILURE,
          new DataCloneError(`the ${kind === REPLY ? 'reply' : 'error'} could not be sent back`),
          'error',
        );
      }
    }
    if (id !== 0) {
      this.#queueReply(reply, id, bytes);
      return;
    }
    try {
      this.#nc.publish(reply, bytes);
    } catch {
      // The connection closed meanwhile: the asker gets WEFT_DISCONNECTED or its timeout.
    }
  }

  #queueReply(reply: string, id: number, bytes: Uint8Array): void {
    let q = this.#replies.get(reply);
    if (q !== undefined && !fits(q, bytes, this.maxPayload)) {
      this.#sendReplies(reply, q);
      q = undefined;
    }
    if (q === undefined) {
      q = { frames: [], ids: [], size: 0, asks: 0 };
      this.#replies.set(reply, q);
      if (!this.#repliesQueued) {
        this.#repliesQueued = true;
        microtask(this.#flushReplies);
      }
    }
    q.frames.push(bytes);
    q.ids.push(id);
    q.size += bytes.length;
  }

  readonly #flushReplies = (): void => {
    this.#repliesQueued = false;
    for (const [reply, q] of this.#replies) this.#sendReplies(reply, q);
  };

  #sendReplies(reply: string, q: Pending): void {
    this.#replies.delete(reply);
    try {
      this.#nc.publish(reply, keyedFrame(REPLIES, q.ids, q.frames, q.size));
    } catch {
      // The connection closed meanwhile: the asker gets WEFT_DISCONNECTED or its timeout.
    }
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === 'disconnect') {
        this.#connected = false;
        this.#failAll((what) =>
          disconnected(
            `${what}: node ${this.name} lost its connection to the NATS servers while the ask was in flight (the handler may or may not have run)`,
          ),
        );
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#counts.reconnects++;
      } else if (s.type === 'close') {
        this.#connected = false;
        break;
      }
    }
    this.#failAll((what) =>
      disconnected(`${what}: the connection of node ${this.name} to the NATS servers closed (the handler may or may not have run)`),
    );
  }

  #failAll(error: (what: string) => unknown): void {
    for (const p of this.#asks.entries()) this.#settle(p.id, error(p.what), false);
  }

  /** Whether the wire codec writes `v` as a handle (its class registered a handle codec: SharedStack...). */
  #isHandle(v: object): boolean {
    try {
      return handleCodecFor(Object.getPrototypeOf(v)) !== undefined;
    } catch {
      return false; // a Proxy whose getPrototypeOf trap throws
    }
  }
}

function connectError(err: unknown, servers: readonly string[]): WeftError {
  const text = thrownMessage(err);
  const name = err instanceof Error ? err.name : '';
  if (/authori[sz]ation|authentication|permissions? violation|user authentication/i.test(`${name} ${text}`)) {
    return new WeftError('WEFT_AUTH', `cluster: the NATS servers refused this node's credentials: ${text}`, { cause: err });
  }
  return disconnected(`cluster: cannot connect to the NATS servers ${servers.join(', ')}: ${text}`, err);
}
