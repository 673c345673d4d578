// The demo service: a Fastify app whose routes do real work, in one of three modes.
//
//   inline   everything on the main thread (what a plain Node service does)
//   piscina  CPU work on a piscina pool, the rest on the main thread
//   weft     CPU work on a weft Pool, accounts as weft actors on its workers (bounded mailboxes,
//            per-entity ordering), analytics with weft's par, task timings carried from the
//            workers to the main thread on a SharedStack, metrics from weft/metrics
//
// Routes (JSON):
//   POST /hash                      { data, rounds } -> { hex, us }        CPU-bound JavaScript
//   POST /accounts/:id/deposit      { amount } -> { id, balance }          stateful entity
//   POST /accounts/:id/withdraw     { amount } -> { id, balance, refused? }
//   GET  /accounts/:id              -> { id, balance, ops }
//   GET  /analytics?over=ms         -> { count, mean, p50, p99, max, over } of recent /hash times
//   GET  /stats, POST /stats/reset  event-loop delay (perf_hooks) and requests per route
//   GET  /metrics                   Prometheus text (prom-client)
//   GET  /health
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify from 'fastify';
import { Piscina } from 'piscina';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { SharedStack, isWeftError, par } from 'weftjs';
import weftPlugin from 'weftjs/fastify';
import { registerWeftMetrics } from 'weftjs/metrics';
import { Account, hashTask } from './work.mjs';

export const MODES = ['inline', 'piscina', 'weft'];

/** How many recent /hash timings the analytics route looks at. */
const WINDOW = 65_536;

/** A ring of the most recent samples, as one Float64Array. */
class Ring {
  constructor(size) {
    this.buf = new Float64Array(size);
    this.next = 0;
    this.full = false;
  }
  push(x) {
    this.buf[this.next++] = x;
    if (this.next === this.buf.length) {
      this.next = 0;
      this.full = true;
    }
  }
  view() {
    return this.full ? this.buf : this.buf.subarray(0, this.next);
  }
}

const hashBody = {
  type: 'object',
  required: ['data', 'rounds'],
  additionalProperties: false,
  properties: { data: { type: 'string', maxLength: 1_000_000 }, rounds: { type: 'integer', minimum: 1, maximum: 10_000 } },
};
const amountBody = {
  type: 'object',
  required: ['amount'],
  additionalProperties: false,
  properties: { amount: { type: 'number', exclusiveMinimum: 0, maximum: 1e9 } },
};
const idParams = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } };

/**
 * Builds the app (not listening). `threads`: worker threads of the CPU pool (piscina, weft).
 * `mailbox`: the capacity of each account actor's mailbox (weft mode; overload answers 503).
 */
