/**
 * The closure compiler: parses a `par` closure's source with acorn and compiles the
 * pure-arithmetic subset of JavaScript to a straight-line op program (see `ops.ts` and
 * weft-core's `par::program`).
 *
 * Supported: up to two parameters plus a destructured captures object as the third
 * (`(x, i, { k }) => x * k`), number and boolean literals, `NaN`, `Infinity`,
 * `+ - * / % **`, unary `- + ! ~`, bitwise operators and shifts, comparisons, `&& || ??`,
 * `?:`, `Math.*` functions and constants, `Number.isNaN/isFinite/isInteger/isSafeInteger` and the
 * `Number.*` constants, the global `isNaN`/`isFinite`, and block bodies with `const`/`let`,
 * assignments to locals and parameters, and a final `return`. Anything else throws a
 * `ParCompileError` naming the construct and its position in `fn.toString()`.
 *
 * Values are numbers or booleans. The evaluator carries booleans as 1/0, which every numeric
 * operation converts exactly as JavaScript would; the compiler tracks which values are booleans
 * for the few operations that tell them apart (`===`, `!==`, `Number.is*`), and rejects those on
 * a value that may be either.
 *
 * `&&`, `||` and `?:` evaluate both sides and select: every supported operation is pure and
 * total, so this is exactly JavaScript's result.
 */
import { type Options, parseExpressionAt } from 'acorn';
import type * as A from 'acorn';
import { InvalidArgumentError } from '../errors.js';
import { ParCompileError } from './errors.js';
import {
  type ClosureKind,
  FOLD,
  MATH_BINARY,
  MATH_CONSTANTS,
  MATH_UNARY,
  MAX_REGS,
  NUMBER_CONSTANTS,
  NUMBER_PREDICATES,
  type OpName,
} from './ops.js';
import { describe, thrownMessage } from '../internal/describe.js';

/** The static type of a value: a number, a boolean, or either. */
export type ValueType = 'number' | 'boolean' | 'mixed';

/** An operand of a compiled instruction. */
export type Operand =
  | { readonly k: 'param'; readonly n: 0 | 1 }
  /** Column `n >= 1` of a `par.zip` row (column 0 is the first parameter). */
  | { readonly k: 'col'; readonly n: number }
  | { readonly k: 'const'; readonly n: number }
  | { readonly k: 'capture'; readonly n: number }
  | { readonly k: 'temp'; readonly n: number };

export interface Instr {
  readonly op: OpName;
  /** A temporary. */
  readonly dst: number;
  readonly args: readonly Operand[];
}

/** A compiled closure, independent of the captured values (only their types). */
export interface CompiledClosure {
  readonly kind: ClosureKind;
  readonly code: readonly Instr[];
  readonly result: Operand;
  readonly resultType: ValueType;
  /** Constants, referenced as `{ k: 'const', n }`. */
  readonly consts: readonly number[];
  /** Keys of the captures object, referenced as `{ k: 'capture', n }` in this order. */
  readonly captures: readonly string[];
  /** Temporaries used. */
  readonly ntemps: number;
}

/** A closure the compiler accepts: any function; its source decides. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type AnyFunction = (...args: never[]) => unknown;

/** A captures object: the values a closure's `{ ... }` parameter destructures. */
export type Captures = Readonly<Record<string, number | boolean>>;

export function joinTypes(a: ValueType, b: ValueType): ValueType {
  return a === b ? a : 'mixed';
}

type VOperand = Operand | { readonly k: 'vreg'; readonly n: number };

/** A value during code generation. `value` is set when it is a compile-time constant. */
interface Val {
  readonly at: VOperand;
  readonly type: ValueType;
  readonly value?: number;
}

interface VInstr {
  readonly op: OpName;
  readonly dst: number;
  readonly args: readonly VOperand[];
}

/** Statements still to run: `stmts[from..]`, then (after popping its scope) the frame `next`. */
interface Cont {
  readonly stmts: readonly A.Statement[];
  readonly from: number;
  readonly popScope: boolean;
  readonly next: Cont | undefined;
}

/** Ops a closure may compile to, counting both sides of every `if`. */
const MAX_INSTRS = 4096;

/** Whether a statement contains a `return` (functions cannot nest here, so no deeper look is needed). */
function returns(st: A.Statement): boolean {
  switch (st.type) {
    case 'ReturnStatement':
      return true;
    case 'BlockStatement':
      return st.body.some((s) => returns(s));
    case 'IfStatement':
      return returns(st.consequent) || (st.alternate !== null && st.alternate !== undefined && returns(st.alternate));
    default:
      return false;
  }
}

