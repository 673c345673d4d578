/**
 * `weft/metrics`: weft's statistics as prom-client metrics.
 *
 * Every value is read when the registry is scraped (prom-client `collect()` callbacks); nothing
 * runs in between (no timers). prom-client is an optional peer dependency of weft: only this
 * entry point loads it.
 *
 * ```ts
 * import { Registry } from 'prom-client';
 * import { registerWeftMetrics } from 'weftjs/metrics';
 *
 * const registry = new Registry();
 * const metrics = registerWeftMetrics({ register: registry, pools: { images: pool }, systems: { main: system } });
 * // ... await registry.metrics()
 * metrics.unregister();
 * ```
 */
import {
  Counter,
  Gauge,
  register as defaultRegister,
  type OpenMetricsContentType,
  type PrometheusContentType,
  type Registry,
} from 'prom-client';
import type { ActorStats, ActorSystemStats } from '../actor/system.js';
import type { ClusterStats } from '../cluster/node.js';
import { InvalidArgumentError } from '../errors.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import type { PoolStats } from '../pool/index.js';
import type { SharedMapStats } from '../shared/map.js';
import type { SharedQueueStats } from '../shared/queue.js';
import { describe, thrownMessage } from '../internal/describe.js';

/** What is read from a pool: a weft `Pool` (of any task module) fits. */
export interface PoolStatsSource {
  readonly name: string;
  stats(): PoolStats;
}

/** What is read from an actor system: a weft `ActorSystem` fits. */
export interface ActorSystemStatsSource {
  stats(): ActorSystemStats;
}

/** What is read from a stack: a weft `SharedStack` fits. */
export interface StackSizeSource {
  readonly size: number;
}

/** What is read from a queue: a weft `SharedQueue` fits. */
export interface QueueStatsSource {
  stats(): SharedQueueStats;
}

/** What is read from a map: a weft `SharedMap` fits. */
export interface MapStatsSource {
  stats(): SharedMapStats;
}

/** What is read from a cluster node: a weftjs/cluster `ClusterNode` fits. */
export interface ClusterStatsSource {
  readonly name: string;
  stats(): ClusterStats;
}

/** A list (labelled by `pool.name`, or by index for actor systems) or a record (labelled by key). */
export type Named<T> = readonly T[] | Readonly<Record<string, T>>;

export interface WeftMetricsOptions {
  /** The registry to register with; default: prom-client's global `register`. */
  register?: Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;
  /** Prepended to every metric name; default `'weft_'`. */
  prefix?: string;
  /** Pools, label `pool`: the record key, or `pool.name` for a list. */
  pools?: Named<PoolStatsSource>;
  /** Actor systems, label `system`: the record key, or the index (`'0'`, `'1'`...) for a list. */
  systems?: Named<ActorSystemStatsSource>;
  /** Shared stacks, label `stack`: the record key. */
  stacks?: Readonly<Record<string, StackSizeSource>>;
  /** Shared queues, label `queue`: the record key. */
  queues?: Readonly<Record<string, QueueStatsSource>>;
  /** Shared maps, label `map`: the record key. */
  maps?: Readonly<Record<string, MapStatsSource>>;
  /** weftjs/cluster nodes, label `node`: the record key, or the node's name for a list. */
  clusters?: Named<ClusterStatsSource>;
  /**
   * Per-actor series (label `actor`, the actor id) are exported for at most this many actors of
   * each system: those with the deepest mailboxes (ties: the most messages processed). Default
   * 10; 0 exports none. The per-system totals always cover every actor.
   */
  topActors?: number;
}

export interface WeftMetrics {
  /** The names of the registered metrics (with the prefix). */
  readonly names: readonly string[];
  /** Removes weft's metrics from the registry. Idempotent. */
  unregister(): void;
}

/**
 * The option names `registerWeftMetrics` accepts: anything else throws `WEFT_INVALID_ARG` naming
 * the nearest valid one. Must name every key of `WeftMetricsOptions` (checked at compile time by
 * `optionNames`): add new options to both. (`pools`, `systems`, `stacks`, `queues` and `maps` are lists or records of
 * sources, labelled by their keys: not option bags.)
 */
