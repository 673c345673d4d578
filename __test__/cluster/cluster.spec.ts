// weftjs/cluster against a real nats-server (one per test): named actors across nodes, errors
// across the wire, one activation per name, WEFT_NO_ACTOR after retries, size and clone limits,
// refs inside messages, pools over queue groups, a server that dies and comes back, credentials.
// The nodes of a test live in this process (each with its own connection), except where a test
// says it starts a child process.
import anyTest, { type ExecutionContext } from 'ava';
import { fork, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type ClusterNode, type ClusterOptions, connect } from '../../src/cluster/index.js';
import { ActorRef, ActorSystem, Pool, SharedStack, WeftError, defineActor, isWeftError } from '../../src/index.js';
import { Box, Counter } from '../fixtures/cluster-actors.js';
import { rejection } from '../helpers.js';
import { startProxy } from './proxy.js';
import { type NatsServer, type NatsServerOptions, freePort, skipUnlessNatsServer, startNatsServer } from './server.js';

const test = skipUnlessNatsServer(anyTest);
/** `test.serial` where the server is there (else the same skip as `test`). */
const serialTest: typeof test = test === anyTest ? anyTest.serial : test;

type Tasks = typeof import('../fixtures/pool-options-tasks.mjs', { with: { 'resolution-mode': 'import' }});

async function server(t: ExecutionContext, opts: NatsServerOptions = {}): Promise<NatsServer> {
  const s = await startNatsServer({ jetstream: true, ...opts });
  t.teardown(() => s.stop());
  return s;
}

async function node(t: ExecutionContext, s: NatsServer, name: string, more: Partial<ClusterOptions> = {}): Promise<ClusterNode> {
  const n = await connect({ servers: s.url, cluster: 'test', name, askTimeoutMs: 5_000, ...more });
  n.register({ Counter, Box });
  t.teardown(() => n.drain());
  return n;
}

/**
 * Asks `{ type: 'get' }` of the counter `name` from `from` (each ask with `perAskMs`) until it
 * answers `want`, for up to `withinMs`; returns the last answer, or the last error's code.
 */
async function getUntil(from: ClusterNode, name: string, want: number, withinMs: number, perAskMs: number): Promise<unknown> {
  let got: unknown;
  await waitUntil(
    async () => {
      got = await from
        .ref<typeof Counter>(name)
        .ask({ type: 'get' }, { timeout: perAskMs })
        .catch((e: WeftError) => e.code);
      return got === want;
    },
    withinMs,
    () => `the last ask: ${String(got)}`,
  );
  return got;
}

test('a named actor spawned on one node answers tells and asks from another, in order, with replies of every type', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  const spawned = await a.spawn(Counter, 5, { name: 'counter-1' });
  t.is(spawned.name, 'counter-1');
  const r = b.ref<typeof Counter>('counter-1');
  for (let i = 0; i < 100; i++) r.tell({ type: 'add', by: 1 });
  // Order per (sender node, target): the ask comes after the hundred tells.
  t.is(await r.ask({ type: 'get' }), 105);
  const value = {
    n: -0,
    big: 2n ** 70n,
    when: new Date(5),
    m: new Map([[1, new Set(['x'])]]),
    bytes: new Uint8Array([1, 2, 3]),
    u: undefined,
    nan: Number.NaN,
  };
  t.deepEqual(await r.ask({ type: 'echo', v: value }), value);
  t.true(Object.is((await r.ask({ type: 'echo', v: -0 })) as number, -0));
  // The spawning node reaches it through the cluster too.
  t.is(await spawned.ask({ type: 'get' }), 105);
});

test("a handler's error crosses with its class name, message, code and cause", async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await a.spawn(Counter, 0, { name: 'c' });
  const err = (await rejection(t, b.ref<typeof Counter>('c').ask({ type: 'fail', code: 'E_BAD' }))) as Error & {
    code: string;
    cause: Error;
  };
  t.true(err instanceof RangeError);
  t.is(err.name, 'BadInput');
  t.is(err.message, 'the input is bad');
  t.is(err.code, 'E_BAD');
  t.is(err.cause.message, 'deeper');
  // A message type the actor has no handler for: the remote side's WEFT_INVALID_ARG.
  const unknown = await rejection(t, b.ref('c').ask({ type: 'nope' }));
  t.true(isWeftError(unknown, 'WEFT_INVALID_ARG'), String(unknown));
});

test('one activation per name: a taken name rejects WEFT_INVALID_ARG naming its node; drain hands it back', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await a.spawn(Counter, 1, { name: 'only' });
  const [x, y] = await Promise.allSettled([b.spawn(Counter, 2, { name: 'only' }), a.spawn(Counter, 3, { name: 'only' })]);
  for (const r of [x, y]) {
    t.is(r.status, 'rejected');
    const e = (r as PromiseRejectedResult).reason as WeftError;
    t.is(e.code, 'WEFT_INVALID_ARG');
    t.regex(e.message, /an actor named only is placed on node a already/);
  }
  // Two nodes racing for a fresh name: exactly one wins.
  const race = await Promise.allSettled([a.spawn(Counter, 10, { name: 'raced' }), b.spawn(Counter, 20, { name: 'raced' })]);
  t.is(race.filter((r) => r.status === 'fulfilled').length, 1);
  const held = (await b.ref<typeof Counter>('raced').ask({ type: 'get' })) as number;
  t.true(held === 10 || held === 20);
  await a.drain();
  const again = await b.spawn(Counter, 7, { name: 'only' });
  t.is(await again.ask({ type: 'get' }), 7);
});

