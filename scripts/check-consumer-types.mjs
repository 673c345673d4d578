// npm run test:types: type-checks a consumer project against the packed weftjs, the way users
// compile it: `skipLibCheck: false` (so weft's own .d.ts files are checked too), for every
// @types/node major weft supports (20, 22, 24) and the registry's latest, in three module setups:
//   esm      "type": "module",   module/moduleResolution nodenext, verbatimModuleSyntax
//   cjs      "type": "commonjs", module/moduleResolution nodenext (the .ts files are CommonJS)
//   bundler  "type": "module",   module preserve + moduleResolution bundler, verbatimModuleSyntax
// 4 x 3 = 12 projects. Each is checked as `tsc -p` checks it (the repository's TypeScript, the
// project's tsconfig.json, every pre-emit diagnostic), on 2 worker threads (--jobs N) that keep
// TypeScript loaded and warm across projects: about 3 times faster than a tsc process per project.
//
// The fixture is __test__/consumer/*.mts, copied into each project as .ts (so that the project's
// "type" decides ESM or CommonJS). Each project sits in a temporary folder, outside the repository,
// whose node_modules holds what `npm install weftjs` would give it: the packed tarball (npm pack,
// as scripts/check-package.mjs packs it) unpacked as node_modules/weftjs, so every import goes
// through its package.json "exports"; weft's dependencies and the optional peers fastify and
// prom-client linked from the repository's node_modules; and its own @types/node, fetched into
// node_modules/.cache by scripts/registry-cache.mjs (`latest` is asked of the registry each run;
// offline, the cached one). After each check, the program's file list must show that one
// @types/node only, and weft's types from node_modules/weftjs only.
//   node scripts/check-consumer-types.mjs [--jobs N] [--keep] [--types 20,22,24,latest] [--modes esm,cjs,bundler]
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import ts from 'typescript';
import { ROOT, ensureBuilt, packRoot } from './check-package.mjs';
import { ensurePackage } from './registry-cache.mjs';

const args = process.argv.slice(2);
const jobsArg = args.indexOf('--jobs');
const JOBS = jobsArg >= 0 ? Math.max(1, Number(args[jobsArg + 1]) || 1) : 2;
const KEEP = args.includes('--keep');

/** `--name a,b`: the listed values only (for a quick local run), else all of `all`. */
function pick(name, all) {
  const i = args.indexOf(name);
  if (i < 0) return all;
  const wanted = args[i + 1]?.split(',') ?? [];
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (one of ${all.join(', ')})`);
  return wanted;
}

const TYPES_NODE = pick('--types', ['20', '22', '24', 'latest']);

const MODES = {
  esm: {
    type: 'module',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', verbatimModuleSyntax: true },
  },
  cjs: {
    type: 'commonjs',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
  },
  bundler: {
    type: 'module',
    compilerOptions: { module: 'preserve', moduleResolution: 'bundler', verbatimModuleSyntax: true },
  },
};

const MODE_NAMES = pick('--modes', Object.keys(MODES));

const COMMON_OPTIONS = {
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  forceConsistentCasingInFileNames: true,
};

const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The registry's latest @types/node version, or the `latest` spec when the registry cannot be asked. */
function latestTypesNode() {
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const out = execFileSync(npm, ['view', '@types/node@latest', 'version'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
      shell: process.platform === 'win32',
    });
    const version = out.toString().trim();
    if (/^\d+\.\d+\.\d+$/.test(version)) return version;
  } catch {}
  console.warn('check-consumer-types: could not ask the registry for the latest @types/node; using the cached `latest`');
  return 'latest';
}

/** `{ label, version, dir }` of each @types/node to check against (installed into the cache once). */
function typesNodeInstalls() {
  return TYPES_NODE.map((label) => {
    const spec = `@types/node@${label === 'latest' ? latestTypesNode() : label}`;
    const dir = realpathSync(join(ensurePackage(spec), 'node_modules', '@types', 'node'));
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { label, version, dir };
  });
}

/** A link at `link` to `target` (a junction on Windows, which needs no privilege). */
function link(target, linkPath) {
  mkdirSync(dirname(linkPath), { recursive: true });
  symlinkSync(target, linkPath, process.platform === 'win32' ? 'junction' : 'dir');
}

/**
 * Sets up `work/node_modules` as `npm install weftjs fastify prom-client` would: weftjs from the
 * packed tarball, its dependencies and peers from the repository's node_modules.
 */
function installWeft(work) {
  const { dir, info } = packRoot(join(work, 'pack'));
  mkdirSync(join(work, 'node_modules'), { recursive: true });
  renameSync(dir, join(work, 'node_modules', 'weftjs'));
  for (const name of Object.keys({ ...rootPkg.dependencies, ...rootPkg.peerDependencies })) {
    link(realpathSync(join(ROOT, 'node_modules', name)), join(work, 'node_modules', name));
  }
  return info;
}

function writeProject(dir, mode, typesNode) {
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  link(typesNode.dir, join(dir, 'node_modules', '@types', 'node'));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${mode}`, private: true, type: MODES[mode].type }, null, 2)}\n`,
  );
  const compilerOptions = { ...COMMON_OPTIONS, ...MODES[mode].compilerOptions };
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, include: ['*.ts'] }, null, 2)}\n`);
  const fixture = join(ROOT, '__test__', 'consumer');
  for (const file of readdirSync(fixture)) {
    if (file.endsWith('.mts')) cpSync(join(fixture, file), join(dir, file.replace(/\.mts$/, '.ts')));
  }
}

