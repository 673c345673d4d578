// Declarations for scripts/nats-server.mjs (used by the cluster tests, bench/cluster and the
// cluster example).

/** The one line printed when there is no server: how to get one, and what happens without it. */
export function missingLine(reason?: string, ci?: boolean): string;

/** Thrown by `ensureNatsServer` when no server can be had here. */
export class NatsServerUnavailable extends Error {
  constructor(reason?: string);
  readonly code: 'WEFT_NATS_UNAVAILABLE';
  readonly reason: string | undefined;
}

/** The absolute path of a `nats-server`, or undefined when there is none. */
export function findNatsServer(): string | undefined;

/** What `<path> --version` prints, e.g. `v2.9.10`; throws when it does not run. */
export function natsServerVersion(path: string): string;

/** The absolute path of a working `nats-server` (fetched from Debian into the cache if need be). */
export function ensureNatsServer(): Promise<string>;
