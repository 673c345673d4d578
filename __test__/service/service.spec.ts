import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers.js';

// The demo service (examples/service) imports weft through the package name, i.e. the build in
// dist/ (`npm install` makes it). It is plain JavaScript, as a user's service would be.
interface Reply {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  json<T = Record<string, unknown>>(): T;
}
interface App {
  inject(opts: { method: string; url: string; payload?: unknown }): Promise<Reply>;
  close(): Promise<void>;
}
type BuildApp = (opts: { mode: string; threads?: number; mailbox?: number }) => Promise<App>;
type Digest = (data: string, rounds: number) => string;

const load = async (): Promise<{ buildApp: BuildApp; digest: Digest }> => {
  const app = (await import(join(ROOT, 'examples/service/app.mjs'))) as { buildApp: BuildApp };
  const work = (await import(join(ROOT, 'examples/service/work.mjs'))) as { digest: Digest };
  return { buildApp: app.buildApp, digest: work.digest };
};

for (const mode of ['inline', 'piscina', 'weft']) {
  test(`${mode}: every route answers correctly under concurrent requests`, async (t) => {
    const { buildApp, digest } = await load();
    const app = await buildApp({ mode, threads: 2 });
    try {
      const data = 'abc'.repeat(100);
      const hashes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => app.inject({ method: 'POST', url: '/hash', payload: { data, rounds: 1 + (i % 4) } })),
      );
      hashes.forEach((r, i) => {
        t.is(r.statusCode, 200);
        t.is(r.json<{ hex: string }>().hex, digest(data, 1 + (i % 4)));
      });
      // 200 deposits of 1..4 over 5 accounts, concurrently: no lost update.
      const deposits = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          app.inject({ method: 'POST', url: `/accounts/a${i % 5}/deposit`, payload: { amount: 1 + (i % 4) } }),
        ),
      );
      t.true(deposits.every((r) => r.statusCode === 200));
      for (let k = 0; k < 5; k++) {
        const want = Array.from({ length: 200 }, (_, i) => i)
          .filter((i) => i % 5 === k)
          .reduce((s, i) => s + 1 + (i % 4), 0);
        const got = (await app.inject({ method: 'GET', url: `/accounts/a${k}` })).json<{ balance: number; ops: number }>();
        t.is(got.balance, want, `account a${k}`);
        t.is(got.ops, 40);
      }
      const refused = (await app.inject({ method: 'POST', url: '/accounts/a0/withdraw', payload: { amount: 1e6 } })).json<{
        refused?: string;
      }>();
      t.is(refused.refused, 'insufficient funds');
      const a = (await app.inject({ method: 'GET', url: '/analytics?over=0' })).json<{
        count: number;
        above: number;
        p50: number;
        mean: number;
      }>();
      t.is(a.count, 40);
      t.is(a.above, 40);
      t.true(a.p50 > 0 && a.mean > 0);
      // Bad input is a 400 with a reason, not a crash.
      const bad = await app.inject({ method: 'POST', url: '/hash', payload: { data: 1, rounds: -1 } });
      t.is(bad.statusCode, 400);
      const badAmount = await app.inject({ method: 'POST', url: '/accounts/a0/deposit', payload: { amount: -5 } });
      t.is(badAmount.statusCode, 400);
      const stats = (await app.inject({ method: 'GET', url: '/stats' })).json<{ eventLoopDelay: { p99: number } }>();
      t.true(stats.eventLoopDelay.p99 >= 0);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      t.is(metrics.statusCode, 200);
      if (mode === 'weft') t.regex((metrics as unknown as { body: string }).body, /weft_/);
    } finally {
      await app.close();
    }
  });
}

test('weft: an overloaded account answers 503 with Retry-After; every accepted deposit is counted once', async (t) => {
  const { buildApp } = await load();
  const app = await buildApp({ mode: 'weft', threads: 2, mailbox: 1 });
  try {
    const replies = await Promise.all(
      Array.from({ length: 400 }, () => app.inject({ method: 'POST', url: '/accounts/hot/deposit', payload: { amount: 1 } })),
    );
    const ok = replies.filter((r) => r.statusCode === 200).length;
    const busy = replies.filter((r) => r.statusCode === 503);
    t.is(ok + busy.length, replies.length, 'only 200 and 503');
    t.true(busy.length > 0, 'a mailbox of 1 under 400 concurrent deposits refuses some');
    t.true(busy.every((r) => r.headers['retry-after'] === '1' && r.json<{ code: string }>().code === 'WEFT_MAILBOX_FULL'));
    const after = (await app.inject({ method: 'GET', url: '/accounts/hot' })).json<{ balance: number; ops: number }>();
    t.is(after.balance, ok, 'exactly the accepted deposits');
    t.is(after.ops, ok);
  } finally {
    await app.close();
  }
});

test('graceful shutdown: SIGTERM while requests are in flight answers every request it accepted, then exits 0', async (t) => {
  const child = spawn(process.execPath, [join(ROOT, 'examples/service/server.mjs'), '--mode', 'weft', '--port', '0', '--threads', '2'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{"listening"'));
      if (line) resolve((JSON.parse(line) as { listening: string }).listening);
    });
    child.once('exit', (code) => reject(new Error(`server exited early: ${code} ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // 80 hashes of a few ms each on 2 threads: many are still running when the signal comes.
  const body = JSON.stringify({ data: 'weft'.repeat(512), rounds: 1500 });
  let answered = 0;
  const requests = Array.from({ length: 80 }, () =>
    fetch(`${url}/hash`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
      async (r) => {
        answered++;
        return { status: r.status, hex: ((await r.json()) as { hex?: string }).hex };
      },
      (err: Error) => ({ status: 0, hex: err.message }),
    ),
  );
  while (answered < 5) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGTERM');
  const results = await Promise.all(requests);
  const code = await exited;
  t.is(code, 0, stderr);
  const closed = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"closed"')) ?? '{}') as { started?: number; finished?: number };
  t.is(closed.started, closed.finished, 'every request the service started was answered');
  const ok = results.filter((r) => r.status === 200);
  t.true(
    results.every((r) => r.status === 200 || r.status === 503),
    `statuses: ${JSON.stringify(results.map((r) => r.status))}`,
  );
  t.true(ok.length > 5, `${ok.length} answered 200 (requests in flight at the signal finished)`);
  t.true(ok.every((r) => typeof r.hex === 'string' && r.hex.length === 16));
  t.is(ok.length, results.length - results.filter((r) => r.status === 503).length);
});
