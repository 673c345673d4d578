// A consumer of weftjs, written the way a user would. scripts/check-consumer-types.mjs copies it
// (as app.ts, so that the package's "type" decides ESM or CommonJS) into projects that install the
// packed weftjs, and type-checks it there; it is never run. Every `@ts-expect-error` must be an
// error: with `any` types (a declaration that failed to resolve, a lost generic) they would not
// be, and tsc fails with TS2578 "Unused '@ts-expect-error' directive". (.mts here keeps it out of
// __test__/tsconfig.json, which has no packed weftjs to resolve.)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fastify } from 'fastify';
import { Registry } from 'prom-client';
import {
  ActorSystem,
  Pool,
  SharedMap,
  SharedQueue,
  SharedStack,
  WeftError,
  defineActor,
  isWeftError,
  par,
  type ActorRef,
  type PoolProxy,
  type TaskName,
  type TransferListItem,
} from 'weftjs';
import weftPlugin, {
  fastifyPiscina,
  weftPlugin as namedPlugin,
  type FastifyPiscinaOptions,
  type WeftDecoration,
  type WeftPluginOptions,
} from 'weftjs/fastify';
import { registerWeftMetrics, type WeftMetrics } from 'weftjs/metrics';
import Piscina, {
  Piscina as NamedPiscina,
  isWorkerThread as inPiscinaWorker,
  move as piscinaMove,
  type PiscinaHistogramSummary,
  type PiscinaOptions,
} from 'weftjs/piscina';
import type * as tasks from './tasks.js';

// @ts-expect-error: only the subpaths in package.json "exports" are public
export type Internals = typeof import('weftjs/dist/pool/pool.js');

