/**
 * How the host reads user values it does not own: a message's `type` (which handler takes it, and
 * how errors name it), whether a handler's or hook's result is a thenable, and what an encoded
 * envelope holds (for error texts). Each read survives hostile values (a Proxy whose traps
 * throw): `typeOf` answers undefined, `isThenable` throws `WEFT_INVALID_ARG`.
 */
import { InvalidArgumentError } from '../../errors.js';
import { thrownMessage } from '../../internal/describe.js';
import * as promise from '../../internal/promise.js';
import { WireReader } from '../../internal/wire.js';
import { ENV_ASK } from '../protocol.js';

// Read once into a module constant: under tsx (esbuild's CommonJS output) each read of an
// imported binding is a getter call, and isThenable runs for every handler result.
const thenable = promise.isThenable;

/**
 * Whether `v` is a promise or another thenable; throws `WEFT_INVALID_ARG` when reading its `then`
 * throws (callers treat that as the handler failing): internal/promise.ts's test, with the host's
 * error. A thenable is settled through `Promise.resolve`, so a `then` that throws when called
 * rejects instead of throwing here.
 */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  try {
    return thenable(v);
  } catch (err) {
    // Not the handler's own failure but a value nobody can await (a Proxy whose traps throw).
    throw new InvalidArgumentError(`the handler's result cannot be awaited: reading its \`then\` threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
}

/** A message's `type`, or undefined when it has none or reading it throws (a Proxy's trap). */
export function typeOf(msg: unknown): unknown {
  if (msg === null || typeof msg !== 'object') return undefined;
  try {
    return (msg as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}

export function describeType(msg: unknown): string {
  const t = typeOf(msg);
  return typeof t === 'string' ? JSON.stringify(t) : '(no type)';
}

/** The message type of an encoded TELL or ASK envelope. */
export function describeEnvelope(env: Uint8Array): string {
  try {
    const r = new WireReader(env);
    const kind = r.u8();
    if (kind === ENV_ASK) r.offset = 9;
    return describeType(r.value());
  } catch {
    return '(undecodable)';
  }
}
