/**
 * Where a V8 CPU profile's time went: the functions with the most self time, and the time by
 * where the code lives (weft's src/, a package in node_modules, Node's internals, GC, idle).
 *
 *   node --import=tsx bench/cluster/profile-top.ts FILE.cpuprofile [--top N]
 *
 * For the profiles that `npm run bench:cluster -- --profile DIR` writes (or any `--cpu-prof` file).
 */
import { readFileSync } from 'node:fs';
import { flags, markdownTable, parseBenchArgs } from '../harness/index.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values: o, positionals } = parseBenchArgs({
  usage: 'node --import=tsx bench/cluster/profile-top.ts FILE.cpuprofile [--top N]',
  description: 'Self time by function and by where the code lives, from a V8 CPU profile.',
  flags: { top: { ...flags.runs({ default: 10 }), help: 'how many functions' } },
  positionals: [{ name: 'file' }],
});

const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** Where a frame's code lives. */
function place(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return '(program): native, not JS';
  if (url === '') return 'native / builtins';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/src\/([^/]+)/.exec(url);
  if (src && !url.includes('/bench/')) return `weft src/${src[1]}`;
  if (url.includes('/bench/')) return 'bench code';
  return url;
}

const short = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|src|bench)\//, '$1/');

const self = new Map<string, { us: number; where: string }>();
const places = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i]!);
  if (n === undefined) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  total += dt;
  const f = n.callFrame;
  // tsx's compiled .ts files report no useful line (the function name and file say enough).
  const line = f.url.endsWith('.ts') ? '' : `:${f.lineNumber + 1}`;
  const key = `${f.functionName || '(anonymous)'}  ${f.url ? `${short(f.url)}${line}` : ''}`.trim();
  const where = place(f.url, f.functionName);
  const e = self.get(key) ?? { us: 0, where };
  e.us += dt;
  self.set(key, e);
  places.set(where, (places.get(where) ?? 0) + dt);
}

const idle = places.get('idle') ?? 0;
const pct = (x: number): string => `${((x / total) * 100).toFixed(1)} %`;
const pctBusy = (x: number, where: string): string => (where === 'idle' ? '' : `${((x / (total - idle)) * 100).toFixed(1)} %`);
console.log(
  `${positionals[0]}: ${(total / 1e3).toFixed(0)} ms sampled, ${profile.samples.length} samples, idle ${pct(idle)}\n\nTop ${o.top} by self time:\n`,
);
const top = [...self.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, o.top);
console.log(
  markdownTable(
    [
      ['function', 'where', 'self ms', '% of all', '% of busy'],
      ...top.map(([k, v]) => [k, v.where, (v.us / 1e3).toFixed(1), pct(v.us), pctBusy(v.us, v.where)]),
    ],
    ['l', 'l', 'r', 'r', 'r'],
  ),
);
console.log('\nSelf time by where the code lives:\n');
console.log(
  markdownTable(
    [
      ['where', 'self ms', '% of all', '% of busy'],
      ...[...places.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, (v / 1e3).toFixed(1), pct(v), pctBusy(v, k)]),
    ],
    ['l', 'r', 'r', 'r'],
  ),
);
