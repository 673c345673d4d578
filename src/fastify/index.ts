/**
 * `weft/fastify`: a Fastify plugin that gives routes a weft `Pool` and `ActorSystem` and closes
 * them with the server.
 *
 * ```ts
 * import Fastify from 'fastify';
 * import weft from 'weftjs/fastify';
 *
 * const app = Fastify();
 * await app.register(weft, { pool: { module: new URL('./tasks.js', import.meta.url) }, actors: true });
 * app.get('/fib', async () => app.weft.pool!.run('fib', 30));
 * ```
 *
 * Ownership: what the plugin creates (from options) it also ends on `onClose`: the actor system
 * is shut down first (its actors handle the messages already queued), then the pool is closed
 * (submitted tasks finish). Instances passed in (`pool: existingPool`, `actors: existingSystem`)
 * belong to the caller and are left running, unless `closeOnExit: true`.
 *
 * The module also exports `fastifyPiscina` (also named `piscina`): fastify-piscina's plugin,
 * backed by `weftjs/piscina` (see piscina.ts).
 *
 * fastify is an optional peer dependency of weft: this module only imports its types.
 */
import type { FastifyInstance, FastifyPluginAsync, RegisterOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ACTOR_SYSTEM_OPTIONS, ActorSystem, type ActorSystemOptions } from '../actor/system.js';
import { InvalidArgumentError } from '../errors.js';
import { checkOptionNames, optionNames } from '../internal/options.js';
import { Pool, type PoolOptions } from '../pool/index.js';
import { describe, thrownMessage } from '../internal/describe.js';

/** What the plugin decorates the Fastify instance with (`fastify.weft` by default). */
export interface WeftDecoration {
  /**
   * The pool: created from `options.pool`, or the instance passed; `undefined` without one.
   * Untyped (any task name): `pool.proxy<typeof import('./tasks.js')>()` gives typed calls.
   */
  readonly pool: Pool | undefined;
  /** The actor system (on `pool` when there is one); `undefined` unless `options.actors`. */
  readonly actors: ActorSystem | undefined;
}

export interface WeftPluginOptions {
  /** Options of a pool to create, or an existing `Pool` (of any task module type) to use. */
  pool?: PoolOptions | Pool<unknown>;
  /**
   * `true` or `ActorSystem` options (without `pool`): create an actor system, on the pool when
   * there is one. Or an existing `ActorSystem` to use.
   */
  actors?: boolean | Omit<ActorSystemOptions, 'pool'> | ActorSystem;
  /** The decorator's name; default `'weft'` (only that name is typed on `FastifyInstance`). */
  decorator?: string;
  /**
   * Also close a `Pool` and shut down an `ActorSystem` that were passed in as instances when the
   * server closes. Default `false` (what the plugin creates from options it always closes).
   */
  closeOnExit?: boolean;
  /** Milliseconds the actor system's shutdown waits for actors to stop before killing them; default 5000. */
  shutdownTimeout?: number;
}

/**
 * The option names the plugin accepts: its own, and the ones Fastify itself reads from the
 * options of `register` and passes along (`prefix`, `logLevel`, `logSerializers`). Anything else
 * throws `WEFT_INVALID_ARG` naming the nearest valid one. Each list must name every key of its
 * interface (checked at compile time by `optionNames`): add new options to both.
 */
const PLUGIN_OPTIONS = optionNames<WeftPluginOptions>()(['pool', 'actors', 'decorator', 'closeOnExit', 'shutdownTimeout']);
const REGISTER_OPTIONS = optionNames<RegisterOptions>()(['prefix', 'logLevel', 'logSerializers']);
const PLUGIN_OPTION_SET: ReadonlySet<string> = new Set([...PLUGIN_OPTIONS, ...REGISTER_OPTIONS]);
/** `actors: { ... }`: ActorSystem options without `pool` (the plugin passes its own). */
const ACTORS_OPTION_SET: ReadonlySet<string> = new Set(ACTOR_SYSTEM_OPTIONS.filter((k) => k !== 'pool'));

declare module 'fastify' {
  interface FastifyInstance {
    /** weft's pool and actor system (`weft/fastify`, with the default decorator name). */
    weft: WeftDecoration;
  }
}

interface PluginSettings {
  decorator: string;
  closeOnExit: boolean;
  shutdownTimeout: number | undefined;
  poolOption: WeftPluginOptions['pool'];
  actorsOption: WeftPluginOptions['actors'];
}

