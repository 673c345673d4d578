// The actor kind both nodes of the example register (code never travels: every node has it).
import { defineActor } from 'weftjs';

export const Counter = defineActor({
  init: (start: number) => ({ n: start }),
  handlers: {
    add: (s, m: { by: number }) => {
      s.n += m.by;
    },
    get: (s) => s.n,
    whereAmI: () => process.pid,
  },
});
