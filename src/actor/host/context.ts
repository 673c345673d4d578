/**
 * The `ctx` an actor's `init`, hooks and handlers get: its own ref and its parent's, spawning
 * children, stopping itself, keyed timers (which send the actor a message later), replacing its
 * state, looking up names. One per actor, made when the actor is instantiated (spawn.ts).
 */
import { InvalidArgumentError, WeftError } from '../../errors.js';
import { describe } from '../../internal/describe.js';
import { type HandlerFn, unhandledText } from '../define.js';
import type { ActorRef } from '../ref.js';
import type { ActorContext, AnyActorDefinition, SpawnOptions } from '../types.js';
import * as record from './actor.js';
import type { Entry, LocalActor } from './actor.js';
import { DeferredReply, type ReplySink } from './deferred.js';
import * as messages from './messages.js';

// Imported values read once into module constants: under tsx (esbuild's CommonJS output) each
// read of an imported binding is a getter call, too slow for the per-message paths.
const { RUNNING, STOP_ITEM, STOPPED } = record;
/** The stash of an actor without a mailbox bound holds at most this many messages. */
export const MAX_STASH = 1 << 20;

/** The message a handler of `a` is handling now: in its synchronous part, or after an await. */
function handled(a: LocalActor, what: string): Entry {
  if (a.handling !== undefined) return a.handling;
  if (a.busy && a.current !== undefined) return a.current;
  throw new InvalidArgumentError(
    `ctx.${what}() is only valid while a handler runs (not in init, onStart or onStop, nor in a callback after the handler returned)`,
  );
}

/** Checks a message the actor will send itself (a timer's, a receive timeout's) where the mistake is. */
function checkOwnMessage(a: LocalActor, msg: unknown, what: string): void {
  const type = typeOf(msg);
  if (typeof type !== 'string' || !a.initialHandlers.has(type)) {
    const hint = typeof msg === 'function' ? ' (it takes a message that the actor sends itself, not a callback)' : '';
    throw new InvalidArgumentError(`${what}${hint}: ${unhandledText(a.id, a.def, msg)}`);
  }
}

/** Stops `a`'s receive timeout, if it has one. */
export function clearReceiveTimeout(host: { timers: number }, a: LocalActor): void {
  const rt = a.receiveTimeout;
  if (rt === undefined) return;
  clearTimeout(rt.timer);
  a.receiveTimeout = undefined;
  host.timers--;
}
const { typeOf } = messages;

/** What a context uses of its host. */
export interface ContextHost extends ReplySink {
  /** Puts stashed messages back at the front of `a`'s queue. */
  unstash(a: LocalActor, items: Entry[]): void;
  spawn(def: AnyActorDefinition, arg: unknown, options: SpawnOptions | undefined, parent: LocalActor | undefined): ActorRef;
  lookup(name: string): ActorRef | undefined;
  /** Same-thread delivery into an actor's JavaScript queue (`internal`: past its bound). */
  enqueue(a: LocalActor, item: Entry, internal: boolean): void | Promise<void>;
  /** Keyed timers pending on this host's actors. */
  timers: number;
}