const METRICS_OPTIONS = optionNames<WeftMetricsOptions>()([
  'register',
  'prefix',
  'pools',
  'systems',
  'stacks',
  'queues',
  'maps',
  'clusters',
  'topActors',
]);

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const QUANTILES = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
] as const;

/**
 * Registers gauges and counters that read `pools`, `systems` and `stacks` at every scrape.
 * Only the families for the kinds of source given are registered (so pools and actor systems
 * may be registered by separate calls on one registry). Throws `WEFT_INVALID_ARG` for bad
 * options, or when a metric of the same name is already in the registry (use another `prefix`).
 */
export function registerWeftMetrics(given: WeftMetricsOptions): WeftMetrics {
  if (given === null || typeof given !== 'object') {
    throw new InvalidArgumentError('registerWeftMetrics expects an options object');
  }
  const options = checkOptionNames(given, METRICS_OPTIONS, 'registerWeftMetrics options');
  const registry = options.register ?? defaultRegister;
  if (!isRegistry(registry)) throw new InvalidArgumentError('register must be a prom-client Registry');
  const prefix = options.prefix ?? 'weft_';
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw new InvalidArgumentError(`prefix must be a valid start of a Prometheus metric name, got ${describe(prefix)}`);
  }
  const topActors = options.topActors ?? 10;
  if (!Number.isInteger(topActors) || topActors < 0) {
    throw new InvalidArgumentError(`topActors must be a non-negative integer, got ${describe(options.topActors)}`);
  }
  const pools = entries('pools', options.pools, isPoolSource, (p) => p.name);
  const systems = entries('systems', options.systems, isSystemSource, (_s, i) => String(i));
  const stacks = entries('stacks', options.stacks, isStackSource, undefined);
  const queues = entries('queues', options.queues, isQueueSource, undefined);
  const maps = entries('maps', options.maps, isQueueSource, undefined);
  const clusters = entries('clusters', options.clusters, isClusterSource, (c) => c.name);

  const registers = [registry];
  const names: string[] = [];
  const metrics: Array<() => void> = [];
  // Each family is built only after checking the name is free, so a failed call registers nothing.
  const family = (name: string, build: (full: string) => void): void => {
    const full = prefix + name;
    if (registry.getSingleMetric(full) !== undefined) {
      throw new InvalidArgumentError(`a metric named ${full} is already registered (register each source once, or use another prefix)`);
    }
    names.push(full);
    metrics.push(() => build(full));
  };

  /** Gauge and counter families with one label, read at each scrape from `(label, stats)` pairs. */
  const perSource = <L extends string, S>(label: L, stats: () => ReadonlyArray<readonly [string, S]>) => ({
    gauge(name: string, help: string, value: (s: S) => number, aggregator?: 'average'): void {
      family(name, (full) => {
        new Gauge<L>({
          name: full,
          help,
          labelNames: [label],
          registers,
          ...(aggregator !== undefined ? { aggregator } : {}),
          collect() {
            this.reset();
            for (const [l, s] of stats()) this.set({ [label]: l } as Record<L, string>, value(s));
          },
        });
      });
    },
    counter(name: string, help: string, value: (s: S) => number): void {
      family(name, (full) => {
        new Counter<L>({
          name: full,
          help,
          labelNames: [label],
          registers,
          collect() {
            this.reset();
            for (const [l, s] of stats()) this.inc({ [label]: l } as Record<L, string>, value(s));
          },
        });
      });
    },
  });

  // Why some monotonic figures are Counters and others Gauges: a Counter tells Prometheus the
  // value only goes up (so `rate()` and `increase()` apply, with reset detection), which is
  // true of a pool's completed/failed/stolen tasks, a worker slot's restarts and a system's
  // dead letters. prom-client's Counter has no `set`, so each collect() does `reset()` then
  // `inc(labels, value)`: the exported value is exactly the stat. Per-actor series are Gauges
  // even where the figure is monotonic, because an actor enters and leaves the top-N set (and
  // stops), so its series comes and goes; what they show is a snapshot per scrape.

  if (pools.length > 0) {
    const poolStats = perTurn(() => pools.map(([label, p]) => [label, p.stats()] as const));
    const { gauge: poolGauge, counter: poolCounter } = perSource('pool', poolStats);
    const quantiles = (name: string, help: string, pick: (s: PoolStats) => PoolStats['waitTime']): void =>
      family(name, (full) => {
        new Gauge<'pool' | 'quantile'>({
          name: full,
          help,
          labelNames: ['pool', 'quantile'],
          registers,
          aggregator: 'max',
          collect() {
            this.reset();
            for (const [pool, s] of poolStats()) {
              const p = pick(s);
              for (const [quantile, key] of QUANTILES) this.set({ pool, quantile }, p[key] / 1000);
            }
          },
        });
      });
    const workerCounter = (name: string, help: string, value: (w: PoolStats['workers'][number]) => number): void =>
      family(name, (full) => {
        new Counter<'pool' | 'worker'>({
          name: full,
          help,
          labelNames: ['pool', 'worker'],
          registers,
          collect() {
            this.reset();
            for (const [pool, s] of poolStats()) {
              for (const w of s.workers) this.inc({ pool, worker: String(w.index) }, value(w));
            }
          },
        });
      });

    poolGauge('pool_threads', 'Worker threads of the pool.', (s) => s.threads);
    poolGauge('pool_queued_tasks', 'Tasks submitted to the pool and not yet started.', (s) => s.queued);
    poolGauge('pool_running_tasks', 'Tasks started and not yet settled.', (s) => s.running);
    poolCounter('pool_tasks_completed_total', 'Tasks that completed successfully.', (s) => s.completed);
    poolCounter(
      'pool_tasks_failed_total',
      'Tasks that threw or rejected on a worker (not those lost with a worker that exited).',
      (s) => s.failed,
    );
    poolCounter('pool_tasks_stolen_total', "Tasks a worker took from another worker's deque (work stealing).", (s) => s.stolen);
    poolGauge(
      'pool_utilization_ratio',
      'Share of wall time the workers spent running tasks since the pool started (0..1).',
      (s) => s.utilization,
      'average',
    );
    quantiles('pool_task_wait_seconds', 'Time from submission to start, quantiles over the pool lifetime.', (s) => s.waitTime);
    quantiles('pool_task_run_seconds', 'Time from start to settlement, quantiles over the pool lifetime.', (s) => s.runTime);
    workerCounter('pool_worker_tasks_completed_total', 'Tasks completed by each worker slot.', (w) => w.completed);
    workerCounter('pool_worker_restarts_total', 'Workers of each slot that died and were replaced.', (w) => w.restarts);
  }

  if (systems.length > 0) {
    const totals = systems.map(() => new RunningTotals());
    const systemStats = perTurn(() =>
      systems.map(([label, sys], i) => {
        const s = sys.stats();
        return { label, s, totals: totals[i]!.update(s.actors) };
      }),
    );
    const systemGauge = (name: string, help: string, value: (s: ActorSystemStats) => number): void =>
      family(name, (full) => {
        new Gauge<'system'>({
          name: full,
          help,
          labelNames: ['system'],
          registers,
          collect() {
            this.reset();
            for (const { label, s } of systemStats()) this.set({ system: label }, value(s));
          },
        });
      });
    const systemCounter = (name: string, help: string, value: (s: ActorSystemStats, t: Totals) => number): void =>
      family(name, (full) => {
        new Counter<'system'>({
          name: full,
          help,
          labelNames: ['system'],
          registers,
          collect() {
            this.reset();
            for (const { label, s, totals: t } of systemStats()) this.inc({ system: label }, value(s, t));
          },
        });
      });
    const actorGauge = (name: string, help: string, value: (a: ActorStats) => number): void =>
      family(name, (full) => {
        new Gauge<'system' | 'actor'>({
          name: full,
          help,
          labelNames: ['system', 'actor'],
          registers,
          collect() {
            this.reset();
            for (const { label, s } of systemStats()) {
              for (const a of top(s.actors, topActors)) this.set({ system: label, actor: String(a.id) }, value(a));
            }
          },
        });
      });

    systemGauge('actor_system_actors', 'Live actors of the system.', (s) => s.actors.length);
    systemGauge('actor_system_mailbox_depth', 'Messages waiting in the mailboxes of all actors of the system.', (s) =>
      s.actors.reduce((n, a) => n + a.depth, 0),
    );
    systemCounter(
      'actor_system_messages_processed_total',
      'Messages actors took from their mailboxes (actors that stopped count up to the last scrape before they stopped).',
      (_s, t) => t.processed,
    );
    systemCounter(
      'actor_system_restarts_total',
      'Actor restarts by supervision (actors that stopped count up to the last scrape before they stopped).',
      (_s, t) => t.restarts,
    );
    systemCounter('actor_system_dead_letters_total', 'Messages dropped by overflow or sent to stopped actors.', (s) => s.deadLetters);
    if (topActors > 0) {
      actorGauge(
        'actor_mailbox_depth',
        `Messages waiting for an actor (the ${topActors} deepest mailboxes of each system).`,
        (a) => a.depth,
      );
      actorGauge(
        'actor_messages_processed',
        'Messages an actor took from its mailbox so far (same actors as actor_mailbox_depth).',
        (a) => a.processed,
      );
      actorGauge('actor_restarts', 'Restarts of an actor so far (same actors as actor_mailbox_depth).', (a) => a.restarts);
    }
  }

  if (stacks.length > 0) {
    family('shared_stack_size', (full) => {
      new Gauge<'stack'>({
        name: full,
        help: 'Values on the shared stack.',
        labelNames: ['stack'],
        registers,
        collect() {
          this.reset();
          for (const [stack, s] of stacks) this.set({ stack }, s.size);
        },
      });
    });
  }

  if (queues.length > 0) {
    const queueStats = perTurn(() => queues.map(([label, q]) => [label, q.stats()] as const));
    const { gauge: queueGauge, counter: queueCounter } = perSource('queue', queueStats);
    queueGauge('shared_queue_size', 'Values in the shared queue.', (s) => s.size);
    queueGauge('shared_queue_waiting_consumers', 'Thread-objects waiting for a value (popAsync pending).', (s) => s.waitingPop);
    queueGauge(
      'shared_queue_waiting_producers',
      'Thread-objects waiting for room (pushAsync pending on a full queue).',
      (s) => s.waitingPush,
    );
    queueCounter('shared_queue_full_total', 'Pushes refused because the queue was full.', (s) => s.full);
    queueCounter('shared_queue_wakes_total', 'Wake-ups sent from Rust to waiting threads.', (s) => s.wakes);
  }

  if (maps.length > 0) {
    const mapStats = perTurn(() => maps.map(([label, m]) => [label, m.stats()] as const));
    const { gauge: mapGauge, counter: mapCounter } = perSource('map', mapStats);
    mapGauge('shared_map_size', 'Entries in the shared map.', (s) => s.size);
    mapCounter('shared_map_hits_total', 'Reads (get) that found their key.', (s) => s.hits);
    mapCounter('shared_map_misses_total', 'Reads (get) that did not find their key.', (s) => s.misses);
    mapCounter('shared_map_evictions_total', 'Entries evicted for room or expired (bounded or expiring maps).', (s) => s.evictions);
    mapCounter('shared_map_cas_failures_total', 'compareAndSet calls that found another value (contention).', (s) => s.casFailures);
  }

  if (clusters.length > 0) {
    const clusterStats = perTurn(() => clusters.map(([label, c]) => [label, c.stats()] as const));
    const { gauge: clusterGauge, counter: clusterCounter } = perSource('node', clusterStats);
    clusterGauge('cluster_members', 'Nodes this node counts as members of its cluster, itself included.', (s) => s.members);
    family('cluster_asks_in_flight', (full) => {
      new Gauge<'node' | 'target_node'>({
        name: full,
        help: "This node's asks and remote pool calls waiting for their outcome, by the node of their target ('?': unknown, as for pool calls).",
        labelNames: ['node', 'target_node'],
        registers,
        collect() {
          this.reset();
          for (const [node, s] of clusterStats()) {
            for (const [target, n] of Object.entries(s.asksInFlight)) this.set({ node, target_node: target }, n);
          }
        },
      });
    });
    clusterCounter('cluster_asks_total', 'Asks and remote pool calls sent.', (s) => s.asks);
    clusterCounter('cluster_tells_total', 'Tells sent.', (s) => s.tells);
    clusterCounter('cluster_ask_timeouts_total', 'Asks and calls that ended WEFT_ASK_TIMEOUT.', (s) => s.askTimeouts);
    clusterCounter('cluster_ask_node_down_total', 'Asks and calls that ended WEFT_NODE_DOWN.', (s) => s.askNodeDown);
    clusterCounter('cluster_ask_no_actor_total', 'Asks and calls that ended WEFT_NO_ACTOR.', (s) => s.askNoActor);
    clusterCounter('cluster_ask_disconnected_total', 'Asks and calls that ended WEFT_DISCONNECTED.', (s) => s.askDisconnected);
    clusterCounter('cluster_received_total', 'Messages, asks and calls from the cluster handled by this node.', (s) => s.received);
    clusterCounter('cluster_node_down_events_total', 'Nodes this node declared down.', (s) => s.nodeDownEvents);
    clusterCounter('cluster_respawns_total', 'Actors this node started again after their node went down.', (s) => s.respawns);
    clusterCounter('cluster_fenced_total', 'Actors this node stopped because their placement moved elsewhere.', (s) => s.fenced);
    clusterCounter('cluster_reconnects_total', "Reconnections of this node's connection to the NATS servers.", (s) => s.reconnects);
    clusterCounter('cluster_bytes_in_total', "Bytes received on this node's connection.", (s) => s.bytesIn);
    clusterCounter('cluster_bytes_out_total', "Bytes sent on this node's connection.", (s) => s.bytesOut);
  }

  for (const build of metrics) build();
  let registered = true;
  return {
    names,
    unregister() {
      if (!registered) return;
      registered = false;
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

/** Whether `r` looks like a prom-client Registry (false when reading it throws: a Proxy). */
function isRegistry(r: unknown): r is Registry {
  try {
    return (
      r !== null &&
      typeof r === 'object' &&
      typeof (r as Registry).registerMetric === 'function' &&
      typeof (r as Registry).getSingleMetric === 'function'
    );
  } catch {
    return false;
  }
}

function isPoolSource(x: unknown): x is PoolStatsSource {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as PoolStatsSource).stats === 'function' &&
    typeof (x as PoolStatsSource).name === 'string'
  );
}

