// npm run demo:cache — a cache shared by a pool's workers (the README's SharedMap example,
// runnable: `node --import=tsx examples/shared/cache.mts`).
//
// A SharedMap with a bound and a TTL is handed to every task; a task looks a profile up, and on a
// miss "fetches" it (a 20 ms timer stands in for a network call) and inserts it with getOrInsert,
// so that when two workers miss at once, both render the same winner. A second SharedMap counts
// the fetches per id with increment. 400 renders of 20 ids: about 20 fetches, however the renders
// spread over the workers.
import { Pool, SharedMap } from 'weftjs';
import type { Profile } from './cache-tasks.mjs';

const profiles = new SharedMap<string, Profile>({ capacity: 10_000, ttl: 60_000 });
const fetches = new SharedMap<string, number>();
await using pool = new Pool<typeof import('./cache-tasks.mjs')>({ module: new URL('./cache-tasks.mts', import.meta.url), threads: 2 });

const ids = Array.from({ length: 400 }, (_, i) => `user-${i % 20}`);
const pages = await Promise.all(ids.map((id) => pool.run('render', profiles, fetches, id)));

const fetched = [...fetches.values()].reduce((a, b) => a + b, 0);
console.log(`${pages.length} renders on 2 workers, ${profiles.size} profiles cached, ${fetched} fetches`);
console.log(pages[0]);
for (const [i, page] of pages.entries()) {
  if (page !== `<h1>${ids[i]} (fetched by worker ${page.match(/worker (\d+)/)?.[1]})</h1>`) throw new Error(`unexpected page ${page}`);
}
// Every render of an id shows the same cached profile (the first insert won).
const byId = new Map<string, string>();
for (const [i, page] of pages.entries()) {
  const seen = byId.get(ids[i]!);
  if (seen !== undefined && seen !== page) throw new Error(`${ids[i]} rendered two profiles: ${seen} and ${page}`);
  byId.set(ids[i]!, page);
}
if (profiles.size !== 20) throw new Error(`expected 20 cached profiles, got ${profiles.size}`);
// A miss on two workers at once fetches twice (both insert; getOrInsert keeps the first).
if (fetched < 20) throw new Error(`expected at least one fetch per id, got ${fetched}`);
console.log('every id rendered one cached profile');
