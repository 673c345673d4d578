/**
 * Where in a value the part that cannot cross machines is: `msg.items[2].fn`. Only called after
 * encoding failed, so it may be slow; it reads own enumerable properties, array elements, Map
 * and Set entries and an error's `cause`, depth-first, with a bound on depth and on objects seen.
 */
import { types } from 'node:util';

const MAX_DEPTH = 64;
const MAX_OBJECTS = 10_000;

/** The first path (from `root`, e.g. `msg`) at which `bad` holds, or undefined. */
export function pathTo(value: unknown, root: string, bad: (v: unknown) => boolean): string | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): string | undefined => {
    if (bad(v)) return path;
    if (v === null || typeof v !== 'object' || depth >= MAX_DEPTH || seen.size >= MAX_OBJECTS) return undefined;
    if (seen.has(v) || types.isProxy(v)) return undefined;
    seen.add(v);
    try {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const p = walk(v[i], `${path}[${i}]`, depth + 1);
          if (p !== undefined) return p;
        }
        return undefined;
      }
      if (v instanceof Map) {
        for (const [k, x] of v) {
          const p = walk(x, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : String(k)})`, depth + 1);
          if (p !== undefined) return p;
        }
        return undefined;
      }
      if (v instanceof Set) {
        let i = 0;
        for (const x of v) {
          const p = walk(x, `${path}<set item ${i++}>`, depth + 1);
          if (p !== undefined) return p;
        }
        return undefined;
      }
      if (ArrayBuffer.isView(v)) return undefined;
      for (const k of Object.keys(v)) {
        const key = /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
        const p = walk((v as Record<string, unknown>)[k], `${path}${key}`, depth + 1);
        if (p !== undefined) return p;
      }
      if (v instanceof Error && 'cause' in v) return walk(v.cause, `${path}.cause`, depth + 1);
    } catch {
      // A getter that throws: the encoder said why already.
    }
    return undefined;
  };
  return walk(value, root, 0);
}
