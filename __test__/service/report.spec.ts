// The HTML report of bench/service/report.ts, opened in a real headless Chromium (playwright-core)
// with every network request blocked: it must render every chart with Chart.js, with no console or
// page errors, from the embedded data alone.
//
// The Chromium is found by ./chromium.ts: CHROMIUM_PATH, else a system Chromium/Chrome (Debian's
// /usr/bin/chromium first), else on Linux x64 the one inside the @sparticuz/chromium devDependency
// (unpacked once into node_modules/.cache/weftjs/), so a fresh `npm install` is enough. Where there
// is none these tests FAIL, they do not skip. The first browser test logs which Chromium it used.
// WEFT_UPDATE_SCREENSHOT=1 writes the full-page screenshot to bench/results/service.png (of the report of
// the real bench/results/service.json when there is one, else of the sample); otherwise to a temp dir.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { writeReport } from '../../bench/service/report.js';
import { findChromium, type ChromiumLaunch } from '../chromium.js';
import { ROOT } from '../helpers.js';

const RESULTS = join(ROOT, 'bench', 'results');
const SAMPLE = join(__dirname, '..', 'fixtures', 'service-sample.json');
const BENCH_FILES = ['pool.json', 'par.json', 'actor.json', 'stack.json'];
/** The real benchmark results present in bench/results: each one gets one chart. */
const PRESENT = BENCH_FILES.filter((f) => existsSync(join(RESULTS, f)));
const SERVICE_CHARTS = 4; // throughput, latency percentiles, event-loop delay, errors
const MODES = ['inline', 'piscina', 'weft'];

const tmp = mkdtempSync(join(os.tmpdir(), 'weft-report-'));

/** A results folder: copies of the real bench/results/*.json (never their service.json), plus `service`. */
function resultsDir(name: string, opts: { service?: string; benches?: boolean } = {}): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  if (opts.benches !== false) {
    for (const f of readdirSync(RESULTS)) {
      if (f.endsWith('.json') && f !== 'service.json') copyFileSync(join(RESULTS, f), join(dir, f));
    }
  }
  if (opts.service) copyFileSync(opts.service, join(dir, 'service.json'));
  return dir;
}

let browserPromise: Promise<{ browser: Browser; chromium: ChromiumLaunch }> | undefined;
let logged = false;

/** One shared browser, launched on first use; a missing Chromium fails every test that needs it. */
async function browser(t: ExecutionContext): Promise<Browser> {
  browserPromise ??= (async () => {
    const found = await findChromium();
    try {
      const b = await chromium.launch({
        executablePath: found.executablePath,
        headless: true,
        args: found.args,
        ...(found.env ? { env: found.env } : {}),
      });
      return { browser: b, chromium: found };
    } catch (err) {
      throw new Error(
        `${found.description}: did not start: ${err instanceof Error ? err.message : String(err)}\nSet CHROMIUM_PATH to another Chromium or Chrome executable.`,
      );
    }
  })();
  const { browser: b, chromium: found } = await browserPromise;
  if (!logged) {
    logged = true;
    t.log(found.description);
  }
  return b;
}

test.after.always(async () => {
  if (browserPromise) await browserPromise.then(({ browser: b }) => b.close()).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors, in order. */
  errors: string[];
  /** Requests for anything but the report itself (all aborted). */
  blocked: string[];
  report: { charts: number; ready: boolean };
  canvases: number;
}

/** Opens the report with the network blocked and waits for `window.__weftReport.ready`. */
async function open(t: ExecutionContext, file: string): Promise<Opened> {
  const b = await browser(t);
  const context = await b.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  const url = pathToFileURL(file).href;
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    blocked.push(u);
    return route.abort('blockedbyclient');
  });
  await page.goto(url, { waitUntil: 'load' });
  try {
    await page.waitForFunction('window.__weftReport !== undefined && window.__weftReport.ready === true', undefined, { timeout: 30_000 });
  } catch (err) {
    throw new Error(
      `the report never set window.__weftReport.ready (errors: ${errors.join(' | ') || 'none'}; blocked: ${blocked.join(', ') || 'none'}): ${String(err)}`,
    );
  }
  const report = await page.evaluate<{ charts: number; ready: boolean }>('window.__weftReport');
  const canvases = await page.evaluate<number>("document.querySelectorAll('canvas').length");
  return { page, context, errors, blocked, report, canvases };
}

