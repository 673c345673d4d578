/**
 * The `ctx` an actor's `init`, hooks and handlers get: its own ref and its parent's, spawning
 * children, stopping itself, keyed timers (which send the actor a message later), replacing its
 * state, looking up names. One per actor, made when the actor is instantiated (spawn.ts).
 */
import { InvalidArgumentError, WeftError } from '../../errors.js';
import { describe } from '../../internal/describe.js';
import { unhandledText } from '../define.js';
import type { ActorRef } from '../ref.js';
import type { ActorContext, AnyActorDefinition, SpawnOptions } from '../types.js';
import * as record from './actor.js';
import type { Entry, LocalActor } from './actor.js';
import * as messages from './messages.js';

// Imported values read once into module constants: under tsx (esbuild's CommonJS output) each
// read of an imported binding is a getter call, too slow for the per-message paths.
const { RUNNING, STOP_ITEM, STOPPED } = record;
const { typeOf } = messages;

/** What a context uses of its host. */
export interface ContextHost {
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
      const type = typeOf(msg);
      if (typeof type !== 'string' || !a.handlers.has(type)) {
        const hint = typeof msg === 'function' ? ' (it takes a message that the actor sends itself, not a callback)' : '';
        throw new InvalidArgumentError(`ctx.schedule${hint}: ${unhandledText(a.id, a.def, msg)}`);
      }
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
  } as ActorContext;
}
