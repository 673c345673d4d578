/**
 * The actor host's face: `ActorHost`, the actor runtime of one thread for one actor system, and
 * the registry of this thread's hosts. The host itself is split along its seams in ./host/:
 *
 *   host.ts        the actor table, same-thread delivery, the run loop and the pump
 *   spawn.ts       spawning: options, placement, START records, instantiating
 *   context.ts     an actor's `ctx`
 *   outbox.ts      sending to other threads: the batch, bounded mailboxes, waiting for room
 *   inbox.ts       receiving: envelopes, system messages, notices
 *   supervisor.ts  supervision: start, failure strategies, restart, terminate
 *   asks.ts        pending asks: timeouts, abort signals, settling
 *   registry.ts    the hosts of this thread
 *   actor.ts       the actor record; messages.ts reading user values
 *
 * Every native call the host makes goes through ../transport.ts: `LocalRuntime` (actors, names,
 * mailboxes, this host's turn) and `ActorTransport` (delivery, what a network transport implements).
 */
export { ActorHost, type HostEvents, type HostOptions } from './host/host.js';
export { DEFAULT_ASK_TIMEOUT } from './host/asks.js';
export { MAX_MAILBOX_CAPACITY, boundOf } from './host/spawn.js';
export type { Bound } from './host/actor.js';
export { hostFor, hostsOfThisThread, registerHost, setHostAttacher, unregisterHost } from './host/registry.js';