test('an ask to a name nobody hosts is retried until its deadline (then WEFT_NO_ACTOR), and reaches an actor placed meanwhile', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  const t0 = Date.now();
  const none = (await rejection(t, b.ref('ghost').ask({ type: 'get' }, { timeout: 1_500 }))) as WeftError;
  t.is(none.code, 'WEFT_NO_ACTOR');
  // A deadline long enough for the first "no responders" answer on a loaded machine (a shorter
  // one may end WEFT_ASK_TIMEOUT: nobody answered at all by then).
  t.true(Date.now() - t0 >= 1_400, `gave up after ${Date.now() - t0} ms`);
  const later = b.ref<typeof Counter>('late').ask({ type: 'get' }, { timeout: 4_000 });
  await new Promise((r) => setTimeout(r, 150));
  await a.spawn(Counter, 42, { name: 'late' });
  t.is(await later, 42);
});

test('tells and asks to one actor in one turn go as one batch: answers in order, each ask settled by its own reply, errors and all', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await a.spawn(Counter, 0, { name: 'c' });
  const r = b.ref<typeof Counter>('c');
  await r.ask({ type: 'get' });
  const before = a.stats().received;
  // One turn: tells and asks interleaved; each ask sees the tells before it and none after.
  const asks: Promise<unknown>[] = [];
  for (let i = 1; i <= 50; i++) {
    r.tell({ type: 'add', by: 1 });
    asks.push(r.ask({ type: 'get' }));
    // A message type the actor does not handle: refused there, without stopping it.
    if (i % 10 === 0) asks.push(r.ask({ type: `nope${i}` } as never).catch((e: WeftError) => `${e.code} ${e.message}`));
  }
  const answers = await Promise.all(asks);
  const gets = answers.filter((x) => typeof x === 'number');
  t.deepEqual(
    gets,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  const refused = answers.filter((x) => typeof x === 'string');
  t.is(refused.length, 5);
  refused.forEach((x, i) => t.regex(x as string, new RegExp(`nope${10 * (i + 1)}`)));
  t.is(a.stats().received - before, 105);
  t.deepEqual(b.stats().asksInFlight, {});
});

test('asks batched to a name nobody hosts yet are each retried and reach the actor placed meanwhile', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  const r = b.ref<typeof Counter>('later');
  const asks = Array.from({ length: 8 }, () => r.ask({ type: 'get' }, { timeout: 4_000 }));
  await new Promise((r) => setTimeout(r, 150));
  await a.spawn(Counter, 7, { name: 'later' });
  t.deepEqual(await Promise.all(asks), Array(8).fill(7));
});

test('maxInFlight: one ask more than the cap to a target rejects WEFT_QUEUE_FULL at once; other targets are not held back', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b', { maxInFlight: 4 });
  await a.spawn(Counter, 1, { name: 'slow' });
  await a.spawn(Counter, 2, { name: 'other' });
  const slow = b.ref<typeof Counter>('slow');
  const held = Array.from({ length: 4 }, () => slow.ask({ type: 'slow', ms: 300 }));
  const over = (await rejection(t, slow.ask({ type: 'get' }))) as WeftError;
  t.is(over.code, 'WEFT_QUEUE_FULL');
  t.regex(over.message, /4 asks and calls are in flight/);
  t.is(await b.ref<typeof Counter>('other').ask({ type: 'get' }), 2);
  t.deepEqual(await Promise.all(held), [1, 1, 1, 1]);
  // The slots are free again.
  t.is(await slow.ask({ type: 'get' }), 1);
  await t.throwsAsync(connect({ servers: s.url, cluster: 'test', maxInFlight: 0 }), { code: 'WEFT_INVALID_ARG', message: /maxInFlight/ });
});

test('a message over max_payload is WEFT_MESSAGE_TOO_LARGE at the call, with its size and the limit; a reply too large fails its ask', async (t) => {
  const s = await server(t, { maxPayload: 64 * 1024 });
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  t.is(b.maxPayload, 64 * 1024);
  await a.spawn(Counter, 0, { name: 'c' });
  const r = b.ref<typeof Counter>('c');
  const big = 'x'.repeat(70_000);
  const e = t.throws(() => r.tell({ type: 'echo', v: big }), { code: 'WEFT_MESSAGE_TOO_LARGE' }) as WeftError & {
    size: number;
    limit: number;
  };
  t.is(e.limit, 64 * 1024);
  t.true(e.size > 70_000);
  t.is((await rejection(t, r.ask({ type: 'echo', v: big }))) instanceof WeftError, true);
  // The same value under the limit goes; a reply that would be over it rejects the ask.
  t.is(((await r.ask({ type: 'echo', v: 'x'.repeat(60_000) })) as string).length, 60_000);
  const reply = (await rejection(
    t,
    a.ref<typeof Counter>('c').ask({ type: 'echo', v: [big.slice(0, 40_000), big.slice(0, 40_000)] }),
  )) as WeftError;
  t.true(['WEFT_MESSAGE_TOO_LARGE'].includes(reply.code), reply.message);
});

