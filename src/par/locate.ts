/**
 * Where a `par` closure's unsupported construct is in the user's file, for `ParCompileError`.
 *
 * A closure arrives as a function object; the compiler sees only its text (`fn.toString()`), so
 * its positions are relative to that text, which under a TypeScript loader (tsx, esbuild) is
 * compiled, often minified, code. On the error path only (never when a closure compiles), this
 * asks V8 through `node:inspector` where the function is (`[[FunctionLocation]]`: script id,
 * line, column), reads the script's URL, source and source map (`Debugger.scriptParsed`,
 * `Debugger.getScriptSource`), adds the construct's offset within the function text and maps the
 * result through the source map (`node:module`'s `SourceMap`) to the original file. Without a
 * source map it reports the generated file's line and column. Anything that does not work out
 * (no inspector, a function made by `new Function` or `eval`, a source map that cannot be read)
 * gives `undefined`: the error then keeps its closure-relative position.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A position in a file: 1-based line and column (UTF-16 code units). */
export interface FileLocation {
  /** The file's path (or its URL when it is not a file: URL). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Whether the position was mapped through a source map to the original (e.g. .ts) file. */
  readonly mapped: boolean;
  /** The text of that line, when known (for the error message). */
  readonly text?: string | undefined;
}

interface ScriptInfo {
  url: string;
  source: string;
  lineStarts: number[];
  sourceMapURL: string;
  map: SourceMapLike | null | undefined; // undefined: not loaded yet; null: none or unreadable
}

interface SourceMapEntry {
  generatedLine?: number;
  generatedColumn?: number;
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
}

interface SourceMapLike {
  readonly payload: { sources?: string[]; sourcesContent?: Array<string | null>; sourceRoot?: string };
  findEntry(line: number, column: number): SourceMapEntry;
}

interface InspectorSession {
  connect(): void;
  disconnect(): void;
  post(method: string, params: object, callback: (err: Error | null, result: unknown) => void): void;
  on(event: string, listener: (message: { params: Record<string, unknown> }) => void): void;
}

/** A few scripts' sources and maps, by V8 script id (ids are never reused in an isolate). */
const scripts = new Map<string, ScriptInfo | null>();
const SCRIPTS_MAX = 8;

/** acorn's line breaks (the compiler's positions count lines this way) and V8's. */
const LINE_BREAK = /\r\n?|\n|\u2028|\u2029/g;

function lineStartsOf(text: string): number[] {
  const starts = [0];
  LINE_BREAK.lastIndex = 0;
  for (let m: RegExpExecArray | null; (m = LINE_BREAK.exec(text)) !== null; ) starts.push(m.index + m[0].length);
  return starts;
}

/** The offset in `text` of a 1-based line and column. */
function offsetOf(text: string, line: number, column: number): number {
  const starts = lineStartsOf(text);
  return (starts[Math.min(line, starts.length) - 1] ?? 0) + column - 1;
}

/** The 0-based line and column of `offset` in a text whose line starts are `starts`. */
function positionAt(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, column: offset - starts[lo]! };
}

function lineText(text: string, line: number): string | undefined {
  const starts = lineStartsOf(text);
  const start = starts[line - 1];
  if (start === undefined) return undefined;
  const next = starts[line];
  return text.slice(start, next === undefined ? text.length : next).replace(/(\r\n?|\n|\u2028|\u2029)$/, '');
}

function toPath(url: string): string {
  if (url.startsWith('file:')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}

function requireOptional<T>(id: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id) as T;
  } catch {
    return undefined;
  }
}

/** Posts a command on an inspector session of this thread; the reply comes synchronously. */
function post<T>(session: InspectorSession, method: string, params: object = {}): T {
  let done = false;
  let error: Error | null = null;
  let result: unknown;
  session.post(method, params, (err, res) => {
    done = true;
    error = err;
    result = res;
  });
  if (!done) throw new Error(`inspector: ${method} did not answer synchronously`);
  if (error !== null) throw error;
  return result as T;
}

let keyCount = 0;

/** V8's `[[FunctionLocation]]` of `fn` and the script it is in, or undefined. */
function functionLocation(fn: object): { script: ScriptInfo; line: number; column: number } | undefined {
  if (process.features?.inspector === false) return undefined;
  const inspector = requireOptional<{ Session: new () => InspectorSession }>('node:inspector');
  if (inspector === undefined) return undefined;
  const session = new inspector.Session();
  session.connect();
  const key = `__weftParLocate${process.pid}_${++keyCount}`;
  Object.defineProperty(globalThis, key, { value: fn, configurable: true, enumerable: false, writable: true });
  try {
    const { result } = post<{ result: { objectId?: string } }>(session, 'Runtime.evaluate', {
      expression: `globalThis[${JSON.stringify(key)}]`,
    });
    if (result.objectId === undefined) return undefined;
    const props = post<{ internalProperties?: Array<{ name: string; value?: { value?: unknown } }> }>(session, 'Runtime.getProperties', {
      objectId: result.objectId,
      ownProperties: true,
    });
    const loc = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as
      | { scriptId: string; lineNumber: number; columnNumber: number }
      | undefined;
    if (loc === undefined) return undefined;
    let script = scripts.get(loc.scriptId);
    if (script === undefined) {
      let parsed: Record<string, unknown> | undefined;
      session.on('Debugger.scriptParsed', (m) => {
        if (m.params.scriptId === loc.scriptId) parsed = m.params;
      });
      post(session, 'Debugger.enable');
      try {
        const { scriptSource } = post<{ scriptSource: string }>(session, 'Debugger.getScriptSource', { scriptId: loc.scriptId });
        const url = typeof parsed?.url === 'string' ? parsed.url : '';
        script =
          url === ''
            ? null // new Function, eval: no file to point at
            : {
                url,
                source: scriptSource,
                lineStarts: lineStartsOf(scriptSource),
                sourceMapURL: typeof parsed?.sourceMapURL === 'string' ? parsed.sourceMapURL : '',
                map: undefined,
              };
      } finally {
        post(session, 'Debugger.disable');
      }
      if (scripts.size >= SCRIPTS_MAX) scripts.delete(scripts.keys().next().value as string);
      scripts.set(loc.scriptId, script);
    }
    if (script === null) return undefined;
    return { script, line: loc.lineNumber, column: loc.columnNumber };
  } finally {
    delete (globalThis as Record<string, unknown>)[key];
    session.disconnect();
  }
}

