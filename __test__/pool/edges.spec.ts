// Rough edges a newcomer hits: pool.map on tasks of several parameters and on things that are not
// lists, errors thrown by tasks (class, message, code, stack, cause, own properties), unknown
// option names (with the nearest valid one) and a missing native binary.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Pool, WeftError, isWeftError, par } from '../../src/index.js';
import { WireReader, WireWriter } from '../../src/internal/wire.js';
import { checkOptionNames, editDistance, nearestName, unknownOptionMessage } from '../../src/internal/options.js';
import { ParCompileError } from '../../src/par/errors.js';
import { platformSuffix } from '../../src/native.js';
import { ROOT, rejection } from '../helpers.js';

const TASKS = join(__dirname, '..', 'fixtures/edges-tasks.mjs');
const VERSION = (require('../../package.json') as { version: string }).version;

let shared: Pool | undefined;
function pool(): Pool {
  shared ??= new Pool({ module: TASKS, threads: 2, name: 'edges' });
  return shared;
}
test.after.always(async () => {
  await shared?.destroy();
});

// ---------------------------------------------------------------------------------------------
// pool.map and tasks of several parameters

test('map on a task of two parameters rejects WEFT_INVALID_ARG instead of calling it with one', async (t) => {
  const err = await rejection(
    t,
    pool().map('binary', [
      [1, 2],
      [3, 4],
    ]),
  );
  t.true(isWeftError(err, 'WEFT_INVALID_ARG'), String(err));
  t.regex((err as Error).message, /"binary".*declares 2 parameters/);
  t.regex((err as Error).message, /spread: true/);
});

test('map with { spread: true } calls the task with each item as its argument list', async (t) => {
  t.deepEqual(
    await pool().map(
      'binary',
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { spread: true },
    ),
    [12, 34, 56],
  );
  t.deepEqual(await pool().map('binary', new Set([[7, 8]]), { spread: true, chunkSize: 1 }), [78]);
  t.deepEqual(await pool().map('binary', [], { spread: true }), []);
});

test('map without spread: one argument per item, arrays included, defaults apply', async (t) => {
  t.deepEqual(
    await pool().map('sumArray', [
      [1, 2],
      [3, 4, 5],
    ]),
    [3, 12],
  );
  t.deepEqual(await pool().map('withDefault', [1, 2]), [6, 7]);
  t.deepEqual(await pool().map('unary', [1, 2, 3]), [2, 4, 6]);
});

test('map with spread rejects an item that is not an argument list', async (t) => {
  const err = await rejection(t, pool().map('binary', [[1, 2], 3 as never], { spread: true }));
  t.true(isWeftError(err, 'WEFT_INVALID_ARG'));
  t.regex((err as Error).message, /item 1 is number/);
});

test('map on undefined, null, a string or a number rejects WEFT_INVALID_ARG', async (t) => {
  for (const items of [undefined, null, 'abc', 42, {}]) {
    const err = await rejection(t, pool().map('unary', items as never));
    t.true(isWeftError(err, 'WEFT_INVALID_ARG'), `${String(items)}: ${String(err)}`);
    t.regex((err as Error).message, /items must be an array or another iterable object/);
  }
});

// ---------------------------------------------------------------------------------------------
// Errors thrown by tasks

type Described = Error & { code?: unknown; cause?: unknown; [k: string]: unknown };

async function thrown(t: ExecutionContext, name: string, ...args: unknown[]): Promise<Described> {
  return (await rejection(t, pool().run(name, ...args))) as Described;
}

test('a custom subclass (class MyError extends Error) keeps its class name, name, message and stack', async (t) => {
  for (const task of ['throwMyError', 'rejectMyError']) {
    const err = await thrown(t, task, 'it broke');
    t.true(err instanceof Error);
    t.is(err.constructor.name, 'MyError');
    t.is(err.name, 'Error', 'as on the worker: MyError does not set a name');
    t.is(err.message, 'it broke');
    t.false(isWeftError(err));
    t.regex(err.stack ?? '', /^Error: it broke\n\s+at (async )?\S*MyError\S* .*edges-tasks\.mjs:\d+:\d+/);
  }
});

