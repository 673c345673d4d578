/**
 * "Spawning": how an actor comes to exist. Owns the checks of spawn options (read once into a
 * snapshot; mailbox bounds, supervision settings, placement), the START record (encoded before
 * the actor exists, so an argument that cannot be copied fails at the call site), creating the
 * actor in the local runtime, instantiating it on its own thread (its record and `ctx`), the
 * failure of a START whose definition is not loaded on its thread, and (main thread) why such
 * actors failed to start (`StartFailures`). Running `init` and `onStart` is supervisor.ts's.
 */
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { InvalidArgumentError, WeftError } from '../../errors.js';
import { describe } from '../../internal/describe.js';
import { checkOptionNames } from '../../internal/options.js';
import { WireWriter } from '../../internal/wire.js';
import { checkSupervisionNames, definitionSite, describeDefinition, shapeOf } from '../define.js';
import * as protocol from '../protocol.js';
import { ActorRef, typeRef } from '../ref.js';
import type { LocalRuntime } from '../transport.js';
import {
  MAILBOX_OPTIONS,
  SPAWN_OPTIONS,
  type AnyActorDefinition,
  type MailboxOptions,
  type Placement,
  type SpawnOptions,
  type SupervisionOptions,
} from '../types.js';
import { LocalActor, type Bound, type RuntimeDef, type StartSpec, type Supervision } from './actor.js';
import { contextOf, type ContextHost } from './context.js';
import type { HostEvents } from './host.js';
import type { Outbox } from './outbox.js';
import type { Supervisor } from './supervisor.js';

const { ENV_SYSTEM, EV_SPAWNED, OVERFLOW_CODES, SYS_START, TERM_UNDEFINED } = protocol;

const EMPTY_U8 = new Uint8Array(0);

export function supervisionOf(o: SupervisionOptions | undefined, fallback: SupervisionOptions | undefined): Supervision {
  const s = { ...fallback, ...o };
  const b = { ...fallback?.backoff, ...o?.backoff };
  const strategy = s.strategy ?? 'restart';
  if (!['restart', 'stop', 'resume', 'escalate'].includes(strategy))
    throw new InvalidArgumentError(`unknown supervision strategy ${describe(strategy)}`);
  const num = (v: number | undefined, d: number, what: string): number => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !(v >= 0)) throw new InvalidArgumentError(`supervision ${what} must be a number >= 0, got ${describe(v)}`);
    return v;
  };
  const children = s.children ?? 'one-for-one';
  if (children !== 'one-for-one' && children !== 'all-for-one')
    throw new InvalidArgumentError(`supervision children must be 'one-for-one' or 'all-for-one'`);
  return {
    strategy,
    maxRestarts: num(s.maxRestarts, 3, 'maxRestarts'),
    withinMs: num(s.withinMs, 5000, 'withinMs'),
    minMs: num(b.minMs, 0, 'backoff.minMs'),
    maxMs: num(b.maxMs, 30_000, 'backoff.maxMs'),
    jitter: num(b.jitter, 0.2, 'backoff.jitter'),
    children,
  };
}

const SPAWN_OPTION_SET: ReadonlySet<string> = new Set(SPAWN_OPTIONS);
const MAILBOX_OPTION_SET: ReadonlySet<string> = new Set(MAILBOX_OPTIONS);

/** Whether `def` is a definition made by defineActor (any copy of weft); false for a Proxy whose traps throw. */
function isDefinition(def: unknown): boolean {
  try {
    return def !== null && typeof def === 'object' && (def as { kind?: unknown }).kind === 'weft:actor';
  } catch {
    return false;
  }
}

/**
 * Unknown names in spawn options (or in its `mailbox`, `supervision`, `supervision.backoff`) throw
 * `WEFT_INVALID_ARG`. Returns a snapshot: each option (and nested option) read once.
 */
function checkSpawnOptionNames(given: SpawnOptions): SpawnOptions {
  const o = checkOptionNames(given, SPAWN_OPTION_SET, 'spawn options');
  const m: unknown = o.mailbox;
  const mailbox =
    m !== null && typeof m === 'object' ? checkOptionNames(m as MailboxOptions, MAILBOX_OPTION_SET, 'spawn options.mailbox') : o.mailbox;
  const supervision = checkSupervisionNames(o.supervision, 'spawn options.supervision');
  return { ...o, ...(mailbox !== undefined ? { mailbox } : {}), ...(supervision !== undefined ? { supervision } : {}) };
}

