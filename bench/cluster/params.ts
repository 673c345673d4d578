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
 * pool: a remote task call (x => x + 1) with POOL.lanes in flight. These four run in one pair of
 * children per run of a library (call.ts).
 *
 * nodedown: the serving child is killed (SIGKILL) under NODEDOWN.lanes asks in flight: the time to
 * the caller's node-down event and until every ask in flight settled, their outcomes by code;
 * restart: the nats-server is killed (SIGKILL) under RESTART.lanes asking lanes and started again
 * on the same port and store after RESTART.downS: the time from its "ready" to the first answered
 * ask, every ask's outcome. Each run of these is a pair of children of its own (fault.ts), per
 * variant (FAULT_VARIANTS: weft's window, Moleculer's heartbeats).
 */
export const ROWS = ['seq', 'inflight', 'tell', 'pool', 'nodedown', 'restart'] as const;
export type Row = (typeof ROWS)[number];
/** The rows that call.ts runs, one pair of children for all of them. */
export const PAIR_ROWS = ['seq', 'inflight', 'tell', 'pool'] as const satisfies readonly Row[];
export type PairRow = (typeof PAIR_ROWS)[number];
export const FAULT_ROWS = ['nodedown', 'restart'] as const satisfies readonly Row[];
export type FaultRow = (typeof FAULT_ROWS)[number];

/** Which library measures which row (raw tells are a bare publish; `request` has no tell of its own; pools: weft and Moleculer; membership: weft and Moleculer). */
export const LIB_ROWS: Record<Lib, readonly Row[]> = {
  raw: ['seq', 'inflight', 'tell'],
  request: ['seq', 'inflight'],
  weft: ['seq', 'inflight', 'tell', 'pool', 'nodedown', 'restart'],
  moleculer: ['seq', 'inflight', 'tell', 'pool', 'nodedown', 'restart'],
};

/**
 * The configurations the membership rows measure. weft: `connect()`'s `failureWindowMs` (default
 * 3000; heartbeats every window / 6 on a worker thread). Moleculer 0.14: the broker's
 * `heartbeatInterval` / `heartbeatTimeout` in seconds (defaults 10 / 30: a remote node is checked
 * every heartbeatTimeout s from the broker's start and declared down when its last heartbeat is
 * more than heartbeatTimeout s old, so 20 to 60 s after it died), on both brokers.
 */
export const FAULT_VARIANTS = {
  weft: { lib: 'weft', label: 'weft, failureWindowMs 3000 (default)', failureWindowMs: undefined, steadyS: 1 },
  'weft-1s': { lib: 'weft', label: 'weft, failureWindowMs 1000', failureWindowMs: 1000, steadyS: 1 },
  'moleculer-1-3': {
    lib: 'moleculer',
    label: 'Moleculer, heartbeats 1 s / timeout 3 s',
    heartbeat: { interval: 1, timeout: 3 },
    steadyS: 2,
  },
  moleculer: { lib: 'moleculer', label: 'Moleculer, defaults (heartbeats 10 s / timeout 30 s)', heartbeat: undefined, steadyS: 11 },
} as const satisfies Record<
  string,
  {
    lib: Lib;
    label: string;
    failureWindowMs?: number | undefined;
    heartbeat?: { interval: number; timeout: number } | undefined;
    /**
     * The node-down row's load before the kill, in seconds: over a heartbeat interval, so that the
     * caller has heard the serving node's heartbeats and not only its hello (a Moleculer node that
     * dies before its first heartbeat, 10 s after its start with the defaults, is declared down
     * up to 90 s later).
     */
    steadyS: number;
  }
>;
export type Variant = keyof typeof FAULT_VARIANTS;
export const VARIANTS = Object.keys(FAULT_VARIANTS) as Variant[];

