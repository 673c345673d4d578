/**
 * "Deferred replies": the handle `ctx.replyLater()` returns. It owns the reply of one message
 * (answered once, by `resolve` or `reject`, from whatever code of the actor runs later) and its
 * place in the actor's set of unanswered handles, which supervisor.ts rejects when the actor stops.
 * Sending the reply is the host's (`reply`: settled here for a same-thread ask, sent otherwise).
 */
import type { Deferred } from '../types.js';
import * as record from './actor.js';
import type { Abandonable, Entry, LocalActor } from './actor.js';

const { Item, KIND_ASK } = record;

/** What a handle uses of its host. */
export interface ReplySink {
  reply(item: Entry, ok: boolean, value: unknown): void;
}

export class DeferredReply<T> implements Deferred<T>, Abandonable {
  readonly awaited: boolean;
  #item: Entry;
  #settled = false;
  readonly #sink: ReplySink;
  readonly #owner: LocalActor;

  constructor(sink: ReplySink, owner: LocalActor, item: Entry) {
    this.#sink = sink;
    this.#owner = owner;
    this.#item = item;
    this.awaited = item instanceof Item && item.kind === KIND_ASK;
    if (this.awaited) (owner.deferred ??= new Set()).add(this);
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(value: T): boolean {
    return this.#settle(true, value);
  }

  reject(error: unknown): boolean {
    return this.#settle(false, error);
  }

  /** The actor stopped with this reply unanswered: its ask fails with `error`. */
  abandon(error: unknown): void {
    this.#settle(false, error);
  }

  #settle(ok: boolean, value: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    const item = this.#item;
    this.#item = undefined;
    this.#owner.deferred?.delete(this);
    this.#sink.reply(item, ok, value);
    return true;
  }
}
