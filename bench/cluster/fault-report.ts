/**
 * The membership rows' results (node down, broker restart; fault.ts measures them): every run of
 * a variant merged (medians and every run's value; outcomes by code per run), their table and
 * their lines of the targets table (SCALEOUT.md §3.7).
 */
import { firstLine, markdownTable, type Sampled, sampled } from '../harness/index.js';
import {
  FAULT_VARIANTS,
  type FaultResult,
  type FaultRow,
  NODEDOWN,
  RESTART,
  ROW_VARIANTS,
  TARGETS,
  type Variant,
  VARIANTS,
} from './params.js';

export type FaultOutcome =
  | (FaultResult & { others_pct?: number; serve_setup?: string })
  | { row: FaultRow; variant: Variant; error: string };
const isOk = (r: FaultOutcome): r is Exclude<FaultOutcome, { error: string }> => !('error' in r);

export interface FaultMerged {
  row: FaultRow;
  variant: Variant;
  label: string;
  version: string;
  runs: number;
  metrics: Record<string, Sampled>;
  /** group → code → each run's count (0 where a run had none). */
  outcomes: Record<string, Record<string, number[]>>;
  setup: { call: unknown; serve: string | undefined };
  /** The node-down event's details of each run (weft: silentMs, bye; Moleculer: unexpected). */
  details: unknown[];
  child_seconds: number[];
  others_pct: number[];
}

export type FaultResults = Partial<Record<`${FaultRow}:${Variant}`, FaultMerged | { error: string }>>;

