/**
 * The actor the cluster bench asks and tells (weft), spawned on the serving node's main thread as
 * `echo-1`: `echo` replies its `v`, `sink` counts (and notes when the last one came, in ms since
 * the epoch with sub-ms precision, comparable across the processes of this machine), `count`
 * replies what `sink` counted. `hold` replies `ms` after `ms` milliseconds (the node-down row: asks
 * that the serving node has received and not answered when it is killed; the actor takes its
 * messages one at a time, so the ones after a `hold` wait in its mailbox).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineActor } from '../../src/index.js';

export interface SinkCount {
  count: number;
  /** performance.timeOrigin + performance.now() when the last counted message was handled. */
  lastAt: number;
}

export const Echo = defineActor({
  name: 'weft-bench.ClusterEcho',
  init: (): SinkCount => ({ count: 0, lastAt: 0 }),
  handlers: {
    echo: (_s: SinkCount, m: { v: unknown }) => m.v,
    sink: (s: SinkCount, _m: { v: unknown }) => {
      s.count++;
      s.lastAt = performance.timeOrigin + performance.now();
    },
    count: (s: SinkCount): SinkCount => ({ count: s.count, lastAt: s.lastAt }),
    hold: async (_s: SinkCount, m: { ms: number }): Promise<number> => {
      await sleep(m.ms);
      return m.ms;
    },
  },
});
