// npm run prebuilt: builds the release binary and the TypeScript, then packs two installable
// tarballs into prebuilt/:
//   weft-<version>.tgz                 the root package, whose optionalDependencies name
//                                      weftjs-linux-x64-gnu (as `napi prepublish` would write them)
//   weftjs-linux-x64-gnu-<version>.tgz   the platform package carrying weft.linux-x64-gnu.node
// Neither needs a Rust toolchain to install: the root package has no install/prepare script.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'prebuilt');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const platformDir = join(root, 'npm', 'linux-x64-gnu');
const platformPkg = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8'));
const binary = `${pkg.napi.binaryName}.linux-x64-gnu.node`;
if (platformPkg.version !== pkg.version) {
  throw new Error(`npm/linux-x64-gnu is at ${platformPkg.version} but weft is at ${pkg.version}`);
}

if (!process.argv.includes('--no-build')) run(npm, ['run', 'build']);
if (!existsSync(join(root, binary))) throw new Error(`${binary} is missing: the release build did not produce it`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Platform package: the .node file next to its package.json.
cpSync(join(root, binary), join(platformDir, binary));
const platformTgz = run(npm, ['pack', '--pack-destination', out, '--silent'], platformDir).trim().split('\n').pop();

// Root package: a staged copy with the publishing shape of package.json.
const stage = join(out, 'stage');
mkdirSync(stage, { recursive: true });
for (const file of [...pkg.files, 'README.md', 'LICENSE']) {
  if (existsSync(join(root, file))) cpSync(join(root, file), join(stage, file), { recursive: true });
}
const published = { ...pkg };
delete published.devDependencies;
delete published.ava;
published.scripts = {};
published.optionalDependencies = { [platformPkg.name]: pkg.version };
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
const rootTgz = run(npm, ['pack', '--pack-destination', out, '--silent'], stage).trim().split('\n').pop();
rmSync(stage, { recursive: true, force: true });

console.log(`prebuilt/${rootTgz}\nprebuilt/${platformTgz}`);
