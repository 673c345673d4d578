/**
 * `defineActor`: a typed behaviour, and the per-thread registry that finds it by key.
 *
 * An actor spawned on a pool worker is built there from its definition, so every thread must be
 * able to find the same definition: the key is the definition's `name` if it has one, else a hash
 * of the source text of its functions (the same on every thread that loads the module). The
 * worker finds it because the pool's task module (or something it imports) defines it; the
 * registry lives on `globalThis`, so it is shared even when the module loaded its own copy of weft.
 */
import { InvalidArgumentError } from '../errors.js';
import { describe, thrownMessage } from '../internal/describe.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import {
  BACKOFF_OPTIONS,
  SUPERVISION_OPTIONS,
  type ActorContext,
  type ActorDefinition,
  type AnyActorDefinition,
  type Handlers,
  type SupervisionOptions,
} from './types.js';

export interface ActorSpec<A, S, H extends Handlers<S>> {
  /** A stable identity across threads (default: a hash of the functions' source). Give one when
   * two definitions in the process have the same source text. */
  name?: string;
  /**
   * Makes the initial state from the spawn argument (may be async). Its `ctx` is untyped (the
   * state is not known yet); annotate it (`ctx: ActorContext`) when `init` uses it, so that
   * TypeScript still infers the state from the return value.
   */
  init: (arg: A, ctx: ActorContext) => S | Promise<S>;
  /** One handler per message type: `(state, message, ctx) => reply` (may be async). */
  handlers: H;
  /** Runs after `init`, before the first message (may be async). */
  onStart?: (state: NoInfer<S>, ctx: ActorContext<NoInfer<S>, NoInfer<H>>) => unknown;
  /** Runs when the actor stops or before it restarts (may be async). */
  onStop?: (state: NoInfer<S>, ctx: ActorContext<NoInfer<S>, NoInfer<H>>) => unknown;
  /** The default supervision of actors of this definition (spawn options override it). */
  supervision?: SupervisionOptions;
}

/**
 * The keys `defineActor` accepts: anything else (`onstart`, `handler`) throws `WEFT_INVALID_ARG`
 * naming the nearest valid one. Must name every key of `ActorSpec` (checked at compile time by
 * `optionNames`).
 */
export const ACTOR_SPEC_KEYS = optionNames<ActorSpec<never, unknown, Handlers<unknown>>>()([
  'name',
  'init',
  'handlers',
  'onStart',
  'onStop',
  'supervision',
]);
const ACTOR_SPEC_KEY_SET: ReadonlySet<string> = new Set(ACTOR_SPEC_KEYS);
const SUPERVISION_OPTION_SET: ReadonlySet<string> = new Set(SUPERVISION_OPTIONS);
const BACKOFF_OPTION_SET: ReadonlySet<string> = new Set(BACKOFF_OPTIONS);

/**
 * Checks that `s` (supervision options, as in `defineActor` or `spawn`) is an object or undefined
 * and that it and its `backoff` have only known option names (`WEFT_INVALID_ARG` otherwise).
 * `what` names it in the message (`'spawn options.supervision'`).
 */
export function checkSupervisionNames(s: unknown, what: string): SupervisionOptions | undefined {
  if (s === undefined) return undefined;
  if (s === null || typeof s !== 'object')
    throw new InvalidArgumentError(`${what} must be an object, got ${s === null ? 'null' : typeof s}`);
  const snapshot = checkOptionNames(s as SupervisionOptions, SUPERVISION_OPTION_SET, what);
  const backoff: unknown = snapshot.backoff;
  if (backoff === undefined) return snapshot;
  if (backoff === null || typeof backoff !== 'object') {
    throw new InvalidArgumentError(`${what}.backoff must be an object, got ${backoff === null ? 'null' : typeof backoff}`);
  }
  return {
    ...snapshot,
    backoff: checkOptionNames(backoff as NonNullable<SupervisionOptions['backoff']>, BACKOFF_OPTION_SET, `${what}.backoff`),
  };
}

const REGISTRY = Symbol.for('weft.actor.definitions');

function registry(): Map<string, AnyActorDefinition> {
  const g = globalThis as Record<symbol, unknown>;
  let r = g[REGISTRY] as Map<string, AnyActorDefinition> | undefined;
  if (r === undefined) {
    r = new Map();
    g[REGISTRY] = r;
  }
  return r;
}

