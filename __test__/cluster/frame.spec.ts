// The cluster's frames as a peer could send them: the decoder takes untrusted bytes. Random
// mutations of valid frames and random bytes decode to a frame or throw a WeftError
// (WEFT_INVALID_ARG, or WEFT_DATA_CLONE for a handle that may not come from the network), never
// another error; handles other than remote actor addresses are refused; what is written reads
// back the same (fast-check against the value itself).
import test from 'ava';
import fc from 'fast-check';
import { ActorRef, ActorSystem, SharedStack, WeftError } from '../../src/index.js';
import {
  ASK,
  ASKS,
  BATCH,
  CALL,
  FAILURE,
  FRAME_VERSION,
  FrameCodec,
  REPLIES,
  REPLY,
  TELL,
  batchFrame,
  keyedFrame,
} from '../../src/cluster/frame.js';
import { networkProfile } from '../../src/cluster/profile.js';
import { RemoteRef, type RemoteSender } from '../../src/cluster/remote-ref.js';
import { HANDLE_ACTOR_REF, HANDLE_REMOTE_REF, HANDLE_SHARED_STACK, WireWriter } from '../../src/internal/wire.js';

const sender: RemoteSender = {
  tell: () => {},
  ask: () => Promise.resolve(undefined),
  gateway: undefined,
};

function codec(exported = new Map<number, ActorRef>()): FrameCodec {
  return new FrameCodec(
    networkProfile({ self: 'me', sender, export: (ref) => exported.set(ref.id, ref), local: (id) => exported.get(id) }),
    (v) => v instanceof SharedStack,
  );
}

/** The frame header and a value written by a plain writer (its handles as the local codecs write them). */
function rawFrame(kind: number, write: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter();
  w.u8(FRAME_VERSION);
  w.u8(kind);
  write(w);
  return w.view().slice();
}

const values = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: false,
  withBoxedValues: false,
  withSparseArray: true,
});

test('frames read back what was written, for any value (property)', (t) => {
  const c = codec();
  fc.assert(
    fc.property(values, fc.constantFrom(TELL, REPLY, FAILURE, ASK), (v, kind) => {
      const f = c.decode(c.encode(kind, v, 'msg', 1234));
      t.is(f.kind, kind);
      t.is(f.timeoutMs, kind === ASK ? 1234 : 0);
      t.deepEqual(f.value, v);
    }),
    { numRuns: 300 },
  );
  const call = c.decode(c.encode(CALL, ['task', 1, { a: [2n] }], 'args', 50));
  t.deepEqual(call, { kind: CALL, timeoutMs: 50, value: ['task', 1, { a: [2n] }] });
});

