/**
 * piscina's `move()` and its `Transferable` interface, on weft's `move()`.
 *
 * - An ArrayBuffer, a typed array or DataView, or a MessagePort: weft's `move()` (transferred as
 *   a task's whole argument from the main thread, and as a task's whole result).
 * - An object with `[transferableSymbol]` (what to transfer) and `[valueSymbol]` (what to send in
 *   its place), piscina's `Transferable`: as the task of `run()`, its value is sent and its
 *   transferables are transferred. As a task's result (in a worker) its value is sent copied:
 *   weft transfers only a whole ArrayBuffer, view or MessagePort back.
 * - Anything else throws `WEFT_INVALID_ARG` (piscina's docs: "move() will throw if the value is
 *   not transferable").
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../internal/describe.js';
import { isWorkerThread, type Movable, type TransferListItem, move as weftMove } from '../pool/index.js';

/** piscina's `Piscina.transferableSymbol` (the same registered symbol). */
export const transferableSymbol: unique symbol = Symbol.for('Piscina.transferable') as never;
/** piscina's `Piscina.valueSymbol` (the same registered symbol). */
export const valueSymbol: unique symbol = Symbol.for('Piscina.valueOf') as never;

/** piscina's `Transferable` interface: an object that says what to transfer and what to send. */
export interface PiscinaTransferable {
  /** The object (or array of objects) to transfer. */
  readonly [transferableSymbol]: unknown;
  /** The value sent in place of the object itself. */
  readonly [valueSymbol]: unknown;
}

const marked = new WeakSet<object>();

function isTransferable(value: unknown): value is PiscinaTransferable {
  return typeof value === 'object' && value !== null && transferableSymbol in value && valueSymbol in value;
}

/**
 * Marks `value` to be transferred rather than copied (see the module comment). Returns `value`
 * typed as itself; pass it as the task of `run()` or return it from a task.
 */
export function move<V extends Movable | PiscinaTransferable>(value: V): V {
  if (isTransferable(value)) {
    // In a worker the result goes back copied: its value is what piscina would have sent.
    if (isWorkerThread) return value[valueSymbol] as V;
    marked.add(value);
    return value;
  }
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(
      `move() takes an ArrayBuffer, a typed array or DataView, a MessagePort or a Transferable object, got ${describe(value)}`,
    );
  }
  return weftMove(value as Movable) as V;
}

/** A `move()`d Transferable as `run()`'s task: the value to send and the objects to transfer; else undefined. */
export function takeTransferable(task: unknown): { task: unknown; transfer: TransferListItem[] } | undefined {
  if (typeof task !== 'object' || task === null || !marked.has(task)) return undefined;
  const t = task as PiscinaTransferable;
  const what = t[transferableSymbol];
  return { task: t[valueSymbol], transfer: (Array.isArray(what) ? what : [what]) as TransferListItem[] };
}
