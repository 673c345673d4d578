/**
 * CPU profiles of the timed parts only (`npm run bench:cluster -- --profile DIR`): the calling child
 * starts V8's sampling profiler (node:inspector) when a row's timed part begins and writes
 * `DIR/<lib>-<row>-call-<pid>.cpuprofile` when it ends; it signals the serving child (SIGUSR2) at
 * both points, which does the same into `DIR/<lib>-<row>-serve-<pid>.cpuprofile`. Read them with
 * `node --import=tsx bench/cluster/profile-top.ts FILE` (self time by function) or Chrome DevTools.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Sampling interval, µs (V8's default is 1,000). */
const INTERVAL_US = 100;

export class Profiler {
  readonly #dir: string;
  readonly #name: string;
  #session: Session | undefined;

  constructor(dir: string, name: string) {
    this.#dir = dir;
    this.#name = name;
  }

  get running(): boolean {
    return this.#session !== undefined;
  }

  async start(): Promise<void> {
    const s = new Session();
    s.connect();
    await s.post('Profiler.enable');
    await s.post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
    await s.post('Profiler.start');
    this.#session = s;
  }

  /** Stops and writes the profile as `<dir>/<name(tag)>`; returns its path. */
  async stop(tag: string): Promise<string | undefined> {
    const s = this.#session;
    if (s === undefined) return undefined;
    this.#session = undefined;
    const { profile } = await s.post('Profiler.stop');
    s.disconnect();
    const path = join(this.#dir, `${this.#name.replace('%s', tag)}-${process.pid}.cpuprofile`);
    writeFileSync(path, JSON.stringify(profile));
    return path;
  }
}
