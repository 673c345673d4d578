/**
 * The memory behind pending asks (an actor host's, a cluster node's): `AskTable` (by id) and
 * `Fifo` (a timeout bucket's asks in deadline order, see deadlines.ts).
 *
 * Both avoid what a `Map` and a growing array do under a steady stream of asks: a `Map` with
 * entries added and deleted all the time rebuilds its hash table every few dozen operations,
 * and a table that was replaced keeps pointing at its entries until the next full GC; so does
 * the old backing store of an array that grew. Young asks referenced from such garbage in the
 * old generation survive every scavenge and are promoted, and the main thread spent a fifth of
 * its time in the garbage collector at 64 asks in flight. Here each ask sits in a slot of an
 * array that is reused and only grows (rarely), and the slot is cleared when the ask settles.
 */

/** What the table needs of an entry. */
interface Keyed {
  readonly id: number;
}

/** Slots of the ring (ids are sequential, so the asks in flight spread over it). */
const RING = 1024;
const MASK = RING - 1;

/**
 * Pending entries by id, for ids handed out in sequence (wrapping at 2^32). Entry `id` lives in
 * ring slot `id & MASK`; one still pending when a later id needs its slot (it has outlived
 * RING later asks: a long ask among many short ones) moves to a `Map` of its own.
 */
export class AskTable<E extends Keyed> {
  readonly #ring: (E | undefined)[] = new Array<E | undefined>(RING).fill(undefined);
  readonly #old = new Map<number, E>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): E | undefined {
    const e = this.#ring[id & MASK];
    if (e !== undefined && e.id === id) return e;
    return this.#old.size > 0 ? this.#old.get(id) : undefined;
  }

  add(e: E): void {
    const slot = e.id & MASK;
    const prev = this.#ring[slot];
    if (prev !== undefined) this.#old.set(prev.id, prev);
    this.#ring[slot] = e;
    this.#size++;
  }

  /** Removes entry `id`; returns it (undefined if it is not here). */
  take(id: number): E | undefined {
    const slot = id & MASK;
    const e = this.#ring[slot];
    if (e !== undefined && e.id === id) {
      this.#ring[slot] = undefined;
      this.#size--;
      return e;
    }
    if (this.#old.size === 0) return undefined;
    const o = this.#old.get(id);
    if (o !== undefined) {
      this.#old.delete(id);
      this.#size--;
    }
    return o;
  }

  /** Every entry (a copy: the caller may take them meanwhile). */
  entries(): E[] {
    const out: E[] = [];
    for (const e of this.#ring) if (e !== undefined) out.push(e);
    for (const e of this.#old.values()) out.push(e);
    return out;
  }
}

/**
 * A first-in first-out queue in a power-of-two ring that grows when full and never shrinks;
 * `shift` clears the slot it empties.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(16).fill(undefined);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The oldest item (undefined if empty). */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  push(item: T): void {
    let items = this.#items;
    if (this.#length === items.length) {
      const grown = new Array<T | undefined>(items.length * 2).fill(undefined);
      for (let i = 0; i < this.#length; i++) grown[i] = items[(this.#head + i) & (items.length - 1)];
      this.#items = items = grown;
      this.#head = 0;
    }
    items[(this.#head + this.#length) & (items.length - 1)] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const items = this.#items;
    const item = items[this.#head];
    items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (items.length - 1);
    this.#length--;
    return item;
  }

  clear(): void {
    while (this.#length > 0) this.shift();
  }
}
