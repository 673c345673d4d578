// Fetches what the tests and benchmarks need from the npm registry into a cache, instead of
// declaring it as a devDependency where that would break `npm install` somewhere:
//   - official Node.js binaries of other majors (the `node-<os>-<arch>` packages carry `os`/`cpu`
//     fields, so as devDependencies they would fail `npm install` on every other platform);
//   - packages whose engines exclude a Node major weft supports (nodejs-polars' binaries need
//     Node >= 22), which would print EBADENGINE on every install.
// Each spec is installed once into node_modules/.cache/weftjs/<spec>/ (npm install --prefix,
// no scripts, no lockfile) and reused; a finished install leaves a `.complete` marker, so an
// interrupted one is redone. Usable as a module (`ensurePackage`, `nodeBinary`) and as a command:
//   node scripts/registry-cache.mjs node 24        -> prints the path of Node 24's binary
//   node scripts/registry-cache.mjs package SPEC   -> prints the install folder of SPEC
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = process.env.WEFT_REGISTRY_CACHE ?? join(ROOT, 'node_modules', '.cache', 'weftjs');

/**
 * The Node versions the test matrix runs, one per supported major besides the machine's own.
 * Pinned so that a CI run is reproducible; bump them here.
 */
export const NODE_VERSIONS = { 20: '20.20.2', 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };

const npmCli = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Installs `spec` (e.g. `nodejs-polars@0.26.1`) into the cache once; returns its folder. */
export function ensurePackage(spec, { extra = [], force = false } = {}) {
  const dir = join(CACHE, [spec, ...extra].join('+').replace(/[^A-Za-z0-9@._+-]/g, '_'));
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A package.json of its own, so that npm installs here and not into the enclosing project.
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
  const args = [
    'install',
    '--prefix',
    dir,
    '--no-save',
    '--no-package-lock',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
  ];
  if (force) args.push('--force');
  process.stderr.write(`registry-cache: npm install ${[spec, ...extra].join(' ')} (once, into ${dir})\n`);
  execFileSync(npmCli, [...args, spec, ...extra], {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: dir,
    shell: process.platform === 'win32',
  });
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return dir;
}

/** The registry package that carries the official Node binary for this platform, or null. */
export function nodePackageName(platform = process.platform, arch = process.arch) {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'win' }[platform];
  if (!os || !['x64', 'arm64'].includes(arch)) return null;
  return `node-${os}-${arch}`;
}

/**
 * The path of an official Node binary of `major` (20, 22, 24, 26), fetched into the cache; the
 * machine's own `process.execPath` when it is already that major. Throws when the registry has
 * no binary package for this platform.
 */
export function nodeBinary(major) {
  const m = Number(major);
  if (Number(process.versions.node.split('.')[0]) === m) return process.execPath;
  const version = NODE_VERSIONS[m];
  if (!version) throw new Error(`no pinned Node version for major ${major} (scripts/registry-cache.mjs NODE_VERSIONS)`);
  const name = nodePackageName();
  if (!name) throw new Error(`the npm registry has no Node binary package for ${process.platform}-${process.arch}`);
  const dir = ensurePackage(`${name}@${version}`);
  const bin = join(dir, 'node_modules', name, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(bin)) throw new Error(`${name}@${version} installed without ${bin}`);
  return bin;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [what, arg, ...rest] = process.argv.slice(2);
  if (what === 'node' && arg) console.log(nodeBinary(arg));
  else if (what === 'package' && arg) console.log(ensurePackage(arg, { extra: rest }));
  else {
    console.error('usage: node scripts/registry-cache.mjs node <major> | package <spec> [more specs]');
    process.exit(2);
  }
}
