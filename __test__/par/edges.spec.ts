// par under a TypeScript loader: closures that tsx (esbuild, keepNames) rewrote run on the
// fallback pool, and a ParCompileError points at the construct in the user's .ts file.
import test from 'ava';
import { runInThisContext } from 'node:vm';
import { par, ParCompileError } from '../../src/index.js';
import { lastJson, runChild } from '../helpers.js';

test('the fallback runs closures that tsx rewrote with __name (named inner functions and classes)', async (t) => {
  // This file runs under tsx (ava's --import=tsx): a named function inside a closure comes out of
  // esbuild's keepNames as `function twice(y){...}__name(twice,"twice")`.
  const withFunction = (x: number): number => {
    function twice(y: number): number {
      return y * 2;
    }
    return twice(x) + 1;
  };
  const withExpression = (x: number): number => {
    const half = (y: number): number => y / 2;
    return half(x);
  };
  const withClass = (x: number): number => {
    class Box {
      constructor(readonly v: number) {}
    }
    return new Box(x).v * 3;
  };
  for (const fn of [withFunction, withExpression, withClass]) {
    t.true(fn.toString().includes('__name('), `transformed by tsx: ${fn.toString()}`);
  }
  const src = Float64Array.from({ length: 10_000 }, (_, i) => i - 5000);
  const want = (f: (x: number) => number): number[] => Array.from(src, f);
  t.deepEqual(Array.from(await par(src, { fallback: 'pool' }).map(withFunction).toArray()), want(withFunction));
  t.deepEqual(Array.from(await par(src, { fallback: 'pool' }).map(withExpression).toArray()), want(withExpression));
  t.deepEqual(Array.from(await par(src, { fallback: 'pool' }).map(withClass).toArray()), want(withClass));
});

test('an outer name is still a ReferenceError on the fallback pool', async (t) => {
  const outer = (y: number): number => y + 1;
  await t.throwsAsync(
    par([1, 2], { fallback: 'pool' })
      .map((x) => outer(x))
      .toArray(),
    { instanceOf: ReferenceError, message: /outer is not defined/ },
  );
});

interface Reported {
  message: string;
  location?: { file: string; line: number; column: number; mapped: boolean; text?: string };
}

test('ParCompileError gives the line and column in the .ts file (tsx, CommonJS)', (t) => {
  const r = runChild('edges-par-location.ts');
  t.is(r.status, 0, r.stderr);
  const out = lastJson<Reported & { thrown: boolean; line: number; column: number }>(r);
  t.true(out.thrown);
  t.like(out.location, { line: 13, column: 5, mapped: true });
  t.true(out.location?.file.endsWith('edges-par-location.ts'), out.location?.file);
  t.true(out.message.includes('edges-par-location.ts:13:5'), out.message);
  t.true(out.message.includes('for (let k: number = 0; k < limit; k++) total += x;'), 'shows the original line');
  t.is(out.location?.text, '    for (let k: number = 0; k < limit; k++) total += x;');
  t.deepEqual({ line: out.line, column: out.column }, { line: 1, column: 31 }, 'line/column stay relative to fn.toString()');
});

test('ParCompileError gives the line and column in the .mts file (tsx, ES module)', (t) => {
  const r = runChild('edges-par-location.mts');
  t.is(r.status, 0, r.stderr);
  const out = lastJson<Reported[]>(r);
  const where = out.map((o) => o.location && `${o.location.line}:${o.location.column}`);
  t.deepEqual(where, ['7:91', '11:7', '13:58'], out.map((o) => o.message).join('\n'));
  for (const o of out) {
    t.true(o.location?.mapped);
    t.true(o.location?.file.endsWith('edges-par-location.mts'));
    t.true(o.message.includes(`edges-par-location.mts:${o.location?.line}:${o.location?.column}`), o.message);
  }
  t.regex(out[0]!.message, /par cannot compile a string at .*: par closures compute with numbers and booleans only\n/);
});

test('without a source map ParCompileError gives the line and column in the file as loaded', (t) => {
  const code = [
    '// generated',
    'const a = 1;',
    '(function () {',
    '  return (x) => {',
    '    let s = 0;',
    '    while (s < x) s++;',
    '    return s;',
    '  };',
    '})()',
  ].join('\n');
  const fn = runInThisContext(code, { filename: '/virtual/plain-module.js' }) as (x: number) => number;
  const e = t.throws(() => par([1]).map(fn), { instanceOf: ParCompileError });
  t.deepEqual(e.location, { file: '/virtual/plain-module.js', line: 6, column: 5, mapped: false, text: '    while (s < x) s++;' });
  t.true(e.message.startsWith('par cannot compile a `while` loop at /virtual/plain-module.js:6:5'), e.message);
});

test('a closure made by new Function keeps the position relative to its text', (t) => {
  const fn = new Function('return (x) => x + "a"')() as (x: number) => number;
  const e = t.throws(() => par([1]).map(fn), { instanceOf: ParCompileError });
  t.is(e.location, undefined);
  t.regex(e.message, /\(at 1:12 of the closure\)/);
});
