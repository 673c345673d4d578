/**
 * Objects the wire format refuses (WEFT_DATA_CLONE) although they are not functions or symbols:
 * what structured clone refuses too (promises, weak collections, iterators, Intl and WebAssembly
 * objects, proxies...), and what structured clone copies through the host's hooks, which bytes
 * cannot carry: Node's platform objects (Blob, File, BlockList, SocketAddress, KeyObject,
 * CryptoKey, X509Certificate, histograms; MessagePort, streams and FileHandle need a transfer list
 * anyway), WebAssembly.Module and shared memory (SharedArrayBuffer, and views over one: a copy
 * would silently end the sharing). Any other object of a class travels as its own enumerable
 * properties, as structured clone sends class instances.
 */
import { types } from 'node:util';

/** Symbols Node puts on the prototypes of objects that only its own hooks can clone or transfer. */
const HOST_SYMBOLS = new Set(['messaging_clone_symbol', 'messaging_transfer_symbol']);

let refusedProtos: Map<object, string> | undefined;

/** Built-in prototypes whose instances structured clone refuses (made on first use). */
function builtinRefusals(): Map<object, string> {
  const m = new Map<object, string>();
  const add = (C: unknown, name: string): void => {
    const proto = (C as { prototype?: unknown } | undefined)?.prototype;
    if (typeof proto === 'object' && proto !== null) m.set(proto, name);
  };
  const g = globalThis as Record<string, unknown>;
  add(g.WeakRef, 'a WeakRef could not be cloned');
  add(g.FinalizationRegistry, 'a FinalizationRegistry could not be cloned');
  add(g.MessagePort, 'a MessagePort could not be cloned: send it through postMessage with a transfer list');
  const it = (o: object): void => {
    m.set(Object.getPrototypeOf(o) as object, 'an iterator could not be cloned');
  };
  it([][Symbol.iterator]());
  it(''[Symbol.iterator]());
  it(/x/[Symbol.matchAll](''));
  const intl = Intl as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(Intl)) {
    if (typeof intl[name] === 'function' && /^[A-Z]/.test(name)) add(intl[name], `an Intl.${name} could not be cloned`);
  }
  const Segmenter = intl.Segmenter as (new () => { segment(s: string): object }) | undefined;
  if (Segmenter !== undefined) m.set(Object.getPrototypeOf(new Segmenter().segment('')) as object, 'Intl segments could not be cloned');
  const wasm = (g.WebAssembly ?? {}) as Record<string, unknown>;
  for (const name of ['Module', 'Instance', 'Memory', 'Table', 'Global', 'Tag', 'Exception']) {
    add(wasm[name], `a WebAssembly.${name} could not be cloned`);
  }
  return m;
}

/** Prototypes already looked at for host symbols (the answer: a reason, or '' for none). */
const hostProtos = new WeakMap<object, string>();

function hostReason(proto: object): string {
  let reason = hostProtos.get(proto);
  if (reason === undefined) {
    reason = '';
    for (const s of Object.getOwnPropertySymbols(proto)) {
      if (s.description !== undefined && HOST_SYMBOLS.has(s.description)) {
        const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
        const name = typeof ctor === 'function' ? ctor.name : '';
        reason = `a ${name || 'platform object'} could not be cloned: Node copies it through its own hooks, which bytes cannot carry`;
        break;
      }
    }
    hostProtos.set(proto, reason);
  }
  return reason;
}

/**
 * Why an object that is not a plain object, array, view, error, Map, Set, Date, RegExp, boxed
 * primitive, ArrayBuffer or registered handle cannot be written (the DataCloneError's message);
 * undefined when it can (as its own enumerable properties). Reads prototypes and descriptors only: no getters run.
 */
export function refusal(v: object): string | undefined {
  if (types.isPromise(v)) return 'a Promise could not be cloned';
  if (types.isWeakMap(v) || types.isWeakSet(v)) return `a ${types.isWeakMap(v) ? 'WeakMap' : 'WeakSet'} could not be cloned`;
  if (types.isGeneratorObject(v)) return 'a generator could not be cloned';
  if (types.isMapIterator(v) || types.isSetIterator(v)) return 'an iterator could not be cloned';
  if (types.isKeyObject(v)) return 'a KeyObject could not be cloned: Node copies it through its own hooks, which bytes cannot carry';
  if (types.isCryptoKey(v)) return 'a CryptoKey could not be cloned: Node copies it through its own hooks, which bytes cannot carry';
  if (types.isSharedArrayBuffer(v))
    return 'a SharedArrayBuffer could not be cloned: bytes cannot carry shared memory (send it through postMessage)';
  if (types.isExternal(v) || types.isModuleNamespaceObject(v)) return 'a host object could not be cloned';
  const refused = (refusedProtos ??= builtinRefusals());
  let proto = Object.getPrototypeOf(v) as object | null;
  for (let depth = 0; proto !== null && proto !== Object.prototype && depth < 64; depth++) {
    const builtin = refused.get(proto);
    if (builtin !== undefined) return builtin;
    const host = hostReason(proto);
    if (host !== '') return host;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return undefined;
}
