/**
 * Finding a Pool's task module, and making sure its workers can load it when it is TypeScript.
 *
 * One rule, the same under tsx, under Node's type stripping and for compiled JavaScript:
 *
 * 1. `module` is a file URL (`new URL('./tasks.js', import.meta.url)`, the form to prefer: it is
 *    relative to the file that names it), a `file:` URL string, or a path. A relative path is
 *    relative to the process's working directory (`process.cwd()`), like `fs` paths.
 * 2. If that file exists, it is the task module.
 * 3. If it does not, its TypeScript/JavaScript sibling is: the same name with `.js` ↔ `.ts`,
 *    `.mjs` ↔ `.mts` or `.cjs` ↔ `.cts`. So `./tasks.js` finds `tasks.ts` when the program runs
 *    from source (tsx, Node's type stripping), and `tasks.js` once compiled; `./tasks.ts` finds
 *    the compiled `tasks.js` too. `pool.module` says which file was loaded.
 * 4. Neither exists: `new Pool` throws `WEFT_INVALID_ARG`, naming both files and, for a relative
 *    path, the directory it was resolved against.
 * 5. A TypeScript task module (`.ts`, `.mts`, `.cts`) needs a process that can load TypeScript:
 *    tsx (`tsx main.ts`, `node --import tsx main.ts`), Node's type stripping (22.6+ with
 *    `--experimental-strip-types`; on by default since 22.18 and 23.6), or another loader given
 *    with `--import`/`--require`/`--loader`. Without any of them `new Pool` throws
 *    `WEFT_INVALID_ARG` saying how to run it.
 *
 * Workers start with the process's flags (Node passes `execArgv` on, and `NODE_OPTIONS` applies
 * to them too), so `--import tsx`, tsx CLI's preloads and `--experimental-strip-types` reach them.
 * tsx's ESM hooks do not always follow: tsx registers them only on the main thread on Node
 * versions before 22.22.3 / 24.11.1 (Node 20 included), where hooks are per thread. A worker
 * whose module is TypeScript while the main thread runs tsx therefore checks whether a resolver
 * maps `.js` to `.ts` in its own thread, and registers tsx's ESM hooks (from the same tsx
 * installation) when none does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../errors.js';

/** The task module a pool loads, as found by {@link resolveTaskModule}. */
export interface TaskModuleLocation {
  /** The file URL of the module the workers import. */
  url: string;
  /** Its path. */
  path: string;
  /** The path the caller named (before the sibling rule). */
  named: string;
  /** Whether the named file was missing and its sibling was taken. */
  sibling: boolean;
  /** Whether it is a TypeScript file (`.ts`, `.mts`, `.cts`). */
  typescript: boolean;
  /**
   * For a TypeScript module in a process that runs tsx: the file URL of tsx's `esm/api` entry,
   * for workers where tsx's ESM hooks are not active.
   */
  tsx?: string;
  /**
   * The URL whose resolution tells a worker whether a `.js` → `.ts` resolver is active: the
   * module's `.js` name when no such file exists (then it resolves to the module itself only
   * through a TypeScript resolver). Absent when that file exists (the check cannot tell).
   */
  probe?: string;
}

const SIBLING: Readonly<Record<string, string>> = {
  '.js': '.ts',
  '.ts': '.js',
  '.mjs': '.mts',
  '.mts': '.mjs',
  '.cjs': '.cts',
  '.cts': '.cjs',
};
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

const HOW_TO_RUN_TYPESCRIPT =
  'run the program with tsx (`tsx main.ts` or `node --import tsx main.ts`) or on Node >= 22.6 with ' +
  '--experimental-strip-types (Node 22.18+ and 23.6+ strip types by default), ' +
  'or point `module` at the compiled JavaScript';

/** `.js` ↔ `.ts`, `.mjs` ↔ `.mts`, `.cjs` ↔ `.cts`; undefined for other extensions. */
export function siblingOf(path: string): string | undefined {
  const ext = extname(path);
  const other = SIBLING[ext];
  return other === undefined ? undefined : path.slice(0, -ext.length) + other;
}

