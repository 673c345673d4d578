/**
 * weft's errors: one class, `WeftError`, with a stable `code`. Native errors carry the same codes
 * (weft-core declares them; a test checks the two lists agree), so callers can branch on
 * `err.code` wherever an error came from.
 */

/** Every code weft raises. A code never changes meaning once released. */
export const ERROR_CODES = [
  'WEFT_ABORTED',
  'WEFT_QUEUE_FULL',
  'WEFT_WORKER_EXIT',
  'WEFT_MAILBOX_FULL',
  'WEFT_ASK_TIMEOUT',
  'WEFT_ACTOR_STOPPED',
  'WEFT_PAR_COMPILE',
  'WEFT_CLOSED',
  'WEFT_INVALID_ARG',
  'WEFT_DATA_CLONE',
  'WEFT_STALE_HANDLE',
  'WEFT_PANIC',
  'WEFT_NO_BINARY',
  'WEFT_NODE_DOWN',
  'WEFT_NO_ACTOR',
  'WEFT_DISCONNECTED',
  'WEFT_MESSAGE_TOO_LARGE',
  'WEFT_AUTH',
] as const;

export type WeftErrorCode = (typeof ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/** The base of every error weft throws or rejects with. */
export class WeftError extends Error {
  override name = 'WeftError';
  readonly code: WeftErrorCode;

  constructor(code: WeftErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A value could not be cloned to another thread (functions, symbols, and the like). */
export class DataCloneError extends WeftError {
  override name = 'DataCloneError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEFT_DATA_CLONE', message, options);
  }
}

/** An argument of the wrong type or out of range. */
export class InvalidArgumentError extends WeftError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEFT_INVALID_ARG', message, options);
  }
}

/** Whether `err` is a weft error, optionally with the given code. */
export function isWeftError(err: unknown, code?: WeftErrorCode): err is WeftError {
  try {
    return err instanceof WeftError && (code === undefined || err.code === code);
  } catch {
    // A Proxy whose getPrototypeOf trap throws: not a weft error.
    return false;
  }
}

/**
 * Turns an error thrown by the native binding into a `WeftError` with the same code and message
 * (the native error is kept as `cause`). Anything that is not a native weft error passes through.
 */
export function fromNative(err: unknown): unknown {
  if (err instanceof WeftError || !(err instanceof Error)) return err;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code === 'string' && CODE_SET.has(code)) {
    return new WeftError(code as WeftErrorCode, err.message, { cause: err });
  }
  return err;
}
