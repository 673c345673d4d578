// comedy actor A of case c. Created in threaded mode (a worker thread); it creates B (Ponger) as its
// own child, also threaded, i.e. in a second worker thread started from A's, so that A and B talk
// directly worker to worker. start(n) bounces the counter off B n times (one sendAndReceive per
// round trip) and replies the final counter.
'use strict';
const { join } = require('node:path');
const { threadId } = require('node:worker_threads');

module.exports = class Pinger {
  async initialize(selfActor) {
    // '//' + an absolute path: comedy's notation for "this module path as is" (not from the project root).
    this.ponger = await selfActor.createChild(`/${join(__dirname, 'ponger.cjs')}`, { mode: 'threaded' });
  }

  async start(n) {
    let c = 0;
    for (let i = 0; i < n; i++) c = await this.ponger.sendAndReceive('ping', c);
    return c;
  }

  /** The threadIds of this actor and of its Ponger (checked: two different workers). */
  async threads() {
    return [threadId, await this.ponger.sendAndReceive('where')];
  }
};
