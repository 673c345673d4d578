// The par properties (./property.ts) on the block interpreter, the reference the JIT must equal.
import test from 'ava';
import { native } from '../../src/native.js';
import './property.js';

const engine = native.parEngine('interp');

test('the properties run on the interpreter', (t) => {
  t.is(engine, 'interp');
  t.is(native.parEngine(), 'interp');
  t.throws(() => native.parEngine('fast'), { code: 'WEFT_INVALID_ARG' });
  t.is(native.parEngine(), 'interp');
});
