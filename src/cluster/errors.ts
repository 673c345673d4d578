/**
 * The errors of weftjs/cluster, each a `WeftError` with its own code: a message over the servers'
 * `max_payload` (`MessageTooLargeError`, with the sizes), and helpers that make the others.
 */
import { WeftError } from '../errors.js';

/** A message, ask, reply or pool call is larger than the NATS servers accept (`max_payload`). */
export class MessageTooLargeError extends WeftError {
  override name = 'MessageTooLargeError';
  /** The encoded size in bytes. */
  readonly size: number;
  /** The servers' `max_payload` in bytes. */
  readonly limit: number;
  constructor(what: string, size: number, limit: number) {
    super('WEFT_MESSAGE_TOO_LARGE', `${what} is ${size} bytes encoded, over the NATS servers' max_payload of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}

/** This node has no connection to the servers (now, or any more). */
export function disconnected(what: string, cause?: unknown): WeftError {
  return new WeftError('WEFT_DISCONNECTED', what, cause === undefined ? undefined : { cause });
}
