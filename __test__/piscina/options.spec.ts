// weftjs/piscina's options: piscina's defaults, the options weft accepts but ignores, the ones it
// refuses, unknown names and bad values (WEFT_INVALID_ARG naming the option, as everywhere in weft).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import type { WeftError } from '../../src/index.js';
import Piscina, { type PiscinaOptions, type PiscinaRunOptions } from '../../src/piscina/index.js';
import { defaultThreads } from '../../src/pool/options.js';
import { rejection } from '../helpers.js';

const WORKER = join(__dirname, '..', 'fixtures', 'piscina-worker.mjs');

function make(t: ExecutionContext, options: PiscinaOptions): Piscina {
  const piscina = new Piscina({ filename: WORKER, ...options });
  t.teardown(() => piscina.destroy());
  return piscina;
}

function invalid(t: ExecutionContext, options: unknown, message: RegExp): void {
  t.throws(
    () => new Piscina(options as PiscinaOptions),
    { code: 'WEFT_INVALID_ARG', message },
    `options ${String(JSON.stringify(options))}`,
  );
}

test("defaults: piscina's (minThreads half the CPUs, maxThreads 1.5 times, idleTimeout 0, no queue limit, 30 s closeTimeout)", (t) => {
  const cpus = defaultThreads();
  const piscina = make(t, {});
  t.like(piscina.options, {
    filename: WORKER,
    name: 'default',
    minThreads: Math.max(Math.floor(cpus / 2), 1),
    maxThreads: Math.min(255, Math.ceil(cpus * 1.5)),
    idleTimeout: 0,
    maxQueue: Infinity,
    concurrentTasksPerWorker: 1,
    atomics: 'sync',
    niceIncrement: 0,
    trackUnmanagedFds: true,
    closeTimeout: 30_000,
    recordTiming: true,
    stricterFIFO: false,
    workerHistogram: false,
  });
  t.true(Object.isFrozen(piscina.options));
  t.is(piscina.threads.length, piscina.options.minThreads, 'minThreads workers start with the pool');
});

test('one bound given: the other follows it as piscina adjusts it; a file URL filename shows as its path', (t) => {
  t.like(make(t, { maxThreads: 1 }).options, { minThreads: 1, maxThreads: 1 });
  const cpus = defaultThreads();
  const many = Math.min(255, Math.ceil(cpus * 1.5) + 2);
  t.like(make(t, { minThreads: many, idleTimeout: 10 }).options, { minThreads: many, maxThreads: many });
  t.is(make(t, { filename: pathToFileURL(WORKER).href, maxThreads: 1 }).options.filename, WORKER);
  t.is(make(t, { filename: pathToFileURL(WORKER), maxThreads: 1 }).options.filename, WORKER);
  t.is(make(t, { maxThreads: 2, idleTimeout: Infinity }).options.idleTimeout, Infinity);
});

test('accepted and ignored: atomics, useAtomics, recordTiming, workerHistogram, stricterFIFO, niceIncrement 0', async (t) => {
  const piscina = make(t, {
    maxThreads: 1,
    atomics: 'disabled',
    useAtomics: false,
    recordTiming: false,
    workerHistogram: true,
    stricterFIFO: true,
    niceIncrement: 0,
  });
  t.like(piscina.options, { atomics: 'disabled', recordTiming: false, workerHistogram: true, stricterFIFO: true, niceIncrement: 0 });
  t.is(await piscina.run({ a: 2, b: 2 }), 4);
  t.true(piscina.runTime.max > 0, 'weft records timings anyway');
  for (const atomics of ['sync', 'async'] as const) t.is(make(t, { maxThreads: 1, atomics }).options.atomics, atomics);
});

test('refused: taskQueue, loadBalancer and a niceIncrement other than 0 throw WEFT_INVALID_ARG saying why', (t) => {
  invalid(t, { filename: WORKER, taskQueue: { size: 0 } }, /taskQueue is not supported: .*scheduler/);
  invalid(t, { filename: WORKER, loadBalancer: () => null }, /loadBalancer is not supported: .*work stealing/);
  invalid(t, { filename: WORKER, niceIncrement: 5 }, /niceIncrement is not supported: .*priority/);
  invalid(t, { filename: WORKER, niceIncrement: 'low' }, /niceIncrement must be a number/);
});

test('unknown option names throw WEFT_INVALID_ARG with the nearest valid name', (t) => {
  invalid(t, { filename: WORKER, maxThread: 2 }, /unknown option "maxThread"; did you mean maxThreads\?/);
  invalid(t, { filename: WORKER, idleTimout: 2 }, /did you mean idleTimeout\?/);
  invalid(t, { filename: WORKER, queueSize: 2 }, /unknown option "queueSize"/);
});