function isSystemSource(x: unknown): x is ActorSystemStatsSource {
  return typeof x === 'object' && x !== null && typeof (x as ActorSystemStatsSource).stats === 'function';
}

function isClusterSource(x: unknown): x is ClusterStatsSource {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ClusterStatsSource).stats === 'function' &&
    typeof (x as ClusterStatsSource).name === 'string'
  );
}

/** A queue or a map: anything with `stats()`. */
function isQueueSource(x: unknown): x is QueueStatsSource & MapStatsSource {
  return typeof x === 'object' && x !== null && typeof (x as QueueStatsSource).stats === 'function';
}

function isStackSource(x: unknown): x is StackSizeSource {
  return typeof x === 'object' && x !== null && typeof (x as StackSizeSource).size === 'number';
}

/** `[label, source]` pairs of a list or record; labels must be unique. */
function entries<T>(
  what: string,
  src: Named<T> | undefined,
  check: (x: unknown) => x is T,
  labelOf: ((x: T, index: number) => string) | undefined,
): Array<[string, T]> {
  if (src === undefined) return [];
  if (src === null || typeof src !== 'object') throw new InvalidArgumentError(`${what} must be an array or a record`);
  try {
    return labelled(what, src, check, labelOf);
  } catch (err) {
    // A getter or Proxy trap of the user's objects threw while they were checked.
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`${what}: reading it threw: ${thrownMessage(err)}`, { cause: err });
  }
}

