/**
 * The types of weft's actors: definitions, the messages and replies TypeScript derives from them,
 * and the options of spawn, mailboxes and supervision.
 */
import type { ActorRef } from './ref.js';
import { optionNames } from '../internal/options.js';

/** What a bounded mailbox does with a message that finds it full. */
export type Overflow = 'reject' | 'drop-oldest' | 'drop-newest' | 'wait';

/**
 * A mailbox: unbounded (the default), or bounded to `capacity` user messages with an `overflow`
 * policy (default `'reject'`):
 * - `'reject'`: `tell` throws `WEFT_MAILBOX_FULL`, `ask` rejects with it;
 * - `'drop-oldest'`: the oldest queued message is dropped to make room (a dead letter; an ask
 *   among them rejects with `WEFT_MAILBOX_FULL`);
 * - `'drop-newest'`: the new message is dropped (a dead letter);
 * - `'wait'`: `tell` returns a Promise that resolves once the message is in the mailbox
 *   (backpressure); later messages from the same thread queue behind it, in order. At most 1,024
 *   messages of one thread wait for room in one mailbox: past that, `tell` throws (and `ask`
 *   rejects with) `WEFT_MAILBOX_FULL`, so a sender that does not await its tells is bounded too.
 *
 * `system.stats()` reports each mailbox's bytes (`mailboxBytes`, `mailboxPeakBytes`): a bounded
 * one never holds more than `capacity` messages plus the one being taken out.
 */
export interface MailboxOptions {
  capacity?: number;
  overflow?: Overflow;
}

/** What happens to an actor whose handler throws (or whose async handler rejects). */
export type Directive = 'restart' | 'stop' | 'resume' | 'escalate';

/** Exponential backoff between restarts: `minMs * 2^(n-1)`, capped at `maxMs`, ± `jitter`. */
export interface BackoffOptions {
  /** Delay before the first restart in a window (default 0: restart at once). */
  minMs?: number;
  /** Longest delay (default 30 000). */
  maxMs?: number;
  /** Random spread, a fraction of the delay (default 0.2). */
  jitter?: number;
}

/**
 * Supervision after Erlang/OTP and Akka.
 * - `strategy` (default `'restart'`): `'restart'` runs `init` again with the spawn argument
 *   (same ref, queued messages kept, old `onStop` before new `onStart`); `'resume'` keeps the
 *   state and goes on with the next message; `'stop'` stops the actor; `'escalate'` stops it and
 *   fails its parent with the error (a top-level actor reports it as a system `'failure'`).
 * - a restart budget: more than `maxRestarts` (default 3) within `withinMs` (default 5 000)
 *   stops the actor and escalates.
 * - `children` (default `'one-for-one'`): when one child restarts, `'all-for-one'` restarts its
 *   siblings too.
 */
export interface SupervisionOptions {
  strategy?: Directive;
  maxRestarts?: number;
  withinMs?: number;
  backoff?: BackoffOptions;
  children?: 'one-for-one' | 'all-for-one';
}

/** Where an actor runs: the main thread, any pool worker (least loaded), or worker `n`. */
export type Placement = 'main' | 'worker' | number;

export interface SpawnOptions {
  /** Default: `'worker'` when the system has a pool, else `'main'`. */
  on?: Placement;
  /** A unique name, for `system.lookup(name)`; freed when the actor stops. */
  name?: string;
  mailbox?: MailboxOptions;
  supervision?: SupervisionOptions;
}

export interface AskOptions {
  /** Milliseconds before the ask rejects with `WEFT_ASK_TIMEOUT` (default: the system's, 30 000). */
  timeout?: number;
  /** Aborting rejects the ask with `WEFT_ABORTED` (the message may still be handled). */
  signal?: AbortSignal;
}

/**
 * The option names each bag accepts: anything else throws `WEFT_INVALID_ARG` naming the nearest
 * valid one (src/internal/options.ts). Each list must name every key of its interface (checked at
 * compile time by `optionNames`): add new options to both.
 */
export const SPAWN_OPTIONS = optionNames<SpawnOptions>()(['on', 'name', 'mailbox', 'supervision']);
export const MAILBOX_OPTIONS = optionNames<MailboxOptions>()(['capacity', 'overflow']);
export const SUPERVISION_OPTIONS = optionNames<SupervisionOptions>()(['strategy', 'maxRestarts', 'withinMs', 'backoff', 'children']);
export const BACKOFF_OPTIONS = optionNames<BackoffOptions>()(['minMs', 'maxMs', 'jitter']);
export const ASK_OPTIONS = optionNames<AskOptions>()(['timeout', 'signal']);

