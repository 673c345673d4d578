/**
 * "Supervision": an actor's lifecycle once it exists on this thread. Owns starting it (`init`,
 * then `onStart`, either may be async), what a failure does (the strategies: resume, stop,
 * escalate, restart within a budget and with backoff), restarting (old `onStop`, children
 * killed, timers cleared, a new incarnation), terminating (queued asks fail, the mailbox closes,
 * `onStop`, the parent and the main thread are told), and the system operations one actor sends
 * another (kill, restart, a child failed, restarted or ended).
 */
import { WeftError } from '../../errors.js';
import type { WireReader, WireWriter } from '../../internal/wire.js';
import * as protocol from '../protocol.js';
import type { ActorRef } from '../ref.js';
import type { LocalRuntime } from '../transport.js';
import * as record from './actor.js';
import type { Entry, LocalActor } from './actor.js';
import type { HostEvents } from './host.js';
import * as messages from './messages.js';
import type { Outbox } from './outbox.js';
import { clearReceiveTimeout } from './context.js';
import type { StartFailures } from './spawn.js';

const {
  EV_TERMINATED,
  SYS_CHILD_ENDED,
  SYS_CHILD_FAILED,
  SYS_CHILD_RESTARTED,
  SYS_KILL,
  SYS_RESTART,
  TERM_FAILED,
  TERM_KILLED,
  TERM_UNDEFINED,
} = protocol;
// Imported values read once into module constants: under tsx (esbuild's CommonJS output) each
// read of an imported binding is a getter call, too slow for the per-message paths.
const { msgOf, prependQueue, RESTARTING, RUNNING, STARTING, STOPPED } = record;
const { describeType, isThenable } = messages;

/** What supervision uses of its host (besides its collaborators, given at construction). */
export interface SupervisedHost {
  readonly host: number;
  /** The actor table (a terminated actor leaves it). */
  readonly actors: Map<number, LocalActor>;
  /** Async inits, hooks and backoff delays running now (counted while they run). */
  busy: number;
  /** Keyed timers pending on this host's actors. */
  timers: number;
  /** Handles the queued messages of `a` (it has just started). */
  run(a: LocalActor): void;
  schedulePump(): void;
  pump(): void;
  /** Settles or sends the reply to `item` if it is an ask. */
  reply(item: Entry, ok: boolean, value: unknown): void;
  /** A message that will not be handled (its ask fails). */
  deadLetter(item: Entry, why: 'stopped' | 'full'): void;
  systemMessage(target: number, op: number, ordered: boolean, body?: (w: WireWriter) => void): void;
}

export interface SupervisorOptions {
  runtime: LocalRuntime;
  outbox: Outbox;
  failures: StartFailures;
  events: HostEvents | undefined;
}

export class Supervisor {
  readonly #host: SupervisedHost;
  readonly #runtime: LocalRuntime;
  readonly #outbox: Outbox;
  readonly #failures: StartFailures;
  readonly #events: HostEvents | undefined;

  constructor(host: SupervisedHost, o: SupervisorOptions) {
    this.#host = host;
    this.#runtime = o.runtime;
    this.#outbox = o.outbox;
    this.#failures = o.failures;
    this.#events = o.events;
  }

