// One node of the example cluster: `node.mts <nats url> <name> host|call`.
// 'host' registers Counter, spawns "counter-1" (restart: 'respawn') and serves until it is killed.
// 'call' registers Counter too (so that it may take "counter-1" over), sends to it, and watches.
import { connect } from 'weftjs/cluster';
import { Counter } from './counter.mjs';

const [url, name, role] = process.argv.slice(2) as [string, string, 'host' | 'call'];
const node = await connect({ servers: url, cluster: 'example', name, failureWindowMs: 1000 });
node.register({ Counter });
const say = (what: string): void => console.log(`[${name} ${process.pid}] ${what}`);
node.on('nodeUp', (n) => say(`${n} is up`));
node.on('nodeDown', (n, { silentMs }) => say(`${n} is down (silent ${silentMs} ms)`));
node.on('respawned', (actor, { from, incarnation }) => say(`took ${actor} over from ${from} (incarnation ${incarnation})`));
process.on('SIGTERM', () => void node.drain().then(() => process.exit(0)));

if (role === 'host') {
  await node.spawn(Counter, 0, { name: 'counter-1', restart: 'respawn' });
  say('hosts counter-1');
  process.send?.('ready');
} else {
  const counter = node.ref<typeof Counter>('counter-1');
  for (let i = 0; i < 10; i++) counter.tell({ type: 'add', by: 1 });
  say(
    `counter-1 = ${await counter.ask({ type: 'get' })}, on pid ${await counter.ask({ type: 'whereAmI' })}; members: ${node
      .members()
      .map((m) => m.name)
      .join(', ')}`,
  );
  process.send?.('ready');
  // After the host is killed, the same ref reaches the actor again (started over, on this node).
  process.once('message', async () => {
    for (;;) {
      try {
        const n = await counter.ask({ type: 'get' }, { timeout: 500 });
        say(`counter-1 = ${n} again, on pid ${await counter.ask({ type: 'whereAmI' })}`);
        break;
      } catch (e) {
        say(`ask: ${(e as { code?: string }).code}`);
      }
    }
    await node.drain();
    process.exit(0);
  });
}
