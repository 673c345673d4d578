// The weft pool's task module for the Savina subset: the definitions live in ./actors.ts.
//
// A .cjs shim for the reason bench/actor/actors.cjs gives: under tsx, weft's pool workers load the
// task module with import(), which rejects a .ts file; a .cjs module is loaded through require, so
// its require('./actors.ts') is compiled by tsx and shares one copy of weft's modules with the
// worker's runtime. The exports are spelled out so that Node sees them as named exports.
'use strict';
const actors = require('./actors.ts');

exports.Ping = actors.Ping;
exports.Pong = actors.Pong;
exports.Counter = actors.Counter;
exports.RingMember = actors.RingMember;
exports.ThroughputActor = actors.ThroughputActor;
