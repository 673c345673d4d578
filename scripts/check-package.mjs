// npm run check:package: packs weftjs the way the release publishes it and checks what users get.
//
// What is packed: `npm pack --ignore-scripts` in the repository root. The publish job
// (.github/workflows/ci.yml) runs `npm publish --ignore-scripts` in the root, so this is the same
// file list byte for byte; before that, `napi prepublish` only adds `optionalDependencies` on the
// platform packages to package.json, which adds no file and changes no entry point, export or
// type, so nothing checked here depends on it. (scripts/prebuilt.mjs's staged copy is not what is
// published: it drops devDependencies and scripts to make a locally installable tarball.)
//
// Checks, each failure listed and the exit status non-zero:
//   1. the tarball holds exactly the expected files: package.json, README.md, LICENSE, the napi
//      loader native.cjs + native.d.cts, for every src/**/*.ts its dist/**/*.js, .js.map and
//      .d.ts, the copied src/**/*.mjs, every package.json "exports"/main/types target (the ESM
//      faces .mjs + .d.mts), and the node10 redirects <subpath>/package.json; nothing else (no
//      tests, fixtures, benchmarks, crate sources, .node binaries, declaration maps);
//   2. every source map is usable: its `sources` resolve inside the tarball or it carries
//      `sourcesContent` (tsconfig.json has inlineSources), and that content is today's src/
//      (a stale dist/ fails); every sourceMappingURL names a packed map;
//   3. every import in the packed JS and .d.ts resolves: relative ones to packed files, bare ones
//      to Node builtins or to dependencies/peerDependencies;
//   4. publint --strict (errors and warnings fail; suggestions are printed);
//   5. @arethetypeswrong/cli (attw) with its strict profile: every entry point resolves to types
//      of the right module kind under node10, node16 (from CJS and from ESM) and bundler. No rule
//      is ignored.
// dist/ is rebuilt first (npm run build:ts) when missing or older than its inputs.
//   node scripts/check-package.mjs [--keep]   (--keep leaves the tarball and its unpacked copy)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Every file under `dir` (relative, with forward slashes). */
function walk(dir, base = dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, base));
    else out.push(relative(base, full).split('\\').join('/'));
  }
  return out;
}

/** Runs `npm run build:ts` when dist/ is missing or older than src/, tsconfig.json or the build script. */
export function ensureBuilt() {
  const built = join(ROOT, 'dist', 'cluster', 'index.d.mts'); // the build's last write
  const inputs = [
    ...walk(join(ROOT, 'src')).map((f) => join(ROOT, 'src', f)),
    join(ROOT, 'tsconfig.json'),
    join(ROOT, 'scripts', 'build-ts.mjs'),
  ];
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : -1;
  if (inputs.some((f) => statSync(f).mtimeMs > builtAt)) {
    console.log('dist/ is missing or older than src/: npm run build:ts');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-ts.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
}

/**
 * Packs the root into `dest` (`npm pack --ignore-scripts`: `prepare` would rebuild the native
 * addon) and unpacks it into `dest/package`. Returns the tarball's path, the unpacked folder and
 * the packed file list.
 */
export function packRoot(dest) {
  mkdirSync(dest, { recursive: true });
  const json = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32',
  }).toString();
  const [info] = JSON.parse(json);
  const tarball = join(dest, info.filename);
  execFileSync('tar', ['-xzf', info.filename], { cwd: dest });
  return { tarball, dir: join(dest, 'package'), files: info.files.map((f) => f.path).sort(), info };
}

/** The string targets of package.json "exports" (recursively through conditions). */
function exportTargets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

