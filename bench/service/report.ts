/**
 * HTML report of the benchmark results: `npm run report` (= `node --import=tsx bench/service/report.ts`).
 *
 * Reads bench/results/service.json (the demo service load test: requests/s, latency percentiles,
 * event-loop delay and errors per mode) and whichever of pool.json, par.json, actor.json and
 * stack.json exist, and writes ONE self-contained HTML file (bench/results/service.html by default):
 * Chart.js's UMD build is inlined, the figures are embedded as JSON, and the page needs no network.
 * Once every chart is drawn the page sets `window.__weftReport = { charts, ready: true }`.
 *
 * Flags (script): --results DIR (default bench/results), --out FILE (default DIR/service.html).
 *
 * Every input is read defensively: a missing file gets a note instead of its charts, and a file whose
 * shape is not the expected one gets a note naming what was missing; the report is still written.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseBenchArgs } from '../harness/args.js';

const ROOT = resolve(__dirname, '..', '..');
const DEFAULT_RESULTS = join(ROOT, 'bench', 'results');

export interface ReportOptions {
  /** Folder holding service.json, pool.json, par.json, actor.json, stack.json. Default bench/results. */
  results?: string;
  /** The HTML file to write. Default bench/results/service.html. */
  out?: string;
}

/** One dataset of a chart, already in Chart.js's terms. */
export interface DatasetSpec {
  label: string;
  data: (number | null)[];
  /** One colour, or one per bar. */
  color: string | string[];
}

/** One chart: drawn by the page's script with Chart.js. */
export interface ChartSpec {
  id: string;
  type: 'bar' | 'line';
  title: string;
  caption: string;
  /** Category labels; an array is drawn as several lines. */
  labels: (string | string[])[];
  datasets: DatasetSpec[];
  yTitle: string;
  xTitle?: string;
  log?: boolean;
  /** Log scale: the axis starts at this power of ten (below the smallest value, so every bar shows). */
  min?: number;
  /** Unit appended to values in tooltips ('ms', '/s'). */
  unit?: string;
  /** Counts: integer ticks only. */
  integer?: boolean;
}

interface Section {
  id: string;
  heading: string;
  /** Trusted HTML (built here, every value escaped). */
  html: string;
  charts: ChartSpec[];
}

export interface ReportData {
  generated: string;
  results: string;
  sections: Section[];
  charts: ChartSpec[];
}

