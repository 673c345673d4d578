/**
 * `weftjs/piscina`: a drop-in replacement for piscina (4 and 5), running on weft's `Pool`.
 *
 * ```js
 * // import Piscina from 'piscina';
 * import Piscina from 'weftjs/piscina';
 *
 * const piscina = new Piscina({ filename: new URL('./worker.mjs', import.meta.url).href });
 * console.log(await piscina.run({ a: 4, b: 6 }));
 * ```
 *
 * Like piscina's, the CommonJS module is the class itself (`const Piscina = require('weftjs/piscina')`),
 * with every named export also a static property of it (`Piscina.move`, `Piscina.Piscina`...).
 * docs/piscina.md lists what is honoured, ignored and refused, and the differences in behaviour.
 */
import { AbortError, Piscina } from './piscina.js';

export { AbortError, Piscina, type PiscinaAbortSignal, type PiscinaCloseOptions, type PiscinaRunOptions } from './piscina.js';
export type { PiscinaAtomics, PiscinaFilledOptions, PiscinaOptions } from './options.js';
export type { PiscinaHistogram, PiscinaHistogramSummary } from './histogram.js';
export type { PiscinaTransferable } from './move.js';

/** Marks an ArrayBuffer, typed array, MessagePort or Transferable to be transferred rather than copied. */
export const move: typeof Piscina.move = Piscina.move;
/** Whether this thread is a worker of a weft pool (piscina's `isWorkerThread`). */
export const isWorkerThread: boolean = Piscina.isWorkerThread;
/** In a worker: a copy of the `workerData` option; elsewhere undefined. */
export const workerData: unknown = Piscina.workerData;
/** weft's version. */
export const version: string = Piscina.version;
/** The key under which a Transferable object names what to transfer. */
export const transferableSymbol: typeof Piscina.transferableSymbol = Piscina.transferableSymbol;
/** The key under which a Transferable object holds the value to send. */
export const valueSymbol: typeof Piscina.valueSymbol = Piscina.valueSymbol;
export default Piscina;

// CommonJS: `require('weftjs/piscina')` is the class, as `require('piscina')` is. Its static
// properties are the named exports; `default` and `__esModule` make `import Piscina from` work
// from transpiled code, and let the ESM face (scripts/build-ts.mjs) re-export every name.
if (typeof module === 'object' && module !== null) {
  Object.defineProperty(Piscina, 'AbortError', { value: AbortError, enumerable: true });
  Object.defineProperty(Piscina, 'default', { value: Piscina, enumerable: true });
  Object.defineProperty(Piscina, '__esModule', { value: true });
  module.exports = Piscina;
}
