/**
 * One adapter per library of the Savina subset. Each sets up, for the benchmarks it takes part in,
 * the actors in the library's own idiom and exposes them as the runners below, so that the timing
 * and the checks in ./run-case.ts are the same for every library. A runner is set up once per
 * child; its `run` is one iteration (the warm-up, then the timed one), from the first message to
 * the completion seen by the main thread; `verify` reads the counters afterwards (not timed).
 *
 * Libraries are loaded dynamically, so that a child process loads only the one it measures.
 */
import type { ComedyRef, ComedySystem } from '../adapters.js';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { packageVersion, withTimeout } from '../../harness/index.js';
import { DONE_TIMEOUT_MS, THETA, performComputation, type BenchId, type Lib, type Variant } from './params.js';

// The package is CommonJS, so tsx runs this file as CommonJS: __dirname is this folder.
const here = __dirname;

/** Worker threads of weft's pool and of the MessagePort floor. */
export const THREADS = 2;

export interface Placed {
  /** The threadIds the actors run on (checked by run-case.ts: on workers, or on the main thread). */
  threads?(): Promise<number[]>;
}
export interface PingPongRunner extends Placed {
  /** n pings, each answered by a pong; resolves the pongs the ping actor received. */
  run(n: number): Promise<number>;
  /** The pings the pong actor handled in the iteration. */
  verify(): Promise<number>;
}
export interface CountRunner extends Placed {
  /** n increments from the main thread, then a retrieve; resolves the count. */
  run(n: number): Promise<number>;
}
export interface RingRunner extends Placed {
  /** The token, with r hops left, to actor 0; resolves the hops it made. */
  run(r: number): Promise<number>;
  /** The tokens the members received in the iteration, all together (r + 1: the first from the main thread). */
  verify(): Promise<number>;
}
export interface FjOutcome {
  processed: number;
  acc: number;
}
export interface FjRunner extends Placed {
  /** n messages to each actor (round by round, as Savina); resolves each actor's count and sum once all are handled. */
  run(n: number): Promise<FjOutcome[]>;
  /** Each actor's count of messages in the iteration, read afterwards. */
  verify(): Promise<number[]>;
}

export interface Adapter {
  readonly lib: Lib;
  readonly version: string;
  /** How the library's actors were set up, per benchmark, for the JSON. */
  readonly how: Partial<Record<BenchId, string>>;
  pingpong?(): Promise<PingPongRunner>;
  count?(): Promise<CountRunner>;
  threadring?(actors: number): Promise<RingRunner>;
  fjthrput?(actors: number): Promise<FjRunner>;
  close(): Promise<void>;
}

/** The installed version of a library (weft: this repository's package.json; port: Node's). */
export function versionOf(lib: Lib): string {
  return lib === 'port' ? process.version : packageVersion(lib === 'weft' ? 'weftjs' : lib);
}

const done = <T>(p: PromiseLike<T>, what: string): Promise<T> => withTimeout(Promise.resolve(p), DONE_TIMEOUT_MS, what, 'not done');

// ---------------------------------------------------------------------------------------------
// weft

type Weft = typeof import('../../../src/index.js');

/** weft from this repository's src/ (through tsx), or why it cannot be had (src/ mid-edit). */
export async function loadWeft(): Promise<Weft | { unavailable: string }> {
  let mod: Weft;
  try {
    mod = (await import('../../../src/index.js')) as Weft;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n').filter(Boolean).slice(0, 2).join(' ') : String(err);
    return { unavailable: `src/index.ts does not load: ${msg.slice(0, 300)}` };
  }
  for (const name of ['ActorSystem', 'Pool', 'defineActor'] as const) {
    if (typeof mod[name] !== 'function') return { unavailable: `${name} is not exported from src/index.ts` };
  }
  return mod;
}

