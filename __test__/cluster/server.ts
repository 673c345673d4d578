// A harness for the weftjs/cluster tests: each test starts its own nats-server on a free loopback
// port and stops only what it started. The binary comes from scripts/nats-server.mjs (WEFT_NATS_SERVER,
// then the cache that `npm test` fills from Debian, then PATH); `npm run test:js` fetches it first.
//
// Usage in a spec:
//   import anyTest from 'ava';
//   import { skipUnlessNatsServer, startNatsServer } from './server.js';
//   const test = skipUnlessNatsServer(anyTest);
//   test('...', async (t) => {
//     const server = await startNatsServer({ jetstream: true });
//     t.teardown(() => server.stop());
//     ...
//   });
// Without a server the tests are registered with `test.skip` and one line says how to get one; with
// CI=true a missing server is a failing test instead.
import type { ImplementationFn, TestFn } from 'ava';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without declarations (typed below).
import { findNatsServer as findUntyped, missingLine as missingLineUntyped } from '../../scripts/nats-server.mjs';

const findNatsServer = findUntyped as () => string | undefined;
const missingLine = missingLineUntyped as (reason?: string, ci?: boolean) => string;

/** How long a server may take to print "Server is ready". */
const READY_TIMEOUT_MS = 10_000;
/** How long `stop()` waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000;
/** How much of a server's output is kept for error messages. */
const OUTPUT_KEEP = 16_384;

let cachedPath: string | undefined | null = null;

/**
 * The nats-server binary the tests use, or undefined when there is none. Throws when
 * WEFT_NATS_SERVER names something that is not an executable file.
 */
export function natsServerPath(): string | undefined {
  if (cachedPath === null) cachedPath = findNatsServer();
  return cachedPath;
}

type Register = (title: string, implementation: ImplementationFn<[]>) => void;

let announced = false;

/**
 * `test` where a nats-server is available. Otherwise `test.skip`, with one line saying how to get a
 * server; with CI=true (or a WEFT_NATS_SERVER that is not executable) one failing test instead.
 */
export function skipUnlessNatsServer(test: TestFn): Register {
  let problem: string | undefined;
  try {
    if (natsServerPath()) return test;
    problem = missingLine();
  } catch (err) {
    problem = (err as Error).message;
  }
  const fail = process.env.CI === 'true' || !problem.startsWith('nats-server not found');
  if (!announced) {
    announced = true;
    if (fail) test('nats-server is available', (t) => t.fail(problem));
    else console.log(problem);
  }
  return test.skip;
}

export interface NatsServerOptions {
  /** Enables JetStream (`-js`), storing under `storeDir`. */
  jetstream?: boolean;
  /** A fixed port instead of a free one (a start fails if it is taken). */
  port?: number;
  /** Text of a configuration file (`-c`); the command-line flags (address, port, ...) win over it. */
  config?: string;
  /** With `pass`: the credentials every client must present. */
  user?: string;
  pass?: string;
  /** The largest message the server accepts, in bytes (`max_payload`). */
  maxPayload?: number;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` (without credentials). */
  readonly url: string;
  readonly port: number;
  /** The pid of the current process (a new one after `restart()`). */
  readonly pid: number;
  /** JetStream's store directory; it survives `restart()` and is removed by `stop()`. */
  readonly storeDir: string;
  /** SIGTERM, then SIGKILL after 3 s; waits for the exit and removes the temporary files. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal (SIGKILL by default) and returns at once, e.g. to simulate a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops the process and starts a new one on the same port with the same store. */
  restart(): Promise<void>;
  /** The output of the current process so far (the last 16 KiB). */
  output(): string;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error(`no port from ${String(address)}`))));
    });
  });
}

interface Running {
  child: ChildProcess;
  watchdog: ChildProcess | undefined;
  dir: string;
}

/** What this process started and has not stopped; killed when the process exits. */
const running = new Set<Running>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const r of running) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

/**
 * A process that kills the server when this process dies without running its exit hooks (SIGKILL,
 * or the SIGTERM with which AVA ends a worker): its stdin is a pipe from us, so it reads EOF then.
 * It also removes the temporary folder then. A clean stop writes `stop` first.
 */
function startWatchdog(pid: number, dir: string): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const script = 'read -r line; [ "$line" = stop ] && exit 0; kill -9 "$1"; sleep 0.3; rm -rf "$2" || { sleep 1; rm -rf "$2"; }';
  const w = spawn('/bin/sh', ['-c', script, 'nats-server-watchdog', String(pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  w.on('error', () => {});
  w.stdin?.on('error', () => {});
  w.unref();
  (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return w;
}

function releaseWatchdog(r: Running): void {
  const w = r.watchdog;
  r.watchdog = undefined;
  if (w?.stdin && !w.stdin.destroyed) w.stdin.end('stop\n');
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Starts a nats-server of its own for a test; resolves once it says "Server is ready". */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerPath();
  if (!bin) throw new Error(missingLine());
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'weft-nats-'));
  const storeDir = join(dir, 'store');
  mkdirSync(storeDir);
  const config = [opts.config ?? '', opts.maxPayload !== undefined ? `max_payload: ${opts.maxPayload}` : ''].filter(Boolean).join('\n');
  const configFile = join(dir, 'server.conf');
  if (config) writeFileSync(configFile, `${config}\n`);

  const argsFor = (port: number): string[] => [
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-sd',
    storeDir,
    ...(opts.jetstream ? ['-js'] : []),
    ...(config ? ['-c', configFile] : []),
    ...(opts.user !== undefined ? ['--user', opts.user] : []),
    ...(opts.pass !== undefined ? ['--pass', opts.pass] : []),
  ];

  let output = '';
  const current: Running = { child: undefined as unknown as ChildProcess, watchdog: undefined, dir };

  /** Spawns the server on `port` and waits for it to be ready; rejects with its output. */
  const launch = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      output = '';
      const child = spawn(bin, argsFor(port), { stdio: ['ignore', 'pipe', 'pipe'] });
      current.child = child;
      running.add(current);
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
        if (output.includes('Server is ready')) settle();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('error', (err) => settle(new Error(`nats-server (${bin}) did not start: ${err.message}`)));
      child.on('exit', (code, signal) => {
        releaseWatchdog(current);
        settle(new Error(`nats-server exited (${signal ?? `code ${code}`}) before it was ready on port ${port}:\n${output}`));
      });
      if (child.pid !== undefined) current.watchdog = startWatchdog(child.pid, dir);
      // Tests must not be kept alive by a server they forgot to stop (the exit hook kills it).
      child.unref();
      for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        settle(new Error(`nats-server was not ready on port ${port} after ${READY_TIMEOUT_MS} ms:\n${output}`));
      }, READY_TIMEOUT_MS);
    });

  /** Ends the current process (SIGTERM, then SIGKILL) and waits for it. */
  const terminate = async (): Promise<void> => {
    const child = current.child;
    if (!exited(child)) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await waitExit(child, STOP_GRACE_MS);
      }
    }
    releaseWatchdog(current);
  };

  let port = opts.port ?? (await freePort());
  // A free port can be taken between the probe and the server's bind: then try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch(port);
      break;
    } catch (err) {
      await terminate();
      const taken = /address already in use/i.test((err as Error).message);
      if (opts.port !== undefined || !taken || attempt >= 3) {
        running.delete(current);
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      port = await freePort();
    }
  }

  let stopped = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return current.child.pid ?? -1;
    },
    storeDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
      running.delete(current);
      rmSync(dir, { recursive: true, force: true });
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!exited(current.child)) current.child.kill(signal);
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await terminate();
      await launch(port);
    },
    output: () => output,
  };
}
