/**
 * `connect()`'s and `node.spawn()`'s options, checked once: every bad value is `WEFT_INVALID_ARG`
 * naming it. The NATS client's settings are weft's (a hung server noticed in seconds: ping every
 * 2 s, two missed; reconnect forever, every 250 ms with jitter), not the client's defaults (ping
 * every 2 minutes, give up after 10 reconnects).
 */
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import type { ActorSystem, Placement as LocalPlacement } from '../actor/index.js';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../internal/describe.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import type { Pool } from '../pool/index.js';
import { checkToken } from './subjects.js';

/** Credentials: a user and password, a token, an nkey seed, or a creds file's text or path. */
export type ClusterAuth = { user: string; pass: string } | { token: string };

/** TLS to the servers (Node's TLS options: `ca`, `cert`, `key` as PEM text, or `caFile`, `certFile`, `keyFile`). */
export interface ClusterTls {
  ca?: string;
  cert?: string;
  key?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface ClusterOptions {
  /** NATS server URL(s): `nats://host:4222`. The client learns the rest of a NATS cluster from them. */
  servers: string | readonly string[];
  /** The cluster's name (its subjects are `weft.<cluster>.>`): 1 to 64 of `A-Z a-z 0-9 _ -`. */
  cluster: string;
  /** This node's name, unique in the cluster (default: hostname-pid-random). */
  name?: string;
  auth?: ClusterAuth;
  tls?: ClusterTls;
  /** A node silent this long is declared down (default 3000 ms). */
  failureWindowMs?: number;
  /** The default ask and remote call timeout (default 30 000 ms). */
  askTimeoutMs?: number;
  /**
   * The most asks and remote calls in flight to one target (an actor or a served pool) from this
   * node (default 4096): one more rejects at once with `WEFT_QUEUE_FULL`.
   */
  maxInFlight?: number;
  /** A Pool whose workers may host this node's actors (`spawn(..., { on: 'worker' })`). */
  pool?: Pool;
  /** An ActorSystem to host actors in (default: the node makes one, with `pool`, and stops it on drain). */
  system?: ActorSystem;
  /**
   * Replicas of the placement bucket when this node creates it (1 to 5, default 1). On a NATS
   * cluster of 3 servers use 3: the side of a partition with a majority of them keeps placing
   * actors, the other cannot.
   */
  replicas?: number;
}

export const CLUSTER_OPTIONS = optionNames<ClusterOptions>()([
  'servers',
  'cluster',
  'name',
  'auth',
  'tls',
  'failureWindowMs',
  'askTimeoutMs',
  'maxInFlight',
  'pool',
  'system',
  'replicas',
]);

export interface SpawnRemoteOptions {
  /** The actor's name in the cluster (required): 1 to 64 of `A-Z a-z 0-9 _ -`. */
  name: string;
  /** What happens when its node dies: `'respawn'` (another node starts it again) or `'none'` (default). */
  restart?: 'none' | 'respawn';
  /** Where on this node: as `system.spawn`'s `on`. */
  on?: LocalPlacement;
}

export const SPAWN_REMOTE_OPTIONS = optionNames<SpawnRemoteOptions>()(['name', 'restart', 'on']);

export interface ResolvedClusterOptions {
  servers: readonly string[];
  cluster: string;
  name: string;
  failureWindowMs: number;
  askTimeoutMs: number;
  maxInFlight: number;
  pool: Pool | undefined;
  system: ActorSystem | undefined;
  replicas: number;
  /** What the NATS client gets. */
  nats: NodeConnectionOptions;
}

function positiveMs(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${what} must be a positive number of milliseconds, got ${describe(v)}`);
  }
  return v;
}

function positiveInt(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
}

export function resolveOptions(options: ClusterOptions, defaultNamePrefix: string): ResolvedClusterOptions {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`connect expects an options object, got ${describe(options)}`);
  checkOptionNames(options, CLUSTER_OPTIONS, 'connect');
  const list = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new InvalidArgumentError(`servers must be a NATS URL or a non-empty array of them, got ${describe(options.servers)}`);
  }
  const cluster = checkToken(options.cluster, 'cluster');
  const name = options.name === undefined ? `${defaultNamePrefix}-${randomSuffix()}`.slice(-64) : checkToken(options.name, 'name');
  const nats: NodeConnectionOptions = {
    servers: [...(list as string[])],
    name: `weft ${cluster}/${name}`,
    pingInterval: 2000,
    maxPingOut: 2,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    noAsyncTraces: true,
  };
  const auth = options.auth;
  if (auth !== undefined) {
    if (auth === null || typeof auth !== 'object')
      throw new InvalidArgumentError(`auth must be { user, pass } or { token }, got ${describe(auth)}`);
    if ('token' in auth) {
      if (typeof auth.token !== 'string') throw new InvalidArgumentError('auth.token must be a string');
      nats.token = auth.token;
    } else if (typeof auth.user === 'string' && typeof auth.pass === 'string') {
      nats.user = auth.user;
      nats.pass = auth.pass;
    } else {
      throw new InvalidArgumentError(`auth must be { user, pass } or { token } with strings, got ${describe(auth)}`);
    }
  }
  if (options.tls !== undefined) {
    if (options.tls === null || typeof options.tls !== 'object')
      throw new InvalidArgumentError(`tls must be an object, got ${describe(options.tls)}`);
    checkOptionNames(options.tls, ['ca', 'cert', 'key', 'caFile', 'certFile', 'keyFile'], 'connect tls');
    nats.tls = { ...options.tls };
  }
  if (options.pool !== undefined && options.system !== undefined) {
    throw new InvalidArgumentError('connect: give pool or system, not both (a system has its pool already)');
  }
  return {
    servers: nats.servers as string[],
    cluster,
    name,
    failureWindowMs: positiveMs(options.failureWindowMs, 'failureWindowMs', 3000),
    askTimeoutMs: positiveMs(options.askTimeoutMs, 'askTimeoutMs', 30_000),
    maxInFlight: positiveInt(options.maxInFlight, 'maxInFlight', 4096),
    pool: options.pool,
    system: options.system,
    replicas: replicasOf(options.replicas),
    nats,
  };
}

function replicasOf(v: unknown): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 5)
    throw new InvalidArgumentError(`replicas must be an integer from 1 to 5, got ${describe(v)}`);
  return v;
}

export function resolveSpawnOptions(options: SpawnRemoteOptions): {
  name: string;
  restart: 'none' | 'respawn';
  on: LocalPlacement | undefined;
} {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`spawn expects options with a name, got ${describe(options)}`);
  checkOptionNames(options, SPAWN_REMOTE_OPTIONS, 'spawn');
  const name = checkToken(options.name, 'the actor name');
  const restart = options.restart ?? 'none';
  if (restart !== 'none' && restart !== 'respawn')
    throw new InvalidArgumentError(`restart must be 'none' or 'respawn', got ${describe(restart)}`);
  return { name, restart, on: options.on };
}
