/**
 * The hosts of this thread, by actor system id: where a ref finds the host that sends for it.
 * Kept on `globalThis` under a registered symbol, so that every copy of weft loaded in a thread
 * shares it. Pool workers attach to a system the first time something of it reaches them: the
 * worker runtime installs how (`setHostAttacher`). Installs `hostFor` as the refs' resolver.
 */
import { WeftError } from '../../errors.js';
import { setHostResolver } from '../ref.js';
import type { ActorHost } from './host.js';

/** What the registry holds. */
interface HostRegistry {
  hosts: Map<number, ActorHost>;
  /** Makes a host for a system this thread has not seen (pool workers attach on demand). */
  attach: ((system: number, token: number) => ActorHost) | undefined;
}

const HOSTS = Symbol.for('weft.actor.hosts');

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

/** This thread's host of system `system` (attached now on a pool worker that has none yet). */
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

/** Every actor host of this thread (the worker loop asks them whether they are busy). */
export function hostsOfThisThread(): Iterable<ActorHost> {
  return hostRegistry().hosts.values();
}

setHostResolver(hostFor);
