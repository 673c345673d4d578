/**
 * The failure detector of one cluster node, on a worker thread with its own NATS connection, so
 * that a busy main thread neither silences this node's heartbeats nor makes it miss the others'
 * (Moleculer's heartbeats starve under CPU load: moleculerjs/moleculer#891).
 *
 * It publishes `weft.<c>.hb.<node>` every `intervalMs`, listens to every node's, and tells the
 * main thread (`parentPort`) when a node is first heard (`up`) and when one has been silent for
 * `windowMs` or said goodbye (`down`). While its own connection is down, or hung (its own
 * heartbeats do not come back), it declares nobody down (it would only be hearing nothing), and it
 * starts every clock again when the connection is back.
 * On `'stop'` it says goodbye (`weft.<c>.bye.<node>`) and closes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';

/** What the main thread gives the worker. */
export interface HeartbeatConfig {
  nats: NodeConnectionOptions;
  cluster: string;
  node: string;
  intervalMs: number;
  windowMs: number;
}

/** What the worker tells the main thread. */
export type HeartbeatEvent =
  | { type: 'ready' }
  | { type: 'up'; node: string }
  | { type: 'down'; node: string; silentMs: number; bye: boolean }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const cfg = workerData as HeartbeatConfig;
  const port = parentPort;
  if (port === null) return;
  const post = (e: HeartbeatEvent): void => port.postMessage(e);
  const nc = await connect({ ...cfg.nats, name: `weft ${cfg.cluster}/${cfg.node} heartbeat` });
  const prefix = `weft.${cfg.cluster}.hb.`;
  const byePrefix = `weft.${cfg.cluster}.bye.`;
  const helloPrefix = `weft.${cfg.cluster}.hello.`;
  const last = new Map<string, number>();
  let connected = true;
  // This node's own heartbeats come back to it (NATS echoes them): while they do not, its link to
  // the servers is hung (a stopped server keeps the TCP connection open until two pings go
  // unanswered), and silence from the others says nothing about them.
  let heardSelf = Date.now();
  const selfLate = Math.max(2 * cfg.intervalMs, cfg.intervalMs + 250);
  const restartClocks = (now: number): void => {
    for (const node of last.keys()) last.set(node, now);
  };
  const heard = (node: string): void => {
    if (node === cfg.node) {
      const now = Date.now();
      // Back after a hang: nothing could be heard meanwhile, so everyone's clock starts again.
      if (now - heardSelf > selfLate) restartClocks(now);
      heardSelf = now;
      return;
    }
    if (!last.has(node)) post({ type: 'up', node });
    last.set(node, Date.now());
  };
  nc.subscribe(`${prefix}*`, { callback: (_e, m) => heard(m.subject.slice(prefix.length)) });
  nc.subscribe(`${byePrefix}*`, {
    callback: (_e, m) => {
      const node = m.subject.slice(byePrefix.length);
      if (node === cfg.node || !last.has(node)) return;
      last.delete(node);
      post({ type: 'down', node, silentMs: 0, bye: true });
    },
  });
  const beat = (): void => {
    try {
      nc.publish(`${prefix}${cfg.node}`);
    } catch {
      // Closed: the 'stop' path ends the thread.
    }
  };
  // A node that joins says hello, and every node beats at once: the newcomer knows the members
  // when connect() resolves instead of one heartbeat interval later.
  nc.subscribe(`${helloPrefix}*`, {
    callback: (_e, m) => {
      if (m.subject.slice(helloPrefix.length) !== cfg.node) beat();
    },
  });
  const beats = setInterval(beat, cfg.intervalMs);
  const check = setInterval(
    () => {
      const now = Date.now();
      if (!connected || now - heardSelf > selfLate) return;
      for (const [node, at] of last) {
        if (now - at > cfg.windowMs) {
          last.delete(node);
          post({ type: 'down', node, silentMs: now - at, bye: false });
        }
      }
    },
    Math.max(20, Math.min(250, Math.floor(cfg.windowMs / 8))),
  );
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') {
        // Everyone's clock starts again: nothing could be heard while this node was away.
        restartClocks(Date.now());
        connected = true;
        beat();
      }
    }
  })();
  port.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    clearInterval(beats);
    clearInterval(check);
    try {
      nc.publish(`${byePrefix}${cfg.node}`);
    } catch {
      /* closed already */
    }
    void nc
      .drain()
      .catch(() => {})
      .finally(() => port.close());
  });
  await nc.flush();
  beat();
  nc.publish(`${helloPrefix}${cfg.node}`);
  await nc.flush();
  // The others' answers to the hello come within a round trip or two.
  await new Promise((r) => setTimeout(r, Math.min(100, cfg.intervalMs)));
  post({ type: 'ready' });
}

main().catch((err: unknown) => {
  parentPort?.postMessage({
    type: 'error',
    message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
  } satisfies HeartbeatEvent);
});