test('a subclass that sets its name keeps it (own and enumerable as in the worker)', async (t) => {
  const err = await thrown(t, 'throwNamed', 'named');
  t.is(err.constructor.name, 'NamedError');
  t.is(err.name, 'NamedError');
  t.true(Object.getOwnPropertyDescriptor(err, 'name')?.enumerable);
  t.regex(err.stack ?? '', /^NamedError: named\n\s+at throwNamed .*edges-tasks\.mjs:26:9/);
});

test('an error with a code keeps it', async (t) => {
  const err = await thrown(t, 'throwWithCode', 'coded');
  t.is(err.constructor, Error);
  t.is(err.code, 'E_CUSTOM');
  t.is(err.message, 'coded');
  t.regex(err.stack ?? '', /^Error: coded\n\s+at throwWithCode .*edges-tasks\.mjs:30:23/);
});

test('a cause chain arrives whole: every level with its class, name, message, code and stack', async (t) => {
  const top = await thrown(t, 'throwCauseChain');
  t.is(top.constructor.name, 'HttpError');
  t.is(top.name, 'HttpError');
  t.is(top.message, 'top');
  t.is(top.status, 503);
  t.regex(top.stack ?? '', /^HttpError: top\n\s+at throwCauseChain .*edges-tasks\.mjs:37:9/);
  const mid = top.cause as Described;
  t.is(mid.constructor.name, 'MyError');
  t.is(mid.message, 'middle');
  t.is(mid.code, 'E_MID');
  t.regex(mid.stack ?? '', /edges-tasks\.mjs:36:29/);
  const root = mid.cause as Described;
  t.true(root instanceof TypeError);
  t.is(root.constructor, TypeError);
  t.is(root.message, 'root cause');
  t.regex(root.stack ?? '', /^TypeError: root cause\n\s+at throwCauseChain .*edges-tasks\.mjs:35:16/);
  t.false(Object.hasOwn(root, 'cause'));
});

test('own enumerable properties arrive (those that can be cloned)', async (t) => {
  const err = await thrown(t, 'throwWithProps');
  t.true(err instanceof RangeError);
  t.is(err.message, 'with props');
  t.is(err.retryable, true);
  t.deepEqual(err.details, { host: 'db', attempts: [1, 2, 3] });
  t.true(err.when instanceof Date);
  t.is((err.when as Date).getTime(), 0);
  t.false('callback' in err, 'a function cannot cross; the rest of the error does');
  t.deepEqual(Object.keys(err).sort(), ['details', 'retryable', 'when']);
});

test('a thrown value that is not an Error arrives as that value', async (t) => {
  for (const value of [42, 'a string', null, undefined, { a: [1, 'b'] }, [1, 2], 10n]) {
    t.deepEqual(await rejection(t, pool().run('throwValue', value)), value);
  }
});

test('wire: subclasses of built-in and weft errors come back as classes of the same names', (t) => {
  class QuotaError extends TypeError {
    readonly limit = 10;
  }
  class Deeper extends QuotaError {}
  const compile = new ParCompileError('a `for` loop', { line: 1, column: 5 }, '(x) => { for (;;); }');
  const weftCause = new InvalidArgumentError('bad input');
  const values: Error[] = [new QuotaError('over'), new Deeper('deeper', { cause: weftCause }), compile];
  const w = new WireWriter(1024);
  w.values(values);
  const [quota, deeper, par2] = new WireReader(w.view()).values() as [Error & { limit?: number }, Error, ParCompileError];
  t.is(quota.constructor.name, 'QuotaError');
  t.true(quota instanceof TypeError);
  t.is(quota.limit, 10);
  t.is(quota.stack, values[0]!.stack);
  t.is(deeper.constructor.name, 'Deeper');
  t.is(Object.getPrototypeOf(deeper.constructor).name, 'QuotaError');
  t.true(deeper instanceof quota.constructor, 'one made class per chain, shared by the errors that have it');
  t.true(isWeftError(deeper.cause, 'WEFT_INVALID_ARG'));
  t.true(deeper.cause instanceof InvalidArgumentError);
  t.is(par2.constructor.name, 'ParCompileError');
  t.true(par2 instanceof WeftError);
  t.true(isWeftError(par2, 'WEFT_PAR_COMPILE'));
  t.is(par2.name, 'ParCompileError');
  t.is(par2.construct, 'a `for` loop');
  t.is(par2.message, compile.message);
});

