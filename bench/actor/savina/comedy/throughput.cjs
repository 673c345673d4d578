// comedy ThroughputActor of the Savina fork-join throughput benchmark (threaded mode: each of the
// 60 actors in a worker thread of its own). Each message: Savina's performComputation(37.2), i.e.
// sin(theta)², summed. expect(total) resolves once `total` messages have been handled since the
// actor started: cumulative, since comedy does not order a sendAndReceive among sends.
'use strict';
const { threadId } = require('node:worker_threads');

const THETA = 37.2;

function performComputation(theta) {
  const sint = Math.sin(theta);
  const res = sint * sint;
  if (res <= 0) throw new Error(`performComputation: unrealistic res value ${res}`);
  return res;
}

module.exports = class Throughput {
  initialize() {
    this.theta = THETA;
    this.processed = 0;
    this.acc = 0;
    this.target = -1;
    this.resolve = undefined;
  }

  expect(total) {
    return new Promise((resolve) => {
      this.target = total;
      this.resolve = resolve;
      this.check();
    });
  }

  msg() {
    this.processed++;
    this.acc += performComputation(this.theta);
    this.check();
  }

  check() {
    if (this.processed === this.target) {
      this.target = -1;
      this.resolve({ processed: this.processed, acc: this.acc });
    }
  }

  processedCount() {
    return this.processed;
  }

  where() {
    return threadId;
  }
};
