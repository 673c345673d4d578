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
 * The message of what a user's getter, Proxy trap or iterator threw, for the `WEFT_INVALID_ARG`
 * that wraps it (the thrown value itself becomes its `cause`). Never throws.
 */
export function thrownMessage(err: unknown): string {
  try {
    if (err instanceof Error) return err.message;
  } catch {
    // A thrown Proxy whose traps throw: described below.
  }
  return describe(err);
}
