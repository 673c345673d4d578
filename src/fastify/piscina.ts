/**
 * `fastifyPiscina` (also exported as `piscina`) from `weftjs/fastify`: fastify-piscina's API on
 * weft. Registered with piscina's options, it decorates the instance with `fastify.piscina` (a
 * `Piscina` from `weftjs/piscina`) and `fastify.runTask(task, options?)` (its `run`), and closes the
 * pool when the server closes (fastify-piscina leaves it running).
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { fastifyPiscina } from 'weftjs/fastify';
 *
 * const app = Fastify();
 * await app.register(fastifyPiscina, { filename: new URL('./worker.mjs', import.meta.url).href });
 * app.get('/', async () => ({ sum: await app.runTask({ a: 1, b: 2 }) }));
 * ```
 */
import type { FastifyInstance, FastifyPluginAsync, RegisterOptions } from 'fastify';
import fp from 'fastify-plugin';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../internal/describe.js';
import { Piscina, type PiscinaOptions } from '../piscina/index.js';

/** The plugin's options: piscina's (and the ones Fastify reads from `register`'s options). */
export type FastifyPiscinaOptions = PiscinaOptions & Pick<RegisterOptions, 'prefix' | 'logLevel' | 'logSerializers'>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The `Piscina` of `fastifyPiscina` (`weftjs/fastify`). */
    piscina: Piscina;
    /** `fastify.piscina.run(task, options)`. */
    runTask: Piscina['run'];
  }
}

const plugin: FastifyPluginAsync<FastifyPiscinaOptions> = async (fastify: FastifyInstance, options: FastifyPiscinaOptions) => {
  if (fastify.hasDecorator('piscina') || fastify.hasDecorator('runTask')) {
    throw new InvalidArgumentError(
      'fastifyPiscina has already been registered: the Fastify instance has a `piscina` or `runTask` decorator',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`fastifyPiscina expects piscina's options object, got ${describe(options)}`);
  }
  // Fastify's own options of `register` are not piscina's.
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...piscinaOptions } = options;
  const pool = new Piscina(piscinaOptions);
  fastify.decorate('piscina', pool);
  fastify.decorate('runTask', (task: unknown, runOptions?: Parameters<Piscina['run']>[1]) => pool.run(task, runOptions));
  fastify.addHook('onClose', async () => {
    await pool.close();
  });
};

/** fastify-piscina's plugin (`app.register(fastifyPiscina, piscinaOptions)`), on weft. */
export const fastifyPiscina = fp(plugin, { fastify: '5.x', name: 'fastify-piscina' });