  /** Runs `init` and `onStart`, then lets the actor take messages. */
  start(a: LocalActor): void {
    const incarnation = a.incarnation;
    const fail = (err: unknown): void => {
      if (a.incarnation !== incarnation || a.status === STOPPED) return;
      // A failing start is a failure like any other (restart has a budget).
      this.failed(a, err);
    };
    const started = (): void => {
      if (a.incarnation !== incarnation || a.status === STOPPED) return;
      a.status = RUNNING;
      this.#host.run(a);
      this.#host.schedulePump();
    };
    const onStart = (): void => {
      if (a.def.onStart === undefined) return started();
      let r: unknown;
      let thenable: boolean;
      try {
        r = a.def.onStart(a.state, a.ctx as never);
        thenable = isThenable(r);
      } catch (err) {
        return fail(err);
      }
      if (thenable) this.#await(r as PromiseLike<unknown>, started, fail);
      else started();
    };
    let s: unknown;
    let thenable: boolean;
    try {
      s = a.def.init(a.spec.arg as never, a.ctx as never);
      thenable = isThenable(s);
    } catch (err) {
      return fail(err);
    }
    if (thenable) {
      this.#await(
        s as PromiseLike<unknown>,
        (v) => {
          if (a.incarnation !== incarnation) return;
          a.state = v;
          onStart();
        },
        fail,
      );
    } else {
      a.state = s;
      onStart();
    }
  }

  #await(p: PromiseLike<unknown>, ok: (v: unknown) => void, fail: (e: unknown) => void): void {
    const host = this.#host;
    host.busy++;
    Promise.resolve(p).then(
      (v) => {
        host.busy--;
        ok(v);
      },
      (e: unknown) => {
        host.busy--;
        fail(e);
      },
    );
  }

  /** `a` failed (a handler threw or rejected, or its start failed): applies its strategy. */
  failed(a: LocalActor, err: unknown): void {
    if (a.status === STOPPED) return;
    const sup = a.sup;
    switch (sup.strategy) {
      case 'resume':
        if (a.status !== RUNNING) this.terminate(a, TERM_FAILED, err); // failed while starting
        return;
      case 'stop':
        this.terminate(a, TERM_FAILED, err);
        return;
      case 'escalate':
        this.#escalate(a, err);
        return;
      case 'restart': {
        const now = performance.now();
        a.restarts = a.restarts.filter((t) => now - t < sup.withinMs);
        if (a.restarts.length >= sup.maxRestarts) {
          this.#escalate(a, err);
          return;
        }
        a.restarts.push(now);
        const n = a.restarts.length;
        let delay = sup.minMs > 0 ? Math.min(sup.maxMs, sup.minMs * 2 ** (n - 1)) : 0;
        if (delay > 0 && sup.jitter > 0) delay = Math.max(0, delay * (1 + sup.jitter * (2 * Math.random() - 1)));
        this.#restart(a, delay, false);
        return;
      }
    }
  }

  /** Stops `a` with a failure and hands the failure to its parent (or reports it). */
  #escalate(a: LocalActor, err: unknown): void {
    const parent = a.spec.parent;
    this.terminate(a, TERM_FAILED, err);
    if (parent !== null) {
      const id = a.id;
      this.#host.systemMessage(parent.id, SYS_CHILD_FAILED, false, (w) => {
        w.u32(id);
        try {
          w.value(err);
        } catch {
          w.value(new Error(String((err as Error)?.message ?? err)));
        }
      });
    }
  }

  /** Old `onStop`, children stopped, timers cleared, then (after `delay`) `init` and `onStart`. */
  #restart(a: LocalActor, delay: number, fromParent: boolean): void {
    a.status = RESTARTING;
    a.incarnation++;
    if (a.busy) {
      a.busy = false;
    }
    // An async handler still running belongs to the old incarnation: its result still answers
    // its ask (its replyLater() handle stays valid), but it no longer holds the actor.
    a.current = undefined;
    a.taken = undefined;
    a.stopAfter = false;
    // The definition's behaviour again, and the stash back in front of the queue (as Akka).
    a.handlers = a.initialHandlers;
    const stash = a.stash;
    if (stash !== undefined) {
      a.stash = undefined;
      prependQueue(a, stash);
    }
    this.#clearTimers(a);
    this.#stopChildren(a);
    this.#runtime.countRestart(a.id);
    const parent = a.spec.parent;
    if (!fromParent && parent !== null && a.spec.siblings === 'all-for-one') {
      const id = a.id;
      this.#host.systemMessage(parent.id, SYS_CHILD_RESTARTED, false, (w) => w.u32(id));
    }
    const incarnation = a.incarnation;
    const begin = (): void => {
      if (a.incarnation !== incarnation || a.status === STOPPED) return;
      if (delay > 0) {
        this.#host.busy++;
        setTimeout(() => {
          this.#host.busy--;
          if (a.incarnation !== incarnation || a.status === STOPPED) return;
          a.status = STARTING;
          this.start(a);
          this.#host.pump();
        }, delay);
      } else {
        a.status = STARTING;
        this.start(a);
      }
    };
    this.#runStopHook(a, begin);
  }

  #runStopHook(a: LocalActor, then: () => void): void {
    const hook = a.def.onStop;
    if (hook === undefined || a.state === undefined) return then();
    let r: unknown;
    try {
      r = hook(a.state, a.ctx as never);
    } catch {
      return then(); // onStop failing must not block the restart or stop
    }
    let thenable = false;
    try {
      thenable = isThenable(r);
    } catch {
      // onStop's result cannot be awaited: it failing must not block the restart or stop either.
    }
    if (thenable) this.#await(r as PromiseLike<unknown>, then, then);
    else then();
  }

  /** Keyed timers and the receive timeout (cancelled on restart and stop, as in Akka). */
  #clearTimers(a: LocalActor): void {
    for (const t of a.timers.values()) clearTimeout(t);
    this.#host.timers -= a.timers.size;
    a.timers.clear();
    clearReceiveTimeout(this.#host, a);
  }

  #stopChildren(a: LocalActor): void {
    for (const [id] of a.children) this.#host.systemMessage(id, SYS_KILL, false);
    a.children.clear();
  }

  /** Ends `a`: stops its children, runs `onStop`, frees its mailbox (the rest are dead letters). */
  terminate(a: LocalActor, reason: number, error: unknown): void {
    if (a.status === STOPPED) return;
    const host = this.#host;
    const wasStarted = a.status === RUNNING || a.status === RESTARTING;
    a.status = STOPPED;
    a.incarnation++;
    this.#clearTimers(a);
    this.#stopChildren(a);
    host.actors.delete(a.id);
    // An async handler still running when the actor ends (killed, or stopped by a failure): its
    // ask fails now rather than never (a later settlement of the handler is ignored, the ask being
    // settled already).
    if (a.current !== undefined) {
      const item = a.current;
      a.current = undefined;
      // Stashed, or answered through replyLater(): below.
      if (a.taken === undefined)
        host.reply(item, false, new WeftError('WEFT_ACTOR_STOPPED', `actor ${a.id} stopped while handling ${describeType(msgOf(item))}`));
    }
    a.taken = undefined;
    // replyLater() handles nobody answered: their asks fail now rather than at their timeouts.
    const deferred = a.deferred;
    if (deferred !== undefined) {
      a.deferred = undefined;
      for (const d of deferred) d.abandon(new WeftError('WEFT_ACTOR_STOPPED', `actor ${a.id} stopped before answering (ctx.replyLater)`));
    }
    // Stashed messages and those still in the JavaScript queue: asks among them fail.
    const stash = a.stash;
    a.stash = undefined;
    if (stash !== undefined) for (const item of stash) host.deadLetter(item, 'stopped');
    for (let i = a.head; i < a.queue.length; i++) host.deadLetter(a.queue[i]!, 'stopped');
    a.queue = [];
    a.head = 0;
    for (const w of a.roomWaiters) {
      host.deadLetter(w.item, 'stopped');
      w.resolve();
    }
    a.roomWaiters = [];
    this.#runtime.remove(a.id);
    const finish = (): void => this.terminatedEvent(a.id, reason, error, a.spec.parent);
    if (wasStarted) this.#runStopHook(a, finish);
    else finish();
  }

  /** Tells the parent (if any) and the main thread's system that actor `id` ended. */
  terminatedEvent(id: number, reason: number, error: unknown, parent: ActorRef | null): void {
    if (parent !== null) this.#host.systemMessage(parent.id, SYS_CHILD_ENDED, false, (w) => w.u32(id));
    if (this.#host.host === 0) {
      if (reason === TERM_UNDEFINED) this.#failures.record(id, error);
      this.#events?.terminated(id, reason, error);
      return;
    }
    this.#outbox.event(EV_TERMINATED, id, (w) => {
      w.u8(reason);
      try {
        w.value(error);
      } catch {
        w.value(new Error(String((error as Error)?.message ?? error)));
      }
    });
  }

  /** A system operation for a local actor; `r` is at its fields. */
  systemOp(a: LocalActor, op: number, r: WireReader): void {
    switch (op) {
      case SYS_KILL:
        this.terminate(a, TERM_KILLED, undefined);
        return;
      case SYS_RESTART:
        if (a.status !== STOPPED) this.#restart(a, 0, true);
        return;
      case SYS_CHILD_FAILED: {
        const child = r.u32();
        const error = r.value();
        a.children.delete(child);
        if (a.status !== STOPPED) {
          this.failed(
            a,
            new WeftError(
              'WEFT_ACTOR_STOPPED',
              `child actor ${child} failed and escalated: ${(error as Error)?.message ?? String(error)}`,
              { cause: error },
            ),
          );
        }
        return;
      }
      case SYS_CHILD_RESTARTED: {
        const child = r.u32();
        if (a.sup.children === 'all-for-one' && a.status !== STOPPED) {
          for (const [id] of a.children) if (id !== child) this.#host.systemMessage(id, SYS_RESTART, false);
        }
        return;
      }
      case SYS_CHILD_ENDED:
        a.children.delete(r.u32());
        return;
      default:
        return;
    }
  }
}
