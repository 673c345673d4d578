/**
 * Describing a user's value in an error message without running the user's code: `String(v)`
 * throws for a null-prototype object, a Proxy whose traps throw, or an object whose `toString`
 * throws, and an error message must never turn into a different error.
 */
import { inspect } from 'node:util';

/** A short, safe description of `value` for an error message: `5`, `'abc'`, `Symbol(x)`, `{ a: 1 }`. */
export function describe(value: unknown): string {
  try {
    const text = inspect(value, { depth: 1, breakLength: Infinity, customInspect: false, maxArrayLength: 8, maxStringLength: 80 });
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    // A Proxy whose traps throw (inspect reads through them).
    return value === null ? 'null' : typeof value;
  }
}

/**
 * Runs `read` (which reads properties of a user's object: getters and Proxy traps run there) and
 * turns anything it throws into `WEFT_INVALID_ARG`-shaped failure through `wrap`, keeping the
 * original error as `cause`.
 */
export function readGuarded<T>(read: () => T, wrap: (cause: unknown) => Error): T {
  try {
    return read();
  } catch (err) {
    throw wrap(err);
  }
}