/**
 * The largest bounded mailbox: its slots are allocated when the actor starts (a capacity of 2^31
 * made the process abort allocating 48 GB). For more, use an unbounded mailbox.
 */
export const MAX_MAILBOX_CAPACITY = 1 << 20;

export function boundOf(m: MailboxOptions | undefined): Bound | undefined {
  if (m === undefined) return undefined;
  if (m === null || typeof m !== 'object') throw new InvalidArgumentError('mailbox must be an object');
  const overflow = m.overflow ?? 'reject';
  // Own names only: 'constructor' or 'toString' are not policies.
  if (typeof overflow !== 'string' || !Object.hasOwn(OVERFLOW_CODES, overflow)) {
    throw new InvalidArgumentError(
      `unknown mailbox overflow policy ${describe(overflow)} (policies: ${Object.keys(OVERFLOW_CODES).join(', ')})`,
    );
  }
  if (m.capacity === undefined) {
    if (m.overflow !== undefined) throw new InvalidArgumentError('a mailbox overflow policy needs a capacity');
    return undefined;
  }
  if (!Number.isInteger(m.capacity) || m.capacity < 1 || m.capacity > MAX_MAILBOX_CAPACITY) {
    throw new InvalidArgumentError(`mailbox capacity must be an integer from 1 to ${MAX_MAILBOX_CAPACITY}, got ${describe(m.capacity)}`);
  }
  return { capacity: m.capacity, overflow };
}

/** Main thread: why actors failed to start (their definition was not found), by id; the last 1,024. */
export class StartFailures {
  readonly #texts = new Map<number, string>();

  get size(): number {
    return this.#texts.size;
  }

  record(id: number, error: unknown): void {
    const text = (error as Error | null)?.message;
    this.#texts.set(id, typeof text === 'string' ? text : String(error));
    if (this.#texts.size > 1024) this.#texts.delete(this.#texts.keys().next().value!);
  }

  /** The error for using a ref of an actor that failed to start (undefined: it did not). */
  errorFor(id: number): InvalidArgumentError | undefined {
    const text = this.#texts.get(id);
    return text === undefined ? undefined : new InvalidArgumentError(text);
  }
}

/** What spawning uses of its host (besides its collaborators, given at construction). */
export interface SpawnHost extends ContextHost {
  readonly system: number;
  readonly process: number;
  readonly host: number;
  readonly closed: boolean;
  /** The actor table. */
  readonly actors: Map<number, LocalActor>;
}

export interface SpawnerOptions {
  runtime: LocalRuntime;
  outbox: Outbox;
  supervisor: Supervisor;
  /** How many pool workers the system has (hosts 1..workers). */
  workers: number;
  events: HostEvents | undefined;
  pickWorker: (() => number) | undefined;
}

export class Spawner {
  readonly #host: SpawnHost;
  readonly #runtime: LocalRuntime;
  readonly #outbox: Outbox;
  readonly #supervisor: Supervisor;
  readonly #workers: number;
  readonly #events: HostEvents | undefined;
  readonly #pickWorker: (() => number) | undefined;
  readonly #writer = new WireWriter(1024);
  #turn = 0;

  constructor(host: SpawnHost, o: SpawnerOptions) {
    this.#host = host;
    this.#runtime = o.runtime;
    this.#outbox = o.outbox;
    this.#supervisor = o.supervisor;
    this.#workers = o.workers;
    this.#events = o.events;
    this.#pickWorker = o.pickWorker;
  }

