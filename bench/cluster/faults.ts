/**
 * The adapters of the membership rows (node down, broker restart), one per library and side, for
 * a variant of FAULT_VARIANTS (weft's `failureWindowMs`, Moleculer's heartbeats): the serving side
 * hosts the echo alone (weft: `spawn(Echo, undefined, { name: 'echo-<tag>', restart: 'none' })` on
 * node `serve-<tag>`; Moleculer: one broker, nodeID `serve-<tag>`, service `echo` with actions
 * `echo` and `hold`); the calling side
 * asks it with a timeout and says when the serving node is declared down (weft: `nodeDown`;
 * Moleculer: `$node.disconnected` on its local bus). `<tag>` is new in every run, so that no run
 * meets another's placements or nodes.
 */
import { PAYLOAD, NAMES, TIMEOUT_MS, FAULT_VARIANTS, type Variant } from './params.js';
import { versionOf, type ServeSide } from './adapters.js';

/** The cluster of the membership rows (its own placement bucket). */
const FAULT_CLUSTER = 'benchf';

export const serveName = (tag: string): string => `serve-${tag}`;
const callName = (tag: string): string => `call-${tag}`;
const actorName = (tag: string): string => `echo-${tag}`;

export interface DownInfo {
  /** weft: how long the node had been silent; Moleculer: its `unexpected` flag. */
  [key: string]: unknown;
}

export interface FaultCallSide {
  version: string;
  setup: string;
  /** Resolves once the serving node is a member and has answered an ask. */
  ready(): Promise<void>;
  ask(timeoutMs: number): Promise<unknown>;
  checkReply(reply: unknown): boolean;
  /** An ask that the serving side answers `ms` later (weft: the actor's `hold`, which holds its mailbox too; Moleculer: action `hold`). */
  hold(ms: number, timeoutMs: number): Promise<unknown>;
  /** `cb` once the serving node is declared down. */
  onDown(cb: (info: DownInfo) => void): void;
  /** weft: asks in flight by the node they go to (stats()); the others: undefined. */
  inFlightByNode(): Record<string, number> | undefined;
  close(): Promise<void>;
}

/** An error's code for the outcome counts: weft's `code` (WEFT_...), else the class name (Moleculer's RequestTimeoutError...). */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'non-Error';
}

export function faultServeSide(variant: Variant, url: string, tag: string): Promise<ServeSide> {
  return FAULT_VARIANTS[variant].lib === 'weft' ? weftServe(variant, url, tag) : moleculerServe(variant, url, tag);
}

export function faultCallSide(variant: Variant, url: string, tag: string): Promise<FaultCallSide> {
  return FAULT_VARIANTS[variant].lib === 'weft' ? weftCall(variant, url, tag) : moleculerCall(variant, url, tag);
}

// ---------------------------------------------------------------------------------------------
// weft

function weftOptions(variant: Variant, url: string, name: string) {
  const v = FAULT_VARIANTS[variant];
  const window = 'failureWindowMs' in v ? v.failureWindowMs : undefined;
  return {
    options: { servers: url, cluster: FAULT_CLUSTER, name, ...(window === undefined ? {} : { failureWindowMs: window }) },
    text: `connect({ cluster: '${FAULT_CLUSTER}', name: '${name}'${window === undefined ? '' : `, failureWindowMs: ${window}`} })`,
  };
}

async function weftServe(variant: Variant, url: string, tag: string): Promise<ServeSide> {
  const { connect } = await import('../../src/cluster/index.js');
  const { Echo } = await import('./actors.js');
  const o = weftOptions(variant, url, serveName(tag));
  const node = await connect(o.options);
  node.register({ Echo });
  await node.spawn(Echo, undefined, { name: actorName(tag), restart: 'none' });
  return {
    setup: `${o.text}; spawn(Echo, undefined, { name: '${actorName(tag)}', restart: 'none' }) on the main thread`,
    close: () => node.drain(),
  };
}

