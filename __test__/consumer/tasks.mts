// The task module of the consumer fixture's pool (copied as tasks.ts, like app.mts).
import { createHash } from 'node:crypto';

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export async function digest(text: string): Promise<string> {
  return createHash('sha256').update(text).digest('hex');
}

export function byteLength(buffer: ArrayBuffer): number {
  return buffer.byteLength;
}

/** Not a function: not a task. */
export const version = '1';
