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
export { Pool, currentPool } from './pool/pool.js';
export { taskSignal } from './pool/context.js';
export type { TaskRunner } from './pool/runner.js';
export type {
  PoolOptions,
  RunOptions,
  MapOptions,
  PoolStats,
  WorkerStats,
  Percentiles,
  PoolProxy,
  TaskName,
  TaskArgs,
  TaskResult,
  TaskModule,
  TransferListItem,
} from './pool/types.js';
export {
  par,
  Par,
  ParCompileError,
  type ParFunction,
  type NumericArray,
  type NumericArrayConstructor,
  type Captures,
  type ToArrayOptions,
  type ToArrayIntoOptions,
  type SortOptions,
  type ParOptions,
  type SourcePosition,
  type FileLocation,
} from './par/index.js';
export {
  defineActor,
  ActorRef,
  ActorSystem,
  type ActorSpec,
  type ActorRefJSON,
  type ActorSystemOptions,
  type ActorSystemStats,
  type ActorStats,
  type ActorSystemEvents,
  type DeadLetterInfo,
  type ActorTransport,
  type ActorContext,
  type ActorDefinition,
  type AnyActorDefinition,
  type ActorMessage,
  type MessageType,
  type MessageFor,
  type MessageOf,
  type ReplyOf,
  type ArgOf,
  type StateOf,
  type HandlersOf,
  type Handler,
  type Handlers,
  type AskOptions,
  type SpawnOptions,
  type MailboxOptions,
  type Overflow,
  type SupervisionOptions,
  type BackoffOptions,
  type Directive,
  type Placement,
  type Termination,
} from './actor/index.js';
