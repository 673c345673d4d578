// The nats-server harness against the real server and the official client: publish/subscribe,
// JetStream KV, a restart on the same port, credentials and max_payload.
import anyTest from 'ava';
import { createServer } from 'node:net';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { rejection } from '../helpers.js';
import { type NatsServer, type NatsServerOptions, skipUnlessNatsServer, startNatsServer } from './server.js';

const test = skipUnlessNatsServer(anyTest);

/** Rejects after `ms` with `what`, so that no await in these tests can hang. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Whether a listener can bind 127.0.0.1:`port` now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function serverFor(t: { teardown(fn: () => unknown): void }, opts?: NatsServerOptions): Promise<NatsServer> {
  const server = await startNatsServer(opts);
  t.teardown(() => server.stop());
  return server;
}

async function connected(t: { teardown(fn: () => unknown): void }, nc: NatsConnection): Promise<NatsConnection> {
  t.teardown(() => nc.close());
  return nc;
}

test('a server starts, carries a message, and stops, freeing its port', async (t) => {
  const server = await serverFor(t);
  t.regex(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  t.true(alive(server.pid));
  const nc = await connected(t, await within(5_000, 'connect', connect({ servers: server.url })));
  const sub = nc.subscribe('weft.test', { max: 1 });
  const received = (async () => {
    for await (const m of sub) return m.string();
    return undefined;
  })();
  nc.publish('weft.test', 'hello');
  t.is(await within(5_000, 'the message', received), 'hello');
  await nc.close();
  const { pid, port } = server;
  await server.stop();
  t.false(alive(pid), `nats-server ${pid} still runs after stop()`);
  t.true(await portIsFree(port), `port ${port} is still taken after stop()`);
});

test('with jetstream, a KV bucket rejects creating the same key twice', async (t) => {
  const server = await serverFor(t, { jetstream: true });
  const nc = await connected(t, await within(5_000, 'connect', connect({ servers: server.url })));
  const kv = await within(10_000, 'the bucket', new Kvm(nc).create('weft_harness'));
  const seq = await within(5_000, 'the first create', kv.create('actor.1', 'a'));
  t.true(seq > 0);
  const err = await rejection(t, within(5_000, 'the second create', kv.create('actor.1', 'b')));
  t.true(err instanceof Error && /wrong last sequence/.test(err.message), String(err));
  t.is((await within(5_000, 'get', kv.get('actor.1')))?.string(), 'a');
});

test('restart() keeps the JetStream store', async (t) => {
  const server = await serverFor(t, { jetstream: true });
  const first = await within(5_000, 'connect', connect({ servers: server.url }));
  const kv = await within(10_000, 'the bucket', new Kvm(first).create('weft_restart'));
  await within(5_000, 'put', kv.put('k', 'kept'));
  await first.close();
  await server.restart();
  const nc = await connected(t, await within(5_000, 'connect', connect({ servers: server.url })));
  const again = await within(10_000, 'open the bucket', new Kvm(nc).open('weft_restart'));
  t.is((await within(5_000, 'get', again.get('k')))?.string(), 'kept');
});

test('restart() keeps the port, and a client reconnects and publishes again', async (t) => {
  const server = await serverFor(t);
  const { port, pid } = server;
  const nc = await connected(
    t,
    await within(5_000, 'connect', connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 })),
  );
  const reconnected = (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') return true;
    return false;
  })();
  await server.restart();
  t.is(server.port, port);
  t.not(server.pid, pid);
  t.false(alive(pid));
  t.true(await within(10_000, 'the reconnect', reconnected));
  const sub = nc.subscribe('weft.after', { max: 1 });
  const received = (async () => {
    for await (const m of sub) return m.string();
    return undefined;
  })();
  nc.publish('weft.after', 'again');
  t.is(await within(5_000, 'the message after the restart', received), 'again');
});

test('a server with user and pass rejects a client without credentials', async (t) => {
  const server = await serverFor(t, { user: 'weft', pass: 's3cret' });
  const err = await rejection(t, within(5_000, 'connect without credentials', connect({ servers: server.url, reconnect: false })));
  t.true(err instanceof Error && err.message.includes('Authorization'), String(err));
  const nc = await connected(t, await within(5_000, 'connect', connect({ servers: server.url, user: 'weft', pass: 's3cret' })));
  await within(5_000, 'flush', nc.flush());
  t.false(nc.isClosed());
});

test('maxPayload is what the server announces to clients', async (t) => {
  const server = await serverFor(t, { maxPayload: 256 * 1024 });
  const nc = await connected(t, await within(5_000, 'connect', connect({ servers: server.url })));
  t.is(nc.info?.max_payload, 256 * 1024);
});
