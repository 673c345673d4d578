/**
 * The pending-ask memory of a host (src/internal/ask-table.ts) against plain references: the
 * `AskTable` against a `Map`, the `Fifo` against an array, under random operation sequences;
 * and the asks it serves end to end: a long ask outlives more than a ring of short ones (it moves
 * to the table's overflow map) and still gets its reply, and its timeout still fires.
 */
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { ActorSystem, Pool, WeftError } from '../../src/index.js';
import { lastJson, runChild } from '../helpers.js';
import { AskTable, Fifo } from '../../src/internal/ask-table.js';
import { Later } from '../fixtures/behaviour-actors.js';

interface E {
  id: number;
}

test('AskTable behaves as a Map from id to entry for sequential ids, however long entries stay', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant<'add'>('add'), fc.nat({ max: 40 }), fc.nat({ max: 3000 })), { maxLength: 4000 }), (ops) => {
      const table = new AskTable<E>();
      const ref = new Map<number, E>();
      let next = 0;
      for (const op of ops) {
        if (op === 'add') {
          const e = { id: ++next };
          table.add(e);
          ref.set(e.id, e);
        } else {
          // Take a recent id (most asks settle soon) or any earlier one (a long ask).
          const id = typeof op === 'number' && op <= 40 ? next - op : op;
          const want = ref.get(id);
          if (want !== undefined) ref.delete(id);
          if (table.take(id) !== want) return false;
        }
        if (table.size !== ref.size) return false;
      }
      for (const [id, e] of ref) if (table.get(id) !== e) return false;
      const all = table.entries().map((e) => e.id);
      return all.length === ref.size && all.every((id) => ref.has(id));
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('Fifo behaves as an array used as a queue (push, shift, peek, clear) across growth', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer(), fc.constant<'shift'>('shift'), fc.constant<'clear'>('clear')), { maxLength: 600 }),
      (ops) => {
        const q = new Fifo<number>();
        const ref: number[] = [];
        for (const op of ops) {
          if (op === 'shift') {
            if (q.shift() !== ref.shift()) return false;
          } else if (op === 'clear') {
            q.clear();
            ref.length = 0;
          } else {
            q.push(op);
            ref.push(op);
          }
          if (q.length !== ref.length || q.peek() !== ref[0]) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('a long ask outlives 3,000 short ones (past the ring): it still gets its reply, and a lost one still times out', async (t) => {
  const pool = new Pool({ threads: 1, module: join(__dirname, '..', 'fixtures', 'behaviour-actors.ts') });
  const system = new ActorSystem({ pool });
  try {
    // `slow` answers v * 2 after ms, from a timer (ctx.replyLater): the actor takes the next
    // message meanwhile.
    const later = system.spawn(Later, undefined, { on: 0 });
    const long = later.ask({ type: 'slow', v: 7, ms: 300 }, { timeout: 10_000 });
    // Never answered (`hold` keeps the reply handle): rejects at its timeout, from the
    // overflow map. (An answer that comes after the deadline can still win when the main thread
    // gets no CPU for long: it may be taken before the due timer runs.)
    const lost = later.ask({ type: 'hold', v: 8 }, { timeout: 400 });
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => later.ask({ type: 'slow', v: i, ms: 0 })));
      t.deepEqual(
        replies,
        Array.from({ length: 1000 }, (_, i) => i * 2),
      );
    }
    t.is(await long, 14);
    const err = await t.throwsAsync(lost);
    t.true(err instanceof WeftError);
    t.is((err as WeftError).code, 'WEFT_ASK_TIMEOUT');
  } finally {
    await system.shutdown();
    await pool.close();
  }
});

test('the main thread waiting for a slow reply does not spin: its CPU stays low while an ask is pending', async (t) => {
  const pool = new Pool({ threads: 1, module: join(__dirname, '..', 'fixtures', 'behaviour-actors.ts') });
  const system = new ActorSystem({ pool });
  try {
    const later = system.spawn(Later, undefined, { on: 0 });
    // Quick asks first, so that the main thread's spin budget is at its largest.
    for (let i = 0; i < 2000; i++) t.is(typeof (await later.ask({ type: 'where' })), 'number');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    t.is(await later.ask({ type: 'slow', v: 1, ms: 1000 }), 2);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const share = (cpu.user + cpu.system) / 1e3 / wall;
    t.log(`process CPU while one ask was pending for ${wall.toFixed(0)} ms: ${(share * 100).toFixed(1)} % of a core`);
    // The whole process (the worker's event loop too): a spinning main thread would be ~100 %.
    t.true(share < 0.25, `CPU ${(share * 100).toFixed(1)} % of a core while waiting`);
  } finally {
    await system.shutdown();
    await pool.close();
  }
});

test('settled asks are let go while others are pending: the heap stays flat over 200,000 asks (child process)', (t) => {
  const r = runChild('ask-retention.ts', [], ['--expose-gc']);
  t.is(r.status, 0, r.stderr);
  const o = lastJson<{ heapAt20k: number; heapAt220k: number; asks: number; longPendingThroughout: boolean }>(r);
  t.log(`heap after a GC: ${o.heapAt20k.toFixed(1)} MB at 20,000 asks, ${o.heapAt220k.toFixed(1)} MB at 220,000`);
  t.true(o.longPendingThroughout, 'an ask stayed pending the whole time');
  t.true(o.asks >= 220_000);
  // Kept until their timer, 200,000 settled asks would hold some 40 MB.
  t.true(o.heapAt220k - o.heapAt20k < 8, `heap grew ${(o.heapAt220k - o.heapAt20k).toFixed(1)} MB`);
});