interface CanvasInfo {
  id: string;
  width: number;
  height: number;
  /** Pixels with any opacity. */
  painted: number;
  /** Pixels of a clearly chromatic colour (bars, lines, legend boxes; not the grey axes and text). */
  colored: number;
  hasChart: boolean;
  /** Finite data values across the chart's datasets. */
  values: number;
}

const CANVAS_INFO = `Array.from(document.querySelectorAll('canvas')).map(function (c) {
  var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  var painted = 0, colored = 0;
  for (var i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    painted++;
    var mx = Math.max(d[i], d[i + 1], d[i + 2]), mn = Math.min(d[i], d[i + 1], d[i + 2]);
    if (d[i + 3] > 128 && mx - mn > 40) colored++;
  }
  var chart = Chart.getChart(c);
  var values = 0;
  if (chart) chart.data.datasets.forEach(function (ds) {
    ds.data.forEach(function (v) { if (typeof v === 'number' && isFinite(v)) values++; });
  });
  return { id: c.id, width: c.width, height: c.height, painted: painted, colored: colored, hasChart: !!chart, values: values };
})`;

function checkCanvases(t: ExecutionContext, infos: CanvasInfo[]): void {
  for (const c of infos) {
    t.true(c.width > 100 && c.height > 100, `${c.id}: ${c.width}x${c.height}`);
    t.true(c.hasChart, `${c.id} has a Chart.js chart`);
    t.true(c.values > 0, `${c.id} has data`);
    // Non-blank: axes, labels and the bars/lines themselves are drawn, not a transparent canvas.
    t.true(c.painted > 0.01 * c.width * c.height, `${c.id}: only ${c.painted} painted pixels of ${c.width * c.height}`);
    t.true(c.colored > 100, `${c.id}: only ${c.colored} coloured pixels`);
  }
}

function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG');
  }
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test('the report is one self-contained file: Chart.js inlined, data embedded, no external resources', (t) => {
  const dir = resultsDir('static', { service: SAMPLE });
  const out = join(tmp, 'static.html');
  t.is(writeReport({ results: dir, out }), out);
  const html = readFileSync(out, 'utf8');
  t.true(html.length > 150_000, 'Chart.js is inlined');
  t.regex(html, /Chart\.js v4\.\d+\.\d+/, 'the Chart.js banner is in the page');
  t.notRegex(html, /<script[^>]*\bsrc=/i, 'no external script');
  t.notRegex(html, /<link\b/i, 'no external stylesheet');
  t.notRegex(html, /\b(src|href)=["']?(https?:)?\/\//i, 'no remote URL in an attribute');
  const json = /<script type="application\/json" id="weft-report-data">([\s\S]*?)<\/script>/.exec(html);
  t.truthy(json, 'the data is embedded as JSON');
  const data = JSON.parse(json![1]!) as { charts: { id: string; title: string; caption: string }[] };
  t.is(data.charts.length, SERVICE_CHARTS + PRESENT.length);
  for (const f of PRESENT)
    t.true(
      data.charts.some((c) => c.caption.startsWith(`${f}, `)),
      `a chart with a caption naming ${f}`,
    );
  // Percentile keys in numeric order (JSON puts the integer keys first: 1, 10, 25, ..., then 2.5, 97.5, 99.9).
  t.regex(html, /"labels":\["p1","p2\.5","p10","p25","p50","p75","p90","p97\.5","p99","p99\.9"\]/);
});

test.serial('the report renders every chart offline, with no errors, and the summary shows the three modes', async (t) => {
  const dir = resultsDir('full', { service: SAMPLE });
  const file = writeReport({ results: dir, out: join(tmp, 'full.html') });
  const { page, errors, blocked, report, canvases } = await open(t, file);
  t.deepEqual(errors, []);
  t.deepEqual(blocked, [], 'the page requested nothing but itself');
  t.true(report.ready);
  t.true(report.charts > 0);
  t.is(report.charts, canvases, 'one chart per <canvas>');
  t.is(report.charts, SERVICE_CHARTS + PRESENT.length, `4 service charts + one for each of ${PRESENT.join(', ')}`);
  checkCanvases(t, await page.evaluate<CanvasInfo[]>(CANVAS_INFO));

  const rows = await page.evaluate<string[][]>(
    "Array.from(document.querySelectorAll('#service-summary tbody tr')).map(function (r) { return Array.from(r.children).map(function (c) { return c.textContent.trim(); }); })",
  );
  t.deepEqual(
    rows.map((r) => r[0]),
    MODES,
  );
  const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { modes: { mode: string; rps: number; latency: { p99: number } }[] };
  for (const m of sample.modes) {
    const row = rows.find((r) => r[0] === m.mode)!;
    t.true(
      row.includes(m.rps.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })),
      `${m.mode} rps in ${row.join(' | ')}`,
    );
    t.true(row.includes(m.latency.p99.toFixed(1)), `${m.mode} p99 in ${row.join(' | ')}`);
  }
  const meta = await page.evaluate<string>("document.querySelector('#section-service .meta').textContent");
  t.regex(meta, /AMD EPYC/);
  t.regex(meta, /2026-11-24/);
  t.is(await page.locator('#service-missing').count(), 0);
});