type Binding = { kind: 'param' | 'let' | 'const' | 'capture'; val: Val; readonly name: string } | { kind: 'tdz'; readonly name: string };

const PARSE_OPTIONS: Options = { ecmaVersion: 'latest', locations: true, sourceType: 'script' };

const BINARY_OPS: Readonly<Partial<Record<A.BinaryOperator, OpName>>> = {
  '+': 'Add',
  '-': 'Sub',
  '*': 'Mul',
  '/': 'Div',
  '%': 'Mod',
  '**': 'Pow',
  '&': 'BitAnd',
  '|': 'BitOr',
  '^': 'BitXor',
  '<<': 'Shl',
  '>>': 'Sar',
  '>>>': 'Shr',
  '<': 'Lt',
  '<=': 'Le',
  '>': 'Gt',
  '>=': 'Ge',
  '==': 'Eq',
  '!=': 'Ne',
};

const COMPARISONS: ReadonlySet<OpName> = new Set<OpName>(['Lt', 'Le', 'Gt', 'Ge', 'Eq', 'Ne']);

const COMPOUND: Readonly<Partial<Record<A.AssignmentOperator, A.BinaryOperator>>> = {
  '+=': '+',
  '-=': '-',
  '*=': '*',
  '/=': '/',
  '%=': '%',
  '**=': '**',
  '<<=': '<<',
  '>>=': '>>',
  '>>>=': '>>>',
  '&=': '&',
  '|=': '|',
  '^=': '^',
};

const STATEMENT_NAMES: Readonly<Record<string, [string, string?]>> = {
  ForStatement: ['a `for` loop'],
  ForInStatement: ['a `for...in` loop'],
  ForOfStatement: ['a `for...of` loop'],
  WhileStatement: ['a `while` loop'],
  DoWhileStatement: ['a `do...while` loop'],
  SwitchStatement: ['a `switch` statement', 'use a ternary (c ? a : b)'],
  TryStatement: ['a `try` statement'],
  ThrowStatement: ['a `throw` statement'],
  LabeledStatement: ['a labeled statement'],
  BreakStatement: ['`break`'],
  ContinueStatement: ['`continue`'],
  FunctionDeclaration: ['a nested function'],
  ClassDeclaration: ['a class'],
  WithStatement: ['a `with` statement'],
  DebuggerStatement: ['a `debugger` statement'],
};

const EXPRESSION_NAMES: Readonly<Record<string, [string, string?]>> = {
  ThisExpression: ['`this`'],
  ArrayExpression: ['an array literal'],
  ObjectExpression: ['an object literal'],
  FunctionExpression: ['a nested function'],
  ArrowFunctionExpression: ['a nested function'],
  NewExpression: ['`new`'],
  TemplateLiteral: ['a template string'],
  TaggedTemplateExpression: ['a tagged template'],
  AwaitExpression: ['`await`'],
  YieldExpression: ['`yield`'],
  ClassExpression: ['a class'],
  ChainExpression: ['optional chaining (`?.`)'],
  ImportExpression: ['`import()`'],
  MetaProperty: ['`new.target` / `import.meta`'],
  Super: ['`super`'],
  SpreadElement: ['spread (`...`)'],
  PrivateIdentifier: ['a private name'],
};

