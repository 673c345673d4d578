// comedy actor for cases a and b (threaded mode: one worker thread). Handlers are the class's
// methods; a method's return value is the reply of sendAndReceive.
'use strict';

module.exports = class Counter {
  initialize() {
    this.count = 0;
    this.sum = 0;
  }

  add(m) {
    this.count++;
    this.sum += m.by;
  }

  get() {
    return { count: this.count, sum: this.sum };
  }

  echo(m) {
    return m.v;
  }
};