export function isTypeScriptPath(path: string): boolean {
  return TYPESCRIPT.has(extname(path.split(/[?#]/)[0] ?? path));
}

/** Applies the rule above (see this file's header); throws `WEFT_INVALID_ARG` when nothing fits. */
export function resolveTaskModule(module: string | URL): TaskModuleLocation {
  let named: string;
  /** For a plain relative path: how it was resolved (for the error when it is missing). */
  let resolvedFrom: string | undefined;
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new InvalidArgumentError(`module must be a file URL, got ${module.href}`);
    named = fileURLToPath(module);
  } else if (typeof module === 'string' && module.length > 0) {
    if (module.startsWith('file:')) named = fileURLToPath(module);
    else if (isAbsolute(module)) named = module;
    else {
      named = resolve(process.cwd(), module);
      resolvedFrom = `${JSON.stringify(module)}, resolved against the process's working directory ${process.cwd()}`;
    }
  } else {
    throw new InvalidArgumentError(
      "Pool needs `module`: the path or file URL of the task module, e.g. new URL('./tasks.js', import.meta.url)",
    );
  }

  let path = named;
  let sibling = false;
  const other = siblingOf(named);
  if (!existsSync(named)) {
    if (other === undefined || !existsSync(other)) {
      throw new InvalidArgumentError(
        `the task module ${named} does not exist${other !== undefined ? `, nor does ${other}` : ''}` +
          `${resolvedFrom !== undefined ? ` (${resolvedFrom})` : ''}. ` +
          `To name a file beside the module that creates the pool, pass new URL('./${basenameOf(named)}', import.meta.url)`,
      );
    }
    path = other;
    sibling = true;
  }

  const location: TaskModuleLocation = { url: pathToFileURL(path).href, path, named, sibling, typescript: isTypeScriptPath(path) };
  if (location.typescript) {
    const support = typeScriptSupport();
    if (!support.native && support.tsx === undefined && !support.loader) {
      throw new InvalidArgumentError(
        `the task module ${path}${sibling ? ` (found for ${named})` : ''} is TypeScript, and this process ` +
          `(Node ${process.version}, no TypeScript loader) cannot load TypeScript: ${HOW_TO_RUN_TYPESCRIPT}`,
      );
    }
    if (support.tsx !== undefined) {
      location.tsx = support.tsx;
      const js = siblingOf(path);
      if (js !== undefined && !existsSync(js)) location.probe = pathToFileURL(js).href;
    }
  }
  return location;
}

function basenameOf(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  // Show the name a TypeScript program writes (its .js form).
  return TYPESCRIPT.has(extname(base)) ? (siblingOf(base) ?? base) : base;
}

/**
 * A hint for a worker's failure to load a TypeScript module (appended to the `WEFT_INVALID_ARG`
 * that names it), or undefined.
 */
export function loadFailureHint(location: TaskModuleLocation, code: string | undefined, message: string): string | undefined {
  if (!location.typescript) return undefined;
  switch (code) {
    case 'ERR_UNKNOWN_FILE_EXTENSION':
      return `the worker cannot load TypeScript: ${HOW_TO_RUN_TYPESCRIPT}`;
    case 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX':
    case 'ERR_INVALID_TYPESCRIPT_SYNTAX':
      return (
        "Node's type stripping accepts erasable TypeScript only (no enum, namespace or parameter properties): " +
        'run the program with tsx, or on Node with --experimental-transform-types'
      );
    case 'ERR_MODULE_NOT_FOUND': {
      // Type stripping resolves imports as written: './helper.js' does not find helper.ts.
      const missing = /Cannot find module '([^']+)'/.exec(message)?.[1];
      const ts = missing !== undefined ? siblingOf(missing) : undefined;
      if (ts === undefined || !isTypeScriptPath(ts) || !existsSync(ts)) return undefined;
      return (
        `${missing} does not exist but ${ts} does: Node's type stripping does not map .js imports to .ts files; ` +
        'import TypeScript files by their .ts name (tsconfig: allowImportingTsExtensions with ' +
        'rewriteRelativeImportExtensions), or run the program with tsx'
      );
    }
    default:
      return undefined;
  }
}

interface TypeScriptSupport {
  /** Node strips (or transforms) types itself. */
  native: boolean;
  /** tsx's `esm/api` entry, when the process was started with tsx. */
  tsx: string | undefined;
  /** Some other preload or loader that may handle TypeScript. */
  loader: boolean;
}

const PRELOAD_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** The preload/loader flags of the process: `execArgv`, then `NODE_OPTIONS`. */
function preloads(): Array<{ flag: string; value: string }> {
  const args = [...process.execArgv, ...splitNodeOptions(process.env.NODE_OPTIONS ?? '')];
  const out: Array<{ flag: string; value: string }> = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    if (!PRELOAD_FLAGS.has(flag)) continue;
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : args[++i];
    if (value !== undefined) out.push({ flag, value });
  }
  return out;
}

/** Flags that take a value (the next argument, or `=value`) and change how modules load. */
const LOADER_FLAGS_WITH_VALUE = new Set([...PRELOAD_FLAGS, '--conditions', '-C', '--experimental-default-type']);
/** Switches that change how modules load (a `--no-` form too). */
const LOADER_SWITCHES = [
  '--experimental-strip-types',
  '--experimental-transform-types',
  '--experimental-detect-module',
  '--experimental-require-module',
  '--experimental-vm-modules',
  '--enable-source-maps',
];

