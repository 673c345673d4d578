// TypeScript task modules, run as a user runs them: a small TS project (fixtures/ts-project.ts)
// written into a temporary directory, with weftjs, tsx and fastify linked into its node_modules,
// started as real child processes in every world that can load TypeScript: the tsx CLI and
// `node --import tsx` (Node 20 and 24), NODE_OPTIONS=--import=tsx (Node 20), Node's type stripping
// (22 with the flag, 24 and 26 by default), and tsc's output under plain Node 20. Then the rule
// that finds the task module (the named file, else its .js/.ts sibling) and its errors, in this
// process.
//
// The worlds run with the official binaries of each major (scripts/registry-cache.mjs), two at a
// time, each a few seconds. A run of the suite on another major (scripts/test-matrix.mjs sets
// WEFT_TEST_NODE_MAJOR) skips them: the run on the machine's own Node already started every world
// with its own binary.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
// @ts-expect-error: a plain .mjs script without declarations (nodeBinary is typed below).
import { nodeBinary as nodeBinaryUntyped } from '../../scripts/registry-cache.mjs';
import { Pool, WeftError } from '../../src/index.js';
import { loadFailureHint, resolveTaskModule, siblingOf, type TaskModuleLocation } from '../../src/pool/module.js';
import { TS_PROJECT } from '../fixtures/ts-project.js';
import { ROOT } from '../helpers.js';

const nodeBinary = nodeBinaryUntyped as (major: number) => string;

const CHILD_TIMEOUT_MS = 60_000;
const CONCURRENCY = 2;

// ---------------------------------------------------------------------------------------------
// The project and the worlds

let project = '';

test.before(() => {
  project = mkdtempSync(join(tmpdir(), 'weft-ts-project-'));
  for (const [name, text] of Object.entries(TS_PROJECT)) writeFileSync(join(project, name), text);
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '@types'), { recursive: true });
  // weftjs is the repository itself: the child imports the built package (dist/) as a user would.
  symlinkSync(ROOT, join(modules, 'weftjs'), 'junction');
  for (const dep of ['tsx', 'fastify', 'typescript', '@types/node'])
    symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep), 'junction');
});

test.after.always(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

/** At most CONCURRENCY child processes at once (the machine may have two cores). */
let running = 0;
const waiting: Array<() => void> = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return limited(
    () =>
      new Promise<Run>((resolve) => {
        const started = Date.now();
        // Without the parent's NODE_OPTIONS: ava's own loader flags must not leak into the worlds.
        const { NODE_OPTIONS: _, ...parentEnv } = process.env;
        execFile(
          command,
          args,
          { cwd: project, env: { ...parentEnv, ...env }, timeout: CHILD_TIMEOUT_MS, maxBuffer: 16 << 20 },
          (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
            resolve({ code, stdout, stderr, ms: Date.now() - started });
          },
        );
      }),
  );
}

type World = 'tsx' | 'strip' | 'compiled';

interface Result {
  world: World;
  node: string;
  js: unknown;
  ts: unknown;
  cwd: unknown;
  tsx?: unknown;
  actor: unknown;
  fastify: unknown;
}

