/**
 * How a RemoteRef works on a thread without a cluster connection (a pool worker whose actor got
 * one in a message): it sends through the node's gateway, an actor on the node's main thread
 * that forwards to the node. Worker → gateway keeps the worker's order (one sender, one mailbox),
 * gateway → NATS keeps it on the node's one connection: order per (sender node, target) holds.
 */
import { type ActorRef, type ActorSystem, type AskOptions, defineActor } from '../actor/index.js';
import { type RemoteAddress, type RemoteSender, setGatewaySender } from './remote-ref.js';

/** The nodes of this process by gateway key (the gateway actors find theirs here). */
const nodes = new Map<string, RemoteSender>();
let nextKey = 1;

/** Extra time the gateway's local ask waits beyond the remote ask's own timeout (its outcome comes first). */
const GATEWAY_SLACK_MS = 1_000;
const DEFAULT_TIMEOUT_MS = 30_000;

const Gateway = defineActor({
  init: (key: string) => ({ node: key }),
  handlers: {
    tell: (s, m: { to: RemoteAddress; msg: unknown }) => {
      nodes.get(s.node)?.tell(m.to, m.msg);
    },
    ask: (s, m: { to: RemoteAddress; msg: unknown; timeout: number | undefined }) => {
      const node = nodes.get(s.node);
      if (node === undefined) throw new Error(`cluster node ${s.node} is closed`);
      return node.ask(m.to, m.msg, m.timeout === undefined ? undefined : { timeout: m.timeout });
    },
  },
});

/** Starts the gateway of `node` on its system's main thread; returns its ref and its key. */
export function startGateway(node: RemoteSender, system: ActorSystem): { ref: ActorRef; key: string } {
  // A key per node object: several nodes of one process may share a name (on different servers).
  const key = `${nextKey++}`;
  nodes.set(key, node);
  return { ref: system.spawn(Gateway, key, { on: 'main' }) as unknown as ActorRef, key };
}

/** Forgets a node's gateway (the actor stops with the node's system, or stays unused). */
export function stopGateway(key: string): void {
  nodes.delete(key);
}

/** Sends through a gateway ref (on threads without a connection). */
export class GatewaySender implements RemoteSender {
  constructor(readonly gateway: ActorRef) {}

  tell(to: RemoteAddress, msg: unknown): void {
    void this.gateway.tell({ type: 'tell', to, msg } as never);
  }

  ask(to: RemoteAddress, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    const timeout = options?.timeout;
    return this.gateway.ask({ type: 'ask', to, msg, timeout } as never, {
      timeout: (timeout ?? DEFAULT_TIMEOUT_MS) + GATEWAY_SLACK_MS,
      ...(options?.signal === undefined ? {} : { signal: options.signal }),
    });
  }
}

setGatewaySender((gateway) => new GatewaySender(gateway));
