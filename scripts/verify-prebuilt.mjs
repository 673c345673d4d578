// npm run verify:prebuilt: proves the prebuilt tarballs install and run with no Rust toolchain.
//
// 1. Installs prebuilt/weftjs-<version>.tgz and prebuilt/weftjs-<platform>-<version>.tgz (this
//    machine's platform, scripts/platform.mjs) into an empty project in a temp dir, with every
//    directory holding cargo/rustc removed from PATH (and checks that `cargo` really cannot be
//    found), then uses the package through `import` and `require` and runs one task on a Pool.
// 2. Installs the root tarball alone (no platform package), and checks that loading weft fails
//    with WEFT_NO_BINARY naming the platform.
// Run `npm run prebuilt` first (or pass --build to do it here). The release workflow runs both on
// every platform it builds, before publishing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { napiPlatform } from './platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilt = join(root, 'prebuilt');
if (process.argv.includes('--build') || !existsSync(prebuilt)) {
  execFileSync(process.execPath, [join(root, 'scripts/prebuilt.mjs')], { stdio: 'inherit' });
}
const tarballs = readdirSync(prebuilt).filter((f) => f.endsWith('.tgz'));
const platform = napiPlatform();
const rootTgz = tarballs.find((f) => /^weftjs-\d/.test(f));
const platformTgz = tarballs.find((f) => f.startsWith(`weftjs-${platform}-`));
if (!rootTgz || !platformTgz) throw new Error(`prebuilt/ lacks the tarballs: ${tarballs.join(', ')}`);

// PATH without any directory that has cargo or rustc; npm and node must stay reachable.
const toolchain = ['cargo', 'rustc', 'rustup'];
const path = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((d) => d && !toolchain.some((t) => existsSync(join(d, t))))
  .join(delimiter);
const env = { ...process.env, PATH: path, npm_config_loglevel: 'error' };
for (const k of ['CARGO_HOME', 'RUSTUP_HOME', 'RUSTC', 'CARGO']) delete env[k];
const win = process.platform === 'win32';
const onPath = path.split(delimiter).filter((d) => toolchain.some((t) => existsSync(join(d, win ? `${t}.exe` : t))));
if (onPath.length > 0) throw new Error(`a Rust toolchain is still on PATH: ${onPath.join(', ')}`);
const npmCli = join(dirname(process.execPath), win ? 'npm.cmd' : 'npm');
const npm = existsSync(npmCli) ? npmCli : win ? 'npm.cmd' : 'npm';

function project(name) {
  const dir = mkdtempSync(join(tmpdir(), `weft-${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `try-${name}`, version: '1.0.0', private: true }));
  return dir;
}
function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', shell: win && cmd.endsWith('.cmd') });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

const ok = [];
const full = project('full');
try {
  sh(npm, ['install', '--no-audit', '--no-fund', join(prebuilt, rootTgz), join(prebuilt, platformTgz)], full);
  const esm = sh(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { SharedStack } from 'weftjs'; const s = new SharedStack(); s.push(41); s.push({ a: 1 }); console.log(JSON.stringify([s.pop(), s.pop() + 1]));`,
    ],
    full,
  );
  if (esm !== '[{"a":1},42]') throw new Error(`ESM import gave ${esm}`);
  ok.push(`import { SharedStack } from 'weftjs' works -> ${esm}`);
  const cjs = sh(
    process.execPath,
    ['-e', `const { SharedStack } = require('weftjs'); const s = new SharedStack(); s.push('cjs'); console.log(s.pop());`],
    full,
  );
  if (cjs !== 'cjs') throw new Error(`require gave ${cjs}`);
  ok.push(`require('weftjs') works -> ${cjs}`);
  writeFileSync(join(full, 'tasks.mjs'), 'export function square(x) { return x * x; }\n');
  const task = sh(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { Pool } from 'weftjs'; const pool = new Pool({ module: new URL('./tasks.mjs', import.meta.url), threads: 2 }); ` +
        `console.log(JSON.stringify(await Promise.all([pool.run('square', 7), ...[1, 2, 3].map((x) => pool.run('square', x))]))); await pool.close();`,
    ],
    full,
  );
  if (task !== '[49,1,4,9]') throw new Error(`a Pool task gave ${task}`);
  ok.push(`a Pool task runs on a worker -> ${task}`);
  const resolved = sh(process.execPath, ['-e', `console.log(require.resolve('weftjs-${platform}'))`], full);
  ok.push(`binary from the platform package: ${resolved.replace(full, '<tmp>')}`);
} finally {
  rmSync(full, { recursive: true, force: true });
}

const bare = project('bare');
try {
  sh(npm, ['install', '--no-audit', '--no-fund', '--omit=optional', join(prebuilt, rootTgz)], bare);
  const r = spawnSync(
    process.execPath,
    ['-e', `try { require('weftjs'); console.log('loaded?!') } catch (e) { console.log(e.code + ' ' + e.message) }`],
    {
      cwd: bare,
      env,
      encoding: 'utf8',
    },
  );
  const line = r.stdout.trim();
  if (!line.startsWith('WEFT_NO_BINARY') || !line.includes(platform)) throw new Error(`expected WEFT_NO_BINARY, got: ${line}\n${r.stderr}`);
  ok.push(`without the platform package: ${line.slice(0, 110)}...`);
} finally {
  rmSync(bare, { recursive: true, force: true });
}

for (const line of ok) console.log(`ok  ${line}`);
console.log(`verified ${rootTgz} and ${platformTgz} without a Rust toolchain on PATH`);