export function contextOf(host: ContextHost, a: LocalActor): ActorContext {
  return {
    get self() {
      return a.ref as never;
    },
    get parent() {
      return a.spec.parent ?? undefined;
    },
    spawn(def, arg, options) {
      if (a.status === STOPPED) throw new WeftError('WEFT_ACTOR_STOPPED', 'this actor has stopped');
      return host.spawn(def as AnyActorDefinition, arg, options, a) as never;
    },
    stop() {
      a.stopAfter = true;
      if (!a.busy && a.status === RUNNING) host.enqueue(a, STOP_ITEM, true);
    },
    schedule(key, delayMs, msg) {
      if (typeof key !== 'string') throw new InvalidArgumentError('a timer key must be a string');
      if (typeof delayMs !== 'number' || !(delayMs >= 0))
        throw new InvalidArgumentError(`delayMs must be a number >= 0, got ${describe(delayMs)}`);
      // The timer sends `msg` to this actor later: check it now, where the mistake is.
      checkOwnMessage(a, msg, 'ctx.schedule');
      if (a.status === STOPPED) return;
      const old = a.timers.get(key);
      if (old !== undefined) clearTimeout(old);
      else host.timers++;
      const incarnation = a.incarnation;
      const t = setTimeout(() => {
        if (a.timers.get(key) === t) {
          a.timers.delete(key);
          host.timers--;
        }
        if (a.status === STOPPED || a.incarnation !== incarnation) return;
        host.enqueue(a, msg, true);
      }, delayMs);
      // Timers do not keep the process alive by themselves.
      t.unref();
      a.timers.set(key, t);
    },
    cancel(key) {
      const t = a.timers.get(key);
      if (t === undefined) return false;
      clearTimeout(t);
      a.timers.delete(key);
      host.timers--;
      return true;
    },
    setState(next) {
      a.state = next;
    },
    lookup(name) {
      return host.lookup(name) as never;
    },
    replyLater() {
      const item = handled(a, 'replyLater');
      const taken = a.taken;
      if (taken === 'stashed')
        throw new InvalidArgumentError('ctx.replyLater(): this message was stashed (it is answered when it is handled again)');
      if (taken !== undefined) return taken as never;
      const d = new DeferredReply(host, a, item);
      a.taken = d;
      return d as never;
    },
    become(handlers) {
      if (handlers === null || typeof handlers !== 'object')
        throw new InvalidArgumentError(`ctx.become expects an object of handlers, got ${describe(handlers)}`);
      const next = new Map<string, HandlerFn>();
      for (const k of Object.keys(handlers)) {
        const f = (handlers as Record<string, unknown>)[k];
        if (f === undefined) continue;
        if (!a.initialHandlers.has(k)) {
          const names = [...a.initialHandlers.keys()].map((n) => JSON.stringify(n)).join(', ') || '(none)';
          throw new InvalidArgumentError(
            `ctx.become: ${JSON.stringify(k)} is not a message type of this actor's definition (senders check messages against it); it has ${names}`,
          );
        }
        if (typeof f !== 'function')
          throw new InvalidArgumentError(`ctx.become: the handler ${JSON.stringify(k)} is ${describe(f)}, not a function`);
        next.set(k, f as HandlerFn);
      }
      a.handlers = next;
    },
    unbecome() {
      a.handlers = a.initialHandlers;
    },
    stash() {
      const item = handled(a, 'stash');
      const taken = a.taken;
      if (taken === 'stashed') return;
      if (taken !== undefined) throw new InvalidArgumentError('ctx.stash(): replyLater() was called for this message');
      const stash = (a.stash ??= []);
      const cap = a.spec.bound?.capacity ?? MAX_STASH;
      if (stash.length >= cap) {
        throw new WeftError(
          'WEFT_MAILBOX_FULL',
          `the stash of actor ${a.id} is full (${cap} messages${a.spec.bound !== null ? ', its mailbox capacity' : ''})`,
        );
      }
      stash.push(item);
      a.taken = 'stashed';
    },
    unstashAll() {
      const stash = a.stash;
      if (stash === undefined || stash.length === 0) return 0;
      a.stash = undefined;
      host.unstash(a, stash);
      return stash.length;
    },
    get stashed() {
      return a.stash?.length ?? 0;
    },
    setReceiveTimeout(ms, msg) {
      if (ms === null) {
        clearReceiveTimeout(host, a);
        return;
      }
      if (typeof ms !== 'number' || !(ms > 0) || !Number.isFinite(ms))
        throw new InvalidArgumentError(`ctx.setReceiveTimeout: ms must be a finite number > 0 (or null), got ${describe(ms)}`);
      checkOwnMessage(a, msg, 'ctx.setReceiveTimeout');
      if (a.status === STOPPED) return;
      clearReceiveTimeout(host, a);
      host.timers++;
      a.lastActive = performance.now();
      const arm = (delay: number): NodeJS.Timeout => {
        const t = setTimeout(fire, delay);
        // Like keyed timers, it does not keep the process alive by itself.
        t.unref();
        return t;
      };
      const fire = (): void => {
        if (a.receiveTimeout !== rt || a.status === STOPPED) return;
        const idle = performance.now() - a.lastActive;
        if (a.busy || a.depth > 0 || a.handling !== undefined) {
          rt.timer = arm(ms);
        } else if (idle < ms) {
          rt.timer = arm(Math.max(1, ms - idle));
        } else {
          a.lastActive = performance.now();
          rt.timer = arm(ms);
          host.enqueue(a, msg, true);
        }
      };
      const rt = { ms, msg, timer: arm(ms) };
      a.receiveTimeout = rt;
    },
  } as ActorContext;
}
