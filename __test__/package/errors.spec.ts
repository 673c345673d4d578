import test from 'ava';
import { ERROR_CODES, SharedStack, WeftError, isWeftError, type WeftErrorCode } from '../../src/index.js';
import { native } from '../../src/native.js';

test('TypeScript and Rust agree on the list of error codes', (t) => {
  t.deepEqual([...native.errorCodes()], [...ERROR_CODES]);
});

test('a Rust panic becomes a WEFT_PANIC error and the process carries on', (t) => {
  const err = t.throws(() => native.__panicForTest('deliberate test panic'));
  t.is((err as Error & { code?: string }).code, 'WEFT_PANIC');
  t.regex(err!.message, /deliberate test panic/);
  // Still fully working afterwards.
  const s = new SharedStack<number>();
  s.push(1);
  t.is(s.pop(), 1);
});

const rejects: Array<[string, unknown, WeftErrorCode]> = [
  ['a function', () => 1, 'WEFT_DATA_CLONE'],
  ['a symbol', Symbol('s'), 'WEFT_DATA_CLONE'],
  ['an object holding a function', { f: () => 1 }, 'WEFT_DATA_CLONE'],
  ['an object holding a symbol', { s: Symbol('x') }, 'WEFT_DATA_CLONE'],
  ['a WeakMap', new WeakMap(), 'WEFT_DATA_CLONE'],
  ['a Promise', Promise.resolve(1), 'WEFT_DATA_CLONE'],
  ['undefined', undefined, 'WEFT_INVALID_ARG'],
];

for (const [what, value, code] of rejects) {
  test(`push(${what}) throws ${code} at the call and pushes nothing`, (t) => {
    const s = new SharedStack();
    s.push('before');
    const err = t.throws(() => s.push(value as never));
    t.true(err instanceof WeftError);
    t.true(isWeftError(err, code), `got ${(err as WeftError).code}`);
    t.is(s.size, 1);
    t.is(s.pop(), 'before');
  });
}

test('pushMany with one bad value pushes none of them', (t) => {
  const s = new SharedStack();
  const err = t.throws(() => s.pushMany([1, 'two', () => 3, 4] as never[]));
  t.true(isWeftError(err, 'WEFT_DATA_CLONE'));
  t.is(s.size, 0);
  t.throws(() => s.pushMany([1, undefined] as never[]), { code: 'WEFT_INVALID_ARG' });
  t.is(s.size, 0);
});

test('from() rejects what is not a handle with WEFT_INVALID_ARG', (t) => {
  for (const bad of [
    null,
    undefined,
    42,
    'x',
    {},
    { kind: 'weft:SharedStack' },
    { kind: 'weft:SharedStack', id: -1, process: 1 },
    { kind: 'other', id: 1, process: 1 },
  ]) {
    const err = t.throws(() => SharedStack.from(bad as never));
    t.true(isWeftError(err, 'WEFT_INVALID_ARG'), `for ${JSON.stringify(bad)}`);
  }
});

test('from() on a stack that no longer exists, or from another process, is WEFT_STALE_HANDLE', (t) => {
  const live = new SharedStack().handle;
  const gone = { ...live, id: live.id + 1_000_000 };
  const e1 = t.throws(() => SharedStack.from(gone));
  t.true(isWeftError(e1, 'WEFT_STALE_HANDLE'));
  t.regex(e1!.message, /no longer exists/);
  const foreign = { ...live, process: (live.process + 1) % 0x7fffffff };
  const e2 = t.throws(() => SharedStack.from(foreign));
  t.true(isWeftError(e2, 'WEFT_STALE_HANDLE'));
  t.regex(e2!.message, /another process/);
});

test('popMany rejects a bad count', (t) => {
  const s = new SharedStack();
  for (const bad of [-1, 1.5, NaN, '3']) {
    t.throws(() => s.popMany(bad as number), { code: 'WEFT_INVALID_ARG' });
  }
});
