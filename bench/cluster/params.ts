/**
 * Libraries, rows, sizes and targets of the cluster benchmark, shared by the parent
 * (bench/cluster/index.ts), the serving child (serve.ts) and the calling child (call.ts).
 */

/**
 * raw: bare @nats-io/transport-node, publish with a reply subject under one wildcard subscription,
 *      the correlation id in the reply subject (weft's own scheme, without weft).
 * request: the same client's `nc.request` with `noAsyncTraces: true` (its mux inbox).
 * weft: weftjs/cluster (`node.ref(name).ask/tell`, `node.pool(name).run`).
 * moleculer: Moleculer 0.14 with its NATS transporter (the `nats` 2.x client), JSON serializer.
 */
export const LIBS = ['raw', 'request', 'weft', 'moleculer'] as const;
export type Lib = (typeof LIBS)[number];

export const LIB_LABELS: Record<Lib, string> = {
  raw: 'raw NATS, correlation id',
  request: 'nc.request (noAsyncTraces)',
  weft: 'weft',
  moleculer: 'Moleculer 0.14',
};

/**
 * seq: round trips one at a time (p50/p99, round trips/s); inflight: round trips/s with
 * INFLIGHT.lanes in flight; tell: fire-and-forget messages/s to the serving process, counted there;
 * pool: a remote task call (x => x + 1) with POOL.lanes in flight.
 */
export const ROWS = ['seq', 'inflight', 'tell', 'pool'] as const;
export type Row = (typeof ROWS)[number];

/** Which library measures which row (raw tells are a bare publish; `request` has no tell of its own; pools: weft and Moleculer). */
export const LIB_ROWS: Record<Lib, readonly Row[]> = {
  raw: ['seq', 'inflight', 'tell'],
  request: ['seq', 'inflight'],
  weft: ['seq', 'inflight', 'tell', 'pool'],
  moleculer: ['seq', 'inflight', 'tell', 'pool'],
};

/** The payload: 32 ASCII characters (raw NATS sends their 32 bytes; weft and Moleculer `{ v }` with this string). */
export const PAYLOAD = 'weft-cluster-bench-payload-32B!!';

export const SEQ = { warmup: 500, count: 2000 };
export const INFLIGHT = { lanes: 64, warmupS: 0.5, timedS: 2 };
/** Tells: sent for timedS in bursts of `burst` with a setImmediate between them (so the socket gets written). */
export const TELL = { warmup: 2000, timedS: 2, burst: 500, settleS: 10 };
export const POOL = { lanes: 64, warmupS: 0.5, timedS: 2 };
/** Ask, call and request timeout (Moleculer's `requestTimeout` default is 0: none). */
export const TIMEOUT_MS = 30_000;

/** Subjects and names that both children use. */
export const NAMES = {
  cluster: 'bench',
  actor: 'echo-1',
  pool: 'p',
  rawEcho: 'bench.echo',
  rawSink: 'bench.sink',
  rawCount: 'bench.count',
  molNamespace: 'bench',
  /** The second Moleculer broker pair, with `disableBalancer: true` (NATS queue groups), for the pool row. */
  molNamespaceQueue: 'benchq',
};

/** §3.7 of SCALEOUT.md. */
export const TARGETS = {
  inflightVsMoleculer: 2,
  inflightVsRaw: 0.7,
  seqP50OverRawUs: 50,
  tellVsRaw: 0.6,
  poolVsMoleculer: 1,
};

/** The line the serving child prints on stdout once it serves. */
export const READY_MARK = '@@ready';

/** What a calling child reports for one run. */
export interface CallResult {
  lib: Lib;
  version: string;
  metrics: Record<string, number>;
  info: Record<string, unknown>;
  child_seconds: number;
  child_cpu_s: number;
}

export interface CallError {
  lib: Lib;
  error: string;
}
