// The weft pool's task module for the actor benchmark: the definitions live in ./actors.ts.
//
// Why a .cjs shim: under tsx, weft's pool workers register tsx's CommonJS hook only
// (require("tsx/cjs")) and load the task module with import(), and Node's ESM loader rejects a
// .ts file there (ERR_UNKNOWN_FILE_EXTENSION). A .cjs module is loaded through require, so its
// require('./actors.ts') is compiled by tsx, and actors.ts's import of ../../src/index.js is the
// same module instance as the pool's worker runtime (checked with currentPool() from such a
// module, 2026-11-24). The exports are spelled out (`exports.X = ...`) so that Node sees them
// as named exports of this CommonJS module (the workers find the definitions by loading it).
'use strict';
const actors = require('./actors.ts');

exports.Counter = actors.Counter;
exports.Ponger = actors.Ponger;
exports.Pinger = actors.Pinger;
exports.Blocker = actors.Blocker;