async function weftCall(variant: Variant, url: string, tag: string): Promise<FaultCallSide> {
  const { connect } = await import('../../src/cluster/index.js');
  const { Echo } = await import('./actors.js');
  const o = weftOptions(variant, url, callName(tag));
  const node = await connect(o.options);
  const ref = node.ref<typeof Echo>(actorName(tag));
  const msg = { type: 'echo', v: PAYLOAD } as const;
  const serve = serveName(tag);
  return {
    version: versionOf('weft'),
    setup: `${o.text}; node.ref('${actorName(tag)}').ask({ type: 'echo', v }, { timeout }); node.on('nodeDown', ...)`,
    async ready() {
      const until = Date.now() + 15_000;
      while (!node.members().some((m) => m.name === serve)) {
        if (Date.now() > until) throw new Error(`weft: node ${serve} is not a member after 15 s: ${JSON.stringify(node.members())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await ref.ask(msg, { timeout: 15_000 });
      if (r !== PAYLOAD) throw new Error(`weft: the reply is not the payload: ${String(r).slice(0, 80)}`);
    },
    ask: (timeout) => ref.ask(msg, { timeout }),
    checkReply: (r) => r === PAYLOAD,
    hold: (ms, timeout) => ref.ask({ type: 'hold', ms }, { timeout }),
    onDown(cb) {
      node.on('nodeDown', (name, info) => {
        if (name === serve) cb({ ...info });
      });
    },
    inFlightByNode: () => node.stats().asksInFlight,
    close: () => node.drain(),
  };
}

// ---------------------------------------------------------------------------------------------
// Moleculer 0.14

async function broker(variant: Variant, url: string, nodeID: string): Promise<{ broker: import('moleculer').ServiceBroker; text: string }> {
  const { ServiceBroker } = await import('moleculer');
  const v = FAULT_VARIANTS[variant];
  const hb = 'heartbeat' in v ? v.heartbeat : undefined;
  return {
    broker: new ServiceBroker({
      namespace: NAMES.molNamespaceFault,
      nodeID,
      transporter: { type: 'NATS', options: { url } },
      logger: false,
      requestTimeout: TIMEOUT_MS,
      ...(hb === undefined ? {} : { heartbeatInterval: hb.interval, heartbeatTimeout: hb.timeout }),
    }),
    text: `ServiceBroker({ namespace: '${NAMES.molNamespaceFault}', nodeID: '${nodeID}', transporter NATS${hb === undefined ? ' (heartbeatInterval 10, heartbeatTimeout 30: the defaults)' : `, heartbeatInterval: ${hb.interval}, heartbeatTimeout: ${hb.timeout}`} })`,
  };
}

async function moleculerServe(variant: Variant, url: string, tag: string): Promise<ServeSide> {
  const { broker: b, text } = await broker(variant, url, serveName(tag));
  b.createService({
    name: 'echo',
    actions: {
      echo: (ctx) => (ctx.params as { v: unknown }).v,
      hold: async (ctx) => {
        const { ms } = ctx.params as { ms: number };
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      },
    },
  });
  await b.start();
  return { setup: `${text}; service echo with actions echo and hold (answers after ms)`, close: () => b.stop() };
}

async function moleculerCall(variant: Variant, url: string, tag: string): Promise<FaultCallSide> {
  const { broker: b, text } = await broker(variant, url, callName(tag));
  await b.start();
  const serve = serveName(tag);
  const params = { v: PAYLOAD };
  return {
    version: versionOf('moleculer'),
    setup: `${text}; broker.call('echo.echo', { v }, { timeout }); broker.localBus.on('$node.disconnected', ...)`,
    async ready() {
      await b.waitForServices('echo', 15_000);
      const r = await b.call('echo.echo', params, { timeout: 15_000 });
      if (r !== PAYLOAD) throw new Error(`moleculer: the reply is not the payload: ${String(r).slice(0, 80)}`);
    },
    ask: (timeout) => b.call('echo.echo', params, { timeout }),
    checkReply: (r) => r === PAYLOAD,
    hold: (ms, timeout) => b.call('echo.hold', { ms }, { timeout }),
    onDown(cb) {
      b.localBus.on('$node.disconnected', (p: { node: { id: string }; unexpected: boolean }) => {
        if (p.node.id === serve) cb({ unexpected: p.unexpected });
      });
    },
    inFlightByNode: () => undefined,
    close: () => b.stop(),
  };
}