/** FNV-1a over the UTF-16 code units, 52 bits (exact in a double), as base 36. */
function hash(text: string): string {
  let lo = 0x811c9dc5;
  let hi = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    lo = Math.imul(lo ^ c, 0x01000193) >>> 0;
    hi = Math.imul(hi ^ (c + i), 0x01000193) >>> 0;
  }
  return ((hi & 0xfffff) * 2 ** 32 + lo).toString(36);
}

function fingerprint(spec: ActorSpec<never, unknown, Handlers<unknown>>): string {
  // Function.prototype.toString itself: a function's own `toString` is the user's code (it may throw).
  const text = (f: unknown): string => (typeof f === 'function' ? Function.prototype.toString.call(f) : '');
  const parts = [text(spec.init), text(spec.onStart), text(spec.onStop)];
  for (const name of Object.keys(spec.handlers).sort()) parts.push(name, text(spec.handlers[name]));
  return `~${hash(parts.join('\u0000'))}`;
}

/**
 * Defines an actor behaviour. TypeScript derives its messages from the handlers:
 *
 * ```ts
 * export const Counter = defineActor({
 *   init: (start: number) => ({ n: start }),
 *   handlers: {
 *     add: (state, msg: { by: number }) => { state.n += msg.by; },
 *     get: (state) => state.n,
 *   },
 * });
 * // ref.tell({ type: 'add', by: 2 }); const n: number = await ref.ask({ type: 'get' });
 * ```
 *
 * Actors that run on pool workers must be defined in the pool's task module (or a module it
 * imports), so that the workers have the definition too.
 */
