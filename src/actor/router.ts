/**
 * `Router`: a group of actors ("routees") behind one address, after Akka's routers. This file owns
 * the router itself (its group, `tell`/`ask`/`broadcast`, adding and removing routees, stopping),
 * the four routing logics (round-robin, random, least-mailbox, consistent-hash with its hash ring),
 * the router option bags and their checks, and spawning a pool router's routees
 * (`system.router`, through `spawnRouter`).
 *
 * Two kinds, as in Akka:
 * - a pool router (`system.router(def, arg, options)`, main thread) spawns its routees and owns
 *   them: it watches them, drops a routee that ends from the group (a restart, by supervision or
 *   after its worker died, keeps the ref and changes nothing), and `stop()` stops them;
 * - a group router (`Router.of(refs, options)`, any thread where the refs work, inside actors
 *   too) routes to refs it was given: it does not watch them (nothing could tell it on a worker);
 *   a message routed to a routee that has stopped is a dead letter, as through the ref itself.
 *   `prune()` drops the routees that are no longer running; `stop()` leaves them running.
 *
 * A router is a local object of the thread that made it: it does not travel in messages (pass
 * `router.routees` and call `Router.of` on the other side).
 */
import { InvalidArgumentError, WeftError, fromNative } from '../errors.js';
import { describe } from '../internal/describe.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import { native } from '../native.js';
import { hostFor } from './host/registry.js';
import type { ActorHost } from './host/host.js';
import { ActorRef } from './ref.js';
import type { ActorSystem } from './system.js';
import type {
  ActorMessage,
  AnyActorDefinition,
  ArgOf,
  AskMessage,
  AskOptions,
  AskReply,
  MailboxOptions,
  MessageType,
  Placement,
  SpawnOptions,
  SupervisionOptions,
  Termination,
} from './types.js';

/** How a router picks the routee of each message. */
export type Routing = 'round-robin' | 'random' | 'least-mailbox' | 'consistent-hash';

const ROUTINGS: readonly Routing[] = ['round-robin', 'random', 'least-mailbox', 'consistent-hash'];

/** The options of every router (`Router.of` takes these). */
export interface RouterOptions<D = AnyActorDefinition> {
  /**
   * - `'round-robin'` (default): routee 0, 1, ..., n-1, 0, ... in turn;
   * - `'random'`: a routee picked uniformly at random;
   * - `'least-mailbox'`: the routee with the fewest messages waiting (an idle one first, then one
   *   busy with an empty mailbox, then the shortest mailbox; ties in turn);
   * - `'consistent-hash'`: by `key(msg)` on a hash ring: the same key goes to the same routee while
   *   the group is unchanged, and adding or removing a routee moves only about 1/n of the keys.
   */
  routing?: Routing;
  /** `'consistent-hash'` only (and required there): the key of a message. */
  key?: (msg: ActorMessage<D>) => string | number;
  /** `'consistent-hash'` only: points per routee on the hash ring (default 100, at most 10 000);
   * more points spread keys more evenly. */
  virtualNodes?: number;
}

/** The options of `system.router(def, arg, options)`: a router's, and how its routees start. */
export interface RouterSpawnOptions<D = AnyActorDefinition> extends RouterOptions<D> {
  /** How many routees (default: one per pool worker; required without a pool). */
  size?: number;
  /**
   * Where the routees run. Default, with a pool: spread over its workers (routee i on worker
   * i % threads); without one: the main thread. `'main'`, `'worker'` (each on the least loaded
   * worker) or a worker index place every routee there.
   */
  on?: Placement;
  /** Each routee's mailbox (as `spawn`'s). */
  mailbox?: MailboxOptions;
  /** Each routee's supervision (as `spawn`'s). */
  supervision?: SupervisionOptions;
}

/**
 * The option names each bag accepts: anything else throws `WEFT_INVALID_ARG` naming the nearest
 * valid one (src/internal/options.ts). Each list must name every key of its interface (checked at
 * compile time by `optionNames`): add new options to both.
 */