// ---------------------------------------------------------------------------------------------
// Defensive accessors for JSON of unknown shape

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `x[k1][k2]...`, or undefined as soon as a step is not an object. */
function get(x: unknown, ...path: string[]): unknown {
  let cur = x;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

/** A benchmark's `metrics.<name>.median` (pool, actor) or a plain number. */
function median(x: unknown): number | null {
  return num(x) ?? num(get(x, 'median'));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** 1234567 → "1.23 M"; small numbers keep up to 2 decimals. */
export function si(v: number | null): string {
  if (v === null) return '–';
  const a = Math.abs(v);
  const units: [number, string][] = [
    [1e9, ' G'],
    [1e6, ' M'],
    [1e3, ' k'],
  ];
  for (const [scale, suffix] of units) {
    if (a >= scale) return `${(v / scale).toFixed(2)}${suffix}`;
  }
  return Number.isInteger(v) ? String(v) : v.toFixed(a >= 100 ? 1 : 2);
}

function fixed(v: number | null, digits = 1): string {
  return v === null ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function int(v: number | null): string {
  return v === null ? '–' : Math.round(v).toLocaleString('en-US');
}

/** "2026-11-24T00:33:18.275Z" → "2026-11-24 00:33 UTC"; anything else as given. */
function formatDate(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function machineText(m: unknown): string {
  if (!isObj(m)) return 'machine not recorded';
  const cpu = str(m['model']) ?? str(m['cpu']);
  const cores = num(m['cpus']) ?? num(m['cores']);
  const parts = [
    cpu,
    cores !== null ? `${cores} cores` : undefined,
    str(m['os']),
    str(m['node']) ? `Node ${str(m['node'])}` : undefined,
  ].filter((s): s is string => !!s);
  return parts.length ? parts.join(', ') : 'machine not recorded';
}

// ---------------------------------------------------------------------------------------------
// Colours: weft always in orange, the others from a fixed palette in a stable order

const WEFT = '#f28e2b';
const PALETTE = ['#4e79a7', '#59a14f', '#b07aa1', '#76b7b2', '#9c755f', '#edc948', '#e15759', '#bab0ac'];
/** The same library keeps its colour from chart to chart. */
const NAMED: Record<string, string> = {
  inline: '#9c9c9c',
  piscina: '#4e79a7',
  tinypool: '#b07aa1',
  poolifier: '#76b7b2',
  workerpool: '#9c755f',
  port: '#59a14f',
  comedy: '#b07aa1',
  nact: '#76b7b2',
  xstate: '#9c755f',
  loop: '#59a14f',
  chain: '#9c9c9c',
  'polars-e2e': '#4e79a7',
  'polars-compute': '#76b7b2',
  mutex: '#9c755f',
  'crossbeam-ref': '#4e79a7',
};

/** `index`: the series' place among the series that are not weft. */
function colorFor(name: string, index: number): string {
  if (/^weft\b/i.test(name)) return WEFT;
  return NAMED[name] ?? PALETTE[index % PALETTE.length]!;
}

function modeColor(mode: string, index: number): string {
  return colorFor(mode, index + 4);
}

/** Splits a long category label into lines of about `width` characters (at spaces). */
function wrap(label: string, width = 30): string | string[] {
  if (label.length <= width) return label;
  const lines: string[] = [];
  let cur = '';
  for (const word of label.split(' ')) {
    if (cur && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else {
      cur = cur ? `${cur} ${word}` : word;
    }
  }
  if (cur) lines.push(cur);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Reading the inputs

interface Loaded {
  file: string;
  name: string;
  json?: unknown;
  error?: string;
  mtime?: Date;
}

function load(dir: string, name: string): Loaded {
  const file = join(dir, name);
  if (!existsSync(file)) return { file, name, error: 'missing' };
  try {
    const text = readFileSync(file, 'utf8');
    return { file, name, json: JSON.parse(text) as unknown, mtime: statSync(file).mtime };
  } catch (err) {
    return { file, name, error: `could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function fileDate(l: Loaded): string {
  return formatDate(str(get(l.json, 'date'))) ?? (l.mtime ? `file modified ${formatDate(l.mtime.toISOString())}` : 'date unknown');
}

// ---------------------------------------------------------------------------------------------
// service.json

interface ServiceMode {
  mode: string;
  requests: number | null;
  rps: number | null;
  errors: number | null;
  non2xx: number | null;
  timeouts: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
  percentiles: [string, number | null][];
  eldP50: number | null;
  eldP99: number | null;
  eldMax: number | null;
  routes: [string, number | null][];
}

function parseServiceMode(x: unknown, i: number): ServiceMode {
  const lat = get(x, 'latency');
  const pct = get(lat, 'percentiles');
  const percentiles: [string, number | null][] = isObj(pct)
    ? Object.keys(pct)
        .filter((k) => Number.isFinite(Number(k)))
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => [k, num(pct[k])])
    : [];
  const routes = get(x, 'routes');
  return {
    mode: str(get(x, 'mode')) ?? `mode ${i + 1}`,
    requests: num(get(x, 'requests')),
    rps: num(get(x, 'rps')),
    errors: num(get(x, 'errors')),
    non2xx: num(get(x, 'non2xx')),
    timeouts: num(get(x, 'timeouts')),
    p50: num(get(lat, 'p50')) ?? num(get(pct, '50')),
    p90: num(get(lat, 'p90')) ?? num(get(pct, '90')),
    p99: num(get(lat, 'p99')) ?? num(get(pct, '99')),
    mean: num(get(lat, 'mean')),
    max: num(get(lat, 'max')),
    percentiles,
    eldP50: num(get(x, 'eventLoopDelay', 'p50')),
    eldP99: num(get(x, 'eventLoopDelay', 'p99')),
    eldMax: num(get(x, 'eventLoopDelay', 'max')),
    routes: isObj(routes) ? Object.entries(routes).map(([k, v]) => [k, num(v)]) : [],
  };
}

function serviceSection(l: Loaded, nextId: () => string): Section {
  const base = { id: 'service', heading: 'Demo service load test' };
  if (l.error === 'missing') {
    return {
      ...base,
      charts: [],
      html:
        '<p class="note" id="service-missing"><strong>The service load test has not been run yet</strong>: ' +
        `<code>${escapeHtml(l.name)}</code> is not in the results folder. Run the service load driver, then ` +
        '<code>npm run report</code> again.</p>',
    };
  }
  const modesRaw = arr(get(l.json, 'modes'));
  if (l.error || modesRaw.length === 0) {
    const why = l.error ?? 'has no "modes" array';
    return {
      ...base,
      charts: [],
      html: `<p class="note" id="service-invalid"><code>${escapeHtml(l.name)}</code> ${escapeHtml(why)}: no service charts.</p>`,
    };
  }
  const modes = modesRaw.map(parseServiceMode);
  const labels = modes.map((m) => m.mode);
  const colors = modes.map((m, i) => modeColor(m.mode, i));
  const date = fileDate(l);
  const duration = num(get(l.json, 'durationSeconds'));
  const connections = num(get(l.json, 'connections'));
  const run =
    `${duration !== null ? `${duration} s per mode` : 'duration not recorded'}, ` +
    `${connections !== null ? `${connections} connections` : 'connections not recorded'}`;
  const caption = `${l.name}, ${date}. ${run}.`;
  const charts: ChartSpec[] = [];

  charts.push({
    id: nextId(),
    type: 'bar',
    title: 'Throughput per mode',
    caption: `Requests per second over the whole run (higher is better). ${caption}`,
    labels,
    datasets: [{ label: 'requests/s', data: modes.map((m) => m.rps), color: colors }],
    yTitle: 'requests/s',
    unit: ' req/s',
  });

  // Latency: the percentile keys common to the file (the union, in numeric order).
  const keys = [...new Set(modes.flatMap((m) => m.percentiles.map(([k]) => k)))].sort((a, b) => Number(a) - Number(b));
  if (keys.length > 0) {
    charts.push({
      id: nextId(),
      type: 'line',
      title: 'Latency percentiles per mode',
      caption: `Request latency (ms) at each percentile (lower is better). ${caption}`,
      labels: keys.map((k) => `p${k}`),
      datasets: modes.map((m, i) => {
        const byKey = new Map(m.percentiles);
        return { label: m.mode, data: keys.map((k) => byKey.get(k) ?? null), color: colors[i]! };
      }),
      yTitle: 'latency (ms)',
      xTitle: 'percentile',
      unit: ' ms',
    });
  } else {
    charts.push({
      id: nextId(),
      type: 'bar',
      title: 'Latency per mode',
      caption: `Request latency (ms): p50, p90, p99 and max (lower is better). ${caption}`,
      labels: ['p50', 'p90', 'p99', 'max'],
      datasets: modes.map((m, i) => ({ label: m.mode, data: [m.p50, m.p90, m.p99, m.max], color: colors[i]! })),
      yTitle: 'latency (ms)',
      unit: ' ms',
    });
  }

  charts.push({
    id: nextId(),
    type: 'bar',
    title: 'Event-loop delay of the service per mode',
    caption: `Delay of the service's main event loop (ms), p50 and p99 (lower is better; a free loop is near the sampling resolution). ${caption}`,
    labels,
    datasets: [
      { label: 'p50', data: modes.map((m) => m.eldP50), color: '#76b7b2' },
      { label: 'p99', data: modes.map((m) => m.eldP99), color: '#4e79a7' },
    ],
    yTitle: 'event-loop delay (ms)',
    unit: ' ms',
  });

  charts.push({
    id: nextId(),
    type: 'bar',
    title: 'Errors per mode',
    caption: `Failed requests over the run: errors (connection errors and timeouts), timeouts, and non-2xx responses (lower is better). ${caption}`,
    labels,
    datasets: [
      { label: 'errors', data: modes.map((m) => m.errors), color: '#e15759' },
      { label: 'timeouts', data: modes.map((m) => m.timeouts), color: '#edc948' },
      { label: 'non-2xx', data: modes.map((m) => m.non2xx), color: '#b07aa1' },
    ],
    yTitle: 'requests',
    integer: true,
  });

  const rows = modes
    .map(
      (m) =>
        `<tr data-mode="${escapeHtml(m.mode)}"><th scope="row"><span class="swatch" style="background:${colors[modes.indexOf(m)]}"></span>${escapeHtml(m.mode)}</th>` +
        `<td>${int(m.requests)}</td><td>${fixed(m.rps)}</td><td>${fixed(m.p50)}</td><td>${fixed(m.p99)}</td>` +
        `<td>${fixed(m.eldP99)}</td><td>${int(m.errors)}</td><td>${int(m.timeouts)}</td><td>${int(m.non2xx)}</td></tr>`,
    )
    .join('\n');
  const routeNames = [...new Set(modes.flatMap((m) => m.routes.map(([r]) => r)))];
  const routeTable = routeNames.length
    ? '<table class="routes"><caption>Requests per route</caption><thead><tr><th scope="col">mode</th>' +
      routeNames.map((r) => `<th scope="col"><code>${escapeHtml(r)}</code></th>`).join('') +
      '</tr></thead><tbody>' +
      modes
        .map((m) => {
          const byRoute = new Map(m.routes);
          return `<tr><th scope="row">${escapeHtml(m.mode)}</th>${routeNames.map((r) => `<td>${int(byRoute.get(r) ?? null)}</td>`).join('')}</tr>`;
        })
        .join('') +
      '</tbody></table>'
    : '';
  const html =
    `<p class="meta">Machine: ${escapeHtml(machineText(get(l.json, 'machine')))}. Date: ${escapeHtml(date)}. ` +
    `${escapeHtml(run)}. Source: <code>${escapeHtml(l.name)}</code>.</p>` +
    '<table id="service-summary" class="summary"><caption>Summary per mode (latency and event-loop delay in ms)</caption>' +
    '<thead><tr><th scope="col">mode</th><th scope="col">requests</th><th scope="col">requests/s</th>' +
    '<th scope="col">latency p50</th><th scope="col">latency p99</th><th scope="col">event-loop delay p99</th>' +
    '<th scope="col">errors</th><th scope="col">timeouts</th><th scope="col">non-2xx</th></tr></thead>' +
    `<tbody>\n${rows}\n</tbody></table>` +
    routeTable;
  return { ...base, charts, html };
}

// ---------------------------------------------------------------------------------------------
// The other benchmarks: one chart each, with their headline figures

type Headline = Omit<ChartSpec, 'id' | 'caption'> & { note: string };

/** Builds datasets from rows keyed by series name (one dataset per series, one value per label). */
function seriesDatasets(labels: string[], values: Map<string, Map<string, number | null>>, names: Map<string, string>): DatasetSpec[] {
  let others = 0;
  return [...values.entries()].map(([series, byLabel]) => ({
    label: names.get(series) ?? series,
    data: labels.map((l) => byLabel.get(l) ?? null),
    color: colorFor(series, /^weft\b/i.test(series) ? 0 : others++),
  }));
}

function put(values: Map<string, Map<string, number | null>>, series: string, label: string, v: number | null): void {
  if (v === null) return;
  let m = values.get(series);
  if (!m) values.set(series, (m = new Map()));
  m.set(label, v);
}

function poolHeadline(j: unknown): Headline {
  const results = get(j, 'cases', 'a', 'results');
  if (!isObj(results)) throw new Error('no cases.a.results');
  const labels = ['all 200,000 at once', '≤ 1,024 in flight'];
  const tasks = num(get(j, 'params', 'a', 'tasks'));
  const window = num(get(j, 'params', 'a', 'window'));
  if (tasks !== null) labels[0] = `all ${tasks.toLocaleString('en-US')} at once`;
  if (window !== null) labels[1] = `≤ ${window.toLocaleString('en-US')} in flight`;
  const values = new Map<string, Map<string, number | null>>();
  for (const [lib, r] of Object.entries(results)) {
    put(values, lib, labels[0]!, median(get(r, 'metrics', 'all_tasks_per_s')));
    put(values, lib, labels[1]!, median(get(r, 'metrics', 'window_tasks_per_s')));
  }
  if (values.size === 0) throw new Error('no tasks/s figures in case a');
  return {
    type: 'bar',
    title: 'Pool: tiny tasks (x => x + 1), tasks/s',
    labels,
    datasets: seriesDatasets(labels, values, new Map()),
    yTitle: 'tasks/s (log scale)',
    log: true,
    unit: '/s',
    note: `case a, every pool with ${num(get(j, 'threads')) ?? 2} worker threads; median of the runs; higher is better`,
  };
}

function actorHeadline(j: unknown): Headline {
  const cases = get(j, 'cases');
  if (!isObj(cases)) throw new Error('no cases');
  const picks: [string, string, string][] = [
    ['a', 'msgs_per_s', 'a. tells main → worker (msgs/s)'],
    ['b', 'inflight_asks_per_s', 'b. asks, 64 in flight (asks/s)'],
    ['c', 'round_trips_per_s', 'c. worker ↔ worker ping-pong (round trips/s)'],
    ['d', 'msgs_per_s', 'd. same-thread tells (msgs/s)'],
  ];
  const labels: string[] = [];
  const values = new Map<string, Map<string, number | null>>();
  for (const [c, metric, label] of picks) {
    const results = get(cases, c, 'results');
    if (!isObj(results)) continue;
    let any = false;
    for (const [lib, r] of Object.entries(results)) {
      const v = median(get(r, 'metrics', metric));
      if (v === null) continue;
      put(values, lib, label, v);
      any = true;
    }
    if (any) labels.push(label);
  }
  if (labels.length === 0) throw new Error('no throughput figures in cases a-d');
  // weft first, then the others in the order they appear.
  const ordered = new Map([...values.entries()].sort(([a], [b]) => Number(b === 'weft') - Number(a === 'weft')));
  return {
    type: 'bar',
    title: 'Actors: messages per second',
    labels,
    datasets: seriesDatasets(labels, ordered, new Map([['port', 'MessagePort floor (no library)']])),
    yTitle: 'per second (log scale)',
    log: true,
    unit: '/s',
    note: 'cases a-d (each case compares the libraries that can run it); median of the runs; higher is better',
  };
}

const PAR_NAMES = new Map([
  ['weft', 'weft par()'],
  ['loop', 'JS for-loop'],
  ['chain', 'Array / TypedArray methods'],
  ['polars-e2e', 'polars, end to end'],
  ['polars-compute', 'polars, compute only'],
]);

function parHeadline(j: unknown): Headline {
  const cases = get(j, 'cases');
  if (!isObj(cases)) throw new Error('no cases');
  const labels: string[] = [];
  const values = new Map<string, Map<string, number | null>>();
  for (const [c, body] of Object.entries(cases)) {
    const sizes = arr(get(body, 'sizes'));
    if (sizes.length === 0) continue;
    // The 1e7 size where there is one (every case has it in a full run), else the largest.
    const size =
      sizes.find((s) => num(get(s, 'n')) === 1e7) ?? [...sizes].sort((a, b) => (num(get(b, 'n')) ?? 0) - (num(get(a, 'n')) ?? 0))[0];
    const n = num(get(size, 'n'));
    const title = str(get(body, 'title')) ?? c;
    const short = title.length > 72 ? `${title.slice(0, 70)}…` : title;
    const label = n !== null ? `${short} (n = ${n >= 1e4 ? n.toExponential().replace('e+', 'e') : n})` : short;
    let any = false;
    for (const impl of arr(get(size, 'impls'))) {
      const id = str(get(impl, 'id'));
      const v = num(get(impl, 'elements_per_s'));
      if (!id || v === null || id.startsWith('rust-floor')) continue;
      put(values, id, label, v);
      any = true;
    }
    if (any) labels.push(label);
  }
  if (labels.length === 0) throw new Error('no elements/s figures in the cases');
  return {
    type: 'bar',
    title: 'Parallel pipelines: elements per second',
    labels,
    datasets: seriesDatasets(labels, values, PAR_NAMES),
    yTitle: 'elements/s (log scale)',
    log: true,
    unit: '/s',
    note: 'one pipeline call per case, at n = 1e7 (or the largest size run); median of the runs; higher is better',
  };
}

function stackHeadline(j: unknown): Headline {
  const labels: string[] = [];
  const values = new Map<string, Map<string, number | null>>();
  const names = new Map([
    ['weft', 'weft (TreiberStack / SharedStack)'],
    ['mutex', 'Mutex<Vec<u64>>'],
    ['crossbeam-ref', 'crossbeam-epoch reference stack'],
    ['port', 'MessagePort'],
  ]);
  const rust = arr(get(j, 'rust', 'cases'));
  const threads = [...new Set(rust.map((c) => num(get(c, 'threads'))).filter((t): t is number => t !== null))].sort((a, b) => a - b);
  const cores = num(get(j, 'rust', 'available_parallelism')) ?? num(get(j, 'machine', 'cores'));
  for (const t of threads) {
    const label = `Rust push+pop, ${t} thread${t === 1 ? '' : 's'}${cores !== null && t > cores ? ' (oversubscribed)' : ''} (ops/s)`;
    labels.push(label);
    for (const c of rust) {
      if (num(get(c, 'threads')) !== t) continue;
      const impl = str(get(c, 'impl'));
      if (impl) put(values, impl, label, num(get(c, 'median_ops_per_s')));
    }
  }
  const two = arr(get(j, 'js', 'two_threads', 'cases'));
  if (two.length > 0) {
    const label = 'JS, main thread → worker (values/s)';
    let any = false;
    for (const c of two) {
      const name = str(get(c, 'name')) ?? '';
      const v = num(get(c, 'median_values_per_s'));
      if (v === null) continue;
      put(values, /SharedStack/i.test(name) ? 'weft' : /MessagePort/i.test(name) ? 'port' : name, label, v);
      any = true;
    }
    if (any) labels.push(label);
  }
  if (labels.length === 0) throw new Error('no rust.cases or js.two_threads figures');
  const ordered = new Map([...values.entries()].sort(([a], [b]) => Number(b === 'weft') - Number(a === 'weft')));
  return {
    type: 'bar',
    title: 'SharedStack: push+pop and cross-thread transfer',
    labels,
    datasets: seriesDatasets(labels, ordered, names),
    yTitle: 'per second (log scale)',
    log: true,
    unit: '/s',
    note: 'Rust: weft-core TreiberStack<u64> against Mutex<Vec<u64>> and the crossbeam-epoch reference stack; JS: SharedStack against one postMessage per value; median of the runs; higher is better',
  };
}

const BENCHES: { file: string; heading: string; headline: (j: unknown) => Headline }[] = [
  { file: 'pool.json', heading: 'Pool (bench/pool)', headline: poolHeadline },
  { file: 'par.json', heading: 'Parallel pipelines (bench/par)', headline: parHeadline },
  { file: 'actor.json', heading: 'Actors (bench/actor)', headline: actorHeadline },
  { file: 'stack.json', heading: 'SharedStack (bench/stack)', headline: stackHeadline },
];

function benchSection(l: Loaded, heading: string, headline: (j: unknown) => Headline, nextId: () => string): Section | null {
  const id = l.name.replace(/\.json$/, '');
  if (l.error === 'missing') return null;
  if (l.error) {
    return { id, heading, charts: [], html: `<p class="note"><code>${escapeHtml(l.name)}</code> ${escapeHtml(l.error)}.</p>` };
  }
  let h: Headline;
  try {
    h = headline(l.json);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      id,
      heading,
      charts: [],
      html: `<p class="note"><code>${escapeHtml(l.name)}</code> has an unexpected shape (${escapeHtml(why)}): no chart.</p>`,
    };
  }
  const { note, ...spec } = h;
  if (spec.log) {
    const smallest = Math.min(...spec.datasets.flatMap((d) => d.data.filter((v): v is number => v !== null && v > 0)));
    if (Number.isFinite(smallest)) spec.min = 10 ** Math.floor(Math.log10(smallest));
  }
  const caption = `${l.name}, ${fileDate(l)}, ${machineText(get(l.json, 'machine'))}: ${note}.`;
  return {
    id,
    heading,
    charts: [{ ...spec, labels: spec.labels.map((x) => (typeof x === 'string' ? wrap(x) : x)), id: nextId(), caption }],
    html: '',
  };
}

// ---------------------------------------------------------------------------------------------
// Building and rendering

export function buildReportData(resultsDir: string = DEFAULT_RESULTS): ReportData {
  let n = 0;
  const nextId = (): string => `chart-${++n}`;
  const sections: Section[] = [serviceSection(load(resultsDir, 'service.json'), nextId)];
  for (const b of BENCHES) {
    const s = benchSection(load(resultsDir, b.file), b.heading, b.headline, nextId);
    if (s) sections.push(s);
  }
  if (sections.length === 1) {
    sections.push({
      id: 'benchmarks-missing',
      heading: 'Benchmarks',
      charts: [],
      html: '<p class="note">None of pool.json, par.json, actor.json, stack.json is in the results folder yet.</p>',
    });
  }
  return {
    generated: new Date().toISOString(),
    results: resultsDir,
    sections,
    charts: sections.flatMap((s) => s.charts),
  };
}

function chartJsSource(): { code: string; version: string } {
  let dir: string;
  try {
    dir = dirname(require.resolve('chart.js')); // …/node_modules/chart.js/dist/chart.cjs
  } catch {
    dir = join(ROOT, 'node_modules', 'chart.js', 'dist');
  }
  const file = ['chart.umd.min.js', 'chart.umd.js'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`Chart.js's UMD build (chart.umd.min.js) was not found in ${dir}: install the chart.js devDependency`);
  let version = 'unknown';
  try {
    version = str(get(JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')), 'version')) ?? version;
  } catch {
    /* the version is only shown in the footer */
  }
  // `</script` would end the inline script; chart.js 4 contains none, but never let it through.
  return { code: readFileSync(file, 'utf8').replace(/<\/script/gi, '<\\/script'), version };
}

/** JSON that is safe inside a <script> element. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1f2328; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 0 0 6px; }
p.meta, p.lead { color: #57606a; margin: 4px 0 16px; }
p.note { background: #fff8c5; border: 1px solid #d4a72c66; border-radius: 6px; padding: 10px 14px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
figure { margin: 20px 0 28px; }
.chart-box { position: relative; height: 340px; width: 100%; }
figcaption { color: #57606a; font-size: 13px; margin-top: 6px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 0 28px; }
@media (max-width: 900px) { .charts { grid-template-columns: 1fr; } }
table { border-collapse: collapse; margin: 12px 0 20px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: #57606a; font-size: 13px; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #d0d7de; padding: 6px 12px; text-align: right; }
thead th { background: #f6f8fa; font-weight: 600; }
th[scope="row"], thead th:first-child { text-align: left; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
footer { margin-top: 48px; color: #57606a; font-size: 12px; }
`;

/** The page's script: draws every chart of the embedded data with Chart.js, then sets __weftReport. */
const CLIENT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('weft-report-data').textContent);
  function si(v) {
    if (v === null || v === undefined || !isFinite(v)) return '';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + ' G';
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + ' M';
    if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + ' k';
    return String(Math.round(v * 100) / 100);
  }
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  Chart.defaults.color = '#1f2328';
  var created = 0;
  data.charts.forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) return;
    var line = spec.type === 'line';
    var y = {
      type: spec.log ? 'logarithmic' : 'linear',
      beginAtZero: !spec.log,
      min: spec.log && spec.min ? spec.min : undefined,
      title: { display: true, text: spec.yTitle },
      ticks: {
        callback: function (v) {
          if (spec.log) {
            var s = v / Math.pow(10, Math.floor(Math.log10(v)));
            if ([1, 2, 5].indexOf(Math.round(s)) < 0) return '';
          }
          return si(v);
        }
      }
    };
    if (spec.integer) y.ticks.precision = 0;
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d) {
          return {
            label: d.label,
            data: d.data,
            backgroundColor: d.color,
            borderColor: d.color,
            borderWidth: line ? 2 : 0,
            pointRadius: line ? 3 : 0,
            tension: 0.15,
            spanGaps: true
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          title: { display: true, text: spec.title, font: { size: 15, weight: 'bold' } },
          legend: { display: spec.datasets.length > 1 || line, position: 'bottom' },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed.y;
                return ctx.dataset.label + ': ' + (spec.log || v >= 1e4 ? si(v) : String(v)) + (spec.unit || '');
              }
            }
          }
        },
        scales: {
          x: { title: { display: !!spec.xTitle, text: spec.xTitle || '' }, ticks: { autoSkip: false, maxRotation: 0 } },
          y: y
        }
      }
    });
    created++;
  });
  window.__weftReport = { charts: created, ready: true };
})();
`;

export function renderHtml(data: ReportData, chartJs: { code: string; version: string }): string {
  const sections = data.sections
    .map((s) => {
      const figures = s.charts
        .map(
          (c) =>
            `<figure><div class="chart-box"><canvas id="${c.id}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>` +
            `<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`,
        )
        .join('\n');
      const grid = s.id === 'service' && s.charts.length > 1 ? `<div class="charts">${figures}</div>` : figures;
      return `<section id="section-${escapeHtml(s.id)}"><h2>${escapeHtml(s.heading)}</h2>\n${s.html}\n${grid}</section>`;
    })
    .join('\n');
  const embedded = { generated: data.generated, charts: data.charts };
  const results = relative(ROOT, data.results) || '.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>weft: service load test and benchmarks</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>weft: service load test and benchmarks</h1>
