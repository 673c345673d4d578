/**
 * Membership of one node: the failure detector runs on a worker thread of its own
 * (`heartbeat.ts`, with its own NATS connection); this side starts it, keeps the set of nodes it
 * hears, and calls `up`/`down` on the main thread.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { InvalidArgumentError } from '../errors.js';
import type { HeartbeatConfig, HeartbeatEvent } from './heartbeat.js';

/** Heartbeats per failure window: a node is declared down after missing about this many. */
const BEATS_PER_WINDOW = 6;

/** The worker's entry: the compiled file, or (weft's own tests, under tsx) the TypeScript through tsx's CommonJS hook. */
function heartbeatEntry(): { file: string; eval: boolean } {
  const file = join(__dirname, __filename.endsWith('.ts') ? 'heartbeat.ts' : 'heartbeat.js');
  if (file.endsWith('.ts')) return { file: `require("tsx/cjs"); require(${JSON.stringify(file)});`, eval: true };
  return { file, eval: false };
}

export interface MembershipEvents {
  up(node: string): void;
  down(node: string, info: { silentMs: number; bye: boolean }): void;
}

export class Membership {
  readonly #worker: Worker;
  readonly #live = new Set<string>();
  #stopped = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /** Starts the detector; resolves once its connection is up and its first heartbeat is out. */
  static start(
    nats: NodeConnectionOptions,
    cluster: string,
    node: string,
    windowMs: number,
    events: MembershipEvents,
  ): Promise<Membership> {
    const cfg: HeartbeatConfig = {
      nats,
      cluster,
      node,
      intervalMs: Math.max(20, Math.min(1000, Math.floor(windowMs / BEATS_PER_WINDOW))),
      windowMs,
    };
    const entry = heartbeatEntry();
    const worker = new Worker(entry.file, { eval: entry.eval, workerData: cfg, name: `weft ${cluster}/${node} heartbeat` });
    const m = new Membership(worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (e: HeartbeatEvent) => {
        if (e.type === 'ready') {
          ready = true;
          worker.unref();
          resolve(m);
        } else if (e.type === 'error') {
          if (!ready) reject(new InvalidArgumentError(`cluster: the heartbeat thread could not start: ${e.message}`));
        } else if (e.type === 'up') {
          if (!m.#live.has(e.node)) {
            m.#live.add(e.node);
            events.up(e.node);
          }
        } else if (m.#live.delete(e.node)) {
          events.down(e.node, { silentMs: e.silentMs, bye: e.bye });
        }
      });
      worker.once('error', (err) => {
        if (!ready) reject(err);
      });
      worker.once('exit', (code) => {
        if (!ready) reject(new InvalidArgumentError(`cluster: the heartbeat thread exited (${code}) before it was ready`));
      });
    });
  }

  /** The other nodes heard within the failure window. */
  get live(): ReadonlySet<string> {
    return this.#live;
  }

  /** Says goodbye (the others declare this node down at once) and ends the thread. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise<void>((r) => this.#worker.once('exit', () => r()));
    this.#worker.postMessage('stop');
    const timer = setTimeout(() => void this.#worker.terminate(), 2_000);
    await exited;
    clearTimeout(timer);
  }
}
