// The task module of par's `{ fallback: 'pool' }`: pipelines whose closures the par compiler does
// not support run here, as JavaScript, on weft's Pool, one chunk of the source per task.
//
// Plain JavaScript (not compiled by tsc; scripts/build-ts.mjs copies it into dist/par/) so that
// the same file loads in pool workers from the TypeScript sources (tests) and from dist/.
//
// The closures arrive as source text (Function.prototype.toString on the calling thread) and
// are rebuilt here with `new Function`: that is the only way to run a user's function on another
// thread. Like compiled closures they see their parameters and the captures object only; a name
// from the enclosing scope throws a ReferenceError, which rejects the terminal's Promise. (The one
// exception is the helpers a compiler such as esbuild or tsx leaves in function bodies: see
// HELPERS below.)

const cache = new Map();

// Helpers that compilers put into the code of a function and define once per file, out of the
// function's text: a closure rebuilt from its text here would not find them. esbuild (and so tsx,
// which runs with keepNames) wraps named functions and classes as `__name(fn, "name")`.
function __name(target, value) {
  return Object.defineProperty(target, 'name', { value, configurable: true });
}
const HELPERS = { __name };
const HELPER_NAMES = Object.keys(HELPERS);
const HELPER_VALUES = Object.values(HELPERS);

function closureOf(src) {
  let fn = cache.get(src);
  if (fn === undefined) {
    fn = new Function(...HELPER_NAMES, `"use strict"; return (${src});`)(...HELPER_VALUES);
    if (typeof fn !== 'function') throw new TypeError(`par fallback: not a function: ${src}`);
    if (cache.size > 256) cache.delete(cache.keys().next().value);
    cache.set(src, fn);
  }
  return fn;
}

function invalid(message) {
  const err = new TypeError(message);
  err.code = 'WEFT_INVALID_ARG';
  return err;
}

function asNumber(v, src) {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw invalid(`par: a map closure must return a number or a boolean, got ${v === null ? 'null' : typeof v} from ${src}`);
}

/**
 * Runs the stages over one chunk: source values `values` (or the range `start + i * step`) with
 * source indices `offset ..< offset + length`. Returns the surviving values as a Float64Array,
 * or, with a `test` (some/every), whether the test decided the answer in this chunk.
 */
export function parChunk(spec) {
  const { values, start, step, offset, length } = spec;
  const stages = spec.stages.map((s) => ({ filter: s.kind === 'filter', fn: closureOf(s.src), captures: s.captures, src: s.src }));
  const test =
    spec.test === undefined ? undefined : { some: spec.test.kind === 'some', fn: closureOf(spec.test.src), captures: spec.test.captures };
  const out = test === undefined ? new Float64Array(length) : undefined;
  let kept = 0;
  next: for (let k = 0; k < length; k++) {
    const i = offset + k;
    let x = values === undefined ? start + i * step : values[k];
    for (const s of stages) {
      if (s.filter) {
        if (!s.fn(x, i, s.captures)) continue next;
      } else {
        x = s.fn(x, i, s.captures);
        asNumber(x, s.src);
      }
    }
    if (test !== undefined) {
      const t = Boolean(test.fn(x, i, test.captures));
      if (t === test.some) return { decided: true };
      continue;
    }
    out[kept++] = asNumber(x, '');
  }
  if (test !== undefined) return { decided: false };
  return kept === length ? out : out.slice(0, kept);
}

/** The left fold of `values` with `fn(acc, x, captures)` from `init`, in chunks of `chunk` values (see `Par.reduce`). */
export function parFold(values, src, init, captures, chunk) {
  const fn = closureOf(src);
  let total;
  for (let lo = 0; lo < values.length; lo += chunk) {
    let acc = init;
    const hi = Math.min(values.length, lo + chunk);
    for (let k = lo; k < hi; k++) acc = asNumber(fn(acc, values[k], captures), src);
    total = total === undefined ? acc : asNumber(fn(total, acc, captures), src);
  }
  return total === undefined ? init : total;
}
