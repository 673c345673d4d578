/**
 * The actor host's seams (src/actor/host/, src/actor/transport.ts): a host is given a
 * `LocalRuntime` (actors, names, mailboxes, its turn) and an `ActorTransport` (delivery to other
 * threads). A transport that implements delivery only (`host`, `send`, `sendBatch`), as a network
 * transport would, is enough: the host makes no other native call through it.
 */
import test from 'ava';
import { WeftError, defineActor } from '../../src/index.js';
import { ActorHost, registerHost, unregisterHost } from '../../src/actor/host.js';
import { ActorRef } from '../../src/actor/ref.js';
import { NativeRuntime, NativeTransport, type ActorTransport, type LocalRuntime } from '../../src/actor/transport.js';
import { native } from '../../src/native.js';

const HostEcho = defineActor({
  name: 'actor-host.spec.Echo',
  init: () => ({ seen: 0 }),
  handlers: {
    echo: (state, msg: { v: number }) => {
      state.seen++;
      return msg.v;
    },
    seen: (state) => state.seen,
  },
});

test('a delivery-only transport and a local runtime: local work stays in the runtime, remote delivery goes through the transport', async (t) => {
  const system = new native.NativeActorSystem(null);
  const delivered: string[] = [];
  const inner = new NativeTransport(system, 0);
  // Delivery only: nothing of the local runtime is stubbed here.
  const transport: ActorTransport = {
    host: 0,
    send(target, sys, envelope) {
      delivered.push(`send ${target}`);
      return inner.send(target, sys, envelope);
    },
    sendBatch(records) {
      delivered.push('sendBatch');
      inner.sendBatch(records);
    },
  };
  const local = new NativeRuntime(system, 0);
  const used = new Set<string>();
  const runtime: LocalRuntime = {
    host: 0,
    create: (...a) => (used.add('create'), local.create(...a)),
    lookup: (name) => (used.add('lookup'), local.lookup(name)),
    mailboxOf: (id) => (used.add('mailboxOf'), local.mailboxOf(id)),
    remove: (id) => (used.add('remove'), local.remove(id)),
    countRestart: (id) => (used.add('countRestart'), local.countRestart(id)),
    countProcessed: (pairs) => (used.add('countProcessed'), local.countProcessed(pairs)),
    deadLetter: (env) => (used.add('deadLetter'), local.deadLetter(env)),
    exchange: (...a) => (used.add('exchange'), local.exchange(...a)),
    onWake: (wake) => (used.add('onWake'), local.onWake(wake)),
  };
  const host = new ActorHost({ system: system.id, process: system.token, transport, runtime, workers: 0 });
  registerHost(host);
  try {
    const ref = host.spawn(HostEcho, undefined, { on: 'main', name: 'actor-host.spec.echo' }, undefined);
    t.is(await ref.ask({ type: 'echo', v: 7 }), 7);
    t.true(host.lookup('actor-host.spec.echo')?.equals(ref));
    t.deepEqual(delivered, [], 'same-thread messages stay in JavaScript');

    // An actor that is not on this thread (here: none at all), behind a bounded mailbox: one
    // envelope through the transport, a dead letter there.
    const away = new ActorRef(system.id, system.token, 4242, true);
    away.tell({ type: 'echo', v: 1 });
    t.deepEqual(delivered, ['send 4242']);
    t.is(system.deadLetters(), 1);
    // A message type the actor does not handle, through an untyped ref: a dead letter the host
    // found itself, kept by the runtime.
    new ActorRef(system.id, system.token, ref.id, false).tell({ type: 'nope' });
    t.is(await ref.ask({ type: 'seen' }), 1);
    t.is(system.deadLetters(), 2);
    for (const call of ['onWake', 'create', 'lookup', 'mailboxOf', 'deadLetter']) t.true(used.has(call), call);
  } finally {
    host.close(new WeftError('WEFT_CLOSED', 'the actor system is shut down'));
    unregisterHost(host);
  }
  t.true(used.has('remove'), 'close removes the actors from the runtime');
});
