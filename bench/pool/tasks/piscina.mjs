// piscina's task file: named exports, picked per call with `pool.run(arg, { name })`.
export { inc, incChunk, fibWork, fibSeq, factorialTask } from './work.mjs';
export { inc as default } from './work.mjs';