/** Posix-style path (TypeScript's file names use forward slashes). */
const slash = (p) => p.split(sep).join('/');

/**
 * Type-checks one project as `tsc -p dir` does (the repository's TypeScript, the project's
 * tsconfig.json, all pre-emit diagnostics), then checks which files the program took: exactly
 * this project's @types/node, and weft's types from node_modules/weftjs, never from the repository.
 */
function checkProject({ dir, work, typesNodeDir }) {
  const started = performance.now();
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fatal.push(d) };
  const fatal = [];
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), undefined, host);
  const diagnostics = [...fatal];
  let files = [];
  if (config) {
    const program = ts.createProgram({
      rootNames: config.fileNames,
      options: config.options,
      projectReferences: config.projectReferences,
      configFileParsingDiagnostics: config.errors,
    });
    diagnostics.push(...ts.getPreEmitDiagnostics(program));
    files = program.getSourceFiles().map((f) => f.fileName);
  }
  const lines = diagnostics.length
    ? [
        ts
          .formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' })
          .trimEnd(),
      ]
    : [];
  const typesNode = `${slash(typesNodeDir)}/`;
  const weft = `${slash(join(work, 'node_modules', 'weftjs'))}/`;
  const repo = [`${slash(join(ROOT, 'dist'))}/`, `${slash(join(ROOT, 'src'))}/`];
  const stray = files.find((f) => f.includes('/@types/node/') && !f.startsWith(typesNode));
  const fromRepo = files.find((f) => repo.some((r) => f.startsWith(r)));
  const weftFiles = files.filter((f) => f.startsWith(weft)).length;
  if (stray) lines.push(`another @types/node was loaded: ${stray}`);
  if (fromRepo) lines.push(`weft's types were read from the repository, not the package: ${fromRepo}`);
  if (weftFiles === 0) lines.push('no file of node_modules/weftjs was loaded');
  return {
    ok: lines.length === 0,
    seconds: (performance.now() - started) / 1000,
    output: lines.join('\n'),
    files: files.length,
    weftFiles,
  };
}

/** Checks `tasks` on `jobs` worker threads (each keeps its TypeScript warm across its projects). */
function checkAll(tasks, jobs) {
  return new Promise((resolvePromise, reject) => {
    const results = new Map();
    let next = 0;
    let live = 0;
    const feed = (worker) => {
      if (next < tasks.length) {
        const task = tasks[next++];
        worker.postMessage({ key: task.key, dir: task.dir, work: task.work, typesNodeDir: task.typesNode.dir });
      } else {
        worker.terminate();
        if (--live === 0) resolvePromise(results);
      }
    };
    for (let i = 0; i < Math.min(jobs, tasks.length); i++) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { checker: true } });
      live++;
      worker.on('message', ({ key, result }) => {
        results.set(key, result);
        feed(worker);
      });
      worker.on('error', reject);
      feed(worker);
    }
  });
}

async function main() {
  const started = performance.now();
  ensureBuilt();
  const installs = typesNodeInstalls();
  const work = mkdtempSync(join(tmpdir(), 'weftjs-consumer-'));
  try {
    const info = installWeft(work);
    const setupSeconds = (performance.now() - started) / 1000;
    const tasks = [];
    for (const typesNode of installs) {
      for (const mode of MODE_NAMES) {
        const dir = join(work, `${mode}-types-node-${typesNode.label}`);
        writeProject(dir, mode, typesNode);
        tasks.push({ key: `${typesNode.label}/${mode}`, dir, work, typesNode });
      }
    }
    const checkStarted = performance.now();
    const results = await checkAll(tasks, JOBS);
    const checkSeconds = (performance.now() - checkStarted) / 1000;

    // The table: one row per @types/node, one column per module setup.
    const header = ['@types/node', ...MODE_NAMES];
    const rows = installs.map((t) => [
      `${t.label === 'latest' ? 'latest' : t.label} (${t.version})`,
      ...MODE_NAMES.map((mode) => {
        const r = results.get(`${t.label}/${mode}`);
        return `${r.ok ? 'ok' : 'FAIL'} ${r.seconds.toFixed(1)}s`;
      }),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    console.log(`\nconsumer type-check of ${info.filename} (TypeScript ${ts.version}, skipLibCheck: false)\n`);
    console.log(fmt(header));
    console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
    for (const row of rows) console.log(fmt(row));

    const failed = [...results].filter(([, r]) => !r.ok);
    for (const [key, r] of failed) console.error(`\n--- ${key} ---\n${r.output}`);
    const total = (performance.now() - started) / 1000;
    console.log(
      `\n${results.size - failed.length}/${results.size} passed in ${total.toFixed(1)} s ` +
        `(setup ${setupSeconds.toFixed(1)} s, tsc ${checkSeconds.toFixed(1)} s at ${JOBS} at a time)`,
    );
    if (failed.length) process.exitCode = 1;
  } finally {
    if (KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

if (isMainThread) {
  await main();
} else if (workerData?.checker) {
  parentPort.on('message', (task) => parentPort.postMessage({ key: task.key, result: checkProject(task) }));
}