test('hostile bytes: a frame or a WeftError (WEFT_INVALID_ARG / WEFT_DATA_CLONE), never another error (property)', (t) => {
  const c = codec();
  const seeds = [
    c.encode(TELL, { type: 'add', by: 1, ref: new RemoteRef({ name: 'x' }, sender) }, 'msg'),
    c.encode(ASK, [1, 'two', { three: new Map([[3, new Set([4n])]]) }], 'msg', 100),
    c.encode(CALL, ['task', new Uint8Array([1, 2, 3]), new Date(0)], 'args', 100),
    c.encode(FAILURE, Object.assign(new RangeError('bad', { cause: new Error('inner') }), { code: 'E' }), 'error'),
    (() => {
      const frames = [c.encode(TELL, 1, 'msg'), c.encode(TELL, { a: 'b' }, 'msg')];
      return batchFrame(frames, frames[0]!.length + frames[1]!.length);
    })(),
    // Refused handles, read again to locate them: that second reading takes hostile bytes too.
    rawFrame(TELL, (w) => w.value({ a: [new SharedStack(), 2, new ActorRef(1.5, 1, 7, false)], b: 'x' })),
  ];
  const codes = new Map<string, number>();
  let decoded = 0;
  const check = (bytes: Uint8Array): void => {
    try {
      c.decode(bytes);
      decoded++;
    } catch (e) {
      if (!(e instanceof WeftError) || !['WEFT_INVALID_ARG', 'WEFT_DATA_CLONE'].includes(e.code)) {
        t.fail(`bytes ${Buffer.from(bytes).toString('hex')} threw ${String(e)}`);
        throw e;
      }
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
  };
  const mutation = fc.record({
    seed: fc.nat(seeds.length - 1),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    cut: fc.option(fc.nat()),
  });
  fc.assert(
    fc.property(mutation, ({ seed, edits, cut }) => {
      const b = seeds[seed]!.slice();
      for (const [at, byte] of edits) b[at % b.length] = byte;
      check(cut === null ? b : b.subarray(0, cut % (b.length + 1)));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => check(b)),
    { numRuns: 2000 },
  );
  t.log({ decoded, refused: Object.fromEntries(codes) });
  t.true(decoded > 0 && (codes.get('WEFT_INVALID_ARG') ?? 0) > 0 && (codes.get('WEFT_DATA_CLONE') ?? 0) > 0);
});

test('from the network only remote actor addresses become handles: a SharedStack or a local ActorRef handle is WEFT_DATA_CLONE', (t) => {
  const c = codec();
  for (const subTag of [HANDLE_SHARED_STACK, HANDLE_ACTOR_REF, 99]) {
    const bytes = rawFrame(TELL, (w) => {
      w.u8(1); // the wire version
      w.handleHeader(subTag);
      w.f64(1);
      w.u32(1);
      w.u32(1);
      w.u8(0);
    });
    t.throws(() => c.decode(bytes), { code: 'WEFT_DATA_CLONE', message: new RegExp(`sub-tag ${subTag} came from the network`) });
  }
  // A remote address with a name that is not a token (a subject could be forged with it).
  const forged = rawFrame(TELL, (w) => {
    w.u8(1);
    w.handleHeader(HANDLE_REMOTE_REF);
    w.u8(1);
    w.string('a.>');
  });
  t.throws(() => c.decode(forged), { code: 'WEFT_INVALID_ARG', message: /malformed name/ });
  // Unknown version, kind, trailing bytes.
  t.throws(() => c.decode(Uint8Array.of(9, TELL, 1, 0)), { code: 'WEFT_INVALID_ARG', message: /version 9/ });
  t.throws(() => c.decode(Uint8Array.of(FRAME_VERSION, 77, 1, 0)), { code: 'WEFT_INVALID_ARG', message: /kind 77/ });
  t.throws(() => c.decode(Uint8Array.of(FRAME_VERSION, TELL, 1, 0, 0)), { code: 'WEFT_INVALID_ARG', message: /after the frame/ });
});

test("a local ActorRef leaves as this node's address and comes back as itself; a SharedStack does not leave", async (t) => {
  const exported = new Map<number, ActorRef>();
  const c = codec(exported);
  const system = new ActorSystem();
  t.teardown(() => system.shutdown());
  const { defineActor } = await import('../../src/index.js');
  const ref = system.spawn(defineActor({ init: () => 0, handlers: { get: (s: number) => s } }), undefined, { on: 'main' });
  const back = c.decode(c.encode(TELL, { to: ref }, 'msg')).value as { to: unknown };
  t.is(back.to, ref);
  t.true(exported.has(ref.id));
  const other = codec();
  const there = other.decode(c.encode(TELL, ref, 'msg')).value;
  t.true(there instanceof RemoteRef);
  t.deepEqual((there as RemoteRef).address, { node: 'me', id: ref.id });
  t.throws(() => c.encode(TELL, { a: [new SharedStack()] }, 'msg'), { code: 'WEFT_DATA_CLONE', message: /\(at msg\.a\[0\]\)/ });
});

test('a handle refused in bytes from the network is named by its path in the value, in any frame kind', (t) => {
  const c = codec();
  const stack = new SharedStack();
  const local = new ActorRef(1.5, 1, 7, false);
  // A plain writer writes the handles as the local codecs do: what a hostile or buggy peer could send.
  const plain = (kind: number, value: unknown, timeout?: number): Uint8Array =>
    rawFrame(kind, (w) => {
      if (timeout !== undefined) w.u32(timeout);
      if (kind === CALL) w.values(value as unknown[]);
      else w.value(value);
    });
  const cases: [Uint8Array, RegExp][] = [
    [plain(TELL, { items: [1, { s: stack }] }), /\(at msg\.items\[1\]\.s\)$/],
    [plain(ASK, new Map([['k', [local]]]), 100), /\(at msg\.get\("k"\)\[0\]\)$/],
    [plain(REPLY, ['ok', stack]), /\(at reply\[1\]\)$/],
    [plain(CALL, ['task', 1, { deep: { er: stack } }], 50), /\(at args\[1\]\.deep\.er\)$/],
  ];
  const tells = [c.encode(TELL, 'fine', 'msg'), plain(TELL, { x: [0, 0, stack] })];
  cases.push([batchFrame(tells, tells[0]!.length + tells[1]!.length), /\(at tells\[1\]\.x\[2\]\)$/]);
  for (const [bytes, at] of cases) {
    const err = t.throws(() => c.decode(bytes), { code: 'WEFT_DATA_CLONE', message: at });
    t.regex(err.message, /came from the network/);
  }
  // A handle no codec here knows cannot be skipped: the error stays, without a path.
  const unknown = rawFrame(TELL, (w) => {
    w.u8(1);
    w.handleHeader(99);
    w.u32(0);
  });
  const plainErr = t.throws(() => c.decode(unknown), { code: 'WEFT_DATA_CLONE', message: /sub-tag 99 came from the network/ });
  t.notRegex(plainErr.message, /\(at /);
});

test('keyed frames (ASKS, REPLIES): entries read back by id, each frame decoded on its own; the envelope is checked whole (property)', (t) => {
  const c = codec();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), values), { minLength: 1, maxLength: 8 }), (list) => {
      const frames = list.map(([ask, v]) => c.encode(ask ? ASK : TELL, v, 'msg', 10));
      const ids = list.map(([ask], i) => (ask ? i + 1 : 0));
      const bytes = keyedFrame(
        ASKS,
        ids,
        frames,
        frames.reduce((n, f) => n + f.length, 0),
      );
      const entries = c.keyed(bytes, ASKS);
      t.deepEqual(
        entries.map((e) => e.id),
        ids,
      );
      entries.forEach((e, i) => t.deepEqual(c.decode(e.bytes).value, list[i]![1]));
    }),
    { numRuns: 100 },
  );
  const reply = c.encode(REPLY, 1, 'reply');
  const ask = c.encode(ASK, 1, 'msg', 5);
  const tell = c.encode(TELL, 1, 'msg');
  // Wrong kinds inside, an ask without an id, a tell with one, the wrong outer kind, trailing bytes.
  t.throws(() => c.keyed(keyedFrame(ASKS, [1], [reply], reply.length), ASKS), { code: 'WEFT_INVALID_ARG', message: /kind 3/ });
  t.throws(() => c.keyed(keyedFrame(REPLIES, [1], [ask], ask.length), REPLIES), { code: 'WEFT_INVALID_ARG' });
  t.throws(() => c.keyed(keyedFrame(ASKS, [0], [ask], ask.length), ASKS), { code: 'WEFT_INVALID_ARG', message: /id 0/ });
  t.throws(() => c.keyed(keyedFrame(ASKS, [3], [tell], tell.length), ASKS), { code: 'WEFT_INVALID_ARG', message: /id 3/ });
  t.throws(() => c.keyed(keyedFrame(ASKS, [1], [ask], ask.length), REPLIES), { code: 'WEFT_INVALID_ARG' });
  const trailing = new Uint8Array([...keyedFrame(REPLIES, [1], [reply], reply.length), 0]);
  t.throws(() => c.keyed(trailing, REPLIES), { code: 'WEFT_INVALID_ARG', message: /after the entries/ });
  // Not a frame decode() reads.
  t.throws(() => c.decode(keyedFrame(REPLIES, [1], [reply], reply.length)), { code: 'WEFT_INVALID_ARG', message: /kind 8/ });
});