test('values that cannot cross machines are WEFT_DATA_CLONE naming the path, and nothing is sent', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await a.spawn(Counter, 0, { name: 'c' });
  const r = b.ref<typeof Counter>('c');
  const stack = new SharedStack<number>();
  t.throws(() => r.tell({ type: 'echo', v: { items: [1, { stack }] } }), {
    code: 'WEFT_DATA_CLONE',
    message: /SharedStack cannot cross machines.*\(at msg\.v\.items\[1\]\.stack\)/,
  });
  const fnErr = (await rejection(t, r.ask({ type: 'echo', v: { deep: { f: () => 1 } } }))) as WeftError;
  t.is(fnErr.code, 'WEFT_DATA_CLONE');
  t.regex(fnErr.message, /at msg\.v\.deep\.f/);
  t.throws(() => r.tell({ type: 'echo', v: new SharedArrayBuffer(8) }), { code: 'WEFT_DATA_CLONE' });
  // Nothing of those arrived: the next ask sees the count untouched.
  t.is(await r.ask({ type: 'get' }), 0);
});

test('a local actor ref inside a message arrives as a working remote ref, and comes home as the local ref', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  const c = await node(t, s, 'c');
  await b.spawn(Counter, 7, { name: 'holder' });
  // An unnamed actor of node a's system; its ref goes to b inside a message, and b's handler tells it.
  const box = a.system.spawn(Box, undefined, { on: 'main' });
  a.ref<typeof Counter>('holder').tell({ type: 'report', to: box });
  await waitUntil(async () => (await box.ask({ type: 'get' })) === 7);
  t.is(await box.ask({ type: 'get' }), 7);
  // Echoed back to a, the ref is a's own local ref again; echoed to c, it is a remote ref that works.
  const home = await a.ref<typeof Counter>('holder').ask({ type: 'echo', v: box });
  t.true(home instanceof ActorRef);
  t.true((home as ActorRef).equals(box));
  // Kept by the holder (on b) and handed to c: a remote ref to a's actor, which works from c.
  await a.ref<typeof Counter>('holder').ask({ type: 'keep', v: box });
  const there = (await c.ref<typeof Counter>('holder').ask({ type: 'kept' })) as {
    tell(m: unknown): void;
    ask(m: unknown): Promise<unknown>;
  };
  t.false(there instanceof ActorRef);
  t.regex(String(there), /RemoteRef\(a\/\d+\)/);
  // A ref of another node's system cannot leave through this node.
  t.throws(() => c.ref<typeof Counter>('holder').tell({ type: 'keep', v: box }), {
    code: 'WEFT_DATA_CLONE',
    message: /another ActorSystem/,
  });
  there.tell({ type: 'add', by: 1 });
  t.is(await there.ask({ type: 'get' }), 8);
});

test('pools: a node serves a local Pool under a name; any node calls it, results and errors cross, calls spread over the servers', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  const c = await node(t, s, 'c');
  const tasks = join(__dirname, '..', 'fixtures', 'pool-options-tasks.mjs');
  const pa = new Pool<Tasks>({ module: tasks, threads: 1 });
  const pb = new Pool<Tasks>({ module: tasks, threads: 1 });
  t.teardown(async () => {
    await pa.destroy();
    await pb.destroy();
  });
  a.serve('work', pa);
  b.serve('work', pb);
  t.throws(() => a.serve('work', pa), { code: 'WEFT_INVALID_ARG' });
  const remote = c.pool<Tasks>('work');
  const threads = new Set<number>();
  for (let i = 0; i < 40; i++) threads.add((await remote.run('spin', 1)) as number);
  t.true(threads.size >= 2, `40 calls ran on ${threads.size} worker thread(s): the queue group should spread them`);
  const err = (await rejection(t, c.pool('work').run('nosuchTask'))) as WeftError;
  t.is(err.code, 'WEFT_INVALID_ARG');
  t.regex(err.message, /nosuchTask/);
  const missing = (await rejection(t, c.pool('nobody-serves').runWith({ timeout: 1_500 }, 'spin', 1))) as WeftError;
  t.true(['WEFT_NO_ACTOR', 'WEFT_ASK_TIMEOUT'].includes(missing.code), missing.message);
});

test('asks in flight when the server dies settle once each (WEFT_DISCONNECTED); new asks fail fast; traffic comes back after a restart', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await a.spawn(Counter, 1, { name: 'c' });
  // The slow asks below keep 'c' busy long after the restart (each waits for the one before):
  // traffic after it goes to another actor.
  await a.spawn(Counter, 1, { name: 'd' });
  const r = b.ref<typeof Counter>('c');
  const settled = new Map<number, string>();
  const inFlight = Array.from({ length: 64 }, (_, i) =>
    r.ask({ type: 'slow', ms: 2_000 }, { timeout: 3_000 }).then(
      () => settled.set(i, settled.has(i) ? 'twice' : 'ok'),
      (e: WeftError) => settled.set(i, settled.has(i) ? 'twice' : e.code),
    ),
  );
  await new Promise((r) => setTimeout(r, 300));
  s.kill('SIGKILL');
  await Promise.all(inFlight);
  t.is(settled.size, 64);
  t.deepEqual(new Set(settled.values()), new Set(['WEFT_DISCONNECTED']));
  t.false(b.connected);
  const fast = Date.now();
  t.is(((await rejection(t, r.ask({ type: 'get' }))) as WeftError).code, 'WEFT_DISCONNECTED');
  t.true(Date.now() - fast < 100);
  await s.restart();
  // Both clients reconnect (every 250 ms) and resubscribe; the placement is in the KV store, which survived.
  const back = Date.now();
  await waitUntil(
    () => a.connected && b.connected,
    5_000,
    () => `connected: a ${a.connected}, b ${b.connected}`,
  );
  const n = await getUntil(b, 'd', 1, 5_000, 500);
  t.log(`traffic back ${Date.now() - back} ms after the restart`);
  t.is(n, 1);
});