test('bad values throw WEFT_INVALID_ARG naming the option', (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ filename: 42 }, /filename must be a path or file URL string, or null/],
    [{ filename: '' }, /filename must be/],
    [{ name: 5 }, /name must be a non-empty string or null/],
    [{ name: '' }, /name must be/],
    [{ minThreads: -1 }, /minThreads must be an integer from 0 to 255/],
    [{ minThreads: 1.5 }, /minThreads must be an integer/],
    [{ maxThreads: 0 }, /maxThreads must be an integer from 1 to 255/],
    [{ maxThreads: 256 }, /maxThreads must be an integer from 1 to 255/],
    [{ maxThreads: '4' }, /maxThreads must be an integer/],
    [{ minThreads: 3, maxThreads: 2 }, /minThreads \(3\) must not exceed maxThreads \(2\)/],
    [{ idleTimeout: -1 }, /idleTimeout must be a number of milliseconds/],
    [{ idleTimeout: Number.NaN }, /idleTimeout must be/],
    [{ maxQueue: -1 }, /maxQueue must be a non-negative integer, Infinity or 'auto'/],
    [{ maxQueue: 'big' }, /maxQueue must be/],
    [{ maxQueue: 1.5 }, /maxQueue must be/],
    [{ concurrentTasksPerWorker: 0 }, /concurrentTasksPerWorker must be a positive integer/],
    [{ closeTimeout: -1 }, /closeTimeout must be a non-negative number/],
    [{ atomics: 'fast' }, /atomics must be 'sync', 'async' or 'disabled'/],
    [{ useAtomics: 1 }, /useAtomics must be a boolean/],
    [{ recordTiming: 'yes' }, /recordTiming must be a boolean/],
    [{ workerHistogram: null }, /workerHistogram must be a boolean/],
    [{ stricterFIFO: 0 }, /stricterFIFO must be a boolean/],
    [{ trackUnmanagedFds: 'no' }, /trackUnmanagedFds must be a boolean/],
    [{ argv: '--flag' }, /argv must be an array/],
    [{ execArgv: '--flag' }, /execArgv must be an array of strings/],
    [{ env: 'x' }, /env must be an object of strings or SHARE_ENV/],
    [{ resourceLimits: 'x' }, /resourceLimits must be an object/],
  ];
  for (const [options, message] of bad) invalid(t, { filename: WORKER, maxThreads: 2, ...options }, message);
  invalid(t, null, /Piscina expects an options object/);
  invalid(t, 5, /Piscina expects an options object/);
  t.throws(() => new Piscina({ filename: WORKER, workerData: () => 1 }), { code: 'WEFT_DATA_CLONE' });
  t.throws(() => new Piscina({ filename: '/no/such/worker.mjs' }), { code: 'WEFT_INVALID_ARG', message: /does not exist/ });
});

test('run() with bad options rejects with WEFT_INVALID_ARG naming the option', async (t) => {
  const piscina = make(t, { maxThreads: 1 });
  const bad: Array<[unknown, RegExp]> = [
    [null, /Piscina run options must be an object, got null/],
    ['fast', /Piscina run options must be an object/],
    [{ transferlist: [] }, /unknown option "transferlist"; did you mean transferList\?/],
    [{ abortSignal: new AbortController().signal }, /unknown option "abortSignal"; the option is `signal`/],
    [{ transferList: 'x' }, /transferList must be an array/],
    [{ name: 5 }, /name must be a non-empty string/],
    [{ filename: 5 }, /filename must be a path or file URL string/],
    [{ signal: 'abort' }, /signal must be an AbortSignal/],
    [{ signal: {} }, /signal must be an AbortSignal, or an EventTarget or EventEmitter/],
    [{ transferList: [{}] }, /transfer/],
  ];
  for (const [options, message] of bad) {
    const err = (await rejection(t, piscina.run({ a: 1, b: 1 }, options as PiscinaRunOptions))) as WeftError;
    t.is(err.code, 'WEFT_INVALID_ARG', `${String(JSON.stringify(options))}: ${err.message}`);
    t.regex(err.message, message);
  }
  t.is(await piscina.run({ a: 1, b: 1 }, {}), 2, 'the pool still works');
});

test('close() with bad options rejects with WEFT_INVALID_ARG', async (t) => {
  const piscina = make(t, { maxThreads: 1 });
  t.is(((await rejection(t, piscina.close({ force: 'yes' as never }))) as WeftError).code, 'WEFT_INVALID_ARG');
  t.regex(((await rejection(t, piscina.close({ forced: true } as never))) as Error).message, /did you mean force\?/);
  t.is(await piscina.run({ a: 1, b: 1 }), 2, 'still open');
});
