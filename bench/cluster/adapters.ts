/**
 * One adapter per library for each side of the cluster bench: `serveSide(lib, url)` (the serving
 * child: an echo, a sink that counts, a count query, a pool or action that does x => x + 1) and
 * `callSide(lib, url)` (the calling child: one round trip, one tell, the sink's count, one pool
 * call). The timing code is in call.ts, the same for every library. Libraries are imported
 * dynamically, so that a child loads only the one it measures.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageVersion } from '../harness/index.js';
import type { SinkCount } from './actors.js';
import { type Lib, NAMES, PAYLOAD, TIMEOUT_MS } from './params.js';

export interface ServeSide {
  /** What was set up, for the JSON. */
  setup: string;
  close(): Promise<void>;
}

export interface CallSide {
  version: string;
  setup: string;
  /** One round trip with the payload. */
  ask(): Promise<unknown>;
  /** Whether a reply of `ask` is the payload. */
  checkReply(reply: unknown): boolean;
  /** A fire-and-forget message with the payload to the serving process's counter. */
  tell?: () => void;
  /** The serving process's count of tells so far, and when it handled the last one. */
  sinkCount?: () => Promise<SinkCount>;
  /** A remote call of `inc(i)` (resolves with i + 1). */
  poolCall?: (i: number) => Promise<number>;
  close(): Promise<void>;
}

const now = (): number => performance.timeOrigin + performance.now();

export function versionOf(lib: Lib): string {
  if (lib === 'weft') return packageVersion('weftjs');
  if (lib === 'moleculer') return `moleculer ${packageVersion('moleculer')}, nats ${packageVersion('nats')}`;
  return `@nats-io/transport-node ${packageVersion('@nats-io/transport-node')}`;
}

export function serveSide(lib: Lib, url: string): Promise<ServeSide> {
  switch (lib) {
    case 'raw':
    case 'request':
      return rawServe(url);
    case 'weft':
      return weftServe(url);
    case 'moleculer':
      return moleculerServe(url);
  }
}

export function callSide(lib: Lib, url: string): Promise<CallSide> {
  switch (lib) {
    case 'raw':
      return rawCall(url);
    case 'request':
      return requestCall(url);
    case 'weft':
      return weftCall(url);
    case 'moleculer':
      return moleculerCall(url);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw NATS (@nats-io/transport-node): the serving side of both `raw` and `request`

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PAYLOAD_BYTES = encoder.encode(PAYLOAD);

async function rawServe(url: string): Promise<ServeSide> {
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: url, name: 'bench serve', noAsyncTraces: true });
  const sink: SinkCount = { count: 0, lastAt: 0 };
  nc.subscribe(NAMES.rawEcho, { callback: (_e, m) => void m.respond(m.data) });
  nc.subscribe(NAMES.rawSink, {
    callback: () => {
      sink.count++;
      sink.lastAt = now();
    },
  });
  nc.subscribe(NAMES.rawCount, { callback: (_e, m) => void m.respond(encoder.encode(JSON.stringify(sink))) });
  await nc.flush();
  return {
    setup: `subscriptions on ${NAMES.rawEcho} (m.respond(m.data)), ${NAMES.rawSink} (counts), ${NAMES.rawCount}`,
    close: () => nc.drain(),
  };
}

/** publish + one wildcard reply subscription, the id in the reply subject, a Map of pending ids. */
async function rawCall(url: string): Promise<CallSide> {
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: url, name: 'bench call', noAsyncTraces: true });
  const prefix = `_R.${nc.info?.client_id ?? 0}.${process.pid}`;
  const cut = prefix.length + 1;
  const pending = new Map<number, (data: Uint8Array) => void>();
  let next = 1;
  nc.subscribe(`${prefix}.*`, {
    callback: (_e, m) => {
      const id = Number(m.subject.slice(cut));
      const resolve = pending.get(id);
      if (resolve === undefined) return;
      pending.delete(id);
      resolve(m.data);
    },
  });
  await nc.flush();
  return {
    version: versionOf('raw'),
    setup: `nc.publish('${NAMES.rawEcho}', bytes, { reply: '${prefix}.<id>' }), replies on one subscription '${prefix}.*'`,
    ask: () =>
      new Promise<Uint8Array>((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        nc.publish(NAMES.rawEcho, PAYLOAD_BYTES, { reply: `${prefix}.${id}` });
      }),
    checkReply: (r) => r instanceof Uint8Array && decoder.decode(r) === PAYLOAD,
    tell: () => nc.publish(NAMES.rawSink, PAYLOAD_BYTES),
    sinkCount: async () => JSON.parse(decoder.decode((await nc.request(NAMES.rawCount, undefined, { timeout: TIMEOUT_MS })).data)),
    close: () => nc.drain(),
  };
}

async function requestCall(url: string): Promise<CallSide> {
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: url, name: 'bench call', noAsyncTraces: true });
  return {
    version: versionOf('request'),
    setup: `connect({ noAsyncTraces: true }); nc.request('${NAMES.rawEcho}', bytes, { timeout: ${TIMEOUT_MS} })`,
    ask: async () => (await nc.request(NAMES.rawEcho, PAYLOAD_BYTES, { timeout: TIMEOUT_MS })).data,
    checkReply: (r) => r instanceof Uint8Array && decoder.decode(r) === PAYLOAD,
    close: () => nc.drain(),
  };
}