test('hostile keyed frames: entries or WEFT_INVALID_ARG, and every entry a frame or a WeftError, never another error (property)', (t) => {
  const c = codec();
  const frames = [c.encode(TELL, { a: 1 }, 'msg'), c.encode(ASK, [1, 'two'], 'msg', 9), c.encode(ASK, new Map([[1, 2n]]), 'msg', 9)];
  const asks = keyedFrame(
    ASKS,
    [0, 1, 2],
    frames,
    frames.reduce((n, f) => n + f.length, 0),
  );
  const rs = [c.encode(REPLY, 'ok', 'reply'), c.encode(FAILURE, new Error('no'), 'error')];
  const replies = keyedFrame(REPLIES, [5, 6], rs, rs[0]!.length + rs[1]!.length);
  let read = 0;
  let refused = 0;
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.option(fc.nat()),
      (isAsks, edits, cut) => {
        const b = (isAsks ? asks : replies).slice();
        for (const [at, byte] of edits) b[at % b.length] = byte;
        const bytes = cut === null ? b : b.subarray(0, cut % (b.length + 1));
        try {
          for (const e of c.keyed(bytes, isAsks ? ASKS : REPLIES)) {
            try {
              c.decode(e.bytes);
              read++;
            } catch (err) {
              if (!(err instanceof WeftError)) throw err;
              refused++;
            }
          }
        } catch (err) {
          if (!(err instanceof WeftError) || err.code !== 'WEFT_INVALID_ARG') throw err;
          refused++;
        }
      },
    ),
    { numRuns: 3000 },
  );
  t.log({ read, refused });
  t.true(read > 0 && refused > 0);
});

test('a batch of tells reads back as its messages in order; a batch inside a batch, or of asks, is refused', (t) => {
  const c = codec();
  const msgs = [1, 'two', { three: [3n] }, undefined, new Map([[4, 4]])];
  const frames = msgs.map((m) => c.encode(TELL, m, 'msg'));
  const batch = batchFrame(
    frames,
    frames.reduce((n, f) => n + f.length, 0),
  );
  t.deepEqual(c.decode(batch), { kind: BATCH, timeoutMs: 0, value: msgs });
  const nested = batchFrame([batch], batch.length);
  t.throws(() => c.decode(nested), { code: 'WEFT_INVALID_ARG', message: /a batch holds a frame of kind 6/ });
  const ask = c.encode(ASK, 1, 'msg', 5);
  t.throws(() => c.decode(batchFrame([ask], ask.length)), { code: 'WEFT_INVALID_ARG', message: /kind 2/ });
  // A count larger than the bytes could hold is refused before anything is allocated.
  const lying = batch.slice();
  new DataView(lying.buffer).setUint32(2, 0xffffffff, true);
  t.throws(() => c.decode(lying), { code: 'WEFT_INVALID_ARG' });
});
