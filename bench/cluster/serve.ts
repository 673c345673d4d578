/**
 * The serving child of the cluster bench: `node --import=tsx bench/cluster/serve.ts <lib> <url>`.
 * Sets up the library's serving side (adapters.ts: `serveSide`; with `--variant V --tag T`, that of
 * a membership row, faults.ts: `faultServeSide`), prints `@@ready` on stdout, and
 * serves until its stdin ends (the parent closes it once the calling child is done) or SIGTERM;
 * then closes and exits. Errors go to stderr and exit with 1.
 */
import { flags, parseBenchArgs } from '../harness/index.js';
import { serveSide } from './adapters.js';
import { faultServeSide } from './faults.js';
import { FAULT_VARIANTS, LIBS, LIB_ROWS, PAIR_ROWS, READY_MARK, VARIANTS } from './params.js';
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
    rows: flags.list(PAIR_ROWS, 'the rows the calling child runs (names the profiles)'),
    variant: { type: 'string', arg: 'V', help: `a membership row's serving side (${VARIANTS.join(', ')}) instead of the usual one` },
    tag: { type: 'string', arg: 'TAG', help: "with --variant: this run's names (node serve-TAG, actor echo-TAG)" },
  },
  positionals: [{ name: 'lib', choices: LIBS }, { name: 'url' }],
});
const [lib, url] = positionals;

async function main(): Promise<void> {
  const variant = o.variant;
  if (variant !== undefined && !(VARIANTS as string[]).includes(variant)) throw new Error(`unknown --variant ${variant}`);
  if (variant !== undefined && FAULT_VARIANTS[variant as keyof typeof FAULT_VARIANTS].lib !== lib)
    throw new Error(`--variant ${variant} is not ${lib}'s`);
  const side =
    variant === undefined
      ? await serveSide(lib, url)
      : await faultServeSide(variant as keyof typeof FAULT_VARIANTS, url, o.tag ?? String(process.pid));
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
