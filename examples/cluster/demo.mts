// weftjs/cluster in three processes: a nats-server (fetched by scripts/nats-server.mjs if
// missing), a node that hosts "counter-1" and a node that calls it. The host is then killed with
// SIGKILL: the caller sees it go down and takes the actor over.
//   npm run demo:cluster
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNatsServer } from '../../scripts/nats-server.mjs';

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });

const bin = await ensureNatsServer();
const port = await freePort();
const server = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', mkdtempSync(join(tmpdir(), 'weft-demo-'))], {
  stdio: 'pipe',
});
await new Promise<void>((resolve) => server.stderr.on('data', (d: Buffer) => String(d).includes('Server is ready') && resolve()));
const url = `nats://127.0.0.1:${port}`;
console.log(`nats-server ${url}`);

const node = (name: string, role: string): ChildProcess =>
  fork(join(import.meta.dirname, 'node.mts'), [url, name, role], { execArgv: ['--import=tsx'], stdio: 'inherit' });
const ready = (p: ChildProcess): Promise<void> => new Promise((r) => p.once('message', () => r()));

const host = node('host', 'host');
await ready(host);
const caller = node('caller', 'call');
await ready(caller);
console.log('killing the host (SIGKILL)');
host.kill('SIGKILL');
caller.send('go');
await new Promise((r) => caller.once('exit', r));
server.kill();