export const ROUTER_OPTIONS = optionNames<RouterOptions>()(['routing', 'key', 'virtualNodes']);
export const ROUTER_SPAWN_OPTIONS = optionNames<RouterSpawnOptions>()([
  'routing',
  'key',
  'virtualNodes',
  'size',
  'on',
  'mailbox',
  'supervision',
]);

const DEFAULT_VIRTUAL_NODES = 100;
const MAX_VIRTUAL_NODES = 10_000;
/** The most routees `system.router` spawns. */
const MAX_ROUTEES = 65_536;
/** `actorLoads`'s value for an actor that is not running. */
const GONE = 0xffff_ffff;

type KeyFn = (msg: unknown) => unknown;

interface Checked {
  routing: Routing;
  key: KeyFn | undefined;
  virtualNodes: number;
}

function checkRouterOptions(o: { routing?: unknown; key?: unknown; virtualNodes?: unknown }, what: string): Checked {
  const routing = (o.routing ?? 'round-robin') as Routing;
  if (!ROUTINGS.includes(routing)) {
    throw new InvalidArgumentError(`${what}: unknown routing ${describe(routing)} (routings: ${ROUTINGS.join(', ')})`);
  }
  const key = o.key as KeyFn | undefined;
  if (routing === 'consistent-hash') {
    if (typeof key !== 'function') {
      throw new InvalidArgumentError(
        `${what}: routing 'consistent-hash' needs a key function (key: (msg) => string | number), got ${describe(key)}`,
      );
    }
  } else if (key !== undefined) {
    throw new InvalidArgumentError(`${what}: key is for routing 'consistent-hash' (this router's routing is '${routing}')`);
  }
  const vn = o.virtualNodes as number | undefined;
  if (vn !== undefined) {
    if (routing !== 'consistent-hash') {
      throw new InvalidArgumentError(`${what}: virtualNodes is for routing 'consistent-hash' (this router's routing is '${routing}')`);
    }
    if (!Number.isInteger(vn) || vn < 1 || vn > MAX_VIRTUAL_NODES) {
      throw new InvalidArgumentError(`${what}: virtualNodes must be an integer from 1 to ${MAX_VIRTUAL_NODES}, got ${describe(vn)}`);
    }
  }
  return { routing, key, virtualNodes: vn ?? DEFAULT_VIRTUAL_NODES };
}

/** Whether `v` is a real ActorRef (false for a Proxy whose traps throw, or a prototype-only fake). */
function isRef(v: unknown): v is ActorRef {
  try {
    return v instanceof ActorRef && typeof v.id === 'number';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Consistent hashing

/** A 32-bit hash of a string: FNV-1a over its UTF-16 units, then murmur3's finalizer (FNV alone
 * leaves keys that differ in their last character close together on the ring). */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The hash ring: `virtualNodes` points per routee, placed by a hash of the routee's actor id and
 * the point's number, so a routee's points do not depend on the other routees: removing one
 * removes only its points (its keys go to the next points, of the other routees), and every other
 * key stays where it was.
 */
class Ring {
  readonly #points: Uint32Array;
  /** The index (in the router's group) of each point's routee. */
  readonly #owners: Uint32Array;

  constructor(ids: readonly number[], virtualNodes: number) {
    const n = ids.length * virtualNodes;
    const pts = new Uint32Array(n);
    const own = new Uint32Array(n);
    for (let r = 0; r < ids.length; r++) {
      for (let v = 0; v < virtualNodes; v++) {
        pts[r * virtualNodes + v] = hash32(`${ids[r]}#${v}`);
        own[r * virtualNodes + v] = r;
      }
    }
    // Sorted by point; equal points (rare) by actor id, so the order does not depend on the
    // order of the group.
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => pts[a]! - pts[b]! || ids[own[a]!]! - ids[own[b]!]!);
    this.#points = new Uint32Array(n);
    this.#owners = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.#points[i] = pts[order[i]!]!;
      this.#owners[i] = own[order[i]!]!;
    }
  }

  /** The routee index of hash `h`: the owner of the first point at or after it (wrapping). */
  owner(h: number): number {
    const p = this.#points;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === p.length ? 0 : lo]!;
  }
}