test.serial('full-page screenshot is a valid PNG of reasonable size', async (t) => {
  // Updating bench/results/service.png pictures the real results when the load test has run.
  const update = process.env['WEFT_UPDATE_SCREENSHOT'] === '1';
  const realService = join(RESULTS, 'service.json');
  const service = update && existsSync(realService) ? realService : SAMPLE;
  const dir = resultsDir('shot', { service });
  const file = writeReport({ results: dir, out: join(tmp, 'shot.html') });
  const { page, errors } = await open(t, file);
  const png = await page.screenshot({ fullPage: true, type: 'png' });
  t.deepEqual(errors, []);
  const { width, height } = pngSize(png);
  t.is(width, 1280);
  t.true(height >= 1500 && height <= 20_000, `height ${height}`);
  // A blank page of that size compresses to a few kB; charts, tables and text do not.
  t.true(png.length > 50_000, `${png.length} bytes`);
  const target = update ? join(RESULTS, 'service.png') : join(tmp, 'service.png');
  writeFileSync(target, png);
  t.log(
    `screenshot of the report of ${service === SAMPLE ? 'the sample service.json' : realService}, ${width}x${height}, ${png.length} bytes: ${target}`,
  );
});

test.serial('without service.json the report says the load test has not run yet, and still renders', async (t) => {
  const dir = resultsDir('no-service');
  const file = writeReport({ results: dir, out: join(tmp, 'no-service.html') });
  const { page, errors, blocked, report, canvases } = await open(t, file);
  t.deepEqual(errors, []);
  t.deepEqual(blocked, []);
  t.true(report.ready);
  t.is(report.charts, canvases);
  t.is(report.charts, PRESENT.length);
  const note = await page.evaluate<string | null>("(document.querySelector('#service-missing') || {}).textContent || null");
  t.truthy(note);
  t.regex(note!, /not been run yet/);
  t.is(await page.locator('#service-summary').count(), 0);
  checkCanvases(t, await page.evaluate<CanvasInfo[]>(CANVAS_INFO));
});

test.serial('with no results at all the page still renders, with notes and no charts', async (t) => {
  const dir = resultsDir('empty', { benches: false });
  const file = writeReport({ results: dir, out: join(tmp, 'empty.html') });
  const { page, errors, report, canvases } = await open(t, file);
  t.deepEqual(errors, []);
  t.deepEqual(report, { charts: 0, ready: true });
  t.is(canvases, 0);
  t.is(await page.locator('#service-missing').count(), 1);
});

test.serial('a service.json of an unexpected shape gets a note, not a broken page', async (t) => {
  const bad = join(tmp, 'bad-service.json');
  writeFileSync(bad, JSON.stringify({ date: '2026-11-24T00:00:00Z', modes: 'none' }));
  const dir = resultsDir('bad', { service: bad });
  const file = writeReport({ results: dir, out: join(tmp, 'bad.html') });
  const { page, errors, report, canvases } = await open(t, file);
  t.deepEqual(errors, []);
  t.is(report.charts, canvases);
  t.is(report.charts, PRESENT.length);
  t.is(await page.locator('#service-invalid').count(), 1);
});
