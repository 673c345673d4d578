/**
 * The task side of a pool worker: loading the task module, finding a task's function by its name
 * id, running a map chunk, and the arguments that came through the side port (with a transfer
 * list).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { type InvalidArgumentError, WeftError } from '../../errors.js';
import { isThenable } from '../../internal/promise.js';
import { ensureTypeScriptLoader } from '../module.js';
import type { NativePool } from '../native-pool.js';
import { type TaskModuleLabel, type WorkerInit, unknownTaskError } from '../protocol.js';
import { mapArityError } from '../runner.js';

export type TaskFn = (...args: unknown[]) => unknown;

/** The task module's exports, and the names of its function exports. */
export interface LoadedModule {
  exports: Record<string, unknown>;
  names: string[];
}

/** Imports the task module (with a TypeScript loader first where it needs one). */
export async function loadTaskModule(init: WorkerInit): Promise<LoadedModule> {
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

  constructor(pool: NativePool, label: TaskModuleLabel, module: LoadedModule) {
    this.#pool = pool;
    this.#label = label;
    this.#module = module;
  }

  /** The task function of a name id, or the error for a name the module does not export. */
  fnFor(nameId: number): TaskFn | InvalidArgumentError {
    const fn = this.#fns[nameId];
    if (fn !== undefined) return fn;
    const name = this.#pool.nameOf(nameId) ?? `#${nameId}`;
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
