/**
 * The op table and codes of the program format that weft-core's `par::program` decodes. The
 * order of `OP_NAMES` is the opcode; weft-core exports its own list (`parOpNames()`) and a test
 * checks that the two agree.
 */

export const OP_NAMES = [
  'Mov',
  'Neg',
  'Not',
  'BitNot',
  'Abs',
  'Acos',
  'Acosh',
  'Asin',
  'Asinh',
  'Atan',
  'Atanh',
  'Cbrt',
  'Ceil',
  'Clz32',
  'Cos',
  'Cosh',
  'Exp',
  'Expm1',
  'Floor',
  'Fround',
  'Log',
  'Log1p',
  'Log10',
  'Log2',
  'Round',
  'Sign',
  'Sin',
  'Sinh',
  'Sqrt',
  'Tan',
  'Tanh',
  'Trunc',
  'IsNaN',
  'IsFinite',
  'IsInteger',
  'IsSafeInteger',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Mod',
  'Pow',
  'BitAnd',
  'BitOr',
  'BitXor',
  'Shl',
  'Sar',
  'Shr',
  'Lt',
  'Le',
  'Gt',
  'Ge',
  'Eq',
  'Ne',
  'Min',
  'Max',
  'Atan2',
  'Imul',
  'Select',
  'Hypot',
] as const;

export type OpName = (typeof OP_NAMES)[number];

export const OPCODE: Readonly<Record<OpName, number>> = Object.freeze(
  Object.fromEntries(OP_NAMES.map((name, i) => [name, i])) as Record<OpName, number>,
);

/** Ops whose operand count is given in the instruction. */
export const VARIADIC: ReadonlySet<OpName> = new Set<OpName>(['Hypot']);

/** Program kinds (`par::program::Kind`). */
export const KIND = { map: 0, filter: 1, reduce: 2, some: 3, every: 4, key: 5 } as const;
export type ClosureKind = keyof typeof KIND;

/** Terminal codes of the binding (`parRun`). */
export const TERMINAL = {
  sum: 0,
  mean: 1,
  min: 2,
  max: 3,
  count: 4,
  reduce: 5,
  some: 6,
  every: 7,
  toArray: 8,
  sort: 9,
  argmin: 10,
  argmax: 11,
  quantile: 12,
  histogram: 13,
  groupBy: 14,
} as const;
export type TerminalName = keyof typeof TERMINAL;

/** Wire format version (`par::program::VERSION`). */
export const VERSION = 2;
/** Register of the first parameter; the second is 1; constants start at 2. */
export const R_CONST = 2;
/** The most registers a pipeline may use (`par::program::MAX_REGS`). */
export const MAX_REGS = 1024;

/**
 * Pure JavaScript versions of the ops, used to fold constant operands at compile time (so a
 * folded constant is exactly what JavaScript computes). Booleans are 1/0 here, as in the
 * evaluator.
 */