/**
 * The entries of this process's `execArgv` that load modules or change how they load (preloads,
 * loaders, type stripping, conditions), in order with their values: what a pool's own
 * `execArgv` keeps in front of the user's, so that TypeScript task modules still load.
 */
export function loaderExecArgv(): string[] {
  const args = process.execArgv;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    if (LOADER_FLAGS_WITH_VALUE.has(flag)) {
      out.push(arg);
      if (eq < 0 && i + 1 < args.length) out.push(args[++i]!);
    } else if (LOADER_SWITCHES.some((s) => flag === s || flag === `--no-${s.slice(2)}`)) {
      out.push(arg);
    }
  }
  return out;
}

/** NODE_OPTIONS is split on spaces, with double quotes and backslash escapes (as Node does). */
function splitNodeOptions(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted && i + 1 < s.length) {
      cur += s[++i];
    } else if (c === '"') {
      quoted = !quoted;
      any = true;
    } else if (c === ' ' && !quoted) {
      if (any || cur.length > 0) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
    }
  }
  if (any || cur.length > 0) out.push(cur);
  return out;
}

function hasFlag(name: string): boolean {
  return [...process.execArgv, ...splitNodeOptions(process.env.NODE_OPTIONS ?? '')].some((a) => a === name || a.startsWith(`${name}=`));
}

let cachedSupport: TypeScriptSupport | undefined;

/** What lets this process load TypeScript (computed once: flags do not change). */
export function typeScriptSupport(): TypeScriptSupport {
  if (cachedSupport !== undefined) return cachedSupport;
  const features = process.features as { typescript?: string | false };
  const native =
    typeof features.typescript === 'string' ||
    // Node 22.6–22.9 has the flag but not process.features.typescript.
    (features.typescript === undefined && (hasFlag('--experimental-strip-types') || hasFlag('--experimental-transform-types')));
  let tsx: string | undefined;
  let loader = false;
  for (const { value } of preloads()) {
    loader = true;
    tsx ??= tsxEsmApi(value);
  }
  // A CommonJS hook registered by the program itself (ts-node/register, tsx/cjs/api, ...).
  if (!native && '.ts' in createRequire(__filename).extensions) loader = true;
  cachedSupport = { native, tsx, loader };
  return cachedSupport;
}

/**
 * If `specifier` (a preload flag's value) is tsx — `tsx`, `tsx/esm`, `tsx/cjs`, or a path/URL of
 * one of tsx's own entry files, as the tsx CLI passes them — the file URL of the `esm/api` entry
 * of that same tsx installation.
 */
function tsxEsmApi(specifier: string): string | undefined {
  let from: string;
  if (/^tsx(?:\/(?:esm|cjs|preflight))?$/.test(specifier)) {
    // Node resolves bare preload specifiers from the working directory.
    from = join(process.cwd(), 'noop.js');
  } else {
    let path: string;
    try {
      path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(process.cwd(), specifier);
    } catch {
      return undefined;
    }
    if (!/[\\/]tsx[\\/]dist[\\/](?:loader\.mjs|preflight\.cjs|esm[\\/]index\.mjs|cjs[\\/]index\.cjs)$/.test(path)) return undefined;
    from = path;
  }
  try {
    const pkgPath = createRequire(from).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> };
    const entry = (pkg.exports?.['./esm/api'] as { import?: { default?: string } } | undefined)?.import?.default;
    if (typeof entry !== 'string') return undefined;
    const file = join(dirname(pkgPath), entry);
    return existsSync(file) ? pathToFileURL(file).href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * In a worker, before it imports a TypeScript task module: registers tsx's ESM hooks in this
 * thread unless a resolver that maps `.js` to `.ts` is active here already (tsx registered by the
 * worker's own `--import`, on Node versions where tsx does that).
 */
export async function ensureTypeScriptLoader(location: { url: string; tsx: string | undefined; probe: string | undefined }): Promise<void> {
  if (location.tsx === undefined) return;
  if (location.probe !== undefined) {
    try {
      // A module of its own: import.meta.resolve runs this thread's resolve hooks.
      const probeModule: string = 'data:text/javascript,export default (s) => import.meta.resolve(s)';
      const { default: resolveHere } = (await import(probeModule)) as { default: (s: string) => string };
      if (resolveHere(location.probe) === location.url) return;
    } catch {
      // Cannot tell: register.
    }
  }
  const api = (await import(location.tsx)) as { register: () => unknown };
  api.register();
}
