/**
 * `move(value)`: hand an ArrayBuffer, a typed array's buffer or a MessagePort to the other thread
 * instead of copying it (piscina's `Piscina.move`). As a whole argument of a task submitted from
 * the main thread (`pool.run('task', move(buffer))`) and as the whole result of a task the main
 * thread submitted (`return move(result)`), the value is transferred: it arrives as the same kind
 * of object, and the sender's copy is detached (length 0). Anywhere else (inside another value,
 * or between workers for fork-join) a moved value is copied like any other.
 */
import { types } from 'node:util';
import { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../internal/describe.js';
import { MOVED } from '../internal/wire.js';
import type { TransferListItem } from './types.js';

const TRANSFER = Symbol('weft.pool.moved.transfer');

/**
 * The markers `move()` made: a WeakSet, since `has` runs no code of the value (`instanceof` would
 * run a Proxy's getPrototypeOf trap on every task argument).
 */
const markers = new WeakSet<object>();

/** What `move()` returns, typed as the value itself; the pool unwraps it. */
class Moved {
  readonly [MOVED]: unknown;
  readonly [TRANSFER]: TransferListItem;
  constructor(value: unknown, transfer: TransferListItem) {
    this[MOVED] = value;
    this[TRANSFER] = transfer;
  }
}

/** What `move` takes: the objects postMessage can transfer whose sender keeps no copy. */
export type Movable = ArrayBuffer | ArrayBufferView | MessagePort;

/**
 * Marks `value` to be transferred rather than copied when it is a task's argument or result (see
 * the module comment). Returns a marker typed as `value`: pass it straight to `run` or `return`
 * it. Throws `WEFT_INVALID_ARG` for anything but an ArrayBuffer, a view of one, or a MessagePort.
 */
export function move<T extends Movable>(value: T): T {
  let transfer: TransferListItem;
  if (types.isProxy(value)) throw new InvalidArgumentError('move() takes an ArrayBuffer, a typed array or a MessagePort, not a Proxy');
  if (types.isArrayBuffer(value)) transfer = value;
  else if (ArrayBuffer.isView(value) && types.isArrayBuffer(value.buffer)) transfer = value.buffer;
  else if (value instanceof MessagePort) transfer = value;
  else {
    throw new InvalidArgumentError(
      `move() takes an ArrayBuffer, a typed array or DataView over one, or a MessagePort, got ${describe(value)}`,
    );
  }
  const moved = new Moved(value, transfer);
  markers.add(moved);
  return moved as unknown as T;
}

/** Whether `v` is a `move()` marker (of this copy of weft: the transfer list is kept here). */
export function isMoved(v: unknown): v is Moved {
  return typeof v === 'object' && v !== null && markers.has(v);
}

/** The value inside a `move()` marker, or `v` itself. */
export function unwrapMoved(v: unknown): unknown {
  return isMoved(v) ? v[MOVED] : v;
}

/** The value and the object to transfer of a marker. */
export function movedParts(v: Moved): { value: unknown; transfer: TransferListItem } {
  return { value: v[MOVED], transfer: v[TRANSFER] };
}

/**
 * The arguments with their `move()` markers unwrapped, and the objects to transfer (after
 * `transfer`'s own); `undefined` when no argument is moved (the common case, without copying).
 */
export function takeMoved(
  args: unknown[],
  transfer: readonly TransferListItem[] | undefined,
): { args: unknown[]; transfer: TransferListItem[] } | undefined {
  let out: unknown[] | undefined;
  let list: TransferListItem[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!isMoved(a)) continue;
    out ??= args.slice();
    list ??= transfer !== undefined ? [...transfer] : [];
    out[i] = a[MOVED];
    if (!list.includes(a[TRANSFER])) list.push(a[TRANSFER]);
  }
  return out === undefined ? undefined : { args: out, transfer: list! };
}