// ---------------------------------------------------------------------------------------------
// Unknown option names

test('editDistance and nearestName', (t) => {
  t.is(editDistance('maxQeue', 'maxQueue'), 1);
  t.is(editDistance('thraeds', 'threads'), 1, 'a transposition is one edit');
  t.is(editDistance('chunksize', 'chunkSize'), 0.5, 'a case-only difference is half an edit');
  t.is(editDistance('kitten', 'sitting'), 3);
  t.is(nearestName('maxQeue', ['module', 'threads', 'maxQueue', 'idleTimeout']), 'maxQueue');
  t.is(nearestName('idleTimout', ['module', 'threads', 'maxQueue', 'idleTimeout']), 'idleTimeout');
  t.is(nearestName('chunk', ['chunkSize', 'signal']), 'chunkSize');
  t.is(nearestName('colour', ['module', 'threads']), undefined);
  t.is(nearestName('sig', ['signal', 'spread']), 'signal');
  t.regex(unknownOptionMessage('colour', ['a', 'b'], 'X options'), /^X options: unknown option "colour" \(valid options: a, b\)$/);
  t.throws(() => checkOptionNames({ sned: 1 }, ['send'], 'test options'), { code: 'WEFT_INVALID_ARG', message: /did you mean send\?/ });
  t.notThrows(() => checkOptionNames({ send: 1, [Symbol('x')]: 1 }, ['send'], 'test options'));
});

test('new Pool with an unknown option throws WEFT_INVALID_ARG naming it and the nearest valid one', (t) => {
  const cases: Array<[string, string]> = [
    ['maxQeue', 'maxQueue'],
    ['thread', 'threads'],
    ['idleTimout', 'idleTimeout'],
    ['modul', 'module'],
  ];
  for (const [wrong, right] of cases) {
    const err = t.throws(() => new Pool({ module: TASKS, threads: 1, [wrong]: 1 } as never), { code: 'WEFT_INVALID_ARG' });
    t.true(err instanceof InvalidArgumentError);
    t.true(err.message.includes(`unknown option "${wrong}"; did you mean ${right}?`), err.message);
  }
  const err = t.throws(() => new Pool({ module: TASKS, colour: 'blue' } as never), { code: 'WEFT_INVALID_ARG' });
  t.regex(
    err.message,
    /unknown option "colour" \(valid options: module, threads, maxThreads, minThreads, maxQueue, idleTimeout, resourceLimits, name, env, argv, execArgv, workerData, trackUnmanagedFds, concurrentTasksPerWorker\)/,
  );
});

test('runWith and map reject unknown options', async (t) => {
  const a = await rejection(t, pool().runWith({ signl: new AbortController().signal } as never, 'unary', 1));
  t.true(isWeftError(a, 'WEFT_INVALID_ARG'));
  t.regex((a as Error).message, /runWith options: unknown option "signl"; did you mean signal\?/);
  const b = await rejection(t, pool().map('unary', [1], { chunksize: 2 } as never));
  t.true(isWeftError(b, 'WEFT_INVALID_ARG'));
  t.regex((b as Error).message, /pool\.map options: unknown option "chunksize"; did you mean chunkSize\?/);
  const c = await rejection(t, pool().map('binary', [[1, 2]], { sprad: true } as never));
  t.regex((c as Error).message, /did you mean spread\?/);
  t.is(await pool().runWith({ signal: new AbortController().signal }, 'unary', 2), 4, 'valid options still work');
});