export function defineActor<A, S, H extends Handlers<S>>(given: ActorSpec<A, S, H>): ActorDefinition<A, S, H> {
  if (given === null || typeof given !== 'object') throw new InvalidArgumentError('defineActor expects an object');
  // Each field read once (a getter or Proxy trap that throws: WEFT_INVALID_ARG).
  const spec = checkOptionNames(given, ACTOR_SPEC_KEY_SET, 'defineActor spec');
  let handlers: Array<[string, unknown]>;
  try {
    handlers = spec.handlers !== null && typeof spec.handlers === 'object' ? Object.entries(spec.handlers) : [];
  } catch (err) {
    throw new InvalidArgumentError(`defineActor: reading the handlers threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
  if (typeof spec.init !== 'function') throw new InvalidArgumentError('defineActor needs an `init` function');
  if (spec.handlers === null || typeof spec.handlers !== 'object') {
    throw new InvalidArgumentError('defineActor needs `handlers`: an object of message handlers');
  }
  for (const [type, fn] of handlers) {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`the handler for ${JSON.stringify(type)} is not a function`);
  }
  for (const hook of ['onStart', 'onStop'] as const) {
    if (spec[hook] !== undefined && typeof spec[hook] !== 'function') throw new InvalidArgumentError(`${hook} must be a function`);
  }
  if (spec.name !== undefined && (typeof spec.name !== 'string' || spec.name.length === 0)) {
    throw new InvalidArgumentError('the name of a definition must be a non-empty string');
  }
  const supervision = checkSupervisionNames(spec.supervision, 'defineActor spec.supervision');
  const handlerTable = Object.fromEntries(handlers) as H;
  const key = spec.name ?? fingerprint({ ...spec, handlers: handlerTable } as unknown as ActorSpec<never, unknown, Handlers<unknown>>);
  const def: ActorDefinition<A, S, H> = Object.freeze({
    kind: 'weft:actor' as const,
    key,
    init: spec.init,
    handlers: Object.freeze(handlerTable),
    supervision,
    ...(spec.onStart !== undefined ? { onStart: spec.onStart } : {}),
    ...(spec.onStop !== undefined ? { onStop: spec.onStop } : {}),
  });
  const at = callerOf(defineActor);
  if (at !== undefined) definedAt.set(def, at);
  const reg = registry();
  // The first definition with a key wins (a module evaluated twice defines the same behaviour).
  if (!reg.has(key)) reg.set(key, def as unknown as AnyActorDefinition);
  return def;
}

/** Where each definition was made (`file:line`), for error messages. */
const definedAt = new WeakMap<object, string>();

/** The `file:line` of the code that called `fn`, from a stack trace (undefined if unknown). */
function callerOf(fn: (...args: never[]) => unknown): string | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, fn);
  const frame = holder.stack?.split('\n').find((l) => l.trimStart().startsWith('at '));
  if (frame === undefined) return undefined;
  let loc = frame.trim().slice(3);
  const paren = loc.indexOf(' (');
  if (paren >= 0 && loc.endsWith(')')) loc = loc.slice(paren + 2, -1);
  if (loc.startsWith('data:')) {
    // A module evaluated from a data: URL (a loader such as tsx): its path is a query parameter.
    const m = /[?&]filePath=([^&]+?)(?::\d+)*$/.exec(loc);
    if (m === null) return undefined;
    try {
      return decodeURIComponent(m[1]!);
    } catch {
      return undefined;
    }
  }
  loc = loc.replace(/:\d+$/, ''); // the column
  return loc.length > 300 ? `${loc.slice(0, 300)}…` : loc;
}

/** Where `def` was defined (`file:line`), if known. */
export function definitionSite(def: AnyActorDefinition): string | undefined {
  return definedAt.get(def);
}

/** Handlers by message type, per definition (a Map lookup beats a property walk on a frozen object). */
export type HandlerFn = (s: unknown, m: unknown, c: ActorContext) => unknown;
const handlerMaps = new WeakMap<object, Map<string, HandlerFn>>();
export function handlerMapOf(def: AnyActorDefinition): Map<string, HandlerFn> {
  let m = handlerMaps.get(def);
  if (m === undefined) {
    m = new Map();
    for (const [k, v] of Object.entries((def as unknown as { handlers: Record<string, unknown> }).handlers)) {
      if (typeof v === 'function') m.set(k, v as HandlerFn);
    }
    handlerMaps.set(def, m);
  }
  return m;
}

/** How error messages name a definition: its `name`, or its handlers (and where it was made). */
export function describeDefinition(key: string, shape: string, at?: string | null): string {
  const where = at ? ` defined at ${at}` : '';
  if (!key.startsWith('~')) return `actor definition ${JSON.stringify(key)}${where ? ` (${where.slice(1)})` : ''}`;
  const names = shape.length > 0 ? shape.split(',').join(', ') : 'none';
  return `the unnamed actor definition with handlers ${names}${where}`;
}

/** The text of the error for a message whose type the definition does not handle. */
export function unhandledText(actor: number, def: AnyActorDefinition, msg: unknown, what = 'message'): string {
  const handled = [...handlerMapOf(def).keys()].map((k) => JSON.stringify(k)).join(', ') || '(none)';
  const name = def.key.startsWith('~') ? '' : ` (${JSON.stringify(def.key)})`;
  let type: unknown;
  try {
    type = msg !== null && typeof msg === 'object' ? (msg as { type?: unknown }).type : undefined;
  } catch {
    // A Proxy whose trap throws: described as having no type.
  }
  if (typeof type !== 'string') {
    const got =
      typeof msg === 'function'
        ? 'a function'
        : msg === null || typeof msg !== 'object'
          ? describe(msg)
          : 'an object without a string `type`';
    return `a ${what} to actor ${actor}${name} must be an object with a string \`type\`, got ${got}; it handles ${handled}`;
  }
  return `actor ${actor}${name} has no handler for ${what} type ${JSON.stringify(type)}; it handles ${handled}`;
}

/** The sorted handler names of a definition: its shape, the fallback identity (see below). */
export function shapeOf(def: AnyActorDefinition): string {
  return Object.keys((def as unknown as { handlers: object }).handlers)
    .sort()
    .join(',');
}

/**
 * The definition with this key, if this thread has loaded a module that defines it. When the
 * key is unknown (the functions' source text differs between threads, e.g. one thread runs the
 * TypeScript source through a transpiler and the other the compiled JavaScript), the one
 * definition with the same handler names is taken; give definitions a `name` to not depend on it.
 */
export function definitionByKey(key: string, shape?: string): AnyActorDefinition | undefined {
  const reg = registry();
  const exact = reg.get(key);
  if (exact !== undefined || shape === undefined || !key.startsWith('~')) return exact;
  let found: AnyActorDefinition | undefined;
  for (const [k, def] of reg) {
    if (!k.startsWith('~') || shapeOf(def) !== shape) continue;
    if (found !== undefined) return undefined; // ambiguous
    found = def;
  }
  return found;
}

export function isActorDefinition(v: unknown): v is AnyActorDefinition {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'weft:actor';
}
