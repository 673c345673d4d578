/**
 * Constants and small helpers shared by the main thread and the pool's workers. The record
 * layouts are documented in crate/core/src/pool/frame.rs; payloads use src/internal/wire.ts.
 *
 *   task payload:   u16 name id | u8 flags | values (the arguments)
 *   result payload: u8 status   | value
 */
import { InvalidArgumentError, WeftError } from '../errors.js';
import { nearestName } from '../internal/options.js';
import type { WireReader, WireWriter } from '../internal/wire.js';

export const MAIN_ORIGIN = 0;

export const KIND_TASK = 1;
export const KIND_COMPLETION = 2;
export const KIND_ABORT = 3;
/** A wake-up for an actor host on this worker: u32 system id, u32 process token. */
export const KIND_SIGNAL = 4;

export const FLAG_FAILED = 1;
export const FLAG_LOCAL = 2;

/** Task flags. */
export const TASK_ARGS_ON_PORT = 1; // arguments travel through the worker's side port (transfer)
export const TASK_MAP = 2; // a map chunk: args = [items]; the task runs once per item

export const STATUS_OK = 0;
export const STATUS_ERROR = 1;

/** The id of a task name (ids start at 0 and are given per pool, below 2^16). */
export type NameId = number;

/** Where a task name was looked up, for error messages: the pool's name and its module's URL. */
export interface TaskModuleLabel {
  pool: string;
  module: string;
}

/** At most this many exports are listed in an unknown-task message. */
const LISTED_EXPORTS = 40;

/** `WEFT_INVALID_ARG` for a task name the module does not export, with the nearest one. */
export function unknownTaskError(label: TaskModuleLabel, name: string, exports: readonly string[]): InvalidArgumentError {
  const near = nearestName(name, exports);
  const listed =
    exports.length === 0
      ? '(none)'
      : exports.length > LISTED_EXPORTS
        ? `${exports.slice(0, LISTED_EXPORTS).join(', ')} and ${exports.length - LISTED_EXPORTS} more`
        : exports.join(', ');
  return new InvalidArgumentError(
    `${label.pool}: the task module has no export named ${JSON.stringify(name)}` +
      `${near !== undefined ? ` (did you mean ${JSON.stringify(near)}?)` : ''} ` +
      `(${label.module}); its function exports are: ${listed}`,
  );
}

/** `WEFT_INVALID_ARG` for a name refused because too many came before the module was known. */
export function tooManyTaskNamesError(label: TaskModuleLabel, name: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${label.pool}: task ${JSON.stringify(name)} refused: too many distinct task names were used before a worker ` +
      `loaded the task module (${label.module}), so they could not be checked against its exports`,
  );
}

/** Why a worker thread ended, for WEFT_WORKER_EXIT messages. */
export function workerExitError(poolName: string, slot: number, detail: string): WeftError {
  return new WeftError('WEFT_WORKER_EXIT', `${poolName}: worker ${slot} exited while running this task (${detail})`);
}

/** Writes a failed result (status + error value); falls back to a plain error if unclonable. */
export function writeError(w: WireWriter, err: unknown): void {
  w.u8(STATUS_ERROR);
  try {
    w.value(err);
  } catch {
    const e = new Error(err instanceof Error ? err.message : String(err));
    if (err instanceof Error) {
      e.name = err.name;
      if (err.stack !== undefined) e.stack = err.stack;
    }
    w.value(e);
  }
}

/** Reads a result: returns [ok, value]. */
export function readResult(r: WireReader): [boolean, unknown] {
  const status = r.u8();
  return [status === STATUS_OK, r.value()];
}

/** Milliseconds since an arbitrary origin, as a cheap clock for run times. */
export const now: () => number = () => performance.now();
