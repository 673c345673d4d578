// The work behind the demo service's routes, shared by every mode: the inline mode calls these
// functions on the main thread, piscina and weft run them on worker threads. This file is also
// the task module of the weft Pool (its function exports are tasks; its actor definitions are
// found there by the workers) and of the piscina pool (default export: see piscina-task.mjs).
import { defineActor, SharedStack } from 'weftjs';

/**
 * CPU-bound JavaScript: a keyed digest of `data`, `rounds` passes of a 32-bit mixing function
 * over its characters (think password hashing or a content fingerprint). About 1 ms per
 * 40 kB·round on the demo machine.
 */
export function digest(data, rounds) {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ (h1 >>> 13), 0x5bd1e995) ^ r;
    }
    h1 ^= h2 >>> 15;
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/**
 * The pool task of the /hash route: the digest, plus how long it took (µs) pushed onto the
 * shared stack of timings that the main thread's analytics drains (weft mode only).
 */
export function hashTask(data, rounds, timings) {
  const t0 = performance.now();
  const hex = digest(data, rounds);
  const us = (performance.now() - t0) * 1000;
  if (timings instanceof SharedStack) timings.push(us);
  return { hex, us };
}

/** A bank account: per-entity state, one message at a time, so no lost updates. */
export const Account = defineActor({
  name: 'demo.Account',
  init: (id) => ({ id, balance: 0, ops: 0 }),
  handlers: {
    deposit: (state, msg) => {
      state.balance += msg.amount;
      state.ops++;
      return { id: state.id, balance: state.balance };
    },
    withdraw: (state, msg) => {
      if (msg.amount > state.balance) return { id: state.id, balance: state.balance, refused: 'insufficient funds' };
      state.balance -= msg.amount;
      state.ops++;
      return { id: state.id, balance: state.balance };
    },
    get: (state) => ({ id: state.id, balance: state.balance, ops: state.ops }),
  },
});
