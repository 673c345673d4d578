// comedy actor B of case c: replies to ping with the counter plus one.
'use strict';
const { threadId } = require('node:worker_threads');

module.exports = class Ponger {
  ping(c) {
    return c + 1;
  }

  where() {
    return threadId;
  }
};
