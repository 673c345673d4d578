/**
 * Command-line flags of the benches: a typed layer over node:util's parseArgs.
 *
 * A bench declares its flags (keys are the flag names, `--runs`, `--skip-rust`, ...) and gets back
 * their values with types carried through: a flag with a default is a `number`/`string`, one
 * without is `... | undefined`, a list flag is an array of its choices. Every bench gets `--help`
 * (`-h`), which prints a usage text made from the same declarations. A malformed command line
 * prints the reason and exits with status 2.
 *
 *   const { values: o } = parseBenchArgs({
 *     usage: 'npm run bench:x -- [flags]',
 *     flags: { runs: flags.runs({ default: 9, min: 5 }), quick: flags.quick(), out: flags.out() },
 *   });
 *   o.runs; // number
 *   o.out; // string | undefined
 */
import { parseArgs as nodeParseArgs } from 'node:util';

interface FlagBase {
  /** One line for --help. */
  help: string;
  /** The value's name in the usage text (`N`, `PATH`). */
  arg?: string;
}
/** Present or not. */
export interface BooleanFlag extends FlagBase {
  type: 'boolean';
}
/** Any text. */
export interface StringFlag extends FlagBase {
  type: 'string';
  default?: string;
  required?: boolean;
}
/** An integer of at least `min` (default 1). `env`: the default is taken from this environment variable when it is set. */
export interface IntFlag extends FlagBase {
  type: 'int';
  default?: number;
  min?: number;
  env?: string;
}
/** A number greater than 0 (seconds, ...). */
export interface NumberFlag extends FlagBase {
  type: 'number';
  default?: number;
}
/** A comma-separated subset of `choices`, returned in the order of `choices`; all of them by default. */
export interface ListFlag<C extends string = string> extends FlagBase {
  type: 'list';
  choices: readonly C[];
}
/** A comma-separated list of positive integers (`1e6,1e7` allowed), sorted. */
export interface SizesFlag extends FlagBase {
  type: 'sizes';
}
/** A regular expression. */
export interface RegExpFlag extends FlagBase {
  type: 'regexp';
}
export type Flag = BooleanFlag | StringFlag | IntFlag | NumberFlag | ListFlag | SizesFlag | RegExpFlag;

/** A positional argument: one of `choices` (any text without), required unless `optional`; `rest` takes all the remaining ones. */
export interface Positional {
  name: string;
  choices?: readonly string[];
  optional?: boolean;
  rest?: boolean;
}

/** The value a flag declaration parses to. */
export type FlagValue<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { type: 'list'; choices: readonly (infer C)[] }
    ? C[]
    : F extends { type: 'sizes' }
      ? number[] | undefined
      : F extends { type: 'regexp' }
        ? RegExp | undefined
        : F extends { type: 'string'; default: string } | { type: 'string'; required: true }
          ? string
          : F extends { type: 'string' }
            ? string | undefined
            : F extends { type: 'int' | 'number'; default: number }
              ? number
              : F extends { type: 'int' | 'number' }
                ? number | undefined
                : never;

export type FlagValues<F> = { -readonly [K in keyof F]: FlagValue<F[K]> };

type PositionalValue<P> = P extends { rest: true }
  ? P extends { choices: readonly (infer C)[] }
    ? C[]
    : string[]
  : P extends { choices: readonly (infer C)[] }
    ? P extends { optional: true }
      ? C | undefined
      : C
    : P extends { optional: true }
      ? string | undefined
      : string;
export type PositionalValues<P> = { -readonly [K in keyof P]: PositionalValue<P[K]> };

export interface ArgsSpec<F extends Record<string, Flag>, P extends readonly Positional[]> {
  /** The command line, e.g. `npm run bench:pool -- [flags]`. */
  usage: string;
  /** What the program does, printed under the usage line by --help. */
  description?: string;
  flags: F;
  positionals?: P;
  /** Default: process.argv.slice(2). */
  argv?: readonly string[];
}

/** Ready-made declarations of the flags that several benches share; each bench sets its own defaults. */
export const flags = {
  runs: <O extends Omit<IntFlag, 'type' | 'help'> & { help?: string }>(o: O) =>
    ({ help: 'timed runs of every case', arg: 'N', ...o, type: 'int' }) as const satisfies IntFlag,
  quick: (help = 'a smoke run: one run of smaller sizes (figures not comparable)') => ({ type: 'boolean', help }) as const,
  out: (help = 'where the JSON goes') => ({ type: 'string', arg: 'PATH', help }) as const,
  timeout: <O extends Omit<NumberFlag, 'type' | 'help'> & { help?: string }>(o: O) =>
    ({ help: 'seconds one child (one run) may take before it is killed', arg: 'S', ...o, type: 'number' }) as const satisfies NumberFlag,
  list: <const C extends string>(choices: readonly C[], help: string) => ({ type: 'list', arg: choices.join(','), choices, help }) as const,
};

/** A malformed command line (parseBenchArgs prints it and exits with status 2). */
export class UsageError extends Error {}

/** Parses the command line (or `spec.argv`); prints the usage and exits on --help, prints the reason and exits with 2 on a bad flag. */
export function parseBenchArgs<const F extends Record<string, Flag>, const P extends readonly Positional[] = []>(
  spec: ArgsSpec<F, P>,
): { values: FlagValues<F>; positionals: PositionalValues<P> } {
  try {
    const r = parseArgsOrThrow(spec);
    if (r === 'help') {
      process.stdout.write(usageText(spec));
      process.exit(0);
    }
    return r;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    exitUsage(err.message, spec.usage);
  }
}

