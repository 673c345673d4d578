/**
 * One adapter per library of the actor benchmark. Each sets up, for the cases it takes part in,
 * the actors in the library's own idiom, and exposes them through the small interfaces below, so
 * that the timing code in run-case.ts is the same for every library.
 *
 * Libraries are loaded dynamically, so that a child process loads only the one it measures, and
 * so that weft's adapter can be coded against the actor API before weft exports it.
 */
import { join } from 'node:path';
import { BroadcastChannel, MessageChannel, Worker } from 'node:worker_threads';
import { packageVersion, withTimeout as withTimeoutOf } from '../harness/index.js';
import type { AddMsg, BlockerState, Message, Totals } from './actors.js';
import { ASK_TIMEOUT_MS, E, type Lib, type Variant } from './params.js';

// The package is CommonJS, so tsx runs this file as CommonJS: __dirname is this folder.
const here = __dirname;
/** The repository's root. */
export { ROOT as root } from '../harness/index.js';

/** Worker threads of weft's pool (actors on 0 and 1) and, where a peer has the choice, of the peers. */
export const THREADS = 2;

/** An actor that counts `add` messages (cases a, d). */
export interface CounterLike {
  tell(m: AddMsg): void;
  /** Ask the totals. */
  get(): Promise<Totals>;
  /**
   * Whether an ask sent after tells is processed after them (per-sender FIFO across tell and
   * ask). Where it is not (comedy), the benchmark asks again until every tell is counted.
   */
  ordered: boolean;
}

/** An actor that replies to `{ type: 'echo', v }` with v (case b). */
export interface EchoLike {
  ask(v: number): Promise<number>;
}

/** Two actors on two different workers (case c): `run(n)` bounces a counter n times, resolves n. */
export interface PingPongLike {
  run(n: number): Promise<number>;
  /** The threadIds of A and B (to check that they are two different workers). */
  threads(): Promise<[number, number]>;
}

/** An actor whose handler can be held (case e). */
export interface BlockerLike {
  /** Send the blocking message; resolves once the handler is running (blocked). */
  block(): Promise<void>;
  tell(m: AddMsg): void;
  /** Let the blocked handler return. */
  release(): void;
  /** Ask how many `add`s were processed (and, where known, how many had been when released). */
  get(): Promise<Partial<BlockerState> & { count: number }>;
}

export interface Adapter {
  readonly lib: Lib;
  readonly version: string;
  /** Case a (`'worker'`) and d (`'main'`). */
  counter?(where: 'worker' | 'main'): Promise<CounterLike>;
  echo?(): Promise<EchoLike>;
  pingPong?(): Promise<PingPongLike>;
  blocker?(variant: Variant): Promise<BlockerLike>;
  /** How the library's actors were set up, per case, for the JSON. */
  readonly how: Partial<Record<'a' | 'b' | 'c' | 'd' | 'e', string>>;
  close(): Promise<void>;
}

/** The installed version of a library (weft: this repository's package.json; port, atomics: Node's). */
export function versionOf(lib: Lib): string {
  return lib === 'port' || lib === 'atomics' ? process.version : packageVersion(lib === 'weft' ? 'weftjs' : lib);
}

/** `p`, or a rejection after `ms` (a lost reply). */
const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => withTimeoutOf(p, ms, what, 'no reply');

// ---------------------------------------------------------------------------------------------
// weft (coded against the actor API spec; ActorSystem is being implemented)

interface WeftRef {
  tell(msg: Message): void | Promise<void>;
  ask(msg: Message, options?: { timeout?: number }): Promise<unknown>;
}
interface WeftSpawnOptions {
  on?: 'worker' | 'main' | number;
  name?: string;
  mailbox?: { capacity: number; overflow: 'reject' | 'drop-oldest' | 'drop-newest' | 'wait' };
}
interface WeftSystem {
  spawn(def: unknown, init: unknown, options?: WeftSpawnOptions): WeftRef | Promise<WeftRef>;
  shutdown(): Promise<void>;
}
interface WeftPool {
  close(): Promise<void>;
}
export interface WeftActorApi {
  ActorSystem: new (options?: { pool?: WeftPool }) => WeftSystem;
  Pool: new (options: { module: string; threads: number }) => WeftPool;
}

