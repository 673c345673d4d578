/**
 * The bench's own nats-server: `nats-server -a 127.0.0.1 -p <free port> -js -sd <tmpdir> -m <free port>`,
 * started once per bench run by the parent and stopped at its end (only the pid it started). The
 * binary is scripts/nats-server.mjs's (WEFT_NATS_SERVER, the cache that `npm test` fills from Debian,
 * PATH; fetched from Debian when there is none). The monitoring port gives the server's message
 * and byte counters (`/varz`), which the parent reads around each run. `kill()` and `restart()`
 * give the broker-restart row its SIGKILL and its start again on the same port and store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
// @ts-expect-error: a plain .mjs script without declarations (typed below).
import { ensureNatsServer as ensureUntyped, natsServerVersion as versionUntyped } from '../../scripts/nats-server.mjs';

const ensureNatsServer = ensureUntyped as () => Promise<string>;
const natsServerVersion = versionUntyped as (path: string) => string;

const READY_TIMEOUT_MS = 10_000;

export interface BenchNatsServer {
  url: string;
  /** The current process's pid (`restart()` changes it). */
  readonly pid: number;
  binary: string;
  version: string;
  /** The monitoring endpoint with the counters. */
  varzUrl: string;
  /** The server's counters (`/varz` of the monitoring port). */
  varz(): Promise<Varz>;
  /**
   * SIGKILL (no goodbye to the clients); resolves, once it exited, with when the signal was sent
   * and when this process saw the exit (ms since the epoch; the clients may get answers for a
   * millisecond or two after the signal, while the kernel ends the process).
   */
  kill(): Promise<{ signalAt: number; exitAt: number }>;
  /**
   * Starts it again after `kill()`, with the same arguments (port, monitoring port, `-sd` store);
   * resolves once it printed "Server is ready": when it was started and when it was ready (ms
   * since the epoch). `pid` is then the new process's.
   */
  restart(): Promise<{ spawnAt: number; readyAt: number }>;
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

/** One nats-server process and whether it printed "Server is ready" within READY_TIMEOUT_MS (with its output). */
async function launch(binary: string, args: string[]): Promise<{ child: ChildProcess; ready: boolean; output: string }> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { child, ready, output };
}

/** Milliseconds since the epoch with sub-ms precision, comparable across the processes of this machine. */
const epochMs = (): number => performance.timeOrigin + performance.now();

/** Starts a server and resolves once it printed "Server is ready". */
export async function startNatsServer(): Promise<BenchNatsServer> {
  const binary = await ensureNatsServer();
  const version = natsServerVersion(binary);
  for (let attempt = 1; ; attempt++) {
    const [port, monitor] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-nats-'));
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-m', String(monitor)];
    let child: ChildProcess | undefined;
    const onExit = (): void => {
      if (child && !exited(child)) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    const first = await launch(binary, args);
    child = first.child;
    if (!first.ready) {
      onExit();
      process.off('exit', onExit);
      // A free port can be taken between the probe and the bind: try others.
      if (/address already in use/i.test(first.output) && attempt < 3) continue;
      throw new Error(`nats-server (${binary}) was not ready on port ${port}:\n${first.output}`);
    }
    const server: BenchNatsServer = {
      url: `nats://127.0.0.1:${port}`,
      get pid() {
        return child!.pid!;
      },
      binary,
      version,
      varzUrl: `http://127.0.0.1:${monitor}/varz`,
      async varz() {
        const r = await fetch(`http://127.0.0.1:${monitor}/varz`);
        return (await r.json()) as Varz;
      },
      async kill() {
        const c = child!;
        const signalAt = epochMs();
        c.kill('SIGKILL');
        if (!(await waitExit(c, 5000))) throw new Error(`nats-server pid ${c.pid} did not exit after SIGKILL`);
        return { signalAt, exitAt: epochMs() };
      },
      async restart() {
        if (!exited(child!)) throw new Error('restart: the nats-server is still running (kill it first)');
        const spawnAt = epochMs();
        // The same port, monitoring port and store: JetStream's state (weft's placement bucket) survives.
        for (let tries = 1; ; tries++) {
          const next = await launch(binary, args);
          child = next.child;
          if (next.ready) return { spawnAt, readyAt: epochMs() };
          if (!exited(next.child)) next.child.kill('SIGKILL');
          await waitExit(next.child, 3000);
          if (tries >= 3) throw new Error(`nats-server (${binary}) was not ready again on port ${port}:\n${next.output}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      async stop() {
        const c = child!;
        if (!exited(c)) {
          c.kill('SIGTERM');
          if (!(await waitExit(c, 3000))) {
            c.kill('SIGKILL');
            await waitExit(c, 3000);
          }
        }
        rmSync(dir, { recursive: true, force: true });
        process.off('exit', onExit);
      },
    };
    return server;
  }
}
