#!/usr/bin/env node
// Builds the addon with weft-core's counting allocator (the binding's `count-alloc` feature) for
// the soak test, which needs exact live native bytes (`native.allocStats()`); the published addon
// is built without it (it costs the hottest native paths a few per cent even when switched off).
//
//   node scripts/build-counting-addon.mjs     prints the .node file's path (last line of stdout)
//
// The build goes to crate/target/counting (its own target directory, so it never replaces the
// normal build's artefacts) and is skipped when the .node file is newer than every Rust source and
// manifest. It is built with the release profile of the published addon (LTO, one codegen unit:
// about 45 s on a 2-core machine from nothing), so that the soak measures the same code; a build
// with LTO off once showed RSS rising 2.6 MB a pass for five passes, then falling (native live
// bytes flat).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = join(ROOT, 'crate', 'target', 'counting');
const OUT = join(TARGET, 'weft-counting.node');

/** The newest modification time under `dir` (files whose names pass `keep`). */
function newest(dir, keep) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, keep));
    else if (keep(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(
  newest(join(ROOT, 'crate', 'core', 'src'), (n) => n.endsWith('.rs')),
  newest(join(ROOT, 'crate', 'binding', 'src'), (n) => n.endsWith('.rs')),
  ...['crate/Cargo.toml', 'crate/Cargo.lock', 'crate/core/Cargo.toml', 'crate/binding/Cargo.toml']
    .map((f) => join(ROOT, f))
    .filter(existsSync)
    .map((f) => statSync(f).mtimeMs),
);

if (!existsSync(OUT) || statSync(OUT).mtimeMs < sources) {
  process.stderr.write('building the counting addon (cargo, feature count-alloc)...\n');
  const r = spawnSync(
    'cargo',
    [
      'build',
      '--release',
      '--manifest-path',
      join(ROOT, 'crate', 'binding', 'Cargo.toml'),
      '--features',
      'count-alloc',
      '--target-dir',
      TARGET,
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write(`cargo build failed (status ${r.status})\n`);
    process.exit(1);
  }
  const built =
    { linux: 'libweft_binding.so', darwin: 'libweft_binding.dylib', win32: 'weft_binding.dll' }[process.platform] ?? 'libweft_binding.so';
  copyFileSync(join(TARGET, 'release', built), OUT);
}
console.log(OUT);
