// comedy PongActor of the Savina ping-pong: answers each ping with a pong to its parent, the
// PingActor (comedy passes actor refs only as top-level message arguments, so the pong goes to the
// parent rather than to a sender carried in the message).
'use strict';
const { threadId } = require('node:worker_threads');

module.exports = class Pong {
  initialize(selfActor) {
    this.parent = selfActor.getParent();
    this.count = 0;
  }

  ping() {
    this.count++;
    this.parent.send('pong');
  }

  pings() {
    const n = this.count;
    this.count = 0;
    return n;
  }

  where() {
    return threadId;
  }
};