/** The script's source map: inline (data: URL), a file beside it, or what Node registered. */
function sourceMapOf(script: ScriptInfo): SourceMapLike | null {
  if (script.map !== undefined) return script.map;
  script.map = null;
  const mod = requireOptional<{
    SourceMap?: new (payload: object) => SourceMapLike;
    findSourceMap?: (path: string) => SourceMapLike | undefined;
  }>('node:module');
  if (mod?.SourceMap === undefined) return null;
  let ref = script.sourceMapURL;
  if (ref === '') {
    // V8 reports the last `//# sourceMappingURL=` comment; read it ourselves if it did not.
    const m = /\/\/[#@]\s*sourceMappingURL=(\S+)\s*$/.exec(script.source.slice(-1_000_000));
    ref = m?.[1] ?? '';
  }
  let payload: object | undefined;
  try {
    if (ref.startsWith('data:')) {
      const comma = ref.indexOf(',');
      const meta = ref.slice(5, comma);
      const data = ref.slice(comma + 1);
      const text = meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
      payload = JSON.parse(text) as object;
    } else if (ref !== '') {
      const base = toPath(script.url);
      const file = ref.startsWith('file:') ? toPath(ref) : isAbsolute(ref) ? ref : resolve(dirname(base), ref);
      payload = JSON.parse(readFileSync(file, 'utf8')) as object;
    }
  } catch {
    payload = undefined;
  }
  if (payload === undefined) {
    // A map Node itself keeps (--enable-source-maps, or module.register'ed loaders).
    try {
      const found = mod.findSourceMap?.(script.url) ?? mod.findSourceMap?.(toPath(script.url));
      if (found !== undefined) script.map = found;
    } catch {
      /* none */
    }
    return script.map;
  }
  try {
    script.map = new mod.SourceMap(payload);
  } catch {
    script.map = null;
  }
  return script.map;
}

/** The original file of a source map entry, as a path when it is a file. */
function originalFile(script: ScriptInfo, map: SourceMapLike, source: string): string {
  if (source.startsWith('file:')) return toPath(source);
  if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) return source;
  if (isAbsolute(source)) return source;
  const root = map.payload.sourceRoot ?? '';
  return resolve(dirname(toPath(script.url)), root, source);
}

/**
 * Where the construct at `line`:`column` (1-based) of `fn`'s source text `src` is in the file
 * that defines `fn`, or undefined when that cannot be found out.
 */
export function locateInFile(fn: unknown, src: string, line: number, column: number): FileLocation | undefined {
  if (typeof fn !== 'function') return undefined;
  try {
    const where = functionLocation(fn);
    if (where === undefined) return undefined;
    const { script } = where;
    // The function's text is a slice of its script: find the slice that covers V8's position.
    const fnAt = (script.lineStarts[where.line] ?? 0) + where.column;
    let start = script.source.lastIndexOf(src, fnAt);
    if (start < 0 || start + src.length <= fnAt) start = script.source.indexOf(src, fnAt);
    if (start < 0) return undefined;
    const offset = start + offsetOf(src, line, column);
    const gen = positionAt(script.lineStarts, offset);
    const map = sourceMapOf(script);
    if (map !== null) {
      const entry = map.findEntry(gen.line, gen.column);
      if (
        entry.originalSource !== undefined &&
        entry.originalLine !== undefined &&
        entry.originalColumn !== undefined &&
        entry.generatedLine === gen.line
      ) {
        // Mappings start at tokens; within one, the original text runs on at the same pace.
        const within = gen.column - (entry.generatedColumn ?? gen.column);
        const origLine = entry.originalLine + 1;
        const origColumn = entry.originalColumn + within + 1;
        const file = originalFile(script, map, entry.originalSource);
        const sources = map.payload.sources ?? [];
        const index = sources.findIndex((s) => s === entry.originalSource || originalFile(script, map, s) === file);
        let content = index >= 0 ? map.payload.sourcesContent?.[index] : undefined;
        if (typeof content !== 'string') {
          try {
            content = readFileSync(file, 'utf8');
          } catch {
            content = undefined;
          }
        }
        return {
          file,
          line: origLine,
          column: origColumn,
          mapped: true,
          text: typeof content === 'string' ? lineText(content, origLine) : undefined,
        };
      }
    }
    return {
      file: toPath(script.url),
      line: gen.line + 1,
      column: gen.column + 1,
      mapped: false,
      text: lineText(script.source, gen.line + 1),
    };
  } catch {
    return undefined;
  }
}
