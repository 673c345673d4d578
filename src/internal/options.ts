/**
 * Option bags: an unknown option name is a mistake (`maxQeue`, `chunksize`), and silently
 * ignoring it turns a typo into a behaviour nobody asked for. `checkOptionNames` throws
 * `WEFT_INVALID_ARG` naming the option and the nearest valid one.
 *
 * Every public option bag checks its names with its own list: `Pool` (`POOL_OPTIONS`, next to
 * the pool's option types), `runWith`, `map`, `par`, `toArray`, `sort`... A compatibility layer (an
 * API shaped like another library's) passes the names it accepts.
 */
import { InvalidArgumentError } from '../errors.js';
import { thrownMessage } from './describe.js';

/** The keys of `T` that the list `L` leaves out. */
type Missing<T, L extends readonly PropertyKey[]> = Exclude<keyof T, L[number]>;

/**
 * The option names of the bag `T`, checked at compile time both ways: every name is a key of `T`,
 * and a key of `T` the list leaves out is a type error at the call that names it (so a new option
 * cannot be forgotten here). One per option bag, next to its interface:
 * `export const POOL_OPTIONS = optionNames<PoolOptions>()(['module', 'threads', ...]);`
 */
export function optionNames<T>(): <const L extends ReadonlyArray<keyof T & string>>(
  names: L & ([Missing<T, L>] extends [never] ? unknown : { 'missing option names': Missing<T, L> }),
) => L {
  return (names) => names;
}

/**
 * The optimal-string-alignment distance (Levenshtein plus transpositions of neighbours: `maxQeue`
 * is one edit from `maxQueue`, `thraeds` one from `threads`), compared case-insensitively, with a
 * case-only difference counted as a half edit. Gives up (returns `limit + 1`) once the distance
 * must exceed `limit`.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (a === b) return 0;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la === lb) return 0.5;
  const n = la.length;
  const m = lb.length;
  if (Math.abs(n - m) > limit) return limit + 1;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const cost = la[i - 1] === lb[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && la[i - 1] === lb[j - 2] && la[i - 2] === lb[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/**
 * The name among `candidates` nearest to `name`, if one is near enough to be a likely typo: at
 * most 2 edits (1 for names of up to 4 letters), or `name` is a prefix or an extension of it.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = name.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    let d = editDistance(name, c, limit);
    if (
      d > limit &&
      name.length >= 3 &&
      (c.toLowerCase().startsWith(name.toLowerCase()) || name.toLowerCase().startsWith(c.toLowerCase()))
    ) {
      d = limit; // `chunk` for `chunkSize`, `signals` for `signal`
    }
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** The message for an unknown option `name` of `what` (e.g. "Pool options"). */
export function unknownOptionMessage(name: string, allowed: readonly string[], what: string): string {
  const near = nearestName(name, allowed);
  const hint = near === undefined ? '' : `; did you mean ${near}?`;
  const list = allowed.length === 0 ? 'it takes none' : `valid options: ${allowed.join(', ')}`;
  return `${what}: unknown option ${JSON.stringify(name)}${hint} (${list})`;
}

/**
 * Throws `WEFT_INVALID_ARG` if `options` (an object; not checked here) has an own enumerable
 * string key that is not in `allowed`. `what` names the bag in the message ("Pool options",
 * "pool.map options"). Returns a snapshot: a plain object with each allowed option read once
 * (through getters and the prototype chain, as a direct read would), so a getter or a Proxy trap
 * that throws becomes `WEFT_INVALID_ARG` here (its error as `cause`) and the caller validates and
 * uses values that cannot change under it. Cheap enough for per-call option bags.
 */
export function checkOptionNames<T extends object>(options: T, allowed: ReadonlySet<string> | readonly string[], what: string): T {
  const set: ReadonlySet<string> = allowed instanceof Set ? allowed : new Set(allowed as readonly string[]);
  let keys: string[];
  try {
    keys = Object.keys(options);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: listing the options threw: ${thrownMessage(err)}`, { cause: err });
  }
  for (const key of keys) {
    if (!set.has(key)) throw new InvalidArgumentError(unknownOptionMessage(key, [...set], what));
  }
  const snapshot: Record<string, unknown> = {};
  for (const name of set) {
    let value: unknown;
    try {
      value = (options as Record<string, unknown>)[name];
    } catch (err) {
      throw new InvalidArgumentError(`${what}: reading option "${name}" threw: ${thrownMessage(err)}`, { cause: err });
    }
    if (value !== undefined) snapshot[name] = value;
  }
  return snapshot as T;
}

/**
 * `checkOptionNames` for an argument that must be an options object or undefined (then `{}`
 * comes back); anything else (null, a number, a string) throws `WEFT_INVALID_ARG` too.
 */
export function checkOptions<T extends object>(options: T | undefined, allowed: ReadonlySet<string> | readonly string[], what: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${what} must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  return checkOptionNames(options, allowed, what);
}
