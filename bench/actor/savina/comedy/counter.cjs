// comedy CountingActor of the Savina counting benchmark (threaded mode). comedy does not order a
// sendAndReceive after earlier sends (see bench/README.md, bench:actor case a), so `get` does not
// reset: the main thread asks until the count it expects is reached (and checks it is not passed).
'use strict';
const { threadId } = require('node:worker_threads');

module.exports = class Counter {
  initialize() {
    this.count = 0;
  }

  increment() {
    this.count++;
  }

  get() {
    return this.count;
  }

  where() {
    return threadId;
  }
};