test('a hung server (SIGSTOP) is noticed in seconds: asks in flight settle WEFT_DISCONNECTED, and traffic comes back after SIGCONT', async (t) => {
  const s = await server(t);
  t.teardown(() => s.kill('SIGCONT'));
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await a.spawn(Counter, 1, { name: 'c' });
  const r = b.ref<typeof Counter>('c');
  t.is(await r.ask({ type: 'get' }), 1);
  // Neither node hears the other while the server is stopped, nor itself: that is no reason to
  // declare the other down (its heartbeats are lost, not missing).
  const downs: string[] = [];
  a.on('nodeDown', (node) => downs.push(`a saw ${node}`));
  b.on('nodeDown', (node) => downs.push(`b saw ${node}`));
  const settled = new Map<number, string>();
  // A deadline far past the detection time: what settles these is the stale connection.
  const inFlight = Array.from({ length: 16 }, (_, i) =>
    r.ask({ type: 'get' }, { timeout: 30_000 }).then(
      () => settled.set(i, settled.has(i) ? 'twice' : 'ok'),
      (e: WeftError) => settled.set(i, settled.has(i) ? 'twice' : e.code),
    ),
  );
  // Let the 16 answers come back before the server stops, then send asks nobody will answer.
  await Promise.all(inFlight);
  s.kill('SIGSTOP');
  const stopped = Date.now();
  await new Promise((r) => setTimeout(r, 100));
  const stuck = Array.from({ length: 16 }, (_, i) =>
    r.ask({ type: 'get' }, { timeout: 30_000 }).then(
      () => settled.set(100 + i, settled.has(100 + i) ? 'twice' : 'ok'),
      (e: WeftError) => settled.set(100 + i, settled.has(100 + i) ? 'twice' : `${e.code} ${e.message}`),
    ),
  );
  await Promise.all(stuck);
  const noticed = Date.now() - stopped;
  t.log(`the stale connection was noticed ${noticed} ms after SIGSTOP (ping every 2 s, two missed)`);
  // Two pings missed: between 4 and 6 s after the stop, with slack for a busy machine.
  t.true(noticed >= 2_000 && noticed < 10_000, `${noticed} ms: ${JSON.stringify([...settled])}`);
  t.is(settled.size, 32);
  t.deepEqual(
    [...settled.entries()].filter(([i]) => i >= 100).map(([, v]) => v.split(' ')[0]),
    Array(16).fill('WEFT_DISCONNECTED'),
  );
  t.false(b.connected);
  s.kill('SIGCONT');
  const back = Date.now();
  const n = await getUntil(b, 'c', 1, 15_000, 500);
  t.log(`traffic back ${Date.now() - back} ms after SIGCONT`);
  t.is(n, 1);
  // Past a failure window after the server came back: still nobody declared down.
  await new Promise((r) => setTimeout(r, 3_500));
  t.deepEqual(downs, []);
  const names = (n: ClusterNode): string[] =>
    n
      .members()
      .map((m) => m.name)
      .sort();
  t.deepEqual(names(a), ['a', 'b']);
  t.deepEqual(names(b), ['a', 'b']);
});

test('credentials: a node without the right ones is refused with WEFT_AUTH; with them it joins', async (t) => {
  const s = await server(t, { user: 'weft', pass: 's3cret' });
  const wrong = (await rejection(t, connect({ servers: s.url, cluster: 'test', auth: { user: 'weft', pass: 'nope' } }))) as WeftError;
  t.is(wrong.code, 'WEFT_AUTH');
  const none = (await rejection(t, connect({ servers: s.url, cluster: 'test' }))) as WeftError;
  t.is(none.code, 'WEFT_AUTH');
  const ok = await node(t, s, 'a', { auth: { user: 'weft', pass: 's3cret' } });
  await ok.spawn(Counter, 3, { name: 'c' });
  t.is(await ok.ref<typeof Counter>('c').ask({ type: 'get' }), 3);
});

test('connect: no server is WEFT_DISCONNECTED, a server without JetStream WEFT_INVALID_ARG saying so, bad options WEFT_INVALID_ARG', async (t) => {
  const plain = await server(t, { jetstream: false });
  const noJs = (await rejection(t, connect({ servers: plain.url, cluster: 'test' }))) as WeftError;
  t.is(noJs.code, 'WEFT_INVALID_ARG');
  t.regex(noJs.message, /JetStream/);
  const port = plain.port;
  await plain.stop();
  const down = (await rejection(t, connect({ servers: `nats://127.0.0.1:${port}`, cluster: 'test' }))) as WeftError;
  t.is(down.code, 'WEFT_DISCONNECTED');
  for (const [opts, re] of [
    [{ servers: 'nats://x', cluster: 'a.b' }, /cluster must be/],
    [{ servers: [], cluster: 'a' }, /servers must be/],
    [{ servers: 'nats://x', cluster: 'a', name: 'has space' }, /name must be/],
    [{ servers: 'nats://x', cluster: 'a', askTimeoutMs: -1 }, /askTimeoutMs/],
    [{ servers: 'nats://x', cluster: 'a', severs: 'typo' }, /did you mean servers/],
  ] as const) {
    const e = (await rejection(t, connect(opts as unknown as ClusterOptions))) as WeftError;
    t.is(e.code, 'WEFT_INVALID_ARG');
    t.regex(e.message, re);
  }
});