test('par, toArray and sort reject unknown options', async (t) => {
  t.throws(() => par([1, 2], { fallbak: 'pool' } as never), {
    code: 'WEFT_INVALID_ARG',
    message: /par options: unknown option "fallbak"; did you mean fallback\?/,
  });
  t.throws(() => par.range(0, 3, 1, { fallBack: 'pool' } as never), { code: 'WEFT_INVALID_ARG', message: /did you mean fallback\?/ });
  await t.throwsAsync(par([1, 2]).toArray({ tpye: Float32Array } as never), { code: 'WEFT_INVALID_ARG', message: /did you mean type\?/ });
  await t.throwsAsync(par([1, 2]).sort({ descendng: true } as never), { code: 'WEFT_INVALID_ARG', message: /did you mean descending\?/ });
  t.deepEqual(Array.from(await par([1, 2]).sort({ descending: true })), [2, 1]);
});

// ---------------------------------------------------------------------------------------------
// A missing native binary

/** Loads src/native.ts from a copy of the package in a temp folder, in a child process. */
function loadNative(env: NodeJS.ProcessEnv, withBinaryFolder: boolean): { code?: string; message?: string; loaded?: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-nobin-'));
  try {
    mkdirSync(join(dir, 'src'));
    for (const f of ['src/native.ts', 'src/errors.ts', 'native.cjs', 'package.json']) copyFileSync(join(ROOT, f), join(dir, f));
    const target = withBinaryFolder ? ROOT : dir;
    const script =
      `try { require(${JSON.stringify(join(target, 'src/native.ts'))}); console.log(JSON.stringify({ loaded: true })); }` +
      ` catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['--import=tsx', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(last) as { code?: string; message?: string };
    } catch {
      return { message: `no JSON from the child: ${r.stdout} ${r.stderr}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('WEFT_NO_BINARY names the missing platform package and the command that installs it', (t) => {
  const suffix = platformSuffix();
  t.regex(suffix, /^[a-z0-9]+-[a-z0-9]+(-[a-z]+)?$/);
  const r = loadNative({ NAPI_RS_NATIVE_LIBRARY_PATH: '' }, false);
  t.is(r.code, 'WEFT_NO_BINARY', r.message);
  t.true(r.message?.includes(`"weftjs-${suffix}"`), r.message);
  t.true(r.message?.includes(`npm install weftjs-${suffix}@${VERSION}`), r.message);
  t.regex(r.message ?? '', /--omit=optional/);
});

test('WEFT_NO_BINARY with NAPI_RS_NATIVE_LIBRARY_PATH pointing nowhere says so', (t) => {
  const r = loadNative({ NAPI_RS_NATIVE_LIBRARY_PATH: '/nowhere/weft.node' }, true);
  t.is(r.code, 'WEFT_NO_BINARY', r.message);
  t.regex(r.message ?? '', /NAPI_RS_NATIVE_LIBRARY_PATH=\/nowhere\/weft\.node/);
  t.true(r.message?.includes(`weft.${platformSuffix()}.node`), r.message);
});

test('platformSuffix names the platforms as native.cjs does', (t) => {
  t.is(
    platformSuffix('linux', 'x64', () => false),
    'linux-x64-gnu',
  );
  t.is(
    platformSuffix('linux', 'arm64', () => true),
    'linux-arm64-musl',
  );
  t.is(
    platformSuffix('linux', 'arm', () => false),
    'linux-arm-gnueabihf',
  );
  t.is(
    platformSuffix('linux', 'arm', () => true),
    'linux-arm-musleabihf',
  );
  t.is(platformSuffix('darwin', 'arm64'), 'darwin-arm64');
  t.is(platformSuffix('freebsd', 'x64'), 'freebsd-x64');
  t.is(platformSuffix('android', 'arm64'), 'android-arm64');
  t.is(platformSuffix('android', 'arm'), 'android-arm-eabi');
  t.regex(platformSuffix('win32', 'x64'), /^win32-x64-(msvc|gnu)$/);
  t.is(platformSuffix('win32', 'ia32'), 'win32-ia32-msvc');
  t.is(platformSuffix('win32', 'arm64'), 'win32-arm64-msvc');
});