function constKey(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function truthy(v: number): boolean {
  return !Number.isNaN(v) && v !== 0;
}

/** What the closure's parameters are. */
interface ParamSpec {
  readonly types: readonly [ValueType, ValueType];
  /** How many leading parameters are a zip row's columns (1 outside a zip). */
  readonly columns: number;
}

class ClosureCompiler {
  private readonly instrs: VInstr[] = [];
  private readonly consts: number[] = [];
  private readonly constIndex = new Map<string, number>();
  private readonly captureKeys: string[] = [];
  private nvregs = 0;
  private readonly scopes: Map<string, Binding>[] = [];

  constructor(
    private readonly src: string,
    private readonly kind: ClosureKind,
    private readonly params: ParamSpec,
    private readonly captureTypes: ReadonlyMap<string, ValueType> | undefined,
  ) {}

  fail(node: A.Node, construct: string, hint?: string): never {
    const loc = node.loc?.start ?? { line: 1, column: 0 };
    throw new ParCompileError(construct, { line: loc.line, column: loc.column + 1 }, this.src, hint);
  }

  // ---- values -------------------------------------------------------------------------------

  constant(value: number, type: ValueType = 'number'): Val {
    const key = constKey(value);
    let n = this.constIndex.get(key);
    if (n === undefined) {
      n = this.consts.length;
      this.consts.push(value);
      this.constIndex.set(key, n);
    }
    return { at: { k: 'const', n }, type, value };
  }

  bool(b: boolean): Val {
    return this.constant(b ? 1 : 0, 'boolean');
  }

  /** Emits `op` over `args` (folded when every argument is a compile-time constant). */
  emit(op: OpName, args: readonly Val[], type: ValueType): Val {
    if (args.every((a) => a.value !== undefined)) {
      return this.constant(FOLD[op](...args.map((a) => a.value as number)), type);
    }
    const dst = this.nvregs++;
    this.instrs.push({ op, dst, args: args.map((a) => a.at) });
    return { at: { k: 'vreg', n: dst }, type };
  }

  /** `c ? a : b` on the truthiness of `c`. */
  select(c: Val, a: Val, b: Val): Val {
    if (c.value !== undefined) return truthy(c.value) ? a : b;
    return this.emit('Select', [c, a, b], joinTypes(a.type, b.type));
  }

  asNumber(v: Val): Val {
    return v.type === 'number' ? v : { ...v, type: 'number' };
  }

  // ---- scopes -------------------------------------------------------------------------------

  lookup(name: string): Binding | undefined {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const b = this.scopes[s]!.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  declare(name: string, binding: Binding): void {
    this.scopes[this.scopes.length - 1]!.set(name, binding);
  }

  // ---- the function -------------------------------------------------------------------------

  compile(): CompiledClosure {
    let fn: A.Expression;
    try {
      fn = parseExpressionAt(this.src, 0, PARSE_OPTIONS);
    } catch (err) {
      const e = err as { loc?: { line: number; column: number }; message?: string };
      const loc = e.loc ?? { line: 1, column: 0 };
      const native = this.src.includes('[native code]');
      throw new ParCompileError(
        native ? NATIVE_FUNCTION : UNPARSABLE_SOURCE,
        { line: loc.line, column: loc.column + 1 },
        this.src,
        native ? 'only arrow functions and function expressions can be compiled' : e.message,
      );
    }
    if (fn.type !== 'ArrowFunctionExpression' && fn.type !== 'FunctionExpression') {
      this.fail(fn, 'something other than an arrow function or function expression');
    }
    const rest = this.src.slice(fn.end).trim();
    if (rest !== '') this.fail(fn, 'source that is not a single function');
    if (fn.async) this.fail(fn, 'an async function');
    if (fn.generator) this.fail(fn, 'a generator function');

    this.scopes.push(new Map());
    this.bindParams(fn);
    this.scopes.push(new Map());
    let result: Val;
    let resultNode: A.Node;
    if (fn.body.type === 'BlockStatement') {
      [result, resultNode] = this.functionBody(fn.body);
    } else {
      result = this.expr(fn.body);
      resultNode = fn.body;
    }
    if (this.kind === 'reduce' && result.type !== 'number') {
      this.fail(resultNode, 'a reduce closure whose result may be a boolean', 'return a number');
    }
    return this.finish(result, fn);
  }

  bindParams(fn: A.ArrowFunctionExpression | A.FunctionExpression): void {
    const ps = fn.params;
    // Outside a zip: (x, i, { captures }); over a zip of k columns: (c0, ..., c(k-1), i, { captures }).
    const k = this.params.columns;
    if (ps.length > k + 2) {
      const names = k === 1 ? 'x' : Array.from({ length: k }, (_, j) => `c${j}`).join(', ');
      this.fail(ps[k + 2]!, `a parameter after the captures`, `closures take (${names}, i, { captures })`);
    }
    ps.forEach((p, n) => {
      if (n === k + 1) {
        this.bindCaptures(p);
        return;
      }
      if (p.type === 'AssignmentPattern') this.fail(p, 'a default parameter value');
      if (p.type === 'RestElement') this.fail(p, 'a rest parameter');
      if (p.type !== 'Identifier') {
        this.fail(p, 'a destructured parameter', 'only the third parameter destructures the captures object');
      }
      // The columns, then the index.
      const at: Operand = n === 0 ? { k: 'param', n: 0 } : n < k ? { k: 'col', n } : { k: 'param', n: 1 };
      const type = n === 0 ? this.params.types[0] : n < k ? 'number' : this.params.types[1];
      this.declare(p.name, { kind: 'param', name: p.name, val: { at, type } });
    });
  }

  bindCaptures(p: A.Pattern): void {
    if (p.type !== 'ObjectPattern') {
      this.fail(p, 'a third parameter that does not destructure the captures object', 'write (x, i, { k }) => ...');
    }
    for (const prop of p.properties) {
      if (prop.type === 'RestElement') this.fail(prop, 'a rest element in the captures pattern');
      if (prop.computed || prop.key.type !== 'Identifier') {
        this.fail(prop.key, 'a computed key in the captures pattern');
      }
      const key = prop.key.name;
      const value = prop.value;
      if (value.type === 'AssignmentPattern') this.fail(value, 'a default value in the captures pattern');
      if (value.type !== 'Identifier') this.fail(value, 'a nested pattern in the captures pattern');
      const type = this.captureTypes?.get(key);
      if (type === undefined) {
        throw new InvalidArgumentError(
          this.captureTypes === undefined
            ? `the closure destructures captures ({ ${key} }) but no captures object was given: ` +
                `pass it after the closure, e.g. .map((x, i, { ${key} }) => ..., { ${key} })`
            : `the captures object has no number or boolean "${key}", which the closure destructures`,
        );
      }
      let n = this.captureKeys.indexOf(key);
      if (n < 0) {
        n = this.captureKeys.length;
        this.captureKeys.push(key);
      }
      this.declare(value.name, { kind: 'capture', name: value.name, val: { at: { k: 'capture', n }, type } });
    }
  }

  /**
   * A block body, with `if`/`else` and early `return`s. There is no control flow in the op
   * program, so branches are converted to data flow: every operation is pure and total (no
   * exceptions, no side effects), so evaluating both sides and selecting is what JavaScript
   * computes. An `if` whose branches return is compiled as `select(test, value of the then
   * branch followed by the rest, value of the else branch followed by the rest)`; an `if` without
   * returns merges the variables its branches assign (`select` per variable).
   */
  functionBody(body: A.BlockStatement): [Val, A.Node] {
    return this.run({ stmts: body.body, from: 0, popScope: false, next: undefined }, body);
  }

  /** The value returned by running the statements of `cont` (and of the frames after it). */
  run(cont: Cont | undefined, body: A.BlockStatement): [Val, A.Node] {
    while (cont !== undefined) {
      if (cont.from >= cont.stmts.length) {
        if (cont.popScope) this.scopes.pop();
        cont = cont.next;
        continue;
      }
      const st = cont.stmts[cont.from]!;
      const next: Cont = { ...cont, from: cont.from + 1 };
      if (st.type === 'ReturnStatement') {
        if (st.argument === null || st.argument === undefined) this.fail(st, 'a `return` without a value');
        return [this.expr(st.argument), st.argument];
      }
      if (st.type === 'IfStatement' && returns(st)) {
        const test = this.expr(st.test);
        const before = this.snapshot();
        const [a] = this.run(this.branch(st.consequent, next), body);
        this.restore(before);
        const [b] = st.alternate ? this.run(this.branch(st.alternate, next), body) : this.run(next, body);
        if (this.instrs.length > MAX_INSTRS) {
          this.fail(st, 'too many `if` branches with `return`s (each one compiles the rest of the function twice)');
        }
        return [this.select(test, a, b), st];
      }
      if (st.type === 'BlockStatement') {
        this.scopes.push(new Map());
        cont = { stmts: st.body, from: 0, popScope: true, next };
        continue;
      }
      this.statement(st);
      cont = next;
    }
    const end = body.loc?.end ?? { line: 1, column: 1 };
    throw new ParCompileError(
      'a path through the function that does not end with `return`',
      { line: end.line, column: end.column },
      this.src,
      'the closure must return a value on every path',
    );
  }

  /** The frame that runs one branch of an `if` and then `next`. */
  branch(st: A.Statement, next: Cont): Cont {
    if (st.type === 'BlockStatement') {
      this.scopes.push(new Map());
      return { stmts: st.body, from: 0, popScope: true, next };
    }
    return { stmts: [st], from: 0, popScope: false, next };
  }

  /** A copy of every binding (assignments replace a binding's value in place). */
  snapshot(): Array<Map<string, Binding>> {
    return this.scopes.map((m) => new Map([...m].map(([k, b]) => [k, { ...b }])));
  }

  restore(saved: Array<Map<string, Binding>>): void {
    this.scopes.length = 0;
    for (const m of saved) this.scopes.push(new Map([...m].map(([k, b]) => [k, { ...b }])));
  }

  /** An `if` without `return`s: both branches run, then each variable they assign is selected. */
  ifMerge(st: A.IfStatement): void {
    const test = this.expr(st.test);
    const before = this.snapshot();
    this.scoped(st.consequent);
    const afterThen = this.snapshot();
    this.restore(before);
    if (st.alternate) this.scoped(st.alternate);
    this.scopes.forEach((m, level) => {
      for (const [name, b] of m) {
        const t = afterThen[level]?.get(name);
        if (t !== undefined && 'val' in t && 'val' in b && t.val !== b.val) {
          b.val = this.select(test, t.val, b.val);
        }
      }
    });
  }

  scoped(st: A.Statement): void {
    this.scopes.push(new Map());
    if (st.type === 'BlockStatement') for (const inner of st.body) this.statement(inner);
    else this.statement(st);
    this.scopes.pop();
  }

  statement(st: A.Statement | A.ModuleDeclaration): void {
    switch (st.type) {
      case 'EmptyStatement':
        return;
      case 'ExpressionStatement':
        if (st.directive !== undefined) return; // "use strict"
        this.expr(st.expression);
        return;
      case 'VariableDeclaration':
        this.declaration(st);
        return;
      case 'IfStatement':
        if (returns(st)) this.fail(st, 'a `return` inside an `if` nested in a block without one');
        this.ifMerge(st);
        return;
      case 'BlockStatement':
        this.scopes.push(new Map());
        for (const inner of st.body) {
          if (inner.type === 'ReturnStatement') this.fail(inner, 'a `return` inside a nested block');
          this.statement(inner);
        }
        this.scopes.pop();
        return;
      default: {
        const [what, hint] = STATEMENT_NAMES[st.type] ?? [`a ${st.type}`];
        this.fail(st, what, hint);
      }
    }
  }

  declaration(st: A.VariableDeclaration): void {
    if (st.kind === 'var') this.fail(st, '`var`', 'use const or let');
    if (st.kind !== 'const' && st.kind !== 'let') this.fail(st, `a \`${st.kind}\` declaration`);
    for (const d of st.declarations) {
      if (d.id.type !== 'Identifier') this.fail(d.id, 'a destructuring declaration');
      if (d.init === null || d.init === undefined) {
        this.fail(d, `a \`${st.kind}\` without an initial value`);
      }
      const name = d.id.name;
      this.declare(name, { kind: 'tdz', name });
      const val = this.expr(d.init);
      this.declare(name, { kind: st.kind, name, val });
    }
  }

  // ---- expressions --------------------------------------------------------------------------

  expr(node: A.Expression | A.Literal | A.Super | A.PrivateIdentifier | A.SpreadElement): Val {
    switch (node.type) {
      case 'Literal':
        return this.literal(node);
      case 'Identifier':
        return this.identifier(node);
      case 'UnaryExpression':
        return this.unary(node);
      case 'UpdateExpression':
        return this.update(node);
      case 'BinaryExpression':
        return this.binary(node);
      case 'LogicalExpression':
        return this.logical(node);
      case 'ConditionalExpression': {
        const c = this.expr(node.test);
        const a = this.expr(node.consequent);
        const b = this.expr(node.alternate);
        return this.select(c, a, b);
      }
      case 'CallExpression':
        return this.call(node);
      case 'MemberExpression':
        return this.member(node);
      case 'SequenceExpression': {
        let last: Val | undefined;
        for (const e of node.expressions) last = this.expr(e);
        return last as Val;
      }
      case 'AssignmentExpression':
        return this.assignment(node);
      case 'ParenthesizedExpression':
        return this.expr(node.expression);
      default: {
        const [what, hint] = EXPRESSION_NAMES[node.type] ?? [`a ${node.type}`];
        this.fail(node, what, hint);
      }
    }
  }

  literal(node: A.Literal): Val {
    const v = node.value;
    if (typeof v === 'number') return this.constant(v);
    if (typeof v === 'boolean') return this.bool(v);
    if (node.bigint !== undefined) this.fail(node, 'a BigInt literal');
    if (node.regex !== undefined) this.fail(node, 'a regular expression');
    if (v === null) this.fail(node, '`null`');
    this.fail(node, 'a string', 'par closures compute with numbers and booleans only');
  }

  identifier(node: A.Identifier): Val {
    const b = this.lookup(node.name);
    if (b !== undefined) {
      if (b.kind === 'tdz') this.fail(node, `\`${node.name}\` before its declaration`);
      return b.val;
    }
    switch (node.name) {
      case 'NaN':
        return this.constant(NaN);
      case 'Infinity':
        return this.constant(Infinity);
      case 'undefined':
        return this.fail(node, '`undefined`', 'par closures compute with numbers and booleans only');
      case 'arguments':
        return this.fail(node, '`arguments`');
      case 'Math':
      case 'Number':
        return this.fail(node, `\`${node.name}\` as a value`, `call its functions or read its constants: ${node.name}.…`);
      default:
        return this.fail(
          node,
          `the outer variable \`${node.name}\``,
          `closures cannot see outer variables; pass it explicitly as a capture: (x, i, { ${node.name} }) => ..., { ${node.name} }`,
        );
    }
  }

  unary(node: A.UnaryExpression): Val {
    switch (node.operator) {
      case '-':
        return this.emit('Neg', [this.expr(node.argument)], 'number');
      case '+':
        return this.asNumber(this.expr(node.argument));
      case '!':
        return this.emit('Not', [this.expr(node.argument)], 'boolean');
      case '~':
        return this.emit('BitNot', [this.expr(node.argument)], 'number');
      default:
        this.fail(node, `the \`${node.operator}\` operator`);
    }
  }

  /** The binding an assignment or update writes, or an error naming what it would write. */
  target(node: A.Pattern | A.Expression): Binding & { kind: 'param' | 'let' } {
    if (node.type === 'MemberExpression') this.fail(node, 'an assignment to a property');
    if (node.type !== 'Identifier') this.fail(node, 'a destructuring assignment');
    const b = this.lookup(node.name);
    if (b === undefined) {
      this.fail(node, `an assignment to the outer variable \`${node.name}\``, 'par closures cannot have side effects');
    }
    switch (b.kind) {
      case 'param':
      case 'let':
        return b as Binding & { kind: 'param' | 'let' };
      case 'const':
        return this.fail(node, `an assignment to the constant \`${node.name}\``);
      case 'capture':
        return this.fail(node, `an assignment to the captured value \`${node.name}\``, 'captures are read-only');
      case 'tdz':
        return this.fail(node, `\`${node.name}\` before its declaration`);
    }
  }

  update(node: A.UpdateExpression): Val {
    const b = this.target(node.argument);
    const old = this.asNumber(b.val);
    const next = this.emit(node.operator === '++' ? 'Add' : 'Sub', [old, this.constant(1)], 'number');
    b.val = next;
    return node.prefix ? next : old;
  }

  assignment(node: A.AssignmentExpression): Val {
    const b = this.target(node.left);
    let val: Val;
    if (node.operator === '=') {
      val = this.expr(node.right);
    } else if (node.operator === '&&=' || node.operator === '||=' || node.operator === '??=') {
      const old = b.val;
      const r = this.expr(node.right);
      val = node.operator === '&&=' ? this.select(old, r, old) : node.operator === '||=' ? this.select(old, old, r) : old;
    } else {
      const op = COMPOUND[node.operator];
      if (op === undefined) this.fail(node, `the \`${node.operator}\` operator`);
      const old = b.val;
      val = this.arith(node, op, old, this.expr(node.right));
    }
    b.val = val;
    return val;
  }

  binary(node: A.BinaryExpression): Val {
    if (node.left.type === 'PrivateIdentifier') this.fail(node.left, 'a private name');
    if (node.operator === 'in' || node.operator === 'instanceof') {
      this.fail(node, `the \`${node.operator}\` operator`);
    }
    const l = this.expr(node.left);
    const r = this.expr(node.right);
    return this.arith(node, node.operator, l, r);
  }

  arith(node: A.Node, operator: A.BinaryOperator, l: Val, r: Val): Val {
    if (operator === '===' || operator === '!==') {
      const eq = operator === '===';
      if (l.type === 'mixed' || r.type === 'mixed') {
        this.fail(
          node,
          `\`${operator}\` on a value that may be a boolean or a number`,
          'make both sides numbers (for example with +value) or use ==',
        );
      }
      if (l.type !== r.type) return this.bool(!eq);
      return this.emit(eq ? 'Eq' : 'Ne', [l, r], 'boolean');
    }
    const op = BINARY_OPS[operator];
    if (op === undefined) this.fail(node, `the \`${operator}\` operator`);
    return this.emit(op, [l, r], COMPARISONS.has(op) ? 'boolean' : 'number');
  }

  logical(node: A.LogicalExpression): Val {
    const l = this.expr(node.left);
    const r = this.expr(node.right);
    switch (node.operator) {
      case '&&':
        return this.select(l, r, l);
      case '||':
        return this.select(l, l, r);
      case '??':
        // A number or boolean is never null or undefined: the right side is never used.
        return l;
    }
  }

  /** `Math.NAME` / `Number.NAME` when `node` is such a member expression (not shadowed). */
  namespaced(node: A.Expression | A.Super): { ns: 'Math' | 'Number'; name: string; node: A.MemberExpression } | undefined {
    if (node.type !== 'MemberExpression') return undefined;
    if (node.object.type !== 'Identifier') return undefined;
    const ns = node.object.name;
    if ((ns !== 'Math' && ns !== 'Number') || this.lookup(ns) !== undefined) return undefined;
    if (node.optional) this.fail(node, 'optional chaining (`?.`)');
    if (node.computed || node.property.type !== 'Identifier') {
      this.fail(node.property, `a computed \`${ns}[...]\` access`, `write ${ns}.name`);
    }
    return { ns, name: node.property.name, node };
  }

  member(node: A.MemberExpression): Val {
    const m = this.namespaced(node);
    if (m !== undefined) {
      if (m.ns === 'Math' && MATH_CONSTANTS.has(m.name)) {
        return this.constant((Math as unknown as Record<string, number>)[m.name] as number);
      }
      if (m.ns === 'Number' && NUMBER_CONSTANTS.has(m.name)) {
        return this.constant((Number as unknown as Record<string, number>)[m.name] as number);
      }
      this.fail(node, `\`${m.ns}.${m.name}\` as a value`);
    }
    // Report what the object is first, when that is the problem (`this.k`, `[a][0]`).
    this.expr(node.object);
    this.fail(node, 'a property access', 'only Math.* and Number.* constants can be read');
  }

  call(node: A.CallExpression): Val {
    if (node.optional) this.fail(node, 'an optional call (`?.()`)');
    const callee = node.callee;
    const global = callee.type === 'Identifier' && this.lookup(callee.name) === undefined ? callee.name : undefined;
    const m = global === 'isNaN' || global === 'isFinite' ? undefined : this.namespaced(callee);
    if (m === undefined && global !== 'isNaN' && global !== 'isFinite') {
      // Report what the callee is first, when that is the problem (a nested function, `this.f`).
      if (callee.type === 'MemberExpression') this.expr(callee.object);
      else if (callee.type !== 'Identifier') this.expr(callee);
      const text = this.src.slice(callee.start, callee.end);
      this.fail(
        node,
        `a call to \`${text.length > 40 ? `${text.slice(0, 37)}...` : text}\``,
        'only Math.* functions and Number.isNaN/isFinite/isInteger/isSafeInteger can be called',
      );
    }
    const args: Val[] = node.arguments.map((a) => {
      if (a.type === 'SpreadElement') this.fail(a, 'spread (`...`) arguments');
      return this.expr(a);
    });
    const arg = (n: number): Val => args[n] ?? this.constant(NaN);
    if (m === undefined) return this.emit(global === 'isNaN' ? 'IsNaN' : 'IsFinite', [arg(0)], 'boolean');
    if (m.ns === 'Number') {
      const op = NUMBER_PREDICATES.get(m.name);
      if (op === undefined) this.fail(node, `a call to \`Number.${m.name}\``);
      const v = arg(0);
      if (args.length === 0 || v.type === 'boolean') return this.bool(false);
      if (v.type === 'mixed') {
        this.fail(node, `\`Number.${m.name}\` of a value that may be a boolean or a number`);
      }
      return this.emit(op, [v], 'boolean');
    }
    const name = m.name;
    const unary = MATH_UNARY.get(name);
    if (unary !== undefined) return this.emit(unary, [arg(0)], 'number');
    const binary = MATH_BINARY.get(name);
    if (binary !== undefined) return this.emit(binary, [arg(0), arg(1)], 'number');
    if (name === 'max' || name === 'min') {
      if (args.length === 0) return this.constant(name === 'max' ? -Infinity : Infinity);
      let acc = this.asNumber(args[0]!);
      for (const a of args.slice(1)) acc = this.emit(name === 'max' ? 'Max' : 'Min', [acc, a], 'number');
      return acc;
    }
    if (name === 'hypot') {
      if (args.length === 0) return this.constant(0);
      return this.emit('Hypot', args, 'number');
    }
    if (name === 'random') this.fail(node, '`Math.random`', 'par closures must be pure');
    this.fail(node, `a call to \`Math.${name}\``);
  }

  // ---- dead code, registers -----------------------------------------------------------------

  finish(result: Val, fn: A.Node): CompiledClosure {
    // Dead code: keep instructions whose value reaches the result.
    const live = new Set<number>();
    if (result.at.k === 'vreg') live.add(result.at.n);
    const kept: VInstr[] = [];
    for (let j = this.instrs.length - 1; j >= 0; j--) {
      const ins = this.instrs[j]!;
      if (!live.has(ins.dst)) continue;
      kept.push(ins);
      for (const a of ins.args) if (a.k === 'vreg') live.add(a.n);
    }
    kept.reverse();
    // Last use of every vreg (the result lives to the end).
    const lastUse = new Map<number, number>();
    kept.forEach((ins, j) => {
      for (const a of ins.args) if (a.k === 'vreg') lastUse.set(a.n, j);
    });
    if (result.at.k === 'vreg') lastUse.set(result.at.n, Infinity);
    // Linear scan: operands that die at an instruction free their temporary before its result
    // is placed, so a result may reuse an operand's register (the evaluator allows it).
    const free: number[] = [];
    const tempOf = new Map<number, number>();
    let ntemps = 0;
    const operand = (a: VOperand): Operand => (a.k === 'vreg' ? { k: 'temp', n: tempOf.get(a.n) as number } : a);
    const code: Instr[] = kept.map((ins, j) => {
      const args = ins.args.map(operand);
      for (const a of new Set(ins.args.filter((x) => x.k === 'vreg').map((x) => x.n))) {
        if (lastUse.get(a) === j) free.push(tempOf.get(a) as number);
      }
      free.sort((p, q) => q - p);
      const t = free.pop() ?? ntemps++;
      tempOf.set(ins.dst, t);
      return { op: ins.op, dst: t, args };
    });
    if (ntemps + this.consts.length + this.captureKeys.length + 2 > MAX_REGS) {
      this.fail(fn, 'a closure too large to compile', `it needs more than ${MAX_REGS} registers`);
    }
    return {
      kind: this.kind,
      code,
      result: operand(result.at),
      resultType: result.type,
      consts: this.consts,
      captures: this.captureKeys,
      ntemps,
    };
  }
}

/** What to compile a closure as. */
export interface CompileRequest {
  readonly kind: ClosureKind;
  /** The types of the two data parameters (`x, i`, or `acc, x` for reduce). */
  readonly paramTypes: readonly [ValueType, ValueType];
  /** Over a `par.zip` of this many columns, the closure's first parameters are a row's columns. */
  readonly columns?: number;
  /** The captures object given with the closure, if any. */
  readonly captures: Captures | undefined;
}

const cache = new Map<string, CompiledClosure>();
const CACHE_MAX = 512;

/** The static types of a captures object's values (numbers and booleans only). */
export function captureTypes(captures: Captures | undefined): Map<string, ValueType> | undefined {
  if (captures === undefined) return undefined;
  if (typeof captures !== 'object' || captures === null) {
    throw new InvalidArgumentError(`captures must be an object of numbers and booleans, got ${describe(captures)}`);
  }
  const types = new Map<string, ValueType>();
  let entries: Array<[string, unknown]>;
  try {
    entries = Object.entries(captures);
  } catch (err) {
    throw new InvalidArgumentError(`reading the captures threw: ${thrownMessage(err)}`, { cause: err });
  }
  for (const [k, v] of entries) {
    if (typeof v === 'number') types.set(k, 'number');
    else if (typeof v === 'boolean') types.set(k, 'boolean');
  }
  return types;
}

/**
 * Compiles `fn` (cached by source text, kind and types). Throws `ParCompileError` for anything
 * outside the subset and `InvalidArgumentError` when the captures do not match the closure.
 */
/** The `construct` of a ParCompileError for a closure whose source text is not JavaScript that
 * rebuilds it: the fallback pool cannot run it either. */
export const NATIVE_FUNCTION = 'a native or bound function';
export const UNPARSABLE_SOURCE = 'source that does not parse as a function expression';

export function compileClosure(fn: AnyFunction, req: CompileRequest): CompiledClosure {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`par expects a function, got ${typeof fn}`);
  }
  const src = Function.prototype.toString.call(fn);
  const types = captureTypes(req.captures);
  const typeKey =
    types === undefined
      ? '-'
      : [...types]
          .map(([k, t]) => `${k}:${t[0]}`)
          .sort()
          .join(',');
  const columns = req.columns ?? 1;
  const key = `${req.kind}|${req.paramTypes.join(',')}|${columns}|${typeKey}|${src}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const compiled = new ClosureCompiler(src, req.kind, { types: req.paramTypes, columns }, types).compile();
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, compiled);
  return compiled;
}