// Serial: its 64 lanes of asks keep this process's event loop busy, which would delay the others.
serialTest(
  'a node process killed with SIGKILL under 64 asks in flight: every ask settles once, WEFT_NODE_DOWN within the window, its respawn actor comes back on a survivor',
  async (t) => {
    const WINDOW = 1_000;
    const s = await server(t);
    const a = await node(t, s, 'a', { failureWindowMs: WINDOW });
    const events: string[] = [];
    a.on('nodeUp', (n) => events.push(`up ${n}`));
    a.on('nodeDown', (n, info) => events.push(`down ${n}${info.bye ? ' bye' : ''}`));
    a.on('respawned', (name, info) => events.push(`respawned ${name} from ${info.from} #${info.incarnation}`));
    const child = fork(join(__dirname, '..', 'fixtures', 'cluster-node.ts'), [s.url, 'child', 'remote-counter', String(WINDOW)], {
      execArgv: ['--import=tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    t.teardown(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the child node exited (${code}) before it was ready`)));
    });
    await waitUntil(
      () => a.members().some((m) => m.name === 'child'),
      3_000,
      () => JSON.stringify(a.members()),
    );
    const r = a.ref<typeof Counter>('remote-counter');
    t.is(await r.ask({ type: 'get' }), 0);
    let issued = 0;
    let ok = 0;
    const errors = new Map<string, number>();
    let stop = false;
    const lane = async (): Promise<void> => {
      while (!stop) {
        issued++;
        try {
          await r.ask({ type: 'add', by: 1 }, { timeout: 5_000 });
          ok++;
        } catch (e) {
          const code = (e as WeftError).code ?? String(e);
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    };
    const lanes = Array.from({ length: 64 }, lane);
    await new Promise((r) => setTimeout(r, 1_000));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    let downAfter = -1;
    a.once('nodeDown', () => {
      downAfter = Date.now() - killedAt;
    });
    await waitUntil(
      () => events.some((e) => e.startsWith('respawned')),
      6_000,
      () => events.join(', '),
    );
    const respawnAfter = Date.now() - killedAt;
    const before = ok;
    await waitUntil(
      () => ok > before + 100,
      5_000,
      () => `ok ${ok}`,
    );
    stop = true;
    await Promise.all(lanes);
    const failed = [...errors.values()].reduce((x, y) => x + y, 0);
    t.log({ issued, ok, errors: Object.fromEntries(errors), downAfterMs: downAfter, respawnAfterMs: respawnAfter, events });
    t.is(ok + failed, issued, 'every ask settled exactly once');
    t.true(downAfter >= 0 && downAfter <= WINDOW + 1_000, `node-down after ${downAfter} ms`);
    // The asks in flight at the kill: WEFT_NODE_DOWN (not a timeout); later ones reach the respawned actor.
    t.deepEqual([...errors.keys()], ['WEFT_NODE_DOWN']);
    t.true((errors.get('WEFT_NODE_DOWN') ?? 0) <= 64);
    t.deepEqual(events.slice(0, 3), ['up child', 'down child', 'respawned remote-counter from child #2']);
    // One incarnation: the placement names a, incarnation 2, and the actor answers from a's system.
    t.true(((await r.ask({ type: 'get' })) as number) > 0);
    // Its system: the node's gateway actor and the respawned counter.
    t.is(a.system.stats().actors.length, 2);
  },
);

// Serial: it blocks this process's main thread, which would stall the other tests of the file.
serialTest('a busy main thread does not make its node look dead: heartbeats come from a thread of their own', async (t) => {
  const WINDOW = 1_500;
  const s = await server(t);
  const a = await node(t, s, 'a', { failureWindowMs: WINDOW });
  const b = await node(t, s, 'b', { failureWindowMs: WINDOW });
  await waitUntil(() => a.members().length === 2 && b.members().length === 2, 3_000);
  const downs: string[] = [];
  a.on('nodeDown', (n) => downs.push(`a saw ${n} down`));
  b.on('nodeDown', (n) => downs.push(`b saw ${n} down`));
  // This thread (both nodes' main thread) is blocked for three windows.
  const until = Date.now() + 3 * WINDOW;
  while (Date.now() < until);
  await new Promise((r) => setTimeout(r, WINDOW));
  t.deepEqual(downs, []);
  t.deepEqual(
    a.members().map((m) => m.name),
    ['a', 'b'],
  );
  // A node that drains says goodbye: the others see it down at once, not after the window.
  const left = Date.now();
  let seen = -1;
  a.once('nodeDown', (n, info) => {
    if (n === 'b' && info.bye) seen = Date.now() - left;
  });
  await b.drain();
  await waitUntil(() => seen >= 0, 2_000);
  t.true(seen < WINDOW, `seen after ${seen} ms`);
  t.deepEqual(
    a.members().map((m) => m.name),
    ['a'],
  );
});

test('fencing: an actor whose placement now names another node or incarnation is stopped where it was', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  const before = b.system.stats().actors.length;
  await b.spawn(Counter, 5, { name: 'f', restart: 'respawn' });
  const fenced: string[] = [];
  b.on('fenced', (name, info) => fenced.push(`${name} -> ${String(info.placedOn)}`));
  // What a survivor does when it takes a placement over (here by hand: b is alive, as after a
  // partition that healed): the placement now names a, incarnation 2.
  const { Kvm } = await import('@nats-io/kv');
  const { connect: natsConnect } = await import('@nats-io/transport-node');
  const nc = await natsConnect({ servers: s.url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(nc).open('weft_test_placement');
  const e = await kv.get('a.f');
  const p = e!.json<Record<string, unknown>>();
  await kv.update('a.f', JSON.stringify({ ...p, node: 'a', incarnation: 2 }), e!.revision);
  await waitUntil(
    () => fenced.length === 1,
    5_000,
    () => fenced.join(),
  );
  t.deepEqual(fenced, ['f -> a']);
  // The kill is asynchronous: the actor is gone once its system says so.
  await waitUntil(
    () => b.system.stats().actors.length === before,
    3_000,
    () => `${b.system.stats().actors.length} actors`,
  );
  // Nobody hosts f now (a did not spawn it): asks find no actor.
  // (WEFT_NO_ACTOR once the servers' "no responders" came back; WEFT_ASK_TIMEOUT if this busy
  // process did not read it before the deadline: either way, the fenced actor did not answer.)
  const gone = (await rejection(t, a.ref('f').ask({ type: 'get' }, { timeout: 1_500 }))) as WeftError;
  t.true(['WEFT_NO_ACTOR', 'WEFT_ASK_TIMEOUT'].includes(gone.code), gone.message);
});

async function waitUntil(cond: () => Promise<boolean> | boolean, ms = 3_000, state?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms${state === undefined ? '' : ` (${state()})`}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('register: only definitions, one per kind name; spawn needs a registered kind and a valid name', async (t) => {
  const s = await server(t);
  const a = await node(t, s, 'a');
  t.throws(() => a.register({ Counter: Box }), { code: 'WEFT_INVALID_ARG', message: /registered already/ });
  t.throws(() => a.register({ 'bad name': Counter }), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => a.register({ X: {} as never }), { code: 'WEFT_INVALID_ARG' });
  const Other = defineActor({ init: () => 0, handlers: { get: (s: number) => s } });
  t.is(((await rejection(t, a.spawn(Other, undefined, { name: 'o' }))) as WeftError).code, 'WEFT_INVALID_ARG');
  t.is(((await rejection(t, a.spawn(Counter, 1, { name: 'a.b' }))) as WeftError).code, 'WEFT_INVALID_ARG');
  t.is(((await rejection(t, a.spawn(Counter, 1, { name: 'x', restart: 'sometimes' as never }))) as WeftError).code, 'WEFT_INVALID_ARG');
  t.throws(() => a.ref('a>b'), { code: 'WEFT_INVALID_ARG' });
  // The node's own system is usable directly, and drain stops it.
  t.true(a.system instanceof ActorSystem);
});

test('stats() and weftjs/metrics: members, asks in flight by target node, outcomes, bytes', async (t) => {
  const { Registry } = await import('prom-client');
  const { registerWeftMetrics } = await import('../../src/metrics/index.js');
  const s = await server(t);
  const a = await node(t, s, 'a');
  const b = await node(t, s, 'b');
  await b.spawn(Counter, 0, { name: 'm' });
  await waitUntil(() => a.members().length === 2, 3_000);
  const r = a.ref<typeof Counter>('m');
  for (let i = 0; i < 10; i++) r.tell({ type: 'add', by: 1 });
  t.is(await r.ask({ type: 'get' }), 10);
  const slow = r.ask({ type: 'slow', ms: 3_000 });
  await rejection(t, a.ref('nobody').ask({ type: 'get' }, { timeout: 1_500 }));
  const st = a.stats();
  t.is(st.node, 'a');
  t.is(st.members, 2);
  t.deepEqual(st.asksInFlight, { b: 1 });
  t.is(st.tells, 10);
  t.is(st.asks, 3);
  // The ask to nobody: WEFT_NO_ACTOR, or WEFT_ASK_TIMEOUT when a busy process read no answer by then.
  t.is(st.askNoActor + st.askTimeouts, 1);
  t.true(st.bytesOut > 0 && st.bytesIn > 0);
  const registry = new Registry();
  const metrics = registerWeftMetrics({ register: registry, clusters: [a] });
  t.teardown(() => metrics.unregister());
  const text = await registry.metrics();
  t.regex(text, /weft_cluster_members\{node="a"\} 2/);
  t.regex(text, /weft_cluster_asks_in_flight\{node="a",target_node="b"\} 1/);
  t.regex(text, /weft_cluster_tells_total\{node="a"\} 10/);
  t.regex(text, /weft_cluster_ask_no_actor_total\{node="a"\} [01]/);
  t.regex(text, /weft_cluster_bytes_out_total\{node="a"\} [1-9]/);
  t.is(await slow, 10);
  t.is(b.stats().received, 12);
});

test("actors on a node's pool workers receive remote messages and use the remote refs that come in them", async (t) => {
  const s = await server(t);
  const pool = new Pool({ module: join(__dirname, '..', 'fixtures', 'cluster-worker-actors.ts'), threads: 1 });
  t.teardown(() => pool.destroy());
  const a = await node(t, s, 'a', { pool });
  const b = await node(t, s, 'b');
  const { Relay } = await import('../fixtures/cluster-worker-actors.js');
  a.register({ Relay });
  b.register({ Relay });
  await a.spawn(Relay, undefined, { name: 'relay', on: 'worker' });
  await b.spawn(Counter, 100, { name: 'counter' });
  // A long timeout: the worker starts and loads its TypeScript module first (slow when the machine is busy).
  const out = await b.ref<typeof Relay>('relay').ask({ type: 'relay', to: b.ref<typeof Counter>('counter'), by: 5 }, { timeout: 30_000 });
  t.deepEqual(out, { count: 105, onWorker: true });
});

serialTest(
  'a partition: the majority side re-places the actor, the minority cannot; when it heals, the old incarnation is fenced',
  async (t) => {
    const WINDOW = 1_000;
    // Three routed servers; every route to and from s1 goes through proxies this test controls. s1
    // advertises its proxy, so the servers gossip no direct way around it.
    const [c1, c2, c3] = [await freePort(), await freePort(), await freePort()];
    const toS2 = await startProxy(c2);
    const toS3 = await startProxy(c3);
    const toS1 = await startProxy(c1);
    t.teardown(() => Promise.all([toS2.close(), toS3.close(), toS1.close()]));
    const conf = (name: string, listen: number, routes: number[], advertise?: number): string =>
      `server_name: ${name}\ncluster { name: weft, listen: "127.0.0.1:${listen}", ${advertise === undefined ? '' : `advertise: "127.0.0.1:${advertise}", `}routes: [${routes.map((r) => `"nats://127.0.0.1:${r}"`).join(', ')}] }`;
    // s2 and s3 first, s1 last: s1 dials its routes (through the proxies) as it starts, before
    // gossip could tell it the others' own addresses (a direct route would go around the proxies).
    const [s2, s3] = await Promise.all([
      server(t, { config: conf('s2', c2, [toS1.port, c3]) }),
      server(t, { config: conf('s3', c3, [toS1.port, c2]) }),
    ]);
    const s1 = await server(t, { config: conf('s1', c1, [toS2.port, toS3.port], toS1.port) });
    const opts = { failureWindowMs: WINDOW, replicas: 3 };
    // JetStream elects its meta leader a few seconds after the servers start, then the bucket's
    // stream its own: until then the bucket cannot be made or watched (connect rejects
    // WEFT_INVALID_ARG or WEFT_DISCONNECTED, a timeout on a busy CI machine). Try again.
    const until = Date.now() + 30_000;
    const join = async (srv: NatsServer, name: string): Promise<ClusterNode> => {
      for (;;) {
        try {
          return await node(t, srv, name, opts);
        } catch (e) {
          if (Date.now() > until) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    };
    const a = await join(s1, 'a');
    const b = await join(s2, 'b');
    const c = await join(s3, 'c');
    const events: string[] = [];
    for (const n of [a, b, c]) {
      n.on('respawned', (name, info) => events.push(`${n.name} respawned ${name} #${info.incarnation}`));
      n.on('fenced', (name, info) => events.push(`${n.name} fenced ${name} (now on ${String(info.placedOn)})`));
    }
    // The same while the bucket's stream settles: a placement not confirmed is WEFT_DISCONNECTED.
    for (;;) {
      try {
        await a.spawn(Counter, 1, { name: 'p', restart: 'respawn' });
        break;
      } catch (e) {
        if ((e as WeftError).code !== 'WEFT_DISCONNECTED' || Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await waitUntil(() => [a, b, c].every((n) => n.members().length === 3), 5_000);
    t.is(await c.ref<typeof Counter>('p').ask({ type: 'get' }), 1);

    // Servers gossip their own route addresses: now and then s1 gets a direct route to s2 or s3
    // that goes around the proxies. A probe through the cut finds out; then s1 restarts (it dials
    // its routes through the proxies first) and the cut is tried again.
    const { connect: natsConnect } = await import('@nats-io/transport-node');
    const leaks = async (): Promise<boolean> => {
      const [n1, n2] = await Promise.all([natsConnect({ servers: s1.url }), natsConnect({ servers: s2.url })]);
      let heard = false;
      const n3 = await natsConnect({ servers: s3.url });
      for (const n of [n2, n3]) {
        n.subscribe('probe', {
          callback: () => {
            heard = true;
          },
        });
        await n.flush();
      }
      n1.publish('probe');
      await n1.flush();
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([n1.close(), n2.close(), n3.close()]);
      return heard;
    };
    let cutAt = 0;
    for (let attempt = 1; ; attempt++) {
      cutAt = Date.now();
      for (const p of [toS1, toS2, toS3]) p.cut();
      if (!(await leaks())) break;
      t.log(`attempt ${attempt}: a route went around the proxies; s1 restarts`);
      if (attempt === 3) throw new Error('the partition could not be made: s1 kept a direct route');
      for (const p of [toS1, toS2, toS3]) p.heal();
      await s1.restart();
      await waitUntil(
        () => a!.connected && [a, b, c].every((n) => n.members().length === 3),
        15_000,
        () => 'waiting for the cluster after the restart',
      );
      await getUntil(c, 'p', 1, 15_000, 1_000);
      events.length = 0;
    }
    await waitUntil(
      () => events.some((e) => e.includes('respawned')),
      // The window, then JetStream elects new leaders on the majority side (several seconds) before the placement can move.
      20_000,
      () => events.join(', '),
    );
    const movedAfter = Date.now() - cutAt;
    const winner = events.find((e) => e.includes('respawned'))!.split(' ')[0]!;
    t.true(winner === 'b' || winner === 'c', `${winner} re-placed it: only the majority side can`);
    // The majority side reaches the new incarnation (state is lost: it starts from the spawn argument).
    // An ask c sends before its own detector has declared a down, while its view of the placement
    // still names a, fails WEFT_NODE_DOWN when that declaration comes (CI, Node 22: "node a was
    // declared down (silent for 1124 ms)"): the documented outcome; ask again then.
    t.is(await getUntil(c, 'p', 1, 15_000, 5_000), 1);
    await new Promise((r) => setTimeout(r, 2 * WINDOW));
    t.false(
      events.some((e) => e.startsWith('a respawned')),
      events.join(', '),
    );

    for (const p of [toS1, toS2, toS3]) p.heal();
    await waitUntil(
      () => events.some((e) => e.startsWith('a fenced')),
      15_000,
      () => events.join(', '),
    );
    t.log({ movedAfterMs: movedAfter, events });
    // One incarnation: a runs only its gateway, the winner its gateway and p.
    await waitUntil(() => a!.system.stats().actors.length === 1, 3_000);
    const counts = [a, b, c].map((n) => n.system.stats().actors.length);
    t.deepEqual(counts.sort(), [1, 1, 2]);
    // a reaches the new incarnation once its server has routes again and has heard the interest
    // in p's subject over them (the fencing came through JetStream, maybe before that).
    t.is(await getUntil(a, 'p', 1, 20_000, 2_000), 1);
  },
);

test('a node process that drains exits by itself, at once', async (t) => {
  const s = await server(t);
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    ['--import=tsx', join(__dirname, '..', 'fixtures', 'cluster-node.ts'), s.url, 'once', 'c', '-', 'drain'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  t.is(r.signal, null, `killed after ${Date.now() - t0} ms: it did not exit by itself\n${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { got: 0 });
});

test('memory: 40,000 remote asks (64 in flight) in a child process; RSS stays flat after warm-up, nothing left pending', async (t) => {
  const s = await server(t);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import=tsx', join(__dirname, '..', 'fixtures', 'cluster-node.ts'), s.url, 'soak', 'c', '-', 'soak'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    warmMB: number;
    endMB: number;
    warmHeapMB: number;
    endHeapMB: number;
    count: number;
    inFlight: Record<string, number>;
  };
  t.log(out);
  t.is(out.count, 40_000 + 63);
  t.deepEqual(out.inFlight, {});
  // The JavaScript heap (after a GC) is the leak signal; RSS moves with the allocator (measured
  // over 1,000,000 asks it wandered between 140 and 175 MB without a trend), so its bound is loose.
  t.true(out.endHeapMB - out.warmHeapMB < 8, `the heap grew ${(out.endHeapMB - out.warmHeapMB).toFixed(1)} MB over 30,000 asks`);
  t.true(out.endMB - out.warmMB < 64, `RSS grew ${(out.endMB - out.warmMB).toFixed(1)} MB over 30,000 asks`);
});

test("a node whose user may use only another cluster's subjects is refused with WEFT_AUTH", async (t) => {
  const s = await server(t, {
    config: [
      'authorization {',
      '  users = [',
      '    { user: weft, password: s3cret }',
      '    { user: other, password: o, permissions: { publish: ["weft.other.>", "_INBOX.>"], subscribe: ["weft.other.>", "_INBOX.>"] } }',
      '  ]',
      '}',
    ].join('\n'),
  });
  const e = (await rejection(t, connect({ servers: s.url, cluster: 'test', auth: { user: 'other', pass: 'o' } }))) as WeftError;
  t.is(e.code, 'WEFT_AUTH');
  t.regex(e.message, /may not use the placement bucket of cluster test/);
  const ok = await node(t, s, 'a', { auth: { user: 'weft', pass: 's3cret' } });
  await ok.spawn(Counter, 2, { name: 'c' });
  t.is(await ok.ref<typeof Counter>('c').ask({ type: 'get' }), 2);
});

test('TLS: with a CA made by openssl, a node connects over TLS and works; a node that does not trust the CA cannot connect', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    t.log('openssl is not installed: TLS not tested');
    t.pass();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=weft test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('ext.cnf'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  );
  const s = await server(t, {
    config: `tls { cert_file: "${f('server.pem')}", key_file: "${f('server.key')}", ca_file: "${f('ca.pem')}" }`,
  });
  const a = await node(t, s, 'a', { tls: { caFile: f('ca.pem') } });
  await a.spawn(Counter, 9, { name: 'c' });
  t.is(await a.ref<typeof Counter>('c').ask({ type: 'get' }), 9);
  const untrusted = (await rejection(t, connect({ servers: s.url, cluster: 'test' }))) as WeftError;
  t.is(untrusted.code, 'WEFT_DISCONNECTED');
});
