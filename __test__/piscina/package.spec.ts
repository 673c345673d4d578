// The package subpath weftjs/piscina (the built dist/, through package.json "exports"), loaded as
// piscina users load piscina: `require('weftjs/piscina')` is the class itself, `import Piscina from`
// and `import { Piscina } from` give the same class, and the named exports are piscina's.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers.js';

const WORKER = join(__dirname, '..', 'fixtures', 'piscina-worker.mjs');
const CJS_WORKER = join(__dirname, '..', 'fixtures', 'piscina-cjs.cjs');

function node(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { stdout: r.stdout.trim(), stderr: r.stderr, status: r.status };
}

test("CommonJS: require('weftjs/piscina') is the class, with Piscina, default, move, isWorkerThread, workerData and version on it", (t) => {
  const script = `
    const Piscina = require('weftjs/piscina');
    const { Piscina: Named, move, isWorkerThread, workerData, version } = require('weftjs/piscina');
    const piscina = new Piscina({ filename: ${JSON.stringify(CJS_WORKER)}, maxThreads: 1 });
    piscina.run(21).then(async (n) => {
      await piscina.close();
      console.log(JSON.stringify({
        cls: typeof Piscina, named: Named === Piscina, def: Piscina.default === Piscina,
        move: typeof move, isWorkerThread, workerData: workerData === undefined, version, n,
        instance: piscina instanceof require('node:events').EventEmitter,
      }));
    });`;
  const r = node(['-e', script]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), {
    cls: 'function',
    named: true,
    def: true,
    move: 'function',
    isWorkerThread: false,
    workerData: true,
    version: require('../../package.json').version,
    n: 42,
    instance: true,
  });
});

test("ESM: import Piscina from 'weftjs/piscina' and the named exports; the same class as require()'s", (t) => {
  const script = `
    import Piscina, { Piscina as Named, move, isWorkerThread, workerData, version, transferableSymbol, valueSymbol } from 'weftjs/piscina';
    import { createRequire } from 'node:module';
    const piscina = new Piscina({ filename: new URL(${JSON.stringify(`file://${WORKER}`)}).href, maxThreads: 1 });
    const info = await piscina.run(null, { name: 'info' });
    await piscina.close();
    console.log(JSON.stringify({
      named: Named === Piscina, same: createRequire(import.meta.url)('weftjs/piscina') === Piscina,
      move: move === Piscina.move, isWorkerThread, workerData: workerData === undefined, version: typeof version,
      symbols: transferableSymbol === Symbol.for('Piscina.transferable') && valueSymbol === Symbol.for('Piscina.valueOf'),
      inWorker: info.isWorkerThread,
    }));`;
  const r = node(['--input-type=module', '-e', script]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), {
    named: true,
    same: true,
    move: true,
    isWorkerThread: false,
    workerData: true,
    version: 'string',
    symbols: true,
    inWorker: true,
  });
});

test('the built ESM face has exactly the CommonJS build names', (t) => {
  const r = node([
    '--input-type=module',
    '-e',
    "import * as m from 'weftjs/piscina'; import { createRequire } from 'node:module'; const c = createRequire(import.meta.url)('weftjs/piscina'); console.log(JSON.stringify([Object.keys(m).sort(), Object.keys(c).sort()]))",
  ]);
  t.is(r.status, 0, r.stderr);
  const [esm, cjs] = JSON.parse(r.stdout) as [string[], string[]];
  t.deepEqual(esm, cjs);
  t.deepEqual(esm, [
    'AbortError',
    'Piscina',
    'default',
    'isWorkerThread',
    'move',
    'transferableSymbol',
    'valueSymbol',
    'version',
    'workerData',
  ]);
});
