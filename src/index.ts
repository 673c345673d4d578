/**
 * weft: Rust's concurrency toolkit for Node.js.
 */
export { SharedStack, type SharedStackHandle, type Storable } from './shared/index.js';
export {
  ERROR_CODES,
  WeftError,
  DataCloneError,
  InvalidArgumentError,
  isWeftError,
  type WeftErrorCode,
} from './errors.js';
