/**
 * Loads the native addon through the napi-rs generated loader (`native.cjs`), and turns a missing
 * binary into an error that names the platform and says what to do.
 */
import { WeftError } from './errors.js';

export type Native = typeof import('../native.cjs');

function platformName(): string {
  let abi = '';
  if (process.platform === 'linux') {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    abi = report?.header?.glibcVersionRuntime ? '-gnu' : '-musl';
  } else if (process.platform === 'win32') {
    abi = '-msvc';
  }
  return `${process.platform}-${process.arch}${abi}`;
}

function load(): Native {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../native.cjs') as Native;
  } catch (cause) {
    const platform = platformName();
    throw new WeftError(
      'WEFT_NO_BINARY',
      `weft has no native binary for ${platform} (Node ${process.version}). ` +
        `Prebuilt binaries ship as the optional dependency "weftjs-${platform}"; make sure optional ` +
        `dependencies are installed (do not use --no-optional / --omit=optional, and reinstall ` +
        `if node_modules was copied from another platform). To build from source instead, ` +
        `install a Rust toolchain (https://rustup.rs) and run "npm run build" in the weft package.`,
      { cause },
    );
  }
}

export const native: Native = load();
