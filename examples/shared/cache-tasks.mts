// The tasks of examples/shared/cache.mts, on the pool's workers.
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import type { SharedMap } from 'weftjs';

export interface Profile {
  id: string;
  name: string;
  fetchedBy: number;
}

async function fetchProfile(id: string): Promise<Profile> {
  await sleep(20); // a network call
  return { id, name: id, fetchedBy: threadId };
}

export async function render(profiles: SharedMap<string, Profile>, fetches: SharedMap<string, number>, id: string): Promise<string> {
  let p = profiles.get(id); // every worker sees what any worker cached
  if (p === undefined) {
    fetches.increment(id);
    p = profiles.getOrInsert(id, await fetchProfile(id)); // one winner if two workers fetched at once
  }
  return `<h1>${p.name} (fetched by worker ${p.fetchedBy})</h1>`;
}
