// npm run verify:prebuilt (second half): the README's TypeScript quick start, as a user would run it.
//
// 1. Extracts the quick start's files from README.md (the ```ts blocks of the "Quick start" section
//    whose first line is `// <file>.ts`) and the output it promises (its ```text block).
// 2. Makes a fresh project in a temp dir ("type": "module") and installs the packed tarballs
//    (prebuilt/weftjs-<version>.tgz and prebuilt/weftjs-<platform>-<version>.tgz, from
//    `npm run prebuilt`), tsx and fastify into it with npm, with no Rust toolchain on PATH.
// 3. Runs main.ts in each TypeScript world on the Node major it belongs to (the official binaries
//    come from the registry: scripts/registry-cache.mjs) and compares what it prints with the
//    README's output, line for line:
//      tsx CLI and `node --import tsx`   on Node 20 and 24 (and the tsx CLI on 22)
//      `--experimental-strip-types`      on Node 22
//      type stripping by default         on Node 24 and 26
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { napiPlatform } from './platform.mjs';
import { ROOT, nodeBinary } from './registry-cache.mjs';

const README = join(ROOT, 'README.md');
const HEADING = '## Quick start (TypeScript)';

/** The quick start's files and promised output, straight from the README. */
export function extractQuickstart(text = readFileSync(README, 'utf8')) {
  const start = text.indexOf(`\n${HEADING}\n`);
  if (start < 0) throw new Error(`README.md has no "${HEADING}" section`);
  const end = text.indexOf('\n## ', start + HEADING.length + 2);
  const section = text.slice(start, end < 0 ? undefined : end);
  const files = {};
  let output;
  for (const m of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const [, lang, body] = m;
    const name = /^\/\/ ([\w.-]+\.ts)\b/.exec(body)?.[1];
    if (lang === 'ts' && name) files[name] = body;
    if (lang === 'text') output = body;
  }
  if (!files['main.ts'] || !files['tasks.ts'])
    throw new Error(`the quick start lacks main.ts or tasks.ts: ${Object.keys(files).join(', ')}`);
  if (output === undefined) throw new Error('the quick start does not say what it prints (a ```text block)');
  return { files, output };
}

function main() {
  const prebuilt = join(ROOT, 'prebuilt');
  const platform = napiPlatform();
  const tarballs = existsSync(prebuilt) ? readdirSync(prebuilt).filter((f) => f.endsWith('.tgz')) : [];
  const rootTgz = tarballs.find((f) => /^weftjs-\d/.test(f));
  const platformTgz = tarballs.find((f) => f.startsWith(`weftjs-${platform}-`));
  if (!rootTgz || !platformTgz) throw new Error(`prebuilt/ lacks the tarballs (run npm run prebuilt): ${tarballs.join(', ')}`);
  const { files, output } = extractQuickstart();

  // Fetch the Node binaries first (with the normal PATH), then hide Rust.
  const worlds = [
    { name: 'tsx CLI', major: 20, args: (tsx) => [tsx, 'main.ts'] },
    { name: 'node --import tsx', major: 20, args: () => ['--import', 'tsx', 'main.ts'] },
    { name: 'tsx CLI', major: 22, args: (tsx) => [tsx, 'main.ts'] },
    { name: '--experimental-strip-types', major: 22, args: () => ['--experimental-strip-types', 'main.ts'] },
    { name: 'tsx CLI', major: 24, args: (tsx) => [tsx, 'main.ts'] },
    { name: 'node --import tsx', major: 24, args: () => ['--import', 'tsx', 'main.ts'] },
    { name: 'type stripping (default)', major: 24, args: () => ['main.ts'] },
    { name: 'type stripping (default)', major: 26, args: () => ['main.ts'] },
  ].map((w) => ({ ...w, node: nodeBinary(w.major) }));

  const toolchain = ['cargo', 'rustc', 'rustup'];
  const PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !toolchain.some((t) => existsSync(join(d, t))))
    .join(delimiter);
  const env = { ...process.env, PATH, npm_config_loglevel: 'error', NODE_OPTIONS: '' };
  for (const k of ['CARGO_HOME', 'RUSTUP_HOME', 'RUSTC', 'CARGO']) delete env[k];
  const npmCli = join(dirname(process.execPath), 'npm');
  const npm = existsSync(npmCli) ? npmCli : 'npm';

  const dir = mkdtempSync(join(tmpdir(), 'weft-quickstart-'));
  const failures = [];
  try {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'quickstart', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    const started = Date.now();
    const install = spawnSync(
      npm,
      ['install', '--no-audit', '--no-fund', join(prebuilt, rootTgz), join(prebuilt, platformTgz), 'tsx', 'fastify'],
      {
        cwd: dir,
        env,
        encoding: 'utf8',
      },
    );
    if (install.status !== 0) throw new Error(`npm install in the fresh project failed:\n${install.stdout}\n${install.stderr}`);
    console.log(
      `installed ${rootTgz}, ${platformTgz}, tsx and fastify into a fresh project (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    const tsx = join(dir, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    for (const w of worlds) {
      const t0 = Date.now();
      const r = spawnSync(w.node, w.args(tsx), { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      const got = r.stdout.replace(/\r\n/g, '\n');
      const label = `${w.name.padEnd(28)} Node ${spawnSync(w.node, ['--version'], { encoding: 'utf8' }).stdout.trim().padEnd(9)}`;
      if (r.status === 0 && got === output) {
        console.log(`ok    ${label} prints the README's output (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } else {
        failures.push(label);
        console.log(
          `FAIL  ${label} exit ${r.status ?? r.signal}\n--- expected ---\n${output}--- got ---\n${got}--- stderr ---\n${r.stderr}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    console.log(`\nthe README's quick start failed in ${failures.length} world(s)`);
    process.exit(1);
  }
  console.log("the README's quick start runs as written in every world, from the packed tarballs");
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split(/[\\/]/).pop())) main();
