/**
 * The entry of a pool worker thread (the file `Pool` starts each worker with). The one place
 * that composes the pool's worker loop with what else lives on a worker: today the actor hosts
 * (pool/ imports no actor code; they meet here).
 */
import { workerData } from 'node:worker_threads';
import { ActorWorkerExtension } from '../actor/worker-extension.js';
import type { WorkerInit } from '../pool/protocol.js';
import { WorkerLoop } from '../pool/worker/loop.js';
// A worker decodes task arguments and messages: the wire handle codecs of what can travel nested
// in them must be registered on this thread. The shared structures' register when their modules
// load (ActorRef's comes with the actor extension, through actor/ref.ts).
import '../shared/index.js';
// A weftjs/cluster RemoteRef in a message works here through its node's gateway actor (no NATS
// client is loaded on workers).
import '../cluster/gateway.js';

const init = workerData as WorkerInit;
void new WorkerLoop(init, [new ActorWorkerExtension({ slot: init.slot, threads: init.threads })]).start();
