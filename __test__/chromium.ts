// Finds a Chromium for the browser tests (__test__/service/report.spec.ts), so that `npm install && npm test`
// works on a fresh machine with nothing installed by hand. In this order:
//   1. CHROMIUM_PATH, when set (a wrong path fails, it is not skipped);
//   2. a system Chromium or Chrome (Debian's /usr/bin/chromium first);
//   3. on Linux x64, the headless Chromium inside the @sparticuz/chromium devDependency: its
//      brotli-compressed files are unpacked once into node_modules/.cache/weftjs/ (or
//      $WEFT_REGISTRY_CACHE, as scripts/registry-cache.mjs), with NSS/expat libraries and a font
//      for machines that lack them.
// The package's own `executablePath()` is not used: it unpacks into a fixed /tmp/chromium and
// returns that path as soon as the file exists, so a second process (ava runs spec files in
// parallel) launches a half-written binary (ETXTBSY). Here each process unpacks into a folder of
// its own and renames it into place; the first rename wins, the others use the winner's.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { ROOT } from './helpers.js';

/** The flags every Chromium gets: no sandbox (containers, root), no background networking, no GPU. */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-dev-shm-usage',
  '--disable-extensions',
  '--disable-gpu',
  '--disable-sync',
  '--no-first-run',
  '--metrics-recording-only',
  '--mute-audio',
];

/**
 * Of @sparticuz/chromium's recommended `args`, those that matter outside Lambda: no pings or
 * domain-reliability uploads (network), and unhinted fonts (the same glyphs on every machine).
 * Left out: --single-process and --no-zygote (Lambda's prctl limits; with them a second browser
 * context can fail, as the package's README notes), --headless='shell' (playwright passes
 * --headless, and this build is headless only), the SwiftShader WebGL flags (the report draws 2D
 * canvases; BASE_ARGS has --disable-gpu), and --disable-web-security /
 * --allow-running-insecure-content (they would hide what the test checks).
 */
export const SPARTICUZ_ARGS = ['--no-pings', '--disable-domain-reliability', '--font-render-hinting=none'];

export const HOW_TO_GET_ONE =
  'Set CHROMIUM_PATH to a Chromium or Chrome executable, or install one ' +
  '(Debian/Ubuntu, as root: apt-get update && apt-get install -y --no-install-recommends chromium). ' +
  'On Linux x64 the @sparticuz/chromium devDependency provides one: run npm install.';

export interface ChromiumLaunch {
  /** Where it came from. */
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';
  executablePath: string;
  args: string[];
  /** The browser process's environment, where it needs more than process.env. */
  env?: Record<string, string>;
  /** One line for t.log: which Chromium, where, and why. */
  description: string;
}

const SYSTEM_CANDIDATES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'],
  darwin: ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
};

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to launch, with its flags; throws (naming CHROMIUM_PATH) when there is none. */
export async function findChromium(): Promise<ChromiumLaunch> {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`CHROMIUM_PATH is ${fromEnv}, which is not an executable file. ${HOW_TO_GET_ONE}`);
    return { source: 'CHROMIUM_PATH', executablePath: fromEnv, args: BASE_ARGS, description: `Chromium from CHROMIUM_PATH: ${fromEnv}` };
  }
  const system = (SYSTEM_CANDIDATES[process.platform] ?? []).find(isExecutable);
  if (system) return { source: 'system', executablePath: system, args: BASE_ARGS, description: `system Chromium: ${system}` };
  if (process.platform === 'linux' && process.arch === 'x64') return sparticuz();
  throw new Error(
    `No Chromium for the browser test on ${process.platform}-${process.arch}: CHROMIUM_PATH is not set, none of ` +
      `${(SYSTEM_CANDIDATES[process.platform] ?? []).join(', ') || '(no system paths known here)'} exists, and ` +
      `@sparticuz/chromium's binary is for Linux x64 only. ${HOW_TO_GET_ONE}`,
  );
}

// ---------------------------------------------------------------------------------------------
// @sparticuz/chromium

const CACHE = process.env['WEFT_REGISTRY_CACHE'] ?? join(ROOT, 'node_modules', '.cache', 'weftjs');
/** A leftover unpacking folder older than this is from a killed process (unpacking takes seconds). */
const STALE_MS = 10 * 60_000;
const ELF_MACHINE: Partial<Record<string, number>> = { x64: 0x3e, arm64: 0xb7 };

function sparticuzPackage(): { dir: string; version: string; require: NodeJS.Require } {
  let entry: string;
  try {
    entry = require.resolve('@sparticuz/chromium');
  } catch {
    throw new Error(`@sparticuz/chromium is not installed (it is a devDependency: run npm install). ${HOW_TO_GET_ONE}`);
  }
  // The package's exports hide package.json; its entry is build/cjs/index.cjs.
  const dir = join(dirname(entry), '..', '..');
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version, require: createRequire(entry) };
}

