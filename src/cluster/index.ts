/**
 * weftjs/cluster: actors and pools across machines on NATS (core NATS for messages, JetStream KV
 * for placement). `connect()` makes this process a node of a cluster.
 */
import { ClusterNode } from './node.js';
import type { ClusterOptions } from './options.js';

export { ClusterNode, type RemotePool, type ClusterStats, type ClusterEventMap } from './node.js';
export { RemoteRef, type RemoteAddress } from './remote-ref.js';
export { MessageTooLargeError } from './errors.js';
export type { ClusterOptions, ClusterAuth, ClusterTls, SpawnRemoteOptions } from './options.js';

/**
 * Connects to the NATS servers and joins cluster `options.cluster` as a node. Rejects with
 * `WEFT_AUTH` when the servers refuse the credentials, `WEFT_DISCONNECTED` when none can be
 * reached, `WEFT_INVALID_ARG` for bad options or servers without JetStream.
 */
export function connect(options: ClusterOptions): Promise<ClusterNode> {
  return ClusterNode.open(options);
}
