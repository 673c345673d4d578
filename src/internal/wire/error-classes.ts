/**
 * Errors across the wire: the built-in and weft error classes an ERROR is rebuilt as, and the
 * class chains of subclasses (`class MyError extends Error` arrives as a class of the same name,
 * made on this side, extending the same built-in class).
 */
import { DataCloneError, InvalidArgumentError, WeftError } from '../../errors.js';

type ErrorConstructorLike = new (message?: string) => Error;
export const ERROR_CLASSES = new Map<string, ErrorConstructorLike>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
]);
/** weft's own error classes, rebuilt when the error has a `code` (which then replaces this one). */
export const WEFT_ERROR_CLASSES = new Map<string, (message: string) => Error>([
  ['WeftError', (message) => new WeftError('WEFT_PANIC', message)],
  ['DataCloneError', (message) => new DataCloneError(message)],
  ['InvalidArgumentError', (message) => new InvalidArgumentError(message)],
]);
/** Own properties of an error that have their own place in the format. */
export const ERROR_OWN_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause']);
/** The built-in error classes, by name: where an error's class chain ends. */
export const BUILTIN_ERROR_NAMES: ReadonlySet<string> = new Set([...ERROR_CLASSES.keys(), 'AggregateError']);

/**
 * The names of the classes of `err` from its own class up to the built-in error class it extends,
 * when its own class is not a built-in one (`['MyError', 'Error']`, `['ParCompileError',
 * 'WeftError', 'Error']`); undefined for instances of built-in classes and anything unusual.
 * Reads descriptors only (no getters run).
 */
export function classChain(err: Error): string[] | undefined {
  const chain: string[] = [];
  let proto = Object.getPrototypeOf(err) as object | null;
  for (let depth = 0; proto !== null && depth < 32; depth++) {
    const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
    const name: unknown = typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
    if (typeof name === 'string' && name !== '') {
      chain.push(name);
      if (BUILTIN_ERROR_NAMES.has(name)) return chain.length > 1 ? chain : undefined;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return undefined;
}

/** Classes made for the class chains of decoded errors (see `classChain`), by chain. */
const madeClasses = new Map<string, abstract new () => Error>();
const MADE_CLASSES_MAX = 256;

/**
 * A class named `chain[0]`, extending one named `chain[1]`, ..., extending `Base`. Each class is
 * made once per chain below it, so `Deeper extends QuotaError` and a plain `QuotaError` decode
 * to classes where `instanceof` holds as it did on the other side.
 */
export function classFor(chain: readonly string[], Base: abstract new (...args: never[]) => Error): abstract new () => Error {
  let parent = Base as unknown as abstract new () => Error;
  let key = Base.name;
  for (let i = chain.length - 1; i >= 0; i--) {
    const name = chain[i]!;
    key += `\0${name}`;
    let C = madeClasses.get(key);
    if (C === undefined) {
      const P = parent;
      C = { [name]: class extends P {} }[name]!;
      if (madeClasses.size < MADE_CLASSES_MAX) madeClasses.set(key, C);
    }
    parent = C;
  }
  return parent;
}