/** The files the tarball must hold, with why. */
function expectedFiles() {
  const expected = new Map();
  const want = (path, why) => expected.set(posix.normalize(path.replace(/^\.\//, '')), why);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'native.cjs', 'native.d.cts']) want(f, 'package basics / napi loader');
  for (const f of walk(join(ROOT, 'src'))) {
    if (f.endsWith('.ts') && !f.endsWith('.d.ts')) {
      const base = `dist/${f.slice(0, -3)}`;
      want(`${base}.js`, `compiled src/${f}`);
      want(`${base}.js.map`, `source map of src/${f}`);
      want(`${base}.d.ts`, `types of src/${f}`);
    } else if (f.endsWith('.mjs')) {
      want(`dist/${f}`, `copied src/${f}`);
    } else {
      throw new Error(`src/${f}: a kind of file this check does not know; say where it goes in the package`);
    }
  }
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    for (const t of exportTargets(target)) want(t, `exports["${subpath}"]`);
    // moduleResolution node10 ignores "exports": a <subpath>/package.json redirects it.
    if (subpath !== '.' && subpath !== './package.json') want(`${subpath.slice(2)}/package.json`, `node10 redirect of "${subpath}"`);
  }
  want(pkg.main, 'main');
  want(pkg.types, 'types');
  return expected;
}

const problems = [];
const fail = (msg) => problems.push(msg);

function checkFileList(files) {
  const expected = expectedFiles();
  const packed = new Set(files);
  for (const [file, why] of expected) if (!packed.has(file)) fail(`missing from the tarball: ${file} (${why})`);
  for (const file of files) {
    if (expected.has(file)) continue;
    const hint = /(^|\/)(__test__|bench|crate|examples|scripts|npm|prebuilt)\/|^src\/|\.spec\./.test(file)
      ? ' (tests, fixtures, benchmarks or sources: repository only)'
      : /\.(node|tgz|tsbuildinfo)$/.test(file)
        ? ' (build artifact)'
        : file.endsWith('.d.ts.map')
          ? ' (declaration map: its .ts sources are not shipped)'
          : file.startsWith('dist/')
            ? ' (not produced from src/: stale dist/?)'
            : '';
    fail(`unexpected file in the tarball: ${file}${hint}`);
  }
}

/** Every node10 redirect points at packed files. */
function checkRedirects(dir, packed) {
  for (const [subpath] of Object.entries(pkg.exports)) {
    if (subpath === '.' || subpath === './package.json') continue;
    const stub = `${subpath.slice(2)}/package.json`;
    if (!packed.has(stub)) continue;
    const json = JSON.parse(readFileSync(join(dir, stub), 'utf8'));
    for (const field of ['main', 'types']) {
      const target = json[field] && posix.normalize(posix.join(posix.dirname(stub), json[field]));
      if (!target || !packed.has(target)) fail(`${stub}: "${field}" ${json[field]} is not a packed file`);
    }
  }
}

function checkSourceMaps(dir, files, packed) {
  for (const file of files) {
    if (/\.(c|m)?js$/.test(file)) {
      const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(dir, file), 'utf8'));
      if (m && !m[1].startsWith('data:')) {
        const target = posix.join(posix.dirname(file), m[1]);
        if (!packed.has(target)) fail(`${file}: sourceMappingURL ${m[1]} is not in the tarball`);
      }
    }
    if (!file.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (!Array.isArray(map.sources) || map.sources.length === 0) {
      fail(`${file}: no sources`);
      continue;
    }
    map.sources.forEach((source, i) => {
      const inPackage = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
      if (packed.has(inPackage)) return;
      const content = map.sourcesContent?.[i];
      if (typeof content !== 'string') {
        fail(`${file}: source ${source} is neither in the tarball nor in sourcesContent`);
        return;
      }
      // The source named by the map, in the repository: its content must be today's.
      const inRepo = join(ROOT, inPackage);
      if (existsSync(inRepo) && readFileSync(inRepo, 'utf8') !== content) {
        fail(`${file}: sourcesContent differs from ${inPackage}: dist/ is stale (npm run build:ts)`);
      }
    });
  }
}

/** The package name of a bare specifier (`@scope/name/sub` -> `@scope/name`). */
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

function checkImports(dir, files, packed) {
  const allowed = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ]);
  for (const file of files) {
    // native.cjs is napi-rs's generated loader: it tries every platform package napi-rs knows
    // (inside try/catch), most of which weft does not build.
    if (file === 'native.cjs' || !/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(file)) continue;
    const isTypes = /\.d\.(c|m)?ts$/.test(file);
    // TypeScript's import scanner: imports, re-exports, require() and import() calls and import
    // types, skipping comments and strings (doc comments name example files like ./tasks.js).
    const { importedFiles } = ts.preProcessFile(readFileSync(join(dir, file), 'utf8'), true, true);
    for (const { fileName: spec } of importedFiles) {
      if (spec.startsWith('.')) {
        let target = posix.normalize(posix.join(posix.dirname(file), spec));
        if (isTypes)
          target = target
            .replace(/\.js$/, '.d.ts')
            .replace(/\.mjs$/, '.d.mts')
            .replace(/\.cjs$/, '.d.cts');
        if (!packed.has(target)) fail(`${file}: imports ${spec}, but ${target} is not in the tarball`);
      } else if (!isBuiltin(spec) && !allowed.has(packageOf(spec)) && packageOf(spec) !== pkg.name) {
        fail(`${file}: imports ${spec}, which is neither a Node builtin nor a dependency or peer dependency`);
      }
    }
  }
}