export async function buildApp({ mode = 'weft', threads = Math.max(1, availableParallelism()), mailbox = 256, logger = false } = {}) {
  if (!MODES.includes(mode)) throw new Error(`mode must be one of ${MODES.join(', ')}`);
  const app = Fastify({ logger, forceCloseConnections: 'idle' });
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const routeCounts = {};
  app.addHook('onResponse', async (req) => {
    const key = `${req.method} ${req.routeOptions.url ?? req.url}`;
    routeCounts[key] = (routeCounts[key] ?? 0) + 1;
  });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const recent = new Ring(WINDOW); // end-to-end /hash times, ms (main thread)
  const compute = new Ring(WINDOW); // compute time of each digest, µs (where it ran)

  // ---- where the CPU work runs --------------------------------------------------------------
  let runHash;
  /** Timings pushed by the weft pool's workers; drained into `compute` here. */
  let timings;
  if (mode === 'weft') {
    await app.register(weftPlugin, { pool: { module: new URL('./work.mjs', import.meta.url), threads }, actors: true });
    timings = new SharedStack();
    runHash = (data, rounds) => app.weft.pool.run('hashTask', data, rounds, timings);
    registerWeftMetrics({ register: metrics, pools: { cpu: app.weft.pool }, systems: { accounts: app.weft.actors }, stacks: { timings } });
  } else if (mode === 'piscina') {
    const piscina = new Piscina({
      filename: new URL('./piscina-task.mjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
    });
    runHash = (data, rounds) => piscina.run({ data, rounds });
    app.addHook('onClose', async () => piscina.destroy());
  } else {
    runHash = async (data, rounds) => hashTask(data, rounds, undefined);
  }
  const drainTimings = () => {
    if (timings === undefined) return;
    for (let batch; (batch = timings.popMany(4096)).length > 0; ) for (const us of batch) compute.push(us);
  };

  app.post('/hash', { schema: { body: hashBody } }, async (req) => {
    const t0 = performance.now();
    const { data, rounds } = req.body;
    const out = await runHash(data, rounds);
    recent.push(performance.now() - t0);
    if (timings === undefined) compute.push(out.us);
    return out;
  });

  // ---- accounts: actors in weft mode, a Map on the main thread otherwise -----------------------
  const accounts = new Map();
  const account = (id) => {
    let ref = accounts.get(id);
    if (ref === undefined) {
      ref = app.weft.actors.spawn(Account, id, { on: 'worker', mailbox: { capacity: mailbox, overflow: 'reject' } });
      accounts.set(id, ref);
    }
    return ref;
  };
  const plain = (id) => {
    let a = accounts.get(id);
    if (a === undefined) {
      a = { id, balance: 0, ops: 0 };
      accounts.set(id, a);
    }
    return a;
  };
  /** Asks an account actor; an overloaded mailbox (or a slow actor) answers 503 + Retry-After. */
  const askAccount = async (reply, id, msg) => {
    try {
      return await account(id).ask(msg, { timeout: 2000 });
    } catch (err) {
      if (isWeftError(err, 'WEFT_MAILBOX_FULL') || isWeftError(err, 'WEFT_ASK_TIMEOUT')) {
        reply.code(503).header('retry-after', '1');
        return { error: 'overloaded', code: err.code };
      }
      throw err;
    }
  };
  app.post('/accounts/:id/deposit', { schema: { params: idParams, body: amountBody } }, async (req, reply) => {
    const { id } = req.params;
    if (mode === 'weft') return askAccount(reply, id, { type: 'deposit', amount: req.body.amount });
    const a = plain(id);
    a.balance += req.body.amount;
    a.ops++;
    return { id, balance: a.balance };
  });
  app.post('/accounts/:id/withdraw', { schema: { params: idParams, body: amountBody } }, async (req, reply) => {
    const { id } = req.params;
    if (mode === 'weft') return askAccount(reply, id, { type: 'withdraw', amount: req.body.amount });
    const a = plain(id);
    if (req.body.amount > a.balance) return { id, balance: a.balance, refused: 'insufficient funds' };
    a.balance -= req.body.amount;
    a.ops++;
    return { id, balance: a.balance };
  });
  app.get('/accounts/:id', { schema: { params: idParams } }, async (req, reply) => {
    const { id } = req.params;
    if (mode === 'weft') return askAccount(reply, id, { type: 'get' });
    const a = plain(id);
    return { id, balance: a.balance, ops: a.ops };
  });

  // ---- analytics over the recent /hash times ---------------------------------------------------
  app.get(
    '/analytics',
    { schema: { querystring: { type: 'object', properties: { over: { type: 'number', minimum: 0 } } } } },
    async (req) => {
      drainTimings();
      const over = req.query.over ?? 10;
      const xs = recent.view();
      const n = xs.length;
      if (n === 0) return { count: 0, over, computeUsMean: null };
      let mean, sorted, above, computeUsMean;
      if (mode === 'weft') {
        [mean, sorted, above, computeUsMean] = await Promise.all([
          par(xs).mean(),
          par(xs).sort(),
          par(xs)
            .filter((x, _i, { t }) => x > t, { t: over })
            .count(),
          compute.view().length > 0 ? par(compute.view()).mean() : Promise.resolve(null),
        ]);
      } else {
        let s = 0;
        above = 0;
        for (let i = 0; i < n; i++) {
          s += xs[i];
          if (xs[i] > over) above++;
        }
        mean = s / n;
        sorted = Float64Array.from(xs).sort();
        const c = compute.view();
        let cs = 0;
        for (let i = 0; i < c.length; i++) cs += c[i];
        computeUsMean = c.length > 0 ? cs / c.length : null;
      }
      const at = (q) => sorted[Math.min(n - 1, Math.floor(q * n))];
      return { count: n, mean, p50: at(0.5), p99: at(0.99), max: sorted[n - 1], over, above, computeUsMean };
    },
  );

  // ---- observability ---------------------------------------------------------------------------
  app.get('/stats', async () => ({
    mode,
    eventLoopDelay: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6, mean: eld.mean / 1e6 },
    routes: routeCounts,
  }));
  app.post('/stats/reset', async () => {
    eld.reset();
    for (const k of Object.keys(routeCounts)) delete routeCounts[k];
    return { ok: true };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });
  app.get('/health', async () => ({ ok: true, mode }));
  app.addHook('onClose', async () => eld.disable());
  return app;
}
