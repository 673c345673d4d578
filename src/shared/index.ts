export { SharedStack, type SharedStackHandle } from './stack.js';
export type { Storable } from './codec.js';
