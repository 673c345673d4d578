// `npm start`: the demo service under load, in three modes, side by side.
//
// For each mode (inline, piscina, weft) it starts examples/service/server.mjs in a child process,
// warms it up, drives it with autocannon for a fixed time with a mix of requests (CPU-bound
// /hash, account deposits and reads, analytics), reads the service's own event-loop delay
// (perf_hooks), and stops it with SIGTERM (graceful shutdown). Then it prints a table, writes
// bench/results/service.json and the HTML report bench/results/service.html.
//
//   node --import=tsx examples/service/loadtest.mjs [--seconds 7] [--connections 32]
//     [--modes inline,piscina,weft] [--rounds 1000] [--threads N] [--out DIR]
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '1.5' },
    connections: { type: 'string', default: '32' },
    modes: { type: 'string', default: 'inline,piscina,weft' },
    rounds: { type: 'string', default: '1000' },
    threads: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench', 'results') },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const modes = values.modes.split(',');
const threads = values.threads ? Number(values.threads) : availableParallelism();

// The request mix: 3 CPU-bound hashes (about 4 ms of JavaScript each), 3 deposits, 1 balance
// read, 1 analytics query per 8.
const DATA = 'weft'.repeat(512); // 2 kB
const ROUNDS = Number(values.rounds); // 1000: about 4 ms of JavaScript per /hash on the demo machine
const ACCOUNTS = 64;
let nextAccount = 0;
const account = () => `acct-${nextAccount++ % ACCOUNTS}`;
const json = { 'content-type': 'application/json' };
const hash = { method: 'POST', path: '/hash', headers: json, body: JSON.stringify({ data: DATA, rounds: ROUNDS }) };
const deposit = {
  method: 'POST',
  headers: json,
  setupRequest: (r) => ({ ...r, path: `/accounts/${account()}/deposit`, body: JSON.stringify({ amount: 1 }) }),
};
const read = { method: 'GET', setupRequest: (r) => ({ ...r, path: `/accounts/${account()}` }) };
const analytics = { method: 'GET', path: '/analytics?over=5' };
const MIX = [hash, deposit, hash, read, deposit, hash, deposit, analytics];

function startServer(mode) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'server.mjs'), '--mode', mode, '--port', '0', '--threads', String(threads)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: JSON.parse(line).listening });
    });
    child.once('exit', (code) => reject(new Error(`the ${mode} server exited early (code ${code})`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.removeAllListeners('exit');
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
    child.kill('SIGTERM');
  });
}

function load(url, duration, title) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration, requests: MIX, title }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
    autocannon.track(instance, { renderProgressBar: process.stderr.isTTY, renderResultsTable: false, renderLatencyTable: false });
    if (!process.stderr.isTTY) {
      // A plain progress line per second when there is no terminal to draw a bar on.
      let s = 0;
      const tick = setInterval(() => process.stderr.write(`  ${title}: ${++s}/${duration} s\r`), 1000);
      instance.on('done', () => {
        clearInterval(tick);
        process.stderr.write('\n');
      });
    }
  });
}

const get = async (url) => (await fetch(url)).json();

const results = [];
for (const [i, mode] of modes.entries()) {
  const phase = `[${i + 1}/${modes.length}] ${mode}`;
  console.error(`${phase}: starting the service (${threads} worker threads for CPU work)`);
  const { child, url } = await startServer(mode);
  try {
    console.error(`${phase}: warming up (${values.warmup} s)`);
    await load(url, Number(values.warmup), `${mode} warm-up`);
    await fetch(`${url}/stats/reset`, { method: 'POST' });
    console.error(`${phase}: measuring (${seconds} s, ${connections} connections)`);
    const r = await load(url, seconds, `${mode}`);
    const stats = await get(`${url}/stats`);
    const a = await get(`${url}/analytics?over=5`);
    const lat = r.latency;
    results.push({
      mode,
      requests: r.requests.total,
      rps: r.requests.average,
      errors: r.errors,
      non2xx: r.non2xx,
      timeouts: r.timeouts,
      latency: {
        mean: lat.mean,
        p50: lat.p50,
        p90: lat.p90,
        p99: lat.p99,
        max: lat.max,
        percentiles: {
          1: lat.p1,
          2.5: lat.p2_5,
          10: lat.p10,
          25: lat.p25,
          50: lat.p50,
          75: lat.p75,
          90: lat.p90,
          97.5: lat.p97_5,
          99: lat.p99,
          99.9: lat.p99_9,
        },
      },
      eventLoopDelay: stats.eventLoopDelay,
      routes: stats.routes,
      analytics: a,
    });
  } finally {
    const exit = await stopServer(child);
    if (exit.code !== 0) console.error(`${phase}: the service exited with ${exit.code ?? exit.signal} on SIGTERM`);
  }
}

// ---- table ---------------------------------------------------------------------------------------
const row = (cells) => `| ${cells.join(' | ')} |`;
const f = (x, d = 1) => (x === undefined || x === null ? '—' : Number(x).toFixed(d));
console.log(
  `\nweft demo service, ${seconds} s per mode, ${connections} connections, ${threads} worker threads (${cpus()[0]?.model ?? 'cpu'})\n`,
);
console.log(
  row(['mode', 'requests/s', 'latency p50 (ms)', 'latency p99 (ms)', 'event-loop delay p99 (ms)', 'errors (incl. non-2xx, timeouts)']),
);
console.log(row(['---', '---:', '---:', '---:', '---:', '---:']));
for (const r of results) {
  console.log(
    row([r.mode, f(r.rps, 0), f(r.latency.p50), f(r.latency.p99), f(r.eventLoopDelay.p99, 2), String(r.errors + r.non2xx + r.timeouts)]),
  );
}
const by = Object.fromEntries(results.map((r) => [r.mode, r]));
if (by.weft && by.inline && by.piscina) {
  const eldRatio = by.weft.eventLoopDelay.p99 / by.inline.eventLoopDelay.p99;
  console.log('\ntargets:');
  console.log(
    `  event-loop delay p99, weft vs inline: ${f(by.weft.eventLoopDelay.p99, 2)} vs ${f(by.inline.eventLoopDelay.p99, 2)} ms = ${f(eldRatio, 3)} (≤ 0.1: ${eldRatio <= 0.1 ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  throughput, weft vs piscina: ${f(by.weft.rps, 0)} vs ${f(by.piscina.rps, 0)} req/s (≥: ${by.weft.rps >= by.piscina.rps ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  latency p99, weft vs piscina: ${f(by.weft.latency.p99)} vs ${f(by.piscina.latency.p99)} ms (≤: ${by.weft.latency.p99 <= by.piscina.latency.p99 ? 'met' : 'NOT met'})`,
  );
}

mkdirSync(values.out, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  durationSeconds: seconds,
  connections,
  threads,
  mix: { hash: { bytes: DATA.length, rounds: ROUNDS }, accounts: ACCOUNTS, perCycle: MIX.length },
  modes: results,
};
const jsonPath = join(values.out, 'service.json');
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote ${jsonPath}`);
// The HTML report is the repository's `npm run report` (bench/service/report.ts), run as a script:
// the example does not import benchmark code.
const reportRun = spawnSync(
  'npm',
  ['run', '--silent', 'report', '--', '--results', values.out, '--out', join(values.out, 'service.html')],
  {
    cwd: join(here, '..', '..'),
    stdio: 'inherit',
    shell: process.platform === 'win32',
  },
);
if (reportRun.status !== 0)
  console.error(`the HTML report was not written (npm run report: ${reportRun.error?.message ?? `exit ${reportRun.status}`})`);
