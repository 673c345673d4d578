/**
 * Loads the native addon through the napi-rs generated loader (`native.cjs`), and turns a missing
 * binary into an error that names the platform package and the command that installs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from './errors.js';

export type Native = typeof import('../native.cjs');

/** weft's package root: the folder of package.json, one level above src/ and dist/. */
const ROOT = join(__dirname, '..');

function isMusl(): boolean {
  // As native.cjs decides (ldd's text first, then the process report).
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    /* no ldd */
  }
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string }; sharedObjects?: string[] } | undefined;
    if (report?.header?.glibcVersionRuntime) return false;
    return (report?.sharedObjects ?? []).some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
  } catch {
    return false;
  }
}

/**
 * The platform suffix of weft's binary here, as native.cjs names the platform packages
 * (`weftjs-<suffix>`) and the `.node` files (`weft.<suffix>.node`): `linux-x64-gnu`,
 * `linux-arm64-musl`, `linux-arm-gnueabihf`, `darwin-arm64`, `win32-x64-msvc`, `android-arm64`...
 */
export function platformSuffix(platform: string = process.platform, arch: string = process.arch, musl?: () => boolean): string {
  switch (platform) {
    case 'linux': {
      const m = (musl ?? isMusl)();
      if (arch === 'arm') return m ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf';
      if (arch === 'ppc64' || arch === 's390x') return `linux-${arch}-gnu`;
      return `linux-${arch}-${m ? 'musl' : 'gnu'}`;
    }
    case 'win32': {
      const v = (process.config?.variables ?? {}) as { shlib_suffix?: string; node_target_type?: string };
      if (arch === 'x64' && (v.shlib_suffix === 'dll.a' || v.node_target_type === 'shared_library')) return 'win32-x64-gnu';
      return `win32-${arch}-msvc`;
    }
    case 'android':
      return arch === 'arm' ? 'android-arm-eabi' : `android-${arch}`;
    default:
      // darwin-x64, darwin-arm64, freebsd-x64, openharmony-arm64, ...
      return `${platform}-${arch}`;
  }
}

/** The Rust target triples of package.json's `napi.targets`, as platform suffixes. */
function suffixOfTriple(triple: string): string | undefined {
  const [cpu, , os, abi] = triple.split('-');
  const arch = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }[cpu ?? ''] ?? cpu;
  if (os === 'linux') {
    if (arch === 'arm') return abi === 'musleabihf' ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf';
    return abi === 'android' ? `android-${arch}` : `linux-${arch}-${abi?.startsWith('musl') ? 'musl' : 'gnu'}`;
  }
  if (os === 'darwin') return `darwin-${arch}`;
  if (os === 'windows') return `win32-${arch}-${abi === 'gnu' ? 'gnu' : 'msvc'}`;
  if (os === 'freebsd') return `freebsd-${arch}`;
  if (triple.endsWith('-linux-android')) return `android-${arch}`;
  return undefined;
}

interface PackageInfo {
  name: string;
  version: string;
  targets: string[] | undefined;
}

function packageInfo(): PackageInfo {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
      napi?: { packageName?: string; targets?: string[] };
    };
    const targets = pkg.napi?.targets?.map(suffixOfTriple).filter((s): s is string => s !== undefined);
    return { name: pkg.napi?.packageName ?? pkg.name ?? 'weftjs', version: pkg.version ?? 'latest', targets };
  } catch {
    return { name: 'weftjs', version: 'latest', targets: undefined };
  }
}

/** The first line of the message of each error of native.cjs's load-error chain (`cause`s). */
function loadErrors(cause: unknown): string[] {
  const out: string[] = [];
  for (let e = cause, depth = 0; e instanceof Error && depth < 32; e = (e as Error & { cause?: unknown }).cause, depth++) {
    const line = e.message.split('\n')[0] ?? '';
    if (line !== '' && !out.includes(line)) out.push(line);
  }
  return out;
}

/**
 * The message of `WEFT_NO_BINARY`: which platform package is missing (or present but not
 * loadable), the command that installs it, and how to build from source.
 */
export function noBinaryMessage(
  cause: unknown,
  suffix: string = platformSuffix(),
  resolvePackage: (id: string) => string = require.resolve,
): string {
  const { name, version, targets } = packageInfo();
  const pkg = `${name}-${suffix}`;
  const why = loadErrors(cause)
    // The WASI fallbacks weft does not ship, and the loader's generic summary, only add noise.
    .filter((m) => !m.startsWith('Cannot find native binding') && !/wasi/i.test(m))
    .slice(0, 4)
    .map((m) => `\n  - ${m}`)
    .join('');
  const fromSource = `To build from source instead: install a Rust toolchain (https://rustup.rs), then run "npm run build" in ${ROOT}.`;
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) {
    return (
      `weft could not load its native binary from NAPI_RS_NATIVE_LIBRARY_PATH=${override} ` +
      `(${suffix}, Node ${process.version}). Unset NAPI_RS_NATIVE_LIBRARY_PATH to use the ` +
      `platform package "${pkg}", or point it at a weft.${suffix}.node file.${why ? `\nLoad errors:${why}` : ''}`
    );
  }
  if (targets !== undefined && !targets.includes(suffix)) {
    return (
      `weft has no prebuilt binary for ${suffix} (Node ${process.version}): the platforms with one ` +
      `are ${targets.join(', ')}. ${fromSource}${why ? `\nLoad errors:${why}` : ''}`
    );
  }
  let installed = false;
  try {
    resolvePackage(`${pkg}/package.json`);
    installed = true;
  } catch {
    installed = false;
  }
  const install = `npm install ${pkg}@${version}`;
  if (installed) {
    return (
      `weft's platform package "${pkg}" is installed but its binary could not be loaded ` +
      `(${suffix}, Node ${process.version}; a version other than ${version}, or files damaged or ` +
      `copied from another platform?). Fix: reinstall it with\n  ${install}\n` +
      `${fromSource}${why ? `\nLoad errors:${why}` : ''}`
    );
  }
  return (
    `weft's native binary for ${suffix} (Node ${process.version}) is missing: the platform package ` +
    `"${pkg}", an optional dependency of ${name}, is not installed. Fix:\n  ${install}\n` +
    `(npm leaves optional dependencies out with --omit=optional or --no-optional, and installs only ` +
    `the current platform's: reinstall without those options, and reinstall rather than copy ` +
    `node_modules from another platform.) ${fromSource}${why ? `\nLoad errors:${why}` : ''}`
  );
}

function load(): Native {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../native.cjs') as Native;
  } catch (cause) {
    throw new WeftError('WEFT_NO_BINARY', noBinaryMessage(cause), { cause });
  }
}

export const native: Native = load();
