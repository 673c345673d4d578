// npm run verify:prebuilt: proves the prebuilt tarballs install and run with no Rust toolchain.
//
// 1. Installs prebuilt/weftjs-*.tgz and prebuilt/weftjs-linux-x64-gnu-*.tgz into an empty project in a
//    temp dir, with every directory holding cargo/rustc removed from PATH (and checks that
//    `cargo` really cannot be found), then uses the package through `import` and `require`.
// 2. Installs the root tarball alone (no platform package), and checks that loading weft fails
//    with WEFT_NO_BINARY naming the platform.
// Run `npm run prebuilt` first (or pass --build to do it here).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilt = join(root, 'prebuilt');
if (process.argv.includes('--build') || !existsSync(prebuilt)) {
  execFileSync(process.execPath, [join(root, 'scripts/prebuilt.mjs')], { stdio: 'inherit' });
}
const tarballs = readdirSync(prebuilt).filter((f) => f.endsWith('.tgz'));
const rootTgz = tarballs.find((f) => /^weft-\d/.test(f));
const platformTgz = tarballs.find((f) => f.startsWith('weftjs-linux-x64-gnu-'));
if (!rootTgz || !platformTgz) throw new Error(`prebuilt/ lacks the tarballs: ${tarballs.join(', ')}`);

// PATH without any directory that has cargo or rustc; npm and node must stay reachable.
const toolchain = ['cargo', 'rustc', 'rustup'];
const path = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((d) => d && !toolchain.some((t) => existsSync(join(d, t))))
  .join(delimiter);
const env = { ...process.env, PATH: path, npm_config_loglevel: 'error' };
for (const k of ['CARGO_HOME', 'RUSTUP_HOME', 'RUSTC', 'CARGO']) delete env[k];
const where = spawnSync('sh', ['-c', 'command -v cargo || command -v rustc'], { env, encoding: 'utf8' });
if (where.stdout.trim() !== '') throw new Error(`a Rust toolchain is still on PATH: ${where.stdout}`);
const npmCli = join(dirname(process.execPath), 'npm');
const npm = existsSync(npmCli) ? npmCli : 'npm';

function project(name) {
  const dir = mkdtempSync(join(tmpdir(), `weft-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `try-${name}`, version: '1.0.0', private: true }));
  return dir;
}
function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

const ok = [];
const full = project('full');
try {
  sh(npm, ['install', '--no-audit', '--no-fund', join(prebuilt, rootTgz), join(prebuilt, platformTgz)], full);
  const esm = sh(
    process.execPath,
    ['--input-type=module', '-e', `import { SharedStack } from 'weftjs'; const s = new SharedStack(); s.push(41); s.push({ a: 1 }); console.log(JSON.stringify([s.pop(), s.pop() + 1]));`],
    full,
  );
  if (esm !== '[{"a":1},42]') throw new Error(`ESM import gave ${esm}`);
  ok.push(`import { SharedStack } from 'weftjs' works -> ${esm}`);
  const cjs = sh(process.execPath, ['-e', `const { SharedStack } = require('weftjs'); const s = new SharedStack(); s.push('cjs'); console.log(s.pop());`], full);
  if (cjs !== 'cjs') throw new Error(`require gave ${cjs}`);
  ok.push(`require('weftjs') works -> ${cjs}`);
  const resolved = sh(process.execPath, ['-e', `console.log(require.resolve('weftjs-linux-x64-gnu'))`], full);
  ok.push(`binary from the platform package: ${resolved.replace(full, '<tmp>')}`);
} finally {
  rmSync(full, { recursive: true, force: true });
}

const bare = project('bare');
try {
  sh(npm, ['install', '--no-audit', '--no-fund', '--omit=optional', join(prebuilt, rootTgz)], bare);
  const r = spawnSync(process.execPath, ['-e', `try { require('weftjs'); console.log('loaded?!') } catch (e) { console.log(e.code + ' ' + e.message) }`], {
    cwd: bare,
    env,
    encoding: 'utf8',
  });
  const line = r.stdout.trim();
  if (!line.startsWith('WEFT_NO_BINARY') || !line.includes('linux-x64-gnu')) throw new Error(`expected WEFT_NO_BINARY, got: ${line}\n${r.stderr}`);
  ok.push(`without the platform package: ${line.slice(0, 110)}...`);
} finally {
  rmSync(bare, { recursive: true, force: true });
}

for (const line of ok) console.log(`ok  ${line}`);
console.log(`verified ${rootTgz} and ${platformTgz} without a Rust toolchain on PATH`);
