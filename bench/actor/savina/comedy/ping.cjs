// comedy PingActor of the Savina ping-pong (threaded mode: a worker thread of its own). It creates
// its PongActor as its own threaded child, i.e. in a second worker thread started from this one, so
// that the two talk worker to worker. start(n) sends n pings, one at a time, each after the pong of
// the last (`send`, no reply awaited), and resolves the number of pongs (comedy answers the
// main thread's sendAndReceive with the promise a method returns).
'use strict';
const { join } = require('node:path');
const { threadId } = require('node:worker_threads');

module.exports = class Ping {
  async initialize(selfActor) {
    // '//' + an absolute path: comedy's notation for "this module path as is" (not from the project root).
    this.ponger = await selfActor.createChild(`/${join(__dirname, 'pong.cjs')}`, { mode: 'threaded' });
    this.left = 0;
    this.pongs = 0;
  }

  start(n) {
    return new Promise((resolve) => {
      this.left = n;
      this.pongs = 0;
      this.resolve = resolve;
      this.ponger.send('ping');
      this.left--;
    });
  }

  pong() {
    this.pongs++;
    if (this.left > 0) {
      this.ponger.send('ping');
      this.left--;
    } else this.resolve(this.pongs);
  }

  /** The pings the PongActor handled since the last call. */
  pings() {
    return this.ponger.sendAndReceive('pings');
  }

  /** The threadIds of this actor and of its PongActor (checked: two different workers). */
  async threads() {
    return [threadId, await this.ponger.sendAndReceive('where')];
  }
};