/** How an actor ended, as `watch` reports it. */
export interface Termination {
  /** `'stopped'`: by stop() or its strategy; `'failed'`: its handler failed and it was not
   * restarted (budget spent, `stop`/`escalate` strategies); `'killed'`: by kill() or its parent;
   * `'lost'`: its thread died and it could not be moved. */
  reason: 'stopped' | 'failed' | 'killed' | 'lost';
  error?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Definitions and what TypeScript derives from them

/** A message handler: `(state, message, ctx) => reply` (may be async). */
export type Handler<S> = (state: S, msg: never, ctx: ActorContext<S>) => unknown;

/** The handlers of a definition, by message type. */
export type Handlers<S> = Record<string, Handler<S>>;

/** What is inside `ctx` in a handler, `init`, `onStart` and `onStop`. */
export interface ActorContext<S = unknown, H = Record<string, unknown>> {
  /** This actor's ref. */
  readonly self: ActorRef<ActorDefinition<never, S, H>>;
  /** The actor that spawned this one (undefined for top-level actors). */
  readonly parent: ActorRef | undefined;
  /** Spawns a child: stopped with this actor, restarted by its `children` strategy. */
  spawn<D extends AnyActorDefinition>(def: D, arg: ArgOf<D>, options?: SpawnOptions): ActorRef<D>;
  /** Stops this actor once the current message is handled. */
  stop(): void;
  /**
   * Sends `msg` to this actor after `delayMs`; a timer with the same key is replaced. Throws
   * `WEFT_INVALID_ARG` (here, in the caller) when the actor has no handler for `msg`'s type. A
   * handler that fails on a timer's message fails the actor like any other message (supervision).
   */
  schedule(key: string, delayMs: number, msg: MessageOf<H>): void;
  /** Cancels the timer `key`; returns whether one was pending. */
  cancel(key: string): boolean;
  /** Replaces the state (for states that are not mutated in place, such as numbers). */
  setState(next: S): void;
  /** The running actor registered under `name`. */
  lookup<D = AnyActorDefinition>(name: string): ActorRef<D> | undefined;
  /**
   * Answers the message being handled later: the handler's return value no longer replies; the
   * returned handle does, once (`resolve` or `reject`), from any later code of this actor (a
   * callback, a promise, another message's handler). Return the handle from the handler to type
   * the ask's reply (`ReplyOf` unwraps `Deferred<T>` to `T`).
   *
   * An ask answered by nobody rejects with `WEFT_ASK_TIMEOUT` at its timeout, as any ask; when the
   * actor stops first, it rejects with `WEFT_ACTOR_STOPPED`. A restart keeps handles valid (the
   * work answering them may still finish). If the handler throws (or its promise rejects) before
   * the handle is answered, the ask rejects with that error. Called twice for one message, it
   * returns the same handle. Throws `WEFT_INVALID_ARG` outside a handler (in `init`, `onStart`,
   * a timer callback).
   */
  replyLater<T = unknown>(): Deferred<T>;
  /**
   * Replaces the handlers that handle the next messages (Akka's `become`): a state machine's
   * states as handler sets. `handlers` holds some of the definition's handlers (a name the
   * definition lacks throws `WEFT_INVALID_ARG`); a message whose type the current set lacks is an
   * unhandled dead letter (its ask rejects with `WEFT_INVALID_ARG`); `stash()` it to keep it. A
   * restart goes back to the definition's handlers (as `unbecome()`).
   */
  become(handlers: Partial<H>): void;
  /** Goes back to the definition's handlers. */
  unbecome(): void;
  /**
   * Puts the message being handled aside, unhandled (its ask stays pending): `unstashAll()`
   * puts the stashed messages back at the front of the queue, in the order they came. Stashed
   * messages are unstashed on restart, and are dead letters when the actor stops (their asks
   * reject with `WEFT_ACTOR_STOPPED`). With a bounded mailbox the stash holds at most its
   * capacity: stashing more throws `WEFT_MAILBOX_FULL` (a failure of the handler). Throws
   * `WEFT_INVALID_ARG` outside a handler, or after `replyLater()` for the same message.
   */
  stash(): void;
  /** Moves every stashed message back to the front of the queue; returns how many. */
  unstashAll(): number;
  /** Messages stashed now. */
  readonly stashed: number;
  /**
   * Sends `msg` to this actor once no message has been handled for `ms` milliseconds, and again
   * after each further `ms` of silence (Akka's receive timeout); `null` turns it off. Handling
   * any message (the timeout's too) starts the silence again. Cleared on restart and stop.
   * Throws `WEFT_INVALID_ARG` when the actor has no handler for `msg`'s type.
   */
  setReceiveTimeout(ms: number | null, msg?: MessageOf<H>): void;
}

/**
 * A reply that a handler answers later (`ctx.replyLater()`). `resolve`/`reject` return whether
 * this call answered (false once answered, or when the actor stopped and rejected the ask).
 */
export interface Deferred<T = unknown> {
  resolve(value: T): boolean;
  reject(error: unknown): boolean;
  /** Answered (or given up: the actor stopped). */
  readonly settled: boolean;
  /** Whether a caller waits for this reply (the message came by `ask`; a `tell` has no reply). */
  readonly awaited: boolean;
}

/** The fields a message for handler F carries besides `type` (any fields for untyped handlers). */
type PayloadOf<F> = F extends (state: never, msg: infer M, ...rest: never[]) => unknown
  ? [M] extends [never]
    ? unknown // an unannotated message parameter: the message has no fields
    : unknown extends M
      ? unknown
      : Omit<M, 'type'>
  : Record<string, unknown>;

/** The message a handler named `K` takes: `{ type: K, ...its fields }`. */
export type MessageFor<H, K extends keyof H> = { readonly type: K } & PayloadOf<H[K]>;

/** Every message an actor with handlers `H` accepts (a union discriminated by `type`). */
export type MessageOf<H> = { [K in keyof H & string]: MessageFor<H, K> }[keyof H & string];

/** What `ask` with a message of type K resolves to: the handler's (awaited) return value. */
export type ReplyOf<H, K extends keyof H> = H[K] extends (...args: never[]) => infer R ? Unwrap<Awaited<R>> : never;
/** A handler's result as its ask sees it: a `Deferred<T>` (from `ctx.replyLater()`) is `T`. */
type Unwrap<R> = R extends Deferred<infer T> ? T : R;

/** A behaviour made by `defineActor`. */
export interface ActorDefinition<A = never, S = unknown, H = Handlers<S>> extends AnyActorDefinition {
  readonly kind: 'weft:actor';
  /** The identity that finds this definition on every thread (see `defineActor`). */
  readonly key: string;
  /** Makes the initial state from the spawn argument. */
  init(arg: A, ctx: ActorContext): S | Promise<S>;
  readonly handlers: H;
  onStart?(state: S, ctx: ActorContext<S, H>): unknown;
  onStop?(state: S, ctx: ActorContext<S, H>): unknown;
  readonly supervision: SupervisionOptions | undefined;
  /** Type-only: the definition's argument, state and handlers. */
  readonly __types?: { arg: A; state: S; handlers: H };
}

/** Any definition (the widest type, for constraints). */
export interface AnyActorDefinition {
  readonly kind: 'weft:actor';
  readonly key: string;
}

export type ArgOf<D> = D extends { readonly __types?: { arg: infer A } } ? A : never;
export type StateOf<D> = D extends { readonly __types?: { state: infer S } } ? S : never;
export type HandlersOf<D> = D extends { readonly __types?: { handlers: infer H } } ? H : never;
/** A message to an actor whose definition is not known statically (an untyped `ActorRef`). */
export interface UntypedMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The messages an actor of definition D accepts (any `{ type }` message for an untyped ref). */
export type ActorMessage<D> = [HandlersOf<D>] extends [never] ? UntypedMessage : MessageOf<HandlersOf<D>>;
/** The message types (handler names) of definition D. */
export type MessageType<D> = [HandlersOf<D>] extends [never] ? string : keyof HandlersOf<D> & string;
/** The message `ask` takes for type K. */
export type AskMessage<D, K extends string> = [HandlersOf<D>] extends [never]
  ? UntypedMessage
  : K extends keyof HandlersOf<D>
    ? MessageFor<HandlersOf<D>, K>
    : never;
/** What `ask` resolves to for a message of type K (`unknown` for an untyped ref). */
export type AskReply<D, K extends string> = [HandlersOf<D>] extends [never]
  ? unknown
  : K extends keyof HandlersOf<D>
    ? ReplyOf<HandlersOf<D>, K>
    : never;