function resultOf(r: Run): Result {
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`no RESULT line (exit ${String(r.code)})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return JSON.parse(line.slice('RESULT '.length)) as Result;
}

/** What main.ts must print in `world` on Node `major`. */
function expected(world: World, _major: number): Omit<Result, 'node' | 'cwd'> {
  const tasks = world === 'compiled' ? join('out', 'tasks.js') : 'tasks.ts';
  return {
    world,
    js: { module: tasks, fib: 6765, squares: 14 },
    ts: { module: tasks, fib: 55 },
    ...(world === 'strip' ? {} : { tsx: { module: world === 'compiled' ? join('out', 'tsx-tasks.js') : 'tsx-tasks.ts', doubled: 110 } }),
    actor: { n: 42, onWorker: true },
    fastify: { module: tasks, status: 200, fib: { fib: 610 }, hits: { hits: 2, onWorker: true } },
  };
}

const matrixRun = process.env.WEFT_TEST_NODE_MAJOR !== undefined;
const worldTest = matrixRun ? test.skip : test;

const WORLDS: Array<{ title: string; world: World; major: number; args: () => string[]; env?: Record<string, string> }> = [
  { title: 'tsx CLI', world: 'tsx', major: 20, args: () => ['node_modules/tsx/dist/cli.mjs', 'main.ts'] },
  { title: 'node --import tsx', world: 'tsx', major: 20, args: () => ['--import', 'tsx', 'main.ts'] },
  { title: 'NODE_OPTIONS=--import=tsx', world: 'tsx', major: 20, args: () => ['main.ts'], env: { NODE_OPTIONS: '--import=tsx' } },
  { title: 'tsx CLI', world: 'tsx', major: 24, args: () => ['node_modules/tsx/dist/cli.mjs', 'main.ts'] },
  { title: 'node --import tsx', world: 'tsx', major: 24, args: () => ['--import', 'tsx', 'main.ts'] },
  {
    title: 'type stripping (--experimental-strip-types)',
    world: 'strip',
    major: 22,
    args: () => ['--experimental-strip-types', 'main.ts'],
  },
  { title: 'type stripping (the default)', world: 'strip', major: 24, args: () => ['main.ts'] },
  { title: 'type stripping (the default)', world: 'strip', major: 26, args: () => ['main.ts'] },
];

for (const w of WORLDS) {
  worldTest(
    `${w.title} on Node ${w.major}: tasks.ts as a Pool module (./tasks.js and ./tasks.ts), actors on workers, the Fastify plugin`,
    async (t) => {
      const node = nodeBinary(w.major);
      const r = await run(node, w.args(), { ...w.env, WORLD: w.world });
      t.log(`${r.ms} ms`);
      const result = resultOf(r);
      t.is(Number(result.node.split('.')[0]), w.major);
      const { node: _node, cwd, ...rest } = result;
      t.deepEqual(rest, expected(w.world, w.major), r.stderr);
      // './tasks.ts' as a plain path: relative to the working directory (the project).
      t.deepEqual(cwd, { module: 'tasks.ts', fib: 5 });
    },
  );
}

worldTest(
  'compiled by tsc, on plain Node 20: tasks.js found for ./tasks.ts; a .ts module fails at new Pool saying how to run it',
  async (t) => {
    const node = nodeBinary(20);
    const tsc = await run(node, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    t.is(tsc.code, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    const r = await run(node, [join('out', 'main.js')], { WORLD: 'compiled' });
    t.log(`tsc ${tsc.ms} ms, run ${r.ms} ms`);
    const result = resultOf(r);
    t.is(Number(result.node.split('.')[0]), 20);
    const { node: _node, cwd, ...rest } = result;
    t.deepEqual(rest, expected('compiled', 20), r.stderr);
    // The plain path './tasks.ts' names the source, which plain Node 20 cannot load.
    const { code, message } = cwd as { code: string; message: string };
    t.is(code, 'WEFT_INVALID_ARG', message);
    t.true(message.includes(join(project, 'tasks.ts')), message);
    t.regex(message, /cannot load TypeScript/);
    t.regex(message, /tsx main\.ts/);
    t.regex(message, /--experimental-strip-types/);
  },
);

// ---------------------------------------------------------------------------------------------
// The rule, in this process (which runs under tsx)

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-module-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('siblings: .js <-> .ts, .mjs <-> .mts, .cjs <-> .cts; nothing for other extensions', (t) => {
  t.is(siblingOf('/a/tasks.js'), '/a/tasks.ts');
  t.is(siblingOf('/a/tasks.ts'), '/a/tasks.js');
  t.is(siblingOf('/a/tasks.mjs'), '/a/tasks.mts');
  t.is(siblingOf('/a/tasks.mts'), '/a/tasks.mjs');
  t.is(siblingOf('/a/tasks.cjs'), '/a/tasks.cts');
  t.is(siblingOf('/a/tasks.cts'), '/a/tasks.cjs');
  t.is(siblingOf('/a/tasks.jsx'), undefined);
  t.is(siblingOf('/a/tasks'), undefined);
});

test('the named file when it exists, else its sibling; pool.module says which was loaded', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'only.mjs'), 'export function which() { return "only.mjs"; }\n');
  writeFileSync(join(dir, 'only.cjs'), 'exports.which = () => "only.cjs";\n');
  writeFileSync(join(dir, 'both.mjs'), 'export function which() { return "both.mjs"; }\n');
  writeFileSync(join(dir, 'both.mts'), 'export function which(): string { return "both.mts"; }\n');
  const cases: Array<[string, string]> = [
    ['only.mts', 'only.mjs'], // missing .mts: its .mjs sibling
    ['only.cts', 'only.cjs'],
    ['both.mjs', 'both.mjs'], // both exist: the named one
    ['both.mts', 'both.mts'],
  ];
  for (const [named, loaded] of cases) {
    const pool = new Pool<{ which(): string }>({ module: pathToFileURL(join(dir, named)), threads: 1 });
    try {
      t.is(pool.module, pathToFileURL(join(dir, loaded)).href, named);
      t.is(await pool.run('which'), loaded, named);
    } finally {
      await pool.destroy();
    }
  }
});

test('a missing module: WEFT_INVALID_ARG naming both files, the directory a relative path was resolved against, and the new URL form', (t) => {
  const dir = tempDir(t);
  const rel = relative(process.cwd(), join(dir, 'tasks.js'));
  const err = t.throws(() => new Pool({ module: rel }));
  t.true(err instanceof WeftError && err.code === 'WEFT_INVALID_ARG');
  const { message } = err as Error;
  t.true(message.includes(join(dir, 'tasks.js')), message);
  t.true(message.includes(join(dir, 'tasks.ts')), message);
  t.true(message.includes(`working directory ${process.cwd()}`), message);
  t.true(message.includes("new URL('./tasks.js', import.meta.url)"), message);

  // A URL (or an absolute path) needs no directory; a TypeScript name is shown in its .js form.
  const viaUrl = t.throws(() => new Pool({ module: pathToFileURL(join(dir, 'tasks.mts')) }));
  t.true(viaUrl instanceof WeftError && viaUrl.code === 'WEFT_INVALID_ARG');
  t.false(viaUrl!.message.includes('working directory'), viaUrl!.message);
  t.true(viaUrl!.message.includes(join(dir, 'tasks.mjs')), viaUrl!.message);
  t.true(viaUrl!.message.includes("new URL('./tasks.mjs', import.meta.url)"), viaUrl!.message);
});

test('resolveTaskModule: a TypeScript module under tsx carries tsx for the workers, and a probe only when the .js name is free', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'b.ts'), 'export const b = 1;\n');
  writeFileSync(join(dir, 'b.js'), 'exports.b = 1;\n');
  const a = resolveTaskModule(pathToFileURL(join(dir, 'a.js')));
  t.like(a, {
    path: join(dir, 'a.ts'),
    named: join(dir, 'a.js'),
    sibling: true,
    typescript: true,
    probe: pathToFileURL(join(dir, 'a.js')).href,
  });
  // This process runs under tsx (ava's --import=tsx): the workers get the same tsx.
  t.regex(a.tsx ?? '', /\/tsx\/dist\/esm\/api\/index\.mjs$/);
  const b = resolveTaskModule(join(dir, 'b.ts'));
  t.like(b, { sibling: false, typescript: true });
  t.is(b.probe, undefined);
  const js = resolveTaskModule(join(dir, 'b.js'));
  t.like(js, { typescript: false });
  t.is(js.tsx, undefined);
});

test('load failures of a TypeScript module get a hint on how to run it', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'helper.ts'), 'export const h = 1;\n');
  const ts: TaskModuleLocation = {
    url: pathToFileURL(join(dir, 'tasks.ts')).href,
    path: join(dir, 'tasks.ts'),
    named: join(dir, 'tasks.ts'),
    sibling: false,
    typescript: true,
  };
  t.regex(loadFailureHint(ts, 'ERR_UNKNOWN_FILE_EXTENSION', '') ?? '', /tsx main\.ts.*--experimental-strip-types/);
  t.regex(loadFailureHint(ts, 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', '') ?? '', /erasable/);
  t.regex(
    loadFailureHint(ts, 'ERR_MODULE_NOT_FOUND', `Cannot find module '${join(dir, 'helper.js')}' imported from ${ts.path}`) ?? '',
    /by their \.ts name/,
  );
  t.is(loadFailureHint(ts, 'ERR_MODULE_NOT_FOUND', `Cannot find package 'left-pad' imported from ${ts.path}`), undefined);
  t.is(loadFailureHint({ ...ts, typescript: false }, 'ERR_UNKNOWN_FILE_EXTENSION', ''), undefined);
});
