/**
 * `ParCompileError`: a `par` closure uses something outside the compilable subset.
 */
import { WeftError } from '../errors.js';
import { type FileLocation, locateInFile } from './locate.js';

export type { FileLocation } from './locate.js';

/** Where in a closure's source (its `fn.toString()`) the unsupported construct starts. */
export interface SourcePosition {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;
}

/**
 * A `par` closure uses a construct that weft cannot compile to native code (code
 * `WEFT_PAR_COMPILE`). `construct` names it, `line`/`column` locate it in `source`, the closure's
 * source text as `fn.toString()` gives it, and `location` (when it can be found) in the file that
 * defines the closure: the original file when that file has a source map (TypeScript run through
 * tsx, for one), else the file as Node loaded it. The message names the file position.
 */
export class ParCompileError extends WeftError {
  override name = 'ParCompileError';
  readonly construct: string;
  readonly line: number;
  readonly column: number;
  readonly source: string;
  /** What would make the closure compile, when there is something to say. */
  readonly hint: string | undefined;
  /** The construct's position in the file that defines the closure, when known. */
  readonly location: FileLocation | undefined;

  constructor(construct: string, position: SourcePosition, source: string, hint?: string, location?: FileLocation) {
    super('WEFT_PAR_COMPILE', message(construct, position, source, hint, location));
    this.construct = construct;
    this.line = position.line;
    this.column = position.column;
    this.source = source;
    this.hint = hint;
    this.location = location;
  }
}

/**
 * `err` with the construct's position in the file that defines `fn` (see `locateInFile`), or
 * `err` itself when that position cannot be found. Only for errors about to reach the user: it
 * asks the inspector, which costs milliseconds.
 */
export function withFileLocation(err: ParCompileError, fn: unknown): ParCompileError {
  if (err.location !== undefined) return err;
  const location = locateInFile(fn, err.source, err.line, err.column);
  if (location === undefined) return err;
  return new ParCompileError(err.construct, { line: err.line, column: err.column }, err.source, err.hint, location);
}

function caretLine(text: string, column: number): string {
  const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  const caret = column - 1 <= shown.length ? `\n  ${shown.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ')}^` : '';
  return `\n  ${shown}${caret}`;
}

function message(
  construct: string,
  { line, column }: SourcePosition,
  source: string,
  hint: string | undefined,
  at: FileLocation | undefined,
): string {
  const why = hint === undefined ? '' : `: ${hint}`;
  if (at !== undefined) {
    return (
      `par cannot compile ${construct} at ${at.file}:${at.line}:${at.column}${why}` +
      (at.text === undefined ? '' : caretLine(at.text, at.column))
    );
  }
  const text = source.split('\n')[line - 1] ?? '';
  return `par cannot compile ${construct} (at ${line}:${column} of the closure)${why}${caretLine(text, column)}`;
}