  /** Spawns an actor (from user code on this thread, or from `ctx.spawn` with a parent). */
  spawn(anyDef: AnyActorDefinition, arg: unknown, options: SpawnOptions | undefined, parent: LocalActor | undefined): ActorRef {
    const def = anyDef as RuntimeDef;
    const self = this.#host;
    if (self.closed) throw new WeftError('WEFT_CLOSED', 'the actor system is shut down');
    if (!isDefinition(def)) throw new InvalidArgumentError('spawn expects a definition made by defineActor');
    const given = options ?? {};
    if (given === null || typeof given !== 'object') throw new InvalidArgumentError('spawn options must be an object');
    const o = checkSpawnOptionNames(given);
    const bound = boundOf(o.mailbox);
    // Validate now, so a bad option fails at the call site rather than on another thread.
    supervisionOf(o.supervision, def.supervision);
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) {
      throw new InvalidArgumentError('an actor name must be a non-empty string');
    }
    const host = this.#placement(o.on);
    const spec: StartSpec = {
      key: def.key,
      shape: shapeOf(def),
      arg,
      name: o.name ?? null,
      supervision: o.supervision ?? null,
      parent: parent?.ref ?? null,
      siblings: parent?.sup.children ?? 'one-for-one',
      bound: bound ?? null,
      at: definitionSite(def) ?? null,
    };
    // Encode first: an argument that cannot be cloned fails here, before the actor exists. The
    // main thread keeps the START record of every actor on a worker, to start it elsewhere if
    // that worker dies.
    const start = host !== 0 || host !== self.host ? this.#startEnvelope(spec) : EMPTY_U8;
    const id = this.#runtime.create(host, bound?.capacity ?? 0, bound ? OVERFLOW_CODES[bound.overflow] : 0, o.name ?? null);
    const ref = typeRef(new ActorRef(self.system, self.process, id, bound !== undefined, bound?.overflow === 'wait'), def);
    if (parent !== undefined) parent.children.set(id, ref);
    if (self.host === 0) this.#events?.spawned(id, host, parent?.id ?? 0, start);
    else
      this.#outbox.event(EV_SPAWNED, id, (w) => {
        w.u32(host);
        w.u32(parent?.id ?? 0);
        w.u32(start.length);
        w.bytes(start);
      });
    if (host === self.host) this.instantiate(id, ref, def, spec, false);
    else this.#outbox.start(id, start);
    return ref;
  }

  #placement(on: Placement | undefined): number {
    const where = on ?? (this.#workers > 0 ? 'worker' : 'main');
    if (where === 'main') return 0;
    if (this.#workers === 0) {
      throw new InvalidArgumentError(`cannot place an actor on a worker: this actor system has no pool (new ActorSystem({ pool }))`);
    }
    if (where === 'worker') {
      if (this.#pickWorker !== undefined) return 1 + this.#pickWorker();
      return 1 + (this.#turn++ % this.#workers);
    }
    if (typeof where === 'number' && Number.isInteger(where) && where >= 0 && where < this.#workers) return 1 + where;
    throw new InvalidArgumentError(`on must be 'main', 'worker' or a worker index from 0 to ${this.#workers - 1}, got ${describe(on)}`);
  }

  #startEnvelope(spec: StartSpec): Uint8Array {
    const w = this.#writer;
    w.reset();
    w.u8(ENV_SYSTEM);
    w.u8(SYS_START);
    w.u8(0); // not moved
    w.value(spec);
    return w.view().slice();
  }

  /** The actor's record on this thread, then `init` and `onStart`. `viaMailbox`: moved here. */
  instantiate(id: number, ref: ActorRef, def: RuntimeDef, spec: StartSpec, viaMailbox: boolean): LocalActor {
    const a = new LocalActor(id, ref, def, spec, supervisionOf(spec.supervision ?? undefined, def.supervision), viaMailbox);
    a.ctx = contextOf(this.#host, a);
    this.#host.actors.set(id, a);
    this.#supervisor.start(a);
    return a;
  }

  /** A START for a definition that is not loaded on this thread: the actor fails, saying why. */
  terminateUnknown(id: number, spec: StartSpec): void {
    const host = this.#host.host;
    const actor = `actor ${id}${spec.name !== null ? ` (${JSON.stringify(spec.name)})` : ''}`;
    const def = describeDefinition(spec.key, spec.shape, spec.at);
    let err: InvalidArgumentError;
    if (host === 0) {
      err = new InvalidArgumentError(
        `cannot start ${actor} on the main thread: ${def} is not loaded there. Import the module that defines it in the main program.`,
      );
    } else {
      let module = (workerData as { module?: unknown } | null)?.module;
      if (typeof module === 'string' && module.startsWith('file:')) {
        try {
          module = fileURLToPath(module);
        } catch {
          // keep the URL
        }
      }
      err = new InvalidArgumentError(
        `cannot start ${actor} on pool worker ${host - 1}: ${def} is not loaded there. ` +
          `Workers know only the actors defined in the pool's task module${typeof module === 'string' ? ` (${module})` : ''} or in a module it imports: ` +
          `define it there, and import it from there in the main program.` +
          (spec.key.startsWith('~')
            ? ' (Unnamed definitions are found by the source text of their functions; a `name` makes them independent of it.)'
            : ''),
      );
    }
    // The failure goes out before the mailbox closes, so that the main thread knows why before
    // the asks queued there fail.
    this.#supervisor.terminatedEvent(id, TERM_UNDEFINED, err, spec.parent);
    this.#outbox.flush();
    this.#runtime.remove(id);
  }
}