// ---------------------------------------------------------------------------------------------
// weft (this repository's src/, through tsx)

async function weftServe(url: string): Promise<ServeSide> {
  const { connect } = await import('../../src/cluster/index.js');
  const { Pool } = await import('../../src/index.js');
  const { Echo } = await import('./actors.js');
  const node = await connect({ servers: url, cluster: NAMES.cluster, name: 'serve' });
  node.register({ Echo });
  await node.spawn(Echo, undefined, { name: NAMES.actor });
  const pool = new Pool({ module: join(__dirname, 'tasks.mjs'), threads: 1 });
  node.serve(NAMES.pool, pool);
  return {
    setup: `connect({ cluster: '${NAMES.cluster}', name: 'serve' }); spawn(Echo, undefined, { name: '${NAMES.actor}' }) on the main thread; serve('${NAMES.pool}', new Pool({ module: tasks.mjs, threads: 1 }))`,
    close: async () => {
      await node.drain();
      await pool.close();
    },
  };
}

async function weftCall(url: string): Promise<CallSide> {
  const { connect } = await import('../../src/cluster/index.js');
  const { Echo } = await import('./actors.js');
  const node = await connect({ servers: url, cluster: NAMES.cluster, name: 'call' });
  const ref = node.ref<typeof Echo>(NAMES.actor);
  const pool = node.pool<{ inc: (x: number) => number }>(NAMES.pool);
  const msg = { type: 'echo', v: PAYLOAD } as const;
  const sink = { type: 'sink', v: PAYLOAD } as const;
  return {
    version: versionOf('weft'),
    setup: `connect({ cluster: '${NAMES.cluster}', name: 'call' }); node.ref('${NAMES.actor}').ask({ type: 'echo', v }) / .tell({ type: 'sink', v }); node.pool('${NAMES.pool}').run('inc', i)`,
    ask: () => ref.ask(msg),
    checkReply: (r) => r === PAYLOAD,
    tell: () => ref.tell(sink),
    sinkCount: () => ref.ask({ type: 'count' }),
    poolCall: (i) => pool.run('inc', i),
    close: () => node.drain(),
  };
}

// ---------------------------------------------------------------------------------------------
// Moleculer 0.14, NATS transporter (the `nats` 2.x client), JSON serializer (its default)

type Broker = import('moleculer').ServiceBroker;

async function brokers(url: string, nodeID: string): Promise<{ main: Broker; queue: Broker }> {
  const { ServiceBroker } = await import('moleculer');
  const make = (namespace: string, disableBalancer: boolean): Broker =>
    new ServiceBroker({
      namespace,
      nodeID,
      transporter: { type: 'NATS', options: { url } },
      logger: false,
      requestTimeout: TIMEOUT_MS,
      disableBalancer,
    });
  return { main: make(NAMES.molNamespace, false), queue: make(NAMES.molNamespaceQueue, true) };
}

async function moleculerServe(url: string): Promise<ServeSide> {
  const { main, queue } = await brokers(url, 'serve');
  const sink: SinkCount = { count: 0, lastAt: 0 };
  main.createService({
    name: 'echo',
    actions: {
      echo: (ctx) => (ctx.params as { v: unknown }).v,
      count: () => ({ ...sink }),
    },
    events: {
      'bench.sink': () => {
        sink.count++;
        sink.lastAt = now();
      },
    },
  });
  queue.createService({ name: 'pool', actions: { inc: (ctx) => (ctx.params as { x: number }).x + 1 } });
  await Promise.all([main.start(), queue.start()]);
  return {
    setup:
      "two brokers (namespace 'bench': service echo with actions echo, count and event bench.sink; namespace 'benchq', disableBalancer: service pool with action inc), transporter NATS, serializer JSON, requestTimeout 30 s",
    close: async () => {
      await Promise.all([main.stop(), queue.stop()]);
    },
  };
}

async function moleculerCall(url: string): Promise<CallSide> {
  const { main, queue } = await brokers(url, 'call');
  await Promise.all([main.start(), queue.start()]);
  await Promise.all([main.waitForServices('echo', 10_000), queue.waitForServices('pool', 10_000)]);
  const params = { v: PAYLOAD };
  const ignore = (): void => {};
  return {
    version: versionOf('moleculer'),
    setup:
      "broker.call('echo.echo', { v }); broker.emit('bench.sink', { v }); pool row: broker.call('pool.inc', { x: i }) on the disableBalancer brokers",
    ask: () => main.call('echo.echo', params),
    checkReply: (r) => r === PAYLOAD,
    tell: () => {
      const p = main.emit('bench.sink', params) as unknown;
      if (p instanceof Promise) p.catch(ignore);
    },
    sinkCount: () => main.call('echo.count') as Promise<SinkCount>,
    poolCall: (i) => queue.call('pool.inc', { x: i }) as Promise<number>,
    close: async () => {
      await Promise.all([main.stop(), queue.stop()]);
    },
  };
}
