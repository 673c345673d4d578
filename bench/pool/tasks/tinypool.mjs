// tinypool's task file (same shape as piscina's): named exports, `pool.run(arg, { name })`.
export { inc, incChunk, fibWork, fibSeq, factorialTask } from './work.mjs';
export { inc as default } from './work.mjs';
