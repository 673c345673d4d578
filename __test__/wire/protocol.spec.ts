// Every number the TypeScript layer shares with weft-core comes from Rust
// (crate/binding/src/constants.rs, `#[napi] pub const`): this spec checks that each native
// constant has its TypeScript name with the same value, and that the TypeScript modules take the
// numbers from the binding rather than writing them again. (Error codes: package/errors.spec.ts; par op
// names: par/par.spec.ts.)
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as actor from '../../src/actor/protocol.js';
import { native } from '../../src/native.js';
import * as pool from '../../src/pool/protocol.js';
import * as sharedCodec from '../../src/shared/codec.js';

/** Native name → [TypeScript module, its name there]. */
const PAIRS: Record<string, [Record<string, unknown>, string]> = {
  POOL_MAIN_ORIGIN: [pool, 'MAIN_ORIGIN'],
  POOL_KIND_TASK: [pool, 'KIND_TASK'],
  POOL_KIND_COMPLETION: [pool, 'KIND_COMPLETION'],
  POOL_KIND_ABORT: [pool, 'KIND_ABORT'],
  POOL_KIND_SIGNAL: [pool, 'KIND_SIGNAL'],
  POOL_TASK_PAYLOAD_AT: [pool, 'TASK_PAYLOAD_AT'],
  POOL_TAKE_CAPPED: [pool, 'TAKE_CAPPED'],
  POOL_FLAG_FAILED: [pool, 'FLAG_FAILED'],
  POOL_FLAG_LOCAL: [pool, 'FLAG_LOCAL'],
  ACTOR_ENV_TELL: [actor, 'ENV_TELL'],
  ACTOR_ENV_ASK: [actor, 'ENV_ASK'],
  ACTOR_ENV_SYSTEM: [actor, 'ENV_SYSTEM'],
  ACTOR_ENV_BUNDLE: [actor, 'ENV_BUNDLE'],
  ACTOR_NOTICE_REPLY: [actor, 'NOTICE_REPLY'],
  ACTOR_NOTICE_ASK_FAILED: [actor, 'NOTICE_ASK_FAILED'],
  ACTOR_NOTICE_ROOM: [actor, 'NOTICE_ROOM'],
  ACTOR_NOTICE_LOST: [actor, 'NOTICE_LOST'],
  ACTOR_NOTICE_EVENT: [actor, 'NOTICE_EVENT'],
  ACTOR_REASON_FULL: [actor, 'REASON_FULL'],
  ACTOR_REASON_STOPPED: [actor, 'REASON_STOPPED'],
  ACTOR_IN_USER: [actor, 'IN_USER'],
  ACTOR_IN_SYSTEM: [actor, 'IN_SYSTEM'],
  ACTOR_IN_NOTICE: [actor, 'IN_NOTICE'],
  ACTOR_OUT_MESSAGE: [actor, 'OUT_MESSAGE'],
  ACTOR_OUT_NOTICE: [actor, 'OUT_NOTICE'],
  ACTOR_OUT_CONTROL: [actor, 'OUT_CONTROL'],
  ACTOR_DELIVERY_QUEUED: [actor, 'DELIVERY_QUEUED'],
  ACTOR_DELIVERY_EVICTED: [actor, 'DELIVERY_EVICTED'],
  ACTOR_DELIVERY_DROPPED: [actor, 'DELIVERY_DROPPED'],
  ACTOR_DELIVERY_FULL: [actor, 'DELIVERY_FULL'],
  ACTOR_DELIVERY_STOPPED: [actor, 'DELIVERY_STOPPED'],
  STACK_SCRATCH_HEADER: [sharedCodec, 'SCRATCH_HEADER'],
};

/** Native constants that TypeScript uses under another shape (or only Rust needs). */
const OTHER_USES: Record<string, (value: number) => boolean> = {
  // OVERFLOW_CODES maps policy names to these.
  ACTOR_OVERFLOW_REJECT: (v) => actor.OVERFLOW_CODES.reject === v,
  ACTOR_OVERFLOW_DROP_OLDEST: (v) => actor.OVERFLOW_CODES['drop-oldest'] === v,
  ACTOR_OVERFLOW_DROP_NEWEST: (v) => actor.OVERFLOW_CODES['drop-newest'] === v,
  ACTOR_OVERFLOW_WAIT: (v) => actor.OVERFLOW_CODES.wait === v,
  // Limits TypeScript states in messages and docs; weft-core enforces them.
  ACTOR_MAIN_HOST: (v) => v === 0,
  POOL_MAX_SLOTS: (v) => v === 255,
  POOL_MAX_TASK_NAMES: (v) => v === 65_536,
  POOL_MAX_UNCHECKED_TASK_NAMES: (v) => v === 4_096,
};

const nativeConstants = Object.entries(native as unknown as Record<string, unknown>).filter(
  ([name, v]) => /^(POOL|ACTOR|STACK)_[A-Z0-9_]+$/.test(name) && typeof v === 'number',
) as Array<[string, number]>;

test('every native protocol constant has its TypeScript name with the same value', (t) => {
  t.true(nativeConstants.length >= 30, `only ${nativeConstants.length} constants exported`);
  for (const [name, value] of nativeConstants) {
    const pair = PAIRS[name];
    if (pair !== undefined) {
      const [mod, tsName] = pair;
      t.is(mod[tsName], value, `${tsName} = native ${name}`);
    } else {
      const check = OTHER_USES[name];
      t.not(check, undefined, `${name} (${value}) is exported by the binding but checked nowhere: add it to PAIRS or OTHER_USES`);
      if (check !== undefined) t.true(check(value), `${name} = ${value}`);
    }
  }
  for (const name of [...Object.keys(PAIRS), ...Object.keys(OTHER_USES)]) {
    t.true(
      nativeConstants.some(([n]) => n === name),
      `the binding exports ${name}`,
    );
  }
});

test('the protocol modules read the shared numbers from the binding instead of writing them again', (t) => {
  for (const file of ['src/pool/protocol.ts', 'src/actor/protocol.ts', 'src/shared/codec.ts']) {
    const text = readFileSync(join(__dirname, '..', '..', file), 'utf8');
    for (const [name, [, tsName]] of Object.entries(PAIRS)) {
      if (!text.includes(`export const ${tsName} =`)) continue;
      t.regex(text, new RegExp(`export const ${tsName} = native\\.${name};`), `${file}: ${tsName} comes from native.${name}`);
    }
  }
});
