/**
 * Deadlines (src/internal/deadlines.ts), the timeout buckets behind local and cluster asks, against
 * a reference: random entries with a few timeouts, some settled before their deadline. Every
 * entry not settled expires once, not before its deadline and not long after; a settled one never
 * does; the callback gets the entry's timeout. Then the timers: an idle set (nothing pending) keeps
 * no process alive, a pending entry does.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { type DeadlineBucket, Deadlines } from '../../src/internal/deadlines.js';

interface Entry {
  id: number;
  ms: number;
  deadline: number;
  done: boolean;
  bucket: DeadlineBucket | undefined;
}

test('each pending entry expires once, at or after its deadline; settled ones never', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          ms: fc.constantFrom(15, 30, 45),
          settleAfter: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
          gap: fc.integer({ min: 0, max: 4 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      async (plan) => {
        const expired = new Map<number, { at: number; ms: number }>();
        const d = new Deadlines<Entry>((e, ms) => {
          if (expired.has(e.id)) t.fail(`entry ${e.id} expired twice`);
          expired.set(e.id, { at: performance.now(), ms });
          e.done = true;
          d.settled(e);
        });
        const entries: Entry[] = [];
        const settles: Promise<void>[] = [];
        for (const [id, step] of plan.entries()) {
          if (step.gap > 0) await new Promise((r) => setTimeout(r, step.gap));
          const e: Entry = { id, ms: step.ms, deadline: performance.now() + step.ms, done: false, bucket: undefined };
          entries.push(e);
          d.add(e, step.ms);
          if (step.settleAfter !== undefined && step.settleAfter < step.ms - 5) {
            settles.push(
              new Promise<void>((r) =>
                setTimeout(() => {
                  if (!e.done) {
                    e.done = true;
                    d.settled(e);
                  }
                  r();
                }, step.settleAfter),
              ),
            );
          }
        }
        await Promise.all(settles);
        await new Promise((r) => setTimeout(r, 45 + 60));
        for (const e of entries) {
          const x = expired.get(e.id);
          const settledEarly = plan[e.id]!.settleAfter !== undefined && plan[e.id]!.settleAfter! < e.ms - 5;
          if (settledEarly) {
            t.is(x, undefined, `entry ${e.id} settled early but expired`);
            continue;
          }
          t.truthy(x, `entry ${e.id} (${e.ms} ms) never expired`);
          if (x === undefined) continue;
          t.is(x.ms, e.ms);
          t.true(x.at >= e.deadline - 0.5, `entry ${e.id} expired ${(e.deadline - x.at).toFixed(1)} ms early`);
          t.true(x.at <= e.deadline + 40, `entry ${e.id} expired ${(x.at - e.deadline).toFixed(1)} ms late`);
        }
        d.close();
      },
    ),
    { numRuns: 8 },
  );
});

test('a pending entry keeps the process alive until it expires; an idle set does not', (t) => {
  const script = (idle: boolean) => `
    const { Deadlines } = require(${JSON.stringify(join(__dirname, '../../src/internal/deadlines.ts'))});
    const d = new Deadlines((e) => { console.log('expired'); });
    const e = { deadline: performance.now() + 300, done: false, bucket: undefined };
    d.add(e, 300);
    if (${idle}) { e.done = true; d.settled(e); d.idle(); }
  `;
  for (const idle of [false, true]) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import=tsx', '-e', script(idle)], { encoding: 'utf8' });
    const took = Date.now() - t0;
    t.is(r.status, 0, r.stderr);
    if (idle) {
      t.is(r.stdout.trim(), '', 'an idle entry expired');
    } else {
      t.is(r.stdout.trim(), 'expired');
      t.true(took >= 300, `the process left after ${took} ms, before the deadline`);
    }
  }
});
