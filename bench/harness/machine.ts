/** The machine and the code a bench ran on: for the `machine` and `versions` blocks of its JSON. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

// The package is CommonJS, so tsx runs this file as CommonJS: __dirname is bench/harness.
/** The repository's root. */
export const ROOT = join(__dirname, '..', '..');

export interface MachineInfo {
  cpu: string;
  cores: number;
  available_parallelism: number;
  os: string;
  total_memory_gib: number;
  node: string;
  /** The 1, 5 and 15 minute load averages when the bench started and when it ended. */
  load_average_start: number[];
  load_average_end: number[];
}

const loadavg = (): number[] => os.loadavg().map((x) => Number(x.toFixed(2)));
const loadAtStart = loadavg();

/** The `machine` block of a result; the start load average is the one when the harness was loaded (the bench's start) unless given. */
export function machineInfo(loadAverageStart: readonly number[] = loadAtStart): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    available_parallelism: os.availableParallelism(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    total_memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    load_average_start: [...loadAverageStart],
    load_average_end: loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// CPU used by other processes

/** Machine-wide CPU time (all cores) and this process's own, children it has waited for included; seconds. */
export interface CpuSnapshot {
  busy: number;
  steal: number;
  total: number;
  own: number;
}

/** USER_HZ: 100 on every Linux that Node runs on. */
const HZ = 100;

/** A snapshot from /proc/stat and /proc/self/stat; undefined where there are none (not Linux). */
export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    // user nice system idle iowait irq softirq steal (guest time is counted in user)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // utime stime cutime cstime: fields 14-17, i.e. 11-14 after the ")" that ends the command name.
    const s = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const own = s[11]! + s[12]! + s[13]! + s[14]!;
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    return { busy: (user + nice + system + irq + softirq) / HZ, steal: steal / HZ, total: total / HZ, own: own / HZ };
  } catch {
    return undefined;
  }
}

/**
 * Between two snapshots: the CPU that every other process used (busy time minus this process's
 * and its waited-for children's) and the time stolen by the hypervisor, both as % of the whole
 * machine (all cores), one decimal; undefined without snapshots.
 */
export function othersCpu(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined): { othersPct: number; stealPct: number } | undefined {
  if (!a || !b || !(b.total > a.total)) return undefined;
  const pct = (x: number): number => Number(Math.max(0, (x / (b.total - a.total)) * 100).toFixed(1));
  return { othersPct: pct(b.busy - a.busy - (b.own - a.own)), stealPct: pct(b.steal - a.steal) };
}

/** CPU time (user + system, seconds) that process `pid` has used so far, from /proc/<pid>/stat; undefined where it cannot be read. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // utime stime: fields 14-15, i.e. 11-12 after the ")" that ends the command name.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Versions

/** `git ...args` in the repository: its trimmed stdout, or null when git fails. */
export function git(...args: string[]): string | null {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The commit weft was measured at, and whether its sources (src/, crate/) differed from it. */
export function weftSource(opts: { short?: boolean } = {}): { commit: string; sources_modified: boolean } | null {
  const commit = git('rev-parse', ...(opts.short ? ['--short'] : []), 'HEAD');
  const status = git('status', '--porcelain', '--', 'src', 'crate');
  return commit === null || status === null ? null : { commit, sources_modified: status !== '' };
}

/** The installed version of a package in node_modules, or of this repository's package for `'weftjs'`; 'not installed' where there is none. */
export function packageVersion(name: string): string {
  const pkg = name === 'weftjs' ? join(ROOT, 'package.json') : join(ROOT, 'node_modules', name, 'package.json');
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** The native addon's file name in the repository root (weft.<platform>.node), if built. */
export function addonFile(): string | undefined {
  return readdirSync(ROOT).find((f) => /^weft\..*\.node$/.test(f));
}