// ---------------------------------------------------------------------------------------------
// The router

/** What a pool router was given by the system that spawned its routees. */
interface Owner {
  stop(ref: ActorRef): Promise<Termination>;
  watch(ref: ActorRef): Promise<Termination>;
}

/** @internal Makes a pool router (spawnRouter); not part of the API. */
let ownedRouter: <D>(refs: ActorRef<D>[], checked: Checked, owner: Owner) => Router<D>;

// D is not annotated `out` (as ActorRef's is): the directive that lets the source compile is not
// in the emitted router.d.ts, and a consumer's tsc with skipLibCheck off then fails on it (TS2636,
// through `routees`). A typed router does not widen to `Router` implicitly; `Router.of(refs)` over
// untyped refs makes an untyped one.
export class Router<D = AnyActorDefinition> {
  /** How it picks a routee. */
  readonly routing: Routing;
  #group: ActorRef<D>[];
  #view: readonly ActorRef<D>[] | undefined;
  readonly #key: KeyFn | undefined;
  readonly #virtualNodes: number;
  #ring: Ring | undefined;
  /** Round-robin's counter; least-mailbox starts its scan of ties here. */
  #next = 0;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  /** Pool routers: the system that spawned the routees, and those of them still running. */
  #owner: Owner | undefined;
  readonly #alive = new Set<ActorRef<D>>();
  // least-mailbox: the routees' ids, their loads (filled by one native call), and what this
  // router sent to each in the current turn (batched, not in their mailboxes yet).
  #ids = new Uint32Array(0);
  #loads = new Uint32Array(0);
  #sent = new Uint32Array(0);
  #sentReset = false;
  #host: ActorHost | null | undefined;

