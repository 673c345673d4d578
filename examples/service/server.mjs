// Starts the demo service on 127.0.0.1.
//   node examples/service/server.mjs [--mode inline|piscina|weft] [--port 3000] [--threads N]
// Prints one JSON line {"listening": url, "mode": ...} once it accepts connections. SIGINT or
// SIGTERM closes it gracefully: no new connections, requests in flight are answered, then the
// pools and actors are drained (Fastify onClose hooks) and the process exits.
import { parseArgs } from 'node:util';
import { buildApp } from './app.mjs';

const { values } = parseArgs({
  options: { mode: { type: 'string', default: 'weft' }, port: { type: 'string', default: '3000' }, threads: { type: 'string' } },
});
const app = await buildApp({ mode: values.mode, ...(values.threads ? { threads: Number(values.threads) } : {}) });
// Requests whose handling started and finished: at exit they must be equal (nothing accepted is lost).
let started = 0;
let finished = 0;
app.addHook('onRequest', async () => {
  started++;
});
app.addHook('onResponse', async () => {
  finished++;
});
// While closing, answers end their connection: keep-alive connections would otherwise hold the
// close up until they time out (Fastify's keepAliveTimeout is 72 s).
let closing = false;
app.addHook('onSend', async (_req, reply) => {
  if (closing) reply.header('connection', 'close');
});
const url = await app.listen({ host: '127.0.0.1', port: Number(values.port) });
console.log(JSON.stringify({ listening: url, mode: values.mode }));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => {
        console.log(JSON.stringify({ closed: true, started, finished }));
        process.exit(0);
      },
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
