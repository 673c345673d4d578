export { SharedStack, type SharedStackHandle } from './stack.js';
export { SharedQueue, type SharedQueueHandle, type SharedQueueOptions, type SharedQueueStats } from './queue.js';
export type { Storable } from './codec.js';
