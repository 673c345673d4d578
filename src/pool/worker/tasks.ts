/**
 * The task side of a pool worker: loading the task module, finding a task's function by its name
 * id, running a map chunk, and the arguments that came through the side port (with a transfer
 * list).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, WeftError } from '../../errors.js';
import { thrownMessage } from '../../internal/describe.js';
import { isThenable } from '../../internal/promise.js';
import { ensureTypeScriptLoader } from '../module.js';
import type { NativePool } from '../native-pool.js';
import { MODULE_CALL, type TaskModuleLabel, type WorkerInit, unknownTaskError } from '../protocol.js';
import { mapArityError } from '../runner.js';

export type TaskFn = (...args: unknown[]) => unknown;

/** The task module's exports, and the names of its function exports. */
export interface LoadedModule {
  exports: Record<string, unknown>;
  names: string[];
}

/** Imports the task module (with a TypeScript loader first where it needs one). */
export async function loadTaskModule(init: Pick<WorkerInit, 'module' | 'tsx' | 'tsxProbe'>): Promise<LoadedModule> {
  const url = init.module.startsWith('file:') ? init.module : pathToFileURL(init.module).href;
  await ensureTypeScriptLoader({ url, tsx: init.tsx, probe: init.tsxProbe });
  let mod = (await import(url)) as Record<string, unknown>;
  // A default export that is a promise (of the task function, after some async set-up, as
  // piscina allows) is awaited: its value is the default export.
  if (isThenable(mod.default)) mod = { ...mod, default: await mod.default };
  // A CommonJS module imported as ESM exposes module.exports as `default` too.
  const cjs = mod.default;
  const exports =
    cjs !== null && typeof cjs === 'object' && !('__esModule' in mod && Object.keys(mod).length > 1)
      ? { ...(cjs as Record<string, unknown>), ...mod }
      : { ...mod };
  return { exports, names: Object.keys(exports).filter((k) => typeof exports[k] === 'function') };
}

/** The task functions of the module, by name id (ids are the scheduler's, given per pool). */
export class TaskTable {
  readonly #pool: NativePool;
  readonly #label: TaskModuleLabel;
  readonly #module: LoadedModule;
  readonly #fns: Array<TaskFn | undefined> = [];
  /** Modules called through `runWith({ module })`, by file URL: loaded, or loading. */
  readonly #others = new Map<string, LoadedModule | Promise<LoadedModule>>();

  constructor(pool: NativePool, label: TaskModuleLabel, module: LoadedModule) {
    this.#pool = pool;
    this.#label = label;
    this.#module = module;
  }

  /** The names to register with the scheduler: the module's tasks and the reserved {@link MODULE_CALL}. */
  get registered(): string[] {
    return [...this.#module.names, MODULE_CALL];
  }

  /**
   * The reserved task: calls task `name` of the module at `url`, loading it first if this worker
   * has not yet (then the call is async); a module that failed to load is tried again next time.
   */
  readonly #moduleCall = (url: unknown, tsx: unknown, probe: unknown, name: unknown, ...args: unknown[]): unknown => {
    const call = (m: LoadedModule): unknown => {
      const fn = m.exports[name as string];
      if (typeof fn !== 'function') throw unknownTaskError({ pool: this.#label.pool, module: url as string }, name as string, m.names);
      return (fn as TaskFn)(...args);
    };
    const known = this.#others.get(url as string);
    if (known !== undefined && !isThenable(known)) return call(known);
    let loading = known;
    if (loading === undefined) {
      loading = loadTaskModule({
        module: url as string,
        ...(typeof tsx === 'string' ? { tsx } : {}),
        ...(typeof probe === 'string' ? { tsxProbe: probe } : {}),
      }).then(
        (m) => {
          this.#others.set(url as string, m);
          return m;
        },
        (err: unknown) => {
          this.#others.delete(url as string);
          // As for every bad argument: WEFT_INVALID_ARG, naming the module (Node's error as cause).
          throw new InvalidArgumentError(`${this.#label.pool}: runWith({ module }) could not load ${String(url)}: ${thrownMessage(err)}`, {
            cause: err,
          });
        },
      );
      this.#others.set(url as string, loading);
    }
    return loading.then(call);
  };

  /** The task function of a name id, or the error for a name the module does not export. */
  fnFor(nameId: number): TaskFn | InvalidArgumentError {
    const fn = this.#fns[nameId];
    if (fn !== undefined) return fn;
    const name = this.#pool.nameOf(nameId) ?? `#${nameId}`;
    if (name === MODULE_CALL) {
      this.#fns[nameId] = this.#moduleCall;
      return this.#moduleCall;
    }
    const value = this.#module.exports[name];
    if (typeof value !== 'function') return unknownTaskError(this.#label, name, this.#module.names);
    this.#fns[nameId] = value as TaskFn;
    return value as TaskFn;
  }
}

/** Runs a map chunk: `fn` once per item (spread: items are argument lists). */
export function runMap(fn: TaskFn, items: unknown, spread: boolean): unknown {
  const arity = mapArityError(fn, spread);
  if (arity !== undefined) throw arity;
  const list = items as ArrayLike<unknown>;
  const n = list.length;
  const results: unknown[] = new Array(n);
  let numeric = true;
  let async = false;
  for (let i = 0; i < n; i++) {
    const v = spread ? fn(...(list[i] as unknown[])) : fn(list[i]);
    results[i] = v;
    if (typeof v !== 'number') {
      numeric = false;
      if (isThenable(v)) async = true;
    }
  }
  if (async) return Promise.all(results);
  return numeric ? Float64Array.from(results as number[]) : results;
}

/** Arguments that came with a transfer list through this worker's side port, by task id. */
export class PortInbox {
  readonly #port: MessagePort;
  readonly #inbox = new Map<number, unknown[]>();

  constructor(port: MessagePort) {
    this.#port = port;
  }

  /** The arguments of task `id` (throws WEFT_WORKER_EXIT if they were lost). */
  take(id: number): unknown[] {
    for (let m: { message: unknown } | undefined; (m = receiveMessageOnPort(this.#port)); ) {
      const msg = m.message as { id: number; args: unknown[] };
      this.#inbox.set(msg.id, msg.args);
    }
    const args = this.#inbox.get(id);
    if (args === undefined) {
      throw new WeftError('WEFT_WORKER_EXIT', 'the transferred arguments of this task were lost with the worker they were sent to');
    }
    this.#inbox.delete(id);
    return args;
  }
}
