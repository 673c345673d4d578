/**
 * What every shared structure (SharedStack, SharedQueue, SharedMap) does the same way with its
 * handle: reading one given by the user, attaching to the native structure behind it, and
 * crossing the wire codec as one (a HANDLE of its sub-tag: id and process token).
 */
import { InvalidArgumentError, fromNative } from '../errors.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { registerHandleCodec, type WireReader, type WireWriter } from '../internal/wire.js';

/** The largest process token (a u32, made by weft-core's registry). */
const MAX_TOKEN = 0xffff_ffff;

/** The run-time fields of every shared structure's handle. */
export interface HandleFields<K extends string> {
  readonly kind: K;
  readonly id: number;
  /** Identifies the process (and copy of weft) that made the structure. */
  readonly process: number;
}

/**
 * `handle`'s id and process token, if it is a well-formed handle of `kind`. Reads its fields
 * once, each under a guard: a getter or a Proxy trap that throws makes it a bad argument
 * (`WEFT_INVALID_ARG`, the thrown error as cause); anything else malformed is `WEFT_INVALID_ARG`
 * naming what `who` expects.
 */
export function readHandle(value: unknown, kind: string, who: string): { id: number; process: number } {
  let fields: { kind: unknown; id: unknown; process: unknown } | undefined;
  if (typeof value === 'object' && value !== null) {
    try {
      const h = value as Record<string, unknown>;
      fields = { kind: h.kind, id: h.id, process: h.process };
    } catch (err) {
      throw new InvalidArgumentError(`${who}: reading the handle threw: ${thrownMessage(err)}`, { cause: err });
    }
  }
  const { id, process } = fields ?? {};
  const ok =
    fields?.kind === kind &&
    typeof id === 'number' &&
    Number.isSafeInteger(id) &&
    id > 0 &&
    typeof process === 'number' &&
    Number.isInteger(process) &&
    process >= 0 &&
    process <= MAX_TOKEN;
  if (!ok) throw new InvalidArgumentError(`${who} expects a handle of a ${kind.slice(5)} (its .handle), got ${describe(value)}`);
  return { id: id as number, process: process as number };
}

/** `attach(id, process)` with its native error (`WEFT_STALE_HANDLE`...) as a WeftError. */
export function attachNative<N>(attach: (id: number, process: number) => N, h: { id: number; process: number }): N {
  try {
    return attach(h.id, h.process);
  } catch (err) {
    throw fromNative(err);
  }
}

/** Whether `v` is an instance of the native class `C` (false for a Proxy whose traps throw). */
export function isNativeOf(v: unknown, C: abstract new (...args: never[]) => unknown): boolean {
  try {
    return v instanceof C;
  } catch {
    return false;
  }
}

/**
 * Registers the wire codec of a shared structure's class: anywhere in a task argument, a message
 * or a shared structure's value, an instance crosses as its handle and arrives attached (`from`):
 * one that no longer exists is WEFT_STALE_HANDLE there.
 */
export function registerSharedHandle<S extends { readonly handle: HandleFields<K> }, K extends string>(
  subTag: number,
  kind: K,
  proto: S,
  from: (handle: HandleFields<K>) => S,
): void {
  registerHandleCodec({
    subTag,
    proto,
    write(w: WireWriter, v: object): void {
      const h = (v as S).handle;
      w.f64(h.id);
      w.u32(h.process);
    },
    read(r: WireReader): unknown {
      const id = r.f64();
      const process = r.u32();
      return from({ kind, id, process });
    },
    // What `write` wrote: f64 id + u32 process token.
    skip(r: WireReader): void {
      r.skip(12);
    },
  });
}