const b = (v: boolean): number => (v ? 1 : 0);
const hypot = (...v: number[]): number => Math.hypot(...v);
export const FOLD: Readonly<Record<OpName, (...a: number[]) => number>> = {
  Mov: (a = NaN) => a,
  Neg: (a = NaN) => -a,
  Not: (a = NaN) => b(!a),
  BitNot: (a = NaN) => ~a,
  Abs: Math.abs,
  Acos: Math.acos,
  Acosh: Math.acosh,
  Asin: Math.asin,
  Asinh: Math.asinh,
  Atan: Math.atan,
  Atanh: Math.atanh,
  Cbrt: Math.cbrt,
  Ceil: Math.ceil,
  Clz32: Math.clz32,
  Cos: Math.cos,
  Cosh: Math.cosh,
  Exp: Math.exp,
  Expm1: Math.expm1,
  Floor: Math.floor,
  Fround: Math.fround,
  Log: Math.log,
  Log1p: Math.log1p,
  Log10: Math.log10,
  Log2: Math.log2,
  Round: Math.round,
  Sign: Math.sign,
  Sin: Math.sin,
  Sinh: Math.sinh,
  Sqrt: Math.sqrt,
  Tan: Math.tan,
  Tanh: Math.tanh,
  Trunc: Math.trunc,
  IsNaN: (a = NaN) => b(Number.isNaN(a)),
  IsFinite: (a = NaN) => b(Number.isFinite(a)),
  IsInteger: (a = NaN) => b(Number.isInteger(a)),
  IsSafeInteger: (a = NaN) => b(Number.isSafeInteger(a)),
  Add: (a = NaN, c = NaN) => a + c,
  Sub: (a = NaN, c = NaN) => a - c,
  Mul: (a = NaN, c = NaN) => a * c,
  Div: (a = NaN, c = NaN) => a / c,
  Mod: (a = NaN, c = NaN) => a % c,
  Pow: (a = NaN, c = NaN) => a ** c,
  BitAnd: (a = NaN, c = NaN) => a & c,
  BitOr: (a = NaN, c = NaN) => a | c,
  BitXor: (a = NaN, c = NaN) => a ^ c,
  Shl: (a = NaN, c = NaN) => a << c,
  Sar: (a = NaN, c = NaN) => a >> c,
  Shr: (a = NaN, c = NaN) => a >>> c,
  Lt: (a = NaN, c = NaN) => b(a < c),
  Le: (a = NaN, c = NaN) => b(a <= c),
  Gt: (a = NaN, c = NaN) => b(a > c),
  Ge: (a = NaN, c = NaN) => b(a >= c),
  Eq: (a = NaN, c = NaN) => b(a === c),
  Ne: (a = NaN, c = NaN) => b(a !== c),
  Min: (a = NaN, c = NaN) => Math.min(a, c),
  Max: (a = NaN, c = NaN) => Math.max(a, c),
  Atan2: (a = NaN, c = NaN) => Math.atan2(a, c),
  Imul: (a = NaN, c = NaN) => Math.imul(a, c),
  Select: (c = NaN, x = NaN, y = NaN) => (c ? x : y),
  Hypot: hypot,
};

/** Unary `Math.*` functions and their ops. */
export const MATH_UNARY: ReadonlyMap<string, OpName> = new Map<string, OpName>([
  ['abs', 'Abs'],
  ['acos', 'Acos'],
  ['acosh', 'Acosh'],
  ['asin', 'Asin'],
  ['asinh', 'Asinh'],
  ['atan', 'Atan'],
  ['atanh', 'Atanh'],
  ['cbrt', 'Cbrt'],
  ['ceil', 'Ceil'],
  ['clz32', 'Clz32'],
  ['cos', 'Cos'],
  ['cosh', 'Cosh'],
  ['exp', 'Exp'],
  ['expm1', 'Expm1'],
  ['floor', 'Floor'],
  ['fround', 'Fround'],
  ['log', 'Log'],
  ['log1p', 'Log1p'],
  ['log10', 'Log10'],
  ['log2', 'Log2'],
  ['round', 'Round'],
  ['sign', 'Sign'],
  ['sin', 'Sin'],
  ['sinh', 'Sinh'],
  ['sqrt', 'Sqrt'],
  ['tan', 'Tan'],
  ['tanh', 'Tanh'],
  ['trunc', 'Trunc'],
]);

/** Binary `Math.*` functions and their ops. */
export const MATH_BINARY: ReadonlyMap<string, OpName> = new Map<string, OpName>([
  ['atan2', 'Atan2'],
  ['pow', 'Pow'],
  ['imul', 'Imul'],
]);

/** `Number.*` predicates: they do not convert their argument (a boolean is never a number). */
export const NUMBER_PREDICATES: ReadonlyMap<string, OpName> = new Map<string, OpName>([
  ['isNaN', 'IsNaN'],
  ['isFinite', 'IsFinite'],
  ['isInteger', 'IsInteger'],
  ['isSafeInteger', 'IsSafeInteger'],
]);

/** `Math.*` constants. */
export const MATH_CONSTANTS: ReadonlySet<string> = new Set(['E', 'LN10', 'LN2', 'LOG10E', 'LOG2E', 'PI', 'SQRT1_2', 'SQRT2']);

/** `Number.*` constants. */
export const NUMBER_CONSTANTS: ReadonlySet<string> = new Set([
  'EPSILON',
  'MAX_SAFE_INTEGER',
  'MIN_SAFE_INTEGER',
  'MAX_VALUE',
  'MIN_VALUE',
  'NaN',
  'POSITIVE_INFINITY',
  'NEGATIVE_INFINITY',
]);
