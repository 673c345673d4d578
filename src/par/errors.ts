/**
 * `ParCompileError`: a `par` closure uses something outside the compilable subset.
 */
import { WeftError } from '../errors.js';

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
 * source text as `fn.toString()` gives it.
 */
export class ParCompileError extends WeftError {
  override name = 'ParCompileError';
  readonly construct: string;
  readonly line: number;
  readonly column: number;
  readonly source: string;

  constructor(construct: string, position: SourcePosition, source: string, hint?: string) {
    super('WEFT_PAR_COMPILE', message(construct, position, source, hint));
    this.construct = construct;
    this.line = position.line;
    this.column = position.column;
    this.source = source;
  }
}

function message(construct: string, { line, column }: SourcePosition, source: string, hint?: string): string {
  const text = source.split('\n')[line - 1] ?? '';
  const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  const caret = column - 1 <= shown.length ? `\n  ${' '.repeat(Math.max(0, column - 1))}^` : '';
  return (
    `par cannot compile ${construct} (at ${line}:${column} of the closure)` +
    (hint === undefined ? '' : `: ${hint}`) +
    `\n  ${shown}${caret}`
  );
}
