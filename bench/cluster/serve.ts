/**
 * The serving child of the cluster bench: `node --import=tsx bench/cluster/serve.ts <lib> <url>`.
 * Sets up the library's serving side (adapters.ts: `serveSide`), prints `@@ready` on stdout, and
 * serves until its stdin ends (the parent closes it once the calling child is done) or SIGTERM;
 * then closes and exits. Errors go to stderr and exit with 1.
 */
import { flags, parseBenchArgs } from '../harness/index.js';
import { serveSide } from './adapters.js';
import { LIBS, LIB_ROWS, READY_MARK, ROWS } from './params.js';
import { Profiler } from './profile.js';

const { values: o, positionals } = parseBenchArgs({
  usage: 'node --import=tsx bench/cluster/serve.ts <lib> <url>',
  description: 'The serving side of one library for bench/cluster (started by bench/cluster/index.ts); serves until stdin ends.',
  flags: {
    profile: {
      type: 'string',
      arg: 'DIR',
      help: "CPU profiles of the calling child's timed parts: SIGUSR2 starts one, the next writes it",
    },
    rows: flags.list(ROWS, 'the rows the calling child runs (names the profiles)'),
  },
  positionals: [{ name: 'lib', choices: LIBS }, { name: 'url' }],
});
const [lib, url] = positionals;

async function main(): Promise<void> {
  const side = await serveSide(lib, url);
  if (o.profile !== undefined) {
    const profiler = new Profiler(o.profile, `${lib}-%s-serve`);
    const rows = o.rows.filter((r) => LIB_ROWS[lib].includes(r));
    let k = 0;
    process.on('SIGUSR2', () => {
      if (profiler.running) void profiler.stop(rows[k++] ?? `part${k}`);
      else void profiler.start();
    });
  }
  process.stdout.write(`${READY_MARK} ${JSON.stringify({ setup: side.setup })}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume();
    process.once('SIGTERM', resolve);
  });
  const closed = side.close();
  const limit = new Promise((r) => setTimeout(r, 10_000).unref());
  await Promise.race([closed, limit]);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`serve ${lib}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