const WEFT_SRC = '../../src/index.js';

/**
 * weft's actor API from this repository's src/ (through tsx), or why it cannot be had: the
 * ActorSystem is not exported yet, or src/ does not load (mid-edit).
 */
export async function loadWeftActors(): Promise<WeftActorApi | { unavailable: string }> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(WEFT_SRC)) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n').filter(Boolean).slice(0, 2).join(' ') : String(err);
    return { unavailable: `src/index.ts does not load: ${msg.slice(0, 300)}` };
  }
  if (typeof mod.ActorSystem !== 'function') return { unavailable: 'ActorSystem is not exported from src/index.ts yet' };
  if (typeof mod.Pool !== 'function') return { unavailable: 'Pool is not exported from src/index.ts' };
  return mod as unknown as WeftActorApi;
}

async function weftAdapter(): Promise<Adapter> {
  const api = await loadWeftActors();
  if ('unavailable' in api) throw new Error(`weft: not available yet (${api.unavailable})`);
  // The definitions, as the main thread sees them (same module instance as the pool's task module, see actors.cjs).
  const defs = await import('./actors.js');
  let pool: WeftPool | undefined;
  const systems: WeftSystem[] = [];
  const gates: BroadcastChannel[] = [];
  const system = (withPool: boolean): WeftSystem => {
    if (withPool) pool ??= new api.Pool({ module: join(here, 'actors.cjs'), threads: THREADS });
    const s = withPool ? new api.ActorSystem({ pool: pool! }) : new api.ActorSystem();
    systems.push(s);
    return s;
  };
  const timeout = { timeout: ASK_TIMEOUT_MS };
  return {
    lib: 'weft',
    version: versionOf('weft'),
    how: {
      a: "Counter spawned with { on: 0 } (pool of 2 workers); ref.tell({ type: 'add', by: i }), then ref.ask({ type: 'get' })",
      b: "Counter with { on: 0 }; ref.ask({ type: 'echo', v })",
      c: "Pinger { on: 0 }, Ponger { on: 1 }; A.ask({ type: 'start', peer: B, n }), A asks B { type: 'ping', c } per round trip",
      d: "new ActorSystem() (no pool), Counter with { on: 'main' }; tells, then one ask",
      e: `Blocker with { on: 0 }; unbounded: no mailbox option; bounded: mailbox { capacity: ${E.capacity}, overflow: '${E.overflow}' }`,
    },
    async counter(where) {
      const ref = await system(where === 'worker').spawn(defs.Counter, null, { on: where === 'worker' ? 0 : 'main' });
      return {
        tell: (m) => void ref.tell(m),
        get: () => ref.ask({ type: 'get' }, timeout) as Promise<Totals>,
        ordered: true,
      };
    },
    async echo() {
      const ref = await system(true).spawn(defs.Counter, null, { on: 0 });
      return { ask: (v) => ref.ask({ type: 'echo', v }, timeout) as Promise<number> };
    },
    async pingPong() {
      const s = system(true);
      const b = await s.spawn(defs.Ponger, null, { on: 1 });
      const a = await s.spawn(defs.Pinger, null, { on: 0 });
      return {
        run: (n) => a.ask({ type: 'start', peer: b, n }, timeout) as Promise<number>,
        threads: async () => [(await a.ask({ type: 'where' }, timeout)) as number, (await b.ask({ type: 'where' }, timeout)) as number],
      };
    },
    async blocker(variant) {
      const ref = await system(true).spawn(
        defs.Blocker,
        null,
        variant === 'bounded' ? { on: 0, mailbox: { capacity: E.capacity, overflow: E.overflow } } : { on: 0 },
      );
      const gate = new BroadcastChannel(defs.GATE_CHANNEL);
      gate.unref();
      gates.push(gate);
      return {
        block: () =>
          new Promise<void>((resolve) => {
            gate.onmessage = (ev: unknown) => {
              if ((ev as { data?: unknown }).data === 'blocked') resolve();
            };
            void ref.tell({ type: 'block' });
          }),
        tell: (m) => void ref.tell(m),
        release: () => gate.postMessage('release'),
        get: () => ref.ask({ type: 'get' }, timeout) as Promise<BlockerState>,
      };
    },
    async close() {
      for (const g of gates) g.close();
      for (const s of systems) await s.shutdown();
      await pool?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MessagePort floor: bare worker_threads, no actor library (./port-worker.mjs)

interface PortReply {
  id: number;
  type?: string;
  count?: number;
  sum?: number;
  v?: number;
  c?: number;
}

class PortActor {
  readonly worker: Worker;
  #pending = new Map<number, { resolve(r: PortReply): void; reject(e: unknown): void }>();
  #nextId = 1;
  onBlocked: (() => void) | undefined;

  /** `file`: the worker's script in this folder (./atomics-worker.mjs reuses the request/reply plumbing). */
  constructor(file = 'port-worker.mjs', workerData?: unknown) {
    this.worker = new Worker(join(here, file), workerData === undefined ? {} : { workerData });
    this.worker.on('message', (r: PortReply) => {
      if (r.type === 'blocked') return this.onBlocked?.();
      const p = this.#pending.get(r.id);
      this.#pending.delete(r.id);
      p?.resolve(r);
    });
    this.worker.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  post(m: object, transfer?: readonly import('node:worker_threads').TransferListItem[]): void {
    this.worker.postMessage(m, transfer);
  }

  request(type: string, fields: Record<string, unknown> = {}): Promise<PortReply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.worker.postMessage({ type, id, ...fields });
    });
  }

  echo(v: number): Promise<number> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: (r) => resolve(r.v!), reject });
      this.worker.postMessage({ type: 'echo', id, v });
    });
  }
}

