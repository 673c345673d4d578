import test from 'ava';
import fc from 'fast-check';
import { SharedStack } from '../../src/index.js';

// Values with a structured-clone reference: what `structuredClone` returns is what a pop must
// return (`deepEqual` compares types, Map/Set contents, typed array kinds and bytes).
const storable = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ unit: 'binary' }),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.float32Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 16 }),
  fc.float64Array({ maxLength: 8 }),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.date({ noInvalidDate: true }),
  fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.string(), fc.boolean()), { maxKeys: 4 }),
  // Containers of every kind the wire format writes natively (no v8.serialize behind them).
  fc
    .anything({
      maxDepth: 2,
      maxKeys: 4,
      withBigInt: true,
      withMap: true,
      withSet: true,
      withBoxedValues: true,
      withSparseArray: true,
      withNullPrototype: true,
      withTypedArray: true,
      withObjectString: true,
    })
    .filter((v) => v !== undefined),
);

type Op =
  | { op: 'push'; value: unknown }
  | { op: 'pushMany'; values: unknown[] }
  | { op: 'pop' }
  | { op: 'popMany'; n: number }
  | { op: 'peek' }
  | { op: 'size' }
  | { op: 'clear' };

const ops: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: storable.map((value) => ({ op: 'push' as const, value })) },
  { weight: 2, arbitrary: fc.array(storable, { maxLength: 6 }).map((values) => ({ op: 'pushMany' as const, values })) },
  { weight: 4, arbitrary: fc.constant({ op: 'pop' as const }) },
  { weight: 2, arbitrary: fc.nat(5).map((n) => ({ op: 'popMany' as const, n })) },
  { weight: 1, arbitrary: fc.constant({ op: 'peek' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'size' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

test('SharedStack behaves like a JS array used as a stack (model-based)', (t) => {
  fc.assert(
    fc.property(fc.array(ops, { maxLength: 60 }), (program) => {
      const stack = new SharedStack();
      const model: unknown[] = [];
      for (const step of program) {
        switch (step.op) {
          case 'push':
            stack.push(step.value as never);
            model.push(structuredClone(step.value));
            break;
          case 'pushMany':
            t.is(stack.pushMany(step.values as never[]), step.values.length);
            model.push(...step.values.map((v) => structuredClone(v)));
            break;
          case 'pop':
            t.deepEqual(stack.pop(), model.pop());
            break;
          case 'popMany': {
            const expected = model.splice(Math.max(0, model.length - step.n)).reverse();
            t.deepEqual(stack.popMany(step.n), expected);
            break;
          }
          case 'peek':
            t.deepEqual(stack.peek(), model[model.length - 1]);
            break;
          case 'size':
            t.is(stack.size, model.length);
            break;
          case 'clear':
            t.is(stack.clear(), model.length);
            model.length = 0;
            break;
        }
      }
      t.is(stack.size, model.length);
    }),
    { numRuns: 300 },
  );
});