export function mergeFault(runs: FaultOutcome[]): FaultMerged | { error: string } | undefined {
  if (runs.length === 0) return undefined;
  const bad = runs.find((r) => !isOk(r));
  if (bad) return { error: (bad as { error: string }).error };
  const ok = runs.filter(isOk);
  const first = ok[0]!;
  const keys = [...new Set(ok.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: Record<string, Sampled> = {};
  for (const k of keys) {
    const xs = ok.flatMap((r) => (typeof r.metrics[k] === 'number' && Number.isFinite(r.metrics[k]) ? [r.metrics[k]] : []));
    metrics[k] = sampled(xs);
  }
  const outcomes: Record<string, Record<string, number[]>> = {};
  for (const group of [...new Set(ok.flatMap((r) => Object.keys(r.outcomes)))]) {
    const codes = [...new Set(ok.flatMap((r) => Object.keys(r.outcomes[group] ?? {})))].sort();
    outcomes[group] = Object.fromEntries(codes.map((c) => [c, ok.map((r) => r.outcomes[group]?.[c] ?? 0)]));
  }
  return {
    row: first.row,
    variant: first.variant,
    label: FAULT_VARIANTS[first.variant].label,
    version: first.version,
    runs: ok.length,
    metrics,
    outcomes,
    setup: { call: first.info.setup, serve: first.serve_setup },
    details: ok.map((r) => r.info.down_event ?? r.info.times ?? null),
    child_seconds: ok.map((r) => r.child_seconds),
    others_pct: ok.flatMap((r) => (r.others_pct === undefined ? [] : [r.others_pct])),
  };
}

const got = (results: FaultResults, row: FaultRow, v: Variant): FaultMerged | undefined => {
  const r = results[`${row}:${v}`];
  return r && 'metrics' in r ? r : undefined;
};

/** ms as `850 ms` or `3.02 s`. */
export const msText = (x: number | null | undefined): string =>
  typeof x !== 'number' || !Number.isFinite(x) ? '?' : Math.abs(x) >= 1000 ? `${(x / 1e3).toFixed(2)} s` : `${x.toFixed(0)} ms`;

/** The median of a time, with the range of the runs when there are several. */
function timeCell(r: FaultMerged, key: string): string {
  const m = r.metrics[key];
  if (m === undefined || m.samples.length === 0) return 'none';
  const lo = Math.min(...m.samples);
  const hi = Math.max(...m.samples);
  const missing = r.runs - m.samples.length;
  return `${msText(m.median)}${m.samples.length > 1 ? ` (${msText(lo)}-${msText(hi)})` : ''}${missing > 0 ? `; none in ${missing} run(s)` : ''}`;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const int = (x: number): string => Math.round(x).toLocaleString('en');

/** Outcomes of a group over all runs: `RequestTimeoutError 48, ok 16`, largest first. */
function codesCell(r: FaultMerged, group: string): string {
  const g = r.outcomes[group];
  if (g === undefined) return '?';
  const entries = Object.entries(g)
    .map(([c, xs]) => [c, sum(xs)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([c, n]) => `${c} ${int(n)}`).join(', ');
}

/** `64, 64, 64: WEFT_NODE_DOWN 192` (per run, then by code over all runs). */
function groupCell(r: FaultMerged, group: string, countKey: string | undefined): string {
  const per = countKey === undefined ? undefined : r.metrics[countKey]?.samples;
  const runs =
    per ??
    (r.outcomes[group]
      ? Object.values(r.outcomes[group]).reduce((acc, xs) => acc.map((a, i) => a + (xs[i] ?? 0)), new Array<number>(r.runs).fill(0))
      : []);
  return `${runs.map(int).join(', ')}: ${codesCell(r, group)}`;
}

/** issued = answered + failed over all runs, and how many never settled. */
function balanceCell(r: FaultMerged): string {
  const t = (k: string): number => sum(r.metrics[k]?.samples ?? []);
  const issued = t('issued');
  const ok = t('ok');
  const errors = t('errors');
  const unsettled = t('unsettled');
  const bad = t('bad_replies');
  const holds = issued === ok + errors && unsettled === 0 && bad === 0;
  return `${int(issued)} = ${int(ok)} ok + ${int(errors)} errors, ${int(unsettled)} unsettled${bad ? `, ${bad} wrong replies` : ''} ${holds ? '✓' : '✗'}`;
}

/** The columns: every variant that was run, in FAULT_VARIANTS' order. */
function columns(results: FaultResults): Variant[] {
  return VARIANTS.filter((v) => (['nodedown', 'restart'] as const).some((row) => results[`${row}:${v}`] !== undefined));
}

export function faultTable(results: FaultResults): string | undefined {
  const vs = columns(results);
  if (vs.length === 0) return undefined;
  type Line = { label: string; row: FaultRow; cell: (r: FaultMerged) => string };
  const lines: Line[] = [
    { label: '5. node down: kill → node-down event', row: 'nodedown', cell: (r) => timeCell(r, 'detect_ms') },
    { label: '5. node down: kill → last in-flight ask settled', row: 'nodedown', cell: (r) => timeCell(r, 'settle_ms') },
    {
      label: `5. node down: asks in flight at the kill (per run: outcomes, all runs)`,
      row: 'nodedown',
      cell: (r) => groupCell(r, 'inflight_at_kill', 'inflight_at_kill'),
    },
    { label: '5. node down: issued = answered + failed (all runs)', row: 'nodedown', cell: balanceCell },
    { label: '6. broker restart: server ready → first answered ask', row: 'restart', cell: (r) => timeCell(r, 'recover_ms') },
    { label: '6. broker restart: kill → first answered ask', row: 'restart', cell: (r) => timeCell(r, 'kill_to_ok_ms') },
    {
      label: '6. broker restart: asks in flight at the kill (per run: outcomes, all runs)',
      row: 'restart',
      cell: (r) => groupCell(r, 'inflight_at_kill', 'inflight_at_kill'),
    },
    { label: '6. broker restart: kill → last of those settled', row: 'restart', cell: (r) => timeCell(r, 'inflight_settle_ms') },
    {
      label: '6. broker restart: asks sent while the server was away (per run: outcomes, all runs)',
      row: 'restart',
      cell: (r) => groupCell(r, 'while_down', undefined),
    },
    { label: '6. broker restart: issued = answered + failed (all runs)', row: 'restart', cell: balanceCell },
  ];
  const head = ['row', ...vs.map((v) => FAULT_VARIANTS[v].label)];
  const rows = lines
    .filter((l) => vs.some((v) => results[`${l.row}:${v}`] !== undefined))
    .map((l) => [
      l.label,
      ...vs.map((v) => {
        if (!ROW_VARIANTS[l.row].includes(v)) return '—';
        const r = results[`${l.row}:${v}`];
        if (r === undefined) return 'not run';
        if ('error' in r) return 'failed';
        return l.cell(r);
      }),
    ]);
  const runs = vs.flatMap((v) =>
    (['nodedown', 'restart'] as const).flatMap((row) => {
      const r = got(results, row, v);
      return r ? [`${row} ${v} ${r.runs}`] : [];
    }),
  );
  return `${markdownTable([head, ...rows])}\n\nRuns: ${runs.join(', ')}.`;
}

export interface TargetLine {
  target: string;
  this_run: string;
  met: boolean | null;
}

export function faultTargets(results: FaultResults, missing: (key: string) => string): TargetLine[] {
  const out: TargetLine[] = [];
  {
    const target = `node-down detection ≤ failureWindowMs + ${TARGETS.nodeDownOverWindowMs / 1e3} s`;
    const parts: string[] = [];
    let met: boolean | null = null;
    for (const v of ['weft', 'weft-1s'] as const) {
      const r = got(results, 'nodedown', v);
      if (r === undefined) continue;
      const window = FAULT_VARIANTS[v].failureWindowMs ?? 3000;
      const d = r.metrics.detect_ms;
      const bar = window + TARGETS.nodeDownOverWindowMs;
      const all = d !== undefined && d.samples.length === r.runs;
      const worst = d === undefined ? Number.NaN : Math.max(...d.samples);
      const ok = all && worst <= bar;
      met = (met ?? true) && ok;
      const codes = codesCell(r, 'inflight_at_kill');
      parts.push(
        `weft, ${window} ms window: ${d === undefined ? 'no event' : `${msText(d.median)} (worst of ${r.runs}: ${msText(worst)})`}, ${ok ? `**met** (≤ ${msText(bar)})` : `**not met** (> ${msText(bar)})`}; the asks in flight: ${codes} after ${timeCell(r, 'settle_ms')}`,
      );
    }
    if (parts.length === 0) out.push({ target, this_run: missing('nodedown:weft'), met: null });
    else {
      const mol = (['moleculer-1-3', 'moleculer'] as const)
        .map((v) => {
          const r = got(results, 'nodedown', v);
          return r ? `${FAULT_VARIANTS[v].label}: ${timeCell(r, 'detect_ms')}, the asks in flight ${codesCell(r, 'inflight_at_kill')}` : '';
        })
        .filter(Boolean);
      out.push({ target, this_run: `${[...parts, ...mol].join('; ')}`, met });
    }
  }
  {
    const target = `broker restart: traffic back ≤ ${TARGETS.restartRecoverMs / 1e3} s, no ask lost without an error`;
    const r = got(results, 'restart', 'weft');
    if (r === undefined) out.push({ target, this_run: missing('restart:weft'), met: null });
    else {
      const d = r.metrics.recover_ms;
      const worst = d === undefined ? Number.NaN : Math.max(...d.samples);
      const back = d !== undefined && d.samples.length === r.runs && worst <= TARGETS.restartRecoverMs;
      const t = (k: string): number => sum(r.metrics[k]?.samples ?? []);
      const balanced = t('issued') === t('ok') + t('errors') && t('unsettled') === 0;
      const m = got(results, 'restart', 'moleculer');
      const molText = m
        ? `; Moleculer (default heartbeats): ${timeCell(m, 'recover_ms')}, in flight at the kill ${codesCell(m, 'inflight_at_kill')}, ${balanceCell(m)}`
        : '';
      out.push({
        target,
        this_run: `weft: first answer ${d === undefined ? 'never' : `${msText(d.median)} after the server was ready (worst of ${r.runs}: ${msText(worst)})`}; in flight at the kill: ${codesCell(r, 'inflight_at_kill')}; ${balanceCell(r)}; **${back && balanced ? 'met' : 'not met'}**${molText}`,
        met: back && balanced,
      });
    }
  }
  return out;
}

/** A one-line reason for a failed variant, for the end of the report. */
export function faultFailures(results: FaultResults): string[] {
  return Object.entries(results).flatMap(([k, r]) => (r && 'error' in r ? [`${k} failed: ${firstLine(r.error, 400)}`] : []));
}

export const FAULT_NOTES = {
  nodedown: `per run a fresh serving child (hosts echo-<tag> only: weft spawn(..., { name, restart: 'none' }); Moleculer one broker with service echo) and calling child; ${NODEDOWN.lanes} lanes of echo asks for the variant's steadyS (over one heartbeat interval: weft 1 s, Moleculer 1 s / 3 s 2 s, Moleculer defaults 11 s), then the lanes stop, ${NODEDOWN.lanes} asks of hold go out (answered after ${NODEDOWN.holdMs / 1e3} s: never here; timeout ${NODEDOWN.askTimeoutMs / 1e3} s; weft's actor takes one at a time, so 63 wait in its mailbox; Moleculer runs all 64 at once) and ${NODEDOWN.holdLeadMs} ms later the calling child kills the serving child (SIGKILL); detect_ms: kill → weft nodeDown / Moleculer $node.disconnected for that node; settle_ms: kill → the last ask in flight at the kill settled; outcomes by code (ok = answered)`,
  restart: `per run a fresh serving and calling child; ${RESTART.lanes} lanes of asks (timeout ${RESTART.askTimeoutMs / 1e3} s; ${RESTART.errorPauseMs} ms pause after a failed one) and one more ask every ${RESTART.probeMs} ms whatever the lanes wait for (new traffic) for ${RESTART.warmupS} s; then the parent kills the nats-server (SIGKILL), starts it again ${RESTART.downS} s after the kill on the same port with the same -sd store, and tells the child the kill signal's, the exit seen's, the start's and "Server is ready"'s times; recover_ms: ready → the first ask answered after the new server started; kill_to_ok_ms: kill → that answer; the lanes stop ${RESTART.afterS} s after it and every ask is waited for; outcomes of the asks in flight at the kill (sent before the old server's last answer and not settled then: answers still come for a millisecond or two after the signal, while the kernel ends the process), of those sent from then to the first answer, of all`,
};