/** The variants of each membership row (the one with Moleculer's defaults takes about a minute a run: --slow-runs). */
export const ROW_VARIANTS: Record<FaultRow, readonly Variant[]> = {
  nodedown: ['weft', 'weft-1s', 'moleculer-1-3', 'moleculer'],
  restart: ['weft', 'moleculer'],
};
/** Variant runs counted by --slow-runs instead of --fault-runs. */
export const SLOW: ReadonlyArray<`${FaultRow}:${Variant}`> = ['nodedown:moleculer'];

/** The payload: 32 ASCII characters (raw NATS sends their 32 bytes; weft and Moleculer `{ v }` with this string). */
export const PAYLOAD = 'weft-cluster-bench-payload-32B!!';

export const SEQ = { warmup: 500, count: 2000 };
export const INFLIGHT = { lanes: 64, warmupS: 0.5, timedS: 2 };
/** Tells: sent for timedS in bursts of `burst` with a setImmediate between them (so the socket gets written). */
export const TELL = { warmup: 2000, timedS: 2, burst: 500, settleS: 10 };
export const POOL = { lanes: 64, warmupS: 0.5, timedS: 2 };
/** Ask, call and request timeout (Moleculer's `requestTimeout` default is 0: none). */
export const TIMEOUT_MS = 30_000;
/**
 * Node down: `lanes` lanes of echo asks for the variant's steadyS; then the lanes stop (their asks
 * answered), `lanes` asks of `hold` go out (the serving side answers them after holdMs: never
 * here), and holdLeadMs later the serving child is killed; those asks are waited for (timeout
 * askTimeoutMs, longer than any detection here: Moleculer's defaults take up to 60 s).
 */
export const NODEDOWN = { lanes: 64, askTimeoutMs: 100_000, holdMs: 300_000, holdLeadMs: 200 };
/**
 * Broker restart: `lanes` lanes of asks (timeout askTimeoutMs; a lane whose ask failed waits
 * errorPauseMs before its next) and one more ask every probeMs whatever the lanes do (new traffic:
 * a lane waiting for an ask that the server lost sends nothing until its timeout) for warmupS;
 * then the parent kills the nats-server, starts it again downS later, and the asks go on until
 * afterS after the first answered one since; then they stop and every ask is waited for.
 */
export const RESTART = { lanes: 16, probeMs: 10, warmupS: 1, downS: 2, afterS: 1, askTimeoutMs: 5000, errorPauseMs: 10 };

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
  /** The membership rows' Moleculer namespace (one broker on each side; nodes `serve-<tag>`, `call-<tag>`). */
  molNamespaceFault: 'benchf',
};

/** The line the calling child of the restart row prints once its lanes are warm: the parent then kills the server. */
export const LOADED_MARK = '@@loaded';
/** What the parent then writes on that child's stdin: `@@restarted {"killAt","exitAt","spawnAt","readyAt"}` (ms since the epoch). */
export const RESTARTED_MARK = '@@restarted';

/** §3.7 of SCALEOUT.md. */
export const TARGETS = {
  inflightVsMoleculer: 2,
  inflightVsRaw: 0.7,
  seqP50OverRawUs: 50,
  tellVsRaw: 0.6,
  poolVsMoleculer: 1,
  /** Node-down detection ≤ failureWindowMs + this. */
  nodeDownOverWindowMs: 1000,
  /** Broker restart: the first answered ask ≤ this after the server is ready again. */
  restartRecoverMs: 3000,
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

/** What the calling child of a membership row (fault.ts) reports for one run. */
export interface FaultResult {
  row: FaultRow;
  variant: Variant;
  lib: Lib;
  version: string;
  /** Times in ms, counts. */
  metrics: Record<string, number>;
  /** Outcomes by code (`ok` for an answer) of groups of asks: `inflight_at_kill`, `while_down` (restart), `all`. */
  outcomes: Record<string, Record<string, number>>;
  info: Record<string, unknown>;
  child_seconds: number;
  child_cpu_s: number;
}
