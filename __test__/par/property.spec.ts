// The par properties (./property.ts) on the JIT, where weft has one (x64 Linux); elsewhere on the
// engine the platform runs.
import test from 'ava';
import { native } from '../../src/native.js';
import './property.js';

const jit = process.platform === 'linux' && process.arch === 'x64';
const engine = native.parEngine(jit ? 'jit' : 'auto');

test('the properties run on the JIT where weft has one', (t) => {
  t.is(engine, jit ? 'jit' : 'interp');
  t.is(native.parEngine(), engine);
});
