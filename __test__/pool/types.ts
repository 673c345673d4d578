// Type tests for Pool (not run: `npm run typecheck` compiles this file). Every `@ts-expect-error`
// line must be an error, and every positive line must compile: a change that loosens or breaks
// the typing of run / runWith / map / proxy / currentPool fails the typecheck.
import {
  Pool,
  SharedStack,
  currentPool,
  type PoolProxy,
  type TaskArgs,
  type TaskName,
  type TaskResult,
  type TaskRunner,
} from '../../src/index.js';

type Tasks = typeof import('../fixtures/pool-tasks.mjs', { with: { 'resolution-mode': 'import' }});

/** Exact type equality (fails on `any`). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

declare const pool: Pool<Tasks>;

export async function runTypes(): Promise<void> {
  // Results: sync tasks, async tasks (awaited), object results.
  const n: number = await pool.run('fib', 3);
  const sorted: number[] = await pool.run('mergesort', [3, 1, 2]);
  const sortedCut: number[] = await pool.run('mergesort', [3, 1, 2], 16);
  const p: number = await pool.run('pfib', 20);
  const s: string = await pool.run('upper', 'a');
  const sum: { byteLength: number; sum: number } = await pool.run('sumBytes', new ArrayBuffer(4));
  const state: 'aborted' | 'live' = await pool.run('signalState');
  const fromStack: { tag: string; popped: Array<number | string> } = await pool.run('useStack', new SharedStack<number | string>());
  const any: unknown = await pool.run('echo', { anything: [1] });
  void [n, sorted, sortedCut, p, s, sum, state, fromStack, any];

  assertType<Equals<Awaited<ReturnType<typeof pool.run<'fib'>>>, number>>(true);
  assertType<Equals<TaskResult<Tasks, 'asyncDouble'>, number>>(true);
  assertType<Equals<TaskArgs<Tasks, 'add'>, [a: number, b: number]>>(true);
  assertType<Equals<TaskResult<Tasks, 'fail'>, never>>(true);

  // Task names: only function exports.
  const name: TaskName<Tasks> = 'inc';
  void name;
  // @ts-expect-error: 'version' is a string export, not a task
  const notATask: TaskName<Tasks> = 'version';
  void notATask;

  // @ts-expect-error: unknown task name
  await pool.run('fibb', 3);
  // @ts-expect-error: a non-function export is not a task
  await pool.run('version');
  // @ts-expect-error: wrong argument type
  await pool.run('fib', '3');
  // @ts-expect-error: missing argument
  await pool.run('fib');
  // @ts-expect-error: too many arguments
  await pool.run('fib', 3, 4);
  // @ts-expect-error: wrong second argument type
  await pool.run('add', 1, 'two');
  // @ts-expect-error: wrong element type
  await pool.run('mergesort', ['b', 'a']);
  // @ts-expect-error: a number is not a SharedStack
  await pool.run('mark', 1, 'x');
  // @ts-expect-error: the result is a number, not a string
  const wrong: string = await pool.run('fib', 3);
  // @ts-expect-error: the result is an array of numbers
  const wrongArray: string[] = await pool.run('mergesort', [1]);
  // @ts-expect-error: an awaited result has no .then
  (await pool.run('pfib', 3)).then;
  void [wrong, wrongArray];

  // runWith: options first, then the same typed name and arguments.
  const ac = new AbortController();
  const w: number = await pool.runWith({ signal: ac.signal, terminateOnAbort: true }, 'fib', 10);
  const tr: { byteLength: number; sum: number } = await pool.runWith({ transfer: [new ArrayBuffer(1)] }, 'sumBytes', new ArrayBuffer(1));
  void [w, tr];
  // @ts-expect-error: wrong argument type through runWith
  await pool.runWith({}, 'fib', 'x');
  // @ts-expect-error: unknown option
  await pool.runWith({ priority: 1 }, 'fib', 1);
  // @ts-expect-error: options are required first
  await pool.runWith('fib', 1);
}

export async function mapTypes(): Promise<void> {
  const squares: number[] = await pool.map('square', [1, 2, 3]);
  const doubled: number[] = await pool.map('asyncDouble', new Set([1, 2]), { chunkSize: 1 });
  const labels: string[] = await pool.map('describeItem', [{ id: 1, name: 'a' }]);
  const upper: string[] = await pool.map('upper', ['a'], { signal: AbortSignal.abort() });
  void [squares, doubled, labels, upper];
  // @ts-expect-error: items must be the task's first parameter type
  await pool.map('square', ['1']);
  // @ts-expect-error: unknown task
  await pool.map('nope', [1]);
  // @ts-expect-error: results are numbers
  const wrong: string[] = await pool.map('square', [1]);
  // @ts-expect-error: chunkSize is a number
  await pool.map('square', [1], { chunkSize: '2' });
  // @ts-expect-error: map takes no transfer list
  await pool.map('square', [1], { transfer: [] });
  void wrong;
}

export async function proxyTypes(): Promise<void> {
  const api = pool.proxy();
  const n: number = await api.fib(30);
  const s: number[] = await api.mergesort([2, 1]);
  const d: number = await api.asyncDouble(2);
  void [n, s, d];
  assertType<Equals<typeof api, PoolProxy<Tasks>>>(true);
  assertType<Equals<typeof api.add, (a: number, b: number) => Promise<number>>>(true);
  // @ts-expect-error: no such method
  await api.fibb(3);
  // @ts-expect-error: non-function exports have no method
  await api.version();
  // @ts-expect-error: wrong argument type
  await api.fib('30');
  // @ts-expect-error: the result is a number
  const wrong: string = await api.fib(3);
  // @ts-expect-error: methods are read-only
  api.fib = async () => 1;
  void wrong;

  // proxy<P>() with another module type.
  const other = pool.proxy<{ ping(x: string): Promise<'pong'> }>();
  const pong: 'pong' = await other.ping('x');
  void pong;
  // @ts-expect-error: the other module has no fib
  await other.fib(1);
}

export async function currentPoolTypes(): Promise<void> {
  const self: TaskRunner<Tasks> = currentPool<Tasks>();
  const n: number = await self.run('pfib', 10);
  const m: number[] = await self.map('inc', [1, 2]);
  const viaProxy: number = await self.proxy().inc(1);
  void [n, m, viaProxy];
  // @ts-expect-error: wrong argument type through currentPool()
  await self.run('pfib', '10');
  // @ts-expect-error: unknown task through currentPool()
  await self.run('nope');
}

export function constructionTypes(): void {
  const a = new Pool<Tasks>({ module: new URL('file:///tasks.mjs'), threads: 2, maxQueue: 10, idleTimeout: 1000, name: 'x' });
  const b = new Pool<Tasks>({ module: '/tasks.mjs', resourceLimits: { maxOldGenerationSizeMb: 32 } });
  void [a, b];
  // @ts-expect-error: module is required
  new Pool<Tasks>({ threads: 2 });
  // @ts-expect-error: threads is a number
  new Pool<Tasks>({ module: '/tasks.mjs', threads: '2' });
}