  static {
    ownedRouter = <T>(refs: ActorRef<T>[], checked: Checked, owner: Owner): Router<T> => {
      const r = new Router<T>(refs, checked);
      r.#owner = owner;
      for (const ref of refs) {
        r.#alive.add(ref);
        void owner.watch(ref as unknown as ActorRef).then(() => r.#ended(ref));
      }
      return r;
    };
  }

  /** @internal Routers come from `Router.of` and `system.router`. */
  private constructor(refs: ActorRef<D>[], checked: Checked) {
    this.routing = checked.routing;
    this.#key = checked.key;
    this.#virtualNodes = checked.virtualNodes;
    this.#group = refs;
    this.#changed();
  }

  /**
   * A group router over refs that exist already (any thread where they work: the main thread, or
   * inside an actor on a worker). The refs must be of one actor system, each at most once; the
   * group may be empty (then `add` routees). It does not watch them: see `prune()`.
   */
  static of<D = AnyActorDefinition>(refs: readonly ActorRef<D>[], options?: RouterOptions<D>): Router<D> {
    if (!Array.isArray(refs)) throw new InvalidArgumentError(`Router.of expects an array of ActorRefs, got ${describe(refs)}`);
    const list: readonly unknown[] = [...(refs as readonly unknown[])];
    const checked = checkRouterOptions(checkRouterBag(options, ROUTER_OPTIONS, 'Router.of options'), 'Router.of options');
    const group: ActorRef<D>[] = [];
    for (const ref of list) {
      checkJoin(group as ActorRef[], ref, 'Router.of');
      group.push(ref as ActorRef<D>);
    }
    return new Router<D>(group, checked);
  }

  /** The routees now, in routing order (a snapshot: it does not change when the group does). */
  get routees(): readonly ActorRef<D>[] {
    this.#view ??= Object.freeze([...this.#group]);
    return this.#view;
  }

  /** How many routees it has. */
  get size(): number {
    return this.#group.length;
  }

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Sends `msg` to one routee (picked by the routing); as `ActorRef.tell`: fire and forget,
   * a Promise only when that routee's bounded `'wait'` mailbox is full. Throws
   * `WEFT_ACTOR_STOPPED` when the group is empty (every routee of a pool router ended) or the
   * router is stopped, `WEFT_INVALID_ARG` when the routees' definition has no handler for the
   * message's type or the key function returns something else than a string or a number, and
   * what the routee's `tell` throws (`WEFT_MAILBOX_FULL`...).
   */
  tell(msg: ActorMessage<D>): void | Promise<void> {
    return this.#pick(msg).tell(msg);
  }

  /**
   * Asks one routee (picked by the routing) and resolves with its reply; as `ActorRef.ask`
   * (timeout, signal, the same rejections), and rejects with `WEFT_ACTOR_STOPPED` when the group
   * is empty or the router is stopped.
   */
  ask<K extends MessageType<D>>(msg: AskMessage<D, K>, options?: AskOptions): Promise<AskReply<D, K>> {
    let routee: ActorRef<D>;
    try {
      routee = this.#pick(msg as ActorMessage<D>);
    } catch (err) {
      return Promise.reject(err);
    }
    return routee.ask(msg, options);
  }

  /**
   * Sends `msg` to every routee (Akka's `Broadcast`). Every routee is tried even if one throws
   * (a full `'reject'` mailbox, say); then the first such error is thrown. Returns a Promise when
   * a routee's `'wait'` mailbox was full: it resolves once every such message is in. Throws
   * `WEFT_ACTOR_STOPPED` when the group is empty or the router is stopped.
   */
  broadcast(msg: ActorMessage<D>): void | Promise<void> {
    this.#usable();
    let waits: Array<Promise<void>> | undefined;
    let failed: { error: unknown } | undefined;
    for (const r of [...this.#group]) {
      try {
        const p = r.tell(msg);
        if (p !== undefined) (waits ??= []).push(p);
      } catch (error) {
        failed ??= { error };
      }
    }
    if (failed !== undefined) {
      // Thrown instead: the messages that wait for room still go in; nobody awaits them.
      for (const w of waits ?? []) void w.catch(() => {});
      throw failed.error;
    }
    if (waits !== undefined) return Promise.all(waits).then(() => {});
  }

  /**
   * The routee that `tell(msg)` would send `msg` to now; picking counts as a send for
   * round-robin (the next pick moves on). For logging, or to send through the ref itself.
   */
  select(msg: ActorMessage<D>): ActorRef<D> {
    return this.#pick(msg);
  }

  /**
   * Adds a routee at the end of the group (Akka's `AddRoutee`); false if it is in it already.
   * The router does not watch an added ref, and `stop()` does not stop it. Throws
   * `WEFT_INVALID_ARG` for a ref of another actor system than the group's.
   */
  add(ref: ActorRef<D>): boolean {
    if (this.#group.some((r) => r.equals(ref as unknown as ActorRef))) return false;
    checkJoin(this.#group as ActorRef[], ref, 'router.add');
    this.#group.push(ref);
    this.#changed();
    return true;
  }

  /**
   * Removes a routee from the group (Akka's `RemoveRoutee`); false if it was not in it. The actor
   * keeps running (a pool router's `stop()` still stops the routees it spawned).
   */
  remove(ref: ActorRef<D>): boolean {
    const i = this.#group.findIndex((r) => r.equals(ref as unknown as ActorRef));
    if (i < 0) return false;
    this.#group.splice(i, 1);
    this.#changed();
    return true;
  }

  /**
   * Removes the routees that are no longer running (stopped, failed, or never started), in one
   * native call; returns how many. A pool router does this by itself as its routees end.
   */
  prune(): number {
    const n = this.#group.length;
    if (n === 0) return 0;
    this.#readLoads();
    const loads = this.#loads;
    const keep = this.#group.filter((_, i) => loads[i] !== GONE);
    if (keep.length === n) return 0;
    this.#group = keep;
    this.#changed();
    return n - keep.length;
  }

  /**
   * Stops the router: later sends throw `WEFT_ACTOR_STOPPED`. A pool router also stops the
   * routees it spawned (after the messages already queued, as `system.stop`), and the Promise
   * resolves when they have ended; a group router's routees keep running. Calling it again
   * returns the same Promise.
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#stopped = true;
    const owner = this.#owner;
    const alive = [...this.#alive];
    this.#stopping =
      owner === undefined ? Promise.resolve() : Promise.all(alive.map((r) => owner.stop(r as unknown as ActorRef))).then(() => {});
    return this.#stopping;
  }

  toString(): string {
    return `Router(${this.routing}, ${this.#group.length} routees)`;
  }

  // -------------------------------------------------------------------------------------------

  /** A pool router's routee ended: it leaves the group. */
  #ended(ref: ActorRef<D>): void {
    this.#alive.delete(ref);
    const i = this.#group.findIndex((r) => r.equals(ref as unknown as ActorRef));
    if (i < 0) return;
    this.#group.splice(i, 1);
    this.#changed();
  }

  /** The group changed: the snapshot, the ring and the least-mailbox arrays follow. */
  #changed(): void {
    this.#view = undefined;
    const n = this.#group.length;
    if (this.routing === 'consistent-hash') {
      this.#ring = new Ring(
        this.#group.map((r) => r.id),
        this.#virtualNodes,
      );
    }
    this.#ids = Uint32Array.from(this.#group, (r) => r.id);
    if (this.#loads.length < n) this.#loads = new Uint32Array(n);
    if (this.routing === 'least-mailbox') this.#sent = new Uint32Array(n);
  }

  #usable(): void {
    if (this.#stopped) throw new WeftError('WEFT_ACTOR_STOPPED', `${this}: the router has stopped`);
    if (this.#group.length === 0) {
      throw new WeftError(
        'WEFT_ACTOR_STOPPED',
        this.#owner !== undefined
          ? `${this}: every routee of this router has ended`
          : `${this}: the group is empty (add routees with router.add(ref))`,
      );
    }
  }

  #pick(msg: ActorMessage<D>): ActorRef<D> {
    this.#usable();
    const g = this.#group;
    const n = g.length;
    switch (this.routing) {
      case 'round-robin': {
        const i = this.#next++ % n;
        if (this.#next >= n) this.#next = 0;
        return g[i]!;
      }
      case 'random':
        return g[Math.floor(Math.random() * n)]!;
      case 'least-mailbox':
        return g[this.#leastLoaded()]!;
      case 'consistent-hash':
        return g[this.#ring!.owner(hash32(this.#keyOf(msg)))]!;
    }
  }

  #keyOf(msg: unknown): string {
    const k = this.#key!(msg);
    if (typeof k === 'string') return k;
    if (typeof k === 'number' && Number.isFinite(k)) return String(k);
    throw new InvalidArgumentError(`${this}: the key function must return a string or a finite number, got ${describe(k)}`);
  }

  /** Reads the routees' loads into #loads (one native call), adding what waits on this thread. */
  #readLoads(): void {
    const g = this.#group;
    const first = g[0]!;
    try {
      native.actorLoads(first.system, first.process, this.#ids, this.#loads);
    } catch (err) {
      throw fromNative(err);
    }
    // Routees on this thread: their JavaScript queue (same-thread messages skip the mailbox),
    // and an async handler running.
    const host = this.#localHost(first);
    if (host === null || host.actors.size === 0) return;
    const loads = this.#loads;
    for (let i = 0; i < g.length; i++) {
      const l = loads[i]!;
      const depth = host.localDepth(g[i]!.id);
      if (depth === undefined || l === GONE) continue;
      const busy = (l & 1) | (host.actors.get(g[i]!.id)?.busy === true ? 1 : 0);
      loads[i] = Math.min(GONE - 1, l - (l & 1) + 2 * depth + busy);
    }
  }

  #localHost(ref: { readonly system: number; readonly process: number }): ActorHost | null {
    if (this.#host === undefined) {
      try {
        this.#host = hostFor(ref.system, ref.process);
      } catch {
        this.#host = null;
      }
    }
    return this.#host;
  }

  /**
   * Least-mailbox: the lowest load (2 × queued + busy; what this router sent in this turn counts
   * as queued, since the batch leaves at the end of the turn); ties are taken in turn, so a burst
   * to idle routees spreads. Throws WEFT_ACTOR_STOPPED when none of them runs.
   */
  #leastLoaded(): number {
    this.#readLoads();
    const loads = this.#loads;
    const sent = this.#sent;
    const n = this.#group.length;
    const start = this.#next % n;
    let best = -1;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const l = loads[i]!;
      if (l === GONE) continue;
      const load = l + 2 * sent[i]!;
      if (load < bestLoad) {
        best = i;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    if (best < 0) throw new WeftError('WEFT_ACTOR_STOPPED', `${this}: none of its routees is running`);
    this.#next = best + 1;
    const ref = this.#group[best]!;
    // Batched sends reach the mailbox when this thread's turn ends: count them until then.
    // (Sends to a bounded mailbox, or to an actor of this thread, are visible at once.)
    if (!ref.bounded && this.#localHost(ref)?.localDepth(ref.id) === undefined) {
      sent[best]!++;
      if (!this.#sentReset) {
        this.#sentReset = true;
        const s = sent;
        queueMicrotask(() => {
          s.fill(0);
          this.#sentReset = false;
        });
      }
    }
    return best;
  }
}

function checkRouterBag<T extends object>(options: T | undefined, names: readonly string[], what: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`${what} must be an object, got ${describe(options)}`);
  return checkOptionNames(options, names, what);
}

/** Throws unless `ref` is an ActorRef that can join `group` (same system, not in it yet). */
function checkJoin(group: readonly ActorRef[], ref: unknown, what: string): void {
  if (!isRef(ref)) throw new InvalidArgumentError(`${what} expects ActorRefs, got ${describe(ref)}`);
  const first = group[0];
  if (first !== undefined && (first.system !== ref.system || first.process !== ref.process)) {
    throw new InvalidArgumentError(`${what}: the routees of a router must belong to one actor system (${ref} is not of ${first}'s)`);
  }
  if (group.some((r) => r.equals(ref))) throw new InvalidArgumentError(`${what}: ${ref} is in the group twice`);
}

/**
 * `system.router(def, arg, options)`: spawns the routees (through `system.spawn`, so each is an
 * ordinary top-level actor) and returns their pool router. `threads`: the system's pool size.
 */
export function spawnRouter<D extends AnyActorDefinition>(
  system: ActorSystem,
  threads: number,
  def: D,
  arg: ArgOf<D>,
  options: RouterSpawnOptions<D> | undefined,
): Router<D> {
  const o = checkRouterBag(options, ROUTER_SPAWN_OPTIONS, 'system.router options');
  const checked = checkRouterOptions(o, 'system.router options');
  const size = o.size ?? (threads > 0 ? threads : undefined);
  if (size === undefined) {
    throw new InvalidArgumentError('system.router options: size is required when the actor system has no pool (new ActorSystem({ pool }))');
  }
  if (!Number.isInteger(size) || size < 1 || size > MAX_ROUTEES) {
    throw new InvalidArgumentError(`system.router options: size must be an integer from 1 to ${MAX_ROUTEES}, got ${describe(size)}`);
  }
  const refs: ActorRef<D>[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const on = o.on ?? (threads > 0 ? i % threads : 'main');
      const spawnOptions: SpawnOptions = { on };
      if (o.mailbox !== undefined) spawnOptions.mailbox = o.mailbox;
      if (o.supervision !== undefined) spawnOptions.supervision = o.supervision;
      refs.push(system.spawn(def, arg, spawnOptions));
    }
  } catch (err) {
    // Spawning checks its options before it creates the actor: a bad option fails the first
    // spawn, and nothing is left running. Anything later: stop what started.
    for (const r of refs) void system.kill(r);
    throw err;
  }
  return ownedRouter(refs, checked, {
    stop: (ref) => system.stop(ref),
    watch: (ref) => system.watch(ref),
  });
}
