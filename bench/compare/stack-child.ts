/**
 * bench:compare's stack case: SharedStack push+pop of one tree's build, in a process of its own.
 *
 *   node --import=tsx bench/compare/stack-child.ts --tree <dir> [--runs N]
 *
 * Loads `<dir>/dist/index.js` (that tree's build, with its own native addon) and times push+pop
 * pairs of numbers, short strings and small objects on one SharedStack each: one warm-up run of
 * every kind, then `--runs` timed runs, interleaved. Time is the process's CPU time
 * (`process.cpuUsage()`, user + system, all threads), not the wall clock, so that a shared
 * machine's other processes count less; the figure is the median over the runs of ops per CPU
 * second (one push or one pop of one value = one op, as in bench/stack). The result is one line
 * `@@result <json>` on stdout, in the shape of the pool and actor runners (`metrics`, `info`).
 *
 * This script is the after tree's (bench/compare is new), run for both trees: the timing code is
 * the same for both builds and only `dist/` differs.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { childMain, flags, median, parseBenchArgs, progress, roundSig } from '../harness/index.js';

const { values: o } = parseBenchArgs({
  usage: 'node --import=tsx bench/compare/stack-child.ts --tree <dir> [flags]',
  description:
    "SharedStack push+pop of numbers, short strings and small objects from <dir>/dist, timed in process CPU time; bench:compare's stack case.",
  flags: {
    tree: { type: 'string', arg: 'DIR', required: true, help: 'the checkout whose dist/index.js is measured' },
    runs: flags.runs({ default: 3, help: 'timed runs of every kind (the figure is their median)' }),
  },
});

interface StackLike<T> {
  push(v: T): unknown;
  pop(): T | undefined;
}
type StackCtor = new <T>() => StackLike<T>;

interface Kind {
  key: string;
  /** push+pop pairs per run. */
  pairs: number;
  run: () => number;
  expect: number;
}

const cpuSeconds = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

function kinds(SharedStack: StackCtor): Kind[] {
  const sumTo = (n: number): number => (n * (n - 1)) / 2;
  const N_NUM = 2_000_000;
  const nums = new SharedStack<number>();
  const N_STR = 500_000;
  const strs = new SharedStack<string>();
  const strings = Array.from({ length: 1024 }, (_, i) => `item-${i}`);
  let strLen = 0;
  for (let i = 0; i < N_STR; i++) strLen += strings[i & 1023]!.length;
  const N_OBJ = 100_000;
  type Small = { id: number; name: string; ok: boolean };
  const objs = new SharedStack<Small>();
  const objects: Small[] = Array.from({ length: 1024 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true }));
  let objIds = 0;
  for (let i = 0; i < N_OBJ; i++) objIds += i & 1023;
  return [
    {
      key: 'number_ops_per_cpu_s',
      pairs: N_NUM,
      expect: sumTo(N_NUM),
      run: () => {
        let s = 0;
        for (let i = 0; i < N_NUM; i++) {
          nums.push(i);
          s += nums.pop()!;
        }
        return s;
      },
    },
    {
      key: 'string_ops_per_cpu_s',
      pairs: N_STR,
      expect: strLen,
      run: () => {
        let s = 0;
        for (let i = 0; i < N_STR; i++) {
          strs.push(strings[i & 1023]!);
          s += strs.pop()!.length;
        }
        return s;
      },
    },
    {
      key: 'object_ops_per_cpu_s',
      pairs: N_OBJ,
      expect: objIds,
      run: () => {
        let s = 0;
        for (let i = 0; i < N_OBJ; i++) {
          objs.push(objects[i & 1023]!);
          s += objs.pop()!.id;
        }
        return s;
      },
    },
  ];
}

childMain({ case: 'stack' }, async () => {
  const tree = resolve(o.tree);
  const entry = join(tree, 'dist', 'index.js');
  const weft = createRequire(entry)(entry) as { SharedStack?: StackCtor };
  if (typeof weft.SharedStack !== 'function') throw new Error(`${entry} exports no SharedStack`);
  const ks = kinds(weft.SharedStack);
  const once = (k: Kind): number => {
    const c0 = cpuSeconds();
    const got = k.run();
    const s = cpuSeconds() - c0;
    if (got !== k.expect) throw new Error(`${k.key}: checksum ${got}, expected ${k.expect}`);
    return (2 * k.pairs) / s;
  };
  for (const k of ks) once(k); // warm-up: JIT, allocator
  const samples = ks.map(() => [] as number[]);
  for (let r = 0; r < o.runs; r++) ks.forEach((k, i) => samples[i]!.push(once(k)));
  progress(`stack (${tree}): ${ks.map((k, i) => `${k.key} ${(median(samples[i]!) / 1e6).toFixed(2)} M`).join(', ')}`);
  const metrics: Record<string, { median: number; samples: number[] }> = {};
  ks.forEach((k, i) => {
    metrics[k.key] = { median: roundSig(median(samples[i]!)), samples: samples[i]!.map((x) => roundSig(x)) };
  });
  return {
    case: 'stack',
    metrics,
    info: {
      entry,
      runs: o.runs,
      pairs_per_run: Object.fromEntries(ks.map((k) => [k.key, k.pairs])),
      unit: 'ops per CPU second of the process (one push or one pop = one op)',
    },
  };
});