/** Runs a devDependency's command with this Node; returns its exit status. */
function runBin(pkgName, binName, args, cwd) {
  const binPkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkgName, 'package.json'), 'utf8'));
  const bin = typeof binPkg.bin === 'string' ? binPkg.bin : binPkg.bin[binName];
  console.log(`\n$ ${binName} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', pkgName, bin), ...args], { cwd, stdio: 'inherit' });
  return r.status ?? 1;
}

function summarize(files, info) {
  const kinds = [
    ['.d.ts', (f) => f.endsWith('.d.ts')],
    ['.d.mts', (f) => f.endsWith('.d.mts')],
    ['.d.cts', (f) => f.endsWith('.d.cts')],
    ['.js (CommonJS)', (f) => f.endsWith('.js')],
    ['.mjs (ESM)', (f) => f.endsWith('.mjs')],
    ['.cjs', (f) => f.endsWith('.cjs')],
    ['.js.map', (f) => f.endsWith('.map')],
    ['package.json', (f) => f.endsWith('package.json')],
  ];
  const counted = new Set();
  const parts = [];
  for (const [name, test] of kinds) {
    const n = files.filter((f) => !counted.has(f) && test(f));
    n.forEach((f) => counted.add(f));
    if (n.length) parts.push(`${n.length} ${name}`);
  }
  const rest = files.filter((f) => !counted.has(f));
  if (rest.length) parts.push(rest.join(', '));
  console.log(
    `${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
  );
  console.log(`  ${parts.join(', ')}`);
}

export function main() {
  const started = Date.now();
  ensureBuilt();
  const work = mkdtempSync(join(tmpdir(), 'weftjs-pack-'));
  try {
    const { tarball, dir, files, info } = packRoot(work);
    const packed = new Set(files);
    summarize(files, info);
    checkFileList(files);
    checkRedirects(dir, packed);
    checkSourceMaps(dir, files, packed);
    checkImports(dir, files, packed);
    if (problems.length)
      console.error(`\n${problems.length} problem(s) in the packed files:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    else console.log('file list, source maps and imports: ok');

    const publint = runBin('publint', 'publint', ['run', tarball, '--strict'], work);
    if (publint !== 0) fail(`publint exited with ${publint}`);
    // --no-definitely-typed: weftjs ships its own types, so there is no @types package to fetch.
    const attw = runBin(
      '@arethetypeswrong/cli',
      'attw',
      [tarball, '--no-definitely-typed', '--profile', 'strict', '--format', 'table-flipped'],
      work,
    );
    if (attw !== 0) fail(`attw exited with ${attw}`);
  } finally {
    if (process.argv.includes('--keep')) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length) {
    console.error(`\ncheck:package FAILED (${secs} s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`\ncheck:package ok (${secs} s)`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