/** The plugin's options, read once and checked (`WEFT_INVALID_ARG`, also for a getter or Proxy trap that throws). */
function readPluginOptions(given: WeftPluginOptions): PluginSettings {
  if (given === null || typeof given !== 'object') throw new InvalidArgumentError('weft/fastify expects an options object');
  const options = checkOptionNames(given, PLUGIN_OPTION_SET, 'weft/fastify options');
  const { decorator = 'weft', closeOnExit = false, shutdownTimeout } = options;
  if (typeof decorator !== 'string' || decorator === '') {
    throw new InvalidArgumentError(`decorator must be a non-empty string, got ${describe(decorator)}`);
  }
  if (typeof closeOnExit !== 'boolean') throw new InvalidArgumentError(`closeOnExit must be a boolean, got ${describe(closeOnExit)}`);
  if (shutdownTimeout !== undefined && (typeof shutdownTimeout !== 'number' || !(shutdownTimeout >= 0))) {
    throw new InvalidArgumentError(`shutdownTimeout must be a non-negative number of milliseconds, got ${describe(shutdownTimeout)}`);
  }
  if (options.pool !== undefined && (options.pool === null || typeof options.pool !== 'object')) {
    throw new InvalidArgumentError('pool must be Pool options or a Pool');
  }
  try {
    void (options.pool instanceof Pool);
  } catch (err) {
    // A Proxy whose getPrototypeOf trap throws.
    throw new InvalidArgumentError(`weft/fastify options.pool: reading it threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
  let actorsOption = options.actors;
  try {
    if (
      actorsOption !== undefined &&
      typeof actorsOption !== 'boolean' &&
      (actorsOption === null || typeof actorsOption !== 'object' || 'pool' in actorsOption)
    ) {
      throw new InvalidArgumentError('actors must be a boolean, ActorSystem options without `pool`, or an ActorSystem');
    }
    if (typeof actorsOption === 'object' && !(actorsOption instanceof ActorSystem)) {
      actorsOption = checkOptionNames(actorsOption, ACTORS_OPTION_SET, 'weft/fastify options.actors');
    }
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`weft/fastify options.actors: reading it threw: ${thrownMessage(err)}`, {
      cause: err,
    });
  }
  if (options.pool === undefined && (actorsOption === undefined || actorsOption === false)) {
    throw new InvalidArgumentError('weft/fastify needs `pool` or `actors` (or both)');
  }
  return { decorator, closeOnExit, shutdownTimeout, poolOption: options.pool, actorsOption };
}

const plugin: FastifyPluginAsync<WeftPluginOptions> = async (fastify: FastifyInstance, options: WeftPluginOptions) => {
  const { decorator, closeOnExit, shutdownTimeout, poolOption, actorsOption } = readPluginOptions(options);
  if (fastify.hasDecorator(decorator)) {
    throw new InvalidArgumentError(`the Fastify instance already has a decorator named ${decorator}`);
  }

  const ownPool = !(poolOption instanceof Pool);
  // A pool passed in may be typed for its task module; the decoration holds it untyped.
  const pool: Pool | undefined =
    poolOption === undefined ? undefined : poolOption instanceof Pool ? (poolOption as Pool) : new Pool(poolOption);
  let actors: ActorSystem | undefined;
  const ownActors = !(actorsOption instanceof ActorSystem);
  try {
    if (actorsOption instanceof ActorSystem) actors = actorsOption;
    else if (actorsOption === true) actors = new ActorSystem(pool !== undefined ? { pool } : {});
    else if (typeof actorsOption === 'object') actors = new ActorSystem({ ...actorsOption, ...(pool !== undefined ? { pool } : {}) });
  } catch (err) {
    if (ownPool) await pool?.destroy();
    throw err;
  }

  const decoration: WeftDecoration = Object.freeze({ pool, actors });
  fastify.decorate(decorator, decoration);
  fastify.addHook('onClose', async () => {
    // The actors first: they may still be sending work to the pool.
    if (actors !== undefined && (ownActors || closeOnExit)) {
      await actors.shutdown(shutdownTimeout !== undefined ? { timeout: shutdownTimeout } : {});
    }
    if (pool !== undefined && (ownPool || closeOnExit)) await pool.close();
  });
};

/** The Fastify plugin (`app.register(weftPlugin, options)`); also the module's default export. */
export const weftPlugin = fp(plugin, { fastify: '5.x', name: 'weft' });
export default weftPlugin;

// fastify-piscina's plugin on weft (`fastify.piscina`, `fastify.runTask`): see piscina.ts.
export { fastifyPiscina, fastifyPiscina as piscina, type FastifyPiscinaOptions } from './piscina.js';
