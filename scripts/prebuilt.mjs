// npm run prebuilt: builds the release binary and the TypeScript, then packs two installable
// tarballs into prebuilt/:
//   weftjs-<version>.tgz               the root package, whose optionalDependencies name
//                                      weftjs-<platform> (as `napi prepublish` would write them)
//   weftjs-<platform>-<version>.tgz    the platform package carrying weft.<platform>.node
// <platform> is this machine's (linux-x64-gnu here; scripts/platform.mjs), or --platform NAME. The
// platform package's folder is npm/<platform> (committed for linux-x64-gnu; `npx napi
// create-npm-dirs` writes the others, as the release workflow does).
// --no-build packs the binary and dist/ already there (the release workflow's smoke test).
// Neither tarball needs a Rust toolchain to install: the root package has no install/prepare script.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { napiPlatform } from './platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'prebuilt');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args, cwd = root) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' }).toString();

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const flag = process.argv.indexOf('--platform');
const platform = flag > 0 ? process.argv[flag + 1] : napiPlatform();
const platformDir = join(root, 'npm', platform);
if (!existsSync(join(platformDir, 'package.json'))) {
  throw new Error(`npm/${platform}/package.json is missing: run \`npx napi create-npm-dirs\` first`);
}
const platformPkg = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8'));
const binary = `${pkg.napi.binaryName}.${platform}.node`;
if (platformPkg.version !== pkg.version) {
  throw new Error(`npm/${platform} is at ${platformPkg.version} but weftjs is at ${pkg.version}`);
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
// Only this repository's own install reads these.
delete published.overrides;
delete published.allowScripts;
published.scripts = {};
published.optionalDependencies = { [platformPkg.name]: pkg.version };
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
const rootTgz = run(npm, ['pack', '--pack-destination', out, '--silent'], stage).trim().split('\n').pop();
rmSync(stage, { recursive: true, force: true });

console.log(`prebuilt/${rootTgz}\nprebuilt/${platformTgz}`);