/** Prints a bad command line's reason and the usage line, and exits with status 2: for checks a bench makes after parseBenchArgs. */
export function exitUsage(message: string, usage: string): never {
  process.stderr.write(`${message}\nusage: ${usage} (--help lists the flags)\n`);
  process.exit(2);
}

/** As parseBenchArgs, but returns 'help' for --help and throws a UsageError for a bad command line. */
export function parseArgsOrThrow<const F extends Record<string, Flag>, const P extends readonly Positional[] = []>(
  spec: ArgsSpec<F, P>,
): { values: FlagValues<F>; positionals: PositionalValues<P> } | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: [...(spec.argv ?? process.argv.slice(2))], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help) return 'help';
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) values[name] = convert(name, f, parsed.values[name]);
  return {
    values: values as FlagValues<F>,
    positionals: positionalValues(spec.positionals ?? [], parsed.positionals) as PositionalValues<P>,
  };
}

function convert(name: string, f: Flag, raw: string | boolean | undefined): unknown {
  const flag = `--${name}`;
  if (f.type === 'boolean') return raw === true;
  const text = raw as string | undefined;
  switch (f.type) {
    case 'string':
      if (text === undefined && f.required) throw new UsageError(`${flag} ${f.arg ?? 'VALUE'} is required`);
      return text ?? f.default;
    case 'int': {
      const min = f.min ?? 1;
      const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
      let source = flag;
      let t = text;
      if (t === undefined && f.env !== undefined && process.env[f.env]) {
        t = process.env[f.env]!;
        source = f.env;
      }
      if (t === undefined) return f.default;
      const n = Number(t);
      if (t.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`${source} must be ${what}, got ${JSON.stringify(t)}`);
      return n;
    }
    case 'number': {
      if (text === undefined) return f.default;
      const n = Number(text);
      if (text.trim() === '' || !(n > 0) || !Number.isFinite(n))
        throw new UsageError(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
      return n;
    }
    case 'list': {
      if (text === undefined) return [...f.choices];
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = items.filter((s) => !f.choices.includes(s));
      if (items.length === 0 || bad.length) {
        throw new UsageError(
          `${flag}: expected a comma-separated subset of ${f.choices.join(',')}${bad.length ? ` (not: ${bad.join(',')})` : ''}`,
        );
      }
      return f.choices.filter((c) => items.includes(c));
    }
    case 'sizes': {
      if (text === undefined) return undefined;
      const sizes = text.split(',').map((s) => Number(s.trim()));
      if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new UsageError(`${flag} takes positive integers, e.g. 1e6,1e7`);
      return sizes.sort((x, y) => x - y);
    }
    case 'regexp':
      if (text === undefined) return undefined;
      try {
        return new RegExp(text);
      } catch (err) {
        throw new UsageError(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
      }
  }
}

function positionalValues(specs: readonly Positional[], given: string[]): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  for (const p of specs) {
    const check = (v: string): string => {
      if (p.choices && !p.choices.includes(v))
        throw new UsageError(`${p.name} must be one of ${p.choices.join(', ')}, got ${JSON.stringify(v)}`);
      return v;
    };
    if (p.rest) {
      out.push(given.slice(i).map(check));
      i = given.length;
    } else if (i < given.length) out.push(check(given[i++]!));
    else if (p.optional) out.push(undefined);
    else throw new UsageError(`missing ${p.name}${p.choices ? ` (one of ${p.choices.join(', ')})` : ''}`);
  }
  if (i < given.length) throw new UsageError(`unexpected argument${given.length - i > 1 ? 's' : ''} ${given.slice(i).join(' ')}`);
  return out;
}

/** The --help text of a spec. */
export function usageText(spec: ArgsSpec<Record<string, Flag>, readonly Positional[]>): string {
  const rows: [string, string][] = [];
  for (const p of spec.positionals ?? []) {
    const name = p.rest ? `${p.name}...` : p.name;
    rows.push([p.optional || p.rest ? `[${name}]` : name, p.choices ? `one of ${p.choices.join(', ')}` : '']);
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    const arg = f.type === 'boolean' ? '' : ` ${f.arg ?? (f.type === 'int' ? 'N' : f.type === 'sizes' ? 'N,N' : 'VALUE')}`;
    const notes: string[] = [];
    if (f.type === 'int' && f.min !== undefined && f.min > 1) notes.push(`at least ${f.min}`);
    if (f.type === 'int' && f.env !== undefined) notes.push(`default: $${f.env}, else ${f.default ?? 'none'}`);
    else if ((f.type === 'int' || f.type === 'number' || f.type === 'string') && f.default !== undefined)
      notes.push(`default ${f.default}`);
    else if (f.type === 'list') notes.push('default: all');
    rows.push([`--${name}${arg}`, notes.length ? `${f.help} (${notes.join('; ')})` : f.help]);
  }
  rows.push(['-h, --help', 'this text']);
  const width = Math.min(32, Math.max(...rows.map(([l]) => l.length)));
  const indent = ' '.repeat(width + 4);
  const lines = rows.map(([l, h]) => {
    const text = wrap(h, 100 - indent.length).join(`\n${indent}`);
    return l.length > width ? `  ${l}\n${indent}${text}` : `  ${l.padEnd(width)}  ${text}`.trimEnd();
  });
  const description = spec.description ? `\n${wrap(spec.description, 100).join('\n')}\n` : '';
  return `usage: ${spec.usage}\n${description}\n${lines.join('\n')}\n`;
}

/** `text` in lines of at most `width` characters (a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}