function portAdapter(): Adapter {
  const actors: PortActor[] = [];
  const spawn = (): PortActor => {
    const a = new PortActor();
    actors.push(a);
    return a;
  };
  return {
    lib: 'port',
    version: versionOf('port'),
    how: {
      a: "worker.postMessage({ type: 'add', by: i }) to one worker, then a { type: 'get', id } request answered with the totals",
      b: "worker.postMessage({ type: 'echo', id, v }), the reply matched to its promise by id (a Map)",
      c: 'two workers joined by a MessageChannel; worker A posts { type: ping, c }, B posts back { type: pong, c: c + 1 }, n times, from the port handlers (no promises)',
      e: 'the worker blocks its thread in Atomics.wait, so the messages queue in its MessagePort; released by Atomics.notify',
    },
    async counter(where) {
      if (where !== 'worker') throw new Error('port: no same-thread case');
      const a = spawn();
      return {
        tell: (m) => a.post(m),
        get: async () => {
          const r = await withTimeout(a.request('get'), ASK_TIMEOUT_MS, 'port get');
          return { count: r.count!, sum: r.sum! };
        },
        ordered: true,
      };
    },
    async echo() {
      const a = spawn();
      return { ask: (v) => a.echo(v) };
    },
    async pingPong() {
      const a = spawn();
      const b = spawn();
      const { port1, port2 } = new MessageChannel();
      a.post({ type: 'connect', port: port1 }, [port1]);
      b.post({ type: 'connect', port: port2 }, [port2]);
      return {
        run: async (n) => (await withTimeout(a.request('start', { n }), ASK_TIMEOUT_MS, 'port ping-pong')).c!,
        threads: async () => [a.worker.threadId, b.worker.threadId],
      };
    },
    async blocker(variant) {
      if (variant !== 'unbounded') throw new Error('port: MessagePorts have no bounded queue');
      const a = spawn();
      const sab = new SharedArrayBuffer(4);
      const flag = new Int32Array(sab);
      return {
        block: () =>
          new Promise<void>((resolve) => {
            a.onBlocked = resolve;
            a.post({ type: 'block', sab });
          }),
        tell: (m) => a.post(m),
        release: () => {
          Atomics.store(flag, 0, 1);
          Atomics.notify(flag, 0);
        },
        get: async () => ({ count: (await withTimeout(a.request('get'), ASK_TIMEOUT_MS, 'port get')).count! }),
      };
    },
    async close() {
      await Promise.all(actors.map((a) => a.worker.terminate()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Atomics.wait/notify floor (case c only): two bare workers, a counter bounced through a
// SharedArrayBuffer (./atomics-worker.mjs), two thread wakes per round trip and nothing else

/** The cells of the shared Int32Array, as in ./atomics-worker.mjs. */
const PING = 0;
const PONG = 1;
/** Stored in PING on close: B leaves its loop. */
const STOP = -2;

function atomicsAdapter(): Adapter {
  const actors: PortActor[] = [];
  let cells: Int32Array | undefined;
  return {
    lib: 'atomics',
    version: versionOf('atomics'),
    how: {
      c: 'two workers sharing a SharedArrayBuffer (Int32Array [ping, pong]); per round trip A does Atomics.store(ping, c) + Atomics.notify and blocks in Atomics.wait on pong, B (blocked in Atomics.wait on ping) stores pong = c + 1 + Atomics.notify; no spinning, no MessagePort; A runs n round trips per { id, n } from the main thread and posts back { id, c }',
    },
    async pingPong() {
      const sab = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
      cells = new Int32Array(sab);
      // Before either worker starts: B waits for PING to leave -1, A's first ping is PONG's 0.
      cells[PING] = -1;
      cells[PONG] = 0;
      const b = new PortActor('atomics-worker.mjs', { role: 'b', sab });
      const a = new PortActor('atomics-worker.mjs', { role: 'a', sab });
      actors.push(a, b);
      return {
        run: async (n) => (await withTimeout(a.request('start', { n }), ASK_TIMEOUT_MS, 'atomics ping-pong')).c!,
        threads: async () => [a.worker.threadId, b.worker.threadId],
      };
    },
    async close() {
      if (cells) {
        Atomics.store(cells, PING, STOP);
        Atomics.notify(cells, PING);
      }
      await Promise.all(actors.map((a) => a.worker.terminate()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// comedy, threaded mode (./comedy/*.cjs). Typed here rather than from its index.d.ts, which pulls
// in its own @types/node 10.

export interface ComedyRef {
  send(topic: string, ...message: unknown[]): PromiseLike<void>;
  sendAndReceive(topic: string, ...message: unknown[]): PromiseLike<unknown>;
}
export interface ComedyRoot {
  createChild(definition: string, options?: { mode?: string }): PromiseLike<ComedyRef>;
}
export interface ComedySystem {
  rootActor(): PromiseLike<ComedyRoot>;
  destroy(): PromiseLike<void>;
}

async function comedyAdapter(): Promise<Adapter> {
  const actors = require('comedy') as () => ComedySystem;
  const system = actors();
  const rootActor = await system.rootActor();
  // '//' + an absolute path: comedy requires the module as is (a single '/' means "from the project root").
  const threaded = (file: string): PromiseLike<ComedyRef> => rootActor.createChild(`/${join(here, 'comedy', file)}`, { mode: 'threaded' });
  return {
    lib: 'comedy',
    version: versionOf('comedy'),
    how: {
      a: "createChild(counter.cjs, { mode: 'threaded' }); ref.send('add', { type: 'add', by: i }), then ref.sendAndReceive('get') until every add is counted (comedy does not order a sendAndReceive after earlier sends)",
      b: "ref.sendAndReceive('echo', { type: 'echo', v })",
      c: "pinger.cjs threaded, which creates ponger.cjs as its own threaded child (a second worker, started from the first); start(n): n × await ponger.sendAndReceive('ping', c)",
    },
    async counter(where) {
      if (where !== 'worker') throw new Error('comedy: the same-thread case is not measured for comedy');
      const ref = await threaded('counter.cjs');
      return {
        tell: (m) => void ref.send('add', m),
        get: () => Promise.resolve(ref.sendAndReceive('get') as PromiseLike<Totals>),
        ordered: false,
      };
    },
    async echo() {
      const ref = await threaded('counter.cjs');
      return { ask: (v) => Promise.resolve(ref.sendAndReceive('echo', { type: 'echo', v }) as PromiseLike<number>) };
    },
    async pingPong() {
      const a = await threaded('pinger.cjs');
      return {
        run: (n) => withTimeout(Promise.resolve(a.sendAndReceive('start', n) as PromiseLike<number>), ASK_TIMEOUT_MS, 'comedy ping-pong'),
        threads: async () => (await a.sendAndReceive('threads')) as [number, number],
      };
    },
    async close() {
      await system.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// nact (same thread)

async function nactAdapter(): Promise<Adapter> {
  const nact = await import('nact');
  const system = nact.start();
  type Msg = AddMsg | { type: 'get'; sender: import('nact').Ref<Totals> };
  return {
    lib: 'nact',
    version: versionOf('nact'),
    how: {
      d: "spawn(system, (state, msg) => new state, 'counter', { initialState }); dispatch(ref, { type: 'add', by: i }), then query(ref, sender => ({ type: 'get', sender }))",
    },
    async counter(where) {
      if (where !== 'main') throw new Error('nact: actors on the main thread only');
      const ref = nact.spawn(
        system,
        (state: Totals, msg: Msg): Totals => {
          if (msg.type === 'add') return { count: state.count + 1, sum: state.sum + msg.by };
          nact.dispatch(msg.sender, { count: state.count, sum: state.sum });
          return state;
        },
        'counter',
        { initialState: { count: 0, sum: 0 } },
      );
      return {
        tell: (m) => nact.dispatch(ref, m),
        get: () =>
          nact.query(ref, (sender: import('nact').Ref<Totals>): Msg => ({ type: 'get', sender }), ASK_TIMEOUT_MS) as Promise<Totals>,
        ordered: true,
      };
    },
    async close() {
      nact.stop(system);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// xstate v5 (same thread)

async function xstateAdapter(): Promise<Adapter> {
  const { setup, assign, emit, createActor } = await import('xstate');
  const machine = setup({
    types: {
      context: {} as Totals,
      events: {} as AddMsg | { type: 'get' },
      emitted: {} as { type: 'totals'; count: number; sum: number },
    },
  }).createMachine({
    id: 'counter',
    context: { count: 0, sum: 0 },
    on: {
      add: {
        actions: assign(({ context, event }) => ({ count: context.count + 1, sum: context.sum + event.by })),
      },
      get: {
        actions: emit(({ context }) => ({ type: 'totals' as const, count: context.count, sum: context.sum })),
      },
    },
  });
  const actors: { stop(): void }[] = [];
  return {
    lib: 'xstate',
    version: versionOf('xstate'),
    how: {
      d: "setup().createMachine({ context, on: { add: assign(...), get: emit({ type: 'totals', ... }) } }); createActor(machine).start(); actor.send({ type: 'add', by: i }); ask = actor.on('totals', ...) + actor.send({ type: 'get' })",
    },
    async counter(where) {
      if (where !== 'main') throw new Error('xstate: actors on the main thread only');
      const actor = createActor(machine).start();
      actors.push(actor);
      return {
        tell: (m) => actor.send(m),
        get: () =>
          new Promise<Totals>((resolve) => {
            const sub = actor.on('totals', (e) => {
              sub.unsubscribe();
              resolve({ count: e.count, sum: e.sum });
            });
            actor.send({ type: 'get' });
          }),
        ordered: true,
      };
    },
    async close() {
      for (const a of actors) a.stop();
    },
  };
}

export function loadAdapter(lib: Lib): Promise<Adapter> {
  switch (lib) {
    case 'weft':
      return weftAdapter();
    case 'port':
      return Promise.resolve(portAdapter());
    case 'atomics':
      return Promise.resolve(atomicsAdapter());
    case 'comedy':
      return comedyAdapter();
    case 'nact':
      return nactAdapter();
    case 'xstate':
      return xstateAdapter();
  }
}
