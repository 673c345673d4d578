// Unknown option names in the actor, Fastify and metrics option bags throw (or reject with)
// WEFT_INVALID_ARG naming the option, the nearest valid one and the bag; valid options still work.
// (Pool, runWith, map and par options: pool/edges.spec.ts.)
import { runInThisContext } from 'node:vm';
import test, { type ExecutionContext } from 'ava';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { ActorSystem, ParCompileError, defineActor, par, type FileLocation } from '../../src/index.js';
import weftPlugin, { type WeftPluginOptions } from '../../src/fastify/index.js';
import { registerWeftMetrics, type WeftMetricsOptions } from '../../src/metrics/index.js';
import { Counter } from '../fixtures/actors.js';

type Thrown = { code?: unknown; message: string };

/** Asserts `err` is WEFT_INVALID_ARG with a message containing each of `parts`. */
function invalid(t: ExecutionContext, err: unknown, ...parts: string[]): void {
  t.truthy(err, 'expected an error');
  const e = err as Thrown;
  t.is(e.code, 'WEFT_INVALID_ARG', e.message);
  for (const p of parts) t.true(e.message.includes(p), `${JSON.stringify(p)} not in: ${e.message}`);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

async function rejected(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

test('ActorSystem options: unknown names throw, valid ones work', async (t) => {
  invalid(
    t,
    thrown(() => new ActorSystem({ askTimout: 100 } as never)),
    'ActorSystem options: unknown option "askTimout"; did you mean askTimeout?',
  );
  invalid(
    t,
    thrown(() => new ActorSystem({ pol: undefined } as never)),
    'unknown option "pol"; did you mean pool?',
  );
  const system = new ActorSystem({ askTimeout: 1000 });
  const c = system.spawn(Counter, 1);
  t.is(await c.ask({ type: 'get' }), 1);
  invalid(t, await rejected(system.shutdown({ timout: 10 } as never)), 'shutdown options: unknown option "timout"; did you mean timeout?');
  await system.shutdown({ timeout: 1000 });
});

test('spawn options (and mailbox, supervision, backoff): unknown names throw, valid ones work', async (t) => {
  const system = new ActorSystem();
  t.teardown(() => system.shutdown());
  invalid(
    t,
    thrown(() => system.spawn(Counter, 0, { mailBox: { capacity: 2 } } as never)),
    'spawn options: unknown option "mailBox"; did you mean mailbox?',
  );
  invalid(
    t,
    thrown(() => system.spawn(Counter, 0, { mailbox: { capacty: 2 } } as never)),
    'spawn options.mailbox: unknown option "capacty"; did you mean capacity?',
  );
  invalid(
    t,
    thrown(() => system.spawn(Counter, 0, { supervision: { stratgy: 'stop' } } as never)),
    'spawn options.supervision: unknown option "stratgy"; did you mean strategy?',
  );
  invalid(
    t,
    thrown(() => system.spawn(Counter, 0, { supervision: { backoff: { minMS: 5 } } } as never)),
    'spawn options.supervision.backoff: unknown option "minMS"; did you mean minMs?',
  );
  invalid(
    t,
    thrown(() => system.spawn(Counter, 0, { supervision: 'stop' } as never)),
    'spawn options.supervision must be an object',
  );
  t.is(system.stats().actors.length, 0, 'nothing was spawned');

  const c = system.spawn(Counter, 2, {
    on: 'main',
    name: 'options-spec-counter',
    mailbox: { capacity: 8, overflow: 'reject' },
    supervision: {
      strategy: 'restart',
      maxRestarts: 2,
      withinMs: 1000,
      children: 'one-for-one',
      backoff: { minMs: 0, maxMs: 10, jitter: 0 },
    },
  });
  c.tell({ type: 'add', by: 3 });
  t.is(await c.ask({ type: 'get' }), 5);
  t.true(system.lookup('options-spec-counter')?.equals(c));
});

test('ask options: unknown names and non-objects reject, valid ones work', async (t) => {
  const system = new ActorSystem();
  t.teardown(() => system.shutdown());
  const c = system.spawn(Counter, 7);
  invalid(
    t,
    await rejected(c.ask({ type: 'get' }, { timout: 50 } as never)),
    'ask options: unknown option "timout"; did you mean timeout?',
  );
  invalid(t, await rejected(c.ask({ type: 'get' }, { sigal: AbortSignal.timeout(1000) } as never)), 'did you mean signal?');
  invalid(t, await rejected(c.ask({ type: 'get' }, 1000 as never)), 'ask options must be an object, got number');
  t.is(await c.ask({ type: 'get' }, { timeout: 1000, signal: new AbortController().signal }), 7);
  t.is(await c.ask({ type: 'get' }, {}), 7);
  // Only own names count (as everywhere): an inherited property is not an option.
  t.is(await c.ask({ type: 'get' }, Object.create({ extra: 1 }) as object), 7);
});

test('defineActor spec: unknown keys throw, valid ones work', (t) => {
  const init = (): { n: number } => ({ n: 0 });
  const handlers = { get: (s: { n: number }) => s.n };
  invalid(
    t,
    thrown(() => defineActor({ init, handlers, onstart: () => {} } as never)),
    'defineActor spec: unknown option "onstart"; did you mean onStart?',
  );
  invalid(
    t,
    thrown(() => defineActor({ init, handler: handlers } as never)),
    'unknown option "handler"; did you mean handlers?',
  );
  invalid(
    t,
    thrown(() => defineActor({ init, handlers, supervision: { maxRestart: 1 } } as never)),
    'defineActor spec.supervision: unknown option "maxRestart"; did you mean maxRestarts?',
  );
  invalid(
    t,
    thrown(() => defineActor({ init, handlers, supervision: { backoff: { jiter: 0 } } } as never)),
    'defineActor spec.supervision.backoff: unknown option "jiter"; did you mean jitter?',
  );
  const def = defineActor({
    name: 'options-spec-actor',
    init,
    handlers,
    onStart: () => {},
    onStop: () => {},
    supervision: { strategy: 'resume', backoff: { maxMs: 10 } },
  });
  t.is(def.key, 'options-spec-actor');
});

test('weft/fastify options: unknown names reject the registration, valid ones (and Fastify register options) work', async (t) => {
  const bad = async (options: unknown, ...parts: string[]): Promise<void> => {
    const app = Fastify();
    invalid(t, await rejected(app.register(weftPlugin, options as WeftPluginOptions)), ...parts);
    t.false(app.hasDecorator('weft'));
    await app.close();
  };
  await bad({ actors: true, closeOnexit: true }, 'weft/fastify options: unknown option "closeOnexit"; did you mean closeOnExit?');
  await bad({ actors: true, shutdownTimout: 10 }, 'did you mean shutdownTimeout?');
  await bad({ actor: true }, 'unknown option "actor"; did you mean actors?');
  await bad({ actors: { askTimout: 10 } }, 'weft/fastify options.actors: unknown option "askTimout"; did you mean askTimeout?');

  // Fastify's own register options are passed along to the plugin too: they are accepted.
  const app = Fastify();
  await app.register(weftPlugin, {
    actors: { askTimeout: 1000 },
    decorator: 'weft',
    closeOnExit: false,
    shutdownTimeout: 1000,
    prefix: '/x',
    logLevel: 'warn',
  });
  await app.ready();
  const c = app.weft.actors!.spawn(Counter, 4);
  t.is(await c.ask({ type: 'get' }), 4);
  await app.close();
});

test('registerWeftMetrics options: unknown names throw, valid ones work', async (t) => {
  const registry = new Registry();
  const system = new ActorSystem();
  t.teardown(() => system.shutdown());
  const bad = (options: unknown, ...parts: string[]): void =>
    invalid(
      t,
      thrown(() => registerWeftMetrics(options as WeftMetricsOptions)),
      ...parts,
    );
  bad(
    { register: registry, systems: [system], topActor: 3 },
    'registerWeftMetrics options: unknown option "topActor"; did you mean topActors?',
  );
  bad({ register: registry, prefx: 'x_' }, 'unknown option "prefx"; did you mean prefix?');
  bad({ registry, systems: [system] }, 'unknown option "registry"; did you mean register?');
  t.deepEqual(registry.getMetricsAsArray(), [], 'nothing was registered');

  const metrics = registerWeftMetrics({
    register: registry,
    prefix: 'opt_',
    systems: { main: system },
    pools: [],
    stacks: {},
    topActors: 2,
  });
  system.spawn(Counter, 0);
  t.true(metrics.names.includes('opt_actor_system_actors'));
  t.regex(await registry.metrics(), /opt_actor_system_actors\{system="main"\} 1/);
  metrics.unregister();
});

test('FileLocation (the type of ParCompileError#location) is exported from the package root', (t) => {
  // A compile-time check (tsc -p __test__): the import above fails to type-check without the export.
  const fn = runInThisContext('(x) => { let s = 0; while (s < x) s++; return s; }', { filename: '/virtual/options-spec.js' }) as (
    x: number,
  ) => number;
  const err = t.throws(() => par([1]).map(fn), { instanceOf: ParCompileError });
  const location: FileLocation | undefined = err.location;
  t.like(location, { file: '/virtual/options-spec.js', line: 1, mapped: false });
});
