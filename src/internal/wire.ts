/**
 * The face of the wire codec (src/internal/wire/): `import ... from '../internal/wire.js'`.
 * The format is described in wire/index.ts.
 */
export * from './wire/index.js';