/** Fails the stream unless it starts with an ELF header for this machine's architecture. */
function elfCheck(what: string): Transform {
  let checked = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!checked) {
        checked = true;
        const machine = chunk.length >= 20 && chunk.readUInt32BE(0) === 0x7f454c46 ? chunk.readUInt16LE(18) : -1;
        if (machine !== ELF_MACHINE[process.arch]) {
          cb(new Error(`${what} is not a Linux executable for ${process.arch} (ELF machine ${machine}). ${HOW_TO_GET_ONE}`));
          return;
        }
      }
      cb(null, chunk);
    },
  });
}

/** Unpacks the package's bin/ into `dir`, laid out as the package lays out /tmp. */
async function unpack(bin: string, dir: string, req: NodeJS.Require, finalDir: string): Promise<void> {
  const tar = req('tar-fs') as { extract(cwd: string, opts?: { chown?: boolean }): Writable };
  mkdirSync(dir, { recursive: true });
  const untar = (file: string, into: string) =>
    pipeline(createReadStream(join(bin, file)), createBrotliDecompress(), tar.extract(into, { chown: false }));
  await Promise.all([
    pipeline(
      createReadStream(join(bin, 'chromium.br'), { highWaterMark: 1 << 22 }),
      createBrotliDecompress({ chunkSize: 1 << 21 }),
      elfCheck(join(bin, 'chromium.br')),
      createWriteStream(join(dir, 'chromium'), { mode: 0o755 }),
    ),
    untar('swiftshader.tar.br', dir), // libEGL.so, libGLESv2.so, ...: beside the binary, where Chromium looks
    untar('al2023.tar.br', dir), // lib/: libnss3, libnspr4, libexpat, ... (used only when the system lacks them)
    untar('fonts.tar.br', join(dir, 'fonts')), // fonts/Open_Sans/*.ttf (and Lambda's fonts.conf, unused)
  ]);
  // The system's fonts when it has any, plus Open Sans, so that text renders on a machine without fonts.
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  writeFileSync(
    join(dir, 'fonts.conf'),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
      `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n` +
      `  <dir>${esc(join(finalDir, 'fonts'))}</dir>\n` +
      `  <cachedir>${esc(join(finalDir, 'fontconfig-cache'))}</cachedir>\n</fontconfig>\n`,
  );
}

/** Removes unpacking folders left by killed processes. */
function removeStale(parent: string, base: string): void {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(`${base}.tmp-`)) continue;
    const p = join(parent, name);
    try {
      if (Date.now() - statSync(p).mtimeMs > STALE_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // another process removed it
    }
  }
}

/** The unpacked folder, unpacking it first when no process has yet. */
async function ensureUnpacked(): Promise<{ dir: string; version: string; unpackedMs: number | null }> {
  const pkg = sparticuzPackage();
  const base = `chromium-${pkg.version}-${process.platform}-${process.arch}`;
  const dir = join(CACHE, base);
  // The folder appears complete or not at all (rename), so the binary's presence means done.
  if (existsSync(join(dir, 'chromium'))) return { dir, version: pkg.version, unpackedMs: null };
  const started = Date.now();
  // A folder without the binary was damaged by hand: unpack it again.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  removeStale(CACHE, base);
  const tmp = join(CACHE, `${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await unpack(join(pkg.dir, 'bin'), tmp, pkg.require, dir);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process renamed its copy first (a non-empty folder is never replaced): use that one.
      if (!existsSync(join(dir, 'chromium'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir, version: pkg.version, unpackedMs: Date.now() - started };
}

/** Runs `chromium --version`; the error output when it cannot start. */
function version(executable: string, env: NodeJS.ProcessEnv): { ok: true; version: string } | { ok: false; error: string } {
  try {
    return {
      ok: true,
      version: execFileSync(executable, ['--version'], {
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      }).trim(),
    };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, error: (e.stderr || e.message).trim() };
  }
}

async function sparticuz(): Promise<ChromiumLaunch> {
  const { dir, version: pkgVersion, unpackedMs } = await ensureUnpacked();
  const executablePath = join(dir, 'chromium');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env['FONTCONFIG_FILE'] = join(dir, 'fonts.conf');
  // The system's NSS and expat when it has them (the bundled ones, from Amazon Linux 2023, need glibc 2.34).
  let v = version(executablePath, env);
  let libs = 'system libraries';
  if (!v.ok) {
    const lib = join(dir, 'lib');
    env['LD_LIBRARY_PATH'] = env['LD_LIBRARY_PATH'] ? `${lib}:${env['LD_LIBRARY_PATH']}` : lib;
    const first = v.error;
    v = version(executablePath, env);
    if (!v.ok) {
      throw new Error(
        `@sparticuz/chromium's Chromium at ${executablePath} does not start:\n${first}\nwith its own libraries (${lib}):\n${v.error}\n${HOW_TO_GET_ONE}`,
      );
    }
    libs = `its own libraries in ${lib}`;
  }
  const unpacked = unpackedMs === null ? 'already unpacked' : `unpacked in ${(unpackedMs / 1000).toFixed(1)} s`;
  return {
    source: '@sparticuz/chromium',
    executablePath,
    args: [...BASE_ARGS, ...SPARTICUZ_ARGS],
    env,
    description: `${v.version} from @sparticuz/chromium ${pkgVersion} (no system Chromium, CHROMIUM_PATH unset): ${executablePath}, ${unpacked}, with ${libs}`,
  };
}