function labelled<T>(
  what: string,
  src: Named<T>,
  check: (x: unknown) => x is T,
  labelOf: ((x: T, index: number) => string) | undefined,
): Array<[string, T]> {
  let out: Array<[string, T]>;
  if (Array.isArray(src)) {
    if (labelOf === undefined) throw new InvalidArgumentError(`${what} must be a record of name to value`);
    out = (src as readonly T[]).map((x, i) => {
      if (!check(x)) throw new InvalidArgumentError(`${what}[${i}] is not what ${what} takes`);
      return [labelOf(x, i), x];
    });
  } else {
    out = Object.entries(src as Readonly<Record<string, T>>).map(([k, x]) => {
      if (!check(x)) throw new InvalidArgumentError(`${what}.${k} is not what ${what} takes`);
      return [k, x];
    });
  }
  const seen = new Set<string>();
  for (const [label] of out) {
    if (seen.has(label)) throw new InvalidArgumentError(`two ${what} share the label ${JSON.stringify(label)} (give them as a record)`);
    seen.add(label);
  }
  return out;
}

/**
 * `fn()` computed once per synchronous run: a scrape calls every collect() in one turn, so the
 * stats are read once per scrape, not once per metric family.
 */
function perTurn<T>(fn: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (cached === undefined) {
      cached = { value: fn() };
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}

interface Totals {
  processed: number;
  restarts: number;
}

/**
 * Per-system totals that stay monotonic while actors come and go: what stopped actors had
 * reached at the last scrape is kept (and a per-actor figure that went down is taken as a reset).
 */
class RunningTotals {
  #last = new Map<number, Totals>();
  #retired: Totals = { processed: 0, restarts: 0 };

  update(actors: readonly ActorStats[]): Totals {
    const next = new Map<number, Totals>();
    const live: Totals = { processed: 0, restarts: 0 };
    for (const a of actors) {
      const prev = this.#last.get(a.id);
      if (prev !== undefined) {
        if (a.processed < prev.processed) this.#retired.processed += prev.processed;
        if (a.restarts < prev.restarts) this.#retired.restarts += prev.restarts;
      }
      next.set(a.id, { processed: a.processed, restarts: a.restarts });
      live.processed += a.processed;
      live.restarts += a.restarts;
    }
    for (const [id, t] of this.#last) {
      if (!next.has(id)) {
        this.#retired.processed += t.processed;
        this.#retired.restarts += t.restarts;
      }
    }
    this.#last = next;
    return { processed: this.#retired.processed + live.processed, restarts: this.#retired.restarts + live.restarts };
  }
}

/** The `n` actors with the deepest mailboxes (ties: most processed, then lowest id). */
function top(actors: readonly ActorStats[], n: number): ActorStats[] {
  if (n === 0) return [];
  const before = (a: ActorStats, b: ActorStats): boolean =>
    a.depth !== b.depth ? a.depth > b.depth : a.processed !== b.processed ? a.processed > b.processed : a.id < b.id;
  const best: ActorStats[] = [];
  for (const a of actors) {
    if (best.length === n && !before(a, best[n - 1]!)) continue;
    let i = best.length === n ? n - 1 : best.length;
    if (best.length === n) best.pop();
    while (i > 0 && before(a, best[i - 1]!)) i--;
    best.splice(i, 0, a);
  }
  return best;
}