async function weftAdapter(variant: Variant): Promise<Adapter> {
  const weft = await loadWeft();
  if ('unavailable' in weft) throw new Error(`weft: not available (${weft.unavailable})`);
  // The definitions, as the main thread sees them (same module instance as the pool's task module, see actors.cjs).
  const defs = await import('./actors.js');
  const pool = variant === 'workers' ? new weft.Pool({ module: join(here, 'actors.cjs'), threads: THREADS }) : undefined;
  const system = pool ? new weft.ActorSystem({ pool }) : new weft.ActorSystem();
  /** Actor i's placement: the main thread, or worker i mod 2. */
  const on = (i: number): 'main' | number => (variant === 'main' ? 'main' : i % THREADS);
  const long = { timeout: DONE_TIMEOUT_MS };
  const where = (refs: readonly { ask(m: { type: 'where' }, o: object): Promise<unknown> }[]): Promise<number[]> =>
    Promise.all(refs.map((r) => r.ask({ type: 'where' }, long) as Promise<number>));
  const placement =
    variant === 'main'
      ? "new ActorSystem() (no pool), every actor spawned with { on: 'main' }"
      : `new ActorSystem({ pool: new Pool({ module: actors.cjs, threads: ${THREADS} }) })`;
  return {
    lib: 'weft',
    version: versionOf('weft'),
    how: {
      pingpong: `${placement}; Ping ${variant === 'main' ? "{ on: 'main' }" : '{ on: 0 }'}, Pong ${variant === 'main' ? "{ on: 'main' }" : '{ on: 1 }'}; Ping.ask({ type: 'start', n, pong }) answered by ctx.replyLater() after n pongs; each ping/pong a tell carrying its sender (ctx.self)`,
      count: `${placement}; Counter ${variant === 'main' ? "{ on: 'main' }" : '{ on: 0 }'}, the producer is the main thread: n × counter.tell(INCREMENT) (one object), then counter.ask({ type: 'retrieve' })`,
      threadring: `${placement}; member i spawned with ${variant === 'main' ? "{ on: 'main' }" : '{ on: i % 2 } (every hop crosses threads)'}, linked by a { type: 'link', next, head } tell; member0.ask({ type: 'start', r }); each hop a tell { type: 'ping', left, hops }; the last tells member 0 { type: 'done', hops }, which answers the ask`,
      fjthrput: `${placement}; actor i spawned with ${variant === 'main' ? "{ on: 'main' }" : '{ on: i % 2 }'}; each actor asked { type: 'expect', n } (answered by ctx.replyLater() after n messages), then for m < n, for each actor: actor.tell(MSG) (one object)`,
    },
    async pingpong() {
      const pong = system.spawn(defs.Pong, null, { on: on(1) });
      const ping = system.spawn(defs.Ping, null, { on: on(0) });
      return {
        run: (n) => ping.ask({ type: 'start', n, pong }, long) as Promise<number>,
        verify: () => pong.ask({ type: 'pings' }, long) as Promise<number>,
        threads: () => where([ping, pong]),
      };
    },
    async count() {
      const counter = system.spawn(defs.Counter, null, { on: on(0) });
      const INCREMENT = { type: 'increment' } as const;
      return {
        run: (n) => {
          for (let i = 0; i < n; i++) void counter.tell(INCREMENT);
          return counter.ask({ type: 'retrieve' }, long) as Promise<number>;
        },
        threads: () => where([counter]),
      };
    },
    async threadring(actors) {
      const ring = Array.from({ length: actors }, (_, i) => system.spawn(defs.RingMember, i, { on: on(i) }));
      for (let i = 0; i < actors; i++) void ring[i]!.tell({ type: 'link', next: ring[(i + 1) % actors]!, head: ring[0]! });
      return {
        run: (r) => ring[0]!.ask({ type: 'start', r }, long) as Promise<number>,
        verify: async () =>
          (await Promise.all(ring.map((m) => m.ask({ type: 'received' }, long) as Promise<number>))).reduce((a, b) => a + b, 0),
        threads: () => where(ring),
      };
    },
    async fjthrput(actors) {
      const refs = Array.from({ length: actors }, (_, i) => system.spawn(defs.ThroughputActor, null, { on: on(i) }));
      const MSG = { type: 'msg' } as const;
      return {
        run: (n) => {
          const all = Promise.all(refs.map((a) => a.ask({ type: 'expect', n }, long) as Promise<FjOutcome>));
          for (let m = 0; m < n; m++) for (const a of refs) void a.tell(MSG);
          return all;
        },
        verify: () => Promise.all(refs.map((a) => a.ask({ type: 'processed' }, long) as Promise<number>)),
        threads: () => where(refs),
      };
    },
    async close() {
      await system.shutdown();
      await pool?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MessagePort floor: bare worker_threads, no actor library (./port-worker.mjs)

interface Reply {
  id?: number;
  type?: string;
  value?: unknown;
  hops?: number;
  members?: { i: number; processed: number; acc: number }[];
}

class PortWorker {
  readonly worker = new Worker(join(here, 'port-worker.mjs'));
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  #nextId = 1;
  /** Messages without an id (ring-done, fj-done). */
  onEvent: ((r: Reply) => void) | undefined;
  #failed: unknown;

  constructor() {
    this.worker.on('message', (r: Reply) => {
      if (r.id === undefined) return this.onEvent?.(r);
      const p = this.#pending.get(r.id);
      this.#pending.delete(r.id);
      p?.resolve(r.value);
    });
    this.worker.on('error', (err) => {
      this.#failed = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  post(m: object, transfer?: readonly import('node:worker_threads').TransferListItem[]): void {
    if (this.#failed) throw this.#failed;
    this.worker.postMessage(m, transfer);
  }

  request<T>(type: string, fields: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ type, id, ...fields });
    });
  }
}

function portAdapter(): Adapter {
  const workers: PortWorker[] = [];
  const spawn = (): PortWorker => {
    const w = new PortWorker();
    workers.push(w);
    return w;
  };
  const twoWorkers = (): PortWorker[] => Array.from({ length: THREADS }, spawn);
  return {
    lib: 'port',
    version: versionOf('port'),
    how: {
      pingpong:
        "two workers joined by a MessageChannel; the ping worker posts { type: 'ping' }, the pong worker posts back { type: 'pong' }, n times, from the port handlers (no promises); started and answered through the ping worker's parentPort",
      count: "worker.postMessage(INCREMENT) n times (one object), then a { type: 'retrieve', id } request answered with the count",
      threadring:
        'members spread over 2 workers (member i on worker i % 2), each with a MessagePort of its own as its mailbox and a MessageChannel to the next member; the token { type: ping, left, hops } goes port to port; the member that spends it posts the hops to the main thread',
      fjthrput:
        "actors spread over 2 workers (actor i on worker i % 2), each with a MessagePort of its own; the main thread posts { type: 'expect', n } to each, then for m < n, for each actor: port.postMessage(MSG); each worker posts its actors' counts once all of them have handled n",
    },
    async pingpong() {
      const [ping, pong] = twoWorkers() as [PortWorker, PortWorker];
      const { port1, port2 } = new MessageChannel();
      ping.post({ type: 'pp-role', role: 'ping', port: port1 }, [port1]);
      pong.post({ type: 'pp-role', role: 'pong', port: port2 }, [port2]);
      return {
        run: (n) => done(ping.request<number>('pp-start', { n }), 'port ping-pong'),
        verify: () => pong.request<number>('pp-pings'),
        threads: async () => [ping.worker.threadId, pong.worker.threadId],
      };
    },
    async count() {
      const w = spawn();
      const INCREMENT = { type: 'increment' };
      return {
        run: (n) => {
          for (let i = 0; i < n; i++) w.post(INCREMENT);
          return done(w.request<number>('retrieve'), 'port retrieve');
        },
        threads: async () => [w.worker.threadId],
      };
    },
    async threadring(actors) {
      const ws = twoWorkers();
      const host = (i: number): PortWorker => ws[i % THREADS]!;
      for (let i = 0; i < actors; i++) {
        // Member i's mailbox (port2, on its worker) and the port to it (port1, on the previous member's worker).
        const { port1, port2 } = new MessageChannel();
        host(i).post({ type: 'ring-member', i, inbox: port2 }, [port2]);
        const prev = (i - 1 + actors) % actors;
        host(prev).post({ type: 'ring-next', i: prev, next: port1 }, [port1]);
      }
      let finish: ((hops: number) => void) | undefined;
      for (const w of ws) w.onEvent = (r) => r.type === 'ring-done' && finish?.(r.hops!);
      return {
        run: (r) =>
          done(
            new Promise<number>((resolve) => {
              finish = resolve;
              host(0).post({ type: 'ring-start', r });
            }),
            'port thread ring',
          ),
        verify: async () => (await Promise.all(ws.map((w) => w.request<number>('ring-received')))).reduce((a, b) => a + b, 0),
        threads: async () => Array.from({ length: actors }, (_, i) => host(i).worker.threadId),
      };
    },
    async fjthrput(actors) {
      const ws = twoWorkers();
      const inboxes: import('node:worker_threads').MessagePort[] = [];
      for (let i = 0; i < actors; i++) {
        const { port1, port2 } = new MessageChannel();
        ws[i % THREADS]!.post({ type: 'fj-member', i, inbox: port2 }, [port2]);
        inboxes.push(port1);
      }
      const MSG = { type: 'msg' };
      return {
        run: (n) =>
          done(
            new Promise<FjOutcome[]>((resolve) => {
              const out: FjOutcome[] = new Array(actors);
              let waiting = Math.min(THREADS, actors);
              for (const w of ws) {
                w.onEvent = (r) => {
                  if (r.type !== 'fj-done') return;
                  for (const m of r.members!) out[m.i] = { processed: m.processed, acc: m.acc };
                  if (--waiting === 0) resolve(out);
                };
              }
              for (const p of inboxes) p.postMessage({ type: 'expect', n });
              for (let m = 0; m < n; m++) for (const p of inboxes) p.postMessage(MSG);
            }),
            'port fork-join',
          ),
        verify: async () => {
          const out: number[] = new Array(actors);
          for (const w of ws) {
            const members = await w.request<{ i: number; processed: number }[]>('fj-processed');
            for (const m of members) out[m.i] = m.processed;
          }
          return out;
        },
        threads: async () => Array.from({ length: actors }, (_, i) => ws[i % THREADS]!.worker.threadId),
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// comedy, threaded mode (./comedy/*.cjs), typed as in ../adapters.ts.

async function comedyAdapter(): Promise<Adapter> {
  const actors = require('comedy') as (options?: object) => ComedySystem;
  const system = actors({ log: { level: 'warn' } });
  const rootActor = await system.rootActor();
  // '//' + an absolute path: comedy requires the module as is (a single '/' means "from the project root").
  const threaded = (file: string): PromiseLike<ComedyRef> => rootActor.createChild(`/${join(here, 'comedy', file)}`, { mode: 'threaded' });
  const ask = <T>(ref: ComedyRef, topic: string, ...m: unknown[]): Promise<T> =>
    done(ref.sendAndReceive(topic, ...m) as PromiseLike<T>, `comedy ${topic}`);
  return {
    lib: 'comedy',
    version: versionOf('comedy'),
    how: {
      pingpong:
        "ping.cjs threaded, which creates pong.cjs as its own threaded child (a second worker); ping.sendAndReceive('start', n) resolves after n pongs; each ping a send('ping') to the child, each pong a send('pong') to the parent (getParent())",
      count:
        "counter.cjs threaded; ref.send('increment') n times, then ref.sendAndReceive('get') until the count is reached (comedy does not order a sendAndReceive after earlier sends), checked not to pass it",
      fjthrput:
        "60 × throughput.cjs threaded (one worker thread per actor); ref.sendAndReceive('expect', total) on each (cumulative, since comedy does not order it among sends), then for m < n, for each actor: ref.send('msg')",
    },
    async pingpong() {
      const ping = await threaded('ping.cjs');
      return {
        run: (n) => ask<number>(ping, 'start', n),
        verify: () => ask<number>(ping, 'pings'),
        threads: () => ask<number[]>(ping, 'threads'),
      };
    },
    async count() {
      const counter = await threaded('counter.cjs');
      let base = 0;
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) void counter.send('increment');
          const want = base + n;
          let c: number;
          for (;;) {
            c = await ask<number>(counter, 'get');
            if (c >= want) break;
          }
          const got = c - base;
          base = c;
          return got;
        },
        threads: async () => [await ask<number>(counter, 'where')],
      };
    },
    async fjthrput(count) {
      const refs: ComedyRef[] = [];
      // One at a time: each is a worker thread that loads comedy (about 30 s for 60 on 2 cores; started
      // all at once they took longer, and the timed iteration was 8 times slower).
      for (let i = 0; i < count; i++) refs.push(await threaded('throughput.cjs'));
      // Counts and sums are cumulative on the actors' side: each iteration's are the differences.
      let base = 0;
      let before = 0;
      let accs: number[] = refs.map(() => 0);
      return {
        run: async (n) => {
          before = base;
          base += n;
          const all = Promise.all(refs.map((a) => ask<FjOutcome>(a, 'expect', base)));
          for (let m = 0; m < n; m++) for (const a of refs) void a.send('msg');
          const r = await all;
          const out = r.map((x, i) => ({ processed: x.processed - before, acc: x.acc - accs[i]! }));
          accs = r.map((x) => x.acc);
          return out;
        },
        verify: async () => (await Promise.all(refs.map((a) => ask<number>(a, 'processedCount')))).map((x) => x - before),
        threads: () => Promise.all(refs.map((a) => ask<number>(a, 'where'))),
      };
    },
    async close() {
      await system.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// nact (same thread): actors are functions (state, msg, ctx) => next state; dispatch is a tell,
// query an ask (a temporary sender ref in the message).

async function nactAdapter(): Promise<Adapter> {
  const nact = await import('nact');
  const system = nact.start();
  type Ref = import('nact').Ref<any>;
  const ask = <T>(ref: Ref, make: (sender: Ref) => object): Promise<T> => nact.query(ref, make, DONE_TIMEOUT_MS) as Promise<T>;
  let names = 0;
  const spawn = <S>(f: (state: S, msg: any, ctx: { self: Ref }) => S, initialState: S): Ref =>
    nact.spawn(system, f as any, `a${names++}`, { initialState });
  return {
    lib: 'nact',
    version: versionOf('nact'),
    how: {
      pingpong:
        "spawn(system, (state, msg, ctx) => next state) for ping and pong; query(ping, sender => ({ type: 'start', n, pong, sender })); each ping/pong a dispatch carrying its sender (ctx.self); ping dispatches the pongs to the query's sender at the end",
      count:
        "spawn(...) counter; dispatch(counter, INCREMENT) n times (one object), then query(counter, sender => ({ type: 'retrieve', sender }))",
      threadring:
        "100 × spawn(...), linked by dispatch({ type: 'link', next, head }); query(member0, sender => ({ type: 'start', r, sender })); each hop a dispatch { type: 'ping', left, hops }; the last dispatches { type: 'done', hops } to member 0, which answers the query",
      fjthrput:
        "60 × spawn(...); query(actor, sender => ({ type: 'expect', n, sender })) on each, then for m < n, for each actor: dispatch(actor, MSG) (one object)",
    },
    async pingpong() {
      type PingS = { left: number; pongs: number; pong?: Ref; reply?: Ref };
      const pong = spawn<{ pings: number }>(
        (s, m, ctx) => {
          if (m.type === 'ping') {
            nact.dispatch(m.sender, { type: 'pong', sender: ctx.self });
            return { pings: s.pings + 1 };
          }
          nact.dispatch(m.sender, s.pings); // 'pings'
          return { pings: 0 };
        },
        { pings: 0 },
      );
      const ping = spawn<PingS>(
        (s, m, ctx) => {
          if (m.type === 'start') {
            nact.dispatch(m.pong, { type: 'ping', sender: ctx.self });
            return { left: m.n - 1, pongs: 0, pong: m.pong, reply: m.sender };
          }
          // 'pong'
          const pongs = s.pongs + 1;
          if (s.left > 0) {
            nact.dispatch(s.pong!, { type: 'ping', sender: ctx.self });
            return { ...s, left: s.left - 1, pongs };
          }
          nact.dispatch(s.reply!, pongs);
          return { ...s, pongs };
        },
        { left: 0, pongs: 0 },
      );
      return {
        run: (n) => ask<number>(ping, (sender) => ({ type: 'start', n, pong, sender })),
        verify: () => ask<number>(pong, (sender) => ({ type: 'pings', sender })),
      };
    },
    async count() {
      const counter = spawn<number>((c, m) => {
        if (m.type === 'increment') return c + 1;
        nact.dispatch(m.sender, c); // 'retrieve'
        return 0;
      }, 0);
      const INCREMENT = { type: 'increment' };
      return {
        run: (n) => {
          for (let i = 0; i < n; i++) nact.dispatch(counter, INCREMENT);
          return ask<number>(counter, (sender) => ({ type: 'retrieve', sender }));
        },
      };
    },
    async threadring(actors) {
      type RingS = { next?: Ref; head?: Ref; received: number; reply?: Ref };
      const pass = (s: RingS, left: number, hops: number): RingS => {
        if (left > 0) nact.dispatch(s.next!, { type: 'ping', left: left - 1, hops: hops + 1 });
        else nact.dispatch(s.head!, { type: 'done', hops });
        return { ...s, received: s.received + 1 };
      };
      const member = (s: RingS, m: any): RingS => {
        switch (m.type) {
          case 'ping':
            return pass(s, m.left, m.hops);
          case 'link':
            return { ...s, next: m.next, head: m.head };
          case 'start':
            return pass({ ...s, reply: m.sender }, m.r, 0);
          case 'done':
            nact.dispatch(s.reply!, m.hops);
            return s;
          default: // 'received'
            nact.dispatch(m.sender, s.received);
            return { ...s, received: 0 };
        }
      };
      const ring = Array.from({ length: actors }, () => spawn<RingS>(member, { received: 0 }));
      for (let i = 0; i < actors; i++) nact.dispatch(ring[i]!, { type: 'link', next: ring[(i + 1) % actors], head: ring[0] });
      return {
        run: (r) => ask<number>(ring[0]!, (sender) => ({ type: 'start', r, sender })),
        verify: async () =>
          (await Promise.all(ring.map((a) => ask<number>(a, (sender) => ({ type: 'received', sender }))))).reduce((a, b) => a + b, 0),
      };
    },
    async fjthrput(actors) {
      type T = { theta: number; processed: number; target: number; acc: number; reply?: Ref };
      const f = (s: T, m: any): T => {
        if (m.type === 'msg') {
          const processed = s.processed + 1;
          const acc = s.acc + performComputation(s.theta);
          if (processed === s.target) nact.dispatch(s.reply!, { processed, acc });
          return { ...s, processed, acc };
        }
        if (m.type === 'expect') return { ...s, processed: 0, acc: 0, target: m.n, reply: m.sender };
        nact.dispatch(m.sender, s.processed); // 'processed'
        return s;
      };
      const refs = Array.from({ length: actors }, () => spawn<T>(f, { theta: THETA, processed: 0, target: -1, acc: 0 }));
      const MSG = { type: 'msg' };
      return {
        run: (n) => {
          const all = Promise.all(refs.map((a) => ask<FjOutcome>(a, (sender) => ({ type: 'expect', n, sender }))));
          for (let m = 0; m < n; m++) for (const a of refs) nact.dispatch(a, MSG);
          return all;
        },
        verify: () => Promise.all(refs.map((a) => ask<number>(a, (sender) => ({ type: 'processed', sender })))),
      };
    },
    async close() {
      nact.stop(system);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// xstate v5 (same thread): one machine per actor kind, createActor(machine).start(); sends between
// actors with the sendTo action, replies to the main thread with emit (actor.on(...)).

async function xstateAdapter(): Promise<Adapter> {
  const { setup, assign, emit, sendTo, createActor } = await import('xstate');
  type AnyRef = import('xstate').AnyActorRef;
  const started: { stop(): void }[] = [];
  const start = <A extends { stop(): void }>(a: A & { start(): A }): A => {
    const s = a.start();
    started.push(s);
    return s;
  };
  /** The next `type` event the actor emits (subscribed before the work is sent). */
  const next = <T>(actor: { on(type: string, h: (e: any) => void): { unsubscribe(): void } }, type: string): Promise<T> =>
    done(
      new Promise<T>((resolve) => {
        const sub = actor.on(type, (e) => {
          sub.unsubscribe();
          resolve(e.value as T);
        });
      }),
      `xstate ${type}`,
    );

  const pingMachine = setup({
    types: {
      context: {} as { left: number; pongs: number; pong: AnyRef | undefined },
      events: {} as { type: 'start'; n: number; pong: AnyRef } | { type: 'pong'; sender: AnyRef },
      emitted: {} as { type: 'done'; value: number },
    },
  }).createMachine({
    context: { left: 0, pongs: 0, pong: undefined },
    on: {
      start: {
        actions: [
          assign(({ event }) => ({ left: event.n - 1, pongs: 0, pong: event.pong })),
          sendTo(
            ({ context }) => context.pong!,
            ({ self }) => ({ type: 'ping', sender: self }),
          ),
        ],
      },
      pong: [
        {
          guard: ({ context }) => context.left > 0,
          actions: [
            assign(({ context }) => ({ left: context.left - 1, pongs: context.pongs + 1 })),
            sendTo(
              ({ context }) => context.pong!,
              ({ self }) => ({ type: 'ping', sender: self }),
            ),
          ],
        },
        {
          actions: [
            assign(({ context }) => ({ pongs: context.pongs + 1 })),
            emit(({ context }) => ({ type: 'done' as const, value: context.pongs })),
          ],
        },
      ],
    },
  });
  const pongMachine = setup({
    types: {
      context: {} as { pings: number },
      events: {} as { type: 'ping'; sender: AnyRef } | { type: 'pings' },
      emitted: {} as { type: 'pings'; value: number },
    },
  }).createMachine({
    context: { pings: 0 },
    on: {
      ping: {
        actions: [
          assign(({ context }) => ({ pings: context.pings + 1 })),
          sendTo(
            ({ event }) => event.sender,
            ({ self }) => ({ type: 'pong', sender: self }),
          ),
        ],
      },
      pings: { actions: [emit(({ context }) => ({ type: 'pings' as const, value: context.pings })), assign({ pings: 0 })] },
    },
  });
  const counterMachine = setup({
    types: {
      context: {} as { count: number },
      events: {} as { type: 'increment' } | { type: 'retrieve' },
      emitted: {} as { type: 'result'; value: number },
    },
  }).createMachine({
    context: { count: 0 },
    on: {
      increment: { actions: assign(({ context }) => ({ count: context.count + 1 })) },
      retrieve: { actions: [emit(({ context }) => ({ type: 'result' as const, value: context.count })), assign({ count: 0 })] },
    },
  });
  type RingEvent =
    | { type: 'link'; next: AnyRef; head: AnyRef }
    | { type: 'start'; r: number }
    | { type: 'ping'; left: number; hops: number }
    | { type: 'done'; hops: number }
    | { type: 'received' };
  const ringMachine = setup({
    types: {
      context: {} as { next: AnyRef | undefined; head: AnyRef | undefined; received: number },
      events: {} as RingEvent,
      emitted: {} as { type: 'done'; value: number } | { type: 'received'; value: number },
    },
    actions: {
      received: assign(({ context }) => ({ received: context.received + 1 })),
    },
  }).createMachine({
    context: { next: undefined, head: undefined, received: 0 },
    on: {
      link: { actions: assign(({ event }) => ({ next: event.next, head: event.head })) },
      start: {
        // Savina's PingMessage(R) to actor 0 (R > 0).
        actions: [
          'received',
          sendTo(
            ({ context }) => context.next!,
            ({ event }) => ({ type: 'ping', left: event.r - 1, hops: 1 }),
          ),
        ],
      },
      ping: [
        {
          guard: ({ event }) => event.left > 0,
          actions: [
            'received',
            sendTo(
              ({ context }) => context.next!,
              ({ event }) => ({ type: 'ping', left: event.left - 1, hops: event.hops + 1 }),
            ),
          ],
        },
        {
          actions: [
            'received',
            sendTo(
              ({ context }) => context.head!,
              ({ event }) => ({ type: 'done', hops: event.hops }),
            ),
          ],
        },
      ],
      done: { actions: emit(({ event }) => ({ type: 'done' as const, value: event.hops })) },
      received: { actions: [emit(({ context }) => ({ type: 'received' as const, value: context.received })), assign({ received: 0 })] },
    },
  });
  const fjMachine = setup({
    types: {
      context: {} as { theta: number; processed: number; target: number; acc: number },
      events: {} as { type: 'expect'; n: number } | { type: 'msg' } | { type: 'processed' },
      emitted: {} as { type: 'done'; value: FjOutcome } | { type: 'processed'; value: number },
    },
    actions: {
      /** One message: Savina's performComputation(37.2), counted and summed. */
      work: assign(({ context }) => ({ processed: context.processed + 1, acc: context.acc + performComputation(context.theta) })),
    },
  }).createMachine({
    context: { theta: THETA, processed: 0, target: -1, acc: 0 },
    on: {
      expect: { actions: assign(({ event }) => ({ processed: 0, acc: 0, target: event.n })) },
      msg: [
        {
          // The n-th message: count it, then emit the outcome.
          guard: ({ context }) => context.processed + 1 === context.target,
          actions: ['work', emit(({ context }) => ({ type: 'done' as const, value: { processed: context.processed, acc: context.acc } }))],
        },
        { actions: 'work' },
      ],
      processed: { actions: emit(({ context }) => ({ type: 'processed' as const, value: context.processed })) },
    },
  });

  return {
    lib: 'xstate',
    version: versionOf('xstate'),
    how: {
      pingpong:
        "setup().createMachine() for ping and pong, createActor(...).start(); ping.send({ type: 'start', n, pong }); each ping/pong a sendTo(sender, ...) action carrying its sender (self); ping emits { type: 'done' } after n pongs (actor.on)",
      count:
        "a counter machine (assign per increment); actor.send(INCREMENT) n times (one object), then actor.send({ type: 'retrieve' }), answered by an emitted { type: 'result' } (actor.on)",
      threadring:
        "100 ring-member actors linked by send({ type: 'link', next, head }); member0.send({ type: 'start', r }); each hop a sendTo(next, { type: 'ping', left, hops }) action; the last sends { type: 'done' } to member 0, which emits it (actor.on)",
      fjthrput:
        "60 actors; actor.send({ type: 'expect', n }), then for m < n, for each actor: actor.send(MSG) (one object); each message an assign (count, sum of performComputation); the n-th is seen by an actor.on('done') subscription",
    },
    async pingpong() {
      const pong = start(createActor(pongMachine));
      const ping = start(createActor(pingMachine));
      return {
        run: (n) => {
          const r = next<number>(ping, 'done');
          ping.send({ type: 'start', n, pong });
          return r;
        },
        verify: () => {
          const r = next<number>(pong, 'pings');
          pong.send({ type: 'pings' });
          return r;
        },
      };
    },
    async count() {
      const counter = start(createActor(counterMachine));
      const INCREMENT = { type: 'increment' } as const;
      return {
        run: (n) => {
          for (let i = 0; i < n; i++) counter.send(INCREMENT);
          const r = next<number>(counter, 'result');
          counter.send({ type: 'retrieve' });
          return r;
        },
      };
    },
    async threadring(actors) {
      const ring = Array.from({ length: actors }, () => start(createActor(ringMachine)));
      for (let i = 0; i < actors; i++) ring[i]!.send({ type: 'link', next: ring[(i + 1) % actors]!, head: ring[0]! });
      return {
        run: (r) => {
          const d = next<number>(ring[0]!, 'done');
          ring[0]!.send({ type: 'start', r });
          return d;
        },
        verify: async () => {
          let n = 0;
          for (const a of ring) {
            const r = next<number>(a, 'received');
            a.send({ type: 'received' });
            n += await r;
          }
          return n;
        },
      };
    },
    async fjthrput(actors) {
      const refs = Array.from({ length: actors }, () => start(createActor(fjMachine)));
      const MSG = { type: 'msg' } as const;
      return {
        run: (n) => {
          const all = Promise.all(
            refs.map((a) =>
              done(
                new Promise<FjOutcome>((resolve) => {
                  const sub = a.on('done', (e) => {
                    sub.unsubscribe();
                    resolve(e.value);
                  });
                }),
                'xstate fork-join',
              ),
            ),
          );
          for (const a of refs) a.send({ type: 'expect', n });
          for (let m = 0; m < n; m++) for (const a of refs) a.send(MSG);
          return all;
        },
        verify: async () => {
          const out: number[] = [];
          for (const a of refs) {
            const r = next<number>(a, 'processed');
            a.send({ type: 'processed' });
            out.push(await r);
          }
          return out;
        },
      };
    },
    async close() {
      for (const a of started) a.stop();
    },
  };
}

export function loadAdapter(lib: Lib, variant: Variant | undefined): Promise<Adapter> {
  switch (lib) {
    case 'weft':
      return weftAdapter(variant ?? 'main');
    case 'port':
      return Promise.resolve(portAdapter());
    case 'comedy':
      return comedyAdapter();
    case 'nact':
      return nactAdapter();
    case 'xstate':
      return xstateAdapter();
  }
}