/** `true` exactly when `T` is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;
function assertNotAny<T>(_value: T, ..._proof: IsAny<T> extends true ? [never] : []): void {}

type Tasks = typeof tasks;
const taskModule = pathToFileURL(join(process.cwd(), 'tasks.js'));

export const Counter = defineActor({
  init: (start: number) => ({ n: start }),
  handlers: {
    add: (state, msg: { by: number }) => {
      state.n += msg.by;
    },
    get: (state) => state.n,
  },
});

export async function usePool(): Promise<PoolProxy<Tasks>> {
  const pool = new Pool<Tasks>({ module: taskModule, threads: 2 });
  const n: number = await pool.run('fib', 20);
  assertNotAny(n);
  // @ts-expect-error: fib takes a number
  await pool.run('fib', 'twenty');
  // @ts-expect-error: `version` is not a function, so not a task
  await pool.run('version');
  const name: TaskName<Tasks> = 'digest';
  void name;

  const buffer = new ArrayBuffer(16);
  const transfer: TransferListItem[] = [buffer];
  const length: number = await pool.runWith({ transfer }, 'byteLength', buffer);
  // @ts-expect-error: a string cannot be transferred
  await pool.runWith({ transfer: ['not transferable'] }, 'byteLength', buffer);
  const lengths: number[] = await pool.map('fib', [1, 2, 3]);
  void [length, lengths];

  const api = pool.proxy();
  const hex: string = await api.digest('weft');
  assertNotAny(hex);
  // @ts-expect-error: digest resolves to a string
  const wrong: number = await api.digest('weft');
  // @ts-expect-error: no such task
  await api.fibb(1);
  void wrong;
  return api;
}

export async function useActors(pool: Pool<Tasks>): Promise<number> {
  const system = new ActorSystem({ pool });
  const counter: ActorRef<typeof Counter> = system.spawn(Counter, 1, { on: 'main' });
  counter.tell({ type: 'add', by: 2 });
  const count: number = await counter.ask({ type: 'get' }, { timeout: 1000 });
  assertNotAny(count);
  // @ts-expect-error: the reply to 'get' is a number
  const text: string = await counter.ask({ type: 'get' });
  // @ts-expect-error: unknown message type
  counter.tell({ type: 'sub', by: 1 });
  // @ts-expect-error: `by` is a number
  counter.tell({ type: 'add', by: '2' });
  // @ts-expect-error: Counter's init takes a number
  system.spawn(Counter, 'one');
  void text;
  await system.shutdown();
  return count;
}

export async function useParAndStack(): Promise<number> {
  const total: number = await par([1, 2, 3, 4])
    .map((x) => x * 2)
    .filter((x) => x > 2)
    .sum();
  const evens: Float64Array = await par
    .range(0, 100)
    .filter((x) => x % 2 === 0)
    .toArray();
  // @ts-expect-error: par stages map numbers to numbers or booleans
  par([1, 2]).map((x) => String(x));

  const stack = new SharedStack<number>();
  stack.push(total);
  stack.pushMany(evens);
  const top: number | undefined = stack.pop();
  assertNotAny(top);
  // @ts-expect-error: a SharedStack<number> holds numbers
  stack.push('one');

  const jobs = new SharedQueue<{ id: number }>({ capacity: 8 });
  jobs.push({ id: 1 });
  const job: { id: number } | undefined = await jobs.popAsync();
  assertNotAny(job);
  for await (const j of SharedQueue.from(jobs.handle)) assertNotAny(j.id);
  // @ts-expect-error: the queue holds jobs
  jobs.push(2);

  const hits = new SharedMap<string, number>({ ttl: 60_000 });
  const n: number = hits.increment('/a');
  const seen: number | undefined = hits.get('/a');
  assertNotAny(seen);
  hits.compareAndSet('/a', n, n + 1, { ttl: 1000 });
  // @ts-expect-error: keys are strings here
  hits.get(1);
  for (const [k, v] of hits.entries()) assertNotAny([k, v]);
  return stack.size + jobs.size + hits.size;
}

export async function useFastifyAndMetrics(): Promise<string> {
  // The default export is the plugin itself (not the module object) in every resolution mode.
  const samePlugin: typeof namedPlugin = weftPlugin;
  void samePlugin;
  const app = fastify();
  const options: WeftPluginOptions = { pool: { module: taskModule, threads: 2 }, actors: true };
  await app.register(weftPlugin, options);
  const decoration: WeftDecoration = app.weft;
  const pool: Pool | undefined = app.weft.pool;
  // @ts-expect-error: the decorator name is a string
  await app.register(namedPlugin, { decorator: 42 });
  void decoration;

  const registry = new Registry();
  const stack = new SharedStack<string>();
  const metrics: WeftMetrics = registerWeftMetrics({
    register: registry,
    pools: pool ? { main: pool } : [],
    systems: app.weft.actors ? [app.weft.actors] : [],
    stacks: { names: stack },
  });
  const names: readonly string[] = metrics.names;
  // @ts-expect-error: the prefix is a string
  registerWeftMetrics({ prefix: 1 });
  metrics.unregister();

  try {
    await app.close();
  } catch (err) {
    if (isWeftError(err, 'WEFT_CLOSED')) return err.code;
    if (err instanceof WeftError) return err.message;
  }
  return names.join(',');
}

export async function usePiscina(): Promise<number> {
  // The default export is the class (not the module object) in every resolution mode.
  const SamePiscina: typeof NamedPiscina = NamedPiscina === Piscina ? Piscina : NamedPiscina;
  const options: PiscinaOptions = { filename: join(process.cwd(), 'tasks.js'), name: 'fib', maxThreads: 2, maxQueue: 'auto' };
  const piscina = new SamePiscina<number, number>(options);
  const n: number = await piscina.run(20);
  assertNotAny(n);
  // @ts-expect-error: this pool's tasks take a number
  await piscina.run('twenty');
  // @ts-expect-error: taskQueue is refused (weft's scheduler is the queue)
  void new Piscina({ taskQueue: [] });
  // @ts-expect-error: maxQueue is a number or 'auto'
  void new Piscina({ maxQueue: 'unbounded' });
  const buffer = piscinaMove(new ArrayBuffer(8));
  const length: number = await piscina.run(0, { name: 'byteLength', transferList: [buffer], signal: AbortSignal.timeout(1000) });
  piscina.on('drain', () => {});
  const summary: PiscinaHistogramSummary = piscina.histogram.runTime;
  const p99: number = summary.p99 + piscina.waitTime.p99_9 + piscina.utilization + piscina.queueSize;
  await piscina.close({ force: true });

  const app = fastify();
  const pluginOptions: FastifyPiscinaOptions = { filename: join(process.cwd(), 'tasks.js'), name: 'fib' };
  await app.register(fastifyPiscina, pluginOptions);
  const viaRoute: number = await app.runTask(10);
  const pool: Piscina = app.piscina;
  void pool;
  await app.close();
  return n + length + p99 + viaRoute + (inPiscinaWorker ? 1 : 0);
}
