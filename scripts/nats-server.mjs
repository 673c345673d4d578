// Finds a `nats-server` for the weftjs/cluster tests, and fetches Debian's when there is none: the
// test command runs this first, so `npm test` on a fresh Debian machine runs the cluster tests
// without a system-wide install. Where it looks, in order:
//   1. WEFT_NATS_SERVER, which must then be an executable file (anything else is an error);
//   2. the cache, node_modules/.cache/weftjs/nats-server-<debian version>/usr/sbin/nats-server
//      (Debian's package puts the binary in usr/sbin, not usr/bin);
//   3. `nats-server` on PATH, then /usr/sbin/nats-server and /usr/bin/nats-server.
// When none is there, `ensureNatsServer` runs `apt-get download nats-server` (after one
// `apt-get update` when the lists are empty and we are root) and `dpkg -x` into a temporary
// folder inside the cache, then renames that folder into place, so that two concurrent runs never
// see a half-extracted tree. Usable as a module (`findNatsServer`, `ensureNatsServer`) and as a
// command:
//   node scripts/nats-server.mjs   -> prints `nats-server: <path> (<version>)`; where it cannot be
//                                    had, one line saying how to get it, and exit 0 (1 with CI=true)
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE } from './registry-cache.mjs';

const PREFIX = 'nats-server-';
/** Where the binary lies inside the extracted package (checked with `dpkg -c` on 2.9.10-1+b3). */
const DEB_BINARY = join('usr', 'sbin', 'nats-server');

/**
 * The one line printed when there is no server (the cluster tests print it too): how to get one,
 * and what happens without it (the cluster tests skip; with CI=true they fail).
 */
export function missingLine(reason, ci = process.env.CI === 'true') {
  return (
    `nats-server not found${reason ? ` (${reason})` : ''}: set WEFT_NATS_SERVER to its path, or install it ` +
    `(Debian: apt-get install nats-server); ${ci ? 'CI=true, so the cluster tests fail' : 'the cluster tests will skip'}`
  );
}

/** Thrown by `ensureNatsServer` when no server can be had here; `code` is 'WEFT_NATS_UNAVAILABLE'. */
export class NatsServerUnavailable extends Error {
  constructor(reason) {
    super(missingLine(reason));
    this.name = 'NatsServerUnavailable';
    this.code = 'WEFT_NATS_UNAVAILABLE';
    this.reason = reason;
  }
}

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cached binaries, newest Debian version first (by a numeric-aware name comparison). */
function cachedBinaries() {
  let names;
  try {
    names = readdirSync(CACHE);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(PREFIX))
    .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
    .map((n) => join(CACHE, n, DEB_BINARY));
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = resolve(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/**
 * The absolute path of a `nats-server`, or undefined when there is none. Throws when
 * WEFT_NATS_SERVER is set to something that is not an executable file.
 */
export function findNatsServer() {
  const fromEnv = process.env.WEFT_NATS_SERVER;
  if (fromEnv) {
    const p = resolve(fromEnv);
    if (!isExecutableFile(p)) throw new Error(`WEFT_NATS_SERVER=${fromEnv} is not an executable file`);
    return p;
  }
  for (const p of cachedBinaries()) if (isExecutableFile(p)) return p;
  const found = onPath(process.platform === 'win32' ? 'nats-server.exe' : 'nats-server');
  if (found) return found;
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server']) if (isExecutableFile(p)) return p;
  return undefined;
}

/** What `<path> --version` prints, e.g. `v2.9.10`; throws when it does not run. */
export function natsServerVersion(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const m = /nats-server:?\s+(v?\d+\.\d+\.\d+\S*)/.exec(out);
  if (r.error || r.status !== 0 || !m) {
    throw new Error(`${path} --version failed (${r.error?.message ?? `exit ${r.status}`}): ${out.split('\n')[0] ?? ''}`);
  }
  return m[1];
}

function commandExists(name) {
  return isAbsolute(name) ? isExecutableFile(name) : onPath(name) !== undefined;
}

/** Runs a command quietly; returns its output, or throws with the last line of it. */
function quiet(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter(Boolean);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? out[out.length - 1] ?? `exit ${r.status}`}`);
  }
  return r.stdout;
}

/** Downloads Debian's package and extracts it into the cache; returns the binary's path. */
function fetchFromDebian() {
  if (process.platform !== 'linux') throw new NatsServerUnavailable(`no Debian package for ${process.platform}`);
  for (const tool of ['apt-get', 'dpkg', 'dpkg-deb']) {
    if (!commandExists(tool)) throw new NatsServerUnavailable(`no ${tool} here`);
  }
  mkdirSync(CACHE, { recursive: true });
  // Inside the cache, so that the final rename stays on one filesystem.
  const tmp = mkdtempSync(join(CACHE, `.${PREFIX}tmp-`));
  try {
    process.stderr.write(`nats-server: apt-get download nats-server (once, into ${CACHE})\n`);
    try {
      quiet('apt-get', ['download', 'nats-server'], tmp);
    } catch (err) {
      // A fresh machine may have empty package lists; only root can fill them.
      if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
        throw new NatsServerUnavailable(`${err.message}; not root, so no apt-get update`);
      }
      process.stderr.write('nats-server: apt-get update, then download again\n');
      try {
        quiet('apt-get', ['update'], tmp);
        quiet('apt-get', ['download', 'nats-server'], tmp);
      } catch (again) {
        throw new NatsServerUnavailable(again.message);
      }
    }
    const deb = readdirSync(tmp).find((n) => n.startsWith('nats-server_') && n.endsWith('.deb'));
    if (!deb) throw new NatsServerUnavailable(`apt-get download left no .deb in ${tmp}`);
    const version = quiet('dpkg-deb', ['-f', join(tmp, deb), 'Version'], tmp).trim();
    if (!version) throw new Error(`no Version field in ${deb}`);
    const root = join(tmp, 'root');
    execFileSync('dpkg', ['-x', join(tmp, deb), root], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!isExecutableFile(join(root, DEB_BINARY))) throw new Error(`${deb} has no ${DEB_BINARY}`);
    const dir = join(CACHE, `${PREFIX}${version.replace(/[^A-Za-z0-9._+-]/g, '_')}`);
    try {
      renameSync(root, dir);
    } catch (err) {
      // Another run put the same version in place first: use its tree.
      if (!['ENOTEMPTY', 'EEXIST'].includes(err.code) || !isExecutableFile(join(dir, DEB_BINARY))) throw err;
    }
    return join(dir, DEB_BINARY);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The absolute path of a working `nats-server`: one that `findNatsServer` finds, else Debian's
 * fetched into the cache. Verifies it with `--version`. Throws `NatsServerUnavailable` when there is
 * none and none can be fetched.
 */
export async function ensureNatsServer() {
  const path = findNatsServer() ?? fetchFromDebian();
  natsServerVersion(path);
  return path;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureNatsServer().then(
    (path) => console.log(`nats-server: ${path} (${natsServerVersion(path)})`),
    (err) => {
      if (err?.code !== 'WEFT_NATS_UNAVAILABLE') {
        console.error(`nats-server: ${err?.message ?? err}`);
        process.exit(1);
      }
      console.log(err.message);
      process.exit(process.env.CI === 'true' ? 1 : 0);
    },
  );
}
