export { SharedStack, type SharedStackHandle } from './stack.js';
export {
  SharedQueue,
  type SharedQueueHandle,
  type SharedQueueOptions,
  type SharedQueueStats,
  type SharedQueueWaitOptions,
} from './queue.js';
export { SharedMap, type MapKey, type SharedMapHandle, type SharedMapOptions, type SharedMapStats, type SetOptions } from './map.js';
export type { Storable } from './codec.js';
