export { defineActor, type ActorSpec } from './define.js';
export { ActorRef, type ActorRefJSON } from './ref.js';
export { Router, type Routing, type RouterOptions, type RouterSpawnOptions } from './router.js';
export {
  ActorSystem,
  type ActorSystemOptions,
  type ActorSystemStats,
  type ActorStats,
  type ActorSystemEvents,
  type DeadLetterInfo,
} from './system.js';
export type { ActorTransport } from './transport.js';
export type {
  ActorContext,
  Deferred,
  ActorDefinition,
  AnyActorDefinition,
  ActorMessage,
  MessageType,
  MessageFor,
  MessageOf,
  ReplyOf,
  ArgOf,
  StateOf,
  HandlersOf,
  Handler,
  Handlers,
  AskOptions,
  SpawnOptions,
  MailboxOptions,
  Overflow,
  SupervisionOptions,
  BackoffOptions,
  Directive,
  Placement,
  Termination,
} from './types.js';