<p class="lead">The demo service under load in each mode, then the headline figures of each benchmark (weft against its peers,
measured in the same run). Compare figures only within one run and one machine. Generated ${escapeHtml(formatDate(data.generated) ?? data.generated)}
from <code>${escapeHtml(results.startsWith('..') ? data.results : results)}</code>.</p>
${sections}
<footer>Charts drawn with Chart.js ${escapeHtml(chartJs.version)}, inlined: this page loads nothing from the network. Written by <code>bench/service/report.ts</code> (<code>npm run report</code>).</footer>
</main>
<script>${chartJs.code}</script>
<script type="application/json" id="weft-report-data">${scriptJson(embedded)}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}

function write(options: ReportOptions): { out: string; charts: number } {
  const results = resolve(options.results ?? DEFAULT_RESULTS);
  const out = resolve(options.out ?? join(results, 'service.html'));
  const data = buildReportData(results);
  const html = renderHtml(data, chartJsSource());
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return { out, charts: data.charts.length };
}

/** Writes the report and returns its path. */
export function writeReport(options: ReportOptions = {}): string {
  return write(options).out;
}

function main(argv: string[]): void {
  const { values } = parseBenchArgs({
    usage: 'node --import=tsx bench/service/report.ts [--results DIR] [--out FILE]',
    description: 'The HTML report (Chart.js inlined, no network) of the JSON results in DIR.',
    flags: {
      results: {
        type: 'string',
        arg: 'DIR',
        help: 'the folder of service.json, pool.json, par.json, actor.json, stack.json (default bench/results)',
      },
      out: { type: 'string', arg: 'FILE', help: 'the HTML file to write (default DIR/service.html)' },
    },
    argv,
  });
  const opts: ReportOptions = {};
  if (values.results !== undefined) opts.results = values.results;
  if (values.out !== undefined) opts.out = values.out;
  const { out, charts } = write(opts);
  console.log(`wrote ${relative(process.cwd(), out) || out} (${charts} charts)`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === __filename) {
  main(process.argv.slice(2));
}
