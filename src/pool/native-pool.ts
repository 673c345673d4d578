import { native } from '../native.js';

export type NativePool = InstanceType<typeof native.NativePool>;
export const NativePoolClass: typeof native.NativePool = native.NativePool;
