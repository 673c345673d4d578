/**
 * The bench's own nats-server: `nats-server -a 127.0.0.1 -p <free port> -js -sd <tmpdir> -m <free port>`,
 * started once per bench run by the parent and stopped at its end (only the pid it started). The
 * binary is scripts/nats-server.mjs's (WEFT_NATS_SERVER, the cache that `npm test` fills from Debian,
 * PATH; fetched from Debian when there is none). The monitoring port gives the server's message
 * and byte counters (`/varz`), which the parent reads around each run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without declarations (typed below).
import { ensureNatsServer as ensureUntyped, natsServerVersion as versionUntyped } from '../../scripts/nats-server.mjs';

const ensureNatsServer = ensureUntyped as () => Promise<string>;
const natsServerVersion = versionUntyped as (path: string) => string;

const READY_TIMEOUT_MS = 10_000;

export interface BenchNatsServer {
  url: string;
  pid: number;
  binary: string;
  version: string;
  /** The monitoring endpoint with the counters. */
  varzUrl: string;
  /** The server's counters (`/varz` of the monitoring port). */
  varz(): Promise<Varz>;
  stop(): Promise<void>;
}

export interface Varz {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  slow_consumers: number;
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function waitExit(c: ChildProcess, ms: number): Promise<boolean> {
  if (exited(c)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    c.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts a server and resolves once it printed "Server is ready". */
export async function startNatsServer(): Promise<BenchNatsServer> {
  const binary = await ensureNatsServer();
  const version = natsServerVersion(binary);
  for (let attempt = 1; ; attempt++) {
    const [port, monitor] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-nats-'));
    const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-m', String(monitor)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onExit = (): void => {
      if (!exited(child)) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    let output = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      const onData = (d: Buffer): void => {
        output = (output + d.toString('utf8')).slice(-8192);
        if (output.includes('Server is ready')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      onExit();
      process.off('exit', onExit);
      // A free port can be taken between the probe and the bind: try others.
      if (/address already in use/i.test(output) && attempt < 3) continue;
      throw new Error(`nats-server (${binary}) was not ready on port ${port}:\n${output}`);
    }
    return {
      url: `nats://127.0.0.1:${port}`,
      pid: child.pid!,
      binary,
      version,
      varzUrl: `http://127.0.0.1:${monitor}/varz`,
      async varz() {
        const r = await fetch(`http://127.0.0.1:${monitor}/varz`);
        return (await r.json()) as Varz;
      },
      async stop() {
        if (!exited(child)) {
          child.kill('SIGTERM');
          if (!(await waitExit(child, 3000))) {
            child.kill('SIGKILL');
            await waitExit(child, 3000);
          }
        }
        rmSync(dir, { recursive: true, force: true });
        process.off('exit', onExit);
      },
    };
  }
}
